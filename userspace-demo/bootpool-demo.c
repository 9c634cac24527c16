// SPDX-License-Identifier: GPL-2.0
/*
 * bootpool-demo: launch domains that replay a Barrelfish domain's start-up
 * allocation trace under each switching rule, and compare what they cost.
 *
 * A domain is a forked process. It opens /dev/bootpool (which reserves its
 * pool), sets its policy, pins itself to a CPU, waits for the start signal
 * and replays the trace, one ALLOC per request, nothing freed (a starting
 * Barrelfish domain never returns fixed-allocator pages). What it asks at
 * each line depends on where it is at that moment, as in Barrelfish: on
 * its pool, a request the fixed allocator refuses is asked again smaller;
 * once switched, it is asked whole, and heap growth goes through morecore,
 * which rounds it up to a large page. Whether the domain has switched is
 * the module's answer (BOOTPOOL_IOC_STATS), never the policy's name.
 *
 * Every count printed comes from the module: the domains' STATS, and the
 * global counters and max_queue_depth in debugfs. The demo adds them up,
 * and prices each Dionysos grant twice: as Linux granted it (whole pages)
 * and as Barrelfish's mem_serv would have (down to 1 KiB).
 *
 * See --help and userspace-demo/README.md.
 */
#include "bootpool_util.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#define DEFAULT_TRACE	"traces/barrelfish-upstream-armv7-max.trace"
#define MAX_CONFIGS	256
#define MAX_LIST	16
#define MAX_ROUNDS	64
#define PAGE		4096ULL
/* The smallest block Barrelfish's mem_serv hands out (MINSIZEBITS, 1 KiB). */
#define BF_MIN_GRANT	1024ULL

enum mode { MODE_SEQ, MODE_BURST };
static const char * const mode_names[] = { "one-by-one", "burst" };

/*
 * The rules compared. upstream is a late domain that also switches where
 * the trace's !switch line says, as upstream Barrelfish does at init.c:341
 * (BOOTPOOL_IOC_SWITCH).
 */
enum rule { RULE_LATE, RULE_EARLY, RULE_UPSTREAM, RULE_HYBRID, NR_RULES };
static const char * const rule_names[NR_RULES] = {
	"late", "early", "upstream", "hybrid",
};
static const __u32 rule_policy[NR_RULES] = {
	BOOTPOOL_POLICY_LATE, BOOTPOOL_POLICY_EARLY, BOOTPOOL_POLICY_LATE,
	BOOTPOOL_POLICY_HYBRID,
};

/*
 * A placement: on dionysos_cpu (hops 0), or off it with forward_hops, or
 * (node) off every Dionysos's CPU with forward_hops=1 and one Dionysos
 * per node (the module loaded with dionysos_cpus=node); tight is node
 * with the smallest budget that holds the round's domains (see
 * tight_budget()), and the domains hold what they got until all have
 * reported.
 */
struct placement {
	int hops;		/* 0: on dionysos_cpu */
	bool node;		/* one Dionysos per node */
	bool tight;		/* node, with the smallest budget */
	char name[16];
};

/* One request of a trace: see userspace-demo/README.md, Trace format. */
struct line {
	uint64_t size;		/* what the domain asks */
	uint64_t fallback;	/* asked instead while on the pool; 0: none */
	bool heap;		/* heap growth through morecore */
};

struct trace {
	struct line *l;
	int nr;
	int switch_at;		/* request before which !switch stands; -1 */
	int main_at;		/* request before which !main stands; nr */
	uint64_t large_page;	/* morecore's rounding once switched; 0 */
	int retried;		/* lines with a fallback */
	char origin[16];	/* !origin: code, estimate, recorded */
	const char *name;	/* file name without its directory */
};

/* What a domain sends its parent. */
struct report {
	struct bootpool_stats st_start;	/* at !main (or the end) */
	struct bootpool_stats st_end;
	uint64_t bf_start, bf_end;	/* Dionysos bytes at mem_serv's sizes */
	uint64_t lat_ns;
	int32_t cpu;
	int32_t err;		/* errno of the first failure, or 0 */
	int32_t err_line;	/* trace request that failed */
	int32_t retried;	/* requests asked with their fallback size */
	int32_t absorbed;	/* heap growth morecore's frame already held */
	int32_t pad;
};

/* Debugfs counters read around each round. */
struct global {
	long remote_allocs, pool_allocs, ipis, hops;
};

/*
 * One Dionysos instance's line of debugfs "dionysos" (its counters since
 * the module was loaded); around a round, the change of each.
 */
#define MAX_INSTANCES	16
enum {
	I_REQUESTS, I_IPIS, I_CROSS, I_STEALS, I_STOLEN, I_QMAX, I_COUNT
};

static const char * const inst_keys[I_COUNT] = {
	"requests", "ipis", "cross_node", "steals", "stolen_pages", "queue_max"
};

struct instance {
	long cpu, node;
	long v[I_COUNT];
};

/* Per-domain figures: means over the domains and rounds. */
struct figures {
	double pool_req, dreq, ipis, hops;
	double fp_kib, fp_bf_kib;	/* footprint: pool + Dionysos */
};

struct result {
	const struct trace *t;
	int rule;
	struct placement pl;
	int mode;		/* an enum mode */
	int n, rounds;
	struct figures start, end;
	double absorbed, retried;
	double round_med_us[MAX_ROUNDS];
	double lat_med_us, lat_lo_us, lat_hi_us, lat_cover;
	long max_qdepth;
	int switched;
	int reason;		/* of the first domain; -1 when they differ */
	double pages_left;	/* free pool pages at the switch, switched only */
	struct global dbg;	/* debugfs deltas, totals over all rounds */
	int ninst;		/* Dionysos instances; 0: no "dionysos" file */
	struct instance inst[MAX_INSTANCES];	/* totals; I_QMAX: the max */
	long budget_mb;		/* tight: dionysos_mb of its rounds */
	long dpages;		/* tight: Dionysos pages a domain holds */
	int failed;
	bool skipped;		/* upstream on a trace without !switch */
};

