// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: global counters and debugfs
 *
 * Global counters are per-CPU so that the allocation fast path of one
 * process never writes a cache line another process writes; readers sum
 * them over all possible CPUs. Gauges (live domains, pages reserved or
 * held) are kept the same way: their increments and decrements may land
 * on different CPUs, only the sum is meaningful.
 *
 * /sys/kernel/debug/bootpool/ holds:
 *
 * - ``counters``: one ``name value`` line per counter;
 * - ``domains``: one block of ``key: value`` lines per live domain;
 * - ``dionysos``: Dionysos's budget, grants, reserve and queue, what
 *   each user holds from it (user.c), and last one
 *   ``instance=I cpu=C node=N ...`` line per instance;
 * - ``max_queue_depth``: the deepest Dionysos queue seen; write 0 to reset;
 * - ``fail_dionysos``: a fault point (dionysos.c);
 * - ``gen_base``: where new domains' handle generations start (domain.c).
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "bootpool.h"

DEFINE_PER_CPU(struct bootpool_counters, bootpool_counters);

static const char * const bootpool_counter_names[BOOTPOOL_NR_COUNTERS] = {
	[BOOTPOOL_CNT_DOMAINS]		= "domains",
	[BOOTPOOL_CNT_ATTACHES]		= "attaches",
	[BOOTPOOL_CNT_DETACHES]		= "detaches",
	[BOOTPOOL_CNT_POOL_PAGES]	= "pool_pages_reserved",
	[BOOTPOOL_CNT_POOL_USED]	= "pool_pages_used",
	[BOOTPOOL_CNT_POOL_ALLOCS]	= "pool_allocs",
	[BOOTPOOL_CNT_POOL_FREES]	= "pool_frees",
	[BOOTPOOL_CNT_REMOTE_ALLOCS]	= "remote_allocs",
	[BOOTPOOL_CNT_REMOTE_FREES]	= "remote_frees",
	[BOOTPOOL_CNT_REMOTE_PAGES]	= "remote_pages_held",
	[BOOTPOOL_CNT_FAILED_ALLOCS]	= "failed_allocs",
	[BOOTPOOL_CNT_SWITCH_EXHAUSTED]	= "switches_exhausted",
	[BOOTPOOL_CNT_SWITCH_OVERSIZE]	= "switches_oversize",
	[BOOTPOOL_CNT_SWITCH_EARLY]	= "switches_early",
	[BOOTPOOL_CNT_SWITCH_REQUESTED]	= "switches_requested",
	[BOOTPOOL_CNT_IPIS]		= "ipis",
	[BOOTPOOL_CNT_HOPS]		= "hops",
	[BOOTPOOL_CNT_ABANDONED]	= "abandoned_replies",
	[BOOTPOOL_CNT_KEPT_PAGES]	= "kept_pages",
};

static struct dentry *bootpool_debugfs_dir;

/**
 * bootpool_counter_sum() - current value of a global counter
 * @c: the counter.
 *
 * Context: any; the sum is not a snapshot of all CPUs at one instant.
 * Return: the sum over all possible CPUs.
 */
long bootpool_counter_sum(enum bootpool_counter c)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(bootpool_counters, cpu).v[c];
	return sum;
}

static int bootpool_counters_show(struct seq_file *m, void *unused)
{
	int i;

	for (i = 0; i < BOOTPOOL_NR_COUNTERS; i++)
		seq_printf(m, "%s %ld\n", bootpool_counter_names[i],
			   bootpool_counter_sum(i));
	seq_printf(m, "dionysos_max_queue_depth %lu\n",
		   bootpool_forward_max_depth());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bootpool_counters);

DEFINE_SHOW_ATTRIBUTE(bootpool_domains);

static int bootpool_dionysos_info_show(struct seq_file *m, void *unused)
{
	struct bootpool_route_stats rs;
	unsigned int i;

	bootpool_dionysos_show(m, bootpool_forward_depth(),
			       bootpool_forward_max_depth());
	bootpool_users_show(m);
	/* Last: a "key value" reader stops at the first line of another form. */
	for (i = 0; i < bootpool_dionysos_count(); i++) {
		bootpool_forward_route_stats(i, &rs);
		bootpool_dionysos_show_instance(m, i, &rs);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(bootpool_dionysos_info);

static int bootpool_max_depth_get(void *data, u64 *val)
{
	*val = bootpool_forward_max_depth();
	return 0;
}

static int bootpool_max_depth_set(void *data, u64 val)
{
	if (val)
		return -EINVAL;
	bootpool_forward_reset_max_depth();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bootpool_max_depth_fops, bootpool_max_depth_get,
			 bootpool_max_depth_set, "%llu\n");

/**
 * bootpool_debugfs_init() - create /sys/kernel/debug/bootpool/
 *
 * debugfs failures are not fatal (debugfs may be absent); the module works
 * without its files.
 *
 * Context: process context, module init.
 * Return: 0.
 */
int bootpool_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("bootpool", NULL);

	debugfs_create_file("counters", 0444, dir, NULL,
			    &bootpool_counters_fops);
	debugfs_create_file("domains", 0444, dir, NULL,
			    &bootpool_domains_fops);
	debugfs_create_file("dionysos", 0444, dir, NULL,
			    &bootpool_dionysos_info_fops);
	debugfs_create_file_unsafe("max_queue_depth", 0644, dir, NULL,
				   &bootpool_max_depth_fops);
	bootpool_dionysos_debugfs_init(dir);
	bootpool_domain_debugfs_init(dir);
	bootpool_debugfs_dir = dir;
	return 0;
}

/**
 * bootpool_debugfs_exit() - remove /sys/kernel/debug/bootpool/
 *
 * Context: process context, module exit.
 */
void bootpool_debugfs_exit(void)
{
	debugfs_remove_recursive(bootpool_debugfs_dir);
}
