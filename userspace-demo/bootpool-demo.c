// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool-demo: launch N domains that replay a domain-init allocation
 * trace under each switching policy and placement, and compare what they
 * cost.
 *
 * A domain is a forked process. It opens /dev/bootpool (which reserves its
 * pool), sets its policy, pins itself to a CPU, waits for the start signal,
 * replays the trace (one ALLOC per line, nothing freed, as a starting
 * Barrelfish domain never returns fixed-allocator pages), reads its own
 * counters with BOOTPOOL_IOC_STATS and sends them to the parent through a
 * pipe. Every count printed comes from the module: the domains' STATS, and
 * the global counters and max_queue_depth in debugfs; the demo only adds
 * them up.
 *
 * See --help and userspace-demo/README.md.
 */
#include "bootpool_util.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#define DEFAULT_TRACE	"traces/barrelfish-domain-init.trace"
#define MAX_CONFIGS	64
#define MAX_LIST	8

enum mode { MODE_SEQ, MODE_BURST };
static const char * const mode_names[] = { "one-by-one", "burst" };

/* A placement: on dionysos_cpu (hops 0), or off it with forward_hops. */
struct placement {
	int hops;		/* 0: on dionysos_cpu */
	char name[16];
};

/*
 * A request with a fallback (SIZE/FALLBACK in the file) is one the fixed
 * allocator of a Barrelfish domain refuses, after which the domain asks
 * again for FALLBACK bytes. The replay makes the second request only,
 * unless --no-fallback is given (see replay_size()).
 */
struct trace {
	uint64_t *size;
	uint64_t *fallback;	/* 0: none */
	int nr;
	int retried;		/* requests with a fallback */
	uint64_t bytes;
	const char *name;	/* file name without its directory */
};

/* What a domain sends its parent. */
struct report {
	struct bootpool_stats st;
	uint64_t lat_ns;
	int32_t cpu;
	int32_t err;		/* errno of the first failure, or 0 */
	int32_t err_line;	/* trace request that failed */
	int32_t retried;	/* requests replayed with their fallback size */
};

/* Debugfs counters read around each configuration. */
struct global {
	long remote_allocs, pool_allocs, ipis, hops;
};

struct result {
	int policy;
	struct placement pl;
	int mode;		/* an enum mode */
	int n;
	double mem_kib, pool_kib, remote_kib;
	double dreq, preq, ipis, hops;
	double lat_med_us, lat_p99_us;
	long max_qdepth;
	int switched;
	int reason;		/* of the first domain; -1 when they differ */
	double pages_left;	/* free pool pages at the switch, switched only */
	double retried;		/* requests replayed with their fallback size */
	struct global dbg;	/* debugfs deltas, totals over all domains */
	int failed;
};

static const char *prog = "bootpool-demo";
static int no_fallback;	/* --no-fallback: replay SIZE of SIZE/FALLBACK */

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bootpool-demo [-n N] [-t TRACE] [-p POLICIES] [-P PLACEMENTS]\n"
"                     [-m MODES] [--no-fallback] [--csv FILE|-]\n"
"       bootpool-demo --sweep FROM:TO:STEP [-n N] [-P offH] [-t TRACE]...\n"
"                     [--no-fallback] [--csv FILE|-]\n"
"       bootpool-demo --from-ftrace [--pid PID] [FILE]\n"
"\n"
"Launches N domains (processes) that each open /dev/bootpool, set a policy\n"
"and replay TRACE, for every policy x placement x mode; prints a table per\n"
"configuration and the late-vs-early headline.  Must run as root with the\n"
"module loaded and debugfs mounted.\n"
"\n"
"  -n N            domains per configuration (default 32)\n"
"  -t TRACE        trace file (default: %s beside the binary)\n"
"  -p POLICIES     comma list of late, early, hybrid (default all)\n"
"  -P PLACEMENTS   comma list of on, offH: on = pinned to dionysos_cpu;\n"
"                  offH = pinned to the other CPUs, forward_hops=H\n"
"                  (default on,off1,off3)\n"
"  -m MODES        comma list of seq (one by one), burst (all released at\n"
"                  once) (default seq,burst)\n"
"  --no-fallback   replay SIZE of a SIZE/FALLBACK line, as if the fixed\n"
"                  allocator took it (the seed's literal rule)\n"
"  --csv FILE      also write the results as CSV; '-' prints them on\n"
"                  stdout as lines prefixed 'csv:'\n"
"  --sweep F:T:S   instead: for K = F, F+S, ... T, replay K page-sized\n"
"                  requests and then one of 16 KiB under late and early\n"
"                  (one by one, in the first off placement of -P, default\n"
"                  off1), and each -t TRACE as a marked point; print the\n"
"                  saving, Dionysos requests and IPIs per domain against\n"
"                  the pool requests before the switch\n"
"  --from-ftrace   convert text ftrace output holding bootpool_alloc\n"
"                  events (FILE or stdin) into a trace on stdout; keeps the\n"
"                  events of --pid PID, or of the first pid seen\n"
"\n"
"Trace format: one request a line, 'SIZE[/FALLBACK] [TAG]'; SIZE in bytes\n"
"(a K or M suffix multiplies by 1024 or 1048576); FALLBACK, smaller than\n"
"SIZE, is what the domain asks instead when its fixed allocator refuses\n"
"SIZE, and what is replayed; '#' starts a comment.\n",
		DEFAULT_TRACE);
}

