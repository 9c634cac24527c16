// SPDX-License-Identifier: GPL-2.0
/*
 * Behaviour of /dev/bootpool: pools, the late switch, policies, Dionysos,
 * forwarding, mmap, isolation and lifetime. Each test states one rule.
 */
#include "bootpool_util.h"

#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define PAGE		4096UL
#define POOL_PAGES	256

/* Skips unless the device is there and usable. */
static int bp_open_or_skip(struct __test_metadata *_metadata)
{
	int fd;

	if (geteuid())
		SKIP(return -1, "needs root");
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 && errno == ENOENT)
		SKIP(return -1, "bootpool module not loaded");
	ASSERT_LE(0, fd);
	if (sysconf(_SC_PAGESIZE) != PAGE)
		SKIP(return -1, "tests assume 4 KiB pages");
	return fd;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = bp_open_or_skip(_metadata);
	if (self->fd >= 0 && bp_param_get("pool_pages") != POOL_PAGES)
		SKIP(return, "pool_pages is not the default");
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST(device_node_has_documented_mode)
{
	struct stat st;

	if (stat(BOOTPOOL_DEV, &st) && errno == ENOENT)
		SKIP(return, "bootpool module not loaded");
	ASSERT_EQ(0, stat(BOOTPOOL_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
}

/*
 * Why a test that opens the device as another user cannot run here: NULL,
 * or the reason to skip. Fills @st with the device's status.
 */
static const char *no_other_user(struct stat *st)
{
	if (stat(BOOTPOOL_DEV, st))
		return "bootpool module not loaded";
	if (geteuid())
		return "needs root to change the device and become another user";
	return NULL;
}

/* A user the device's mode leaves out is refused at open(), with EACCES. */
TEST(open_by_another_user_is_eacces)
{
	struct stat st;
	int status;
	pid_t pid;

	if (no_other_user(&st))
		SKIP(return, "%s", no_other_user(&st));
	if (st.st_mode & 0006)
		SKIP(return, "the device is open to every user");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(BOOTPOOL_DEV, O_RDWR);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(dev, open_and_close_work)
{
	int fd2 = open(BOOTPOOL_DEV, O_RDWR);

	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, close(fd2));
}

TEST_F(dev, unknown_ioctl_returns_enotty)
{
	struct bootpool_alloc a = { .size = 1 };

	EXPECT_EQ(-1, ioctl(self->fd, _IO(BOOTPOOL_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR('x', 0, struct bootpool_alloc), &a));
	EXPECT_EQ(ENOTTY, errno);
	/* Right number, wrong direction. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(BOOTPOOL_IOC_MAGIC, 0, struct bootpool_alloc), &a));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, descriptors_of_one_process_share_one_pool)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int fd2 = open(BOOTPOOL_DEV, O_RDWR);

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, bp_alloc(self->fd, 10, &a));
	ASSERT_EQ(0, bp_stats(fd2, &st));
	EXPECT_EQ(1, st.pool_used);
	/* A handle may be freed through the other descriptor. */
	EXPECT_EQ(0, bp_free(fd2, a.handle));
	close(fd2);
}

TEST_F(dev, subpage_request_takes_one_pool_page)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_alloc(self->fd, 100, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, a.source);
	EXPECT_EQ(PAGE, a.granted);
	EXPECT_NE(0, a.handle);
	EXPECT_EQ(0, a.hops);
	EXPECT_EQ(0, a.ipis);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(POOL_PAGES, st.pool_pages);
	EXPECT_EQ(1, st.pool_used);
	EXPECT_EQ(POOL_PAGES - 1, st.pool_free);
	EXPECT_EQ(0, st.switched);
	EXPECT_EQ(100, st.bytes_requested);
	EXPECT_EQ(PAGE, st.bytes_granted);
	EXPECT_EQ(POOL_PAGES * PAGE, st.footprint_bytes);
}

TEST_F(dev, page_257_switches_with_reason_exhausted)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int i;

	for (i = 0; i < POOL_PAGES; i++) {
		ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
		ASSERT_EQ(BOOTPOOL_SOURCE_POOL, a.source);
	}
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.switched);

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	EXPECT_EQ(PAGE, a.granted);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.switched);
	EXPECT_EQ(BOOTPOOL_SWITCH_EXHAUSTED, st.switch_reason);
	EXPECT_EQ(0, st.switch_pages_left);
	EXPECT_EQ(POOL_PAGES, st.pool_allocs);
	EXPECT_EQ(1, st.remote_allocs);
	EXPECT_EQ(POOL_PAGES * PAGE + PAGE, st.footprint_bytes);
}

TEST_F(dev, oversize_request_switches_and_gets_8k_from_dionysos)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_alloc(self->fd, 100, &a));
	ASSERT_EQ(0, bp_alloc(self->fd, 5000, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	EXPECT_EQ(8192, a.granted);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.switched);
	EXPECT_EQ(BOOTPOOL_SWITCH_OVERSIZE, st.switch_reason);
	EXPECT_EQ(POOL_PAGES - 1, st.switch_pages_left);
	EXPECT_EQ(8192, st.remote_bytes);

	/* The switch is for good: a small request now goes remote too. */
	ASSERT_EQ(0, bp_alloc(self->fd, 100, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	EXPECT_EQ(PAGE, a.granted);
}

TEST_F(dev, dionysos_grants_power_of_two_pages)
{
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_alloc(self->fd, 3 * PAGE + 1, &a));
	EXPECT_EQ(4 * PAGE, a.granted);
	ASSERT_EQ(0, bp_alloc(self->fd, 65 * 1024, &a));
	EXPECT_EQ(128 * 1024, a.granted);
	ASSERT_EQ(0, bp_alloc(self->fd, 1, &a));
	EXPECT_EQ(PAGE, a.granted);
}

FIXTURE(policy) {
	int fd;
};

FIXTURE_VARIANT(policy) {
	__u32 policy;
	__u64 pool_allocs;
	__u64 remote_allocs;
	__u32 switched;
	__u32 reason;
	__u64 remote_bytes;
};

/* The sequence every variant replays: 1 KiB, 4 KiB, 5000 B, 100 B, 16 KiB. */
static const __u64 policy_sequence[] = { 1024, 4096, 5000, 100, 16384 };

FIXTURE_VARIANT_ADD(policy, late) {
	.policy = BOOTPOOL_POLICY_LATE,
	.pool_allocs = 2, .remote_allocs = 3,
	.switched = 1, .reason = BOOTPOOL_SWITCH_OVERSIZE,
	.remote_bytes = 8192 + 4096 + 16384,
};

FIXTURE_VARIANT_ADD(policy, early) {
	.policy = BOOTPOOL_POLICY_EARLY,
	.pool_allocs = 0, .remote_allocs = 5,
	.switched = 1, .reason = BOOTPOOL_SWITCH_EARLY,
	.remote_bytes = 4096 + 4096 + 8192 + 4096 + 16384,
};

FIXTURE_VARIANT_ADD(policy, hybrid) {
	.policy = BOOTPOOL_POLICY_HYBRID,
	.pool_allocs = 3, .remote_allocs = 2,
	.switched = 0, .reason = BOOTPOOL_SWITCH_NONE,
	.remote_bytes = 8192 + 16384,
};

FIXTURE_SETUP(policy)
{
	self->fd = bp_open_or_skip(_metadata);
}

FIXTURE_TEARDOWN(policy)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(policy, counters_after_fixed_sequence)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	__u64 granted = 0;
	unsigned int i;

	ASSERT_EQ(0, bp_set_policy(self->fd, variant->policy));
	for (i = 0; i < ARRAY_SIZE(policy_sequence); i++) {
		ASSERT_EQ(0, bp_alloc(self->fd, policy_sequence[i], &a));
		granted += a.granted;
	}
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(variant->policy, st.policy);
	EXPECT_EQ(variant->pool_allocs, st.pool_allocs);
	EXPECT_EQ(variant->remote_allocs, st.remote_allocs);
	EXPECT_EQ(variant->switched, st.switched);
	EXPECT_EQ(variant->reason, st.switch_reason);
	EXPECT_EQ(variant->remote_bytes, st.remote_bytes);
	EXPECT_EQ(variant->pool_allocs, st.pool_used);
	EXPECT_EQ(granted, st.bytes_granted);
	EXPECT_EQ(1024 + 4096 + 5000 + 100 + 16384, st.bytes_requested);
	EXPECT_EQ(POOL_PAGES * PAGE + variant->remote_bytes, st.footprint_bytes);
}

TEST_F(dev, hybrid_reuses_freed_pool_pages_after_overflow)
{
	struct bootpool_alloc a, first;
	int i;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &first));
	for (i = 1; i < POOL_PAGES; i++)
		ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	ASSERT_EQ(0, bp_free(self->fd, first.handle));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, a.source);
}

