// SPDX-License-Identifier: GPL-2.0
/*
 * Several Dionysos instances (``dionysos_cpus``): the load refuses bad
 * values, a ninth instance among them; an instance whose share is used up
 * steals exactly what it lacks; a request stays on its node while the
 * local share lasts; an instance hands out its own node's memory; one
 * instance's CPU goes offline and comes back while requests run, the
 * instance serving meanwhile on another CPU of its node, or with none
 * online on another node's; the module unloads with requests in flight on
 * every instance; max_user_mb, max_remote_mb and memory.max hold across
 * instances; programs built with the structures' older sizes keep working.
 *
 * Each test reloads the module from $BOOTPOOL_MODULE_DIR/bootpool.ko
 * (default /bootpool) with its own parameters, and leaves it loaded with
 * the defaults. Tests that route requests to two instances need two NUMA
 * nodes with CPUs, and skip, saying so, on one node (QEMU: -numa, see
 * Documentation/admin-guide.rst); the others need two or three CPUs.
 */
#include "bootpool_fault_util.h"
#include "bootpool_cgroup_util.h"

#include <linux/mempolicy.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"

#define MiB		(1UL << 20)
#define MAX_KIDS	16

/* The CPUs of a list file of /sys ("0-3,6"); how many there are. */
static int read_cpulist(const char *path, cpu_set_t *set)
{
	char buf[256], *tok, *save, *end;
	int a, b, n = 0;
	FILE *f = fopen(path, "r");

	CPU_ZERO(set);
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	for (tok = strtok_r(buf, ",\n", &save); tok;
	     tok = strtok_r(NULL, ",\n", &save)) {
		a = strtol(tok, &end, 10);
		if (end == tok)
			continue;
		b = *end == '-' ? strtol(end + 1, NULL, 10) : a;
		for (; a <= b && a < CPU_SETSIZE; a++, n++)
			CPU_SET(a, set);
	}
	return n;
}

/* The online CPUs of NUMA node @node. */
static int node_cpus(int node, cpu_set_t *set)
{
	char path[96];
	cpu_set_t online;
	int cpu, n = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	read_cpulist(path, set);
	read_cpulist("/sys/devices/system/cpu/online", &online);
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, set) && !CPU_ISSET(cpu, &online))
			CPU_CLR(cpu, set);
		n += CPU_ISSET(cpu, set);
	}
	return n;
}

/* The @i-th CPU of @set, or -1. */
static int nth_cpu(const cpu_set_t *set, int i)
{
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && i-- == 0)
			return cpu;
	return -1;
}

/* Nodes 0 and 1 both have online CPUs. */
static bool two_nodes(void)
{
	cpu_set_t set;

	return node_cpus(0, &set) > 0 && node_cpus(1, &set) > 0;
}

/* The value of @key in instance @id's line of debugfs "dionysos", or -1. */
/* Whether CPUs 0 and 1 are on node 0, as the cases on one node want. */
static bool cpus_0_and_1_on_node0(void)
{
	cpu_set_t n0;

	return !two_nodes() || node_cpus(0, &n0) >= 2;
}

