// SPDX-License-Identifier: GPL-2.0
/*
 * Memory bounds against a hostile user: every test runs its processes as
 * an unprivileged user (uid 65534 and 65533) inside a cgroup v2 with a
 * small memory.max, as a user of a shared test VM would.
 *
 * - a loop of ALLOC, mmap and FREE stops at the caps: a block freed while
 *   mapped is kept, and counted, until its last mapping goes;
 * - the pool and every Dionysos block are charged to the process's memory
 *   cgroup, and passing memory.max is ENOMEM, after which everything goes
 *   back to where it was;
 * - 200 processes that only open the device are bounded by memory.max;
 * - one user's domains cannot take what another user needs (max_user_mb).
 *
 * The root test process sets up the cgroup, opens the device to the test
 * users (mode 0666 for the test, then back), sets module parameters and
 * reads debugfs; the processes under test drop to the test users first.
 */
#include "bootpool_cgroup_util.h"

#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest_harness.h"

#define PAGE		4096UL
#define MiB		(1024UL * 1024)

/*
 * memory.current moves in batches: a charge takes up to 64 pages at once
 * and keeps what it did not need in a per-CPU stock, which later charges
 * use without moving the counter. A reading is exact to within that much
 * per CPU that charged; the processes of these tests are pinned to one
 * CPU, Dionysos's, where the blocks they get are allocated too.
 */
#define CHARGE_SLACK	(2 * 64 * PAGE)

/* Move the caller into @dir as @uid, on Dionysos's CPU. */
static int become_user(const char *dir, uid_t uid)
{
	return bp_cg_enter(dir, uid, (int)bp_param_get("dionysos_cpu"));
}

static const char * const saved_params[] = {
	"pool_pages", "dionysos_mb", "max_remote_mb", "max_user_mb",
};

FIXTURE(memcg) {
	char cg[128];
	mode_t dev_mode;
	long params[4];
	long granted, held, kept, domains;
};

FIXTURE_SETUP(memcg)
{
	struct stat st;
	int i, ret;

	self->cg[0] = 0;
	self->params[0] = -1;
	if (geteuid())
		SKIP(return, "needs root to set up the cgroup and users");
	if (stat(BOOTPOOL_DEV, &st))
		SKIP(return, "bootpool module not loaded");
	if (sysconf(_SC_PAGESIZE) != PAGE)
		SKIP(return, "tests assume 4 KiB pages");
	ret = bp_cg_create(self->cg, sizeof(self->cg), 64 * MiB);
	if (ret) {
		self->cg[0] = 0;
		SKIP(return, "no cgroup v2 memory controller (%s)", strerror(-ret));
	}
	self->dev_mode = st.st_mode & 07777;
	ASSERT_EQ(0, chmod(BOOTPOOL_DEV, 0666));
	for (i = 0; i < 4; i++)
		self->params[i] = bp_param_get(saved_params[i]);
	ASSERT_LE(0, self->params[0]);
	self->granted = bp_debugfs_get("dionysos", "granted_pages");
	self->held = bp_counter("remote_pages_held");
	self->kept = bp_counter("kept_pages");
	self->domains = bp_counter("domains");
	ASSERT_LE(0, self->granted);
}

FIXTURE_TEARDOWN(memcg)
{
	int i;

	if (self->params[0] >= 0) {
		for (i = 0; i < 4; i++)
			if (self->params[i] >= 0)
				bp_param_set_long(saved_params[i],
						  self->params[i]);
		chmod(BOOTPOOL_DEV, self->dev_mode);
		/* Whatever the test did, nothing it held is left behind. */
		EXPECT_EQ(self->granted,
			  bp_debugfs_get("dionysos", "granted_pages"));
		EXPECT_EQ(self->held, bp_counter("remote_pages_held"));
		EXPECT_EQ(self->kept, bp_counter("kept_pages"));
		EXPECT_EQ(self->domains, bp_counter("domains"));
	}
	if (self->cg[0])
		rmdir(self->cg);
}

/* Sizes of the loop: what one domain may hold, plus room to overshoot. */
#define LOOP_REMOTE_MB	2
#define LOOP_HELD	(256 + LOOP_REMOTE_MB * 256)
#define LOOP_MAX	(LOOP_HELD + 256)