TEST_F(dev, policy_is_fixed_after_first_alloc)
{
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
	ASSERT_EQ(0, bp_alloc(self->fd, 1, &a));
	EXPECT_EQ(-EBUSY, bp_set_policy(self->fd, BOOTPOOL_POLICY_LATE));
}

TEST_F(dev, bad_policy_and_flags_are_einval)
{
	struct bootpool_policy p = { .policy = BOOTPOOL_POLICY_COUNT };
	struct bootpool_stats st;

	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_SET_POLICY, &p));
	EXPECT_EQ(EINVAL, errno);
	p.policy = BOOTPOOL_POLICY_EARLY;
	p.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_SET_POLICY, &p));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(BOOTPOOL_POLICY_LATE, st.policy);
	EXPECT_EQ(0, st.switched);
}

TEST_F(dev, requested_switch_sends_page_requests_to_dionysos)
{
	long before = bp_counter("switches_requested");
	struct bootpool_stats st;
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, a.source);
	ASSERT_EQ(0, bp_switch(self->fd));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.switched);
	EXPECT_EQ(BOOTPOOL_SWITCH_REQUESTED, st.switch_reason);
	EXPECT_EQ(POOL_PAGES - 1, st.switch_pages_left);
	/* A page the pool could still serve now comes from Dionysos. */
	ASSERT_EQ(0, bp_alloc(self->fd, 1, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	EXPECT_EQ(PAGE, a.granted);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.pool_allocs);
	EXPECT_EQ(1, st.remote_allocs);
	EXPECT_EQ(POOL_PAGES - 1, st.pool_free);
	if (before >= 0)
		EXPECT_EQ(before + 1, bp_counter("switches_requested"));
}

TEST_F(dev, requested_switch_seals_the_policy)
{
	ASSERT_EQ(0, bp_switch(self->fd));
	EXPECT_EQ(-EBUSY, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
}

TEST_F(dev, switch_of_a_switched_domain_is_ealready_and_changes_nothing)
{
	struct bootpool_stats st;

	ASSERT_EQ(0, bp_alloc(self->fd, 2 * PAGE, NULL));
	EXPECT_EQ(-EALREADY, bp_switch(self->fd));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(BOOTPOOL_SWITCH_OVERSIZE, st.switch_reason);
}

TEST_F(dev, switch_of_an_early_domain_is_ealready)
{
	struct bootpool_stats st;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	EXPECT_EQ(-EALREADY, bp_switch(self->fd));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(BOOTPOOL_SWITCH_EARLY, st.switch_reason);
	/* The policy is not sealed by a refused switch. */
	EXPECT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_LATE));
}

TEST_F(dev, bad_switch_requests_are_einval_and_change_nothing)
{
	struct bootpool_switch sw = { .flags = 1 };
	struct bootpool_stats st;
	struct bootpool_alloc a;

	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_SWITCH, &sw));
	EXPECT_EQ(EINVAL, errno);
	/* A hybrid domain never switches. */
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
	EXPECT_EQ(-EINVAL, bp_switch(self->fd));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.switched);
	EXPECT_EQ(BOOTPOOL_SWITCH_NONE, st.switch_reason);
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, a.source);
}

TEST_F(dev, bad_alloc_requests_are_einval_and_change_nothing)
{
	struct bootpool_alloc a = { .size = 1, .flags = 1 };
	struct bootpool_stats before, after;

	ASSERT_EQ(0, bp_stats(self->fd, &before));
	EXPECT_EQ(-EINVAL, bp_alloc(self->fd, 0, NULL));
	EXPECT_EQ(-EINVAL, bp_alloc(self->fd, BOOTPOOL_MAX_ALLOC_SIZE + 1, NULL));
	EXPECT_EQ(-EINVAL, bp_alloc(self->fd, ~0ULL, NULL));
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC, &a));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/* Still unsealed: the policy can change. */
	EXPECT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
}

TEST_F(dev, free_returns_pool_page_and_rejects_stale_handle)
{
	struct bootpool_stats st;
	struct bootpool_alloc a, b;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.pool_used);
	EXPECT_EQ(1, st.frees);
	EXPECT_EQ(-EINVAL, bp_free(self->fd, a.handle));
	/* The slot is reused, under a new handle. */
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &b));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, b.source);
	EXPECT_NE(a.handle, b.handle);
	EXPECT_EQ(-EINVAL, bp_free(self->fd, a.handle));
	EXPECT_EQ(0, bp_free(self->fd, b.handle));
}

TEST_F(dev, bad_free_requests_are_einval_and_change_nothing)
{
	struct bootpool_free f;
	struct bootpool_stats before, after;
	struct bootpool_alloc a, r;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_alloc(self->fd, 2 * PAGE, &r));
	ASSERT_EQ(0, bp_stats(self->fd, &before));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, 0));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, a.handle + 1));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, a.handle ^ (1ULL << 16)));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, r.handle + 1));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, ~0ULL));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, 1ULL << 40));
	f.handle = a.handle;
	f.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_FREE, &f));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(0, bp_free(self->fd, a.handle));
	EXPECT_EQ(0, bp_free(self->fd, r.handle));
	EXPECT_EQ(-EINVAL, bp_free(self->fd, r.handle));
}

TEST_F(dev, stale_remote_handle_never_names_a_new_block)
{
	struct bootpool_alloc a, b;
	struct bootpool_stats st;
	void *p;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, a.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &b));
	EXPECT_NE(a.handle, b.handle);
	EXPECT_EQ(-EINVAL, bp_free(self->fd, a.handle));
	/* b is still held, and still maps. */
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(PAGE, st.remote_bytes);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, b.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, PAGE);
	EXPECT_EQ(0, bp_free(self->fd, b.handle));
}

/*
 * FREE and ALLOC of one block, @cycles times: the slot or table entry is
 * reused every time (last in, first out), its handle never. The first
 * handle stays dead while the last block lives.
 */
static void handle_never_comes_back(struct __test_metadata *_metadata,
				    int fd, unsigned int cycles,
				    __u32 source)
{
	struct bootpool_alloc first, a;
	struct bootpool_stats st;
	unsigned int i;

	ASSERT_EQ(0, bp_alloc(fd, PAGE, &first));
	ASSERT_EQ(source, first.source);
	a = first;
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, bp_free(fd, a.handle));
		ASSERT_EQ(0, bp_alloc(fd, PAGE, &a));
		ASSERT_NE(first.handle, a.handle) TH_LOG("cycle %u", i);
	}
	/* The offset names the slot or entry, and comes back. */
	EXPECT_EQ(first.mmap_offset, a.mmap_offset);
	EXPECT_EQ(-EINVAL, bp_free(fd, first.handle));
	ASSERT_EQ(0, bp_stats(fd, &st));
	EXPECT_EQ(cycles, st.frees);
	EXPECT_EQ(source == BOOTPOOL_SOURCE_POOL ? 1 : 0, st.pool_used);
	EXPECT_EQ(source == BOOTPOOL_SOURCE_POOL ? 0 : PAGE, st.remote_bytes);
	EXPECT_EQ(0, bp_free(fd, a.handle));
}

TEST_F(dev, pool_handle_does_not_repeat_after_65536_cycles)
{
	handle_never_comes_back(_metadata, self->fd, 65536 + 2,
				BOOTPOOL_SOURCE_POOL);
}

TEST_F(dev, remote_handle_does_not_repeat_after_8192_allocs)
{
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	handle_never_comes_back(_metadata, self->fd, 8192 + 2,
				BOOTPOOL_SOURCE_DIONYSOS);
}

/*
 * In a domain whose generations start two blocks short of the end
 * (debugfs gen_base: a pool slot takes two generations a block, odd in
 * use, a Dionysos table entry one), one pool slot or one table entry uses
 * up its generations and is retired: the third block takes the next
 * index, and no handle repeats.
 */
static void retire_one_index(struct __test_metadata *_metadata, int *fd,
			     __u32 policy, unsigned long long gen_base)
{
	struct bootpool_alloc a[3];
	struct bootpool_stats st;
	char buf[32];
	int i;

	close(*fd);
	snprintf(buf, sizeof(buf), "%llu", gen_base);
	ASSERT_EQ(0, bp_write_file(BOOTPOOL_DEBUGFS "gen_base", buf));
	*fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_EQ(0, bp_write_file(BOOTPOOL_DEBUGFS "gen_base", "0"));
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, bp_set_policy(*fd, policy));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, bp_alloc(*fd, PAGE, &a[i]));
		ASSERT_NE(0, a[i].handle);
		ASSERT_EQ(0, bp_free(*fd, a[i].handle));
	}
	EXPECT_EQ(a[0].mmap_offset, a[1].mmap_offset);
	EXPECT_EQ(a[1].mmap_offset + PAGE, a[2].mmap_offset);
	EXPECT_NE(a[0].handle, a[1].handle);
	EXPECT_NE(a[1].handle, a[2].handle);
	EXPECT_NE(a[0].handle, a[2].handle);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-EINVAL, bp_free(*fd, a[i].handle));
	ASSERT_EQ(0, bp_stats(*fd, &st));
	EXPECT_EQ(3, st.frees);
	EXPECT_EQ(0, st.remote_bytes);
	/* A retired slot's page stays out of the pool. */
	EXPECT_EQ(policy == BOOTPOOL_POLICY_LATE ? 1 : 0, st.pool_used);
}