static long inst_get(int id, const char *key)
{
	char line[512], want[48], *p;
	FILE *f = fopen(BOOTPOOL_DEBUGFS "dionysos", "r");
	long v = -1;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "instance=%d ", id);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		snprintf(want, sizeof(want), " %s=", key);
		p = strstr(line, want);
		if (p)
			v = strtol(p + strlen(want), NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

/* MemFree of NUMA node @node in KiB, or -1. */
static long node_free_kib(int node)
{
	char path[96], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemFree: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Bind the calling task's allocations to @node, or with -1 unbind them. */
static int bind_to_node(int node)
{
	unsigned long mask = node < 0 ? 0 : 1UL << node;

	return syscall(SYS_set_mempolicy, node < 0 ? MPOL_DEFAULT : MPOL_BIND,
		       node < 0 ? NULL : &mask, node < 0 ? 0 : 8 * sizeof(mask));
}

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* An early domain (every request to Dionysos) opened pinned to @cpu. */
static int early_domain_on(int cpu)
{
	if (bp_pin_cpu(cpu))
		return -errno;
	return bp_open_domain(BOOTPOOL_POLICY_EARLY);
}

/* ALLOC a page at a time, @n times at most. Return: how many were granted. */
static long alloc_pages_until(int fd, long n)
{
	struct bootpool_alloc a;
	long i;

	for (i = 0; i < n; i++)
		if (bp_alloc(fd, page_size(), &a))
			break;
	return i;
}

/* What the requests of one child did, in memory shared with the parent. */
struct kid_counts {
	long ops;
	long errors;
	long last_errno;
};

FIXTURE(numa) {
	char path[256];
	bool loaded;
	int offline_cpu;
	pid_t kids[MAX_KIDS];
	int nr_kids;
	struct kid_counts *counts;
};

FIXTURE_SETUP(numa)
{
	const char *why = bp_reload_unavailable(self->path, sizeof(self->path));

	self->loaded = false;
	self->offline_cpu = -1;
	self->nr_kids = 0;
	self->counts = MAP_FAILED;
	if (why)
		SKIP(return, "%s", why);
	if (bp_online_cpus() < 2)
		SKIP(return, "needs two CPUs");
	self->counts = mmap(NULL, MAX_KIDS * sizeof(*self->counts),
			    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
	ASSERT_NE(MAP_FAILED, self->counts);
	self->loaded = true;
}

static void stop_kids(FIXTURE_DATA(numa) *self)
{
	int i;

	for (i = 0; i < self->nr_kids; i++) {
		kill(self->kids[i], SIGKILL);
		waitpid(self->kids[i], NULL, 0);
	}
	self->nr_kids = 0;
}

FIXTURE_TEARDOWN(numa)
{
	if (!self->loaded)
		return;
	stop_kids(self);
	if (self->offline_cpu >= 0)
		bp_cpu_online_set(self->offline_cpu, 1);
	/* Leave the module loaded with its defaults for whatever runs next. */
	bp_unload_wait(5000);
	bp_load_defaults(self->path);
	munmap(self->counts, MAX_KIDS * sizeof(*self->counts));
}

/* Reload the module with @params. */
static int reload(FIXTURE_DATA(numa) *self, const char *params)
{
	int ret = bp_unload_wait(5000);

	return ret ? ret : bp_load(self->path, params);
}

/*
 * A child pinned to @cpu that ALLOCs and FREEs blocks of @size until it is
 * killed, counting its requests and errors in @self->counts.
 */
static pid_t start_kid(FIXTURE_DATA(numa) *self, int cpu, unsigned long size)
{
	struct kid_counts *c = &self->counts[self->nr_kids];
	struct bootpool_alloc a;
	pid_t pid;
	int fd, ret;

	memset(c, 0, sizeof(*c));
	pid = fork();
	if (pid)
		return self->kids[self->nr_kids++] = pid;
	fd = early_domain_on(cpu);
	if (fd < 0) {
		c->errors++;
		c->last_errno = -fd;
		_exit(1);
	}
	for (;;) {
		ret = bp_alloc(fd, size, &a);
		if (!ret)
			ret = bp_free(fd, a.handle);
		if (ret) {
			c->errors++;
			c->last_errno = -ret;
		}
		__atomic_add_fetch(&c->ops, 1, __ATOMIC_RELAXED);
	}
}

TEST_F(numa, bad_dionysos_cpus_fail_the_load_and_change_nothing)
{
	static const char * const bad[] = {
		"0,0", "0,", ",0", "zero", "1-0", "0-", "node0",
	};
	char arg[64];
	unsigned int i;

	ASSERT_EQ(0, bp_unload_wait(5000));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(arg, sizeof(arg), "dionysos_cpus=%s", bad[i]);
		EXPECT_EQ(-EINVAL, bp_load(self->path, arg)) TH_LOG("%s", arg);
		EXPECT_FALSE(bp_exists("/sys/module/bootpool")) TH_LOG("%s", arg);
	}
	/* A CPU that is not online: CPUs 0 to n-1 are. */
	snprintf(arg, sizeof(arg), "dionysos_cpus=0,%d", bp_online_cpus());
	EXPECT_EQ(-EINVAL, bp_load(self->path, arg)) TH_LOG("%s", arg);
	EXPECT_FALSE(bp_exists("/sys/module/bootpool"));

	ASSERT_EQ(0, bp_load(self->path, "dionysos_cpus=1,0"));
	/* Ids in list order. */
	EXPECT_EQ(1, inst_get(0, "cpu"));
	EXPECT_EQ(0, inst_get(1, "cpu"));
	EXPECT_EQ(-1, inst_get(2, "cpu"));
	EXPECT_TRUE(bp_thread_exists("dionysos"));
	EXPECT_TRUE(bp_thread_exists("dionysos1"));
}

/* Whether a kernel message after @kmsg's position holds @needle. */
static bool kmsg_has(int kmsg, const char *needle)
{
	char rec[1024];
	bool found = false;
	ssize_t n;

	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		if (strstr(rec, needle))
			found = true;
	}
	return found;
}

/*
 * Eight instances load; a ninth CPU fails the load, with a message that
 * names the limit even when that CPU is not online.
 */
TEST_F(numa, a_ninth_instance_fails_the_load_saying_so)
{
	int kmsg;

	if (bp_online_cpus() < 8)
		SKIP(return, "needs eight CPUs");
	ASSERT_EQ(0, bp_unload_wait(5000));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);
	/* CPU 8 is the ninth, online or not. */
	EXPECT_EQ(-EINVAL, bp_load(self->path, "dionysos_cpus=0-8"));
	EXPECT_FALSE(bp_exists("/sys/module/bootpool"));
	EXPECT_TRUE(kmsg_has(kmsg, "\"0-8\": more than 8 instances"));
	close(kmsg);

	ASSERT_EQ(0, bp_load(self->path, "dionysos_cpus=7,0-6"));
	EXPECT_EQ(7, inst_get(0, "cpu"));
	EXPECT_EQ(6, inst_get(7, "cpu"));
	EXPECT_TRUE(bp_thread_exists("dionysos7"));
}

