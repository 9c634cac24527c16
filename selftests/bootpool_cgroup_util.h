/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the tests that run their processes as an unprivileged user
 * inside a cgroup v2 with the memory controller, as a user of a shared
 * test VM would: make the cgroup, read and write its files, move a child
 * into it as the test user.
 */
#ifndef _BOOTPOOL_CGROUP_UTIL_H
#define _BOOTPOOL_CGROUP_UTIL_H

#include "bootpool_util.h"

#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define BP_CG_ROOT	"/sys/fs/cgroup"
#define BP_TEST_UID	65534
#define BP_OTHER_UID	65533

/* Writes @val to @dir/@file; 0 or -errno. */
static inline int bp_cg_write(const char *dir, const char *file,
			      const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return bp_write_file(path, val);
}

/* Reads a number from @dir/@file; -1 when it cannot. */
static inline long bp_cg_read(const char *dir, const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return bp_read_long(path);
}

/* Reads "@key N" from @dir/@file (cgroup.stat, ...); -1 when absent. */
static inline long bp_cg_key(const char *dir, const char *file,
			     const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return bp_kv_get(path, key);
}

/*
 * Make a cgroup v2 child with the memory controller and @max bytes of
 * memory.max, named for the test process. Return: 0, or -errno (the
 * caller skips).
 */
static inline int bp_cg_create(char *dir, size_t len, unsigned long max)
{
	char buf[32];
	int ret;

	if (access(BP_CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(BP_CG_ROOT, 0755);
		if (mount("none", BP_CG_ROOT, "cgroup2", 0, NULL))
			return -errno;
	}
	ret = bp_cg_write(BP_CG_ROOT, "cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	snprintf(dir, len, BP_CG_ROOT "/bootpool_test_%d", getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(buf, sizeof(buf), "%lu", max);
	ret = bp_cg_write(dir, "memory.max", buf);
	/* No swap in the guests; where there is, keep it out of the test. */
	bp_cg_write(dir, "memory.swap.max", "0");
	return ret;
}

/*
 * Move the caller into @dir, pin it to @cpu and make it @uid: for the
 * tested process. Return: 0, or -1.
 */
static inline int bp_cg_enter(const char *dir, uid_t uid, int cpu)
{
	if (bp_cg_write(dir, "cgroup.procs", "0"))
		return -1;
	if (bp_pin_cpu(cpu))
		return -1;
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		return -1;
	return geteuid() == uid ? 0 : -1;
}

/*
 * Enter @dir as the test user on @cpu (bp_cg_enter()), open the device
 * with the early policy and take @size-byte blocks from Dionysos until
 * memory.max refuses one. Return: the descriptor, at memory.max, or -1
 * when a step failed or the refusal was not ENOMEM.
 */
static inline int bp_cg_fill_to_max(const char *dir, int cpu, size_t size)
{
	struct bootpool_alloc a;
	int fd, n, ret = 0;

	if (bp_cg_enter(dir, BP_TEST_UID, cpu))
		return -1;
	fd = open(BOOTPOOL_DEV, O_RDWR);
	if (fd < 0 || bp_set_policy(fd, BOOTPOOL_POLICY_EARLY))
		return -1;
	for (n = 0; n < 1024 && !ret; n++)
		ret = bp_alloc(fd, size, &a);
	return ret == -ENOMEM ? fd : -1;
}

/* Waits for @pid; returns its exit status, 128 + signal, or -1. */
static inline int bp_wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Runs @child(@dir) in a forked process (@child ends it with _exit()).
 * Return: the child's status as bp_wait_status() gives it, or -1 when
 * fork() failed.
 */
static inline int bp_cg_run(void (*child)(const char *dir), const char *dir)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		child(dir);
		_exit(99);
	}
	return bp_wait_status(pid);
}

#endif /* _BOOTPOOL_CGROUP_UTIL_H */