TEST_F(dev, index_with_used_up_generations_is_retired)
{
	if (access(BOOTPOOL_DEBUGFS "gen_base", W_OK))
		SKIP(return, "no debugfs gen_base");
	/* Generations end at 2^51 - 1 (pool) and 2^43 - 1 (Dionysos). */
	retire_one_index(_metadata, &self->fd, BOOTPOOL_POLICY_LATE,
			 (1ULL << 51) - 4);
	retire_one_index(_metadata, &self->fd, BOOTPOOL_POLICY_EARLY,
			 (1ULL << 43) - 3);
}

/*
 * More Dionysos blocks than a new domain's table holds (it grows by
 * doubling): every block stays distinct, and none shows another's data,
 * before or after they are all freed and allocated again.
 */
TEST_F(dev, many_remote_blocks_stay_distinct)
{
	enum { N = 100 };
	struct bootpool_alloc a[N];
	struct bootpool_stats st;
	unsigned int *p[N];
	int i, round;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++) {
			ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a[i]));
			ASSERT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a[i].source);
			p[i] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				    MAP_SHARED, self->fd, a[i].mmap_offset);
			ASSERT_NE(MAP_FAILED, p[i]);
			EXPECT_EQ(0, p[i][0]);
			EXPECT_EQ(0, p[i][PAGE / sizeof(unsigned int) - 1]);
			p[i][0] = round * N + i + 1;
		}
		for (i = 0; i < N; i++) {
			EXPECT_EQ(round * N + i + 1, p[i][0]);
			EXPECT_EQ(0, munmap(p[i], PAGE));
		}
		for (i = 0; i < N; i++)
			ASSERT_EQ(0, bp_free(self->fd, a[i].handle));
		for (i = 0; i < N; i++)
			EXPECT_EQ(-EINVAL, bp_free(self->fd, a[i].handle));
	}
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(2 * N, st.remote_allocs);
	EXPECT_EQ(2 * N, st.frees);
	EXPECT_EQ(0, st.remote_bytes);
}

struct bootpool_alloc_v2 {
	struct bootpool_alloc cur;
	__u64 future;
};

#define BOOTPOOL_IOC_ALLOC_V2 _IOWR(BOOTPOOL_IOC_MAGIC, 0, struct bootpool_alloc_v2)

TEST_F(dev, struct_sizes_are_reconciled)
{
	struct bootpool_alloc_v2 big = { .cur.size = 10, .future = 0 };
	struct bootpool_alloc old;
	unsigned char *oldb = (unsigned char *)&old;
	unsigned char tiny[8] = { 1 };
	struct bootpool_stats st;

	/* A newer struct with zero tail is accepted. */
	EXPECT_EQ(0, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_V2, &big));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, big.cur.source);
	/* ... but not with unknown non-zero bytes. */
	big.future = 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_V2, &big));
	EXPECT_EQ(E2BIG, errno);

	/* An older, shorter struct is accepted; bytes past it are untouched. */
	memset(&old, 0xa5, sizeof(old));
	old.size = 10;
	old.flags = 0;
	EXPECT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, BOOTPOOL_IOC_MAGIC, 0,
					  BOOTPOOL_ALLOC_SIZE_VER0), &old));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, old.source);
	EXPECT_NE(0, old.handle);
	EXPECT_EQ(0xa5, oldb[BOOTPOOL_ALLOC_SIZE_VER0]);

	/* Shorter than the oldest version is refused. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, BOOTPOOL_IOC_MAGIC, 0,
					   sizeof(tiny)), tiny));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(2, st.pool_used);
}

static int bp_batch(int fd, struct bootpool_alloc *allocs, __u32 count,
		    __u32 *done)
{
	struct bootpool_alloc_batch b = {
		.allocs = (__u64)(unsigned long)allocs,
		.count = count,
		.stride = sizeof(*allocs),
	};
	int ret = ioctl(fd, BOOTPOOL_IOC_ALLOC_BATCH, &b) ? -errno : 0;

	if (done)
		*done = b.done;
	return ret;
}

TEST_F(dev, batch_serves_in_order_and_switches_like_single_allocs)
{
	static struct bootpool_alloc allocs[POOL_PAGES + 1];
	struct bootpool_stats st;
	__u32 done = 0;
	int i;

	for (i = 0; i <= POOL_PAGES; i++)
		allocs[i] = (struct bootpool_alloc){ .size = i % 2 ? 100 : PAGE };
	ASSERT_EQ(0, bp_batch(self->fd, allocs, POOL_PAGES + 1, &done));
	EXPECT_EQ(POOL_PAGES + 1, done);
	for (i = 0; i < POOL_PAGES; i++)
		ASSERT_EQ(BOOTPOOL_SOURCE_POOL, allocs[i].source);
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, allocs[POOL_PAGES].source);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(BOOTPOOL_SWITCH_EXHAUSTED, st.switch_reason);
	EXPECT_EQ(POOL_PAGES, st.pool_allocs);
	EXPECT_EQ(1, st.remote_allocs);
	for (i = 0; i <= POOL_PAGES; i++)
		ASSERT_EQ(0, bp_free(self->fd, allocs[i].handle));
}

TEST_F(dev, batch_follows_the_policy_like_single_allocs)
{
	struct bootpool_alloc allocs[4] = {
		{ .size = 100 }, { .size = 5000 }, { .size = 100 }, { .size = PAGE },
	};
	struct bootpool_stats st;
	__u32 done = 0;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
	ASSERT_EQ(0, bp_batch(self->fd, allocs, 4, &done));
	EXPECT_EQ(4, done);
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, allocs[0].source);
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, allocs[1].source);
	EXPECT_EQ(8192, allocs[1].granted);
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, allocs[2].source);
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, allocs[3].source);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.switched);
	EXPECT_EQ(3, st.pool_allocs);
	EXPECT_EQ(1, st.remote_allocs);
	EXPECT_EQ(100 + 5000 + 100 + PAGE, st.bytes_requested);
}

TEST_F(dev, batch_stops_at_first_failure)
{
	struct bootpool_alloc allocs[3] = {
		{ .size = 100 }, { .size = 0 }, { .size = 100 },
	};
	struct bootpool_stats st;
	__u32 done = 99;

	ASSERT_EQ(0, bp_batch(self->fd, allocs, 3, &done));
	EXPECT_EQ(1, done);
	EXPECT_NE(0, allocs[0].handle);
	EXPECT_EQ(0, allocs[2].handle);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.pool_used);
	/* Failing on the first element fails the call. */
	EXPECT_EQ(-EINVAL, bp_batch(self->fd, &allocs[1], 2, &done));
}

/*
 * @pad is reserved: non-zero, alone or in a batch's element, it is
 * refused and changes nothing. A structure of an older size ends before
 * it and passes it as 0, whatever its memory holds past its end. The
 * input value of @instance, an output, is ignored.
 */
TEST_F(dev, nonzero_pad_is_einval_and_changes_nothing)
{
	struct bootpool_alloc a = { .size = 1, .pad = 1 };
	struct bootpool_alloc allocs[3] = {
		{ .size = 1 }, { .size = 1, .pad = 1u << 31 }, { .size = 1 },
	};
	unsigned char buf[sizeof(struct bootpool_alloc)];
	struct bootpool_alloc *old = (struct bootpool_alloc *)buf;
	struct bootpool_stats before, after;
	__u32 done = 99;

	ASSERT_EQ(0, bp_stats(self->fd, &before));
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, a.handle);
	EXPECT_EQ(-EINVAL, bp_batch(self->fd, &allocs[1], 2, &done));
	EXPECT_EQ(0, allocs[2].handle);
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	/* Still unsealed: the policy can change. */
	EXPECT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_LATE));

	/* A batch stops at the element, and keeps what it served before. */
	ASSERT_EQ(0, bp_batch(self->fd, allocs, 3, &done));
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(1, done);
	EXPECT_EQ(0, allocs[2].handle);
	EXPECT_EQ(1, after.pool_allocs);
	EXPECT_EQ(0, after.failed_allocs);

	/* The size before @instance: the bytes past it are never read. */
	memset(buf, 0xa5, sizeof(buf));
	memset(old, 0, BOOTPOOL_ALLOC_SIZE_VER1);
	old->size = 1;
	EXPECT_EQ(0, ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE,
					  BOOTPOOL_IOC_MAGIC, 0,
					  BOOTPOOL_ALLOC_SIZE_VER1), old));
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, old->source);

	a = (struct bootpool_alloc){ .size = 1, .instance = 7 };
	ASSERT_EQ(0, ioctl(self->fd, BOOTPOOL_IOC_ALLOC, &a));
	EXPECT_EQ(0, a.instance);
	EXPECT_EQ(0, a.pad);
}

