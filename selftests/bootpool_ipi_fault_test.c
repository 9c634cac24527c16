// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures on the way to Dionysos, injected with fail_function
 * (Documentation/fault-injection/fault-injection.rst). fail-nth fails the
 * calling task's allocations only, and Dionysos allocates in an IPI
 * handler on its own CPU and in its thread: fail_function fails a
 * function wherever it runs. bootpool marks two of its functions with
 * ALLOW_ERROR_INJECTION:
 *
 * - bootpool_block_alloc(), the page allocation of a block: NULL, in the
 *   IPI handler (orders 0 to 3, which then go to the thread) and in the
 *   thread (orders 4 and up, and those the handler passed on);
 * - bootpool_dionysos_grant_atomic(), the grant without sleeping (from the reserve
 *   or a new block) in the IPI handler or on Dionysos's CPU: -ENOMEM, or
 *   -EAGAIN to pass the request on to the thread.
 *
 * For each point and each setting (interval 1 to 3, a probability, the
 * thread alone with task-filter), one process per CPU makes remote
 * requests of orders 0 to 5 with forward_hops 1 to 3. Every request must
 * return a block or ENOMEM, the faults must fire, and once the blocks are
 * freed Dionysos's granted pages and queue depth must be back where they
 * were. Where a setting leaves calls that do not fail, or passes requests
 * on to the thread, requests must still get blocks; where every grant
 * without sleeping answers -EAGAIN, the thread must serve them all (no
 * requester on Dionysos's CPU there: see round_once()). A last case
 * fails one allocation of a grant on the spot that stole share, and
 * checks that the domain's STATS count the steal. The debug stage of
 * scripts/check scans kmemleak after the suite. Skipped on kernels
 * without fail_function (the stock ones).
 */
#include "bootpool_fault_util.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define FAIL_FUNCTION	"/sys/kernel/debug/fail_function/"
/* Read back after a round: how many faults fired. */
#define TIMES		1000000
/* Remote requests per process and round, and the blocks it keeps. */
#define REQUESTS	24
#define KEEP		6
/* -ENOMEM and -EAGAIN for a retval file, which takes an unsigned number. */
#define ENOMEM_RETVAL	"0xfffffffffffffff4"
#define EAGAIN_RETVAL	"0xfffffffffffffff5"
/* A request that takes longer than this has lost its answer. */
#define ANSWER_SECONDS	60

struct setting {
	const char *name;
	/* NULL: the point's default; else -errno as a u64 (printf %#lx) */
	const char *retval;
	int interval;
	int probability;
	bool thread_only;	/* task-filter, and only the thread may fail */
	bool serves;		/* some requests must still get a block */
	bool thread_serves_all;	/* no grant may be made without the thread */
};

/*
 * Child: REQUESTS remote requests from @cpu, keeping up to KEEP blocks at
 * a time; counts the blocks it got in @served. Exits with the number of
 * requests that returned neither a block nor ENOMEM, and of frees that
 * failed (SIGALRM if a request never returns).
 */
static void requester(int cpu, long *served)
{
	__u64 held[KEEP] = { 0 };
	struct bootpool_alloc a;
	int fd, i, ret, bad = 0;

	alarm(ANSWER_SECONDS);
	if (bp_pin_cpu(cpu))
		_exit(100);
	fd = bp_open_domain(BOOTPOOL_POLICY_EARLY);
	if (fd < 0)
		_exit(101);
	for (i = 0; i < REQUESTS; i++) {
		ret = bp_alloc(fd, 4096ULL << (i % 6), &a);
		if (ret && ret != -ENOMEM)
			bad++;
		if (!ret)
			(*served)++;
		if (held[i % KEEP] && bp_free(fd, held[i % KEEP]))
			bad++;
		held[i % KEEP] = ret ? 0 : a.handle;
	}
	for (i = 0; i < KEEP; i++)
		if (held[i] && bp_free(fd, held[i]))
			bad++;
	close(fd);
	_exit(bad);
}

/* Wait up to @ms for Dionysos to hold @granted pages with an empty queue. */
static bool dionysos_settles(long granted, int ms)
{
	for (;;) {
		if (bp_debugfs_get("dionysos", "granted_pages") == granted &&
		    bp_debugfs_get("dionysos", "queue_depth") == 0)
			return true;
		if (ms <= 0)
			return false;
		usleep(20000);
		ms -= 20;
	}
}

static int set_make_it_fail(pid_t pid, int on)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/make-it-fail", pid);
	return bp_write_file(path, on ? "1" : "0");
}