/* ---- sysfs and debugfs ---- */

static void write_long(const char *path, long v)
{
	int err = bp_write_long(path, v);

	if (err)
		die("cannot write %ld to %s: %s", v, path, strerror(-err));
}

static void read_global(struct global *g)
{
	static const char * const keys[] = {
		"remote_allocs", "pool_allocs", "ipis", "hops",
	};
	double v[ARRAY_SIZE(keys)] = { 0 };
	int err;

	err = bp_kv_read(BOOTPOOL_DEBUGFS "counters", keys, v, ARRAY_SIZE(keys));
	if (err < 0)
		die("cannot read " BOOTPOOL_DEBUGFS "counters: %s (is debugfs mounted?)",
		    strerror(-err));
	g->remote_allocs = v[0];
	g->pool_allocs = v[1];
	g->ipis = v[2];
	g->hops = v[3];
}

/* ---- traces ---- */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'K' || *end == 'k') {
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v <<= 20;
		end++;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

/* "SIZE" or "SIZE/FALLBACK": 0 on success, @fallback 0 when there is none. */
static int parse_request(char *tok, uint64_t *size, uint64_t *fallback)
{
	char *slash = strchr(tok, '/');
	int err;

	*fallback = 0;
	if (slash) {
		*slash = '\0';
		if (parse_size(slash + 1, fallback) || !*fallback) {
			*slash = '/';
			return -1;
		}
	}
	err = parse_size(tok, size) || !*size ||
	      *size > BOOTPOOL_MAX_ALLOC_SIZE || (slash && *fallback >= *size);
	if (slash)
		*slash = '/';
	return err ? -1 : 0;
}

static void load_trace(const char *path, struct trace *t)
{
	char line[512];
	int lineno = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open trace %s: %s", path, strerror(errno));
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		char *tok;
		uint64_t size, fallback;

		lineno++;
		if (hash)
			*hash = '\0';
		tok = strtok(line, " \t\r\n");
		if (!tok)
			continue;
		if (parse_request(tok, &size, &fallback))
			die("%s:%d: '%s' is not SIZE or SIZE/FALLBACK, sizes from 1 to %llu bytes, FALLBACK below SIZE",
			    path, lineno, tok,
			    (unsigned long long)BOOTPOOL_MAX_ALLOC_SIZE);
		if (t->nr == cap) {
			cap = cap ? 2 * cap : 128;
			t->size = realloc(t->size, cap * sizeof(*t->size));
			t->fallback = realloc(t->fallback,
					      cap * sizeof(*t->fallback));
			if (!t->size || !t->fallback)
				die("out of memory");
		}
		t->size[t->nr] = size;
		t->fallback[t->nr++] = fallback;
		t->retried += !!fallback;
		t->bytes += fallback && !no_fallback ? fallback : size;
	}
	fclose(f);
	if (!t->nr)
		die("trace %s holds no request", path);
	t->name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/*
 * Turn text ftrace output into a trace. Event lines look like
 *   prog-123 [001] ..... 12.345: bootpool_alloc: pid=123 size=4096 ...
 */
static int from_ftrace(const char *path, long pid)
{
	char line[1024];
	long first = -1, other = 0, kept = 0;
	FILE *f = path ? fopen(path, "r") : stdin;

	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		const char *ev = strstr(line, "bootpool_alloc: ");
		unsigned long long size;
		long p;

		if (!ev || sscanf(ev, "bootpool_alloc: pid=%ld size=%llu",
				  &p, &size) != 2)
			continue;
		if (pid < 0 && first < 0) {
			first = p;
			printf("# recorded from the bootpool_alloc tracepoint, pid %ld\n",
			       p);
		} else if (pid >= 0 && first < 0) {
			first = pid;
			printf("# recorded from the bootpool_alloc tracepoint, pid %ld\n",
			       pid);
		}
		if (p != first) {
			other++;
			continue;
		}
		printf("%llu\n", size);
		kept++;
	}
	if (f != stdin)
		fclose(f);
	if (other)
		fprintf(stderr, "%s: ignored %ld events of other pids (use --pid)\n",
			prog, other);
	if (!kept) {
		fprintf(stderr, "%s: no bootpool_alloc event found\n", prog);
		return 1;
	}
	return 0;
}