/*
 * A batch of @count elements whose first sits at the end of a writable
 * page and the others in a page with protection @prot: the second element
 * fails (unreadable, or its reply unwritable), which ends the batch with
 * success and done 1, whatever the policy and the chunking. Only the
 * first element's block is held; an unwritable reply counts one failed
 * ALLOC, the elements after it nothing.
 */
static void batch_with_bad_second(struct __test_metadata *_metadata, int fd,
				  __u32 policy, int prot, __u32 count)
{
	struct bootpool_stats before, after;
	struct bootpool_alloc *a;
	__u32 done = 99, i;
	char *mem;

	mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	a = (struct bootpool_alloc *)(mem + PAGE) - 1;
	for (i = 0; i < count; i++)
		a[i].size = PAGE;
	ASSERT_EQ(0, mprotect(mem + PAGE, PAGE, prot));
	ASSERT_EQ(0, bp_set_policy(fd, policy));
	ASSERT_EQ(0, bp_stats(fd, &before));
	EXPECT_EQ(0, bp_batch(fd, a, count, &done));
	EXPECT_EQ(1, done);
	ASSERT_EQ(0, bp_stats(fd, &after));
	EXPECT_EQ(before.pool_allocs + (policy != BOOTPOOL_POLICY_EARLY),
		  after.pool_allocs);
	EXPECT_EQ(before.remote_allocs + (policy == BOOTPOOL_POLICY_EARLY),
		  after.remote_allocs);
	EXPECT_EQ(before.failed_allocs + (prot == PROT_READ), after.failed_allocs);
	EXPECT_EQ(before.frees, after.frees);
	EXPECT_EQ(before.bytes_granted + PAGE, after.bytes_granted);
	EXPECT_EQ(before.pool_used + (policy != BOOTPOOL_POLICY_EARLY),
		  after.pool_used);
	EXPECT_EQ(before.remote_bytes + (policy == BOOTPOOL_POLICY_EARLY) * PAGE,
		  after.remote_bytes);
	EXPECT_EQ(0, bp_free(fd, a[0].handle));
	munmap(mem, 2 * PAGE);
}

TEST_F(dev, batch_stops_at_unreadable_later_element)
{
	batch_with_bad_second(_metadata, self->fd, BOOTPOOL_POLICY_LATE,
			      PROT_NONE, 2);
}

TEST_F(dev, batch_stops_at_unwritable_later_reply)
{
	batch_with_bad_second(_metadata, self->fd, BOOTPOOL_POLICY_LATE,
			      PROT_READ, 3);
}

TEST_F(dev, batch_stops_at_unwritable_later_reply_from_dionysos)
{
	batch_with_bad_second(_metadata, self->fd, BOOTPOOL_POLICY_EARLY,
			      PROT_READ, 3);
}

TEST_F(dev, bad_batch_requests_are_refused_and_change_nothing)
{
	struct bootpool_alloc allocs[2] = { { .size = 1 }, { .size = 1 } };
	struct bootpool_alloc_batch b = {
		.allocs = (__u64)(unsigned long)allocs, .count = 2,
		.stride = sizeof(allocs[0]),
	};
	struct bootpool_stats before, after;

	ASSERT_EQ(0, bp_stats(self->fd, &before));
	b.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = BOOTPOOL_BATCH_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = 2;
	b.stride = BOOTPOOL_ALLOC_SIZE_VER0 - 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.stride = sizeof(allocs[0]);
	b.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.flags = 0;
	b.allocs = 16;
	EXPECT_EQ(-1, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
}

TEST_F(dev, mmap_gives_zeroed_private_memory)
{
	struct bootpool_alloc a, b;
	unsigned char *p;
	size_t i;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < PAGE; i++)
		ASSERT_EQ(0, p[i]);
	memset(p, 0x5a, PAGE);
	munmap(p, PAGE);

	/* Freed and handed out again: zeroed. */
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &b));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, b.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < PAGE; i++)
		ASSERT_EQ(0, p[i]);
	munmap(p, PAGE);
}

TEST_F(dev, mmap_of_dionysos_block_covers_it)
{
	struct bootpool_alloc a;
	unsigned char *p;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_alloc(self->fd, 3 * PAGE, &a));
	ASSERT_EQ(4 * PAGE, a.granted);
	p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, p[4 * PAGE - 1]);
	p[4 * PAGE - 1] = 1;
	munmap(p, 4 * PAGE);
	/* Larger than the block. */
	p = mmap(NULL, 8 * PAGE, PROT_READ, MAP_SHARED, self->fd, a.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

/*
 * Built as bootpool_test32 too: a 32-bit program maps pool and Dionysos
 * blocks with a 32-bit off_t, and ALLOC_BATCH reads its array through a
 * 32-bit pointer.
 */
TEST_F(dev, mmap_offsets_fit_a_32_bit_off_t)
{
	struct bootpool_alloc a[3] = {
		{ .size = PAGE }, { .size = 2 * PAGE }, { .size = PAGE },
	};
	struct bootpool_alloc_batch b = {
		.allocs = (uintptr_t)a, .count = 3, .stride = sizeof(a[0]),
	};
	unsigned char *p;
	int i;

	TH_LOG("%zu-bit program, %zu-bit off_t", 8 * sizeof(long),
	       8 * sizeof(off_t));
	ASSERT_EQ(0, ioctl(self->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b));
	/* The second request switches the domain (late, oversize). */
	ASSERT_EQ(3, b.done);
	EXPECT_EQ(BOOTPOOL_SOURCE_POOL, a[0].source);
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a[1].source);
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a[2].source);
	for (i = 0; i < 3; i++) {
		ASSERT_GT(1ULL << 31, a[i].mmap_offset);
		p = mmap(NULL, a[i].granted, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, (off_t)a[i].mmap_offset);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("block %d", i);
		EXPECT_EQ(0, p[a[i].granted - 1]);
		p[0] = i + 1;
		EXPECT_EQ(0, munmap(p, a[i].granted));
		EXPECT_EQ(0, bp_free(self->fd, a[i].handle));
	}
}

TEST_F(dev, bad_mmap_requests_are_einval)
{
	struct bootpool_alloc a;
	void *p;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, self->fd, a.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, self->fd, a.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, a.mmap_offset + PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->fd, a.mmap_offset);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, freed_block_stays_valid_while_mapped)
{
	struct bootpool_alloc a, b, r;
	unsigned char *p, *q, *rp;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x77, PAGE);
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	/* The pool slot comes back with another page. */
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &b));
	q = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, b.mmap_offset);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0, q[0]);
	q[0] = 1;
	EXPECT_EQ(0x77, p[0]);
	EXPECT_EQ(0x77, p[PAGE - 1]);
	munmap(p, PAGE);
	munmap(q, PAGE);

	/* The same for a Dionysos block. */
	ASSERT_EQ(0, bp_alloc(self->fd, 2 * PAGE, &r));
	rp = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, r.mmap_offset);
	ASSERT_NE(MAP_FAILED, rp);
	memset(rp, 0x33, 2 * PAGE);
	ASSERT_EQ(0, bp_free(self->fd, r.handle));
	ASSERT_EQ(0, bp_alloc(self->fd, 2 * PAGE, &r));
	EXPECT_EQ(0x33, rp[2 * PAGE - 1]);
	munmap(rp, 2 * PAGE);
}

/* Runs @fn in a child; returns its exit status, or -1. */
static int bp_run_child(void (*fn)(int fd, int arg), int fd, int arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		fn(fd, arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Every call on a descriptor of another process's domain fails with EPERM.
 * Return: 0, or the number of the first call that did not.
 */
static int calls_are_refused(int fd, __u64 handle)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	void *p;

	if (bp_alloc(fd, 1, &a) != -EPERM)
		return 1;
	if (bp_free(fd, handle) != -EPERM)
		return 2;
	if (bp_stats(fd, &st) != -EPERM)
		return 3;
	if (bp_set_policy(fd, BOOTPOOL_POLICY_EARLY) != -EPERM)
		return 4;
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)handle * PAGE);
	if (p != MAP_FAILED || errno != EPERM)
		return 5;
	return 0;
}