static void fail_function_off(void)
{
	pid_t thread = bp_thread_pid("dionysos");

	bp_write_file(FAIL_FUNCTION "probability", "0");
	bp_write_file(FAIL_FUNCTION "task-filter", "N");
	bp_write_file(FAIL_FUNCTION "inject", "\n");
	if (thread)
		set_make_it_fail(thread, 0);
}

FIXTURE(ipifault) {
	bool ready;
	bool reloaded;		/* with other parameters, by the test */
	char path[256];
	long hops;
	long granted;
};

/* kselftest_harness.h of 6.1 runs the test after a SKIP in the setup. */
FIXTURE_SETUP(ipifault)
{
	if (bp_cannot_test())
		SKIP(return, "%s", bp_cannot_test());
	if (!bp_exists(FAIL_FUNCTION))
		SKIP(return, "no %s: kernel without CONFIG_FAIL_FUNCTION",
		     FAIL_FUNCTION);
	ASSERT_TRUE(bp_counters_settle(5000));
	self->hops = bp_param_get("forward_hops");
	ASSERT_LT(0, self->hops);
	self->granted = bp_debugfs_get("dionysos", "granted_pages");
	ASSERT_LE(0, self->granted);
	ASSERT_EQ(0, bp_write_file(FAIL_FUNCTION "verbose", "0"));
	self->ready = true;
}

FIXTURE_TEARDOWN(ipifault)
{
	if (!self->ready)
		return;
	fail_function_off();
	bp_param_set_long("forward_hops", self->hops);
	if (self->reloaded && !bp_unload_wait(5000))
		bp_load_defaults(self->path);
}

/* Arm @func with @s; 0 or -errno. */
static int arm(const char *func, const struct setting *s)
{
	char path[256];
	int ret;

	ret = bp_write_file(FAIL_FUNCTION "inject", func);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), FAIL_FUNCTION "%s/retval", func);
	ret = s->retval ? bp_write_file(path, s->retval) : 0;
	if (ret)
		return ret;
	if (s->thread_only) {
		pid_t thread = bp_thread_pid("dionysos");

		if (!thread)
			return -ESRCH;
		ret = set_make_it_fail(thread, 1);
		if (ret)
			return ret;
	}
	ret = bp_write_file(FAIL_FUNCTION "task-filter", s->thread_only ? "Y" : "N");
	if (!ret)
		ret = bp_write_long(FAIL_FUNCTION "interval", s->interval);
	if (!ret)
		ret = bp_write_long(FAIL_FUNCTION "times", TIMES);
	if (!ret)
		ret = bp_write_long(FAIL_FUNCTION "probability", s->probability);
	return ret;
}

/*
 * One round: with @func armed, a requester per CPU; @served is set to the
 * blocks they got, @atomic to the grants made without the thread.
 * Return: the faults injected, or -1 after a failure (already reported).
 */
