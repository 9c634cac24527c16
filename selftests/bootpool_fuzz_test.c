// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzing: several processes with several threads each issue random calls
 * (ioctl numbers in and near bootpool's range with random directions and
 * sizes, random argument bytes, random handles, mmap offsets and lengths,
 * reopening the device, using a descriptor inherited across fork). Every
 * call must succeed or fail with an errno the ABI documents; afterwards
 * the global counters must balance.
 *
 * The run prints its seed; BOOTPOOL_FUZZ_SEED=<seed> replays each
 * thread's sequence of calls (their interleaving is up to the scheduler).
 * BOOTPOOL_FUZZ_CALLS sets the total number of calls (default 100000).
 */
#include "bootpool_fault_util.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define NR_PROCS	4
#define NR_THREADS	3
#define NR_HANDLES	64
#define SCRATCH_SIZE	(8 << 20)	/* room for any batch the kernel writes */
#define MAX_REPORTS	10

struct fuzz_thread {
	pthread_t tid;
	int id;
	uint64_t rng;
	long calls;
	int fd;			/* this process's own descriptor */
	int foreign_fd;		/* inherited from the parent: EPERM */
	unsigned char *scratch;
	long bad;
};

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static __u64 handles[NR_HANDLES];
static __u64 offsets[NR_HANDLES];