/* Child: every use of the parent's descriptor must fail with EPERM. */
static void child_uses_inherited_fd(int fd, int handle_low)
{
	_exit(calls_are_refused(fd, (__u64)handle_low));
}

TEST_F(dev, forked_child_cannot_use_parent_descriptor)
{
	struct bootpool_stats before, after;
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_stats(self->fd, &before));
	EXPECT_EQ(0, bp_run_child(child_uses_inherited_fd, self->fd, (int)a.handle));
	ASSERT_EQ(0, bp_stats(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));
	EXPECT_EQ(0, bp_free(self->fd, a.handle));
}

/*
 * After execve() the process keeps its thread group id and its descriptors,
 * but not its address space: the old one's teardown (the mmu notifier's
 * release) tears the domain down while the descriptor is still open. Only
 * the address space check stands between the new image and that dead
 * domain. The image checks itself, from a constructor that runs before the
 * harness when BOOTPOOL_EXEC_FD is set, and exits with the first failed
 * step's number.
 */
#define EXEC_FD_ENV	"BOOTPOOL_EXEC_FD"
#define EXEC_DOMAINS_ENV "BOOTPOOL_EXEC_DOMAINS"

__attribute__((constructor)) static void exec_image_uses_kept_fd(void)
{
	const char *fd_env = getenv(EXEC_FD_ENV);
	const char *domains_env = getenv(EXEC_DOMAINS_ENV);
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int fd, own, refused;

	if (!fd_env || !domains_env)
		return;
	fd = atoi(fd_env);
	/* The old image's domain is gone, its descriptor kept. */
	if (fcntl(fd, F_GETFD) < 0)
		_exit(10);
	if (bp_counter("domains") != atol(domains_env) - 1)
		_exit(11);
	/* Exit 12 to 16: call 1 to 5 of calls_are_refused() was served. */
	refused = calls_are_refused(fd, 1);
	if (refused)
		_exit(11 + refused);
	/* The new image opens a domain of its own, from scratch. */
	own = open(BOOTPOOL_DEV, O_RDWR | O_CLOEXEC);
	if (own < 0 || bp_stats(own, &st) || st.pool_used || st.remote_allocs)
		_exit(17);
	if (bp_alloc(own, 1, &a))
		_exit(18);
	_exit(0);
}

static void child_execs_with_open_fd(int unused_fd, int unused)
{
	char val[32];
	struct bootpool_alloc a;
	int fd = open(BOOTPOOL_DEV, O_RDWR);

	(void)unused_fd;
	(void)unused;
	/* A pool block and a Dionysos block, both still held at execve(). */
	if (fd < 0 || bp_alloc(fd, PAGE, &a) || bp_alloc(fd, 2 * PAGE, &a))
		_exit(1);
	if (a.source != BOOTPOOL_SOURCE_DIONYSOS)
		_exit(2);
	snprintf(val, sizeof(val), "%d", fd);
	if (setenv(EXEC_FD_ENV, val, 1))
		_exit(3);
	snprintf(val, sizeof(val), "%ld", bp_counter("domains"));
	if (setenv(EXEC_DOMAINS_ENV, val, 1))
		_exit(4);
	execl("/proc/self/exe", "bootpool_test", (char *)NULL);
	_exit(5);
}

TEST_F(dev, descriptor_kept_across_exec_is_refused)
{
	long domains = bp_counter("domains");
	long remote = bp_counter("remote_pages_held");

	if (domains < 0)
		SKIP(return, "no bootpool debugfs (not root?)");
	EXPECT_EQ(0, bp_run_child(child_execs_with_open_fd, self->fd, 0));
	/* Nothing of the child's two domains is left. */
	EXPECT_EQ(domains, bp_counter("domains"));
	EXPECT_EQ(remote, bp_counter("remote_pages_held"));
}

static void child_opens_own_domain(int parent_fd, int unused)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	unsigned char *p;
	int fd = open(BOOTPOOL_DEV, O_RDWR);

	(void)parent_fd;
	(void)unused;
	if (fd < 0)
		_exit(1);
	if (bp_stats(fd, &st) || st.pool_used != 0 || st.pool_pages != POOL_PAGES)
		_exit(2);
	/* Whatever the parent wrote, the child's blocks are zeroed. */
	if (bp_set_policy(fd, BOOTPOOL_POLICY_EARLY) || bp_alloc(fd, PAGE, &a))
		_exit(3);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, a.mmap_offset);
	if (p == MAP_FAILED)
		_exit(4);
	for (int i = 0; i < (int)PAGE; i++)
		if (p[i])
			_exit(5);
	_exit(0);
}

TEST_F(dev, child_is_a_new_domain_and_sees_no_parent_data)
{
	struct bootpool_alloc a;
	unsigned char *p;
	int i;

	/* Dirty a few Dionysos blocks and give them back. */
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
		ASSERT_NE(MAP_FAILED, p);
		memset(p, 0xee, PAGE);
		munmap(p, PAGE);
		ASSERT_EQ(0, bp_free(self->fd, a.handle));
	}
	EXPECT_EQ(0, bp_run_child(child_opens_own_domain, self->fd, 0));
}

TEST_F(dev, mapping_is_not_inherited_by_fork)
{
	struct bootpool_alloc a;
	unsigned char *p;
	int status;
	pid_t pid;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 42;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* VM_DONTCOPY: the child has no mapping there. */
		_exit(msync(p, PAGE, MS_ASYNC) == -1 && errno == ENOMEM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	munmap(p, PAGE);
}

TEST_F(dev, passed_descriptor_is_refused)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct msghdr msg = { 0 };
	struct cmsghdr *cmsg;
	struct bootpool_alloc a;
	struct iovec iov;
	int sv[2], status;
	char byte = 'x';
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = -1;

		close(self->fd);
		close(sv[0]);
		if (recvmsg(sv[1], &msg, 0) != 1)
			_exit(1);
		cmsg = CMSG_FIRSTHDR(&msg);
		if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
			_exit(2);
		memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
		_exit(bp_alloc(fd, 1, &a) == -EPERM ? 0 : 3);
	}
	close(sv[1]);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &self->fd, sizeof(int));
	ASSERT_EQ(1, sendmsg(sv[0], &msg, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);
}

struct thread_arg {
	int fd;
	int rounds;
	int errors;
};

static void *alloc_free_thread(void *p)
{
	struct thread_arg *t = p;
	struct bootpool_alloc a[8];
	int i, j;

	for (i = 0; i < t->rounds; i++) {
		for (j = 0; j < 8; j++)
			if (bp_alloc(t->fd, j == 7 ? 3 * PAGE : 100, &a[j]))
				t->errors++;
		for (j = 0; j < 8; j++)
			if (bp_free(t->fd, a[j].handle))
				t->errors++;
	}
	return NULL;
}

/* Generous: eight threads share four emulated CPUs in the test VM. */
TEST_F_TIMEOUT(dev, eight_threads_leave_counters_balanced, 180)
{
	struct thread_arg args[8];
	pthread_t th[8];
	struct bootpool_stats st;
	int i;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_HYBRID));
	for (i = 0; i < 8; i++) {
		args[i] = (struct thread_arg){ .fd = self->fd, .rounds = 100 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, alloc_free_thread, &args[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].errors);
	}
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.pool_used);
	EXPECT_EQ(POOL_PAGES, st.pool_free);
	EXPECT_EQ(0, st.remote_bytes);
	EXPECT_EQ(8 * 100 * 8, st.pool_allocs + st.remote_allocs);
	EXPECT_EQ(st.pool_allocs + st.remote_allocs, st.frees);
	EXPECT_EQ(0, st.failed_allocs);
}

/* Reads the fdinfo of @fd into @buf; its length, or -1. */
static ssize_t read_fdinfo(int fd, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -1;
	n = read(f, buf, len - 1);
	close(f);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

TEST_F(dev, fdinfo_shows_the_domain)
{
	struct bootpool_alloc a;
	char buf[4096];

	ASSERT_EQ(0, bp_alloc(self->fd, 1, &a));
	ASSERT_LT(0, read_fdinfo(self->fd, buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "bootpool_pool_pages:\t256\n"));
	EXPECT_NE(NULL, strstr(buf, "bootpool_pool_used:\t1\n"));
	EXPECT_NE(NULL, strstr(buf, "bootpool_policy:\tlate\n"));
}

/* Child in a new pid namespace, where it is pid 1. */
static void child_reads_own_pid(int unused, int arg)
{
	char buf[4096];
	int fd;

	if (getpid() != 1)
		_exit(1);
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || read_fdinfo(fd, buf, sizeof(buf)) <= 0)
		_exit(2);
	/* As /proc shows pids: in the reader's namespace. */
	_exit(strstr(buf, "bootpool_pid:\t1\n") ? 0 : 3);
}

