// SPDX-License-Identifier: GPL-2.0
/*
 * Races: threads freeing, mapping and unmapping the same handles at once;
 * processes killed while their remote request is in flight; load, allocate
 * from every CPU, kill, unload cycles. CPU hotplug has its own file,
 * bootpool_hotplug_test.c.
 *
 * BOOTPOOL_RACE_CYCLES sets the number of load/kill/unload cycles; by
 * default 200 on a kernel with kmemleak (the debug kernel), else 20, as
 * the stock guests run them much more slowly than the tier needs.
 */
#include "bootpool_cgroup_util.h"
#include "bootpool_fault_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define NR_SHARED	32

struct shared_handles {
	int fd;
	atomic_ullong h[NR_SHARED];
	atomic_ullong size[NR_SHARED];
	atomic_ullong off[NR_SHARED];
	atomic_int stop;
	atomic_long bad;
	atomic_long ops;
};

static unsigned int seed_of(void)
{
	return (unsigned int)syscall(SYS_gettid) * 2654435761U;
}

static void *churn_thread(void *p)
{
	struct shared_handles *s = p;
	unsigned int seed = seed_of();

	while (!atomic_load(&s->stop)) {
		int i = rand_r(&seed) % NR_SHARED;
		__u64 h = atomic_load(&s->h[i]);
		__u64 size = atomic_load(&s->size[i]);
		off_t off = (off_t)atomic_load(&s->off[i]);
		struct bootpool_alloc a;
		void *m;
		int ret;

		switch (rand_r(&seed) % 4) {
		case 0:	/* free; a loser of the race sees EINVAL */
			ret = bp_free(s->fd, h);
			if (ret && ret != -EINVAL && ret != -ENOMEM)
				atomic_fetch_add(&s->bad, 1);
			break;
		case 1:	/* map, write, unmap; the block may be gone */
			m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
				 s->fd, off);
			if (m == MAP_FAILED) {
				if (errno != EINVAL)
					atomic_fetch_add(&s->bad, 1);
				break;
			}
			memset(m, 0xa5, size);
			munmap(m, size);
			break;
		case 2:	/* map and keep it while others free */
			m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s->fd, off);
			if (m != MAP_FAILED) {
				__atomic_load_n((char *)m, __ATOMIC_RELAXED);
				sched_yield();
				munmap(m, 4096);
			} else if (errno != EINVAL) {
				atomic_fetch_add(&s->bad, 1);
			}
			break;
		default: /* refill the slot */
			size = rand_r(&seed) % 3 ? 4096 : 4096 << (rand_r(&seed) % 4);
			ret = bp_alloc(s->fd, size, &a);
			if (!ret) {
				__u64 old = atomic_exchange(&s->h[i], a.handle);

				atomic_store(&s->size[i], a.granted);
				atomic_store(&s->off[i], a.mmap_offset);
				/* The displaced handle must still be freeable once. */
				ret = bp_free(s->fd, old);
				if (ret && ret != -EINVAL && ret != -ENOMEM)
					atomic_fetch_add(&s->bad, 1);
			} else if (ret != -ENOMEM) {
				atomic_fetch_add(&s->bad, 1);
			}
			break;
		}
		atomic_fetch_add(&s->ops, 1);
	}
	return NULL;
}

static void free_map_unmap(struct __test_metadata *_metadata, __u32 policy)
{
	struct shared_handles s = { .fd = open(BOOTPOOL_DEV, O_RDWR) };
	pthread_t th[6];
	int i;

	ASSERT_LE(0, s.fd);
	ASSERT_EQ(0, bp_set_policy(s.fd, policy));
	for (i = 0; i < NR_SHARED; i++) {
		struct bootpool_alloc a;

		ASSERT_EQ(0, bp_alloc(s.fd, i % 5 ? 4096 : 8192, &a));
		atomic_store(&s.h[i], a.handle);
		atomic_store(&s.size[i], a.granted);
		atomic_store(&s.off[i], a.mmap_offset);
	}
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, churn_thread, &s));
	sleep(3);
	atomic_store(&s.stop, 1);
	for (i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	TH_LOG("%ld operations", atomic_load(&s.ops));
	EXPECT_EQ(0, atomic_load(&s.bad));
	close(s.fd);
	EXPECT_TRUE(bp_counters_settle(5000));
}