/*
 * Child: ALLOC a page, map it, write it, FREE it, keep the mapping; until
 * ALLOC fails. Exit codes say what went wrong; the parent checks debugfs
 * in between (@ready, @go).
 */
static void alloc_map_free_loop(const char *cg, int ready, int go)
{
	static void *maps[LOOP_MAX];
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int fd, n, ret;
	char c = 0;

	if (become_user(cg, BP_TEST_UID))
		_exit(20);
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0)
		_exit(21);
	for (n = 0; n < LOOP_MAX; n++) {
		ret = bp_alloc(fd, PAGE, &a);
		if (ret == -ENOMEM)
			break;
		if (ret)
			_exit(22);
		maps[n] = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, a.mmap_offset);
		if (maps[n] == MAP_FAILED)
			_exit(23);
		memset(maps[n], 0x5a, PAGE);
		if (bp_free(fd, a.handle))
			_exit(24);
	}
	/* The pool and max_remote_mb, and not one page more. */
	if (n != LOOP_HELD)
		_exit(25);
	if (bp_stats(fd, &st) || st.kept_bytes != LOOP_HELD * PAGE ||
	    st.pool_used != 256 || st.remote_bytes != LOOP_REMOTE_MB * MiB)
		_exit(26);
	/* Kept blocks keep their data. */
	if (((unsigned char *)maps[0])[PAGE - 1] != 0x5a ||
	    ((unsigned char *)maps[n - 1])[0] != 0x5a)
		_exit(27);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(28);

	/* The last unmap gives each block back. */
	while (n--)
		munmap(maps[n], PAGE);
	if (bp_stats(fd, &st) || st.kept_bytes || st.pool_used ||
	    st.remote_bytes)
		_exit(29);
	/* And the room is there again (the domain switched: Dionysos). */
	if (bp_alloc(fd, PAGE, &a) || bp_free(fd, a.handle))
		_exit(30);
	close(fd);
	_exit(0);
}

TEST_F_TIMEOUT(memcg, alloc_map_free_loop_stops_at_the_caps, 300)
{
	int ready[2], go[2];
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, bp_param_set_long("pool_pages", 256));
	ASSERT_EQ(0, bp_param_set_long("max_remote_mb", LOOP_REMOTE_MB));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		alloc_map_free_loop(self->cg, ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) == 1) {
		/* debugfs tells the truth about what the mappings keep. */
		EXPECT_EQ(LOOP_HELD, bp_counter("kept_pages"));
		EXPECT_EQ(self->held + LOOP_REMOTE_MB * 256,
			  bp_counter("remote_pages_held"));
		EXPECT_EQ(self->granted + LOOP_REMOTE_MB * 256,
			  bp_debugfs_get("dionysos", "granted_pages"));
		EXPECT_EQ(0, write(go[1], &c, 1) != 1);
	}
	close(go[1]);
	close(ready[0]);
	EXPECT_EQ(0, bp_wait_status(pid));
}

/*
 * Child: map a pool block and a Dionysos block and try to take their
 * pages with get_user_pages(): vmsplice() into a pipe and
 * process_vm_readv() must fail with EFAULT (where the kernel has the
 * latter at all: the debug kernels are built without
 * CROSS_MEMORY_ATTACH), so that no pipe keeps a block's pages past its
 * FREE, out of every cap. Exit codes say which failed.
 */