TEST_F(dev, fdinfo_shows_pids_in_the_readers_namespace)
{
	char buf[4096], want[64];

	ASSERT_LT(0, read_fdinfo(self->fd, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "bootpool_pid:\t%d\n", getpid());
	EXPECT_NE(NULL, strstr(buf, want));
	if (unshare(CLONE_NEWPID))
		SKIP(return, "no pid namespaces: %s", strerror(errno));
	/* Only children enter the new namespace. */
	EXPECT_EQ(0, bp_run_child(child_reads_own_pid, self->fd, 0));
}

struct clone_vm_arg {
	int fd;
	__u64 handle;
};

/* A process of its own that shares the caller's address space. */
static int clone_vm_child(void *p)
{
	struct clone_vm_arg *c = p;
	struct bootpool_stats st;
	struct bootpool_alloc a;
	void *m;
	int fd;

	if (bp_alloc(c->fd, 1, &a) != -EPERM)
		return 1;
	if (bp_free(c->fd, c->handle) != -EPERM)
		return 2;
	if (bp_stats(c->fd, &st) != -EPERM)
		return 3;
	m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, c->fd, c->handle * PAGE);
	if (m != MAP_FAILED || errno != EPERM)
		return 4;
	/* Nor can it open a domain of its own on that address space. */
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd >= 0 || errno != EPERM)
		return 5;
	return 0;
}

TEST_F(dev, process_sharing_the_address_space_is_refused)
{
	const size_t stack_size = 64 * 1024;
	char *stack = malloc(stack_size);
	struct clone_vm_arg c = { .fd = self->fd };
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int status;
	pid_t pid;

	ASSERT_EQ(0, bp_alloc(self->fd, 1, &a));
	c.handle = a.handle;
	ASSERT_NE(NULL, stack);
	pid = clone(clone_vm_child, stack + stack_size, CLONE_VM | SIGCHLD, &c);
	ASSERT_LE(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	free(stack);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* A vfork() child is such a process too, until it execs. */
	pid = vfork();
	if (!pid)
		_exit(bp_alloc(self->fd, 1, &a) == -EPERM ? 0 : 1);
	ASSERT_LE(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The block is still the parent's, and no other came. */
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.pool_used);
	EXPECT_EQ(0, bp_free(self->fd, c.handle));
}

/* pid_max while the owner's number comes round (PID_MAX_MIN is 301). */
#define RECYCLE_PID_MAX		512
#define RECYCLE_STACK		(64 * 1024)

/* Shared by the opener, its sharer and the sharer's clones (CLONE_VM). */
static struct {
	int fd;
	pid_t owner;		/* the opener's number */
	char *stack;		/* the sharer's, then one for its clones */
	bool got;		/* a clone got the number */
	int stats_ret, alloc_ret;	/* that clone's calls */
} recycled;

/* A clone of the sharer: uses the descriptor if it got the owner's number. */
static int recycled_clone(void *unused)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;

	if (syscall(SYS_getpid) != recycled.owner)
		return 0;
	recycled.stats_ret = bp_stats(recycled.fd, &st);
	recycled.alloc_ret = bp_alloc(recycled.fd, 1, &a);
	recycled.got = true;
	return 0;
}

/*
 * The sharer (CLONE_VM | CLONE_FILES) the opener leaves behind: once the
 * opener is reaped, it clones processes that share the address space and
 * the descriptor table until one gets the opener's number. Exits 0 when
 * that one was refused with EPERM, 1 when it was served.
 */
static int recycled_sharer(void *unused)
{
	char *stack = recycled.stack + 2 * RECYCLE_STACK;
	int i;

	for (i = 0; i < 10000 && !(kill(recycled.owner, 0) && errno == ESRCH); i++)
		usleep(1000);
	for (i = 0; i < 4 * RECYCLE_PID_MAX && !recycled.got; i++) {
		pid_t pid = clone(recycled_clone, stack,
				  CLONE_VM | CLONE_FILES | SIGCHLD, NULL);

		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			return 2;
	}
	if (!recycled.got)
		return 3;
	return recycled.stats_ret == -EPERM && recycled.alloc_ret == -EPERM ? 0 : 1;
}

/*
 * The test user's side: a number at or above 300 (where pids wrap to) for
 * the opener, which opens the device, leaves a sharer and exits; the
 * sharer is reparented here. Exits with the sharer's status.
 */
static void recycled_owner_as_user(void)
{
	int status = -1;
	pid_t pid;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1))
		_exit(10);
	recycled.stack = malloc(2 * RECYCLE_STACK);
	if (!recycled.stack)
		_exit(11);
	do {
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			_exit(12);
	} while (pid < 300 || pid > RECYCLE_PID_MAX - 64);

	pid = fork();
	if (!pid) {
		recycled.owner = getpid();
		recycled.fd = open(BOOTPOOL_DEV, O_RDWR);
		if (recycled.fd < 0 ||
		    clone(recycled_sharer, recycled.stack + RECYCLE_STACK,
			  CLONE_VM | CLONE_FILES | SIGCHLD, NULL) < 0)
			_exit(13);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		_exit(14);
	/* The sharer, reparented to this subreaper. */
	if (wait(&status) < 0 || !WIFEXITED(status))
		_exit(15);
	_exit(WEXITSTATUS(status));
}

/*
 * The owner of a descriptor is its process, not a number: when the opener
 * exits while a CLONE_VM | CLONE_FILES sharer keeps the address space and
 * the descriptor, a process of the sharer that gets the opener's recycled
 * pid is refused like any process sharing the address space. As an
 * unprivileged user; pid_max is lowered for the test, so that the number
 * comes round within a few hundred clones.
 */