FIXTURE(race) {
	char path[256];
	bool ready;
};

/* kselftest_harness.h of 6.1 runs the test after a SKIP in the setup. */
FIXTURE_SETUP(race)
{
	if (bp_cannot_test())
		SKIP(return, "%s", bp_cannot_test());
	bp_module_path(self->path, sizeof(self->path));
	ASSERT_TRUE(bp_counters_settle(5000));
	self->ready = true;
}

FIXTURE_TEARDOWN(race)
{
	/* Leave the module loaded with its defaults for whatever runs next. */
	if (!bp_exists("/sys/module/bootpool"))
		bp_load_defaults(self->path);
}

TEST_F_TIMEOUT(race, free_map_unmap_same_handles_late, 120)
{
	if (!self->ready)
		return;
	free_map_unmap(_metadata, BOOTPOOL_POLICY_LATE);
}

TEST_F_TIMEOUT(race, free_map_unmap_same_handles_hybrid, 120)
{
	if (!self->ready)
		return;
	free_map_unmap(_metadata, BOOTPOOL_POLICY_HYBRID);
}

struct open_close {
	int cpu;
	int rounds;
	atomic_long *bad;
};

/* Open, allocate, free and close, over and over, on one CPU. */
static void *open_close_thread(void *p)
{
	struct open_close *oc = p;
	struct bootpool_alloc a;
	int i, fd;

	bp_pin_cpu(oc->cpu);
	for (i = 0; i < oc->rounds; i++) {
		fd = open(BOOTPOOL_DEV, O_RDWR);
		if (fd < 0) {
			atomic_fetch_add(oc->bad, 1);
			continue;
		}
		if (bp_alloc(fd, 4096, &a) || bp_free(fd, a.handle))
			atomic_fetch_add(oc->bad, 1);
		close(fd);
	}
	return NULL;
}

/*
 * Threads of one process opening and closing the device at once: a
 * descriptor opened while the process's last one is being closed gets a
 * working domain, and every domain is torn down with its last descriptor.
 */
TEST_F_TIMEOUT(race, open_close_in_threads_of_one_process, 300)
{
	enum { THREADS = 4, ROUNDS = 1000 };
	struct open_close oc[THREADS];
	pthread_t t[THREADS];
	int i, ncpus = bp_online_cpus();
	atomic_long bad = 0;

	if (!self->ready)
		return;
	for (i = 0; i < THREADS; i++) {
		oc[i].cpu = i % ncpus;
		oc[i].rounds = ROUNDS;
		oc[i].bad = &bad;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, open_close_thread,
					    &oc[i]));
	}
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, atomic_load(&bad));
	EXPECT_TRUE(bp_counters_settle(5000));
	EXPECT_EQ(0, bp_counter("pool_pages_reserved"));
}

/* A child that allocates remote blocks until it is killed. */
static void remote_requester(int cpu, __u64 size)
{
	int fd = open(BOOTPOOL_DEV, O_RDWR);
	struct bootpool_alloc a;

	if (fd < 0)
		_exit(1);
	bp_pin_cpu(cpu);
	bp_set_policy(fd, BOOTPOOL_POLICY_EARLY);
	for (;;) {
		if (bp_alloc(fd, size, &a) == 0)
			bp_free(fd, a.handle);
	}
}

TEST_F_TIMEOUT(race, exit_while_remote_request_in_flight, 600)
{
	int cpus = bp_online_cpus(), round, i;
	long abandoned = bp_counter("abandoned_replies");

	if (!self->ready)
		return;
	for (round = 0; round < 40; round++) {
		pid_t pids[4];

		for (i = 0; i < 4; i++) {
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (!pids[i])
				/* Orders 0 (IPI handler) to 6 (the thread). */
				remote_requester((i + 1) % cpus,
						 4096ULL << ((round + i) % 7));
		}
		usleep(1000 * (1 + round % 20));
		for (i = 0; i < 4; i++)
			kill(pids[i], SIGKILL);
		for (i = 0; i < 4; i++)
			waitpid(pids[i], NULL, 0);
	}
	EXPECT_TRUE(bp_counters_settle(10000));
	TH_LOG("abandoned replies: %ld", bp_counter("abandoned_replies") - abandoned);
}

