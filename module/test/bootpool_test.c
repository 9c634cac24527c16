// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: bootpool_test, test-only helpers
 *
 * Never loaded outside tests. /sys/kernel/debug/bootpool_test/ holds:
 *
 * - ``warn``: writing 1 triggers a WARN, so that the test VM's detection
 *   of kernel warnings can itself be tested.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>

static struct dentry *bootpool_test_dir;

static int bootpool_test_warn_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	WARN(1, "bootpool_test: warning requested through debugfs\n");
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(bootpool_test_warn_fops, NULL,
			 bootpool_test_warn_set, "%llu\n");

static int __init bootpool_test_init(void)
{
	bootpool_test_dir = debugfs_create_dir("bootpool_test", NULL);
	debugfs_create_file_unsafe("warn", 0200, bootpool_test_dir, NULL,
				   &bootpool_test_warn_fops);
	return 0;
}

static void __exit bootpool_test_exit(void)
{
	debugfs_remove_recursive(bootpool_test_dir);
}

module_init(bootpool_test_init);
module_exit(bootpool_test_exit);

MODULE_DESCRIPTION("Test-only helpers for bootpool");
MODULE_LICENSE("GPL");