static const char *prog = "bootpool-demo";
static int no_fallback;	/* --no-fallback: ask SIZE of SIZE/FALLBACK on the pool */
static int nr_cpus;
static int dionysos_cpu;
static long run_mb;		/* dionysos_mb for the run (save_params()) */

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
"Usage: bootpool-demo [-n N] [-r ROUNDS] [-t TRACE]... [-p RULES] [-P PLACEMENTS]\n"
"                     [-m MODES] [--label NAME] [--no-fallback] [--csv FILE|-]\n"
"       bootpool-demo --sweep-pool LIST | --sweep-heap FROM:TO:STEP\n"
"                     [-n N] [-t TRACE]... [-p RULES] [--csv FILE|-]\n"
"       bootpool-demo --from-ftrace [--pid PID] [FILE]\n"
"\n"
"Launches N domains (processes) per round that each open /dev/bootpool,\n"
"take a switching rule and replay TRACE, for every trace x mode x placement\n"
"x rule, ROUNDS rounds interleaved; prints one row per configuration, then\n"
"one per trace and comparison (late against early and against upstream).\n"
"Must run as root with the module loaded and debugfs mounted.\n"
"\n"
"  -n N            domains per round (default 8)\n"
"  -r ROUNDS       rounds per configuration (default 6; latencies are the\n"
"                  median over the rounds' medians, with a 95%% interval)\n"
"  -t TRACE        trace file, may be given several times (default: %s\n"
"                  beside the binary)\n"
"  -p RULES        comma list of late, early (switch at attach), upstream\n"
"                  (late, and switch at the trace's !switch line), hybrid\n"
"                  (default late,early,upstream,hybrid)\n"
"  -P PLACEMENTS   comma list of on, offH, node, tight: on = pinned to\n"
"                  dionysos_cpu; offH = pinned to the other CPUs,\n"
"                  forward_hops=H; node = pinned round robin to the CPUs\n"
"                  that run no Dionysos, forward_hops=1, with one Dionysos\n"
"                  per node (the module loaded with dionysos_cpus=node; the\n"
"                  other placements want one Dionysos); tight = node with\n"
"                  dionysos_mb set before each round to the fewest MiB that\n"
"                  hold all its domains, which hold what they got until\n"
"                  every one has reported (default off1)\n"
"  -m MODES        comma list of seq (one by one), burst (all released at\n"
"                  once) (default seq)\n"
"  --label NAME    first column of every CSV row (default demo)\n"
"  --no-fallback   on the pool, ask SIZE of a SIZE/FALLBACK line, as if the\n"
"                  fixed allocator took it (the seed's rule taken literally)\n"
"  --csv FILE      also write the results as CSV; '-' prints them on stdout\n"
"                  as lines prefixed 'csv:' (configurations) and 'cmp:'\n"
"                  (comparisons)\n"
"  --sweep-pool L  instead: for each pool_pages in the comma list L, replay\n"
"                  each trace under each rule (default late,early,upstream),\n"
"                  one by one, placement off1, and print what late saves\n"
"  --sweep-heap F:T:S  the same for K = F, F+S, ... T extra page-sized heap\n"
"                  growths inserted before the trace's first request above a\n"
"                  page\n"
"  --from-ftrace   convert text ftrace output holding bootpool_alloc\n"
"                  events (FILE or stdin) into a trace on stdout; keeps the\n"
"                  events of --pid PID, or of the first pid seen\n"
"\n"
"Trace format (userspace-demo/README.md): one request a line,\n"
"'[heap] SIZE[/FALLBACK] [TAG]', and the lines !switch, !main,\n"
"!large_page SIZE and !origin WORD; '#' starts a comment.\n",
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

/*
 * The instances debugfs "dionysos" lists, one a line of key=value words
 * starting with "instance="; returns how many, 0 when it lists none (a
 * module with one Dionysos and no instances).
 */
