// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug: Dionysos follows its CPU. With dionysos_cpu=1, taking CPU 1
 * offline moves Dionysos to the lowest-numbered other online CPU and
 * bringing it back returns it; the thread's affinity is one CPU at every
 * moment; and under a storm of offline/online cycles of Dionysos's CPU
 * and of the relay CPUs, with remote requests from every CPU over 1, 2
 * and 3 hops and requesters killed on the way, every request is answered
 * once, nothing is left held, and the module unloads. Suspend's and
 * hibernation's CPU path (/sys/power/pm_test "processors") takes the other
 * CPUs down and brings them back with Dionysos away from the boot CPU.
 *
 * BOOTPOOL_HOTPLUG_CYCLES sets the number of offline/online cycles of the
 * stress test (default 100).
 */
#include "bootpool_fault_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define HOME_CPU	1

/*
 * The single CPU the thread may run on, or -1 when it may run on more
 * (-2 when its affinity cannot be read, -3 when no active CPU is in it).
 * sched_getaffinity() reads the mask under the task's pi_lock, as every
 * change of it is made: /proc's Cpus_allowed_list reads it with no lock,
 * and a read racing with a move can name the old CPU and the new one
 * together. The kernel gives the mask ANDed with the active CPUs: a CPU
 * on its way online is not active yet.
 */
static int dionysos_affinity(pid_t pid)
{
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(pid, sizeof(set), &set))
		return -2;
	if (CPU_COUNT(&set) > 1)
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &set))
			return cpu;
	return -3;
}

static long serving_cpu(void)
{
	return bp_debugfs_get("dionysos", "cpu");
}

#define MAX_KIDS	64

/* The test's descriptor and children, for the teardown after a failure. */
FIXTURE(hotplug) {
	char path[256];
	int ncpus;
	bool ready;
	int fd;
	pid_t kids[MAX_KIDS];
};

FIXTURE_SETUP(hotplug)
{
	const char *why = bp_reload_unavailable(self->path, sizeof(self->path));
	char file[96];
	int cpu;

	self->ready = false;
	self->fd = -1;
	if (why)
		SKIP(return, "%s", why);
	self->ncpus = bp_online_cpus();
	if (self->ncpus < 3)
		SKIP(return, "needs 3 CPUs");
	for (cpu = 1; cpu < self->ncpus; cpu++) {
		snprintf(file, sizeof(file),
			 "/sys/devices/system/cpu/cpu%d/online", cpu);
		if (!bp_exists(file))
			SKIP(return, "no CPU hotplug for CPU %d", cpu);
	}
	ASSERT_EQ(0, bp_unload_wait(5000));
	ASSERT_EQ(0, bp_load(self->path, "dionysos_cpu=1"));
	ASSERT_EQ(HOME_CPU, serving_cpu());
	self->ready = true;
}

FIXTURE_TEARDOWN(hotplug)
{
	int cpu;

	if (!self->ready)
		return;
	for (cpu = 0; cpu < MAX_KIDS; cpu++) {
		if (self->kids[cpu] > 0) {
			kill(self->kids[cpu], SIGKILL);
			waitpid(self->kids[cpu], NULL, 0);
		}
	}
	if (self->fd >= 0)
		close(self->fd);
	if (bp_exists("/sys/power/pm_test"))
		bp_write_file("/sys/power/pm_test", "none");
	for (cpu = 1; cpu < self->ncpus; cpu++)
		bp_cpu_online_set(cpu, 1);
	bp_param_set("forward_hops", "1");
	EXPECT_EQ(0, bp_unload_wait(10000));
	EXPECT_EQ(0, bp_load_defaults(self->path));
}