static void gup_cannot_take_mapped_blocks(const char *cg)
{
	struct bootpool_alloc a[2];
	struct iovec local, remote;
	struct bootpool_stats st;
	int fd, pipefd[2], i;
	char buf[64], probe[32] = "";
	bool cma;
	void *m;

	if (become_user(cg, BP_TEST_UID))
		_exit(20);
	/* Does process_vm_readv() read ordinary memory here? */
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = probe;
	remote.iov_len = sizeof(probe);
	cma = process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	      sizeof(probe);
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || pipe(pipefd))
		_exit(21);
	/* A page from the pool, then 64 KiB: oversize, from Dionysos. */
	if (bp_alloc(fd, PAGE, &a[0]) || bp_alloc(fd, 16 * PAGE, &a[1]) ||
	    a[0].source != BOOTPOOL_SOURCE_POOL ||
	    a[1].source != BOOTPOOL_SOURCE_DIONYSOS)
		_exit(22);
	for (i = 0; i < 2; i++) {
		m = mmap(NULL, a[i].granted, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, a[i].mmap_offset);
		if (m == MAP_FAILED)
			_exit(23);
		memset(m, 0x5a, a[i].granted);
		remote.iov_base = m;
		remote.iov_len = PAGE;
		if (vmsplice(pipefd[1], &remote, 1, 0) != -1 || errno != EFAULT)
			_exit(24 + 2 * i);
		local.iov_base = buf;
		local.iov_len = sizeof(buf);
		remote.iov_len = sizeof(buf);
		if (cma && (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != -1 ||
			    errno != EFAULT))
			_exit(25 + 2 * i);
		if (munmap(m, a[i].granted) || bp_free(fd, a[i].handle))
			_exit(28);
	}
	/* Freed and unmapped: nothing is kept, nothing held. */
	if (bp_stats(fd, &st) || st.kept_bytes || st.remote_bytes || st.pool_used)
		_exit(29);
	close(fd);
	_exit(0);
}

TEST_F(memcg, gup_cannot_take_mapped_blocks)
{
	ASSERT_EQ(0, bp_param_set_long("pool_pages", 256));
	/* 24, 26: vmsplice() took a pool or a Dionysos block's page. */
	EXPECT_EQ(0, bp_cg_run(gup_cannot_take_mapped_blocks, self->cg));
}

/*
 * Child: open with a pool of @arg pages, then hold 4 MiB from Dionysos;
 * check that memory.current follows, within CHARGE_SLACK.
 */
static void charges_follow_the_pages(const char *cg)
{
	struct bootpool_alloc a[64];
	long base, cur, pool = 4 * MiB, remote = 4 * MiB;
	int fd, i;

	if (become_user(cg, BP_TEST_UID))
		_exit(20);
	base = bp_cg_read(cg, "memory.current");
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0)
		_exit(21);
	cur = bp_cg_read(cg, "memory.current");
	if (cur < base + pool - (long)CHARGE_SLACK ||
	    cur > base + pool + (long)CHARGE_SLACK)
		_exit(22);
	if (bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		_exit(23);
	base = cur;
	for (i = 0; i < 64; i++)
		if (bp_alloc(fd, remote / 64, &a[i]))
			_exit(24);
	cur = bp_cg_read(cg, "memory.current");
	if (cur < base + remote - (long)CHARGE_SLACK ||
	    cur > base + remote + (long)CHARGE_SLACK)
		_exit(25);
	for (i = 0; i < 64; i++)
		if (bp_free(fd, a[i].handle))
			_exit(26);
	cur = bp_cg_read(cg, "memory.current");
	if (cur > base + (long)CHARGE_SLACK)
		_exit(27);
	close(fd);
	cur = bp_cg_read(cg, "memory.current");
	if (cur > base - pool + (long)CHARGE_SLACK)
		_exit(28);
	_exit(0);
}

TEST_F(memcg, pool_and_dionysos_blocks_are_charged_to_the_cgroup)
{
	ASSERT_EQ(0, bp_param_set_long("pool_pages", 1024));
	EXPECT_EQ(0, bp_cg_run(charges_follow_the_pages, self->cg));
}

/*
 * Child: ALLOC 64 KiB blocks until it fails, in a cgroup of 8 MiB, with
 * the caps well above that. Exit 0 when the failure was ENOMEM at
 * memory.max and everything went back once freed.
 */
static void alloc_past_memory_max(const char *cg)
{
	static struct bootpool_alloc a[1024];
	long base, max = bp_cg_read(cg, "memory.max"), cur;
	struct bootpool_stats st;
	int fd, n, i, ret = 0;

	if (become_user(cg, BP_TEST_UID))
		_exit(20);
	base = bp_cg_read(cg, "memory.current");
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		_exit(21);
	for (n = 0; n < 1024; n++) {
		ret = bp_alloc(fd, 64 * 1024, &a[n]);
		if (ret)
			break;
	}
	if (ret != -ENOMEM)
		_exit(22);
	/* Stopped by memory.max, long before the caps. */
	if ((long)n * 64 * 1024 > max || n > 1024 / 4)
		_exit(23);
	if (bp_stats(fd, &st) || st.remote_bytes != (__u64)n * 64 * 1024)
		_exit(24);
	for (i = 0; i < n; i++)
		if (bp_free(fd, a[i].handle))
			_exit(25);
	/* The room came back. */
	if (bp_alloc(fd, 64 * 1024, &a[0]) || bp_free(fd, a[0].handle))
		_exit(26);
	close(fd);
	cur = bp_cg_read(cg, "memory.current");
	if (cur > base + (long)CHARGE_SLACK)
		_exit(27);
	_exit(0);
}