static long round_once(struct __test_metadata *_metadata, const char *func,
		       const struct setting *s, long granted, long *served,
		       long *atomic)
{
	int cpus = bp_online_cpus(), cpu, status, ret, bad = 0;
	long left, atomic0, skip = -1, *counts;
	pid_t pids[64];

	if (cpus > (int)ARRAY_SIZE(pids))
		cpus = ARRAY_SIZE(pids);
	counts = mmap(NULL, sizeof(*counts) * ARRAY_SIZE(pids),
		      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		TH_LOG("%s %s: no shared memory", func, s->name);
		return -1;
	}
	/*
	 * On x86_64 fail_function's kprobe is a kprobe on ftrace, whose
	 * handler runs with interrupts on: a grant on the spot on Dionysos's
	 * CPU can take the IPI of another request inside it, and the IPI
	 * handler's call then finds the kprobe busy and goes through
	 * unfaulted (a missed kprobe). Where no grant may be made without the thread, no
	 * requester runs on Dionysos's CPU: every call is the IPI handler's,
	 * which nothing interrupts.
	 */
	if (s->thread_serves_all) {
		skip = bp_debugfs_get("dionysos", "cpu");
		if (skip < 0) {
			TH_LOG("%s %s: no Dionysos CPU in debugfs", func, s->name);
			munmap(counts, sizeof(*counts) * ARRAY_SIZE(pids));
			return -1;
		}
	}
	atomic0 = bp_debugfs_get("dionysos", "served_atomic");
	ret = arm(func, s);
	if (ret) {
		TH_LOG("%s %s: fail_function refused it: %s", func, s->name,
		       strerror(-ret));
		munmap(counts, sizeof(*counts) * ARRAY_SIZE(pids));
		return -1;
	}
	for (cpu = 0; cpu < cpus; cpu++) {
		if (cpu == skip)
			continue;
		pids[cpu] = fork();
		if (!pids[cpu])
			requester(cpu, &counts[cpu]);
	}
	for (cpu = 0; cpu < cpus; cpu++) {
		if (cpu == skip)
			continue;
		if (pids[cpu] < 0 || waitpid(pids[cpu], &status, 0) != pids[cpu]) {
			bad++;
			continue;
		}
		if (WIFEXITED(status) && !WEXITSTATUS(status))
			continue;
		bad++;
		TH_LOG("%s %s: requester on CPU %d: %s %d", func, s->name, cpu,
		       WIFEXITED(status) ? "bad returns or setup, status" :
		       "killed by signal", WIFEXITED(status) ?
		       WEXITSTATUS(status) : WTERMSIG(status));
	}
	left = bp_read_long(FAIL_FUNCTION "times");
	fail_function_off();
	*atomic = bp_debugfs_get("dionysos", "served_atomic") - atomic0;
	for (*served = 0, cpu = 0; cpu < cpus; cpu++)
		*served += counts[cpu];
	munmap(counts, sizeof(*counts) * ARRAY_SIZE(pids));
	if (left < 0) {
		TH_LOG("%s %s: cannot read %stimes", func, s->name, FAIL_FUNCTION);
		bad++;
	}
	if (!dionysos_settles(granted, 5000)) {
		TH_LOG("%s %s: Dionysos holds %ld pages (before: %ld), queue depth %ld",
		       func, s->name, bp_debugfs_get("dionysos", "granted_pages"),
		       granted, bp_debugfs_get("dionysos", "queue_depth"));
		bad++;
	}
	if (!bp_counters_settle(5000)) {
		TH_LOG("%s %s: blocks still held", func, s->name);
		bad++;
	}
	return bad ? -1 : TIMES - left;
}

static void sweep(struct __test_metadata *_metadata, long granted,
		  const char *func, const struct setting *settings, int n)
{
	long injected, hops, served, atomic;
	int i;

	for (i = 0; i < n; i++) {
		for (hops = 1; hops <= 3; hops++) {
			ASSERT_EQ(0, bp_param_set_long("forward_hops", hops));
			injected = round_once(_metadata, func, &settings[i],
					      granted, &served, &atomic);
			ASSERT_LE(0, injected)
				TH_LOG("%s %s, forward_hops %ld", func,
				       settings[i].name, hops);
			/* The point is reached: the setting made faults. */
			EXPECT_LT(0, injected)
				TH_LOG("%s %s, forward_hops %ld: no fault fired",
				       func, settings[i].name, hops);
			TH_LOG("%s %s, hops %ld: %ld faults, %ld served, %ld not by the thread",
			       func, settings[i].name, hops, injected, served,
			       atomic);
			if (settings[i].serves)
				EXPECT_LT(0, served);
			if (settings[i].thread_serves_all)
				EXPECT_EQ(0, atomic);
		}
	}
}