TEST_F(numa, default_is_one_instance_on_dionysos_cpu)
{
	ASSERT_EQ(0, reload(self, "dionysos_cpu=1"));
	EXPECT_EQ(1, inst_get(0, "cpu"));
	EXPECT_EQ(-1, inst_get(1, "cpu"));
	EXPECT_EQ(bp_kv_get(BOOTPOOL_DEBUGFS "dionysos", "budget_pages"),
		  inst_get(0, "share_pages"));
}

/*
 * Two instances on one node: requests go to instance 0, the lowest id of
 * the nearest. Once its half of dionysos_mb is granted, each page it
 * grants is one steal of one page from instance 1, until the whole budget
 * is granted.
 */
TEST_F(numa, steals_exactly_what_the_share_lacks)
{
	long total = MiB / page_size(), share0, share1, i;
	struct bootpool_stats st;
	struct bootpool_alloc a;
	int fd;

	if (!cpus_0_and_1_on_node0())
		SKIP(return, "needs two CPUs on node 0");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=0,1 dionysos_mb=1"));
	share0 = inst_get(0, "share_pages");
	share1 = inst_get(1, "share_pages");
	EXPECT_EQ(total / 2 + total % 2, share0);
	EXPECT_EQ(total / 2, share1);

	fd = early_domain_on(0);
	ASSERT_LE(0, fd);
	for (i = 0; i < share0; i++) {
		ASSERT_EQ(0, bp_alloc(fd, page_size(), &a)) TH_LOG("page %ld", i);
		ASSERT_EQ(0, a.instance);
	}
	ASSERT_EQ(0, bp_stats(fd, &st));
	EXPECT_EQ(0, st.steals);
	EXPECT_EQ(0, inst_get(0, "steals"));

	for (i = 0; i < share1; i++) {
		ASSERT_EQ(0, bp_alloc(fd, page_size(), &a)) TH_LOG("page %ld", i);
		ASSERT_EQ(0, a.instance);
	}
	ASSERT_EQ(0, bp_stats(fd, &st));
	EXPECT_EQ(share1, st.steals);
	EXPECT_EQ(share1, st.stolen_pages);
	EXPECT_EQ(0, st.cross_node);
	EXPECT_EQ(share1, inst_get(0, "steals"));
	EXPECT_EQ(share1, inst_get(0, "stolen_pages"));
	EXPECT_EQ(total, inst_get(0, "share_pages"));
	EXPECT_EQ(total, inst_get(0, "granted_pages"));
	EXPECT_EQ(0, inst_get(1, "share_pages"));
	EXPECT_EQ(0, inst_get(1, "steals"));

	/* The budget holds across the instances. */
	EXPECT_EQ(-ENOMEM, bp_alloc(fd, page_size(), &a));
	close(fd);
	EXPECT_TRUE(bp_counters_settle(2000));
	EXPECT_EQ(0, inst_get(0, "granted_pages"));
}