/*
 * memory.max of 8 MiB for @cg and the module's caps well above it (the
 * per-user one if @user_cap: the module has it). Return: 0, or -errno.
 */
static int caps_above_memory_max(const char *cg, int user_cap)
{
	int ret;

	ret = bp_cg_write(cg, "memory.max", "8M");
	ret = ret ?: bp_param_set_long("pool_pages", 256);
	ret = ret ?: bp_param_set_long("dionysos_mb", 256);
	ret = ret ?: bp_param_set_long("max_remote_mb", 64);
	if (user_cap)
		ret = ret ?: bp_param_set_long("max_user_mb", 256);
	return ret;
}

TEST_F(memcg, alloc_past_memory_max_is_enomem_and_undone)
{
	long oom_kills;

	ASSERT_EQ(0, caps_above_memory_max(self->cg, self->params[3] >= 0));
	oom_kills = bp_cg_key(self->cg, "memory.events", "oom_kill");
	EXPECT_EQ(0, bp_cg_run(alloc_past_memory_max, self->cg));
	/* ENOMEM, not the OOM killer. */
	EXPECT_EQ(oom_kills, bp_cg_key(self->cg, "memory.events", "oom_kill"));
}

#define TEST_DEBUGFS	"/sys/kernel/debug/bootpool_test/"
#define RECLAIM_MS	3000
#define AT_MAX_TRIES	16

/* Where a requester at memory.max stands; in memory the parent touched. */
struct at_max {
	atomic_int state;	/* 1: at memory.max, -1: failed, 2: done */
	atomic_int go;
	atomic_int served;	/* further requests served */
};

/*
 * Child: from @cpu, take 32 KiB blocks from Dionysos until memory.max
 * refuses one; once told to, ask for AT_MAX_TRIES more, which reach the
 * IPI handler on Dionysos's CPU, and count those served. Holds them until
 * killed, so that the parent reads memory.current.
 */
static void request_at_memory_max(const char *cg, int cpu, struct at_max *m)
{
	struct bootpool_alloc a;
	int fd = bp_cg_fill_to_max(cg, cpu, 8 * PAGE), n;

	atomic_store(&m->state, fd < 0 ? -1 : 1);
	if (fd < 0)
		_exit(1);
	while (!atomic_load(&m->go))
		usleep(1000);
	for (n = 0; n < AT_MAX_TRIES; n++)
		if (!bp_alloc(fd, 8 * PAGE, &a))
			atomic_fetch_add(&m->served, 1);
	atomic_store(&m->state, 2);
	pause();
	_exit(0);
}

/*
 * In the IPI handler, current is whichever task was interrupted on
 * Dionysos's CPU, and the memcg charge of a task in reclaim (PF_MEMALLOC)
 * is forced past memory.max. With such a task running there
 * (bootpool_test.ko's memalloc_spin), the requests of a requester at its
 * memory.max, as an unprivileged user, leave memory.current within
 * memory.max.
 */
