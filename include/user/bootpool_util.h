/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user-space side of bootpool, shared by the selftests, the benchmark
 * and the demo: thin wrappers around the device's calls, the policies'
 * names, module parameters and loading, the debugfs "key value" parser
 * and CPU pinning. Each returns 0 or -errno (or -1 for a value it cannot
 * read) and prints nothing: what a failure means is the caller's to say.
 */
#ifndef _BOOTPOOL_UTIL_H
#define _BOOTPOOL_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bootpool.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define BOOTPOOL_DEV		"/dev/bootpool"
#define BOOTPOOL_PARAMS		"/sys/module/bootpool/parameters/"
#define BOOTPOOL_DEBUGFS	"/sys/kernel/debug/bootpool/"

/* The name of a policy (an enum bootpool_policy_id), "?" for none. */
static inline const char *bp_policy_name(__u32 policy)
{
	static const char * const names[BOOTPOOL_POLICY_COUNT] = {
		[BOOTPOOL_POLICY_LATE]		= "late",
		[BOOTPOOL_POLICY_EARLY]		= "early",
		[BOOTPOOL_POLICY_HYBRID]	= "hybrid",
	};

	return policy < BOOTPOOL_POLICY_COUNT ? names[policy] : "?";
}

/* The policy named @name, or -1. */
static inline int bp_policy_parse(const char *name)
{
	int p;

	for (p = 0; p < BOOTPOOL_POLICY_COUNT; p++)
		if (!strcmp(name, bp_policy_name(p)))
			return p;
	return -1;
}

/* The name of a switch reason (an enum bootpool_switch_reason). */
static inline const char *bp_reason_name(__u32 reason)
{
	static const char * const names[] = {
		[BOOTPOOL_SWITCH_NONE]		= "none",
		[BOOTPOOL_SWITCH_EXHAUSTED]	= "exhausted",
		[BOOTPOOL_SWITCH_OVERSIZE]	= "oversize",
		[BOOTPOOL_SWITCH_EARLY]		= "early",
		[BOOTPOOL_SWITCH_REQUESTED]	= "requested",
	};

	return reason < ARRAY_SIZE(names) ? names[reason] : "?";
}

/* Fills @out (zeroed on failure). */
static inline int bp_alloc(int fd, __u64 size, struct bootpool_alloc *out)
{
	struct bootpool_alloc a = { .size = size };

	if (ioctl(fd, BOOTPOOL_IOC_ALLOC, &a)) {
		if (out)
			memset(out, 0, sizeof(*out));
		return -errno;
	}
	if (out)
		*out = a;
	return 0;
}

static inline int bp_free(int fd, __u64 handle)
{
	struct bootpool_free f = { .handle = handle };

	return ioctl(fd, BOOTPOOL_IOC_FREE, &f) ? -errno : 0;
}

static inline int bp_set_policy(int fd, __u32 policy)
{
	struct bootpool_policy p = { .policy = policy };

	return ioctl(fd, BOOTPOOL_IOC_SET_POLICY, &p) ? -errno : 0;
}

static inline int bp_switch(int fd)
{
	struct bootpool_switch sw = { 0 };

	return ioctl(fd, BOOTPOOL_IOC_SWITCH, &sw) ? -errno : 0;
}

static inline int bp_stats(int fd, struct bootpool_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, BOOTPOOL_IOC_STATS, st) ? -errno : 0;
}

/* Opens a domain with @policy: a descriptor, or -errno. */
static inline int bp_open_domain(__u32 policy)
{
	int fd = open(BOOTPOOL_DEV, O_RDWR | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = bp_set_policy(fd, policy);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Reads the number at the start of the file at @path; -1 when it cannot. */
static inline long bp_read_long(const char *path)
{
	long val = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/* Reads a numeric module parameter; -1 when it cannot be read. */
static inline long bp_param_get(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), BOOTPOOL_PARAMS "%s", name);
	return bp_read_long(path);
}

/* Writes @val to the file at @path; 0 or -errno. */
static inline int bp_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static inline int bp_write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return bp_write_file(path, buf);
}

/* Writes a module parameter; 0 or -errno. */
static inline int bp_param_set(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), BOOTPOOL_PARAMS "%s", name);
	return bp_write_file(path, val);
}

static inline int bp_param_set_long(const char *name, long val)
{
	char path[256];

	snprintf(path, sizeof(path), BOOTPOOL_PARAMS "%s", name);
	return bp_write_long(path, val);
}

/* Loads the module file at @path with @params (finit_module()). */
static inline int bp_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Load bootpool.ko at @path as the suite found it: with the parameters
 * the test VM's init loaded it with (BOOTPOOL_MODPARAMS; none outside the
 * VM), so that a test that reloads the module does not take away, for
 * the tests after it, what the guest was booted to test (one Dionysos
 * per node in the numa stage of make check).
 */
static inline int bp_load_defaults(const char *path)
{
	const char *params = getenv("BOOTPOOL_MODPARAMS");

	return bp_load(path, params ? params : "");
}

/*
 * The debugfs "key value" parser: reads the lines of the file at @path up
 * to the first that is not "key number", and sets @vals[i] to the value of
 * each of the @n @keys it finds (the others are left alone).
 * Returns the number of keys found, or -errno when the file cannot be
 * opened.
 */
static inline int bp_kv_read(const char *path, const char * const *keys,
			     double *vals, int n)
{
	int i, found = 0;
	char key[64];
	double val;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %lf", key, &val) == 2) {
		for (i = 0; i < n; i++) {
			if (!strcmp(key, keys[i])) {
				vals[i] = val;
				found++;
			}
		}
	}
	fclose(f);
	return found;
}

/* Reads the line "@name value" of the file at @path; -1 when absent. */
static inline long bp_kv_get(const char *path, const char *name)
{
	double val = -1;

	bp_kv_read(path, &name, &val, 1);
	return (long)val;
}

/* Reads a line "name value" of a debugfs file; -1 when absent. */
static inline long bp_debugfs_get(const char *file, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), BOOTPOOL_DEBUGFS "%s", file);
	return bp_kv_get(path, name);
}

static inline long bp_counter(const char *name)
{
	return bp_debugfs_get("counters", name);
}

static inline int bp_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static inline int bp_online_cpus(void)
{
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* qsort() comparison of two doubles, ascending. */
static inline int bp_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n values; sorts @v. */
static inline double bp_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), bp_cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The median of @n values (say, one per round) and a distribution-free
 * interval for it, which assumes nothing of their distribution but that
 * the rounds are independent: the pair of order statistics v[k],
 * v[n-1-k], k as large as it can be, that covers the true median with
 * probability 1 - 2 P(Binomial(n, 1/2) <= k) >= 95%. With fewer than 6
 * values no pair reaches 95%: the interval is then [min, max] and @cover
 * says what it reaches. Sorts @v.
 */
static inline void bp_median_interval(double *v, int n, double *med,
				      double *lo, double *hi, double *cover)
{
	double tail = 0, c = 1, p = 1, best = 0;
	int j, k = 0;

	*med = bp_median(v, n);
	for (j = 0; j < n; j++)
		p /= 2;			/* 2^-n */
	for (j = 0; j < n / 2; j++) {
		tail += c * p;		/* P(Binomial(n, 1/2) <= j) */
		if (1 - 2 * tail < 0.95)
			break;
		k = j;
		best = 1 - 2 * tail;
		c = c * (n - j) / (j + 1);
	}
	if (!best)
		best = 1 - 2 * p;
	*lo = v[k];
	*hi = v[n - 1 - k];
	*cover = best;
}

#endif /* _BOOTPOOL_UTIL_H */