static uint64_t rnd(struct fuzz_thread *t)
{
	/* xorshift64* */
	t->rng ^= t->rng >> 12;
	t->rng ^= t->rng << 25;
	t->rng ^= t->rng >> 27;
	return t->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_below(struct fuzz_thread *t, uint64_t n)
{
	return n ? rnd(t) % n : 0;
}

/* A size or handle-like value: small, near a boundary, or any. */
static uint64_t rnd_value(struct fuzz_thread *t)
{
	static const uint64_t edges[] = {
		0, 1, 4095, 4096, 4097, 8192, 65536, BOOTPOOL_MAX_ALLOC_SIZE,
		BOOTPOOL_MAX_ALLOC_SIZE + 1, 1ULL << 32, (1ULL << 32) | 1,
		~0ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
	};

	switch (rnd_below(t, 4)) {
	case 0:
		return edges[rnd_below(t, ARRAY_SIZE(edges))];
	case 1:
		return rnd_below(t, 3 * 4096);
	case 2:
		return rnd_below(t, BOOTPOOL_MAX_ALLOC_SIZE + 2);
	default:
		return rnd(t);
	}
}

static __u64 pick_handle(struct fuzz_thread *t)
{
	__u64 h;

	if (rnd_below(t, 8) == 0)
		return rnd_value(t);
	pthread_mutex_lock(&handles_lock);
	h = handles[rnd_below(t, NR_HANDLES)];
	pthread_mutex_unlock(&handles_lock);
	return h;
}

/* The mmap offset of a block remembered, or a random one. */
static __u64 pick_offset(struct fuzz_thread *t)
{
	__u64 off;

	if (rnd_below(t, 8) == 0)
		return rnd_value(t) & ~4095ULL;
	pthread_mutex_lock(&handles_lock);
	off = offsets[rnd_below(t, NR_HANDLES)];
	pthread_mutex_unlock(&handles_lock);
	return off;
}

static void remember(struct fuzz_thread *t, const struct bootpool_alloc *a)
{
	int i = rnd_below(t, NR_HANDLES);

	pthread_mutex_lock(&handles_lock);
	handles[i] = a->handle;
	offsets[i] = a->mmap_offset;
	pthread_mutex_unlock(&handles_lock);
}

static void report(struct fuzz_thread *t, const char *what, unsigned long a,
		   unsigned long b, int err)
{
	t->bad++;
	if (t->bad <= MAX_REPORTS)
		printf("# pid %d thread %d call %ld: %s(%#lx, %#lx) -> %s (undocumented)\n",
		       getpid(), t->id, t->calls, what, a, b, strerror(err));
}

/* The errnos the ABI documents for an ioctl on our own descriptor. */
static bool ioctl_errno_ok(int err)
{
	switch (err) {
	case ENOTTY: case EINVAL: case EFAULT: case ENOMEM:
	case EBUSY: case E2BIG: case EALREADY:
		return true;
	}
	return false;
}

static void fuzz_ioctl(struct fuzz_thread *t)
{
	static const unsigned int types[] = {
		BOOTPOOL_IOC_MAGIC, BOOTPOOL_IOC_MAGIC - 1,
		BOOTPOOL_IOC_MAGIC + 1, 0,
	};
	static const unsigned int sizes[] = {
		sizeof(struct bootpool_alloc), sizeof(struct bootpool_free),
		sizeof(struct bootpool_policy), sizeof(struct bootpool_stats),
		sizeof(struct bootpool_alloc_batch), sizeof(struct bootpool_switch),
	};
	unsigned int type, nr, dir, size, cmd;
	unsigned long off;
	void *arg;
	int i, ret;

	type = rnd_below(t, 8) ? BOOTPOOL_IOC_MAGIC : types[rnd_below(t, 4)];
	nr = rnd_below(t, 4) ? rnd_below(t, ARRAY_SIZE(sizes)) : rnd_below(t, 256);
	dir = rnd_below(t, 4);
	switch (rnd_below(t, 4)) {
	case 0:
		size = rnd_below(t, 1 << _IOC_SIZEBITS);
		break;
	case 1:
		size = rnd_below(t, 160);
		break;
	default:	/* the real size of that ioctl's structure */
		size = sizes[nr % ARRAY_SIZE(sizes)];
		break;
	}
	cmd = _IOC(dir, type, nr, size);

	/* The argument: in the scratch area, or a bad pointer. */
	off = rnd_below(t, 4096) & ~7UL;
	arg = t->scratch + off;
	for (i = 0; i < 256; i += 8)
		*(uint64_t *)(t->scratch + off + i) = rnd_below(t, 2) ? rnd(t) : 0;
	if (rnd_below(t, 2)) {
		/* Plausible fields: a size, a handle, a policy, a batch. */
		uint64_t *w = arg;

		w[0] = rnd_value(t);
		if (nr % ARRAY_SIZE(sizes) == 1)
			w[0] = pick_handle(t);
		w[1] = rnd_below(t, 4) ? 0 : rnd(t);
		if (nr % ARRAY_SIZE(sizes) == 2)
			w[0] = rnd_below(t, 5);
		if (nr % ARRAY_SIZE(sizes) == 4) {
			/* Array inside the scratch area, so the kernel may write it. */
			w[0] = (uint64_t)(unsigned long)(t->scratch + 4096 +
				(rnd_below(t, 4096) & ~7UL));
			if (rnd_below(t, 8) == 0)
				w[0] = rnd(t);
			w[1] = rnd_below(t, 1100) |
			       (uint64_t)(rnd_below(t, 3) ? 48 : rnd_below(t, 4200)) << 32;
			w[2] = rnd_below(t, 8) ? 0 : rnd(t);
		}
	}
	switch (rnd_below(t, 32)) {
	case 0:
		arg = NULL;
		break;
	case 1:
		arg = (void *)16;
		break;
	case 2:
		arg = (void *)0xffff800000000000UL;
		break;
	}

	ret = ioctl(t->fd, cmd, arg);
	if (ret == 0 && cmd == BOOTPOOL_IOC_ALLOC && arg == t->scratch + off) {
		struct bootpool_alloc *a = arg;

		remember(t, a);
	}
	if (ret && !ioctl_errno_ok(errno))
		report(t, "ioctl", cmd, (unsigned long)arg, errno);
}

static void fuzz_alloc_free(struct fuzz_thread *t)
{
	struct bootpool_alloc a;
	int ret;

	if (rnd_below(t, 2)) {
		__u64 size = rnd_below(t, 4) ? 1 + rnd_below(t, 4 * 4096) :
					       rnd_value(t);

		ret = bp_alloc(t->fd, size, &a);
		if (!ret)
			remember(t, &a);
		else if (ret != -EINVAL && ret != -ENOMEM)
			report(t, "ALLOC", size, 0, -ret);
	} else {
		__u64 h = pick_handle(t);

		ret = bp_free(t->fd, h);
		if (ret && ret != -EINVAL && ret != -ENOMEM)
			report(t, "FREE", h, 0, -ret);
	}
}

static void fuzz_mmap(struct fuzz_thread *t)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_WRITE, PROT_NONE };
	int prot = prots[rnd_below(t, 4)];
	int flags = rnd_below(t, 8) ? MAP_SHARED : MAP_PRIVATE;
	size_t len;
	off_t off;
	void *p;

	if (rnd_below(t, 4)) {
		off = (off_t)pick_offset(t);
		len = 4096 * (1 + rnd_below(t, 3) * rnd_below(t, 4));
	} else {
		off = (off_t)(rnd_value(t) & ~4095ULL);
		len = rnd_value(t) & 0xffffff;
	}
	p = mmap(NULL, len, prot, flags, t->fd, off);
	if (p == MAP_FAILED) {
		/* EINVAL from bootpool or mmap(); ENOMEM, EOVERFLOW from mmap(). */
		if (errno != EINVAL && errno != ENOMEM && errno != EOVERFLOW)
			report(t, "mmap", (unsigned long)off, len, errno);
		return;
	}
	if (prot & PROT_WRITE)
		__atomic_store_n((char *)p, 1, __ATOMIC_RELAXED);
	else if (prot & PROT_READ)
		__atomic_load_n((char *)p + len - 1, __ATOMIC_RELAXED);
	munmap(p, len);
}

