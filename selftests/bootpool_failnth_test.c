// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection with fail-nth (Documentation/fault-injection/): every
 * call bootpool serves - open, each ioctl, mmap, close - and the module's
 * own load are repeated with /proc/self/task/<tid>/fail-nth set to 1, 2,
 * ... until a run injects no fault. Each injected failure must surface as
 * a documented errno (ENOMEM), leave nothing behind, and the next call
 * must work. Skipped when the kernel has no fault injection.
 */
#include "bootpool_fault_util.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

/* A sweep stops here even if faults keep firing (a loop in the module?). */
#define MAX_NTH	5000

/* One call under test: returns 0 or -errno; @ctx is the fixture. */
struct sweep_op {
	const char *name;
	/* Prepares state outside the injection window. */
	int (*setup)(void *ctx);
	int (*call)(void *ctx);
	/* Undoes what a successful call did, and what setup did. */
	void (*undo)(void *ctx, int ret);
};

struct sweep_ctx {
	int fd;
	int ret_fd;
	struct bootpool_alloc a;
	struct bootpool_alloc batch_a[8];
	void *map;
	size_t map_len;
	__u64 size;
	__u32 policy;
};

static int op_open_setup(void *p) { return 0; }

static int op_open(void *p)
{
	struct sweep_ctx *c = p;

	c->ret_fd = open(BOOTPOOL_DEV, O_RDWR);
	return c->ret_fd < 0 ? -errno : 0;
}

static void op_open_undo(void *p, int ret)
{
	struct sweep_ctx *c = p;

	if (!ret) {
		/* The new domain must work. */
		struct bootpool_alloc a;

		if (bp_alloc(c->ret_fd, 1, &a) == 0)
			bp_free(c->ret_fd, a.handle);
		close(c->ret_fd);
	}
}

static int op_fd_setup(void *p)
{
	struct sweep_ctx *c = p;

	c->fd = open(BOOTPOOL_DEV, O_RDWR);
	if (c->fd < 0)
		return -errno;
	if (c->policy != BOOTPOOL_POLICY_LATE)
		return bp_set_policy(c->fd, c->policy);
	return 0;
}

static void op_fd_close(void *p, int ret)
{
	struct sweep_ctx *c = p;

	close(c->fd);
}

static int op_alloc(void *p)
{
	struct sweep_ctx *c = p;

	return bp_alloc(c->fd, c->size, &c->a);
}

static void op_alloc_undo(void *p, int ret)
{
	struct sweep_ctx *c = p;

	if (!ret && bp_free(c->fd, c->a.handle))
		fprintf(stderr, "# FREE of a fresh handle failed: %s\n",
			strerror(errno));
	op_fd_close(p, ret);
}

static int op_batch(void *p)
{
	struct sweep_ctx *c = p;
	struct bootpool_alloc_batch b = {
		.allocs = (__u64)(unsigned long)c->batch_a,
		.count = 8,
		.stride = sizeof(c->batch_a[0]),
	};
	int i;

	memset(c->batch_a, 0, sizeof(c->batch_a));
	for (i = 0; i < 8; i++)
		c->batch_a[i].size = i & 1 ? 3 * 4096 : 100;
	if (ioctl(c->fd, BOOTPOOL_IOC_ALLOC_BATCH, &b))
		return -errno;
	return b.done;	/* >= 1 */
}

static void op_batch_undo(void *p, int ret)
{
	struct sweep_ctx *c = p;
	int i;

	for (i = 0; i < ret; i++)
		bp_free(c->fd, c->batch_a[i].handle);
	op_fd_close(p, 0);
}

static int op_alloc_then_setup(void *p)
{
	struct sweep_ctx *c = p;
	int ret = op_fd_setup(p);

	return ret ? ret : bp_alloc(c->fd, c->size, &c->a);
}

static int op_free(void *p)
{
	struct sweep_ctx *c = p;

	return bp_free(c->fd, c->a.handle);
}

static void op_free_undo(void *p, int ret)
{
	struct sweep_ctx *c = p;

	if (ret)
		bp_free(c->fd, c->a.handle);
	op_fd_close(p, 0);
}

static int op_policy(void *p)
{
	struct sweep_ctx *c = p;

	return bp_set_policy(c->fd, BOOTPOOL_POLICY_HYBRID);
}

static int op_stats(void *p)
{
	struct sweep_ctx *c = p;
	struct bootpool_stats st;

	return bp_stats(c->fd, &st);
}