static int read_instances(struct instance *in)
{
	FILE *f = fopen(BOOTPOOL_DEBUGFS "dionysos", "r");
	char line[512], *tok, *save;
	int n = 0, k;

	if (!f)
		return 0;
	while (n < MAX_INSTANCES && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "instance=", 9))
			continue;
		memset(&in[n], 0, sizeof(in[n]));
		in[n].cpu = -1;
		in[n].node = -1;
		for (tok = strtok_r(line, "\n ", &save); tok;
		     tok = strtok_r(NULL, "\n ", &save)) {
			char *eq = strchr(tok, '=');

			if (!eq)
				continue;
			*eq++ = 0;
			if (!strcmp(tok, "cpu"))
				in[n].cpu = atol(eq);
			else if (!strcmp(tok, "node"))
				in[n].node = atol(eq);
			for (k = 0; k < I_COUNT; k++)
				if (!strcmp(tok, inst_keys[k]))
					in[n].v[k] = atol(eq);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* Whether @cpu runs a Dionysos instance (dionysos_cpu without the file). */
static bool dionysos_on(int cpu, const struct instance *in, int ninst)
{
	int i;

	if (!ninst)
		return cpu == dionysos_cpu;
	for (i = 0; i < ninst; i++)
		if (in[i].cpu == cpu)
			return true;
	return false;
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

static void trace_add(struct trace *t, int *cap, const struct line *l)
{
	if (t->nr == *cap) {
		*cap = *cap ? 2 * *cap : 128;
		t->l = realloc(t->l, *cap * sizeof(*t->l));
		if (!t->l)
			die("out of memory");
	}
	t->l[t->nr++] = *l;
	t->retried += !!l->fallback;
}

/* A directive line (!switch, !main, !large_page SIZE, !origin WORD). */
static void parse_directive(struct trace *t, char *tok, const char *path,
			    int lineno)
{
	char *arg = strtok(NULL, " \t\r\n");

	if (!strcmp(tok, "!switch") && !arg && t->switch_at < 0) {
		t->switch_at = t->nr;
	} else if (!strcmp(tok, "!main") && !arg && t->main_at < 0) {
		t->main_at = t->nr;
	} else if (!strcmp(tok, "!large_page") && arg &&
		   !parse_size(arg, &t->large_page) && t->large_page >= PAGE &&
		   t->large_page <= BOOTPOOL_MAX_ALLOC_SIZE &&
		   !(t->large_page & (t->large_page - 1))) {
		return;
	} else if (!strcmp(tok, "!origin") && arg &&
		   (!strcmp(arg, "code") || !strcmp(arg, "estimate") ||
		    !strcmp(arg, "recorded"))) {
		snprintf(t->origin, sizeof(t->origin), "%s", arg);
	} else {
		die("%s:%d: '%s%s%s' is not !switch, !main (each once), !large_page SIZE (a power of two from 4K to 4M) or !origin code|estimate|recorded",
		    path, lineno, tok, arg ? " " : "", arg ? arg : "");
	}
}

static void load_trace(const char *path, struct trace *t)
{
	char line[512];
	int lineno = 0, cap = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die("cannot open trace %s: %s", path, strerror(errno));
	memset(t, 0, sizeof(*t));
	t->switch_at = -1;
	t->main_at = -1;
	snprintf(t->origin, sizeof(t->origin), "unknown");
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');
		struct line l = { 0 };
		char *tok;

		lineno++;
		if (hash)
			*hash = '\0';
		tok = strtok(line, " \t\r\n");
		if (!tok)
			continue;
		if (tok[0] == '!') {
			parse_directive(t, tok, path, lineno);
			continue;
		}
		if (!strcmp(tok, "heap")) {
			l.heap = true;
			tok = strtok(NULL, " \t\r\n");
		}
		if (!tok || parse_request(tok, &l.size, &l.fallback))
			die("%s:%d: '%s' is not [heap] SIZE or SIZE/FALLBACK, sizes from 1 to %llu bytes, FALLBACK below SIZE",
			    path, lineno, tok ? tok : "heap",
			    (unsigned long long)BOOTPOOL_MAX_ALLOC_SIZE);
		trace_add(t, &cap, &l);
	}
	fclose(f);
	if (!t->nr)
		die("trace %s holds no request", path);
	if (t->main_at < 0)
		t->main_at = t->nr;
	if (t->switch_at > t->main_at)
		die("%s: !switch comes after !main", path);
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
		if (first < 0) {
			first = pid < 0 ? p : pid;
			printf("# recorded from the bootpool_alloc tracepoint, pid %ld\n",
			       first);
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

/* What Barrelfish's mem_serv hands out for @size: a power of two >= 1 KiB. */
static uint64_t bf_grant(uint64_t size)
{
	uint64_t g = BF_MIN_GRANT;

	while (g < size)
		g <<= 1;
	return g;
}

/*
 * What the domain asks at request @i, 0 for nothing. On its pool, a
 * request with a fallback is refused by the fixed allocator in the
 * domain's own library (no message) and asked again as FALLBACK; with
 * --no-fallback it is asked as SIZE (the seed's rule taken literally: the
 * late policy then switches on it). Once switched, the request is asked
 * whole; heap growth goes through morecore, which takes a frame of the
 * trace's large page and serves later growth from it while it lasts
 * (lib/barrelfish/morecore.c:49-55 at 06a9f54). @heap_left is what the
 * domain's morecore frame still holds.
 */
static uint64_t ask(const struct trace *t, int i, bool switched,
		    uint64_t *heap_left, int32_t *retried)
{
	const struct line *l = &t->l[i];
	uint64_t frame;

	if (!switched) {
		if (!l->fallback || no_fallback)
			return l->size;
		(*retried)++;
		return l->fallback;
	}
	if (!l->heap || !t->large_page)
		return l->size;
	if (l->size <= *heap_left) {
		*heap_left -= l->size;
		return 0;
	}
	frame = (l->size + t->large_page - 1) & ~(t->large_page - 1);
	*heap_left += frame - l->size;
	return frame;
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

/* Replay @t on @fd; returns 0 or -errno with @r->err_line set. */
static int replay(const struct trace *t, int rule, int fd, struct report *r)
{
	struct bootpool_stats st;
	struct bootpool_alloc a;
	uint64_t heap_left = 0, size, bf = 0;
	bool switched;
	int i, err;

	err = bp_stats(fd, &st);
	if (err)
		return err;
	switched = st.switched;
	for (i = 0; i <= t->nr; i++) {
		r->err_line = i + 1;
		if (i == t->main_at) {
			err = bp_stats(fd, &r->st_start);
			if (err)
				return err;
			r->bf_start = bf;
		}
		if (i == t->nr)
			break;
		if (i == t->switch_at && rule == RULE_UPSTREAM) {
			/* Already switched: the pool ran out before (EALREADY). */
			err = bp_switch(fd);
			if (err && err != -EALREADY)
				return err;
			switched = true;
		}
		size = ask(t, i, switched, &heap_left, &r->retried);
		if (!size) {
			r->absorbed++;
			continue;
		}
		err = bp_alloc(fd, size, &a);
		if (err)
			return err;
		if (a.source != BOOTPOOL_SOURCE_DIONYSOS)
			continue;
		bf += bf_grant(size);
		if (!switched) {
			/* Did this request switch the domain? The module knows. */
			err = bp_stats(fd, &st);
			if (err)
				return err;
			switched = st.switched;
		}
	}
	r->bf_end = bf;
	r->err_line = 0;
	return bp_stats(fd, &r->st_end);
}

/*
 * The child: attach, set the policy, pin, say ready, wait for the start,
 * replay, report. Never returns.
 */
static void domain(const struct trace *t, int rule, int cpu,
		   int ready_fd, int go_fd, int report_fd, int hold_fd)
{
	struct report r;
	uint64_t start;
	int fd;
	char c;

	memset(&r, 0, sizeof(r));
	pin(cpu);
	fd = bp_open_domain(rule_policy[rule]);
	if (fd < 0) {
		r.err = -fd;
		r.err_line = -1;
	}
	write_all(ready_fd, "r", 1);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;

	if (!r.err) {
		start = now_ns();
		r.err = -replay(t, rule, fd, &r);
		r.lat_ns = now_ns() - start;
	}
	r.cpu = sched_getcpu();
	write_all(report_fd, &r, sizeof(r));
	/* Hold what the domain got until the parent closes @hold_fd. */
	while (hold_fd >= 0 && read(hold_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ---- one configuration ---- */

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
 * their reports into @rep. With @hold, no domain exits (and gives back
 * what it got) before every one has reported.
 */
static void launch(const struct trace *t, int rule, const int *cpus, int k,
		   struct report *rep, bool hold)
{
	int ready[2], go[2], report[2], held[2] = { -1, -1 };
	pid_t *pids = calloc(k, sizeof(*pids));
	char c;
	int i, status;

	if (!pids || pipe(ready) || pipe(go) || pipe(report) ||
	    (hold && pipe(held)))
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
			if (hold)
				close(held[1]);
			domain(t, rule, cpus[i], ready[1], go[0], report[1],
			       held[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	close(report[1]);
	if (hold)
		close(held[0]);
	for (i = 0; i < k; i++)
		read_full(ready[0], &c, 1);
	close(go[1]);		/* the start signal: EOF for every domain */
	for (i = 0; i < k; i++)
		read_full(report[0], &rep[i], sizeof(rep[i]));
	if (hold)
		close(held[1]);	/* all reported: they may go */
	for (i = 0; i < k; i++)
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			die("domain %d did not exit cleanly", (int)pids[i]);
	close(ready[0]);
	close(report[0]);
	free(pids);
}

static void add_figures(struct figures *f, const struct bootpool_stats *st,
			uint64_t bf)
{
	f->pool_req += st->pool_allocs;
	f->dreq += st->remote_allocs;
	f->ipis += st->ipis;
	f->hops += st->hops;
	f->fp_kib += st->footprint_bytes / 1024.0;
	f->fp_bf_kib += (st->pool_pages * PAGE + bf) / 1024.0;
}

static void scale_figures(struct figures *f, double n)
{
	f->pool_req /= n;
	f->dreq /= n;
	f->ipis /= n;
	f->hops /= n;
	f->fp_kib /= n;
	f->fp_bf_kib /= n;
}

/*
 * Placement tight: one domain replays alone under the run's budget, and
 * what it then holds from Dionysos, @res->dpages, is what each of the
 * round's domains will hold (a replay is the same every time); the
 * budget is set to the fewest MiB that hold @res->n of them, which also
 * splits it evenly between the instances again. An instance whose node
 * carries more than its share of the domains then steals what it lacks.
 */
static void tight_budget(struct result *res, const int *cpus)
{
	long per_mb = (long)((1ULL << 20) / PAGE);
	struct report rep;

	write_long(BOOTPOOL_PARAMS "dionysos_mb", run_mb);
	launch(res->t, res->rule, cpus, 1, &rep, false);
	if (rep.err)
		die("%s/%s/%s: the domain sizing the budget failed at request %d: %s",
		    res->t->name, rule_names[res->rule], res->pl.name,
		    rep.err_line, strerror(rep.err));
	res->dpages = rep.st_end.remote_bytes / PAGE;
	res->budget_mb = (res->dpages * res->n + per_mb - 1) / per_mb;
	if (res->budget_mb < 1)
		res->budget_mb = 1;
	write_long(BOOTPOOL_PARAMS "dionysos_mb", res->budget_mb);
}

/* One round of @res's configuration: @res->n domains, added to @res. */
static void run_round(struct result *res)
{
	struct report *rep = calloc(res->n, sizeof(*rep));
	double *lat = calloc(res->n, sizeof(*lat));
	int *cpus = calloc(res->n, sizeof(*cpus));
	struct instance in0[MAX_INSTANCES], in1[MAX_INSTANCES];
	struct global g0, g1;
	int i, k, off = 0, n = res->n, ni0, ni1;
	long qd;

	if (!rep || !lat || !cpus)
		die("out of memory");
	ni0 = read_instances(in0);
	for (i = 0; i < n; i++) {
		if (!res->pl.hops) {
			cpus[i] = dionysos_cpu;
			continue;
		}
		/* Round robin over the CPUs that run no Dionysos. */
		while (dionysos_on(off % nr_cpus, in0, ni0))
			off++;
		cpus[i] = off % nr_cpus;
		off++;
	}
	if (res->pl.hops)
		write_long(BOOTPOOL_PARAMS "forward_hops", res->pl.hops);
	if (res->pl.tight) {
		tight_budget(res, cpus);
		ni0 = read_instances(in0);
	}

	read_global(&g0);
	write_long(BOOTPOOL_DEBUGFS "max_queue_depth", 0);
	if (res->mode == MODE_BURST) {
		launch(res->t, res->rule, cpus, n, rep, res->pl.tight);
	} else {
		for (i = 0; i < n; i++)
			launch(res->t, res->rule, &cpus[i], 1, &rep[i], false);
	}
	if (res->pl.tight)
		write_long(BOOTPOOL_PARAMS "dionysos_mb", run_mb);
	qd = bp_read_long(BOOTPOOL_DEBUGFS "max_queue_depth");
	if (qd > res->max_qdepth)
		res->max_qdepth = qd;
	ni1 = read_instances(in1);
	if (ni1 != ni0)
		die("debugfs dionysos listed %d instances before a round, %d after",
		    ni0, ni1);
	res->ninst = ni1;
	for (i = 0; i < ni1; i++) {
		res->inst[i].cpu = in1[i].cpu;
		res->inst[i].node = in1[i].node;
		for (k = 0; k < I_COUNT; k++)
			if (k != I_QMAX)
				res->inst[i].v[k] += in1[i].v[k] - in0[i].v[k];
		/* queue_max is reset with max_queue_depth, before the round. */
		if (in1[i].v[I_QMAX] > res->inst[i].v[I_QMAX])
			res->inst[i].v[I_QMAX] = in1[i].v[I_QMAX];
	}
	read_global(&g1);
	res->dbg.remote_allocs += g1.remote_allocs - g0.remote_allocs;
	res->dbg.pool_allocs += g1.pool_allocs - g0.pool_allocs;
	res->dbg.ipis += g1.ipis - g0.ipis;
	res->dbg.hops += g1.hops - g0.hops;

	if (!res->rounds)
		res->reason = rep[0].st_end.switch_reason;
	for (i = 0; i < n; i++) {
		const struct bootpool_stats *st = &rep[i].st_end;

		if (rep[i].err) {
			if (!res->failed)
				fprintf(stderr,
					"%s: %s/%s/%s/%s: domain on CPU %d failed at request %d: %s\n",
					prog, res->t->name,
					rule_names[res->rule], res->pl.name,
					mode_names[res->mode], rep[i].cpu,
					rep[i].err_line, strerror(rep[i].err));
			res->failed++;
			continue;
		}
		add_figures(&res->start, &rep[i].st_start, rep[i].bf_start);
		add_figures(&res->end, st, rep[i].bf_end);
		res->retried += rep[i].retried;
		res->absorbed += rep[i].absorbed;
		if (st->switched) {
			res->switched++;
			res->pages_left += st->switch_pages_left;
		}
		if ((int)st->switch_reason != res->reason)
			res->reason = -1;
		lat[i] = rep[i].lat_ns / 1e3;
	}
	res->round_med_us[res->rounds++] = bp_median(lat, n);
	free(rep);
	free(lat);
	free(cpus);
}

/* Turn @res's sums into means and its round medians into an interval. */
static void finish(struct result *res)
{
	double ok = (double)res->n * res->rounds - res->failed;

	if (res->skipped)
		return;
	if (ok > 0) {
		scale_figures(&res->start, ok);
		scale_figures(&res->end, ok);
		res->retried /= ok;
		res->absorbed /= ok;
	}
	if (res->switched)
		res->pages_left /= res->switched;
	bp_median_interval(res->round_med_us, res->rounds, &res->lat_med_us,
			&res->lat_lo_us, &res->lat_hi_us, &res->lat_cover);
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

	printf("%-34s %-8s %-5s %-10s | %8s %8s %8s %8s | %6s %6s %6s | %6s %6s | %21s | %6s | %s\n",
	       "trace", "rule", "place", "mode", "st_KiB", "st_bfKiB",
	       "end_KiB", "end_bfKB", "p_reqs", "d_reqs", "ipis", "absorb",
	       "retry", "lat_med [95% interval]", "max_qd", "switched");
	for (i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		if (r->skipped) {
			printf("%-34s %-8s %-5s %-10s | no !switch line in the trace\n",
			       r->t->name, rule_names[r->rule], r->pl.name,
			       mode_names[r->mode]);
			continue;
		}
		printf("%-34s %-8s %-5s %-10s | %8.1f %8.1f %8.1f %8.1f | %6.1f %6.1f %6.1f | %6.1f %6.1f | %6.0f [%6.0f,%6.0f]us | %6ld | %d/%d %s\n",
		       r->t->name, rule_names[r->rule], r->pl.name,
		       mode_names[r->mode], r->start.fp_kib, r->start.fp_bf_kib,
		       r->end.fp_kib, r->end.fp_bf_kib, r->end.pool_req,
		       r->end.dreq, r->end.ipis, r->absorbed, r->retried,
		       r->lat_med_us, r->lat_lo_us, r->lat_hi_us, r->max_qdepth,
		       r->switched, r->n * r->rounds,
		       r->switched ? reason_name(r->reason) : "");
	}
	printf("(per domain, means over the domains and rounds: st_ = at the end of start-up (!main),\n"
	       " end_ = at the end of the trace; KiB = pool + Dionysos as Linux granted them (pages),\n"
	       " bfKiB = the same with Dionysos's grants priced as Barrelfish's mem_serv hands them out\n"
	       " (powers of two from 1 KiB); p_reqs/d_reqs = requests served by the pool/Dionysos;\n"
	       " absorb = heap growth morecore's large frame already held; retry = requests the pool\n"
	       " refused and the domain asked again smaller; lat = wall time of the replay: median of\n"
	       " the rounds' medians and its 95%% interval; max_qd = deepest Dionysos queue)\n");
}

/*
 * Per configuration and Dionysos instance, when debugfs lists them:
 * what each served over all rounds, and its deepest queue.
 */
static void print_instances(const struct result *res, int nr)
{
	int i, j;

	for (i = 0; i < nr && !res[i].ninst; i++)
		;
	if (i == nr)
		return;
	printf("\n%-34s %-8s %-5s %-10s | %4s %4s | %8s %8s %8s %6s %8s %6s\n",
	       "trace", "rule", "place", "mode", "cpu", "node", "requests",
	       "ipis", "x_node", "steals", "stolen", "q_max");
	for (i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		for (j = 0; j < r->ninst && !r->skipped; j++)
			printf("%-34s %-8s %-5s %-10s | %4ld %4ld | %8ld %8ld %8ld %6ld %8ld %6ld\n",
			       r->t->name, rule_names[r->rule], r->pl.name,
			       mode_names[r->mode], r->inst[j].cpu,
			       r->inst[j].node, r->inst[j].v[I_REQUESTS],
			       r->inst[j].v[I_IPIS], r->inst[j].v[I_CROSS],
			       r->inst[j].v[I_STEALS], r->inst[j].v[I_STOLEN],
			       r->inst[j].v[I_QMAX]);
	}
	printf("(per Dionysos instance, from debugfs dionysos: totals over all rounds of the\n"
	       " requests it served, the IPIs that brought them, those from another node\n"
	       " (x_node), its steals from a peer and the pages they took; q_max = its deepest queue)\n");
	for (i = 0; i < nr; i++)
		if (res[i].pl.tight && !res[i].skipped)
			printf("tight, %s: dionysos_mb=%ld each round, %ld Dionysos pages per domain\n",
			       rule_names[res[i].rule], res[i].budget_mb,
			       res[i].dpages);
}

static const char csv_header[] =
	"label,trace,origin,rule,placement,forward_hops,mode,domains,rounds,startup_kib,startup_bf_kib,end_kib,end_bf_kib,startup_pool_requests,startup_dionysos_requests,startup_ipis,pool_requests,dionysos_requests,ipis,hops,absorbed_requests,retried_requests,lat_median_us,lat_lo_us,lat_hi_us,lat_coverage,lat_round_medians_us,max_queue_depth,switched_domains,switch_reason,switch_pages_left,debugfs_remote_allocs,debugfs_pool_allocs,debugfs_ipis,debugfs_hops,failed,instances,instance_cpus,instance_nodes,instance_requests,instance_ipis,instance_cross_node,instance_steals,instance_stolen_pages,instance_queue_max,cross_node,steals,stolen_pages,budget_mb,dionysos_pages_per_domain";

static const char *label = "demo";

/*
 * The per-instance columns of a CSV row (";" between instances, totals
 * over all rounds, queue_max the deepest), then the totals of cross-node
 * requests, steals and stolen pages; empty without debugfs "dionysos".
 */
static void write_instances(FILE *f, const struct result *r)
{
	long tot[I_COUNT] = { 0 };
	int i, k;

	fputc(',', f);
	for (i = 0; i < r->ninst; i++)
		fprintf(f, "%s%ld", i ? ";" : "", r->inst[i].cpu);
	fputc(',', f);
	for (i = 0; i < r->ninst; i++)
		fprintf(f, "%s%ld", i ? ";" : "", r->inst[i].node);
	for (k = 0; k < I_COUNT; k++) {
		fputc(',', f);
		for (i = 0; i < r->ninst; i++) {
			fprintf(f, "%s%ld", i ? ";" : "", r->inst[i].v[k]);
			tot[k] += r->inst[i].v[k];
		}
	}
	if (r->ninst)
		fprintf(f, ",%ld,%ld,%ld", tot[I_CROSS], tot[I_STEALS],
			tot[I_STOLEN]);
	else
		fprintf(f, ",,,");
	if (r->pl.tight)
		fprintf(f, ",%ld,%ld\n", r->budget_mb, r->dpages);
	else
		fprintf(f, ",,\n");
}

static void write_csv(FILE *f, const char *prefix, const struct result *res,
		      int nr)
{
	int i, j;

	fprintf(f, "%s%s\n", prefix, csv_header);
	for (i = 0; i < nr; i++) {
		const struct result *r = &res[i];

		if (r->skipped)
			continue;
		fprintf(f, "%s%s,%s,%s,%s,%s,%d,%s,%d,%d,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,%.1f,%.3f,",
			prefix, label, r->t->name, r->t->origin,
			rule_names[r->rule], r->pl.name, r->pl.hops,
			mode_names[r->mode], r->n, r->rounds,
			r->start.fp_kib, r->start.fp_bf_kib, r->end.fp_kib,
			r->end.fp_bf_kib, r->start.pool_req, r->start.dreq,
			r->start.ipis, r->end.pool_req, r->end.dreq,
			r->end.ipis, r->end.hops, r->absorbed, r->retried,
			r->lat_med_us, r->lat_lo_us, r->lat_hi_us,
			r->lat_cover);
		for (j = 0; j < r->rounds; j++)
			fprintf(f, "%s%.1f", j ? ";" : "", r->round_med_us[j]);
		fprintf(f, ",%ld,%d,%s,%.1f,%ld,%ld,%ld,%ld,%d,%d",
			r->max_qdepth, r->switched,
			r->switched ? reason_name(r->reason) : "none",
			r->pages_left, r->dbg.remote_allocs,
			r->dbg.pool_allocs, r->dbg.ipis, r->dbg.hops,
			r->failed, r->ninst);
		write_instances(f, r);
	}
}

static const struct result *find(const struct result *res, int nr,
				 const struct result *like, int rule)
{
	int i;

	for (i = 0; i < nr; i++)
		if (res[i].t == like->t && res[i].rule == rule &&
		    res[i].mode == like->mode &&
		    res[i].pl.hops == like->pl.hops &&
		    res[i].pl.node == like->pl.node &&
		    res[i].pl.tight == like->pl.tight && !res[i].skipped)
			return &res[i];
	return NULL;
}

static bool overlap(const struct result *a, const struct result *b)
{
	return a->lat_lo_us <= b->lat_hi_us && b->lat_lo_us <= a->lat_hi_us;
}

/* What late (@l) saves against @o, KiB per domain: other minus late. */
struct saving {
	double start_bf, end_bf;	/* mem_serv's sizes */
	double start, end;		/* as Linux granted */
};

static struct saving saved(const struct result *l, const struct result *o)
{
	return (struct saving) {
		.start_bf = o->start.fp_bf_kib - l->start.fp_bf_kib,
		.end_bf = o->end.fp_bf_kib - l->end.fp_bf_kib,
		.start = o->start.fp_kib - l->start.fp_kib,
		.end = o->end.fp_kib - l->end.fp_kib,
	};
}

static const char cmp_header[] =
	"label,trace,origin,comparison,placement,mode,saved_startup_bf_kib,saved_end_bf_kib,saved_startup_kib,saved_end_kib,late_dionysos_requests,other_dionysos_requests,late_ipis,other_ipis,late_lat_median_us,late_lat_lo_us,late_lat_hi_us,other_lat_median_us,other_lat_lo_us,other_lat_hi_us,lat_differs";

/*
 * One row per trace, placement, mode and comparison: late against early
 * (a switch at attach) and against upstream (a switch at !switch).
 */
static void compare(const struct result *res, int nr, FILE *csv,
		    const char *prefix)
{
	static const int others[] = { RULE_EARLY, RULE_UPSTREAM };
	bool first = true;
	int i, j;

	if (csv)
		fprintf(csv, "%s%s\n", prefix, cmp_header);
	for (i = 0; i < nr; i++) {
		const struct result *l = &res[i], *o;
		struct saving sv;

		if (l->rule != RULE_LATE || l->skipped)
			continue;
		for (j = 0; j < (int)ARRAY_SIZE(others); j++) {
			o = find(res, nr, l, others[j]);
			if (!o)
				continue;
			sv = saved(l, o);
			if (first) {
				printf("\n%-34s %-12s %-5s %-10s | %9s %9s | %9s %9s | %11s | %11s | %s\n",
				       "trace", "late vs", "place", "mode",
				       "saved_st", "saved_end", "st_linux",
				       "end_linux", "d_reqs l/o", "ipis l/o",
				       "lat_med late / other, us [95% interval]");
				first = false;
			}
			printf("%-34s %-12s %-5s %-10s | %9.1f %9.1f | %9.1f %9.1f | %5.1f/%5.1f | %5.1f/%5.1f | %.0f [%.0f,%.0f] / %.0f [%.0f,%.0f]%s\n",
			       l->t->name, rule_names[others[j]], l->pl.name,
			       mode_names[l->mode], sv.start_bf, sv.end_bf,
			       sv.start, sv.end, l->end.dreq, o->end.dreq, l->end.ipis,
			       o->end.ipis, l->lat_med_us, l->lat_lo_us,
			       l->lat_hi_us, o->lat_med_us, o->lat_lo_us,
			       o->lat_hi_us, overlap(l, o) ? "" : " differ");
			if (!csv)
				continue;
			fprintf(csv, "%s%s,%s,%s,late-vs-%s,%s,%s,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%d\n",
				prefix, label, l->t->name, l->t->origin,
				rule_names[others[j]], l->pl.name,
				mode_names[l->mode], sv.start_bf, sv.end_bf,
				sv.start, sv.end, l->end.dreq,
				o->end.dreq, l->end.ipis, o->end.ipis,
				l->lat_med_us, l->lat_lo_us, l->lat_hi_us,
				o->lat_med_us, o->lat_lo_us, o->lat_hi_us,
				!overlap(l, o));
		}
	}
	if (!first)
		printf("(per domain: saved_ = the other rule's footprint minus late's, KiB, with Dionysos's\n"
		       " grants priced as Barrelfish's mem_serv hands them out; _linux = as Linux granted\n"
		       " them; st = at the end of start-up, end = at the end of the trace; l/o = late/other;\n"
		       " 'differ': the latency intervals do not overlap)\n");
}

/*
 * Where --csv FILE goes: stdout with a prefix on every line for '-',
 * else FILE. Close with close_csv().
 */
static FILE *open_csv(const char *csv, const char *stdout_prefix,
		      const char **prefix)
{
	FILE *f;

	*prefix = "";
	if (!strcmp(csv, "-")) {
		*prefix = stdout_prefix;
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

/* The CSV of the comparisons: FILE.cmp beside FILE, or 'cmp:' lines. */
static FILE *open_cmp_csv(const char *csv, const char **prefix)
{
	char path[PATH_MAX];

	if (!strcmp(csv, "-"))
		return open_csv(csv, "cmp:", prefix);
	snprintf(path, sizeof(path), "%s.cmp", csv);
	return open_csv(path, "", prefix);
}

/* ---- the parameters the demo needs, set for the run and put back ---- */

static const char * const saved_params[] = {
	"forward_hops", "dionysos_mb", "max_user_mb", "pool_pages",
};
static long saved_values[ARRAY_SIZE(saved_params)];

static void save_params(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
		saved_values[i] = bp_param_get(saved_params[i]);
		if (saved_values[i] < 0)
			die("cannot read " BOOTPOOL_PARAMS "%s", saved_params[i]);
	}
	/*
	 * A domain's start-up takes a large page or two from Dionysos once
	 * it has switched: enough room for a burst of them, all root's.
	 */
	run_mb = saved_values[1] < 512 ? 512 : saved_values[1];
	if (saved_values[1] < 512)
		write_long(BOOTPOOL_PARAMS "dionysos_mb", 512);
	if (saved_values[2] < 512)
		write_long(BOOTPOOL_PARAMS "max_user_mb", 512);
}

static void restore_params(void)
{
	char path[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
		snprintf(path, sizeof(path), BOOTPOOL_PARAMS "%s",
			 saved_params[i]);
		write_long(path, saved_values[i]);
	}
}

/* ---- sweeps ---- */

/*
 * @t with @k page-sized heap growths inserted before its first request
 * above a page that has no fallback (upstream: the main thread's stack),
 * or before !main when there is none.
 */
static void with_heap_pages(const struct trace *t, int k, struct trace *out)
{
	const struct line page = { .size = PAGE, .heap = true };
	int i, at = t->main_at, cap = 0;

	for (i = 0; i < t->nr; i++)
		if (t->l[i].size > PAGE && !t->l[i].fallback) {
			at = i;
			break;
		}
	*out = *t;
	out->l = NULL;
	out->nr = 0;
	out->retried = 0;
	for (i = 0; i <= t->nr; i++) {
		if (i == at) {
			int j;

			for (j = 0; j < k; j++)
				trace_add(out, &cap, &page);
		}
		if (i < t->nr)
			trace_add(out, &cap, &t->l[i]);
	}
	if (t->switch_at >= at)
		out->switch_at += k;
	if (t->main_at >= at)
		out->main_at += k;
}

/*
 * --sweep-pool and --sweep-heap: for each point x (a pool size, or a
 * number of heap pages) and trace, replay under each rule and print what
 * late saves against early and against upstream. Returns the exit status.
 */
static int sweep(bool heap, const int *xs, int nx, struct trace *traces,
		 int ntraces, const int *rules, int nrules, int n,
		 const struct placement *pl, const char *csv)
{
	static const int others[] = { RULE_EARLY, RULE_UPSTREAM };
	const char *kind = heap ? "heap_pages" : "pool_pages";
	const char *prefix = "";
	struct result res[NR_RULES];
	int xi, ti, i, j, failed = 0;
	FILE *f = NULL;

	if (csv) {
		f = open_csv(csv, "csv:", &prefix);
		fprintf(f, "%skind,trace,origin,x,comparison,saved_startup_bf_kib,saved_end_bf_kib,saved_startup_kib,saved_end_kib,late_dionysos_requests,other_dionysos_requests,late_pool_requests,late_switch_reason,failed\n",
			prefix);
	}
	printf("%-10s %-34s %5s %-12s | %9s %9s | %9s %9s | %11s | %s\n", kind,
	       "trace", "x", "late vs", "saved_st", "saved_end", "st_linux",
	       "end_linux", "d_reqs l/o", "late switch");
	for (ti = 0; ti < ntraces; ti++) {
		for (xi = 0; xi < nx; xi++) {
			struct trace ht, *t = &traces[ti];

			if (heap) {
				with_heap_pages(t, xs[xi], &ht);
				t = &ht;
			} else {
				write_long(BOOTPOOL_PARAMS "pool_pages", xs[xi]);
			}
			memset(res, 0, sizeof(res));
			for (i = 0; i < nrules; i++) {
				struct result *r = &res[rules[i]];

				r->t = t;
				r->rule = rules[i];
				r->pl = *pl;
				r->mode = MODE_SEQ;
				r->n = n;
				r->skipped = rules[i] == RULE_UPSTREAM &&
					     t->switch_at < 0;
				if (!r->skipped)
					run_round(r);
				finish(r);
				failed += r->failed;
			}
			for (j = 0; j < (int)ARRAY_SIZE(others); j++) {
				const struct result *l = &res[RULE_LATE];
				const struct result *o = &res[others[j]];
				const char *why = l->switched ?
					reason_name(l->reason) : "none";
				struct saving sv;

				if (!l->rounds || !o->rounds)
					continue;
				sv = saved(l, o);
				printf("%-10s %-34s %5d %-12s | %9.1f %9.1f | %9.1f %9.1f | %5.1f/%5.1f | %s\n",
				       kind, traces[ti].name, xs[xi],
				       rule_names[others[j]], sv.start_bf,
				       sv.end_bf, sv.start, sv.end, l->end.dreq,
				       o->end.dreq, why);
				if (f)
					fprintf(f, "%s%s,%s,%s,%d,late-vs-%s,%.1f,%.1f,%.1f,%.1f,%.2f,%.2f,%.2f,%s,%d\n",
						prefix, kind, traces[ti].name,
						traces[ti].origin, xs[xi],
						rule_names[others[j]], sv.start_bf,
						sv.end_bf, sv.start, sv.end,
						l->end.dreq, o->end.dreq,
						l->end.pool_req, why,
						l->failed + o->failed);
			}
			if (heap)
				free(ht.l);
		}
	}
	printf("(per domain, %d domain(s) per point, one by one, placement %s: saved_ = the other\n"
	       " rule's footprint minus late's, KiB, Dionysos's grants priced as mem_serv's; _linux =\n"
	       " as Linux granted them; st = end of start-up, end = end of the trace; l/o = late/other)\n",
	       n, pl->name);
	if (f)
		close_csv(f);
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

static int parse_placements(char *s, struct placement *pl)
{
	char *items[MAX_LIST], *end;
	int n = split(s, items), i;

	for (i = 0; i < n; i++) {
		pl[i].node = false;
		pl[i].tight = false;
		if (!strcmp(items[i], "on")) {
			pl[i].hops = 0;
		} else if (!strcmp(items[i], "node") || !strcmp(items[i], "tight")) {
			pl[i].hops = 1;
			pl[i].node = true;
			pl[i].tight = items[i][0] == 't';
		} else if (!strncmp(items[i], "off", 3)) {
			pl[i].hops = strtol(items[i] + 3, &end, 10);
			if (*end || pl[i].hops < 1)
				die("placement '%s': want offH with H >= 1", items[i]);
		} else {
			die("unknown placement '%s' (on, off1, off3, ..., node, tight)",
			    items[i]);
		}
		snprintf(pl[i].name, sizeof(pl[i].name), "%s", items[i]);
	}
	return n;
}

static int parse_rules(char *s, int *rules)
{
	char *items[MAX_LIST];
	int n = split(s, items), i, r;

	for (i = 0; i < n; i++) {
		for (r = 0; r < NR_RULES; r++)
			if (!strcmp(items[i], rule_names[r]))
				break;
		if (r == NR_RULES)
			die("unknown rule '%s' (late, early, upstream, hybrid)",
			    items[i]);
		rules[i] = r;
	}
	return n;
}

/* "16,32,64": the pool sizes of --sweep-pool. */
static int parse_pool_list(char *s, int *xs)
{
	char *items[MAX_LIST], *end;
	int n = split(s, items), i;

	for (i = 0; i < n; i++) {
		xs[i] = strtol(items[i], &end, 10);
		if (*end || xs[i] < 1 || xs[i] > 4096)
			die("--sweep-pool wants pool sizes from 1 to 4096 pages");
	}
	return n;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "from-ftrace", no_argument, NULL, 'f' },
		{ "pid", required_argument, NULL, 'i' },
		{ "no-fallback", no_argument, NULL, 'F' },
		{ "label", required_argument, NULL, 'l' },
		{ "sweep-pool", required_argument, NULL, 'S' },
		{ "sweep-heap", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char rule_s[64] = "late,early,upstream,hybrid", pl_s[64] = "off1";
	char mode_s[64] = "seq", pool_s[128] = "";
	char *modes[MAX_LIST], *paths[MAX_LIST];
	int nrule, npl, nmode, ntraces, i, j, k, m, r, nr = 0, c;
	int rules[MAX_LIST], mode[MAX_LIST], xs[1100], nx = 0;
	int n = 8, rounds = 6, ftrace = 0, npaths = 0, status = 0;
	int from = -1, to = 0, step = 0, ninst;
	bool rules_set = false;
	struct placement pl[MAX_LIST];
	struct trace traces[MAX_LIST];
	static struct result res[MAX_CONFIGS];
	struct instance inst[MAX_INSTANCES];
	const char *csv = NULL, *prefix;
	long pid = -1;
	char junk;
	FILE *f;

	while ((c = getopt_long(argc, argv, "n:r:t:p:P:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = atoi(optarg);
			if (n < 1 || n > 1024)
				die("-n wants 1 to 1024 domains");
			break;
		case 'r':
			rounds = atoi(optarg);
			if (rounds < 1 || rounds > MAX_ROUNDS)
				die("-r wants 1 to %d rounds", MAX_ROUNDS);
			break;
		case 't':
			if (npaths == MAX_LIST)
				die("at most %d traces", MAX_LIST);
			paths[npaths++] = optarg;
			break;
		case 'p':
			rules_set = true;
			snprintf(rule_s, sizeof(rule_s), "%s", optarg);
			break;
		case 'P':
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
		case 'l':
			label = optarg;
			break;
		case 'S':
			snprintf(pool_s, sizeof(pool_s), "%s", optarg);
			break;
		case 's':
			if (sscanf(optarg, "%d:%d:%d%c", &from, &to, &step, &junk) != 3 ||
			    from < 0 || to < from || to > 1024 || step < 1)
				die("--sweep-heap wants FROM:TO:STEP, 0 <= FROM <= TO <= 1024, STEP >= 1");
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
	if (*pool_s && from >= 0)
		die("one sweep at a time");
	if ((*pool_s || from >= 0) && !rules_set)
		snprintf(rule_s, sizeof(rule_s), "late,early,upstream");

	nrule = parse_rules(rule_s, rules);
	npl = parse_placements(pl_s, pl);
	nmode = split(mode_s, modes);
	for (i = 0; i < nmode; i++) {
		if (!strcmp(modes[i], "seq"))
			mode[i] = MODE_SEQ;
		else if (!strcmp(modes[i], "burst"))
			mode[i] = MODE_BURST;
		else
			die("unknown mode '%s' (seq, burst)", modes[i]);
	}
	if (!npaths)
		paths[npaths++] = default_trace();
	ntraces = npaths;
	for (i = 0; i < ntraces; i++)
		load_trace(paths[i], &traces[i]);
	if (ntraces * npl * nmode * nrule > MAX_CONFIGS)
		die("too many configurations (at most %d)", MAX_CONFIGS);

	if (access(BOOTPOOL_DEV, R_OK | W_OK))
		die("%s: %s (is bootpool.ko loaded, are you root?)", BOOTPOOL_DEV,
		    strerror(errno));
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	dionysos_cpu = bp_param_get("dionysos_cpu");
	if (dionysos_cpu < 0)
		die("cannot read " BOOTPOOL_PARAMS "dionysos_cpu");
	for (i = 0; i < npl; i++)
		if (pl[i].hops && nr_cpus < 2)
			die("placement %s needs a second CPU", pl[i].name);
	ninst = read_instances(inst);
	for (i = 0; i < npl; i++)
		if (pl[i].node && ninst < 2)
			die("placement node needs one Dionysos per node: load bootpool with dionysos_cpus=node (debugfs dionysos lists %d instance(s))",
			    ninst);
	for (i = 0; i < npl; i++)
		if (!pl[i].node && ninst > 1)
			die("placement %s wants one Dionysos, but debugfs dionysos lists %d",
			    pl[i].name, ninst);
	save_params();

	if (*pool_s || from >= 0) {
		if (*pool_s) {
			nx = parse_pool_list(pool_s, xs);
		} else {
			for (k = from; k <= to; k += step)
				xs[nx++] = k;
		}
		status = sweep(from >= 0, xs, nx, traces, ntraces, rules,
			       nrule, n, &pl[0], csv);
		restore_params();
		return status;
	}

	printf("bootpool-demo: %d domains per round, %d rounds, dionysos_cpu=%d, %d CPUs online, pool_pages=%ld\n",
	       n, rounds, dionysos_cpu, nr_cpus, bp_param_get("pool_pages"));
	for (i = 0; i < ntraces; i++)
		printf("trace %s (%s): %d requests, %d refused on the pool and asked again smaller%s%s\n",
		       traces[i].name, traces[i].origin, traces[i].nr,
		       traces[i].retried,
		       no_fallback ? " (asked as they are: --no-fallback)" : "",
		       traces[i].switch_at < 0 ? "; no !switch line" : "");
	printf("\n");
	for (i = 0; i < ntraces; i++)
		for (m = 0; m < nmode; m++)
			for (j = 0; j < npl; j++)
				for (k = 0; k < nrule; k++) {
					struct result *x = &res[nr++];

					x->t = &traces[i];
					x->rule = rules[k];
					x->pl = pl[j];
					x->mode = mode[m];
					x->n = n;
					x->skipped = rules[k] == RULE_UPSTREAM &&
						     traces[i].switch_at < 0;
				}
	/* Rounds interleaved: a drift of the machine hits every configuration. */
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nr; i++)
			if (!res[i].skipped)
				run_round(&res[i]);
	restore_params();
	for (i = 0; i < nr; i++)
		finish(&res[i]);

	print_table(res, nr);
	print_instances(res, nr);
	if (csv) {
		f = open_csv(csv, "csv:", &prefix);
		write_csv(f, prefix, res, nr);
		close_csv(f);
		f = open_cmp_csv(csv, &prefix);
		compare(res, nr, f, prefix);
		close_csv(f);
	} else {
		compare(res, nr, NULL, "");
	}
	for (i = 0; i < nr; i++)
		if (res[i].failed)
			return 1;
	return 0;
}