TEST(recycled_pid_of_the_opener_is_refused)
{
	long pid_max = bp_read_long("/proc/sys/kernel/pid_max");
	struct stat st;
	char buf[16];
	int status;
	pid_t pid;

	if (no_other_user(&st))
		SKIP(return, "%s", no_other_user(&st));
	ASSERT_LT(0, pid_max);
	snprintf(buf, sizeof(buf), "%d", RECYCLE_PID_MAX);
	ASSERT_EQ(0, bp_write_file("/proc/sys/kernel/pid_max", buf));
	ASSERT_EQ(0, chmod(BOOTPOOL_DEV, 0666));
	pid = fork();
	if (!pid)
		recycled_owner_as_user();
	waitpid(pid, &status, 0);
	chmod(BOOTPOOL_DEV, st.st_mode & 07777);
	bp_write_long("/proc/sys/kernel/pid_max", pid_max);
	ASSERT_LE(0, pid);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_NE(3, WEXITSTATUS(status))
		TH_LOG("no clone got the opener's number");
	EXPECT_NE(1, WEXITSTATUS(status))
		TH_LOG("a process with the opener's recycled number was served");
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static void *parent_mapping;

/* Child: the parent's mapping must not be there. */
static void child_has_no_mapping(int unused, int arg)
{
	unsigned char vec;

	_exit(mincore(parent_mapping, PAGE, &vec) && errno == ENOMEM ? 0 : 1);
}

TEST_F(dev, mapping_cannot_be_made_inheritable)
{
	struct bootpool_alloc a;
	unsigned char *p;

	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	parent_mapping = p;
	p[0] = 0x5a;
	/* MADV_DOFORK would clear VM_DONTCOPY: refused. */
	EXPECT_EQ(-1, madvise(p, PAGE, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, bp_run_child(child_has_no_mapping, self->fd, 0));
	EXPECT_EQ(0, bp_free(self->fd, a.handle));
	munmap(p, PAGE);
}

/* An ALLOC whose argument is in a read-only page: EFAULT. */
static int alloc_readonly(int fd, __u64 size)
{
	struct bootpool_alloc *ro;
	int ret;

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		return -ENOMEM;
	ro->size = size;
	mprotect(ro, PAGE, PROT_READ);
	ret = ioctl(fd, BOOTPOOL_IOC_ALLOC, ro) ? -errno : 0;
	munmap(ro, PAGE);
	return ret;
}

static const char * const undo_counters[] = {
	"pool_allocs", "pool_frees", "remote_allocs", "remote_frees",
	"pool_pages_used", "remote_pages_held", "ipis", "hops",
};

TEST_F(dev, alloc_that_cannot_reply_changes_only_failed_allocs)
{
	long before[8], failed = bp_counter("failed_allocs");
	struct bootpool_stats st0, st;
	int i, round;

	for (round = 0; round < 2; round++) {
		/* A pool block, then (a switch later) a Dionysos block. */
		__u64 size = round ? 2 * PAGE : 1;

		ASSERT_EQ(0, bp_stats(self->fd, &st0));
		for (i = 0; i < 8; i++)
			before[i] = bp_counter(undo_counters[i]);
		EXPECT_EQ(-EFAULT, alloc_readonly(self->fd, size));
		ASSERT_EQ(0, bp_stats(self->fd, &st));
		EXPECT_EQ(st0.failed_allocs + 1, st.failed_allocs);
		EXPECT_EQ(st0.pool_allocs, st.pool_allocs);
		EXPECT_EQ(st0.remote_allocs, st.remote_allocs);
		EXPECT_EQ(st0.frees, st.frees);
		EXPECT_EQ(st0.bytes_requested, st.bytes_requested);
		EXPECT_EQ(st0.bytes_granted, st.bytes_granted);
		EXPECT_EQ(st0.ipis, st.ipis);
		EXPECT_EQ(st0.hops, st.hops);
		EXPECT_EQ(st0.pool_used, st.pool_used);
		EXPECT_EQ(st0.remote_bytes, st.remote_bytes);
		for (i = 0; i < 8; i++) {
			long now = bp_counter(undo_counters[i]);

			if (now != before[i])
				printf("# counter %s: %ld, was %ld\n",
				       undo_counters[i], now, before[i]);
			EXPECT_EQ(before[i], now);
		}
		EXPECT_EQ(failed + round + 1, bp_counter("failed_allocs"));
	}
}

/* Forwarding: needs a second CPU and Dionysos on CPU 0. */
FIXTURE(fwd) {
	int fd;
	long hops;
};

FIXTURE_VARIANT(fwd) {
	int hops;
};

FIXTURE_VARIANT_ADD(fwd, one_hop) { .hops = 1 };
FIXTURE_VARIANT_ADD(fwd, three_hops) { .hops = 3 };

FIXTURE_SETUP(fwd)
{
	self->hops = -1;
	self->fd = bp_open_or_skip(_metadata);
	if (self->fd < 0)
		return;
	if (bp_online_cpus() < 2 || bp_param_get("dionysos_cpu") != 0)
		SKIP(return, "needs 2 CPUs and dionysos_cpu=0");
	self->hops = bp_param_get("forward_hops");
	ASSERT_EQ(0, bp_param_set_long("forward_hops", variant->hops));
}

FIXTURE_TEARDOWN(fwd)
{
	if (self->hops > 0)
		bp_param_set_long("forward_hops", self->hops);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(fwd, request_from_other_cpu_reports_ipis_and_hops)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	long hops0 = bp_counter("hops");
	int i;

	ASSERT_EQ(0, bp_pin_cpu(1));
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, bp_alloc(self->fd, i == 3 ? 64 * 1024 : PAGE, &a));
		EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
		EXPECT_EQ(1, a.cpu);
		EXPECT_EQ(0, a.served_cpu);
		EXPECT_EQ(variant->hops, a.hops);
		EXPECT_EQ(variant->hops, a.ipis);
	}
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(4 * variant->hops, st.hops);
	EXPECT_EQ(4 * variant->hops, st.ipis);
	EXPECT_EQ(4 * variant->hops, bp_counter("hops") - hops0);
}

TEST_F(fwd, request_on_dionysos_cpu_takes_no_ipi)
{
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_pin_cpu(0));
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(0, a.cpu);
	EXPECT_EQ(0, a.served_cpu);
	EXPECT_EQ(0, a.hops);
	EXPECT_EQ(0, a.ipis);
	/* Too large to serve without sleeping: the thread, still no IPI. */
	ASSERT_EQ(0, bp_alloc(self->fd, 256 * 1024, &a));
	EXPECT_EQ(0, a.hops);
	EXPECT_EQ(0, a.ipis);
}

/* Parameters a test changes and restores. */
FIXTURE(limits) {
	int fd;
	long dionysos_mb;
	long max_remote_mb;
};

FIXTURE_SETUP(limits)
{
	self->dionysos_mb = -1;
	self->fd = bp_open_or_skip(_metadata);
	if (self->fd < 0)
		return;
	self->dionysos_mb = bp_param_get("dionysos_mb");
	self->max_remote_mb = bp_param_get("max_remote_mb");
	ASSERT_LE(0, self->dionysos_mb);
	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_EARLY));
}

FIXTURE_TEARDOWN(limits)
{
	if (self->dionysos_mb >= 0) {
		bp_param_set_long("dionysos_mb", self->dionysos_mb);
		bp_param_set_long("max_remote_mb", self->max_remote_mb);
	}
	if (self->fd >= 0)
		close(self->fd);
}

/* A module parameter and a value it must refuse. */
struct bad_param {
	const char *name;
	const char *bad;
};

/* Each write of @cases is EINVAL and leaves its parameter as it was. */
static void expect_refused(struct __test_metadata *_metadata,
			   const struct bad_param *cases, unsigned int n)
{
	unsigned int i;
	long before;

	for (i = 0; i < n; i++) {
		before = bp_param_get(cases[i].name);
		EXPECT_EQ(-EINVAL, bp_param_set(cases[i].name, cases[i].bad))
			TH_LOG("%s=%s", cases[i].name, cases[i].bad);
		EXPECT_EQ(before, bp_param_get(cases[i].name));
	}
}

/* Out of their documented ranges, writes are EINVAL and change nothing. */
TEST_F(limits, parameters_out_of_range_are_einval)
{
	static const struct bad_param cases[] = {
		{ "dionysos_mb", "1048577" }, { "max_remote_mb", "4097" },
		{ "max_user_mb", "1048577" }, { "max_user_mb", "-1" },
		{ "pool_pages", "4097" }, { "forward_hops", "0" },
		{ "forward_hops", "9" },
	};
	long user_mb = bp_param_get("max_user_mb");

	expect_refused(_metadata, cases, ARRAY_SIZE(cases));
	/* The ends of the ranges are taken. */
	EXPECT_EQ(0, bp_param_set("max_remote_mb", "4096"));
	EXPECT_EQ(0, bp_param_set("dionysos_mb", "1048576"));
	EXPECT_EQ(0, bp_param_set("dionysos_mb", "0"));
	bp_param_set_long("max_user_mb", user_mb);
}

/* A number too large for 32 bits is out of range as well: EINVAL, not ERANGE. */
TEST_F(limits, parameters_past_32_bits_are_einval)
{
	static const struct bad_param cases[] = {
		{ "dionysos_mb", "4294967296" }, { "max_user_mb", "99999999999" },
		{ "max_remote_mb", "4294967297" }, { "pool_pages", "0x100000000" },
		{ "forward_hops", "18446744073709551617" },
	};

	expect_refused(_metadata, cases, ARRAY_SIZE(cases));
}

/*
 * A late domain switches at its first oversize request even when
 * Dionysos refuses it: documented, and the next small request goes to
 * Dionysos, not to the pool.
 */
TEST_F(limits, refused_oversize_request_still_switches_a_late_domain)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;

	ASSERT_EQ(0, bp_set_policy(self->fd, BOOTPOOL_POLICY_LATE));
	ASSERT_EQ(0, bp_param_set_long("max_remote_mb", 0));
	EXPECT_EQ(-ENOMEM, bp_alloc(self->fd, 2 * PAGE, &a));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(1, st.switched);
	EXPECT_EQ(BOOTPOOL_SWITCH_OVERSIZE, st.switch_reason);
	EXPECT_EQ(1, st.failed_allocs);
	EXPECT_EQ(-ENOMEM, bp_alloc(self->fd, PAGE, &a));
	ASSERT_EQ(0, bp_param_set_long("max_remote_mb", self->max_remote_mb));
	ASSERT_EQ(0, bp_alloc(self->fd, PAGE, &a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(0, st.pool_used);
	EXPECT_EQ(2, st.failed_allocs);
	EXPECT_EQ(0, bp_free(self->fd, a.handle));
}

TEST_F(limits, dionysos_budget_exhaustion_is_enomem_until_free)
{
	struct bootpool_alloc a[17];
	struct bootpool_stats st;
	int i;

	if (bp_debugfs_get("dionysos", "granted_pages") != 0)
		SKIP(return, "another domain holds Dionysos memory");
	ASSERT_EQ(0, bp_param_set_long("dionysos_mb", 1));
	for (i = 0; i < 16; i++)
		ASSERT_EQ(0, bp_alloc(self->fd, 64 * 1024, &a[i]));
	EXPECT_EQ(-ENOMEM, bp_alloc(self->fd, 64 * 1024, &a[16]));
	EXPECT_EQ(-ENOMEM, bp_alloc(self->fd, 1, &a[16]));
	ASSERT_EQ(0, bp_stats(self->fd, &st));
	EXPECT_EQ(2, st.failed_allocs);
	EXPECT_EQ(16, st.remote_allocs);
	ASSERT_EQ(0, bp_free(self->fd, a[0].handle));
	EXPECT_EQ(0, bp_alloc(self->fd, 64 * 1024, &a[0]));
}

TEST_F(limits, per_process_cap_is_enomem)
{
	struct bootpool_alloc a, b;

	ASSERT_EQ(0, bp_param_set_long("max_remote_mb", 1));
	ASSERT_EQ(0, bp_alloc(self->fd, 1 << 20, &a));
	EXPECT_EQ(-ENOMEM, bp_alloc(self->fd, 1, &b));
	ASSERT_EQ(0, bp_free(self->fd, a.handle));
	EXPECT_EQ(0, bp_alloc(self->fd, 1, &b));
}

TEST(dionysos_is_one_thread_bound_to_its_cpu)
{
	char path[64], comm[32];
	int found = 0;
	cpu_set_t set;
	long cpu = bp_param_get("dionysos_cpu");
	struct dirent *de;
	DIR *proc;
	FILE *f;
	int pid;

	if (cpu < 0)
		SKIP(return, "bootpool module not loaded");
	/* Only the pids that exist: probing every pid is slow on a debug kernel. */
	proc = opendir("/proc");
	ASSERT_NE(NULL, proc);
	while ((de = readdir(proc))) {
		pid = atoi(de->d_name);
		if (pid < 2)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "dionysos\n")) {
			found++;
			ASSERT_EQ(0, sched_getaffinity(pid, sizeof(set), &set));
			EXPECT_EQ(1, CPU_COUNT(&set));
			EXPECT_TRUE(CPU_ISSET(cpu, &set));
		}
		fclose(f);
	}
	closedir(proc);
	EXPECT_EQ(1, found);
}

