/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the bootpool selftests: thin wrappers around the
 * ioctls, module parameters, debugfs counters and CPU pinning.
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
#include <unistd.h>

#include <linux/bootpool.h>

#define BOOTPOOL_DEV		"/dev/bootpool"
#define BOOTPOOL_PARAMS		"/sys/module/bootpool/parameters/"
#define BOOTPOOL_DEBUGFS	"/sys/kernel/debug/bootpool/"

/* Returns 0 or -errno; fills @out. */
static inline int bp_alloc(int fd, __u64 size, struct bootpool_alloc *out)
{
	struct bootpool_alloc a = { .size = size };

	if (out)
		memset(out, 0, sizeof(*out));
	if (ioctl(fd, BOOTPOOL_IOC_ALLOC, &a))
		return -errno;
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

static inline int bp_stats(int fd, struct bootpool_stats *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, BOOTPOOL_IOC_STATS, st) ? -errno : 0;
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

/* Writes a module parameter; 0 or -errno. */
static inline int bp_param_set(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), BOOTPOOL_PARAMS "%s", name);
	return bp_write_file(path, val);
}

static inline int bp_param_set_long(const char *name, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", val);
	return bp_param_set(name, buf);
}

/* Reads the line "@name value" of the file at @path; -1 when absent. */
static inline long bp_kv_get(const char *path, const char *name)
{
	char key[64];
	long val, found = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			found = val;
			break;
		}
	}
	fclose(f);
	return found;
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

#endif /* _BOOTPOOL_UTIL_H */