TEST_F_TIMEOUT(memcg, grants_in_the_ipi_handler_are_held_to_memory_max, 120)
{
	long dcpu = bp_param_get("dionysos_cpu"), cur, max;
	char mod[256], ms[16];
	int rcpu, i, loaded = 0;
	pid_t req, spin;
	struct at_max *m;

	if (bp_online_cpus() < 2)
		SKIP(return, "needs 2 CPUs");
	if (access(TEST_DEBUGFS "memalloc_spin", W_OK)) {
		snprintf(mod, sizeof(mod), "%s/bootpool_test.ko",
			 getenv("BOOTPOOL_MODULE_DIR") ?: "/bootpool");
		if (bp_load_defaults(mod))
			SKIP(return, "cannot load %s", mod);
		loaded = 1;
	}
	ASSERT_EQ(0, caps_above_memory_max(self->cg, self->params[3] >= 0));
	rcpu = dcpu ? 0 : 1;
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0, sizeof(*m));

	req = fork();
	ASSERT_LE(0, req);
	if (!req)
		request_at_memory_max(self->cg, rcpu, m);
	for (i = 0; i < 30000 && !atomic_load(&m->state); i++)
		usleep(1000);
	ASSERT_EQ(1, atomic_load(&m->state))
		TH_LOG("the requester did not reach memory.max with ENOMEM");

	/* A task in reclaim on Dionysos's CPU, as root, out of the cgroup. */
	spin = fork();
	ASSERT_LE(0, spin);
	if (!spin) {
		snprintf(ms, sizeof(ms), "%d", RECLAIM_MS);
		_exit(bp_pin_cpu(dcpu) ||
		      bp_write_file(TEST_DEBUGFS "memalloc_spin", ms) ? 1 : 0);
	}
	usleep(300 * 1000);
	atomic_store(&m->go, 1);
	for (i = 0; i < 30000 && atomic_load(&m->state) == 1; i++)
		usleep(1000);
	cur = bp_cg_read(self->cg, "memory.current");
	max = bp_cg_read(self->cg, "memory.max");
	EXPECT_EQ(0, bp_wait_status(spin));
	kill(req, SIGKILL);
	EXPECT_EQ(128 + SIGKILL, bp_wait_status(req));
	TH_LOG("%d of %d served at memory.max; memory.current %ld, memory.max %ld",
	       atomic_load(&m->served), AT_MAX_TRIES, cur, max);
	EXPECT_EQ(2, atomic_load(&m->state));
	/*
	 * A request may still be served within memory.max, once the thread
	 * has reclaimed; none may be charged past it.
	 */
	EXPECT_GE(max, cur);
	munmap(m, sizeof(*m));
	if (loaded)
		syscall(SYS_delete_module, "bootpool_test", O_NONBLOCK);
}

#define NR_OPENERS	200

/*
 * Child: open the device as the test user in the cgroup, write 'o'
 * (opened), 'm' (ENOMEM) or 'e' to @res, and hold it until @hold closes.
 */
static void open_and_hold(const char *cg, int res, int hold)
{
	char c = 'e';
	int fd;

	if (!become_user(cg, BP_TEST_UID)) {
		fd = open(BOOTPOOL_DEV, O_RDWR);
		c = fd >= 0 ? 'o' : errno == ENOMEM ? 'm' : 'e';
	}
	if (write(res, &c, 1) != 1)
		_exit(1);
	if (read(hold, &c, 1) < 0)
		_exit(1);
	_exit(0);
}

/* The child's one-byte answer on @fd, or 'k' once @pid is gone. */
static char answer_or_death(int fd, pid_t pid)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	for (;;) {
		if (poll(&p, 1, 100) == 1 && read(fd, &c, 1) == 1)
			return c;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 'k';
	}
}