/* ---- one domain ---- */

/*
 * What the domain asks for at request @i. A request with a fallback is
 * refused by the fixed allocator in the domain's own library, which costs
 * no message, and asked again smaller: only the second request reaches
 * the module, under every policy, since upstream makes these requests
 * before its own switch to the memory service. --no-fallback replays the
 * first request instead: the pool sees it and, under the late policy,
 * switches on it.
 */
static uint64_t replay_size(const struct trace *t, int i)
{
	return t->fallback[i] && !no_fallback ? t->fallback[i] : t->size[i];
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(2);
		p += w;
		len -= w;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin(int cpu)
{
	int err = bp_pin_cpu(cpu);

	if (err)
		die("cannot bind to CPU %d: %s", cpu, strerror(-err));
}

/*
 * The child: attach, set the policy, pin, say ready, wait for the start,
 * replay, report. Never returns.
 */
static void domain(const struct trace *t, int policy, int cpu,
		   int ready_fd, int go_fd, int report_fd)
{
	struct report r;
	uint64_t start;
	int fd, i, err;
	char c;

	memset(&r, 0, sizeof(r));
	pin(cpu);
	fd = bp_open_domain(policy);
	if (fd < 0) {
		r.err = -fd;
		r.err_line = -1;
	}
	write_all(ready_fd, "r", 1);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;

	if (!r.err) {
		start = now_ns();
		for (i = 0; i < t->nr; i++) {
			err = bp_alloc(fd, replay_size(t, i), NULL);
			if (err) {
				r.err = -err;
				r.err_line = i + 1;
				break;
			}
		}
		r.lat_ns = now_ns() - start;
		r.retried = no_fallback ? 0 : t->retried;
		err = bp_stats(fd, &r.st);
		if (err && !r.err) {
			r.err = -err;
			r.err_line = -2;
		}
	}
	r.cpu = sched_getcpu();
	write_all(report_fd, &r, sizeof(r));
	_exit(0);
}

/* ---- one configuration ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("a domain died before reporting (%s)",
			    r ? strerror(errno) : "EOF");
		p += r;
		len -= r;
	}
}

/*
 * Launch @k domains, release them together once all are ready and collect
 * their reports into @rep.
 */
static void launch(const struct trace *t, int policy, const int *cpus, int k,
		   struct report *rep)
{
	int ready[2], go[2], report[2];
	pid_t *pids = calloc(k, sizeof(*pids));
	char c;
	int i, status;

	if (!pids || pipe(ready) || pipe(go) || pipe(report))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	for (i = 0; i < k; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork: %s", strerror(errno));
		if (!pids[i]) {
			close(ready[0]);
			close(go[1]);
			close(report[0]);
			domain(t, policy, cpus[i], ready[1], go[0], report[1]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(report[1]);
	for (i = 0; i < k; i++)
		read_full(ready[0], &c, 1);
	close(go[1]);		/* the start signal: EOF for every domain */
	for (i = 0; i < k; i++)
		read_full(report[0], &rep[i], sizeof(rep[i]));
	for (i = 0; i < k; i++)
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			die("domain %d did not exit cleanly", (int)pids[i]);
	close(ready[0]);
	close(report[0]);
	free(pids);
}

static int nr_cpus;
static int dionysos_cpu;

static void run_config(const struct trace *t, int n, struct result *res)
{
	struct report *rep = calloc(n, sizeof(*rep));
	uint64_t *lat = calloc(n, sizeof(*lat));
	int *cpus = calloc(n, sizeof(*cpus));
	struct global g0, g1;
	int i, off = 0;

	if (!rep || !lat || !cpus)
		die("out of memory");
	for (i = 0; i < n; i++) {
		if (!res->pl.hops) {
			cpus[i] = dionysos_cpu;
			continue;
		}
		/* Round robin over the CPUs other than dionysos_cpu. */
		if (off % nr_cpus == dionysos_cpu)
			off++;
		cpus[i] = off % nr_cpus;
		off++;
	}
	if (res->pl.hops)
		write_long(BOOTPOOL_PARAMS "forward_hops", res->pl.hops);

	read_global(&g0);
	write_long(BOOTPOOL_DEBUGFS "max_queue_depth", 0);
	if (res->mode == MODE_BURST) {
		launch(t, res->policy, cpus, n, rep);
	} else {
		for (i = 0; i < n; i++)
			launch(t, res->policy, &cpus[i], 1, &rep[i]);
	}
	res->max_qdepth = bp_read_long(BOOTPOOL_DEBUGFS "max_queue_depth");
	read_global(&g1);
	res->dbg.remote_allocs = g1.remote_allocs - g0.remote_allocs;
	res->dbg.pool_allocs = g1.pool_allocs - g0.pool_allocs;
	res->dbg.ipis = g1.ipis - g0.ipis;
	res->dbg.hops = g1.hops - g0.hops;

	res->n = n;
	res->reason = rep[0].st.switch_reason;
	for (i = 0; i < n; i++) {
		const struct bootpool_stats *st = &rep[i].st;

		if (rep[i].err) {
			if (!res->failed)
				fprintf(stderr,
					"%s: %s/%s/%s: domain on CPU %d failed at request %d: %s\n",
					prog, bp_policy_name(res->policy),
					res->pl.name, mode_names[res->mode],
					rep[i].cpu, rep[i].err_line,
					strerror(rep[i].err));
			res->failed++;
		}
		res->mem_kib += st->footprint_bytes / 1024.0;
		res->pool_kib += st->pool_pages * 4.0;
		res->remote_kib += st->remote_bytes / 1024.0;
		res->dreq += st->remote_allocs;
		res->preq += st->pool_allocs;
		res->ipis += st->ipis;
		res->hops += st->hops;
		res->retried += rep[i].retried;
		if (st->switched) {
			res->switched++;
			res->pages_left += st->switch_pages_left;
		}
		if ((int)st->switch_reason != res->reason)
			res->reason = -1;
		lat[i] = rep[i].lat_ns;
	}
	if (res->switched)
		res->pages_left /= res->switched;
	res->mem_kib /= n;
	res->pool_kib /= n;
	res->remote_kib /= n;
	res->dreq /= n;
	res->preq /= n;
	res->ipis /= n;
	res->hops /= n;
	res->retried /= n;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	res->lat_med_us = (n & 1 ? lat[n / 2] : (lat[n / 2 - 1] + lat[n / 2]) / 2) / 1e3;
	/* Nearest rank: the smallest value at or above 99% of the domains. */
	res->lat_p99_us = lat[(99 * n + 99) / 100 - 1] / 1e3;
	free(rep);
	free(lat);
	free(cpus);
}

/* ---- output ---- */

static const char *reason_name(int r)
{
	if (r < 0)
		return "mixed";
	return bp_reason_name(r);
}

static void print_table(const struct result *res, int nr)
{
	int i;

	printf("%-7s %-5s %-10s %4s | %8s %8s %8s | %7s %7s %7s %7s | %9s %9s | %6s | %s\n",
	       "policy", "place", "mode", "n", "mem_KiB", "pool_KiB",
	       "dion_KiB", "d_reqs", "p_reqs", "ipis", "hops", "lat_med",
	       "lat_p99", "max_qd", "switched");
	for (i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		printf("%-7s %-5s %-10s %4d | %8.1f %8.1f %8.1f | %7.1f %7.1f %7.1f %7.1f | %7.0fus %7.0fus | %6ld | %d/%d%s%s\n",
		       bp_policy_name(r->policy), r->pl.name, mode_names[r->mode],
		       r->n, r->mem_kib, r->pool_kib, r->remote_kib, r->dreq,
		       r->preq, r->ipis, r->hops, r->lat_med_us, r->lat_p99_us,
		       r->max_qdepth, r->switched, r->n,
		       r->switched ? " " : "",
		       r->switched ? reason_name(r->reason) : "");
	}
	printf("(per domain, means over the domains: mem = pool reserved + Dionysos granted\n"
	       " at the end of init; d_reqs/p_reqs = requests served by Dionysos/the pool;\n"
	       " lat = wall time of the replay, median and p99 over the domains;\n"
	       " max_qd = deepest Dionysos queue during the configuration)\n");
}

static const char csv_header[] =
	"policy,placement,forward_hops,mode,domains,mem_kib,pool_kib,dionysos_kib,dionysos_requests,pool_requests,ipis,hops,lat_median_us,lat_p99_us,max_queue_depth,switched_domains,switch_reason,switch_pages_left,debugfs_remote_allocs,debugfs_pool_allocs,debugfs_ipis,debugfs_hops,failed,retried_requests";

static void write_csv(FILE *f, const char *prefix, const struct result *res,
		      int nr)
{
	int i;

	fprintf(f, "%s%s\n", prefix, csv_header);
	for (i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		fprintf(f, "%s%s,%s,%d,%s,%d,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,%ld,%d,%s,%.1f,%ld,%ld,%ld,%ld,%d,%.2f\n",
			prefix,
			bp_policy_name(r->policy), r->pl.name, r->pl.hops,
			mode_names[r->mode], r->n, r->mem_kib, r->pool_kib,
			r->remote_kib, r->dreq, r->preq, r->ipis, r->hops,
			r->lat_med_us, r->lat_p99_us, r->max_qdepth,
			r->switched, r->switched ? reason_name(r->reason) : "none",
			r->pages_left, r->dbg.remote_allocs, r->dbg.pool_allocs,
			r->dbg.ipis, r->dbg.hops, r->failed, r->retried);
	}
}

static const struct result *find(const struct result *res, int nr, int policy,
				 int off, int mode)
{
	int i;

	for (i = 0; i < nr; i++)
		if (res[i].policy == policy && res[i].mode == mode &&
		    (off ? res[i].pl.hops > 0 : 1))
			return &res[i];
	return NULL;
}

static double saved_pct(double early, double late)
{
	return early > 0 ? 100.0 * (early - late) / early : 0.0;
}

static void headline(const struct trace *t, const struct result *res, int nr,
		     int mode)
{
	const struct result *e = find(res, nr, BOOTPOOL_POLICY_EARLY, 0, mode);
	const struct result *l = find(res, nr, BOOTPOOL_POLICY_LATE, 0, mode);
	const struct result *eo = find(res, nr, BOOTPOOL_POLICY_EARLY, 1, mode);
	const struct result *lo;
	char ipis[64] = "na";

	if (!e || !l) {
		printf("\nheadline: needs both the late and the early policy (-p late,early)\n");
		return;
	}
	/* The late result of the same placement as the early one. */
	lo = NULL;
	if (eo) {
		int i;

		for (i = 0; i < nr; i++)
			if (res[i].policy == BOOTPOOL_POLICY_LATE &&
			    res[i].mode == mode && res[i].pl.hops == eo->pl.hops)
				lo = &res[i];
	}
	if (eo && lo)
		snprintf(ipis, sizeof(ipis), "%.1f",
			 saved_pct(eo->ipis, lo->ipis));

	printf("\nlate vs early on %s (%s, %s): %.0f KiB less per domain, %.1f%% fewer Dionysos requests, ",
	       t->name, e->pl.name, mode_names[mode], e->mem_kib - l->mem_kib,
	       saved_pct(e->dreq, l->dreq));
	if (eo && lo)
		printf("%s%% fewer IPIs (%s: %.1f vs %.1f per domain)\n", ipis,
		       eo->pl.name, lo->ipis, eo->ipis);
	else
		printf("IPIs not compared (needs an off-CPU placement, -P off1)\n");
	printf("late_vs_early_trace=%s\n", t->name);
	printf("late_vs_early_mode=%s\n", mode_names[mode]);
	printf("late_vs_early_placement=%s\n", e->pl.name);
	printf("late_vs_early_kib_saved_per_domain=%.0f\n", e->mem_kib - l->mem_kib);
	printf("late_vs_early_dionysos_requests_saved_pct=%.1f\n",
	       saved_pct(e->dreq, l->dreq));
	printf("late_vs_early_ipis_placement=%s\n", eo && lo ? eo->pl.name : "na");
	printf("late_vs_early_ipis_saved_pct=%s\n", ipis);
}

/*
 * Where --csv FILE goes: stdout with a "csv:" prefix on every line for '-',
 * else FILE. Close with close_csv().
 */
static FILE *open_csv(const char *csv, const char **prefix)
{
	FILE *f;

	*prefix = "";
	if (!strcmp(csv, "-")) {
		*prefix = "csv:";
		return stdout;
	}
	f = fopen(csv, "w");
	if (!f)
		die("cannot write %s: %s", csv, strerror(errno));
	return f;
}

static void close_csv(FILE *f)
{
	if (f != stdout && fclose(f))
		die("cannot write the CSV: %s", strerror(errno));
}

/* ---- sweep ---- */

/*
 * The sweep's request above a page: a 16 KiB L2 CNode, the first such
 * request in the default trace. Its size does not change the saving: late
 * and early both send it to Dionysos.
 */
#define SWEEP_OVERSIZE	16384
#define SWEEP_MAX	1024

/* One point of the sweep: a trace replayed under late and under early. */
struct point {
	const char *kind;	/* "sweep" or "trace" */
	const char *name;
	struct result late, early;
};

/* @k page-sized requests, then one of SWEEP_OVERSIZE. */
static void sweep_trace(int k, struct trace *t)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->size = calloc(k + 1, sizeof(*t->size));
	t->fallback = calloc(k + 1, sizeof(*t->fallback));
	if (!t->size || !t->fallback)
		die("out of memory");
	for (i = 0; i < k; i++)
		t->size[i] = 4096;
	t->size[k] = SWEEP_OVERSIZE;
	t->nr = k + 1;
	t->bytes = 4096ULL * k + SWEEP_OVERSIZE;
	t->name = "pages-then-16K";
}

static void run_point(const struct trace *t, int n, const struct placement *pl,
		      struct point *p)
{
	p->name = t->name;
	p->late.policy = BOOTPOOL_POLICY_LATE;
	p->early.policy = BOOTPOOL_POLICY_EARLY;
	p->late.pl = *pl;
	p->early.pl = *pl;
	p->late.mode = MODE_SEQ;
	p->early.mode = MODE_SEQ;
	run_config(t, n, &p->late);
	run_config(t, n, &p->early);
}

static const char sweep_csv_header[] =
	"kind,trace,pool_requests_before_switch,kib_saved_per_domain,late_mem_kib,early_mem_kib,late_dionysos_requests,early_dionysos_requests,placement,late_ipis,early_ipis,retried_requests,late_switch_reason,failed";

static void sweep_output(const struct point *pt, int np, int n, const char *csv)
{
	const char *prefix;
	FILE *f;
	int i;

	printf("%-5s %-36s %5s | %9s | %13s | %13s | %7s | %s\n", "kind",
	       "trace", "pages", "KiB_saved", "d_reqs l / e", "ipis l / e",
	       "retried", "late switch");
	for (i = 0; i < np; i++) {
		const struct point *p = &pt[i];

		printf("%-5s %-36s %5.0f | %9.1f | %5.1f / %5.1f | %5.1f / %5.1f | %7.1f | %s\n",
		       p->kind, p->name, p->late.preq,
		       p->early.mem_kib - p->late.mem_kib, p->late.dreq,
		       p->early.dreq, p->late.ipis, p->early.ipis,
		       p->late.retried, p->late.switched ?
		       reason_name(p->late.reason) : "none");
	}
	printf("(per domain, means over %d domains, one by one, placement %s:\n"
	       " pages = requests the pool served before the late domain switched;\n"
	       " KiB_saved = early's memory minus late's; l / e = late / early)\n\n",
	       n, pt[0].late.pl.name);
	for (i = 0; i < np; i++)
		if (!strcmp(pt[i].kind, "trace"))
			printf("sweep: on %s, late switches after %.0f pool requests and saves %.0f KiB per domain\n",
			       pt[i].name, pt[i].late.preq,
			       pt[i].early.mem_kib - pt[i].late.mem_kib);
	if (!csv)
		return;
	f = open_csv(csv, &prefix);
	fprintf(f, "%s%s\n", prefix, sweep_csv_header);
	for (i = 0; i < np; i++) {
		const struct point *p = &pt[i];

		fprintf(f, "%s%s,%s,%.2f,%.1f,%.1f,%.1f,%.2f,%.2f,%s,%.2f,%.2f,%.2f,%s,%d\n",
			prefix, p->kind, p->name, p->late.preq,
			p->early.mem_kib - p->late.mem_kib, p->late.mem_kib,
			p->early.mem_kib, p->late.dreq, p->early.dreq,
			p->late.pl.name, p->late.ipis, p->early.ipis,
			p->late.retried, p->late.switched ?
			reason_name(p->late.reason) : "none",
			p->late.failed + p->early.failed);
	}
	close_csv(f);
}

/*
 * --sweep: the saving as a function of the number of page-sized requests
 * before the first larger one, with the traces in @paths as marked points.
 * Returns the exit status.
 */
static int sweep(int from, int to, int step, char **paths, int npaths, int n,
		 const struct placement *pl, const char *csv)
{
	int i, np = 0, k, failed = 0;
	struct point *pt;
	struct trace t;

	pt = calloc((to - from) / step + 1 + npaths, sizeof(*pt));
	if (!pt)
		die("out of memory");
	printf("bootpool-demo: %d to %d page-sized requests (step %d) before one of %d bytes, %d domains per point, placement %s\n",
	       from, to, step, SWEEP_OVERSIZE, n, pl->name);
	if (no_fallback)
		printf("refused requests replayed as asked (--no-fallback)\n");
	printf("\n");
	for (k = from; k <= to; k += step, np++) {
		sweep_trace(k, &t);
		pt[np].kind = "sweep";
		run_point(&t, n, pl, &pt[np]);
		free(t.size);
		free(t.fallback);
	}
	for (i = 0; i < npaths; i++, np++) {
		load_trace(paths[i], &t);
		pt[np].kind = "trace";
		run_point(&t, n, pl, &pt[np]);
	}
	sweep_output(pt, np, n, csv);
	for (i = 0; i < np; i++)
		failed += pt[i].late.failed + pt[i].early.failed;
	free(pt);
	return failed ? 1 : 0;
}

/* ---- options ---- */

static int split(char *s, char **out)
{
	int n = 0;
	char *tok;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n == MAX_LIST)
			die("too many items in a list");
		out[n++] = tok;
	}
	return n;
}

static char *default_trace(void)
{
	static char path[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (len <= 0)
		return DEFAULT_TRACE;
	path[len] = '\0';
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + sizeof(DEFAULT_TRACE) + 1 > sizeof(path))
		return DEFAULT_TRACE;
	memcpy(slash + 1, DEFAULT_TRACE, sizeof(DEFAULT_TRACE));
	return path;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "from-ftrace", no_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'i' },
		{ "no-fallback", no_argument, NULL, 'F' },
		{ "sweep", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char pol_s[64] = "late,early,hybrid", pl_s[64] = "on,off1,off3";
	char mode_s[64] = "seq,burst";
	char *pols[MAX_LIST], *pls[MAX_LIST], *modes[MAX_LIST];
	int npol, npl, nmode, i, j, k, nr = 0, ftrace = 0, n = 32, c;
	int policy[MAX_LIST], mode[MAX_LIST];
	struct placement pl[MAX_LIST];
	const char *trace_path, *csv = NULL, *prefix;
	char *paths[MAX_LIST];
	static struct result res[MAX_CONFIGS];
	long pid = -1, hops0;
	int npaths = 0, from = -1, to = 0, step = 0, status = 0, pl_set = 0;
	char junk;
	struct trace t;
	FILE *f;

	while ((c = getopt_long(argc, argv, "n:t:p:P:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = atoi(optarg);
			if (n < 1 || n > 1024)
				die("-n wants 1 to 1024 domains");
			break;
		case 't':
			if (npaths == MAX_LIST)
				die("at most %d traces", MAX_LIST);
			paths[npaths++] = optarg;
			break;
		case 'p':
			snprintf(pol_s, sizeof(pol_s), "%s", optarg);
			break;
		case 'P':
			pl_set = 1;
			snprintf(pl_s, sizeof(pl_s), "%s", optarg);
			break;
		case 'm':
			snprintf(mode_s, sizeof(mode_s), "%s", optarg);
			break;
		case 'c':
			csv = optarg;
			break;
		case 'f':
			ftrace = 1;
			break;
		case 'i':
			pid = atol(optarg);
			break;
		case 'F':
			no_fallback = 1;
			break;
		case 's':
			if (sscanf(optarg, "%d:%d:%d%c", &from, &to, &step, &junk) != 3 ||
			    from < 0 || to < from || to > SWEEP_MAX || step < 1)
				die("--sweep wants FROM:TO:STEP, 0 <= FROM <= TO <= %d, STEP >= 1",
				    SWEEP_MAX);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (ftrace)
		return from_ftrace(optind < argc ? argv[optind] : NULL, pid);
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	npol = split(pol_s, pols);
	for (i = 0; i < npol; i++) {
		policy[i] = bp_policy_parse(pols[i]);
		if (policy[i] < 0)
			die("unknown policy '%s' (late, early, hybrid)", pols[i]);
	}
	if (from >= 0 && !pl_set)
		snprintf(pl_s, sizeof(pl_s), "off1");
	npl = split(pl_s, pls);
	for (i = 0; i < npl; i++) {
		char *end;

		if (!strcmp(pls[i], "on")) {
			pl[i].hops = 0;
		} else if (!strncmp(pls[i], "off", 3)) {
			pl[i].hops = strtol(pls[i] + 3, &end, 10);
			if (*end || pl[i].hops < 1)
				die("placement '%s': want offH with H >= 1", pls[i]);
		} else {
			die("unknown placement '%s' (on, off1, off3, ...)", pls[i]);
		}
		snprintf(pl[i].name, sizeof(pl[i].name), "%s", pls[i]);
	}
	nmode = split(mode_s, modes);
	for (i = 0; i < nmode; i++) {
		if (!strcmp(modes[i], "seq"))
			mode[i] = MODE_SEQ;
		else if (!strcmp(modes[i], "burst"))
			mode[i] = MODE_BURST;
		else
			die("unknown mode '%s' (seq, burst)", modes[i]);
	}
	if (npol * npl * nmode > MAX_CONFIGS)
		die("too many configurations");
	if (npaths > 1 && from < 0)
		die("one trace at a time (several only with --sweep)");

	if (access(BOOTPOOL_DEV, R_OK | W_OK))
		die("%s: %s (is bootpool.ko loaded, are you root?)", BOOTPOOL_DEV,
		    strerror(errno));
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	dionysos_cpu = bp_param_get("dionysos_cpu");
	hops0 = bp_param_get("forward_hops");
	if (dionysos_cpu < 0 || hops0 < 0)
		die("cannot read " BOOTPOOL_PARAMS "{dionysos_cpu,forward_hops}");
	for (i = 0; i < npl; i++)
		if (pl[i].hops && nr_cpus < 2)
			die("placement %s needs a second CPU", pl[i].name);

	if (from >= 0) {
		for (i = 0; i < npl && !pl[i].hops; i++)
			;
		if (i == npl)
			die("--sweep counts IPIs: give an off placement (-P off1)");
		status = sweep(from, to, step, paths, npaths, n, &pl[i], csv);
		write_long(BOOTPOOL_PARAMS "forward_hops", hops0);
		return status;
	}
	trace_path = npaths ? paths[0] : default_trace();
	load_trace(trace_path, &t);

	printf("bootpool-demo: %d domains per configuration, trace %s (%d requests, %llu bytes)\n",
	       n, trace_path, t.nr, (unsigned long long)t.bytes);
	if (t.retried)
		printf("%d requests of the trace are refused by the fixed allocator; replayed %s\n",
		       t.retried, no_fallback ? "as asked (--no-fallback)" :
		       "with their fallback size");
	printf("dionysos_cpu=%d, %d CPUs online, pool_pages=%ld\n\n", dionysos_cpu,
	       nr_cpus, bp_param_get("pool_pages"));
	for (k = 0; k < nmode; k++)
		for (j = 0; j < npl; j++)
			for (i = 0; i < npol; i++) {
				res[nr].policy = policy[i];
				res[nr].pl = pl[j];
				res[nr].mode = mode[k];
				run_config(&t, n, &res[nr]);
				nr++;
			}
	write_long(BOOTPOOL_PARAMS "forward_hops", hops0);

	print_table(res, nr);
	headline(&t, res, nr, mode[0]);
	if (csv) {
		f = open_csv(csv, &prefix);
		write_csv(f, prefix, res, nr);
		close_csv(f);
	}
	for (i = 0; i < nr; i++)
		if (res[i].failed)
			return 1;
	return 0;
}