#define RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"
/* 6.12 on: the deadline server that runs fair tasks under an RT load. */
#define FAIR_SERVER	"/sys/kernel/debug/sched/fair_server/cpu%d/runtime"
/* The hog gives Dionysos's CPU back after this long, whatever happens. */
#define HOG_MAX_NS	(5000 * 1000000LL)

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/*
 * Child: a SCHED_FIFO busy loop on @cpu until *@stop, or HOG_MAX_NS. It
 * writes one byte to @ready_fd once it runs there as a real-time task.
 * Exits 0 when stopped, 2 when it gave the CPU back on its own.
 */
static void hog_cpu(int cpu, atomic_int *stop, int ready_fd)
{
	struct sched_param sp = { .sched_priority = 1 };
	long long until;

	if (bp_pin_cpu(cpu) || sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(1);
	until = now_ns() + HOG_MAX_NS;
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	while (!atomic_load(stop))
		if (now_ns() > until)
			_exit(2);
	_exit(0);
}

/* Child: one remote request of @size from @cpu; exits 3 if it returns. */
static void request_once(int cpu, __u64 size)
{
	struct bootpool_alloc a;
	int fd;

	if (bp_pin_cpu(cpu))
		_exit(1);
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		_exit(1);
	bp_alloc(fd, size, &a);
	_exit(3);
}

/* The state letter of /proc/@pid/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Where @pid sleeps (/proc/@pid/wchan) in @buf, "" if it cannot be read. */
static void proc_wchan(pid_t pid, char *buf, int len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	buf[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	fclose(f);
}

/*
 * Wait up to @ms milliseconds for @pid to sleep inside bootpool (@in) or,
 * dead or alive, anywhere else (!@in); @wchan says where it was last seen.
 */
static bool wait_sleep(pid_t pid, bool in, int ms, char *wchan, int len)
{
	long long until = now_ns() + ms * 1000000LL;
	char state;

	for (;;) {
		state = proc_state(pid);
		proc_wchan(pid, wchan, len);
		if (in ? state == 'D' && !strncmp(wchan, "bootpool", 8) :
			 state == 'Z' || !state ||
			 ((state == 'D' || state == 'S') && wchan[0] &&
			  strcmp(wchan, "0") && strncmp(wchan, "bootpool", 8)))
			return true;
		if (now_ns() > until)
			return false;
		usleep(1000);
	}
}

/* The first word of the file at @path, in @buf; false if it cannot. */
static bool read_word(const char *path, char *buf, int len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f);
	fclose(f);
	if (!ok)
		return false;
	buf[strcspn(buf, "\n\t ")] = 0;
	return buf[0];
}

/* RT throttling and the fair server as they were before rt_hold_allow(). */
struct rt_saved {
	char rt[32];
	char fair[96];
	char fair_old[32];
};

/*
 * Let a SCHED_FIFO busy loop keep @cpu to itself: RT throttling off, and
 * from 6.12 on the fair deadline server of @cpu too. false when it cannot.
 */
static bool rt_hold_allow(int cpu, struct rt_saved *saved)
{
	saved->fair_old[0] = 0;
	if (!read_word(RT_RUNTIME, saved->rt, sizeof(saved->rt)) ||
	    bp_write_file(RT_RUNTIME, "-1"))
		return false;
	snprintf(saved->fair, sizeof(saved->fair), FAIR_SERVER, cpu);
	if (read_word(saved->fair, saved->fair_old, sizeof(saved->fair_old)))
		bp_write_file(saved->fair, "0");
	return true;
}

/* Put back what rt_hold_allow() changed; 0 or -errno. */
static int rt_hold_restore(const struct rt_saved *saved)
{
	if (saved->fair_old[0])
		bp_write_file(saved->fair, saved->fair_old);
	return bp_write_file(RT_RUNTIME, saved->rt);
}

/* A hog_cpu() child and how to stop it. */
struct hog {
	atomic_int *stop;
	pid_t pid;
	int status;
};

/* Start a hog on @cpu and wait until it runs there; false if it does not. */
static bool hog_start(struct hog *h, int cpu)
{
	int pipefd[2];
	bool ok;
	char c;

	h->pid = -1;
	h->status = -1;
	h->stop = mmap(NULL, sizeof(*h->stop), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h->stop == MAP_FAILED) {
		h->stop = NULL;
		return false;
	}
	atomic_store(h->stop, 0);
	if (pipe(pipefd))
		return false;
	h->pid = fork();
	if (!h->pid)
		hog_cpu(cpu, h->stop, pipefd[1]);
	close(pipefd[1]);
	ok = h->pid > 0 && read(pipefd[0], &c, 1) == 1;
	close(pipefd[0]);
	return ok;
}

/* Stop the hog, if it was started, and keep its exit status. */
static void hog_stop(struct hog *h)
{
	if (!h->stop)
		return;
	atomic_store(h->stop, 1);
	if (h->pid > 0)
		waitpid(h->pid, &h->status, 0);
	munmap(h->stop, sizeof(*h->stop));
	h->stop = NULL;
}

/* What happened while the thread was held off, checked after the hog. */
struct held_off {
	int hog_status;
	bool queued;		/* the request waited in the thread's queue */
	bool left;		/* the requester left the wait before the thread ran */
	char wchan[64];		/* where the requester slept then */
	long served_before;	/* requests the thread served meanwhile */
	long abandoned_before;	/* abandoned replies taken back meanwhile */
	int req_status;
	long long wait_ns;	/* from the fork to the requester's wait */
	long long left_ns;	/* from the kill to its leaving the wait */
};

/*
 * Keep the dionysos thread off its CPU with a real-time busy loop, make
 * a request from @rcpu that only the thread can serve, kill the
 * requester once it sleeps waiting for it, and let the thread run.
 */
static void kill_while_held_off(int dcpu, int rcpu, struct held_off *h)
{
	long served = bp_debugfs_get("dionysos", "served_by_thread");
	long abandoned = bp_counter("abandoned_replies");
	struct hog hog;
	pid_t req = -1;
	long long t;

	h->req_status = -1;
	if (!hog_start(&hog, dcpu))
		goto out_hog;

	req = fork();
	if (!req)
		/* Order 4: beyond what the IPI handler serves. */
		request_once(rcpu, 16 * 4096);
	if (req < 0)
		goto out_hog;
	/* Asleep in the killable wait, its request queued. */
	t = now_ns();
	h->queued = wait_sleep(req, true, 400, h->wchan, sizeof(h->wchan)) &&
		    bp_debugfs_get("dionysos", "queue_depth") == 1;
	h->wait_ns = now_ns() - t;
	t = now_ns();
	kill(req, SIGKILL);
	/*
	 * Out of the wait, the request given up. Its exit may need the
	 * held-off CPU (a grace period, a per-CPU work item): it ends once
	 * the hog does.
	 */
	h->left = wait_sleep(req, false, 300, h->wchan, sizeof(h->wchan));
	h->left_ns = now_ns() - t;
	h->served_before = bp_debugfs_get("dionysos", "served_by_thread") - served;
	h->abandoned_before = bp_counter("abandoned_replies") - abandoned;

out_hog:
	hog_stop(&hog);
	h->hog_status = hog.status;
	if (req > 0)
		waitpid(req, &h->req_status, 0);
}

/*
 * EINTR, on purpose: a requester killed while it waits for a reply that
 * only the ``dionysos`` thread can give gives the request up, dies of
 * SIGKILL at once, and the reply, when the thread comes to it, is taken
 * back as one abandoned reply. The thread is kept off its CPU by a
 * SCHED_FIFO busy loop there, with RT throttling (and from 6.12 on the
 * fair deadline server of that CPU) off for the fraction of a second it
 * takes.
 */
TEST_F_TIMEOUT(race, killed_waiter_leaves_the_wait_and_its_reply_is_taken_back, 120)
{
	long granted, abandoned, served;
	struct held_off h = { 0 };
	struct rt_saved rt;
	struct bootpool_alloc a;
	int dcpu, rcpu, i, fd;

	if (!self->ready)
		return;
	dcpu = bp_debugfs_get("dionysos", "cpu");
	if (dcpu < 0 || bp_online_cpus() < 2 || !bp_exists(RT_RUNTIME))
		SKIP(return, "needs debugfs, 2 CPUs and %s", RT_RUNTIME);
	rcpu = dcpu ? 0 : 1;
	/* The children inherit it: none of them competes with the hog. */
	ASSERT_EQ(0, bp_pin_cpu(rcpu));
	ASSERT_EQ(0, bp_debugfs_get("dionysos", "queue_depth"));
	granted = bp_debugfs_get("dionysos", "granted_pages");
	served = bp_debugfs_get("dionysos", "served_by_thread");
	abandoned = bp_counter("abandoned_replies");

	ASSERT_TRUE(rt_hold_allow(dcpu, &rt));
	kill_while_held_off(dcpu, rcpu, &h);
	TH_LOG("CPU %d held off; requester on CPU %d: waiting %lld us after its fork",
	       dcpu, rcpu, h.wait_ns / 1000);
	TH_LOG("out of the wait %lld us after the kill, then in %s",
	       h.left_ns / 1000, h.wchan[0] ? h.wchan : "(dead)");
	ASSERT_EQ(0, rt_hold_restore(&rt));

	ASSERT_TRUE(WIFEXITED(h.hog_status) && !WEXITSTATUS(h.hog_status))
		TH_LOG("the busy loop did not hold Dionysos's CPU to the end (status %#x)",
		       h.hog_status);
	EXPECT_TRUE(h.queued)
		TH_LOG("the request did not wait in the thread's queue");
	EXPECT_TRUE(h.left)
		TH_LOG("the requester did not leave the wait when killed");
	EXPECT_EQ(0, h.served_before);
	EXPECT_EQ(0, h.abandoned_before);
	ASSERT_TRUE(WIFSIGNALED(h.req_status))
		TH_LOG("the requester exited (status %#x)", h.req_status);
	EXPECT_EQ(SIGKILL, WTERMSIG(h.req_status));

	for (i = 0; i < 500 && (bp_counter("abandoned_replies") == abandoned ||
				bp_debugfs_get("dionysos", "granted_pages") != granted); i++)
		usleep(10000);
	EXPECT_EQ(abandoned + 1, bp_counter("abandoned_replies"));
	EXPECT_EQ(served + 1, bp_debugfs_get("dionysos", "served_by_thread"));
	EXPECT_EQ(granted, bp_debugfs_get("dionysos", "granted_pages"));
	EXPECT_EQ(0, bp_debugfs_get("dionysos", "queue_depth"));
	EXPECT_TRUE(bp_counters_settle(5000));

	/* Dionysos keeps serving, and the module still unloads. */
	fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bp_set_policy(fd, BOOTPOOL_POLICY_EARLY));
	EXPECT_EQ(0, bp_alloc(fd, 16 * 4096, &a));
	close(fd);
	EXPECT_TRUE(bp_counters_settle(5000));
	if (bp_exists(self->path)) {
		ASSERT_EQ(0, bp_unload_wait(5000));
		ASSERT_EQ(0, bp_load_defaults(self->path));
	}
}