static int op_mmap(void *p)
{
	struct sweep_ctx *c = p;

	c->map_len = c->a.granted;
	c->map = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, c->a.mmap_offset);
	return c->map == MAP_FAILED ? -errno : 0;
}

static void op_mmap_undo(void *p, int ret)
{
	struct sweep_ctx *c = p;

	if (!ret) {
		memset(c->map, 0x5a, c->map_len);
		munmap(c->map, c->map_len);
	}
	op_free_undo(p, 1);
}

static int op_close(void *p)
{
	struct sweep_ctx *c = p;

	return close(c->fd) ? -errno : 0;
}

static void op_nothing(void *p, int ret)
{
}

FIXTURE(failnth) {
	int nth_fd;
	struct sweep_ctx ctx;
};

/* kselftest_harness.h of 6.1 runs the test after a SKIP in the setup. */
FIXTURE_SETUP(failnth)
{
	self->nth_fd = -1;
	if (geteuid())
		SKIP(return, "needs root");
	if (!bp_exists(BOOTPOOL_DEV))
		SKIP(return, "no %s", BOOTPOOL_DEV);
	self->nth_fd = bp_fail_nth_open();
	if (self->nth_fd < 0)
		SKIP(return, "no fail-nth: kernel without CONFIG_FAULT_INJECTION");
	bp_fault_attrs_all(true);
	ASSERT_TRUE(bp_counters_settle(5000));
	memset(&self->ctx, 0, sizeof(self->ctx));
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->nth_fd >= 0) {
		bp_fail_nth_set(self->nth_fd, 0);
		close(self->nth_fd);
		bp_fault_attrs_all(false);
	}
}

/*
 * Run @op with the n-th fault armed, n = 1, 2, ... until no fault fires.
 * Return: the number of faults injected, or -1 after a bad result.
 */
static int sweep(struct __test_metadata *_metadata, int nth_fd,
		 const struct sweep_op *op, struct sweep_ctx *c)
{
	int n, ret, injected = 0;

	for (n = 1; n <= MAX_NTH; n++) {
		bool fired;

		ret = op->setup(c);
		if (ret) {
			TH_LOG("%s: setup failed: %s", op->name, strerror(-ret));
			return -1;
		}
		bp_fail_nth_set(nth_fd, n);
		ret = op->call(c);
		fired = bp_fail_nth_fired(nth_fd);
		op->undo(c, ret);
		if (!fired) {
			if (ret < 0) {
				TH_LOG("%s: failed without a fault: %s",
				       op->name, strerror(-ret));
				return -1;
			}
			return injected;
		}
		injected++;
		/* A fault may hit outside bootpool and be absorbed: 0 is fine. */
		if (ret < 0 && ret != -ENOMEM) {
			TH_LOG("%s: fault %d gave %s, not ENOMEM", op->name, n,
			       strerror(-ret));
			return -1;
		}
	}
	TH_LOG("%s: still injecting after %d faults", op->name, MAX_NTH);
	return -1;
}

static void run_sweep(struct __test_metadata *_metadata, int nth_fd,
		      const struct sweep_op *op, struct sweep_ctx *c)
{
	int injected = sweep(_metadata, nth_fd, op, c);

	ASSERT_LE(0, injected);
	TH_LOG("%s: %d faults injected", op->name, injected);
	EXPECT_TRUE(bp_counters_settle(5000));
	EXPECT_EQ(0, bp_counter("domains"));
	EXPECT_EQ(0, bp_counter("pool_pages_used"));
	EXPECT_EQ(0, bp_counter("remote_pages_held"));
	EXPECT_EQ(bp_counter("attaches"), bp_counter("detaches"));
}

#define OP(n, s, c, u) (&(const struct sweep_op){ n, s, c, u })

TEST_F_TIMEOUT(failnth, open, 300)
{
	if (self->nth_fd < 0)
		return;
	run_sweep(_metadata, self->nth_fd,
		  OP("open", op_open_setup, op_open, op_open_undo), &self->ctx);
}

TEST_F_TIMEOUT(failnth, alloc_pool, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 4096;
	run_sweep(_metadata, self->nth_fd,
		  OP("ALLOC pool", op_fd_setup, op_alloc, op_alloc_undo),
		  &self->ctx);
}

TEST_F_TIMEOUT(failnth, alloc_remote_atomic, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 4096;
	self->ctx.policy = BOOTPOOL_POLICY_EARLY;
	run_sweep(_metadata, self->nth_fd,
		  OP("ALLOC remote order 0", op_fd_setup, op_alloc,
		     op_alloc_undo), &self->ctx);
}