/* An EARLY domain: every request goes to Dionysos. */
static int open_early(void)
{
	int fd = open(BOOTPOOL_DEV, O_RDWR | O_CLOEXEC);

	if (fd >= 0 && bp_set_policy(fd, BOOTPOOL_POLICY_EARLY)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Offline moves Dionysos to CPU 0 with its thread; requests from CPU 0
 * and from the others are served there, by the IPI handler and by the
 * thread; online brings it back to CPU 1.
 */
TEST_F_TIMEOUT(hotplug, dionysos_follows_its_cpu_and_returns, 120)
{
	pid_t pid = bp_thread_pid("dionysos");
	struct bootpool_alloc a;

	if (!self->ready)
		return;
	ASSERT_LT(0, pid);
	EXPECT_EQ(HOME_CPU, dionysos_affinity(pid));
	self->fd = open_early();
	ASSERT_LE(0, self->fd);

	ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 0));
	EXPECT_EQ(0, serving_cpu());
	EXPECT_EQ(0, dionysos_affinity(pid));
	EXPECT_EQ(HOME_CPU, bp_debugfs_get("dionysos", "home_cpu"));

	ASSERT_EQ(0, bp_pin_cpu(2));
	ASSERT_EQ(0, bp_alloc(self->fd, 4096, &a));
	EXPECT_EQ(2, (int)a.cpu);
	EXPECT_EQ(0, (int)a.served_cpu);
	EXPECT_EQ(1, (int)a.hops);
	/* 64 pages: served by the thread, which moved too. */
	ASSERT_EQ(0, bp_alloc(self->fd, 64 * 4096, &a));
	EXPECT_EQ(0, (int)a.served_cpu);
	ASSERT_EQ(0, bp_pin_cpu(0));
	ASSERT_EQ(0, bp_alloc(self->fd, 4096, &a));
	EXPECT_EQ(0, (int)a.served_cpu);
	EXPECT_EQ(0, (int)a.hops);

	ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 1));
	EXPECT_EQ(HOME_CPU, serving_cpu());
	EXPECT_EQ(HOME_CPU, dionysos_affinity(pid));
	EXPECT_EQ(2, bp_debugfs_get("dionysos", "moves"));
	ASSERT_EQ(0, bp_alloc(self->fd, 4096, &a));
	EXPECT_EQ(HOME_CPU, (int)a.served_cpu);
	EXPECT_EQ(1, (int)a.hops);
	ASSERT_EQ(0, bp_alloc(self->fd, 64 * 4096, &a));
	EXPECT_EQ(HOME_CPU, (int)a.served_cpu);
	close(self->fd);
	self->fd = -1;
	EXPECT_TRUE(bp_counters_settle(5000));
	/* The same thread all along. */
	EXPECT_EQ(pid, bp_thread_pid("dionysos"));
}

struct sampler {
	pid_t pid;
	atomic_int stop;
	long samples;
	long bad;
	int bad_value;
	long inactive;
};

static void *sample_affinity(void *p)
{
	struct sampler *s = p;
	int cpu;

	while (!atomic_load(&s->stop)) {
		cpu = dionysos_affinity(s->pid);
		s->samples++;
		if (cpu == -1 || cpu == -2) {
			s->bad++;
			s->bad_value = cpu;
		} else if (cpu == -3) {
			s->inactive++;
		}
	}
	return NULL;
}

/* Remote requests from @cpu until killed: they keep waking the thread. */
static pid_t spawn_requester(int cpu)
{
	struct bootpool_alloc a;
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	bp_pin_cpu(cpu);
	fd = open_early();
	if (fd < 0)
		_exit(1);
	for (;;) {
		if (!bp_alloc(fd, 64 * 4096, &a))
			bp_free(fd, a.handle);
		if (!bp_alloc(fd, 4096, &a))
			bp_free(fd, a.handle);
	}
}

/*
 * The thread's affinity, read all the time while its CPU goes and comes
 * back and requests keep waking it, names at most one active CPU in every
 * sample. A CPU that is not active (going offline or coming online) is
 * not shown by sched_getaffinity(): such samples name no CPU, and are
 * counted and logged, not failed.
 */
TEST_F_TIMEOUT(hotplug, affinity_is_never_more_than_one_cpu, 180)
{
	struct sampler s = { .pid = bp_thread_pid("dionysos") };
	pid_t *req = self->kids;
	pthread_t t;
	int i;

	if (!self->ready)
		return;
	ASSERT_LT(0, s.pid);
	req[0] = spawn_requester(2);
	req[1] = spawn_requester(HOME_CPU);
	ASSERT_EQ(0, pthread_create(&t, NULL, sample_affinity, &s));
	for (i = 0; i < 30; i++) {
		ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 0));
		usleep(2000);
		ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 1));
		usleep(2000);
	}
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	for (i = 0; i < 2; i++) {
		kill(req[i], SIGKILL);
		waitpid(req[i], NULL, 0);
		req[i] = 0;
	}
	TH_LOG("%ld samples, %ld with no active CPU", s.samples, s.inactive);
	EXPECT_LT(0, s.samples);
	EXPECT_EQ(0, s.bad) {
		TH_LOG("%ld samples named several CPUs (-1) or none readable (-2); last %d",
		       s.bad, s.bad_value);
	}
	EXPECT_EQ(HOME_CPU, dionysos_affinity(s.pid));
	EXPECT_TRUE(bp_counters_settle(10000));
}