/* Where a requester at its cgroup's memory.max stands; in shared memory. */
struct at_max {
	atomic_int full;	/* 1: filled, 2: ENOMEM as expected, -1: failed */
	atomic_int go;
};

/*
 * Child: as the test user in @cg, on @cpu, take 32 KiB blocks from
 * Dionysos until memory.max refuses one, say so in @m, and once told to,
 * ask for one more: the IPI handler cannot charge it, so it waits for the
 * thread. It talks through @m only, which charges nothing.
 */
static void request_at_memory_max(const char *cg, int cpu, struct at_max *m)
{
	struct bootpool_alloc a;
	int fd = bp_cg_fill_to_max(cg, cpu, 32 * 1024);

	atomic_store(&m->full, fd < 0 ? -1 : 2);
	if (fd < 0)
		_exit(1);
	while (!atomic_load(&m->go))
		usleep(1000);
	bp_alloc(fd, 32 * 1024, &a);
	_exit(3);
}

/*
 * A requester killed while it waits for the thread, whose reply the thread
 * takes back after the domain was torn down, leaves nothing that keeps
 * its cgroup: once removed, the cgroup goes (its parent's
 * nr_dying_descendants comes back to 0). The requester runs as an
 * unprivileged user at its cgroup's memory.max, so that the IPI handler
 * cannot charge its 8-page block and the thread, held off its CPU until
 * the domain is gone, must serve it.
 */