TEST_F_TIMEOUT(failnth, alloc_remote_thread, 300)
{
	if (self->nth_fd < 0)
		return;
	/* Order 5: beyond what is served without sleeping: the thread. */
	self->ctx.size = 32 * 4096;
	self->ctx.policy = BOOTPOOL_POLICY_EARLY;
	run_sweep(_metadata, self->nth_fd,
		  OP("ALLOC remote order 5", op_fd_setup, op_alloc,
		     op_alloc_undo), &self->ctx);
}

TEST_F_TIMEOUT(failnth, alloc_batch, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.policy = BOOTPOOL_POLICY_HYBRID;
	run_sweep(_metadata, self->nth_fd,
		  OP("ALLOC_BATCH", op_fd_setup, op_batch, op_batch_undo),
		  &self->ctx);
}

TEST_F_TIMEOUT(failnth, free_pool, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 4096;
	run_sweep(_metadata, self->nth_fd,
		  OP("FREE pool", op_alloc_then_setup, op_free, op_free_undo),
		  &self->ctx);
}

TEST_F_TIMEOUT(failnth, free_remote, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 8192;
	run_sweep(_metadata, self->nth_fd,
		  OP("FREE remote", op_alloc_then_setup, op_free,
		     op_free_undo), &self->ctx);
}

TEST_F_TIMEOUT(failnth, set_policy, 300)
{
	if (self->nth_fd < 0)
		return;
	run_sweep(_metadata, self->nth_fd,
		  OP("SET_POLICY", op_fd_setup, op_policy, op_fd_close),
		  &self->ctx);
}

TEST_F_TIMEOUT(failnth, stats, 300)
{
	if (self->nth_fd < 0)
		return;
	run_sweep(_metadata, self->nth_fd,
		  OP("STATS", op_fd_setup, op_stats, op_fd_close), &self->ctx);
}

TEST_F_TIMEOUT(failnth, mmap_pool, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 4096;
	run_sweep(_metadata, self->nth_fd,
		  OP("mmap pool", op_alloc_then_setup, op_mmap, op_mmap_undo),
		  &self->ctx);
}

TEST_F_TIMEOUT(failnth, mmap_remote, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 4 * 4096;
	run_sweep(_metadata, self->nth_fd,
		  OP("mmap remote", op_alloc_then_setup, op_mmap,
		     op_mmap_undo), &self->ctx);
}

TEST_F_TIMEOUT(failnth, close_with_blocks, 300)
{
	if (self->nth_fd < 0)
		return;
	self->ctx.size = 3 * 4096;
	run_sweep(_metadata, self->nth_fd,
		  OP("close", op_alloc_then_setup, op_close, op_nothing),
		  &self->ctx);
}

/* finit_module() with fail-nth armed at @n; *fired tells if it fired. */
static int load_nth(int nth_fd, const char *path, const char *params, int n,
		    bool *fired)
{
	int ret;

	bp_fail_nth_set(nth_fd, n);
	ret = bp_load(path, params);
	*fired = bp_fail_nth_fired(nth_fd);
	return ret;
}

/* How many fault points one finit_module() goes through. */
static int load_points(int nth_fd, const char *path, const char *params,
		       int *ret)
{
	char buf[16] = "";
	int left;

	bp_fail_nth_set(nth_fd, 1000000);
	*ret = bp_load(path, params);
	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		buf[0] = 0;
	left = atoi(buf);
	bp_fail_nth_set(nth_fd, 0);
	return 1000000 - left;
}

/*
 * Module load under failslab: fail each allocation of bootpool's init in
 * turn. A failed load leaves no device, no debugfs directory and no
 * thread; the load after the sweep works.
 *
 * Only the init's allocations are failed: those of load_module() before
 * it belong to the kernel, and some of them (trace event fields) WARN
 * when they fail. The first fault point of the init is found with a load
 * whose init fails at once (dionysos_cpu out of range, before any
 * allocation): walking back from its last fault point, the points after
 * the init (its cleanup) still end in EINVAL, the last one before it
 * (do_init_module()'s own allocation) in ENOMEM.
 */