/*
 * A new dionysos_mb is split evenly again, whatever was stolen under the
 * old one: the share instance 0 took from instance 1 must not outlive the
 * budget it was taken from. With 2 MiB, instance 0 grants the whole
 * budget, half of it stolen; with the budget lowered to 1 MiB, what the
 * instances together grant is 1 MiB, not instance 0's stolen share on
 * top of its new half.
 */
TEST_F(numa, a_new_budget_is_split_again)
{
	long total = MiB / page_size();
	struct bootpool_alloc a;
	int fd;

	if (!cpus_0_and_1_on_node0())
		SKIP(return, "needs two CPUs on node 0");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=0,1 dionysos_mb=2"));
	fd = early_domain_on(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2 * total, alloc_pages_until(fd, 2 * total));
	EXPECT_EQ(total, inst_get(0, "stolen_pages"));
	EXPECT_EQ(0, inst_get(1, "share_pages"));
	close(fd);
	ASSERT_TRUE(bp_counters_settle(2000));

	ASSERT_EQ(0, bp_param_set_long("dionysos_mb", 1));
	EXPECT_EQ(total / 2 + total % 2, inst_get(0, "share_pages"));
	EXPECT_EQ(total / 2, inst_get(1, "share_pages"));
	fd = early_domain_on(0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(total, alloc_pages_until(fd, total));
	EXPECT_EQ(-ENOMEM, bp_alloc(fd, page_size(), &a));
	EXPECT_EQ(total, inst_get(0, "granted_pages"));
	close(fd);
}

/*
 * Each node's requests go to its own instance and are served on its node,
 * with no steal, until that instance's share is granted; the next page is
 * one steal from the other node's instance, and counts as cross-node.
 */
TEST_F(numa, node_local_while_the_share_lasts)
{
	long share[2], i;
	struct bootpool_stats st;
	struct bootpool_alloc a;
	cpu_set_t cpus[2];
	int node, cpu[2], fd;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node dionysos_mb=1"));
	for (node = 0; node < 2; node++) {
		node_cpus(node, &cpus[node]);
		EXPECT_EQ(node, inst_get(node, "node"));
		EXPECT_EQ(nth_cpu(&cpus[node], 0), inst_get(node, "cpu"));
		share[node] = inst_get(node, "share_pages");
		/* Not the instance's CPU when there is another: one hop. */
		cpu[node] = nth_cpu(&cpus[node], CPU_COUNT(&cpus[node]) > 1);
	}
	/* One domain (a process has one), its requests made on either node. */
	fd = early_domain_on(cpu[1]);
	ASSERT_LE(0, fd);

	/* Node 1 first, then past its share: it steals from node 0. */
	for (i = 0; i <= share[1]; i++) {
		ASSERT_EQ(0, bp_alloc(fd, page_size(), &a)) TH_LOG("page %ld", i);
		ASSERT_EQ(1, a.instance);
		ASSERT_TRUE(CPU_ISSET(a.served_cpu, &cpus[1]));
		ASSERT_EQ(0, bp_stats(fd, &st));
		ASSERT_EQ(i < share[1] ? 0 : 1, st.steals) TH_LOG("page %ld", i);
		ASSERT_EQ(i < share[1] ? 0 : 1, st.cross_node);
	}
	EXPECT_EQ(1, st.stolen_pages);
	EXPECT_EQ(1, inst_get(1, "steals"));
	EXPECT_EQ(1, inst_get(1, "cross_node"));
	EXPECT_EQ(share[1] + 1, inst_get(1, "requests"));

	/* Node 0 has one page less, and no one to steal from. */
	ASSERT_EQ(0, bp_pin_cpu(cpu[0]));
	for (i = 0; i < share[0] - 1; i++) {
		ASSERT_EQ(0, bp_alloc(fd, page_size(), &a)) TH_LOG("page %ld", i);
		ASSERT_EQ(0, a.instance);
		ASSERT_TRUE(CPU_ISSET(a.served_cpu, &cpus[0]));
	}
	ASSERT_EQ(0, bp_stats(fd, &st));
	EXPECT_EQ(1, st.steals);
	EXPECT_EQ(1, st.cross_node);
	EXPECT_EQ(-ENOMEM, bp_alloc(fd, page_size(), &a));
	EXPECT_EQ(0, inst_get(0, "steals"));
	EXPECT_EQ(0, inst_get(0, "cross_node"));
	/* Served, granted or refused. */
	EXPECT_EQ(share[0], inst_get(0, "requests"));
	close(fd);
}

/*
 * An instance hands out its own node's memory: even a request served on
 * the spot, in the syscall of a requester on the instance's CPU whose
 * memory policy binds it to the other node, gets pages of the instance's
 * node. MemFree of each node shows where the pages went, and the
 * instance counts no page off its node.
 */
TEST_F(numa, an_instance_grants_its_own_node_memory)
{
	const unsigned long size = 32 * 1024, total = 16 * MiB;
	long before[2], after[2], drop[2];
	struct bootpool_alloc a;
	int node, other, fd;
	unsigned long i;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node dionysos_mb=64"));
	for (node = 0; node < 2; node++) {
		other = !node;
		fd = early_domain_on(inst_get(node, "cpu"));
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bind_to_node(other)) TH_LOG("%s", strerror(errno));
		before[0] = node_free_kib(0);
		before[1] = node_free_kib(1);
		for (i = 0; i < total / size; i++) {
			ASSERT_EQ(0, bp_alloc(fd, size, &a)) TH_LOG("block %lu", i);
			ASSERT_EQ(node, a.instance);
			ASSERT_EQ(inst_get(node, "cpu"), a.served_cpu);
			ASSERT_EQ(0, a.hops);
		}
		after[0] = node_free_kib(0);
		after[1] = node_free_kib(1);
		ASSERT_EQ(0, bind_to_node(-1));
		drop[0] = before[0] - after[0];
		drop[1] = before[1] - after[1];
		TH_LOG("instance %d, bound to node %d: MemFree node 0 %+ld KiB, node 1 %+ld KiB",
		       node, other, -drop[0], -drop[1]);
		/* All 16 MiB on its node, less what per-CPU lists absorb. */
		EXPECT_LE((long)(total / 1024 / 2), drop[node]);
		EXPECT_GT((long)(total / 1024 / 4), drop[other]);
		EXPECT_EQ(0, inst_get(node, "off_node_pages"));
		close(fd);
		/* Its blocks go back before the next node's are counted. */
		ASSERT_TRUE(bp_counters_settle(5000));
	}
}