static bool power_state_has(const char *state)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/power/state", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, state);
}

/*
 * Hibernation and suspend to RAM with pm_test "processors" run their path
 * up to taking every CPU but the boot CPU offline, wait, and bring them
 * back: Dionysos moves to CPU 0 and home again, and serves as before. A
 * process making requests from CPU 2 the whole time is still there after
 * each (its requests were answered or refrozen, none lost it). A kernel
 * that offers neither state skips the test.
 */
TEST_F_TIMEOUT(hotplug, suspend_cpu_path_with_pm_test, 180)
{
	static const char * const states[] = { "disk", "mem" };
	pid_t pid = bp_thread_pid("dionysos");
	struct bootpool_alloc a;
	int i, ret, ran = 0;
	long moves;

	if (!self->ready)
		return;
	if (!bp_exists("/sys/power/pm_test"))
		SKIP(return, "no /sys/power/pm_test (CONFIG_PM_DEBUG)");
	self->kids[0] = spawn_requester(2);
	self->fd = open_early();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, bp_write_file("/sys/power/pm_test", "processors"));
	for (i = 0; i < 2; i++) {
		if (!power_state_has(states[i]))
			continue;
		/* Suspend to idle never takes CPUs down: ask for deep. */
		if (!strcmp(states[i], "mem") &&
		    bp_write_file("/sys/power/mem_sleep", "deep"))
			continue;
		moves = bp_debugfs_get("dionysos", "moves");
		ret = bp_write_file("/sys/power/state", states[i]);
		ran++;
		EXPECT_EQ(0, ret) {
			TH_LOG("%s with pm_test processors", states[i]);
		}
		TH_LOG("%s: Dionysos moved %ld times", states[i],
		       bp_debugfs_get("dionysos", "moves") - moves);
		EXPECT_LE(moves + 2, bp_debugfs_get("dionysos", "moves"));
		EXPECT_EQ(HOME_CPU, serving_cpu());
		EXPECT_EQ(HOME_CPU, dionysos_affinity(pid));
		ASSERT_EQ(0, bp_pin_cpu(2));
		ASSERT_EQ(0, bp_alloc(self->fd, 4096, &a));
		EXPECT_EQ(HOME_CPU, (int)a.served_cpu);
		EXPECT_EQ(0, waitpid(self->kids[0], NULL, WNOHANG));
	}
	bp_write_file("/sys/power/pm_test", "none");
	if (!ran)
		SKIP(return, "neither disk nor deep mem in /sys/power");
}

#define NR_SIZES	4

/* Shared by the stress workers and the test (MAP_SHARED). */
struct stress {
	atomic_int stop;
	atomic_long ops;
	atomic_long enomem;
	atomic_long bad;
	atomic_int bad_errno;
	atomic_int bad_served;
};

static const __u64 stress_sizes[NR_SIZES] = {
	4096, 2 * 4096, 16 * 4096, 64 * 4096,
};

/*
 * One requester on @cpu until told to stop: remote requests of sizes
 * served in the IPI handler and by the thread, freed at once, the domain
 * torn down and set up again now and then. Every answer must be a block
 * served by an online CPU, or ENOMEM.
 */
static void stress_worker(struct stress *st, int cpu, int ncpus)
{
	struct bootpool_alloc a;
	unsigned int n = 0;
	int fd = -1, ret;

	while (!atomic_load(&st->stop)) {
		if (fd < 0) {
			bp_pin_cpu(cpu);
			fd = open_early();
			if (fd < 0) {
				atomic_fetch_add(&st->bad, 1);
				atomic_store(&st->bad_errno, errno);
				_exit(1);
			}
		}
		ret = bp_alloc(fd, stress_sizes[n % NR_SIZES], &a);
		if (!ret) {
			if ((int)a.served_cpu >= ncpus) {
				atomic_fetch_add(&st->bad, 1);
				atomic_store(&st->bad_served, a.served_cpu);
			}
			bp_free(fd, a.handle);
		} else if (ret == -ENOMEM) {
			atomic_fetch_add(&st->enomem, 1);
		} else {
			atomic_fetch_add(&st->bad, 1);
			atomic_store(&st->bad_errno, -ret);
		}
		atomic_fetch_add(&st->ops, 1);
		if (++n % 64 == 0) {
			close(fd);
			fd = -1;
		}
	}
	_exit(0);
}