TEST_F_TIMEOUT(race, reply_taken_back_after_teardown_leaves_no_dying_cgroup, 120)
{
	long abandoned, granted, domains, reserve, dying = -1;
	char parent[128], cg[160], dev_mode[8];
	long long t;
	struct stat st = { 0 };
	struct held_off h = { 0 };
	struct rt_saved rt;
	struct at_max *m;
	struct hog hog;
	int dcpu, rcpu, i, ret;
	pid_t req;

	if (!self->ready)
		return;
	dcpu = bp_debugfs_get("dionysos", "cpu");
	if (dcpu < 0 || bp_online_cpus() < 2 || !bp_exists(RT_RUNTIME))
		SKIP(return, "needs debugfs, 2 CPUs and %s", RT_RUNTIME);
	ret = bp_cg_create(parent, sizeof(parent), 256UL << 20);
	if (ret)
		SKIP(return, "no cgroup v2 memory controller (%s)", strerror(-ret));
	rcpu = dcpu ? 0 : 1;
	snprintf(cg, sizeof(cg), "%s/requester", parent);
	ASSERT_EQ(0, bp_cg_write(parent, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, bp_cg_write(cg, "memory.max", "8M"));
	bp_cg_write(cg, "memory.swap.max", "0");
	ASSERT_EQ(0, stat(BOOTPOOL_DEV, &st));
	snprintf(dev_mode, sizeof(dev_mode), "%o", st.st_mode & 07777);
	ASSERT_EQ(0, chmod(BOOTPOOL_DEV, 0666));
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	/* Touched here: the child's signals charge nothing to its cgroup. */
	atomic_store(&m->full, 0);
	atomic_store(&m->go, 0);
	ASSERT_EQ(0, bp_pin_cpu(rcpu));
	abandoned = bp_counter("abandoned_replies");
	granted = bp_debugfs_get("dionysos", "granted_pages");
	domains = bp_counter("domains");
	reserve = bp_debugfs_get("dionysos", "reserve_pages");

	req = fork();
	ASSERT_LE(0, req);
	if (!req)
		request_at_memory_max(cg, rcpu, m);
	for (i = 0; i < 30000 && !atomic_load(&m->full); i++)
		usleep(1000);
	ASSERT_EQ(2, atomic_load(&m->full))
		TH_LOG("the requester did not reach memory.max with ENOMEM");

	ASSERT_TRUE(rt_hold_allow(dcpu, &rt));
	if (hog_start(&hog, dcpu)) {
		t = now_ns();
		atomic_store(&m->go, 1);
		h.queued = wait_sleep(req, true, 1000, h.wchan, sizeof(h.wchan));
		h.wait_ns = now_ns() - t;
		kill(req, SIGKILL);
		t = now_ns();
		/* The domain torn down while the thread is still held off. */
		for (i = 0; i < 300 && bp_counter("domains") != domains; i++)
			usleep(10000);
		h.left = bp_counter("domains") == domains;
		h.left_ns = now_ns() - t;
		h.abandoned_before = bp_counter("abandoned_replies") - abandoned;
	}
	hog_stop(&hog);
	TH_LOG("queued %lld ms after the go, domain gone %lld ms after the kill",
	       h.wait_ns / 1000000, h.left_ns / 1000000);
	ASSERT_EQ(0, rt_hold_restore(&rt));
	h.req_status = bp_wait_status(req);
	chmod(BOOTPOOL_DEV, strtol(dev_mode, NULL, 8));
	munmap(m, sizeof(*m));

	ASSERT_TRUE(WIFEXITED(hog.status) && !WEXITSTATUS(hog.status))
		TH_LOG("the busy loop did not hold Dionysos's CPU to the end (status %#x)",
		       hog.status);
	if (!h.queued) {
		/*
		 * Not this test's case: the request was answered before it
		 * waited for the thread (seen once in about ten x86_64 runs
		 * under TCG). Say so; a skip is not a pass.
		 */
		rmdir(cg);
		rmdir(parent);
		SKIP(return, "the request did not wait for the thread (wchan %s)",
		     h.wchan[0] ? h.wchan : "none");
	}
	ASSERT_TRUE(h.left)
		TH_LOG("the domain was not torn down while the thread was held off");
	EXPECT_EQ(0, h.abandoned_before);
	EXPECT_EQ(128 + SIGKILL, h.req_status);
	for (i = 0; i < 500 && (bp_counter("abandoned_replies") == abandoned ||
				bp_debugfs_get("dionysos", "granted_pages") != granted); i++)
		usleep(10000);
	EXPECT_EQ(abandoned + 1, bp_counter("abandoned_replies"));
	EXPECT_EQ(granted, bp_debugfs_get("dionysos", "granted_pages"));
	TH_LOG("reserve_pages %ld before, %ld after the reply was taken back",
	       reserve, bp_debugfs_get("dionysos", "reserve_pages"));

	/* Removed, the cgroup goes: nothing of bootpool keeps it. */
	ASSERT_EQ(0, rmdir(cg));
	t = now_ns();
	for (i = 0; i < 1000; i++) {
		dying = bp_cg_key(parent, "cgroup.stat", "nr_dying_descendants");
		if (dying == 0)
			break;
		usleep(10000);
	}
	TH_LOG("%ld dying descendants %lld ms after the rmdir", dying,
	       (now_ns() - t) / 1000000);
	EXPECT_EQ(0, dying);
	EXPECT_TRUE(bp_counters_settle(5000));
	rmdir(parent);
}

static long race_cycles(void)
{
	const char *env = getenv("BOOTPOOL_RACE_CYCLES");

	if (env)
		return atol(env);
	return bp_exists("/sys/kernel/debug/kmemleak") ? 200 : 20;
}

/* A child allocating from its CPU, pool and remote, until killed. */
static void mixed_allocator(int cpu)
{
	int fd = open(BOOTPOOL_DEV, O_RDWR);
	struct bootpool_alloc a;
	unsigned int seed = cpu + 1;
	void *m;

	if (fd < 0)
		_exit(0);	/* killed before the module was ready is fine */
	bp_pin_cpu(cpu);
	for (;;) {
		__u64 size = rand_r(&seed) % 2 ? 4096 : 4096 << (rand_r(&seed) % 5);

		if (bp_alloc(fd, size, &a))
			continue;
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 a.mmap_offset);
		if (m != MAP_FAILED)
			__atomic_store_n((char *)m, 1, __ATOMIC_RELAXED); /* keep it mapped */
		if (rand_r(&seed) % 2)
			bp_free(fd, a.handle);
	}
}

TEST_F_TIMEOUT(race, load_kill_unload_cycles, 1800)
{
	long cycles = race_cycles(), c;
	int cpus = bp_online_cpus(), i;

	if (!self->ready)
		return;
	if (!bp_exists(self->path))
		SKIP(return, "%s not found", self->path);
	TH_LOG("%ld cycles", cycles);
	for (c = 0; c < cycles; c++) {
		pid_t pids[4];

		ASSERT_EQ(0, bp_unload_wait(5000)) TH_LOG("cycle %ld", c);
		ASSERT_FALSE(bp_exists(BOOTPOOL_DEV));
		ASSERT_EQ(0, bp_load_defaults(self->path)) TH_LOG("cycle %ld", c);
		for (i = 0; i < 4; i++) {
			pids[i] = fork();
			ASSERT_LE(0, pids[i]);
			if (!pids[i])
				mixed_allocator(i % cpus);
		}
		usleep(1000 * (c % 30));
		for (i = 0; i < 4; i++)
			kill(pids[i], SIGKILL);
		for (i = 0; i < 4; i++)
			waitpid(pids[i], NULL, 0);
	}
	EXPECT_TRUE(bp_counters_settle(10000));
}

TEST_HARNESS_MAIN