/*
 * The CPU of one instance goes offline while requests run: that instance
 * moves to the lowest other online CPU of its node (on one node, CPU 0)
 * and back when its CPU returns; the other stays; no request fails.
 */
TEST_F(numa, hotplug_of_one_instance_cpu_while_requests_run)
{
	int home, away, kid_cpu, node, i;
	cpu_set_t cpus[2];
	char file[96];

	if (two_nodes()) {
		node_cpus(1, &cpus[1]);
		if (CPU_COUNT(&cpus[1]) < 2)
			SKIP(return, "needs two CPUs on node 1");
		ASSERT_EQ(0, reload(self, "dionysos_cpus=node"));
		home = nth_cpu(&cpus[1], 0);
		away = nth_cpu(&cpus[1], 1);
		kid_cpu = away;
		node = 1;
	} else {
		if (bp_online_cpus() < 3)
			SKIP(return, "needs three CPUs");
		ASSERT_EQ(0, reload(self, "dionysos_cpus=0,1"));
		home = 1;
		away = 0;
		kid_cpu = 2;
		node = 0;
	}
	snprintf(file, sizeof(file), "/sys/devices/system/cpu/cpu%d/online",
		 home);
	if (!bp_exists(file))
		SKIP(return, "no CPU hotplug for CPU %d", home);
	ASSERT_EQ(home, inst_get(1, "cpu"));

	start_kid(self, kid_cpu, page_size());
	start_kid(self, kid_cpu, 64 * 1024);
	start_kid(self, 0, page_size());
	for (i = 0; i < 3; i++) {
		usleep(100000);
		self->offline_cpu = home;
		ASSERT_EQ(0, bp_cpu_online_set(home, 0));
		EXPECT_EQ(away, inst_get(1, "cpu"));
		EXPECT_EQ(node, inst_get(1, "node"));
		EXPECT_EQ(0, inst_get(0, "cpu"));
		usleep(100000);
		ASSERT_EQ(0, bp_cpu_online_set(home, 1));
		self->offline_cpu = -1;
		EXPECT_EQ(home, inst_get(1, "cpu"));
	}
	usleep(100000);
	stop_kids(self);
	for (i = 0; i < 3; i++) {
		EXPECT_LT(0, self->counts[i].ops) TH_LOG("child %d", i);
		EXPECT_EQ(0, self->counts[i].errors)
			TH_LOG("child %d: errno %ld", i, self->counts[i].last_errno);
	}
	EXPECT_TRUE(bp_counters_settle(5000));
	EXPECT_EQ(0, inst_get(0, "granted_pages"));
	EXPECT_EQ(0, inst_get(1, "granted_pages"));
}

