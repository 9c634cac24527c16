/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the reliability selftests: fail-nth fault injection, module
 * reload and waiting for the global counters to settle.
 */
#ifndef _BOOTPOOL_FAULT_UTIL_H
#define _BOOTPOOL_FAULT_UTIL_H

#include "bootpool_util.h"

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#define BP_FAILSLAB	"/sys/kernel/debug/failslab/"
#define BP_FAILPAGE	"/sys/kernel/debug/fail_page_alloc/"

static inline bool bp_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Why a test of the device cannot run here: NULL, or the reason to skip. */
static inline const char *bp_cannot_test(void)
{
	if (geteuid())
		return "needs root";
	if (!bp_exists(BOOTPOOL_DEV))
		return "no " BOOTPOOL_DEV;
	return NULL;
}

static inline const char *bp_module_path(char *buf, size_t len)
{
	const char *dir = getenv("BOOTPOOL_MODULE_DIR");

	snprintf(buf, len, "%s/bootpool.ko", dir ? dir : "/bootpool");
	return buf;
}

static inline int bp_unload(void)
{
	return syscall(SYS_delete_module, "bootpool", O_NONBLOCK) ? -errno : 0;
}

/* Unload, retrying for up to @ms while the module is still in use. */
static inline int bp_unload_wait(int ms)
{
	int ret;

	while ((ret = bp_unload()) == -EWOULDBLOCK && ms > 0) {
		usleep(10000);
		ms -= 10;
	}
	return ret;
}

/*
 * Why a test that reloads the module cannot run here, or NULL; on NULL,
 * @path holds the module file to load.
 */
static inline const char *bp_reload_unavailable(char *path, size_t len)
{
	if (geteuid())
		return "needs root";
	if (!bp_exists("/sys/module/bootpool"))
		return "bootpool module not loaded";
	bp_module_path(path, len);
	if (!bp_exists(path))
		return "bootpool.ko not found";
	return NULL;
}

/* The pid of a kernel thread of this name, or 0 when there is none. */
static inline pid_t bp_thread_pid(const char *name)
{
	char path[300], comm[64];
	struct dirent *de;
	pid_t pid = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, name))
				pid = atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return pid;
}

static inline bool bp_thread_exists(const char *name)
{
	return bp_thread_pid(name) != 0;
}

/* Take @cpu offline (@on 0) or bring it back; 0 or a negative errno. */
static inline int bp_cpu_online_set(int cpu, int on)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	return bp_write_file(path, on ? "1" : "0");
}

/*
 * Wait up to @ms for the global counters to show no domain, no pool page
 * in use and no Dionysos page held (replies of dead requesters are taken
 * back asynchronously). Return: true when they do.
 */
static inline bool bp_counters_settle(int ms)
{
	for (;;) {
		if (bp_counter("domains") == 0 &&
		    bp_counter("pool_pages_used") == 0 &&
		    bp_counter("remote_pages_held") == 0)
			return true;
		if (ms <= 0)
			return false;
		usleep(20000);
		ms -= 20;
	}
}

/* fail-nth of the calling thread; -1 when the kernel has no fault injection. */
static inline int bp_fail_nth_open(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

static inline void bp_fail_nth_set(int fd, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (pwrite(fd, buf, len, 0) != len)
		perror("fail-nth");
}

/* True when the fault armed by bp_fail_nth_set() was injected; disarms it. */
static inline bool bp_fail_nth_fired(int fd)
{
	char buf[16] = "";
	bool fired;

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		return false;
	fired = atoi(buf) == 0;
	bp_fail_nth_set(fd, 0);
	return fired;
}

/*
 * Let fail-nth reach every allocation: by default failslab and
 * fail_page_alloc skip allocations that may sleep, and fail_page_alloc
 * skips order 0. Also keep their reports off the console.
 */
static inline void bp_fault_attrs_all(bool on)
{
	bp_write_file(BP_FAILSLAB "ignore-gfp-wait", on ? "N" : "Y");
	bp_write_file(BP_FAILSLAB "verbose", "0");
	bp_write_file(BP_FAILPAGE "ignore-gfp-wait", on ? "N" : "Y");
	bp_write_file(BP_FAILPAGE "ignore-gfp-highmem", on ? "N" : "Y");
	bp_write_file(BP_FAILPAGE "min-order", on ? "0" : "1");
	bp_write_file(BP_FAILPAGE "verbose", "0");
}

#endif /* _BOOTPOOL_FAULT_UTIL_H */
