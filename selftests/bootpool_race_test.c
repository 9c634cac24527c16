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
	if (geteuid())
		SKIP(return, "needs root");
	if (!bp_exists(BOOTPOOL_DEV))
		SKIP(return, "no %s", BOOTPOOL_DEV);
	bp_module_path(self->path, sizeof(self->path));
	ASSERT_TRUE(bp_counters_settle(5000));
	self->ready = true;
}

FIXTURE_TEARDOWN(race)
{
	/* Leave the module loaded with its defaults for whatever runs next. */
	if (!bp_exists("/sys/module/bootpool"))
		bp_load(self->path, "");
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
		ASSERT_EQ(0, bp_load(self->path, "")) TH_LOG("cycle %ld", c);
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