/*
 * An instance leaves its node only when no other CPU of it is online:
 * with node 1's other CPUs offline, taking its home CPU offline moves it
 * to CPU 0, and it comes home with its CPU. No ASSERT while CPUs are
 * offline: every one comes back, whatever fails.
 */
TEST_F(numa, an_instance_leaves_its_node_only_when_it_has_no_cpu_left)
{
	cpu_set_t cpus;
	char file[96];
	int home, i, n;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	n = node_cpus(1, &cpus);
	home = nth_cpu(&cpus, 0);
	snprintf(file, sizeof(file), "/sys/devices/system/cpu/cpu%d/online",
		 home);
	if (!bp_exists(file))
		SKIP(return, "no CPU hotplug for CPU %d", home);
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node"));
	ASSERT_EQ(home, inst_get(1, "cpu"));

	for (i = 1; i < n; i++)
		EXPECT_EQ(0, bp_cpu_online_set(nth_cpu(&cpus, i), 0));
	EXPECT_EQ(home, inst_get(1, "cpu"));
	EXPECT_EQ(0, bp_cpu_online_set(home, 0));
	EXPECT_EQ(0, inst_get(1, "cpu"));
	EXPECT_EQ(0, inst_get(1, "node"));
	EXPECT_EQ(0, bp_cpu_online_set(home, 1));
	EXPECT_EQ(home, inst_get(1, "cpu"));
	for (i = 1; i < n; i++)
		EXPECT_EQ(0, bp_cpu_online_set(nth_cpu(&cpus, i), 1));
	EXPECT_EQ(n, node_cpus(1, &cpus));
}

/*
 * Requesters on every node are killed while their requests are on their
 * way: the module unloads, and every instance got its pages back (the
 * unload warns otherwise).
 */
TEST_F(numa, unload_with_requests_in_flight_on_every_instance)
{
	char rec[1024];
	cpu_set_t cpus;
	int node, k, kmsg;
	ssize_t n;
	bool warned = false;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node"));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	lseek(kmsg, 0, SEEK_END);

	for (node = 0; node < 2; node++) {
		node_cpus(node, &cpus);
		for (k = 0; k < CPU_COUNT(&cpus) && k < 3; k++) {
			start_kid(self, nth_cpu(&cpus, k), page_size());
			start_kid(self, nth_cpu(&cpus, k), 256 * 1024);
		}
	}
	usleep(300000);
	EXPECT_LT(0, inst_get(0, "requests"));
	EXPECT_LT(0, inst_get(1, "requests"));
	stop_kids(self);
	EXPECT_EQ(0, bp_unload_wait(5000));
	EXPECT_FALSE(bp_exists("/sys/module/bootpool"));

	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0 || errno == EPIPE) {
		if (n <= 0)
			continue;
		rec[n] = 0;
		if (strstr(rec, "not returned") || strstr(rec, "WARNING"))
			warned = true;
	}
	close(kmsg);
	EXPECT_FALSE(warned);
	EXPECT_EQ(0, bp_load_defaults(self->path));
}

/*
 * max_user_mb and max_remote_mb count the pages of every instance: a
 * user's domains on two nodes, and a domain that moves between nodes,
 * get no more than their cap together.
 */
