// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool_bench: measure each bootpool path against floors measured in
 * the same boot, in the guest.
 *
 * In a round, every figure is the median and 99th percentile of N
 * operations (-n, default 2000) after N/10 warm-up operations, each timed with
 * clock_gettime(CLOCK_MONOTONIC); the median cost of one clock_gettime()
 * call, measured first, is subtracted from every sample (the report names
 * the clocksource: scripts/bench boots x86_64 with tsc=reliable so that
 * the call stays in the vDSO). Each figure runs in a child process of its
 * own, so that it gets a fresh domain (a pool is per process) and its own
 * policy; children are pinned with sched_setaffinity(). A round measures
 * every floor and figure once, each path right after its floor, and there
 * are -r rounds (default 9), since the emulator's host slows the vCPUs
 * unevenly and one run is not a measurement: each figure and each ratio
 * (taken within a round) is reported as the median over the rounds with
 * a distribution-free 95% interval, and a round whose ratio lies outside
 * [median / 1.5, median x 1.5] is marked as an outlier. A round whose
 * floors are out of line with the other rounds' (outside the same band
 * around their median) is set aside and another round run, at most -R
 * more rounds (default 4), so that a disturbed floor cannot make a
 * ratio; when fewer than half the rounds are in line, all are used. The
 * kernel-side floors come from bootpool_test.ko (debugfs
 * bootpool_test/floors), which is loaded if it is not already. The IPI
 * floor is also measured one round trip per read of
 * bootpool_test/ipi_once, one system call per round trip like a request:
 * back to back, a round trip often finds the target vCPU still awake,
 * which a request never does. Those reads are made in the remote pairs'
 * own loop, one after each pair: under emulation a round trip costs what
 * waking the target vCPU's host thread costs, and that depends on how
 * long it slept; read in a loop of their own, at their own pace, the
 * round trips came in two modes (about 20 us and about 100 us on arm64)
 * that the pairs did not follow. ratio_remote_vs_floor divides by that
 * one, ratio_remote_vs_floor_b2b by the back-to-back one. Throughput is
 * measured, in runs of 50 us x N, for the pool pair, for two unknown
 * ioctls (the same number of system calls doing nothing) and for a loop
 * that makes no system call: scale_2proc_floor and scale_2proc_user say
 * how far the guest's system calls and its vCPUs themselves scale on the
 * host. The memory figure is the Slab delta of /proc/meminfo per process,
 * over many processes holding 256 blocks each.
 *
 * On a guest with more than one NUMA node (scripts/vm NUMA=2), the other
 * CPU is on dionysos_cpu's node (the node-local route), and a CPU of
 * another node measures the cross-node route as well: its IPI once, its
 * remote pair and ratio_remote_vs_floor_xnode, and the throughput of two
 * processes on two nodes (scale_2proc_xnode and _xnode_floor). On one
 * node, or with several Dionysos instances (dionysos_cpus: a request
 * then stays on its node), none of these is measured or printed.
 *
 * On two nodes, whether one Dionysos serves both or one per node does
 * (dionysos_cpus=node), the remote throughput is measured too: remote
 * pairs (hops=1) of one process on a CPU of the other CPU's node, then
 * of two processes, one on each node, each on a CPU that runs no
 * Dionysos and each served by the instance its node's requests go to
 * (the one Dionysos, or its node's own). Its floor, run the same way, is
 * an unknown ioctl and one IPI round trip to that same serving CPU per
 * operation (bootpool_test/ipi_once, each process its own target):
 * scale_2proc_remote_xnode against scale_2proc_remote_xnode_floor.
 *
 * Output: a table, each round's ratios, every round as a CSV line
 * ("csv: "), then key=value lines per figure and per ratio.
 * Exit status: 0, 1 when a measurement failed, 2 for bad usage.
 */
#include "bootpool_util.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#define TEST_DEBUGFS	"/sys/kernel/debug/bootpool_test/"
#define DIONYSOS_DEBUGFS	BOOTPOOL_DEBUGFS "dionysos"
#define TEST_PARAMS	"/sys/module/bootpool_test/parameters/"
#define FILL_BLOCKS	256
#define MAX_PROCS	4
#define TPUT_NS_PER_OP	50000	/* a throughput run lasts this x nops ns */

/* An ioctl number bootpool does not know: the dispatch floor. */
#define BENCH_IOC_UNKNOWN	_IO(BOOTPOOL_IOC_MAGIC, 0x7f)

/* One figure: nanoseconds per operation, or NAN-like -1 when not run. */
struct figure {
	double median;
	double p99;
	long ops;
	int ok;
};

/* The figures of one round, in the order of the table. */
enum fig_id {
	F_DISPATCH, F_POOL, F_POOL_ALLOC, F_POOL_FREE, F_LOCAL, F_REMOTE1,
	F_REMOTE1_ALLOC, F_REMOTE1_FREE, F_REMOTE3, F_FILL_SINGLE,
	F_FILL_BATCH, F_KIPI, F_KWAKE, F_KPAGE, F_IPI_ONCE,
	/* From a CPU on another node than dionysos_cpu's, if there is one. */
	F_IPI_ONCE_X, F_REMOTE1_X, F_COUNT
};
#define F_FIRST_X	F_IPI_ONCE_X

/* Each figure's key in the key=value lines and the CSV, and its row. */
static const struct {
	const char *key;
	const char *label;
} fig_def[F_COUNT] = {
	[F_DISPATCH] = { "dispatch", "dispatch floor (unknown ioctl)" },
	[F_POOL] = { "pool", "pool ALLOC+FREE" },
	[F_POOL_ALLOC] = { "pool_alloc", "  pool ALLOC" },
	[F_POOL_FREE] = { "pool_free", "  pool FREE" },
	[F_LOCAL] = { "local", "Dionysos ALLOC+FREE on dionysos_cpu" },
	[F_REMOTE1] = { "remote_hops1", "Dionysos ALLOC+FREE remote, hops=1" },
	[F_REMOTE1_ALLOC] = { "remote_hops1_alloc", "  remote ALLOC, hops=1" },
	[F_REMOTE1_FREE] = { "remote_hops1_free", "  remote FREE, hops=1" },
	[F_REMOTE3] = { "remote_hops3", "Dionysos ALLOC+FREE remote, hops=3" },
	[F_FILL_SINGLE] = { "fill_single", "fill 256 pages, single ALLOCs" },
	[F_FILL_BATCH] = { "fill_batch", "fill 256 pages, one ALLOC_BATCH" },
	[F_KIPI] = { "floor_ipi", "kernel: IPI round trip (wait=1)" },
	[F_KWAKE] = { "floor_wake", "kernel: wake bound kthread + answer" },
	[F_KPAGE] = { "floor_page", "kernel: alloc_page + __free_page" },
	[F_IPI_ONCE] = { "floor_ipi_once", "kernel: IPI round trip, one per syscall" },
	[F_IPI_ONCE_X] = { "floor_ipi_once_xnode", "kernel: IPI once, from another node" },
	[F_REMOTE1_X] = { "remote_hops1_xnode", "Dionysos remote, hops=1, another node" },
};

/* Results written by child processes, in memory shared with the parent. */
struct shared {
	struct figure fig[F_COUNT];
	double start[MAX_PROCS], end[MAX_PROCS];
	long done[MAX_PROCS];
	char err[256];
};

static struct shared *sh;
static long nops = 2000;
static double clock_ns;
static char clocksource[32] = "unknown";
static int verbose;
/* In a child: measure from the other node (the *_X figures). */
static int cross_node;

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (sh && !sh->err[0])
		vsnprintf(sh->err, sizeof(sh->err), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fprintf(stderr, "bootpool_bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static inline double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Median and p99 of @n samples, less @sub each (clamped at 0). */
static struct figure summarize(double *s, long n, double sub)
{
	struct figure f = { .ops = n, .ok = 1 };

	qsort(s, n, sizeof(*s), bp_cmp_double);
	f.median = s[n / 2] - sub;
	f.p99 = s[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] - sub;
	if (f.median < 0)
		f.median = 0;
	if (f.p99 < 0)
		f.p99 = 0;
	return f;
}

/* The device calls of bootpool_util.h, with a failure reported. */
static int pin(int cpu)
{
	int err = bp_pin_cpu(cpu);

	if (err)
		fail("sched_setaffinity to CPU %d: %s", cpu, strerror(-err));
	return err;
}

static int open_domain(int policy)
{
	int fd = bp_open_domain(policy);

	if (fd < 0)
		fail("opening %s with policy %s: %s", BOOTPOOL_DEV,
		     bp_policy_name(policy), strerror(-fd));
	return fd;
}

static int alloc_page(int fd, struct bootpool_alloc *a)
{
	int err = bp_alloc(fd, 4096, a);

	if (err)
		fail("ALLOC: %s", strerror(-err));
	return err;
}

static int free_block(int fd, __u64 handle)
{
	int err = bp_free(fd, handle);

	if (err)
		fail("FREE: %s", strerror(-err));
	return err;
}

/*
 * The guest's clocksource, which sets what a clock_gettime() costs: one the
 * vDSO can read (tsc, arch_sys_counter) is a few instructions; hpet or
 * acpi_pm is a system call plus an emulated device read.
 */
static void read_clocksource(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource",
			"r");

	if (!f)
		return;
	if (fscanf(f, "%31s", clocksource) != 1)
		snprintf(clocksource, sizeof(clocksource), "unknown");
	fclose(f);
}

/* Run @fn(@arg) in a child process; return its exit status. */
static int in_child(int (*fn)(long), long arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return -1;
	}
	if (!pid)
		_exit(fn(arg) ? 1 : 0);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the figures ---- */

static void measure_clock(void)
{
	long i, n = nops < 1000 ? 1000 : nops;
	double *s = malloc(n * sizeof(*s));
	struct figure f;

	for (i = 0; i < n; i++) {
		double t0 = now_ns();

		s[i] = now_ns() - t0;
	}
	f = summarize(s, n, 0);
	clock_ns = f.median;
	free(s);
}

static int fig_dispatch(long cpu)
{
	long i, warm = nops / 10, n = nops;
	double *s = malloc(n * sizeof(*s));
	int fd = open_domain(BOOTPOOL_POLICY_LATE);

	if (fd < 0 || pin(cpu))
		return 1;
	for (i = -warm; i < n; i++) {
		double t0 = now_ns();
		int r = ioctl(fd, BENCH_IOC_UNKNOWN, 0);
		double t1 = now_ns();

		if (r != -1 || errno != ENOTTY) {
			fail("unknown ioctl did not fail with ENOTTY");
			return 1;
		}
		if (i >= 0)
			s[i] = t1 - t0;
	}
	sh->fig[F_DISPATCH] = summarize(s, n, clock_ns);
	close(fd);
	return 0;
}

/*
 * ALLOC + FREE of one page, timed: t[0] before, t[2] after, and t[1]
 * between the two calls when @split. Return: 0, or 1 when either call
 * failed or the block did not come from @source over @hops.
 */
static int alloc_free(int fd, __u32 source, int hops, int split, double *t)
{
	struct bootpool_alloc a;

	t[0] = now_ns();
	if (alloc_page(fd, &a))
		return 1;
	if (split)
		t[1] = now_ns();
	if (free_block(fd, a.handle))
		return 1;
	t[2] = now_ns();
	if (a.source != source || (hops >= 0 && (int)a.hops != hops)) {
		fail("ALLOC served from source %u with %u hops, expected %u with %d",
		     a.source, a.hops, source, hops);
		return 1;
	}
	return 0;
}

/*
 * Open bootpool_test/ipi_once aimed at CPU @target, or, with a negative
 * @target, at the test module's ``cpu`` (dionysos_cpu, see fig_floors()).
 * Return: the descriptor, or -1.
 */
static int open_ipi_once(int target)
{
	char v[16];
	int fd, len;

	fd = open(TEST_DEBUGFS "ipi_once", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail("open %sipi_once: %s", TEST_DEBUGFS, strerror(errno));
		return -1;
	}
	if (target < 0)
		return fd;
	len = snprintf(v, sizeof(v), "%d", target);
	if (write(fd, v, len) != len) {
		fail("aiming ipi_once at CPU %d: %s", target, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One round trip of the IPI floor: a read of bootpool_test/ipi_once on
 * @fd, timed by the kernel. Return: its ns, or -1 when the read failed.
 */
static double ipi_once_read(int fd)
{
	char buf[32];
	ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0) {
		fail("reading ipi_once: %s", len ? strerror(errno) : "empty");
		return -1;
	}
	buf[len] = 0;
	return strtod(buf, NULL);
}

/*
 * ALLOC + FREE of one page, @n times, in a domain with @policy, and after
 * each pair, when @ipi is given, one round trip of the IPI floor to
 * dionysos_cpu into @ipi; then, if @alloc or @freef is given, @n
 * times more with a timestamp between the two calls, to time each on its
 * own. The pair is timed without that timestamp, like the dispatch floor
 * it is compared with: a clock read right after a system call costs more
 * than the clock_ns subtracted for it.
 */
static int alloc_free_loop(int fd, __u32 source, int hops, struct figure *pair,
			   struct figure *alloc, struct figure *freef,
			   struct figure *ipi)
{
	long i, warm = nops / 10, n = nops;
	double *s = malloc(n * sizeof(*s));
	double *sa = malloc(n * sizeof(*sa));
	double *sf = malloc(n * sizeof(*sf));
	double *si = malloc(n * sizeof(*si));
	double t[3], v;
	int ipi_fd = ipi ? open_ipi_once(-1) : -1;

	if (!s || !sa || !sf || !si || (ipi && ipi_fd < 0))
		return 1;
	for (i = -warm; i < n; i++) {
		if (alloc_free(fd, source, hops, 0, t))
			return 1;
		if (i >= 0)
			s[i] = t[2] - t[0];
		if (!ipi)
			continue;
		v = ipi_once_read(ipi_fd);
		if (v < 0)
			return 1;
		if (i >= 0)
			si[i] = v;
	}
	*pair = summarize(s, n, clock_ns);
	if (ipi)
		*ipi = summarize(si, n, 0);
	for (i = -warm; (alloc || freef) && i < n; i++) {
		if (alloc_free(fd, source, hops, 1, t))
			return 1;
		if (i >= 0) {
			sa[i] = t[1] - t[0];
			sf[i] = t[2] - t[1];
		}
	}
	if (alloc)
		*alloc = summarize(sa, n, clock_ns);
	if (freef)
		*freef = summarize(sf, n, clock_ns);
	free(s);
	free(sa);
	free(sf);
	free(si);
	return 0;
}

static int fig_pool(long cpu)
{
	int fd = open_domain(BOOTPOOL_POLICY_LATE);

	if (fd < 0 || pin(cpu))
		return 1;
	return alloc_free_loop(fd, BOOTPOOL_SOURCE_POOL, 0, &sh->fig[F_POOL],
			       &sh->fig[F_POOL_ALLOC], &sh->fig[F_POOL_FREE],
			       NULL);
}

/*
 * Dionysos ALLOC+FREE from @cpu over @hops (0: on dionysos_cpu); with
 * @ipi, the IPI floor once after each pair, into @ipi.
 */
static int fig_dionysos(long cpu, int hops, struct figure *all,
			struct figure *alloc, struct figure *freef,
			struct figure *ipi)
{
	int fd;

	if (pin(cpu))
		return 1;
	fd = open_domain(BOOTPOOL_POLICY_EARLY);
	if (fd < 0)
		return 1;
	return alloc_free_loop(fd, BOOTPOOL_SOURCE_DIONYSOS, hops, all, alloc,
			       freef, ipi);
}

static int fig_local(long cpu)
{
	return fig_dionysos(cpu, 0, &sh->fig[F_LOCAL], NULL, NULL, NULL);
}

/*
 * The remote pair over one hop, and its IPI floor: one round trip to
 * Dionysos's CPU after each pair, so that the floor's IPIs come at the
 * pairs' pace (see the comment at the top).
 */
static int fig_remote1(long cpu)
{
	if (cross_node)
		return fig_dionysos(cpu, 1, &sh->fig[F_REMOTE1_X], NULL, NULL,
				    &sh->fig[F_IPI_ONCE_X]);
	return fig_dionysos(cpu, 1, &sh->fig[F_REMOTE1],
			    &sh->fig[F_REMOTE1_ALLOC], &sh->fig[F_REMOTE1_FREE],
			    &sh->fig[F_IPI_ONCE]);
}

static int fig_remote3(long cpu)
{
	return fig_dionysos(cpu, 3, &sh->fig[F_REMOTE3], NULL, NULL, NULL);
}

/*
 * Fill a fresh 256-page pool with single ALLOCs (@batch 0) or with one
 * ALLOC_BATCH call; one sample per fill. A fresh domain per fill: close
 * tears the domain down, the next open attaches a new one.
 */
static int fill_loop(long cpu, int batch, struct figure *out)
{
	long rounds = nops / FILL_BLOCKS, warm, r;
	struct bootpool_alloc a[FILL_BLOCKS];
	double *s;
	int i;

	if (rounds < 8)
		rounds = 8;
	warm = rounds / 10 ? rounds / 10 : 1;
	s = malloc(rounds * sizeof(*s));
	if (pin(cpu))
		return 1;
	for (r = -warm; r < rounds; r++) {
		int fd = open_domain(BOOTPOOL_POLICY_LATE);
		double t0, t1;

		if (fd < 0)
			return 1;
		for (i = 0; i < FILL_BLOCKS; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].size = 4096;
		}
		t0 = now_ns();
		if (!batch) {
			for (i = 0; i < FILL_BLOCKS; i++)
				if (ioctl(fd, BOOTPOOL_IOC_ALLOC, &a[i])) {
					fail("fill ALLOC %d: %s", i,
					     strerror(errno));
					return 1;
				}
		} else {
#ifdef BOOTPOOL_IOC_ALLOC_BATCH
			struct bootpool_alloc_batch b = {
				.allocs = (__u64)(uintptr_t)a,
				.count = FILL_BLOCKS,
				.stride = sizeof(a[0]),
			};

			if (ioctl(fd, BOOTPOOL_IOC_ALLOC_BATCH, &b) ||
			    b.done != FILL_BLOCKS) {
				fail("ALLOC_BATCH: %s, %u done",
				     strerror(errno), b.done);
				return 1;
			}
#endif
		}
		t1 = now_ns();
		for (i = 0; i < FILL_BLOCKS; i++)
			if (a[i].source != BOOTPOOL_SOURCE_POOL) {
				fail("fill: block %d not from the pool", i);
				return 1;
			}
		close(fd);
		if (r >= 0)
			s[r] = t1 - t0;
	}
	*out = summarize(s, rounds, clock_ns);
	out->ops = rounds * FILL_BLOCKS;
	free(s);
	return 0;
}

static int fig_fill_single(long cpu)
{
	return fill_loop(cpu, 0, &sh->fig[F_FILL_SINGLE]);
}

static int fig_fill_batch(long cpu)
{
	return fill_loop(cpu, 1, &sh->fig[F_FILL_BATCH]);
}

/*
 * What one operation of a throughput run is. The kinds before
 * TPUT_KINDS run on 1, 2 and 4 CPUs; the remote ones on two nodes.
 */
enum tput_kind {
	TPUT_POOL,	/* a pool ALLOC+FREE pair */
	TPUT_ENOTTY,	/* two ioctls bootpool does not know */
	TPUT_USER,	/* a loop in user space, no system call */
	TPUT_KINDS,
	/* a Dionysos ALLOC+FREE pair, served on the process's target */
	TPUT_REMOTE = TPUT_KINDS,
	/* its floor: an unknown ioctl and an IPI round trip to the target */
	TPUT_RFLOOR,
	TPUT_ALL
};

#define TPUT_RKINDS	(TPUT_ALL - TPUT_KINDS)

/* What a throughput process uses: its domain, its IPI file, its target. */
struct tput_ctx {
	int fd;
	int ipi_fd;		/* TPUT_RFLOOR: bootpool_test/ipi_once */
	int target;		/* the remote kinds: the CPU that serves */
};

/*
 * One operation of a throughput run. The two floors say how far the guest
 * itself scales on its host: TPUT_ENOTTY makes the same number of system
 * calls as a pool pair, doing nothing; TPUT_USER makes none.
 */
static int tput_op(const struct tput_ctx *c, enum tput_kind kind)
{
	int fd = c->fd;
	struct bootpool_alloc a;
	unsigned long sum = 0;
	char buf[32];
	int i;

	switch (kind) {
	case TPUT_POOL:
		return alloc_page(fd, &a) || free_block(fd, a.handle);
	case TPUT_ENOTTY:
		return ioctl(fd, BENCH_IOC_UNKNOWN, 0) != -1 ||
		       ioctl(fd, BENCH_IOC_UNKNOWN, 0) != -1;
	case TPUT_REMOTE:
		if (alloc_page(fd, &a) || free_block(fd, a.handle))
			return 1;
		if (a.source != BOOTPOOL_SOURCE_DIONYSOS ||
		    (int)a.served_cpu != c->target) {
			fail("remote ALLOC served from source %u on CPU %u, expected Dionysos on CPU %d",
			     a.source, a.served_cpu, c->target);
			return 1;
		}
		return 0;
	case TPUT_RFLOOR:
		if (ioctl(fd, BENCH_IOC_UNKNOWN, 0) != -1)
			return 1;
		if (pread(c->ipi_fd, buf, sizeof(buf), 0) <= 0) {
			fail("reading ipi_once towards CPU %d: %s", c->target,
			     strerror(errno));
			return 1;
		}
		return 0;
	default:
		/* About as long as a pool pair, so that a run lasts as long. */
		for (i = 0; i < 1024; i++) {
			sum += i;
			/* Keep the loop: the compiler cannot see through. */
			__asm__ __volatile__("" : "+r" (sum));
		}
		return 0;
	}
}

/*
 * A team of child processes that start together: each child runs @fn
 * (its index, @arg), which calls team_step() to say it is ready and wait
 * for the parent to open the next gate. The parent waits for every child
 * to be ready (team_collect()), opens a gate (team_open()), and reaps
 * them (team_end()). Closing a gate's write end wakes every child at once.
 */
#define TEAM_GATES	2

struct team {
	int n;
	int ready[2];			/* children -> parent, a byte a step */
	int gate[TEAM_GATES][2];	/* parent -> children, closed to open */
	pid_t *pids;
};

/* In a child: say it is ready and wait for gate @g to open. */
static int team_step(struct team *t, int g)
{
	char c;

	return write(t->ready[1], "r", 1) != 1 || read(t->gate[g][0], &c, 1) < 0;
}

/* Fork @n children running @fn; return 0, or -1 if a pipe or fork failed. */
static int team_start(struct team *t, int n,
		      int (*fn)(struct team *t, int k, void *arg), void *arg)
{
	int k, g;

	t->n = 0;
	t->pids = calloc(n, sizeof(*t->pids));
	if (!t->pids || pipe(t->ready))
		return -1;
	for (g = 0; g < TEAM_GATES; g++)
		if (pipe(t->gate[g]))
			return -1;
	fflush(NULL);
	for (k = 0; k < n; k++) {
		t->pids[k] = fork();
		if (t->pids[k] < 0)
			return -1;
		if (!t->pids[k]) {
			close(t->ready[0]);
			for (g = 0; g < TEAM_GATES; g++)
				close(t->gate[g][1]);
			_exit(fn(t, k, arg) ? 1 : 0);
		}
		t->n++;
	}
	close(t->ready[1]);
	for (g = 0; g < TEAM_GATES; g++)
		close(t->gate[g][0]);
	return 0;
}

/* Wait for a step of every child; return 0, or 1 if one did not make it. */
static int team_collect(struct team *t)
{
	int k, bad = 0;
	char c;

	for (k = 0; k < t->n; k++)
		if (read(t->ready[0], &c, 1) != 1)
			bad = 1;
	return bad;
}

static void team_open(struct team *t, int g)
{
	close(t->gate[g][1]);
	t->gate[g][1] = -1;
}

/* Open what is left and reap; return 0, or 1 if a child failed. */
static int team_end(struct team *t)
{
	int k, g, status, bad = 0;

	for (g = 0; g < TEAM_GATES; g++)
		if (t->gate[g][1] >= 0)
			team_open(t, g);
	close(t->ready[0]);
	for (k = 0; k < t->n; k++)
		if (waitpid(t->pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad = 1;
	free(t->pids);
	return bad;
}

struct tput_arg {
	const int *cpus;
	const int *targets;	/* the remote kinds: each process's */
	enum tput_kind kind;
};

/* One process of a throughput run: warm up, wait, run; see throughput(). */
static int tput_child(struct team *t, int k, void *arg)
{
	const struct tput_arg *ta = arg;
	struct tput_ctx c = { .ipi_fd = -1, .target = -1 };
	double stop;
	long i;

	if (ta->targets)
		c.target = ta->targets[k];
	/* A remote pair from an early domain: each request to Dionysos. */
	c.fd = open_domain(ta->kind == TPUT_REMOTE ? BOOTPOOL_POLICY_EARLY :
			   BOOTPOOL_POLICY_LATE);
	if (c.fd < 0 || pin(ta->cpus[k]))
		return 1;
	if (ta->kind == TPUT_RFLOOR) {
		c.ipi_fd = open_ipi_once(c.target);
		if (c.ipi_fd < 0)
			return 1;
	}
	for (i = 0; i < nops / 10; i++)
		if (tput_op(&c, ta->kind))
			return 1;
	if (team_step(t, 0))
		return 1;
	sh->start[k] = now_ns();
	stop = sh->start[k] + TPUT_NS_PER_OP * nops;
	for (i = 0;; i++) {
		if (!(i % 16) && now_ns() >= stop)
			break;
		if (tput_op(&c, ta->kind))
			return 1;
	}
	sh->end[k] = now_ns();
	sh->done[k] = i;
	return 0;
}

/*
 * Throughput: @nprocs processes on the CPUs in @cpus, started together,
 * each do operations (see tput_op()) for TPUT_NS_PER_OP x nops ns (a
 * tenth of a second by default: a run must outlast the host's scheduling
 * slices); ops per second over the span from the first start
 * to the last end.
 */
static double throughput(const int *cpus, const int *targets, int nprocs,
			 enum tput_kind kind)
{
	struct tput_arg ta = { cpus, targets, kind };
	double first = 0, last = 0, ops = 0;
	struct team t;
	int k, bad;

	if (team_start(&t, nprocs, tput_child, &ta))
		return -1;
	bad = team_collect(&t);
	team_open(&t, 0);	/* everyone's read() returns at once */
	bad |= team_end(&t);
	if (bad)
		return -1;
	for (k = 0; k < nprocs; k++) {
		ops += sh->done[k];
		if (!k || sh->start[k] < first)
			first = sh->start[k];
		if (!k || sh->end[k] > last)
			last = sh->end[k];
	}
	return ops / ((last - first) / 1e9);
}

/* The Slab line of /proc/meminfo, in bytes. */
static double meminfo_slab(void)
{
	char line[128];
	long slabk = 0, v;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld", &v) == 1)
			slabk = v;
	if (f)
		fclose(f);
	return slabk * 1024.0;
}

/* One process of the memory figure: settle, then open and fill a domain. */
static int overhead_child(struct team *t, int k, void *arg)
{
	static struct bootpool_alloc a[FILL_BLOCKS];
	int i, fd;

	/* Touch all user memory the child needs beforehand. */
	memset(a, 0, sizeof(a));
	if (team_step(t, 0))
		return 1;
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0)
		return 1;
	for (i = 0; i < FILL_BLOCKS; i++) {
		a[i].size = 4096;
		if (ioctl(fd, BOOTPOOL_IOC_ALLOC, &a[i]))
			return 1;
	}
	return team_step(t, 1);
}

/*
 * Memory the module costs per process beyond its pool's pages, with 256
 * live blocks: @nprocs processes are forked and settle first; then they
 * all open /dev/bootpool and allocate 256 blocks while the parent reads
 * the Slab line of /proc/meminfo before and after. Besides the pool's
 * pages the module allocates only slab objects (the domain, its slot
 * arrays, the mmu_notifier subscription, the open file), so the Slab delta
 * per process is the figure. Free room in slabs that existed before is
 * used first, which biases it low by at most a few slabs per cache over
 * all @nprocs; hence many processes. MemFree is no use here: it moves
 * with the per-CPU page lists by more than the figure.
 */
static int overhead(int nprocs, double *slab_pp)
{
	long pool_pages = bp_param_get("pool_pages");
	double slab0, slab1;
	struct team t;
	int bad;

	if (pool_pages < FILL_BLOCKS) {
		fail("pool_pages is %ld, the memory figure needs %d", pool_pages,
		     FILL_BLOCKS);
		return -1;
	}
	if (team_start(&t, nprocs, overhead_child, NULL))
		return -1;
	bad = team_collect(&t);
	usleep(100000);
	slab0 = meminfo_slab();
	team_open(&t, 0);
	bad |= team_collect(&t);
	usleep(100000);
	slab1 = meminfo_slab();
	bad |= team_end(&t);
	if (bad) {
		fail("memory figure: a child failed");
		return -1;
	}
	*slab_pp = (slab1 - slab0) / nprocs;
	return 0;
}

/* ---- kernel floors ---- */

static int load_test_module(int *loaded)
{
	const char *dir = getenv("BOOTPOOL_MODULE_DIR");
	char path[256];
	int ret;

	*loaded = 0;
	if (!access(TEST_DEBUGFS "floors_run", W_OK))
		return 0;
	snprintf(path, sizeof(path), "%s/bootpool_test.ko",
		 dir ? dir : "/bootpool");
	ret = bp_load(path, "");
	if (ret) {
		fail("loading %s: %s", path, strerror(-ret));
		return -1;
	}
	*loaded = 1;
	return 0;
}

/* The kernel's floors, as bootpool_test/floors last measured them. */
static void parse_floors(void)
{
	static const char * const keys[] = {
		"ipi_median_ns", "ipi_p99_ns", "wake_median_ns", "wake_p99_ns",
		"page_median_ns", "page_p99_ns", "ipi_rounds",
	};
	static const enum fig_id id[] = { F_KIPI, F_KWAKE, F_KPAGE };
	double v[ARRAY_SIZE(keys)] = { 0 };
	int i;

	bp_kv_read(TEST_DEBUGFS "floors", keys, v, ARRAY_SIZE(keys));
	for (i = 0; i < ARRAY_SIZE(id); i++) {
		struct figure *f = &sh->fig[id[i]];

		f->median = v[2 * i];
		f->p99 = v[2 * i + 1];
		f->ops = v[6];
		f->ok = 1;
	}
}

static int fig_floors(long cpu)
{
	long dcpu = bp_param_get("dionysos_cpu");
	int ret;

	if (pin(cpu))
		return 1;
	ret = bp_write_long(TEST_PARAMS "cpu", dcpu);
	if (!ret)
		ret = bp_write_long(TEST_DEBUGFS "floors_run", nops);
	if (ret) {
		fail("measuring the floors: %s", strerror(-ret));
		return 1;
	}
	return 0;
}

/* ---- the run: rounds, and what main() prints ---- */

#define MAX_ROUNDS	64
/*
 * A round's floor is in line when it lies within [m / LINE, m x LINE], m
 * the median of that floor over the other rounds run; a round's ratio
 * is an outlier when it lies outside the same band around the ratio's
 * median.
 */
#define LINE		1.5

static const char * const tput_name[TPUT_ALL] = {
	"pool", "floor", "user", "remote", "remote_floor"
};

/* The ratios, in the order they are printed; R_OVERHEAD stays last. */
enum {
	R_POOL, R_REMOTE, R_LOCAL, R_BATCH, R_SCALE2, R_SCALE4,
	R_REMOTE_B2B, R_SCALE2_FLOOR, R_SCALE4_FLOOR, R_SCALE2_USER,
	R_SCALE4_USER, R_REMOTE_X, R_SCALE2_X, R_SCALE2_X_FLOOR, R_SCALE2_RX,
	R_SCALE2_RX_FLOOR, R_OVERHEAD, R_COUNT
};
#define R_FIRST_X	R_REMOTE_X
#define R_FIRST_RX	R_SCALE2_RX

/* A ratio: its definition, then its median over the rounds in use. */
struct ratio {
	const char *key;
	double target;
	int at_most;		/* target is a maximum, else a minimum */
	const char *what;
	int have;		/* else NA */
	double value, lo, hi, cover;
	int n, outliers;
};

static const struct ratio ratio_def[R_COUNT] = {
	[R_POOL] = { "ratio_pool_vs_dispatch", 2.6, 1,
		"pool ALLOC+FREE / dispatch floor" },
	[R_REMOTE] = { "ratio_remote_vs_floor", 1.5, 1,
		"remote hops=1 / (2 x dispatch + IPI, one per syscall)" },
	[R_LOCAL] = { "ratio_local_vs_pool", 1.5, 1,
		"Dionysos on its CPU / pool" },
	[R_BATCH] = { "ratio_batch_vs_single", 0.25, 1,
		"batched fill / single-call fill" },
	[R_SCALE2] = { "scale_2proc", 1.6, 0,
		"throughput 2 procs / 1 proc" },
	[R_SCALE4] = { "scale_4proc", 0, 0,
		"throughput 4 procs / 1 proc" },
	[R_REMOTE_B2B] = { "ratio_remote_vs_floor_b2b", 0, 1,
		"remote hops=1 / (2 x dispatch + IPI, back to back)" },
	[R_SCALE2_FLOOR] = { "scale_2proc_floor", 0, 0,
		"scale_2proc of 2 x ENOTTY: the guest's own" },
	[R_SCALE4_FLOOR] = { "scale_4proc_floor", 0, 0,
		"scale_4proc of 2 x ENOTTY" },
	[R_SCALE2_USER] = { "scale_2proc_user", 0, 0,
		"scale_2proc of a loop with no system call" },
	[R_SCALE4_USER] = { "scale_4proc_user", 0, 0,
		"scale_4proc of that loop" },
	[R_REMOTE_X] = { "ratio_remote_vs_floor_xnode", 1.5, 1,
		"the same from another node / (2 x dispatch + its IPI once)" },
	[R_SCALE2_X] = { "scale_2proc_xnode", 0, 0,
		"scale_2proc, the 2 procs on 2 nodes" },
	[R_SCALE2_X_FLOOR] = { "scale_2proc_xnode_floor", 0, 0,
		"scale_2proc_floor, the 2 procs on 2 nodes" },
	[R_SCALE2_RX] = { "scale_2proc_remote_xnode", 0, 0,
		"remote pairs, 2 procs on 2 nodes / 1 proc" },
	[R_SCALE2_RX_FLOOR] = { "scale_2proc_remote_xnode_floor", 0, 0,
		"the same of ENOTTY + IPI to the serving CPU" },
	[R_OVERHEAD] = { "overhead_bytes_per_process", 8192, 1,
		"slab bytes per process, 256 live blocks" },
};

/*
 * The floors a round is judged by: what the ratios with a target divide
 * by (the pool pair is the local ratio's).
 */
enum {
	L_DISPATCH, L_REMOTE, L_POOL, L_FILL, L_TPUT, L_REMOTE_X, L_TPUT_R,
	L_COUNT
};

static const char * const line_name[L_COUNT] = {
	"dispatch", "remote_floor", "pool", "fill_single", "throughput_1proc",
	"remote_floor_xnode", "throughput_remote_floor_1proc"
};

/* One round: its figures, its throughputs and its ratios. */
struct round {
	struct figure fig[F_COUNT];
	double tput[TPUT_KINDS][MAX_PROCS + 1];
	double tput_x[TPUT_KINDS];	/* 2 procs on 2 nodes */
	/* The remote kinds: [0] 1 proc, [1] 2 procs on 2 nodes. */
	double tput_r[TPUT_RKINDS][2];
	double ratio[R_COUNT];
	int have[R_COUNT];
	int used;		/* else set aside: a floor out of line */
	int why;		/* the floor out of line (L_*), or -1 */
	double how;		/* that floor over the others' median */
};

/* The options, the CPUs and every result of one run. */
struct bench {
	int rounds;		/* rounds to use */
	int max_repeats;	/* rounds run again at most */
	int nprocs_mem;
	long dcpu;		/* dionysos_cpu */
	long hops_saved;	/* forward_hops before the run */
	int cpus[MAX_PROCS];	/* others than Dionysos's first */
	int ncpus;
	int other;		/* the CPU requests are made from */
	int xother;		/* one on another node than dcpu's, or -1 */
	int ninst;		/* Dionysos instances */
	/*
	 * The remote throughput's CPUs, [0] b->other and [1] one on another
	 * node that runs no Dionysos (-1: none), and the CPU serving each.
	 */
	int rcpu[2], rtarget[2];
	int loaded;		/* bootpool_test.ko was loaded by the run */
	struct round rd[MAX_ROUNDS];
	int nrd, used, aside;	/* rounds run, used, set aside */
	int all_used;		/* too few in line: every round used */
	/* Over the rounds in use: medians and their intervals. */
	struct figure fig[F_COUNT];
	double fig_lo[F_COUNT], fig_hi[F_COUNT];
	double tput[TPUT_KINDS][MAX_PROCS + 1];
	double tput_x[TPUT_KINDS];	/* 2 procs on 2 nodes */
	double tput_r[TPUT_RKINDS][2];
	struct ratio r[R_COUNT];
	double slab_pp;
	int have_overhead;
	int status;		/* 1 once anything failed */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: bootpool_bench [-n COUNT] [-r ROUNDS] [-R REPEATS] [-p PROCS] [-v]\n"
		"\n"
		"Measures bootpool's paths in the guest against floors measured\n"
		"in the same boot, in rounds, and prints a table, the rounds as\n"
		"CSV lines (\"csv: \"), then key=value lines.\n"
		"  -n COUNT   operations per figure and round after COUNT/10\n"
		"             warm-up ones (default 2000; a fill is one sample per\n"
		"             256 ops); a throughput run lasts COUNT x 50 us\n"
		"  -r ROUNDS  rounds, each measuring every floor and figure once,\n"
		"             one after the other (default 9); each figure and\n"
		"             ratio is the median over the rounds with a 95%%\n"
		"             distribution-free interval (order statistics;\n"
		"             [min, max] below 6 rounds, which then covers less)\n"
		"  -R REPEATS a round whose floor lies outside [m/%g, m x %g], m the\n"
		"             median of that floor over the other rounds run, is set\n"
		"             aside and another one run, up to REPEATS rounds beyond\n"
		"             ROUNDS (default 4); then the figures come from fewer\n"
		"             rounds, or from all when fewer than half are in line\n"
		"  -p PROCS   processes for the memory overhead (default 128)\n"
		"  -v         print progress on stderr\n"
		"Needs root, /dev/bootpool and bootpool_test.ko (loaded from\n"
		"$BOOTPOOL_MODULE_DIR if needed), and at least two CPUs.\n",
		LINE, LINE);
}

#define STEP(msg) do { if (verbose) fprintf(stderr, "bench: %s\n", msg); } while (0)

/* A whole number in [@min, @max] from @arg, or -1. */
static long number(const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 0);
	if (errno || end == arg || *end || v < min || v > max)
		return -1;
	return v;
}

/* Return: -1 to go on, else main()'s exit status (0 for -h, 2 for bad usage). */
static int parse_args(struct bench *b, int argc, char **argv)
{
	int opt, bad = 0;

	while ((opt = getopt(argc, argv, "n:p:r:R:vh")) != -1) {
		switch (opt) {
		case 'r':
			b->rounds = number(optarg, 1, MAX_ROUNDS / 2);
			bad |= b->rounds < 0;
			break;
		case 'R':
			b->max_repeats = number(optarg, 0, MAX_ROUNDS / 2);
			bad |= b->max_repeats < 0;
			break;
		case 'n':
			nops = number(optarg, 10, 10000000);
			bad |= nops < 0;
			break;
		case 'p':
			b->nprocs_mem = number(optarg, 1, 4096);
			bad |= b->nprocs_mem < 0;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (bad || optind != argc) {
		fprintf(stderr, "bootpool_bench: -r takes 1 to %d, -R 0 to %d, -n 10 to 10000000, -p 1 to 4096\n",
			MAX_ROUNDS / 2, MAX_ROUNDS / 2);
		usage(stderr);
		return 2;
	}
	return -1;
}

/*
 * Whether the module runs several Dionysos instances (dionysos_cpus set):
 * then a request from another node goes to that node's instance, and
 * there is no cross-node route to measure.
 */
static int has_instances(void)
{
	FILE *f = fopen(BOOTPOOL_PARAMS "dionysos_cpus", "r");
	char v[64] = "";

	if (!f)
		return 0;
	if (!fgets(v, sizeof(v), f))
		v[0] = 0;
	fclose(f);
	return v[0] && v[0] != '\n' && strncmp(v, "(null)", 6);
}

/* Dionysos instances as debugfs dionysos lists them. */
struct inst {
	int cpu, node;
};

#define MAX_INST	16

/*
 * The instances' CPUs and nodes from debugfs dionysos; 0 when it lists
 * none (a module without the file).
 */
static int read_instances(struct inst *in)
{
	FILE *f = fopen(DIONYSOS_DEBUGFS, "r");
	char line[512];
	int n = 0;

	while (f && n < MAX_INST && fgets(line, sizeof(line), f))
		if (sscanf(line, "instance=%*u cpu=%d node=%d", &in[n].cpu,
			   &in[n].node) == 2)
			n++;
	if (f)
		fclose(f);
	return n;
}

/* The NUMA node of @cpu, or -1 when sysfs does not say. */
static int cpu_node(long cpu)
{
	char path[96];
	int node;

	for (node = 0; node < 64; node++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/cpu%ld", node, cpu);
		if (!access(path, F_OK))
			return node;
	}
	return -1;
}

/*
 * The CPU serving requests made on @cpu: the instance on its node, or
 * with none there (one Dionysos) the first listed; dcpu without the list.
 */
static int serving_cpu(const struct bench *b, const struct inst *in, int n,
		       int cpu)
{
	int i;

	for (i = 0; i < n; i++)
		if (in[i].node == cpu_node(cpu))
			return in[i].cpu;
	return n ? in[0].cpu : b->dcpu;
}

/*
 * The remote throughput's CPUs: b->other, and the first CPU on another
 * node that runs no Dionysos; rcpu[1] stays -1 on one node.
 */
static void setup_remote_cpus(struct bench *b, long ncpu)
{
	struct inst in[MAX_INST];
	int n = read_instances(in), k, i, busy;

	b->ninst = n ? n : 1;
	b->rcpu[0] = b->other;
	b->rcpu[1] = -1;
	for (k = 0; k < ncpu && b->rcpu[1] < 0; k++) {
		if (cpu_node(k) < 0 || cpu_node(k) == cpu_node(b->other))
			continue;
		for (busy = k == b->dcpu, i = 0; i < n; i++)
			busy |= in[i].cpu == k;
		if (!busy)
			b->rcpu[1] = k;
	}
	for (k = 0; k < 2; k++)
		b->rtarget[k] = b->rcpu[k] < 0 ? -1 :
				serving_cpu(b, in, n, b->rcpu[k]);
}

/*
 * Read bootpool's parameters and choose the CPUs: others than Dionysos's
 * first, Dionysos's last. Return: 0, or -1 when bootpool is not loaded or
 * there are not two CPUs.
 */
static int setup_cpus(struct bench *b)
{
	long ncpu;
	int k;

	b->dcpu = bp_param_get("dionysos_cpu");
	b->hops_saved = bp_param_get("forward_hops");
	if (b->dcpu < 0 || b->hops_saved < 0 || access(BOOTPOOL_DEV, R_OK | W_OK)) {
		fail("bootpool is not loaded (no %s or %s)", BOOTPOOL_DEV,
		     BOOTPOOL_PARAMS);
		return -1;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	for (k = 0; k < ncpu && b->ncpus < MAX_PROCS; k++)
		if (k != b->dcpu)
			b->cpus[b->ncpus++] = k;
	if (b->ncpus < MAX_PROCS && b->dcpu < ncpu)
		b->cpus[b->ncpus++] = b->dcpu;
	if (ncpu < 2) {
		fail("needs two CPUs, has %ld", ncpu);
		return -1;
	}
	b->other = b->cpus[0];
	b->xother = -1;
	for (k = 0; k < ncpu && b->xother < 0 && !has_instances(); k++)
		if (cpu_node(k) >= 0 && cpu_node(k) != cpu_node(b->dcpu) &&
		    cpu_node(b->other) == cpu_node(b->dcpu))
			b->xother = k;
	setup_remote_cpus(b, ncpu);
	return 0;
}

/*
 * The figures of one round, each in a child of its own, into sh: every
 * path right after its floor (the IPI floor in the remote pairs' own
 * child, one round trip after each pair).
 */
static void round_figures(struct bench *b)
{
	STEP("floors");
	if (!b->status && !in_child(fig_floors, b->other))
		parse_floors();
	else
		b->status = 1;
	STEP("dispatch");
	b->status |= in_child(fig_dispatch, b->other) != 0;
	STEP("pool");
	b->status |= in_child(fig_pool, b->other) != 0;
	STEP("dionysos local");
	b->status |= in_child(fig_local, b->dcpu) != 0;
	STEP("dionysos remote");
	if (bp_param_set_long("forward_hops", 1)) {
		fail("cannot set forward_hops");
		b->status = 1;
	}
	b->status |= in_child(fig_remote1, b->other) != 0;
	if (b->xother >= 0) {
		STEP("dionysos remote, from another node");
		cross_node = 1;
		b->status |= in_child(fig_remote1, b->xother) != 0;
		cross_node = 0;
	}
	bp_param_set_long("forward_hops", 3);
	b->status |= in_child(fig_remote3, b->other) != 0;
	bp_param_set_long("forward_hops", b->hops_saved);
	STEP("fill");
	b->status |= in_child(fig_fill_single, b->other) != 0;
#ifdef BOOTPOOL_IOC_ALLOC_BATCH
	b->status |= in_child(fig_fill_batch, b->other) != 0;
#endif
}

/*
 * The remote kinds, one process then two on two nodes, each kind right
 * after its floor, over one hop.
 */
static void round_remote_throughput(struct bench *b, struct round *rd)
{
	static const enum tput_kind order[] = { TPUT_RFLOOR, TPUT_REMOTE };
	unsigned int i;
	double t;
	int k;

	STEP("remote throughput on two nodes");
	if (bp_param_set_long("forward_hops", 1)) {
		fail("cannot set forward_hops");
		b->status = 1;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		for (k = 1; k <= 2; k++) {
			t = throughput(b->rcpu, b->rtarget, k, order[i]);
			if (t < 0) {
				fail("%s throughput, %d process%s, failed",
				     tput_name[order[i]], k, k > 1 ? "es" : "");
				b->status = 1;
			} else {
				rd->tput_r[order[i] - TPUT_KINDS][k - 1] = t;
			}
		}
	}
	bp_param_set_long("forward_hops", b->hops_saved);
}

/* The throughput runs of one round, into @rd. */
static void round_throughput(struct bench *b, struct round *rd)
{
	enum tput_kind kind;
	double t;
	int k;

	STEP("throughput");
	for (k = 1; k <= MAX_PROCS && k <= b->ncpus; k *= 2) {
		for (kind = 0; kind < TPUT_KINDS; kind++) {
			t = throughput(b->cpus, NULL, k, kind);
			if (t < 0) {
				fail("%s throughput with %d processes failed",
				     tput_name[kind], k);
				b->status = 1;
			} else {
				rd->tput[kind][k] = t;
			}
		}
	}
	for (kind = 0; kind < TPUT_USER && b->xother >= 0; kind++) {
		int two[2] = { b->other, b->xother };

		t = throughput(two, NULL, 2, kind);
		if (t < 0) {
			fail("%s throughput on two nodes failed",
			     tput_name[kind]);
			b->status = 1;
		} else {
			rd->tput_x[kind] = t;
		}
	}
	if (b->rcpu[1] >= 0)
		round_remote_throughput(b, rd);
}

static void ratio_set(struct round *rd, int i, double value)
{
	rd->ratio[i] = value;
	rd->have[i] = 1;
}

/* The ratios of one round, from its own figures. */
static void round_ratios(struct round *rd)
{
	/* Each throughput kind's scale_2proc; its scale_4proc follows. */
	static const int scale_at[TPUT_KINDS] = {
		[TPUT_POOL] = R_SCALE2,
		[TPUT_ENOTTY] = R_SCALE2_FLOOR,
		[TPUT_USER] = R_SCALE2_USER,
	};
	const struct figure *f = rd->fig;
	double disp = f[F_DISPATCH].median, pool = f[F_POOL].median;
	enum tput_kind kind;

	if (f[F_DISPATCH].ok && f[F_POOL].ok && disp > 0)
		ratio_set(rd, R_POOL, pool / disp);
	if (f[F_DISPATCH].ok && f[F_REMOTE1].ok && f[F_IPI_ONCE].ok)
		ratio_set(rd, R_REMOTE, f[F_REMOTE1].median /
			  (2 * disp + f[F_IPI_ONCE].median));
	if (f[F_DISPATCH].ok && f[F_REMOTE1_X].ok && f[F_IPI_ONCE_X].ok)
		ratio_set(rd, R_REMOTE_X, f[F_REMOTE1_X].median /
			  (2 * disp + f[F_IPI_ONCE_X].median));
	if (rd->tput[TPUT_POOL][1] > 0 && rd->tput_x[TPUT_POOL] > 0)
		ratio_set(rd, R_SCALE2_X, rd->tput_x[TPUT_POOL] /
			  rd->tput[TPUT_POOL][1]);
	if (rd->tput[TPUT_ENOTTY][1] > 0 && rd->tput_x[TPUT_ENOTTY] > 0)
		ratio_set(rd, R_SCALE2_X_FLOOR, rd->tput_x[TPUT_ENOTTY] /
			  rd->tput[TPUT_ENOTTY][1]);
	for (kind = TPUT_REMOTE; kind < TPUT_ALL; kind++) {
		const double *tr = rd->tput_r[kind - TPUT_KINDS];

		if (tr[0] > 0 && tr[1] > 0)
			ratio_set(rd, kind == TPUT_REMOTE ? R_SCALE2_RX :
				  R_SCALE2_RX_FLOOR, tr[1] / tr[0]);
	}
	if (f[F_DISPATCH].ok && f[F_REMOTE1].ok && f[F_KIPI].ok)
		ratio_set(rd, R_REMOTE_B2B, f[F_REMOTE1].median /
			  (2 * disp + f[F_KIPI].median));
	if (f[F_LOCAL].ok && f[F_POOL].ok && pool > 0)
		ratio_set(rd, R_LOCAL, f[F_LOCAL].median / pool);
	if (f[F_FILL_BATCH].ok && f[F_FILL_SINGLE].ok &&
	    f[F_FILL_SINGLE].median > 0)
		ratio_set(rd, R_BATCH, f[F_FILL_BATCH].median /
			  f[F_FILL_SINGLE].median);
	for (kind = 0; kind < TPUT_KINDS; kind++) {
		const double *tp = rd->tput[kind];
		int at = scale_at[kind];

		if (tp[1] > 0 && tp[2] > 0)
			ratio_set(rd, at, tp[2] / tp[1]);
		if (tp[1] > 0 && tp[4] > 0)
			ratio_set(rd, at + 1, tp[4] / tp[1]);
	}
}

/* The floors of @rd a round is judged by; 0 for one not measured. */
static void round_floors(const struct round *rd, double *v)
{
	const struct figure *f = rd->fig;

	v[L_DISPATCH] = f[F_DISPATCH].ok ? f[F_DISPATCH].median : 0;
	v[L_REMOTE] = f[F_DISPATCH].ok && f[F_IPI_ONCE].ok ?
		2 * f[F_DISPATCH].median + f[F_IPI_ONCE].median : 0;
	v[L_POOL] = f[F_POOL].ok ? f[F_POOL].median : 0;
	v[L_FILL] = f[F_FILL_SINGLE].ok ? f[F_FILL_SINGLE].median : 0;
	v[L_TPUT] = rd->tput[TPUT_POOL][1];
	v[L_REMOTE_X] = f[F_DISPATCH].ok && f[F_IPI_ONCE_X].ok ?
		2 * f[F_DISPATCH].median + f[F_IPI_ONCE_X].median : 0;
	v[L_TPUT_R] = rd->tput_r[TPUT_RFLOOR - TPUT_KINDS][0];
}

/*
 * Whether round @i's floors are in line with those of the other rounds
 * run, set aside or not (so that one disturbed round cannot make the
 * others look out of line); all are while there is no other. If not,
 * say which and by how much.
 */
static int in_line(struct bench *b, int i)
{
	double v[L_COUNT], o[L_COUNT], others[MAX_ROUNDS];
	struct round *rd = &b->rd[i];
	int l, j, n;

	round_floors(rd, v);
	for (l = 0; l < L_COUNT; l++) {
		double m;

		if (v[l] <= 0)
			continue;
		for (n = 0, j = 0; j < b->nrd; j++) {
			if (j == i)
				continue;
			round_floors(&b->rd[j], o);
			if (o[l] > 0)
				others[n++] = o[l];
		}
		if (!n)
			continue;
		m = bp_median(others, n);
		if (v[l] > m * LINE || v[l] < m / LINE) {
			rd->why = l;
			rd->how = v[l] / m;
			return 0;
		}
	}
	rd->why = -1;
	return 1;
}

/* One round into b->rd[b->nrd]: every figure, then the throughputs. */
static void run_round(struct bench *b)
{
	struct round *rd = &b->rd[b->nrd];

	memset(sh->fig, 0, sizeof(sh->fig));
	round_figures(b);
	memcpy(rd->fig, sh->fig, sizeof(rd->fig));
	round_throughput(b, rd);
	round_ratios(rd);
	b->nrd++;
	if (verbose)
		fprintf(stderr, "bench: round %d done\n", b->nrd);
}

/*
 * Judge every round run against all the others; return how many are in
 * line. When fewer than half the rounds wanted are (the host's speed
 * jumps between two levels, and neither holds), every round is used, and
 * the intervals show the spread.
 */
static int judge_rounds(struct bench *b)
{
	int verdict[MAX_ROUNDS], i;

	for (i = 0; i < b->nrd; i++)
		verdict[i] = in_line(b, i);
	b->used = 0;
	for (i = 0; i < b->nrd; i++) {
		b->rd[i].used = verdict[i];
		b->used += verdict[i];
	}
	b->aside = b->nrd - b->used;
	return b->used;
}

/*
 * Rounds until b->rounds of them are in line with the others, or the
 * repeats are spent.
 */
static void run_rounds(struct bench *b)
{
	int limit = b->rounds + b->max_repeats, i;

	while (!b->status && b->nrd < limit) {
		run_round(b);
		if (b->nrd >= b->rounds && judge_rounds(b) >= b->rounds)
			break;
	}
	if (judge_rounds(b) * 2 < b->rounds) {
		b->all_used = 1;
		for (i = 0; i < b->nrd; i++)
			b->rd[i].used = 1;
		b->used = b->nrd;
	}
}

/* Median and interval over the rounds in use of the @n values in @v. */
static void over_rounds(double *v, int n, double *med, double *lo,
			double *hi, double *cover)
{
	double c;

	if (!cover)
		cover = &c;
	bp_median_interval(v, n, med, lo, hi, cover);
}

/*
 * @med: the median over the rounds in use of the throughput each round
 * holds at byte @off of its struct round, those that ran (> 0); left as
 * it is when none ran.
 */
static void tput_over_rounds(const struct bench *b, size_t off, double *med)
{
	double v[MAX_ROUNDS], unused;
	int j, n;

	for (n = 0, j = 0; j < b->nrd; j++) {
		double t = *(const double *)((const char *)&b->rd[j] + off);

		if (b->rd[j].used && t > 0)
			v[n++] = t;
	}
	if (n)
		over_rounds(v, n, med, &unused, &unused, NULL);
}

/* Each figure, throughput and ratio over the rounds in use. */
static void summarize_rounds(struct bench *b)
{
	double v[MAX_ROUNDS], p[MAX_ROUNDS];
	int i, j, k, n;

	for (i = 0; i < F_COUNT; i++) {
		for (n = 0, j = 0; j < b->nrd; j++) {
			const struct figure *f = &b->rd[j].fig[i];

			if (!b->rd[j].used || !f->ok)
				continue;
			v[n] = f->median;
			p[n++] = f->p99;
			b->fig[i].ops = f->ops;
		}
		if (!n)
			continue;
		b->fig[i].ok = 1;
		over_rounds(v, n, &b->fig[i].median, &b->fig_lo[i],
			    &b->fig_hi[i], NULL);
		b->fig[i].p99 = bp_median(p, n);
	}
	for (i = 0; i < TPUT_KINDS; i++) {
		for (k = 1; k <= MAX_PROCS; k *= 2)
			tput_over_rounds(b, offsetof(struct round, tput[i][k]),
					 &b->tput[i][k]);
		tput_over_rounds(b, offsetof(struct round, tput_x[i]),
				 &b->tput_x[i]);
	}
	for (i = 0; i < TPUT_RKINDS; i++)
		for (k = 0; k < 2; k++)
			tput_over_rounds(b, offsetof(struct round, tput_r[i][k]),
					 &b->tput_r[i][k]);
	memcpy(b->r, ratio_def, sizeof(b->r));
	for (i = 0; i < R_OVERHEAD; i++) {
		struct ratio *r = &b->r[i];

		for (n = 0, j = 0; j < b->nrd; j++)
			if (b->rd[j].used && b->rd[j].have[i])
				v[n++] = b->rd[j].ratio[i];
		if (!n)
			continue;
		r->have = 1;
		r->n = n;
		over_rounds(v, n, &r->value, &r->lo, &r->hi, &r->cover);
		for (j = 0; j < n; j++)
			r->outliers += v[j] > r->value * LINE ||
				       v[j] < r->value / LINE;
	}
	if (b->have_overhead) {
		b->r[R_OVERHEAD].have = 1;
		b->r[R_OVERHEAD].n = 1;
		b->r[R_OVERHEAD].value = b->slab_pp;
	}
}

/* Every round, then the memory figure. */
static void measure(struct bench *b)
{
	if (load_test_module(&b->loaded))
		b->status = 1;
	run_rounds(b);
	if (b->loaded)
		syscall(SYS_delete_module, "bootpool_test", O_NONBLOCK);

	STEP("overhead");
	if (overhead(b->nprocs_mem, &b->slab_pp))
		b->status = 1;
	else
		b->have_overhead = 1;
	summarize_rounds(b);
}

/* ---- output ---- */

/*
 * Whether figure @i and ratio @r are reported: those from another node
 * only when there is one, so that a one-node guest's report stays as it
 * was.
 */
static int fig_shown(const struct bench *b, int i)
{
	return i < F_FIRST_X || b->xother >= 0;
}

static int ratio_shown(const struct bench *b, int r)
{
	if (r >= R_FIRST_RX && r < R_OVERHEAD)
		return b->rcpu[1] >= 0;
	return r < R_FIRST_X || r == R_OVERHEAD || b->xother >= 0;
}

static void print_table(const struct bench *b)
{
	char what[64];
	int i, k;

	printf("bootpool benchmark: %ld ops per figure and round, %d rounds used of %d run (%d set aside: a floor out of line), dionysos_cpu %ld, ",
	       nops, b->used, b->nrd, b->aside, b->dcpu);
	printf("other CPU %d, ", b->other);
	if (b->xother >= 0)
		printf("CPU %d on node %d (dionysos_cpu's: %d), ", b->xother,
		       cpu_node(b->xother), cpu_node(b->dcpu));
	printf("clocksource %s, clock_gettime %.0f ns (subtracted)\n",
	       clocksource, clock_ns);
	if (b->all_used)
		printf("fewer than half the rounds had their floors in line: every round is used\n");
	printf("\n");
	printf("  %-40s %10s %21s %10s %8s\n", "figure (ns per op), over the rounds",
	       "median", "[95% interval]", "p99", "ops");
	for (i = 0; i < F_COUNT; i++) {
		const struct figure *f = &b->fig[i];

		if (!fig_shown(b, i))
			continue;
		if (!f->ok)
			printf("  %-40s %10s\n", fig_def[i].label, "NA");
		else
			printf("  %-40s %10.0f [%9.0f,%9.0f] %10.0f %8ld\n",
			       fig_def[i].label, f->median, b->fig_lo[i],
			       b->fig_hi[i], f->p99, f->ops);
	}
	printf("\n  %-40s %12s %12s %12s\n", "throughput (ops/s), median of the rounds",
	       "pool pairs", "2 x ENOTTY", "user loop");
	for (k = 1; k <= MAX_PROCS; k *= 2)
		printf("  %d process%-31s %12.0f %12.0f %12.0f\n", k,
		       k > 1 ? "es" : "", b->tput[TPUT_POOL][k],
		       b->tput[TPUT_ENOTTY][k], b->tput[TPUT_USER][k]);
	if (b->xother >= 0)
		printf("  %-40s %12.0f %12.0f %12s\n", "2 processes on 2 nodes",
		       b->tput_x[TPUT_POOL], b->tput_x[TPUT_ENOTTY], "-");
	if (b->rcpu[1] >= 0) {
		printf("\n  %-40s %12s %12s\n",
		       b->ninst > 1 ? "remote throughput, one Dionysos per node" :
		       "remote throughput, one Dionysos",
		       "remote pairs", "ENOTTY+IPI");
		snprintf(what, sizeof(what), "1 process, CPU %d to CPU %d",
			 b->rcpu[0], b->rtarget[0]);
		printf("  %-40s %12.0f %12.0f\n", what, b->tput_r[0][0],
		       b->tput_r[1][0]);
		snprintf(what, sizeof(what), "2 on 2 nodes, CPU %d to %d, %d to %d",
			 b->rcpu[0], b->rtarget[0], b->rcpu[1], b->rtarget[1]);
		printf("  %-40s %12.0f %12.0f\n", what, b->tput_r[0][1],
		       b->tput_r[1][1]);
	}
	printf("\n  memory per process beyond the pool, 256 live blocks, %d processes:\n",
	       b->nprocs_mem);
	printf("  %-40s %10.0f\n", "slab delta (bytes)", b->slab_pp);
}

/*
 * met: the whole interval meets the target; median: only the median
 * does; MISSED: the median does not.
 */
static const char *verdict(const struct ratio *r)
{
	int med, lo, hi;

	med = r->at_most ? r->value <= r->target : r->value >= r->target;
	lo = r->at_most ? r->lo <= r->target : r->lo >= r->target;
	hi = r->at_most ? r->hi <= r->target : r->hi >= r->target;
	if (!med)
		return "MISSED";
	return lo && hi ? "met" : "median";
}

static void print_ratios(const struct bench *b)
{
	const struct ratio *r = b->r;
	int i, j;

	printf("\n  %-30s %7s %15s %8s  %-6s %s\n", "ratio", "median",
	       "[95% interval]", "target", "", "");
	for (i = 0; i < R_COUNT; i++) {
		char tgt[16] = "-", iv[32] = "";
		const char *met = "";

		if (!ratio_shown(b, i))
			continue;
		if (r[i].target > 0) {
			snprintf(tgt, sizeof(tgt), "%s%g",
				 r[i].at_most ? "<=" : ">=", r[i].target);
			if (r[i].have)
				met = i == R_OVERHEAD ?
				      (r[i].value <= r[i].target ? "met" : "MISSED") :
				      verdict(&r[i]);
		}
		if (!r[i].have) {
			printf("  %-30s %7s %15s %8s  %-6s %s\n", r[i].key, "NA",
			       "", tgt, "", r[i].what);
			continue;
		}
		if (i != R_OVERHEAD)
			snprintf(iv, sizeof(iv), "[%5.2f, %5.2f]", r[i].lo,
				 r[i].hi);
		printf(i == R_OVERHEAD ? "  %-30s %7.0f %15s %8s  %-6s %s\n" :
		       "  %-30s %7.2f %15s %8s  %-6s %s\n", r[i].key,
		       r[i].value, iv, tgt, met, r[i].what);
	}
	printf("\n  each round's ratios (* an outlier: outside [median/%g, median x %g]):\n",
	       LINE, LINE);
	for (i = 0; i < R_OVERHEAD; i++) {
		if (!r[i].have)
			continue;
		printf("  %-30s", r[i].key);
		for (j = 0; j < b->nrd; j++) {
			double v = b->rd[j].ratio[i];

			if (!b->rd[j].used || !b->rd[j].have[i])
				continue;
			printf(" %5.2f%s", v, v > r[i].value * LINE ||
			       v < r[i].value / LINE ? "*" : "");
		}
		printf("\n");
	}
	for (j = 0; j < b->nrd; j++)
		if (!b->rd[j].used && b->rd[j].why >= 0)
			printf("  round %d set aside: its %s was %.2f x the other rounds' median\n",
			       j + 1, line_name[b->rd[j].why], b->rd[j].how);
#ifndef BOOTPOOL_IOC_ALLOC_BATCH
	printf("  (ratio_batch_vs_single: the ABI has no BOOTPOOL_IOC_ALLOC_BATCH)\n");
#endif
	if (sh->err[0])
		printf("\n  error: %s\n", sh->err);
}

/* Every round as a CSV line, each prefixed "csv: " (scripts/bench). */
static void print_csv(const struct bench *b)
{
	int i, j, k, kind;

	printf("\ncsv: round,used,out_of_line,out_of_line_x");
	for (i = 0; i < F_COUNT; i++)
		if (fig_shown(b, i))
			printf(",%s_median_ns,%s_p99_ns", fig_def[i].key,
			       fig_def[i].key);
	for (kind = 0; kind < TPUT_KINDS; kind++)
		for (k = 1; k <= MAX_PROCS; k *= 2)
			printf(",throughput_%s_%dproc_ops", tput_name[kind], k);
	for (kind = TPUT_KINDS; kind < TPUT_ALL && b->rcpu[1] >= 0; kind++)
		printf(",throughput_%s_1proc_ops,throughput_%s_2proc_xnode_ops",
		       tput_name[kind], tput_name[kind]);
	for (i = 0; i < R_OVERHEAD; i++)
		if (ratio_shown(b, i))
			printf(",%s", ratio_def[i].key);
	printf("\n");
	for (j = 0; j < b->nrd; j++) {
		const struct round *rd = &b->rd[j];

		printf("csv: %d,%d,%s,%.2f", j + 1, rd->used,
		       rd->why >= 0 ? line_name[rd->why] : "",
		       rd->why >= 0 ? rd->how : 0);
		for (i = 0; i < F_COUNT; i++) {
			if (!fig_shown(b, i))
				continue;
			if (rd->fig[i].ok)
				printf(",%.0f,%.0f", rd->fig[i].median,
				       rd->fig[i].p99);
			else
				printf(",,");
		}
		for (kind = 0; kind < TPUT_KINDS; kind++)
			for (k = 1; k <= MAX_PROCS; k *= 2)
				printf(",%.0f", rd->tput[kind][k]);
		for (kind = 0; kind < TPUT_RKINDS && b->rcpu[1] >= 0; kind++)
			printf(",%.0f,%.0f", rd->tput_r[kind][0],
			       rd->tput_r[kind][1]);
		for (i = 0; i < R_OVERHEAD; i++) {
			if (!ratio_shown(b, i))
				continue;
			if (rd->have[i])
				printf(",%.3f", rd->ratio[i]);
			else
				printf(",");
		}
		printf("\n");
	}
}

/* The key=value lines scripts/bench and the checks read. */
static void print_kv(const struct bench *b)
{
	const struct ratio *r = b->r;
	enum tput_kind kind;
	int i, k;

	printf("\n");
	printf("ops=%ld\nrounds=%d\nrounds_run=%d\nrounds_out_of_line=%d\nrounds_all_used=%d\n",
	       nops, b->used, b->nrd, b->aside, b->all_used);
	printf("clocksource=%s\nclock_gettime_ns=%.0f\n", clocksource, clock_ns);
	for (i = 0; i < F_COUNT; i++) {
		const char *key = fig_def[i].key;
		const struct figure *f = &b->fig[i];

		if (!fig_shown(b, i))
			continue;
		if (!f->ok) {
			printf("%s_median_ns=NA\n%s_p99_ns=NA\n", key, key);
			continue;
		}
		printf("%s_median_ns=%.0f\n%s_lo_ns=%.0f\n%s_hi_ns=%.0f\n",
		       key, f->median, key, b->fig_lo[i], key, b->fig_hi[i]);
		printf("%s_p99_ns=%.0f\n%s_ops=%ld\n", key, f->p99, key, f->ops);
	}
	for (kind = 0; kind < TPUT_KINDS; kind++)
		for (k = 1; k <= MAX_PROCS; k *= 2)
			printf("throughput_%s%s%dproc_ops=%.0f\n",
			       kind ? tput_name[kind] : "",
			       kind ? "_" : "", k, b->tput[kind][k]);
	for (kind = 0; kind < TPUT_USER && b->xother >= 0; kind++)
		printf("throughput_%s%s2proc_xnode_ops=%.0f\n",
		       kind ? tput_name[kind] : "", kind ? "_" : "",
		       b->tput_x[kind]);
	if (b->rcpu[1] >= 0) {
		printf("dionysos_instances=%d\n", b->ninst);
		for (kind = TPUT_KINDS; kind < TPUT_ALL; kind++)
			printf("throughput_%s_1proc_ops=%.0f\nthroughput_%s_2proc_xnode_ops=%.0f\n",
			       tput_name[kind], b->tput_r[kind - TPUT_KINDS][0],
			       tput_name[kind], b->tput_r[kind - TPUT_KINDS][1]);
	}
	/* overhead_bytes_per_process, the last, ends the report. */
	for (i = 0; i < R_COUNT; i++) {
		if (!ratio_shown(b, i))
			continue;
		if (!r[i].have) {
			printf("%s=NA\n", r[i].key);
		} else if (i == R_OVERHEAD) {
			printf("%s=%.0f\n", r[i].key, r[i].value);
		} else {
			printf("%s=%.2f\n", r[i].key, r[i].value);
			printf("%s_lo=%.2f\n%s_hi=%.2f\n%s_cover=%.3f\n%s_outliers=%d\n",
			       r[i].key, r[i].lo, r[i].key, r[i].hi, r[i].key,
			       r[i].cover, r[i].key, r[i].outliers);
		}
	}
}

int main(int argc, char **argv)
{
	static struct bench b = {
		.rounds = 9, .max_repeats = 4, .nprocs_mem = 128, .slab_pp = -1,
	};
	int ret;

	ret = parse_args(&b, argc, argv);
	if (ret >= 0)
		return ret;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	if (setup_cpus(&b))
		return 1;

	read_clocksource();
	measure_clock();
	measure(&b);

	print_table(&b);
	print_ratios(&b);
	print_csv(&b);
	print_kv(&b);
	return b.status ? 1 : 0;
}