TEST_F_TIMEOUT(memcg, two_hundred_openers_are_bounded_by_memory_max, 300)
{
	int res[2], hold[2], i, n, killed = 0, killed_holding = 0;
	int counts[3] = { 0, 0, 0 };
	long oom_kills = bp_cg_key(self->cg, "memory.events", "oom_kill");
	long domains = bp_counter("domains"), held, most = 0;
	pid_t pids[NR_OPENERS];
	char c;

	ASSERT_EQ(0, bp_param_set_long("pool_pages", 256));
	ASSERT_EQ(0, pipe(res));
	ASSERT_EQ(0, pipe(hold));
	for (n = 0; n < NR_OPENERS; n++) {
		pids[n] = fork();
		ASSERT_LE(0, pids[n]);
		if (!pids[n]) {
			close(hold[1]);
			open_and_hold(self->cg, res[1], hold[0]);
		}
		/*
		 * One at a time, so that each answers before the next; one
		 * that the cgroup's OOM killer took never answers.
		 */
		c = answer_or_death(res[0], pids[n]);
		if (c == 'k') {
			pids[n] = 0;
			killed++;
		} else {
			counts[c == 'o' ? 0 : c == 'm' ? 1 : 2]++;
		}
		/*
		 * The pools held now. The cgroup's OOM killer may take a child
		 * that holds one (6.12 picks the largest task of the cgroup),
		 * which makes room for later openers: the bound is on the
		 * pools held at once, not on the opens over the whole run.
		 */
		held = bp_counter("domains") - domains;
		if (c == 'o' && held > most)
			most = held;
	}
	close(hold[1]);
	close(hold[0]);
	close(res[0]);
	close(res[1]);
	/*
	 * The cgroup's OOM killer may also take a child that answered and
	 * holds its descriptor (6.12 picks the largest task of the cgroup).
	 */
	for (i = 0; i < n; i++)
		if (pids[i] && bp_wait_status(pids[i]) == 128 + SIGKILL)
			killed_holding++;
	oom_kills = bp_cg_key(self->cg, "memory.events", "oom_kill") - oom_kills;
	TH_LOG("opened %d, ENOMEM %d, other errors %d, killed %d, then %d holding",
	       counts[0], counts[1], counts[2], killed, killed_holding);
	TH_LOG("OOM kills in the cgroup: %ld; at most %ld pools held at once",
	       oom_kills, most);
	/* Each open holds a 1 MiB pool: 64 MiB cannot hold 64 of them. */
	EXPECT_GT(64, most);
	EXPECT_LT(0, most);
	EXPECT_EQ(0, counts[2]);
	/*
	 * The others got ENOMEM, or the cgroup's own OOM killer took them
	 * (for memory the process itself needs, such as its page tables).
	 */
	EXPECT_EQ(NR_OPENERS, counts[0] + counts[1] + killed);
	EXPECT_EQ(killed + killed_holding, oom_kills);
}

/*
 * Child: open and take @mb MiB from Dionysos in one block; write the
 * result (0 or an errno) to @out and hold it until @hold closes.
 */
static void take_remote_and_hold(int mb, int out, int hold)
{
	struct bootpool_alloc a;
	int fd, ret;
	char c;

	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		_exit(21);
	ret = -bp_alloc(fd, (__u64)mb * MiB, &a);
	if (write(out, &ret, sizeof(ret)) != sizeof(ret))
		_exit(22);
	if (read(hold, &c, 1) < 0)
		_exit(23);
	_exit(0);
}

/* Child: as take_remote_and_hold(), as @uid in @cg. */
static void hold_remote(const char *cg, uid_t uid, int mb, int out, int hold)
{
	if (become_user(cg, uid))
		_exit(20);
	take_remote_and_hold(mb, out, hold);
}

/*
 * Forks hold_remote() of 2 MiB as @uid in @cg, writing to @out and
 * waiting on @hold, and reads the errno it reports into @ret. Return: the
 * child's pid, or -1 when fork() or the read failed.
 */
static pid_t start_holder(const char *cg, uid_t uid, int out[2], int hold[2],
			  int *ret)
{
	pid_t pid = fork();

	if (!pid) {
		close(hold[1]);
		hold_remote(cg, uid, 2, out[1], hold[0]);
	}
	if (pid < 0 || read(out[0], ret, sizeof(*ret)) != sizeof(*ret))
		return -1;
	return pid;
}

static void close_pipe(int p[2])
{
	close(p[0]);
	close(p[1]);
}

/*
 * Dionysos of 8 MiB, at most 2 MiB a domain and 4 MiB a user, and the
 * pipes start_holder() takes. Return: 0; 1 when another domain holds
 * Dionysos memory already (the test skips); -1 when a step failed.
 */
static int share_dionysos(int out[2], int hold[2])
{
	if (bp_param_set_long("dionysos_mb", 8) ||
	    bp_param_set_long("max_remote_mb", 2) ||
	    bp_param_set_long("max_user_mb", 4))
		return -1;
	if (bp_debugfs_get("dionysos", "granted_pages") != 0)
		return 1;
	return pipe(out) || pipe(hold) ? -1 : 0;
}