TEST_F(numa, caps_hold_across_instances)
{
	long cap = MiB / page_size(), i;
	struct bootpool_alloc a;
	cpu_set_t cpus[2];
	int fd[2], node;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node dionysos_mb=8"));
	node_cpus(0, &cpus[0]);
	node_cpus(1, &cpus[1]);

	/*
	 * One user, two domains (a process has one), one on each node:
	 * 1 MiB together. The child takes half on node 1 and holds it.
	 */
	ASSERT_EQ(0, bp_param_set_long("max_user_mb", 1));
	self->kids[self->nr_kids] = fork();
	ASSERT_LE(0, self->kids[self->nr_kids]);
	if (!self->kids[self->nr_kids]) {
		fd[1] = early_domain_on(nth_cpu(&cpus[1], 0));
		for (i = 0; fd[1] >= 0 && i < cap / 2; i++)
			if (!bp_alloc(fd[1], page_size(), &a) && a.instance == 1)
				__atomic_add_fetch(&self->counts[0].ops, 1,
						   __ATOMIC_RELAXED);
		self->counts[0].errors = 1;	/* done */
		for (;;)
			pause();
	}
	self->nr_kids++;
	for (i = 0; i < 1000 && !self->counts[0].errors; i++)
		usleep(10000);
	ASSERT_EQ(cap / 2, self->counts[0].ops);
	fd[0] = early_domain_on(nth_cpu(&cpus[0], 0));
	ASSERT_LE(0, fd[0]);
	for (i = 0; i < cap / 2; i++) {
		ASSERT_EQ(0, bp_alloc(fd[0], page_size(), &a));
		ASSERT_EQ(0, a.instance);
	}
	EXPECT_EQ(-ENOMEM, bp_alloc(fd[0], page_size(), &a));
	close(fd[0]);
	stop_kids(self);
	ASSERT_TRUE(bp_counters_settle(2000));

	/* One domain, half its cap from each node. */
	ASSERT_EQ(0, bp_param_set_long("max_user_mb", 32));
	ASSERT_EQ(0, bp_param_set_long("max_remote_mb", 1));
	fd[0] = early_domain_on(nth_cpu(&cpus[0], 0));
	ASSERT_LE(0, fd[0]);
	for (node = 0; node < 2; node++) {
		ASSERT_EQ(0, bp_pin_cpu(nth_cpu(&cpus[node], 0)));
		for (i = 0; i < cap / 2; i++) {
			ASSERT_EQ(0, bp_alloc(fd[0], page_size(), &a));
			ASSERT_EQ(node, a.instance);
		}
	}
	EXPECT_EQ(-ENOMEM, bp_alloc(fd[0], page_size(), &a));
	ASSERT_EQ(0, bp_pin_cpu(nth_cpu(&cpus[0], 0)));
	EXPECT_EQ(-ENOMEM, bp_alloc(fd[0], page_size(), &a));
	close(fd[0]);
}

/* The memcg test's memory.max, half of the default max_remote_mb. */
#define MEMCG_MAX	(8 * MiB)
/* The CPUs the memcg child runs on: one of node 0, one of node 1. */
static int memcg_cpu[2];

/*
 * In the cgroup as the test user: 64 KiB blocks, asked for on node 0 and
 * node 1 in turn, until memory.max refuses on both. Both instances grant
 * some, and all together no more than memory.max: had one instance not
 * charged the cgroup, it would have granted up to max_remote_mb (16 MiB).
 */
static void memcg_child(const char *dir)
{
	const unsigned long block = 64 * 1024;
	unsigned long got[2] = { 0, 0 };
	bool refused[2] = { false, false };
	struct bootpool_alloc a;
	int fd, i, node, ret;

	if (bp_cg_enter(dir, BP_TEST_UID, memcg_cpu[0]))
		_exit(20);
	fd = bp_open_domain(BOOTPOOL_POLICY_EARLY);
	if (fd < 0)
		_exit(21);
	for (i = 0; i < 4096 && !(refused[0] && refused[1]); i++) {
		node = i & 1;
		if (refused[node])
			continue;
		if (bp_pin_cpu(memcg_cpu[node]))
			_exit(22);
		ret = bp_alloc(fd, block, &a);
		if (ret == -ENOMEM)
			refused[node] = true;
		else if (ret || a.instance != (unsigned int)node)
			_exit(23);
		else
			got[node]++;
	}
	if (!refused[0] || !refused[1])
		_exit(24);
	if (!got[0] || !got[1])
		_exit(25);
	if ((got[0] + got[1]) * block > MEMCG_MAX)
		_exit(26);
	_exit(0);
}