static void fuzz_misc(struct fuzz_thread *t)
{
	struct bootpool_stats st;
	int ret;

	switch (rnd_below(t, 5)) {
	case 4:
		ret = bp_switch(t->fd);
		if (ret && ret != -EINVAL && ret != -EALREADY)
			report(t, "SWITCH", 0, 0, -ret);
		break;
	case 0:
		ret = bp_stats(t->fd, &st);
		if (ret)
			report(t, "STATS", 0, 0, -ret);
		break;
	case 1:
		ret = bp_set_policy(t->fd, rnd_below(t, 5));
		if (ret && ret != -EINVAL && ret != -EBUSY)
			report(t, "SET_POLICY", 0, 0, -ret);
		break;
	case 2:
		/* A descriptor of the parent: every call is EPERM. */
		if (t->foreign_fd >= 0) {
			ret = bp_alloc(t->foreign_fd, 4096, NULL);
			if (ret != -EPERM)
				report(t, "ALLOC(inherited fd)", 0, 0, -ret);
		}
		break;
	default: {
		/* A second descriptor of the same domain, opened and closed. */
		int fd = open(BOOTPOOL_DEV, O_RDWR);

		if (fd < 0) {
			if (errno != ENOMEM)
				report(t, "open", 0, 0, errno);
			break;
		}
		if (bp_alloc(fd, 1 + rnd_below(t, 8192), NULL) == -EFAULT)
			report(t, "ALLOC(second fd)", 0, 0, EFAULT);
		close(fd);
		break;
	}
	}
}

static void *fuzz_thread_fn(void *p)
{
	struct fuzz_thread *t = p;
	long n = t->calls;

	for (t->calls = 0; t->calls < n; t->calls++) {
		switch (rnd_below(t, 8)) {
		case 0: case 1: case 2:
			fuzz_ioctl(t);
			break;
		case 3: case 4:
			fuzz_alloc_free(t);
			break;
		case 5: case 6:
			fuzz_mmap(t);
			break;
		default:
			fuzz_misc(t);
			break;
		}
	}
	return NULL;
}

/* One process: its own descriptor, NR_THREADS threads. Exit status: 0 or 1. */
static int fuzz_process(int proc, uint64_t seed, long calls, int foreign_fd)
{
	struct fuzz_thread th[NR_THREADS];
	long bad = 0;
	int fd, i;

	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0) {
		printf("# pid %d: open: %s\n", getpid(), strerror(errno));
		return 1;
	}
	for (i = 0; i < NR_THREADS; i++) {
		th[i].id = proc * NR_THREADS + i;
		th[i].rng = seed * 0x9E3779B97F4A7C15ULL + th[i].id + 1;
		th[i].calls = calls / NR_THREADS;
		th[i].fd = fd;
		th[i].foreign_fd = foreign_fd;
		th[i].bad = 0;
		th[i].scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (th[i].scratch == MAP_FAILED)
			return 1;
		rnd(&th[i]);
		pthread_create(&th[i].tid, NULL, fuzz_thread_fn, &th[i]);
	}
	for (i = 0; i < NR_THREADS; i++) {
		pthread_join(th[i].tid, NULL);
		bad += th[i].bad;
	}
	close(fd);
	return bad ? 1 : 0;
}

FIXTURE(fuzz) {
	int unused;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, random_calls, 1800)
{
	const char *env_seed = getenv("BOOTPOOL_FUZZ_SEED");
	const char *env_calls = getenv("BOOTPOOL_FUZZ_CALLS");
	long calls = env_calls ? atol(env_calls) : 100000;
	uint64_t seed;
	pid_t pids[NR_PROCS];
	int i, status, failed = 0, parent_fd;

	if (geteuid())
		SKIP(return, "needs root");
	if (!bp_exists(BOOTPOOL_DEV))
		SKIP(return, "no %s", BOOTPOOL_DEV);
	seed = env_seed ? strtoull(env_seed, NULL, 0) :
			  (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("# seed %llu: replay with BOOTPOOL_FUZZ_SEED=%llu\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	printf("# %ld calls from %d processes x %d threads\n", calls,
	       NR_PROCS, NR_THREADS);
	fflush(stdout);
	ASSERT_TRUE(bp_counters_settle(5000));

	parent_fd = open(BOOTPOOL_DEV, O_RDWR);
	ASSERT_LE(0, parent_fd);
	for (i = 0; i < NR_PROCS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			bp_pin_cpu(i % bp_online_cpus());
			_exit(fuzz_process(i, seed, calls / NR_PROCS, parent_fd));
		}
	}
	for (i = 0; i < NR_PROCS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("# process %d: %s %d\n", i,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
						   WTERMSIG(status));
			failed++;
		}
	}
	close(parent_fd);
	EXPECT_EQ(0, failed) TH_LOG("undocumented results; seed %llu",
				    (unsigned long long)seed);
	EXPECT_TRUE(bp_counters_settle(10000));
	EXPECT_EQ(bp_counter("attaches"), bp_counter("detaches"));
}

TEST_HARNESS_MAIN