TEST_F(memcg, one_user_cannot_starve_another)
{
	int out[2], hold[2], ret[5], i;
	pid_t pids[5];

	/* Four domains of one user could take the whole budget but for it. */
	i = share_dionysos(out, hold);
	ASSERT_LE(0, i);
	if (i)
		SKIP(return, "another domain holds Dionysos memory");
	for (i = 0; i < 5; i++) {
		pids[i] = start_holder(self->cg, i < 4 ? BP_TEST_UID : BP_OTHER_UID,
				       out, hold, &ret[i]);
		ASSERT_LE(0, pids[i]);
	}
	EXPECT_EQ(0, ret[0]);
	EXPECT_EQ(0, ret[1]);
	EXPECT_EQ(ENOMEM, ret[2]);
	EXPECT_EQ(ENOMEM, ret[3]);
	/* The other user still gets its share. */
	EXPECT_EQ(0, ret[4]);
	EXPECT_EQ(1024, bp_debugfs_get("dionysos", "user_pages_65534"));
	EXPECT_EQ(512, bp_debugfs_get("dionysos", "user_pages_65533"));
	close_pipe(hold);
	close_pipe(out);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, bp_wait_status(pids[i]));
	EXPECT_EQ(-1, bp_debugfs_get("dionysos", "user_pages_65534"));
}

/* A subordinate range of the test user's, as /etc/subuid would give it. */
#define SUBUID_FIRST	100000
#define SUBUID_COUNT	65536

/*
 * Child: as the test user, in a user namespace of its own whose uids the
 * parent maps to the subordinate range (as newuidmap does), become uid
 * 1000 there, then as take_remote_and_hold(). Writes 'u' to @out once the
 * namespace exists ('n' if it cannot make one), and waits for a byte on
 * @go, once the map is written, before it sets its uid.
 */
static void hold_remote_as_subordinate(const char *cg, int mb, int out,
				       int go, int hold)
{
	char c = 'u';

	if (become_user(cg, BP_TEST_UID))
		_exit(20);
	if (unshare(CLONE_NEWUSER))
		c = 'n';
	if (write(out, &c, 1) != 1 || c != 'u')
		_exit(0);
	if (read(go, &c, 1) != 1 || setuid(1000))
		_exit(24);
	take_remote_and_hold(mb, out, hold);
}

/*
 * The uids of a subordinate range are the user that owns them: a domain
 * of uid 1000 in a user namespace of the test user's, mapped to the range,
 * takes the test user's share of max_user_mb, not a share of its own.
 */
TEST_F(memcg, subordinate_uids_share_their_owner_s_share)
{
	int out[2], hold[2], go[2], ret[4], i;
	char map[64], path[64];
	pid_t pids[4];
	char c;

	i = share_dionysos(out, hold);
	ASSERT_LE(0, i);
	if (i)
		SKIP(return, "another domain holds Dionysos memory");
	ASSERT_EQ(0, pipe(go));
	/* The test user's own two domains take its share... */
	for (i = 0; i < 2; i++) {
		pids[i] = start_holder(self->cg, BP_TEST_UID, out, hold, &ret[i]);
		ASSERT_LE(0, pids[i]);
	}
	/* ...and a subordinate uid of the test user's gets none of its own. */
	pids[2] = fork();
	ASSERT_LE(0, pids[2]);
	if (!pids[2]) {
		close(hold[1]);
		hold_remote_as_subordinate(self->cg, 2, out[1], go[0], hold[0]);
	}
	ASSERT_EQ(1, read(out[0], &c, 1));
	if (c != 'u') {
		close(hold[1]);
		for (i = 0; i < 3; i++)
			bp_wait_status(pids[i]);
		SKIP(return, "the test user cannot make a user namespace");
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pids[2]);
	snprintf(map, sizeof(map), "0 %d %d\n", SUBUID_FIRST, SUBUID_COUNT);
	ASSERT_EQ(0, bp_write_file(path, map));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(ret[2]), read(out[0], &ret[2], sizeof(ret[2])));
	/* Another user still gets its share. */
	pids[3] = start_holder(self->cg, BP_OTHER_UID, out, hold, &ret[3]);
	ASSERT_LE(0, pids[3]);
	EXPECT_EQ(0, ret[0]);
	EXPECT_EQ(0, ret[1]);
	EXPECT_EQ(ENOMEM, ret[2]);
	EXPECT_EQ(0, ret[3]);
	EXPECT_EQ(1024, bp_debugfs_get("dionysos", "user_pages_65534"));
	EXPECT_EQ(-1, bp_debugfs_get("dionysos", "user_pages_101000"));
	EXPECT_EQ(512, bp_debugfs_get("dionysos", "user_pages_65533"));
	close_pipe(hold);
	close_pipe(out);
	close_pipe(go);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, bp_wait_status(pids[i]));
}

TEST_HARNESS_MAIN