/*
 * A domain's memory cgroup is charged for the blocks of every instance:
 * together they stay under memory.max.
 */
TEST_F(numa, memcg_max_holds_across_instances)
{
	char dir[128];
	cpu_set_t cpus[2];
	int ret;

	if (!two_nodes())
		SKIP(return, "needs two NUMA nodes with CPUs");
	ASSERT_EQ(0, reload(self, "dionysos_cpus=node"));
	ret = bp_cg_create(dir, sizeof(dir), MEMCG_MAX);
	if (ret)
		SKIP(return, "no cgroup v2 memory controller (%s)",
		     strerror(-ret));
	ASSERT_EQ(0, chmod(BOOTPOOL_DEV, 0666));
	node_cpus(0, &cpus[0]);
	node_cpus(1, &cpus[1]);
	memcg_cpu[0] = nth_cpu(&cpus[0], 0);
	memcg_cpu[1] = nth_cpu(&cpus[1], 0);
	EXPECT_EQ(0, bp_cg_run(memcg_child, dir));
	EXPECT_LT(0, bp_cg_key(dir, "memory.events", "max"));
	rmdir(dir);
}

/*
 * A program built before @instance and the steal counters passes the
 * older sizes: it is served, and nothing past its structure is written.
 */
TEST_F(numa, older_struct_sizes_keep_working)
{
	unsigned char buf[sizeof(struct bootpool_stats) + 16];
	struct bootpool_alloc *a = (struct bootpool_alloc *)buf;
	struct bootpool_stats *st = (struct bootpool_stats *)buf;
	unsigned long cmd;
	int fd;

	ASSERT_EQ(0, reload(self, "dionysos_cpus=0,1"));
	fd = early_domain_on(1);
	ASSERT_LE(0, fd);

	memset(buf, 0xa5, sizeof(buf));
	memset(a, 0, BOOTPOOL_ALLOC_SIZE_VER1);
	a->size = page_size();
	cmd = _IOC(_IOC_READ | _IOC_WRITE, BOOTPOOL_IOC_MAGIC, 0,
		   BOOTPOOL_ALLOC_SIZE_VER1);
	ASSERT_EQ(0, ioctl(fd, cmd, a));
	EXPECT_EQ(BOOTPOOL_SOURCE_DIONYSOS, a->source);
	EXPECT_NE(0, a->handle);
	EXPECT_EQ(1, a->cpu);
	EXPECT_EQ(0, a->served_cpu);
	EXPECT_EQ(1, a->ipis);
	EXPECT_EQ(0xa5, buf[BOOTPOOL_ALLOC_SIZE_VER1]);
	EXPECT_EQ(0xa5, buf[sizeof(struct bootpool_alloc) - 1]);

	memset(buf, 0xa5, sizeof(buf));
	cmd = _IOC(_IOC_READ, BOOTPOOL_IOC_MAGIC, 3, BOOTPOOL_STATS_SIZE_VER1);
	ASSERT_EQ(0, ioctl(fd, cmd, st));
	EXPECT_EQ(1, st->remote_allocs);
	EXPECT_EQ(1, st->ipis);
	EXPECT_EQ(0xa5, buf[BOOTPOOL_STATS_SIZE_VER1]);
	EXPECT_EQ(0xa5, buf[sizeof(struct bootpool_stats) - 1]);

	/* The sizes of this header: the new fields; @instance is ignored in. */
	memset(buf, 0xa5, sizeof(buf));
	memset(a, 0, sizeof(*a));
	a->size = page_size();
	a->instance = 7;
	ASSERT_EQ(0, ioctl(fd, BOOTPOOL_IOC_ALLOC, a));
	EXPECT_EQ(0, a->instance);
	EXPECT_EQ(0, a->pad);
	ASSERT_EQ(0, bp_stats(fd, st));
	EXPECT_EQ(0, st->steals);
	EXPECT_EQ(0, st->stolen_pages);
	EXPECT_EQ(0, st->cross_node);
	close(fd);
}

TEST_HARNESS_MAIN