TEST_F_TIMEOUT(ipifault, block_alloc_failures_are_answered_and_leak_nothing,
	       1200)
{
	static const struct setting settings[] = {
		{ "every call", NULL, 1, 100, false, false, false },
		{ "every 2nd call", NULL, 2, 100, false, true, false },
		{ "every 3rd call", NULL, 3, 100, false, true, false },
		{ "half the calls", NULL, 1, 50, false, true, false },
		{ "every call in the thread", NULL, 1, 100, true, true, false },
	};

	if (!self->ready)
		return;
	sweep(_metadata, self->granted, "bootpool_block_alloc", settings,
	      ARRAY_SIZE(settings));
}

TEST_F_TIMEOUT(ipifault, grant_atomic_failures_are_answered_and_leak_nothing,
	       1200)
{
	static const struct setting settings[] = {
		{ "ENOMEM every call", ENOMEM_RETVAL, 1, 100, false, false, false },
		{ "ENOMEM every 2nd call", ENOMEM_RETVAL, 2, 100, false, true, false },
		{ "EAGAIN every call", EAGAIN_RETVAL, 1, 100, false, true, true },
		{ "EAGAIN every 3rd call", EAGAIN_RETVAL, 3, 100, false, true, false },
	};

	if (!self->ready)
		return;
	sweep(_metadata, self->granted, "bootpool_dionysos_grant_atomic", settings,
	      ARRAY_SIZE(settings));
}

/*
 * On Dionysos's CPU a grant is made on the spot; one that steals share
 * from a peer and then finds no page without sleeping passes the request
 * on, which is then granted from the share stolen, stealing nothing
 * more. The domain's STATS must count the steal all the same, as the
 * instance's counters do. Two instances on CPUs 0 and 1 of one node share
 * 1 MiB, and requests made on CPU 0 go to instance 0; once its half is
 * granted, the next page steals one page of share on the spot, where
 * fail_function fails its allocation once.
 */
TEST_F_TIMEOUT(ipifault, a_steal_on_the_spot_counts_when_the_request_goes_on,
	       120)
{
	long page = sysconf(_SC_PAGESIZE), share0, i;
	struct bootpool_stats st;
	struct bootpool_alloc a;
	const char *why;
	int fd;

	if (!self->ready)
		return;
	why = bp_reload_unavailable(self->path, sizeof(self->path));
	if (why)
		SKIP(return, "%s", why);
	if (bp_online_cpus() < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, bp_unload_wait(5000));
	self->reloaded = true;
	ASSERT_EQ(0, bp_load(self->path, "dionysos_cpus=0,1 dionysos_mb=1"));
	/* Instance 0 has half the pages of 1 MiB, and the odd one. */
	share0 = ((1L << 20) / page + 1) / 2;
	ASSERT_EQ(0, bp_pin_cpu(0));
	fd = bp_open_domain(BOOTPOOL_POLICY_EARLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < share0; i++) {
		ASSERT_EQ(0, bp_alloc(fd, page, &a)) TH_LOG("page %ld", i);
		ASSERT_EQ(0, a.instance);
	}
	ASSERT_EQ(0, bp_stats(fd, &st));
	ASSERT_EQ(0, st.steals);

	ASSERT_EQ(0, bp_write_file(FAIL_FUNCTION "inject", "bootpool_block_alloc"));
	ASSERT_EQ(0, bp_write_file(FAIL_FUNCTION "task-filter", "N"));
	ASSERT_EQ(0, bp_write_long(FAIL_FUNCTION "interval", 1));
	ASSERT_EQ(0, bp_write_long(FAIL_FUNCTION "times", 1));
	ASSERT_EQ(0, bp_write_long(FAIL_FUNCTION "probability", 100));
	EXPECT_EQ(0, bp_alloc(fd, page, &a));
	/* The fault fired: the grant on the spot gave the request up. */
	EXPECT_EQ(0, bp_read_long(FAIL_FUNCTION "times"));
	fail_function_off();
	EXPECT_EQ(0, a.instance);
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a.source);

	ASSERT_EQ(0, bp_stats(fd, &st));
	EXPECT_EQ(1, st.steals);
	EXPECT_EQ(1, st.stolen_pages);
	EXPECT_EQ(0, st.cross_node);
	close(fd);
	EXPECT_TRUE(bp_counters_settle(5000));
}

TEST_HARNESS_MAIN