static pid_t spawn_worker(struct stress *st, int cpu, int ncpus)
{
	pid_t pid = fork();

	if (!pid)
		stress_worker(st, cpu, ncpus);
	return pid;
}

/* Wait up to @ms for @pid to exit; true when it did. */
static bool reap_within(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * Dionysos's CPU and the relay CPUs go offline and come back again and
 * again (one at a time, and two at once), with forward_hops 1, 2 and 3 in
 * turn, while two requesters per CPU make remote requests and one of them
 * is killed and replaced every cycle. No request fails but with ENOMEM,
 * none hangs (the requesters stop by themselves), nothing stays held,
 * Dionysos is back on its CPU, and the module unloads.
 */
TEST_F_TIMEOUT(hotplug, stress_cycles_with_hops_and_kills, 600)
{
	const char *env = getenv("BOOTPOOL_HOTPLUG_CYCLES");
	int cycles = env ? atoi(env) : 100;
	int n, nworkers, cycle, i, relay, hung = 0;
	pid_t dpid = bp_thread_pid("dionysos");
	pid_t *pids = self->kids;
	struct stress *st;
	char hops[4];

	if (!self->ready)
		return;
	n = self->ncpus;
	nworkers = 2 * n;
	ASSERT_GE(MAX_KIDS, nworkers);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(st, 0, sizeof(*st));
	for (i = 0; i < nworkers; i++)
		pids[i] = spawn_worker(st, i % n, n);

	for (cycle = 0; cycle < cycles; cycle++) {
		snprintf(hops, sizeof(hops), "%d", 1 + cycle % 3);
		ASSERT_EQ(0, bp_param_set("forward_hops", hops));
		relay = 2 + cycle % (n - 2);
		switch (cycle % 4) {
		case 0:
		case 2:
			ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 0));
			usleep(rand() % 5000);
			ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 1));
			break;
		case 1:
			ASSERT_EQ(0, bp_cpu_online_set(relay, 0));
			usleep(rand() % 5000);
			ASSERT_EQ(0, bp_cpu_online_set(relay, 1));
			break;
		case 3:
			ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 0));
			ASSERT_EQ(0, bp_cpu_online_set(relay, 0));
			usleep(rand() % 5000);
			ASSERT_EQ(0, bp_cpu_online_set(HOME_CPU, 1));
			ASSERT_EQ(0, bp_cpu_online_set(relay, 1));
			break;
		}
		i = cycle % nworkers;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
		pids[i] = spawn_worker(st, i % n, n);
	}

	atomic_store(&st->stop, 1);
	for (i = 0; i < nworkers; i++) {
		if (!reap_within(pids[i], 20000)) {
			hung++;
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
		pids[i] = 0;
	}
	TH_LOG("%d cycles, %ld requests (%ld ENOMEM), %ld Dionysos moves",
	       cycles, atomic_load(&st->ops), atomic_load(&st->enomem),
	       bp_debugfs_get("dionysos", "moves"));
	EXPECT_EQ(0, hung);
	EXPECT_EQ(0, atomic_load(&st->bad)) {
		TH_LOG("errno %d, served_cpu %d", atomic_load(&st->bad_errno),
		       atomic_load(&st->bad_served));
	}
	EXPECT_LT(cycles, atomic_load(&st->ops));
	EXPECT_TRUE(bp_counters_settle(10000));
	EXPECT_EQ(0, bp_debugfs_get("dionysos", "queue_depth"));
	EXPECT_EQ(0, bp_debugfs_get("dionysos", "granted_pages"));
	EXPECT_EQ(HOME_CPU, serving_cpu());
	EXPECT_EQ(HOME_CPU, dionysos_affinity(dpid));
	EXPECT_LE(cycles * 3 / 4 * 2, bp_debugfs_get("dionysos", "moves"));
	/* The module unloads: no request is left in flight. */
	EXPECT_EQ(0, bp_unload_wait(10000));
	EXPECT_EQ(0, bp_load(self->path, "dionysos_cpu=1"));
	munmap(st, sizeof(*st));
}

TEST_HARNESS_MAIN