/* Child: allocate from everywhere, then exit without freeing. */
static void child_allocates_and_exits(int unused_fd, int cpu)
{
	struct bootpool_alloc a;
	int fd = open(BOOTPOOL_DEV, O_RDWR);
	int i;

	(void)unused_fd;
	if (fd < 0)
		_exit(1);
	if (cpu >= 0)
		bp_pin_cpu(cpu);
	for (i = 0; i < 20; i++)
		if (bp_alloc(fd, PAGE, &a))
			_exit(2);
	if (bp_alloc(fd, 5 * PAGE, &a) || bp_alloc(fd, 64 * 1024, &a))
		_exit(3);
	_exit(0);
}

static const char * const gauges[] = {
	"domains", "pool_pages_reserved", "pool_pages_used", "remote_pages_held",
};

struct open_close_arg {
	atomic_int bad;
	int rounds;
};

/* Open, allocate, check, free and close, over and over. */
static void *open_close_thread(void *p)
{
	struct open_close_arg *arg = p;
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int i, fd;

	for (i = 0; i < arg->rounds; i++) {
		fd = open(BOOTPOOL_DEV, O_RDWR);
		if (fd < 0 || bp_alloc(fd, PAGE, &a) || bp_stats(fd, &st) ||
		    st.pool_pages != POOL_PAGES || st.switched ||
		    bp_free(fd, a.handle))
			atomic_fetch_add(&arg->bad, 1);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/*
 * Threads of one process open and close descriptors at once, so that the
 * last close of a domain races with the next open, which finds the domain
 * torn down but still in the mm and sets it up again: every descriptor
 * works, each domain starts afresh, and nothing is left afterwards.
 */
TEST(concurrent_open_and_last_close_of_one_process)
{
	struct open_close_arg arg = { .rounds = 300 };
	long domains, reserved;
	pthread_t th[4];
	int i, fd;

	fd = bp_open_or_skip(_metadata);
	if (fd < 0)
		return;
	close(fd);
	if (bp_counter("domains") < 0)
		SKIP(return, "bootpool debugfs not available");
	if (bp_param_get("pool_pages") != POOL_PAGES)
		SKIP(return, "pool_pages is not the default");
	domains = bp_counter("domains");
	reserved = bp_counter("pool_pages_reserved");
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, open_close_thread, &arg));
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, atomic_load(&arg.bad));
	EXPECT_EQ(domains, bp_counter("domains"));
	EXPECT_EQ(reserved, bp_counter("pool_pages_reserved"));
	EXPECT_EQ(0, bp_counter("pool_pages_used"));
}

TEST(exit_returns_everything)
{
	long before[4];
	unsigned int i;

	if (bp_counter("domains") < 0)
		SKIP(return, "bootpool debugfs not available");
	for (i = 0; i < 4; i++)
		before[i] = bp_counter(gauges[i]);
	EXPECT_EQ(0, bp_run_child(child_allocates_and_exits, -1, -1));
	EXPECT_EQ(0, bp_run_child(child_allocates_and_exits, -1, 1));
	for (i = 0; i < 4; i++) {
		long now = bp_counter(gauges[i]);

		if (now != before[i])
			TH_LOG("gauge %u (%s) went from %ld to %ld", i,
			       gauges[i] ? gauges[i] : "?", before[i], now);
		EXPECT_EQ(before[i], now);
	}
}

TEST(exit_returns_pool_while_child_holds_descriptor)
{
	long domains = bp_counter("domains");
	long reserved = bp_counter("pool_pages_reserved");
	int pipefd[2], status;
	pid_t parent, child;
	char c;

	if (domains < 0)
		SKIP(return, "bootpool debugfs not available");
	ASSERT_EQ(0, pipe(pipefd));
	parent = fork();
	ASSERT_LE(0, parent);
	if (!parent) {
		struct bootpool_alloc a;
		int fd = open(BOOTPOOL_DEV, O_RDWR);

		if (fd < 0 || bp_alloc(fd, PAGE, &a) || bp_alloc(fd, 8 * PAGE, &a))
			_exit(1);
		child = fork();
		if (!child) {
			/* Hold the inherited descriptor until told to go. */
			close(pipefd[1]);
			if (read(pipefd[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	close(pipefd[0]);
	ASSERT_EQ(parent, waitpid(parent, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The domain's owner is gone: its memory is back, its child lives. */
	EXPECT_EQ(reserved, bp_counter("pool_pages_reserved"));
	EXPECT_EQ(0, bp_counter("remote_pages_held"));
	close(pipefd[1]);
	/* The grandchild is reaped by init; give it a moment to close. */
	for (int i = 0; i < 100 && bp_counter("domains") != domains; i++)
		usleep(10000);
	EXPECT_EQ(domains, bp_counter("domains"));
}

/* Child: pinned off Dionysos's CPU, requests blocks in a loop. */
static void child_requests_forever(int unused_fd, int cpu)
{
	struct bootpool_alloc a;
	int fd = open(BOOTPOOL_DEV, O_RDWR);

	(void)unused_fd;
	if (fd < 0 || bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		_exit(1);
	bp_pin_cpu(cpu);
	for (;;) {
		if (bp_alloc(fd, 64 * 1024, &a))
			_exit(2);
		bp_free(fd, a.handle);
	}
}

TEST(sigkill_during_remote_request_leaks_nothing)
{
	long held, granted, abandoned0, hops;
	struct bootpool_alloc a;
	int round, status, fd;
	pid_t pid;

	if (bp_counter("domains") < 0 || bp_online_cpus() < 2)
		SKIP(return, "needs debugfs and 2 CPUs");
	held = bp_counter("remote_pages_held");
	granted = bp_debugfs_get("dionysos", "granted_pages");
	abandoned0 = bp_counter("abandoned_replies");
	hops = bp_param_get("forward_hops");
	ASSERT_EQ(0, bp_param_set_long("forward_hops", 8));
	for (round = 0; round < 20; round++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			child_requests_forever(-1, 1);
		usleep(20000 + round * 3000);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));
	}
	bp_param_set_long("forward_hops", hops);
	for (int i = 0; i < 100 && bp_debugfs_get("dionysos", "queue_depth"); i++)
		usleep(10000);
	EXPECT_EQ(0, bp_debugfs_get("dionysos", "queue_depth"));
	EXPECT_EQ(held, bp_counter("remote_pages_held"));
	for (int i = 0; i < 100 && bp_debugfs_get("dionysos", "granted_pages") != granted; i++)
		usleep(10000);
	EXPECT_EQ(granted, bp_debugfs_get("dionysos", "granted_pages"));
	TH_LOG("abandoned replies taken back: %ld",
	       bp_counter("abandoned_replies") - abandoned0);
	/* Dionysos keeps serving. */
	fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bp_set_policy(fd, BOOTPOOL_POLICY_EARLY));
	EXPECT_EQ(0, bp_alloc(fd, 64 * 1024, &a));
	close(fd);
}

TEST_HARNESS_MAIN