TEST_F_TIMEOUT(failnth, module_load, 1800)
{
	static const char bad[] = "dionysos_cpu=100000";
	struct bootpool_alloc a;
	int n, ret, fd, total, pre = 0, injected = 0, absorbed = 0, left;
	char path[256];
	bool fired;

	if (self->nth_fd < 0)
		return;
	bp_module_path(path, sizeof(path));
	if (!bp_exists(path))
		SKIP(return, "%s not found", path);
	ASSERT_EQ(0, bp_unload_wait(2000));

	total = load_points(self->nth_fd, path, bad, &ret);
	ASSERT_EQ(-EINVAL, ret);
	for (n = total; n > 0; n--) {
		ret = load_nth(self->nth_fd, path, bad, n, &fired);
		if (fired && ret == -ENOMEM) {
			pre = n;
			break;
		}
		ASSERT_EQ(-EINVAL, ret);
	}
	ASSERT_LT(0, pre);
	TH_LOG("load: %d fault points, the init starts after %d", total, pre);

	for (n = pre + 1; n <= pre + MAX_NTH; n++) {
		ret = load_nth(self->nth_fd, path, "", n, &fired);
		if (!ret) {
			if (!fired)
				break;
			/* Absorbed (kmemleak's own metadata, after the init). */
			absorbed++;
			ASSERT_EQ(0, bp_unload_wait(2000));
			continue;
		}
		ASSERT_TRUE(fired) TH_LOG("load failed without a fault: %s",
					  strerror(-ret));
		injected++;
		left = bp_exists(BOOTPOOL_DEV) + bp_exists("/sys/module/bootpool") +
		       bp_exists(BOOTPOOL_DEBUGFS) + bp_thread_exists("dionysos");
		EXPECT_EQ(-ENOMEM, ret) TH_LOG("fault %d: %s", n, strerror(-ret));
		EXPECT_FALSE(bp_exists(BOOTPOOL_DEV)) TH_LOG("fault %d", n);
		EXPECT_FALSE(bp_exists("/sys/module/bootpool")) TH_LOG("fault %d", n);
		EXPECT_FALSE(bp_exists(BOOTPOOL_DEBUGFS)) TH_LOG("fault %d", n);
		EXPECT_FALSE(bp_thread_exists("dionysos")) TH_LOG("fault %d", n);
		/* The first fault that left something behind ends the sweep. */
		if (ret != -ENOMEM || left)
			break;
	}
	TH_LOG("init: %d loads failed cleanly, %d faults absorbed", injected,
	       absorbed);
	EXPECT_LT(0, injected);
	ASSERT_TRUE(bp_exists(BOOTPOOL_DEV));
	fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, bp_alloc(fd, 5000, &a));
	close(fd);
	EXPECT_TRUE(bp_counters_settle(5000));
}

#define FAIL_DIONYSOS	BOOTPOOL_DEBUGFS "fail_dionysos/"

/*
 * The fault point inside Dionysos (debugfs fail_dionysos, present when
 * the kernel has CONFIG_FAULT_INJECTION_DEBUG_FS): while it fires, remote
 * requests fail with ENOMEM, in the IPI handler and in the
 * thread alike; the process survives and its retries succeed once the
 * point stops firing.
 */
TEST_F_TIMEOUT(failnth, dionysos_fault_point, 300)
{
	static const __u64 sizes[] = { 4096, 64 * 4096 };
	struct bootpool_alloc a;
	int fd, cpu, i, k;

	if (self->nth_fd < 0)
		return;
	if (!bp_exists(FAIL_DIONYSOS))
		SKIP(return, "no %s", FAIL_DIONYSOS);
	fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bp_set_policy(fd, BOOTPOOL_POLICY_EARLY));
	ASSERT_EQ(0, bp_write_file(FAIL_DIONYSOS "verbose", "0"));
	ASSERT_EQ(0, bp_write_file(FAIL_DIONYSOS "interval", "1"));
	ASSERT_EQ(0, bp_write_file(FAIL_DIONYSOS "probability", "100"));

	/* From Dionysos's CPU (served in place) and from another (IPI). */
	for (cpu = 0; cpu < 2 && cpu < bp_online_cpus(); cpu++) {
		ASSERT_EQ(0, bp_pin_cpu(cpu));
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, bp_write_file(FAIL_DIONYSOS "times", "3"));
			for (i = 0; i < 3; i++)
				EXPECT_EQ(-ENOMEM, bp_alloc(fd, sizes[k], &a))
					TH_LOG("cpu %d size %llu try %d", cpu,
					       (unsigned long long)sizes[k], i);
			/* The point stopped firing: the retry works. */
			EXPECT_EQ(0, bp_alloc(fd, sizes[k], &a))
				TH_LOG("cpu %d size %llu retry", cpu,
				       (unsigned long long)sizes[k]);
			EXPECT_EQ(0, bp_free(fd, a.handle));
		}
	}
	bp_write_file(FAIL_DIONYSOS "probability", "0");
	close(fd);
	EXPECT_TRUE(bp_counters_settle(5000));
}

TEST_HARNESS_MAIN
