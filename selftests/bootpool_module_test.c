// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading bootpool.ko: unload is refused while a descriptor
 * is open, and a load/unload cycle leaves nothing behind.
 *
 * The module is reloaded from $BOOTPOOL_MODULE_DIR/bootpool.ko (default
 * /bootpool) with its default parameters.
 */
#include "bootpool_fault_util.h"

#include <sys/mman.h>

#include "kselftest_harness.h"

FIXTURE(module) {
	char path[256];
};

FIXTURE_SETUP(module)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (!bp_exists("/sys/module/bootpool"))
		SKIP(return, "bootpool module not loaded");
	bp_module_path(self->path, sizeof(self->path));
	if (!bp_exists(self->path))
		SKIP(return, "%s not found", self->path);
}

FIXTURE_TEARDOWN(module)
{
	/* Leave the module loaded for whatever runs next. */
	if (!bp_exists("/sys/module/bootpool"))
		bp_load_defaults(self->path);
}

TEST_F(module, unload_is_refused_while_a_descriptor_is_open)
{
	int fd = open(BOOTPOOL_DEV, O_RDWR);

	ASSERT_LE(0, fd);
	/* delete_module() says EWOULDBLOCK (EAGAIN) for a module in use. */
	EXPECT_EQ(-EWOULDBLOCK, bp_unload());
	EXPECT_TRUE(bp_exists(BOOTPOOL_DEV));
	close(fd);
	EXPECT_EQ(0, bp_unload());
	EXPECT_FALSE(bp_exists(BOOTPOOL_DEV));
	EXPECT_EQ(0, bp_load_defaults(self->path));
}

TEST_F(module, unload_is_refused_while_a_block_is_mapped)
{
	struct bootpool_alloc a;
	void *p;
	int fd = open(BOOTPOOL_DEV, O_RDWR);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bp_alloc(fd, 4096, &a));
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, a.mmap_offset);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	EXPECT_EQ(-EWOULDBLOCK, bp_unload());
	munmap(p, 4096);
	EXPECT_EQ(0, bp_unload());
	EXPECT_EQ(0, bp_load_defaults(self->path));
}

TEST_F(module, load_unload_cycles_leave_nothing_behind)
{
	int i;

	for (i = 0; i < 5; i++) {
		struct bootpool_alloc a;
		int fd;

		ASSERT_EQ(0, bp_unload());
		EXPECT_FALSE(bp_exists(BOOTPOOL_DEV));
		EXPECT_FALSE(bp_exists("/sys/module/bootpool"));
		EXPECT_FALSE(bp_exists(BOOTPOOL_DEBUGFS));
		ASSERT_EQ(0, bp_load_defaults(self->path));
		fd = open(BOOTPOOL_DEV, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, bp_alloc(fd, 5000, &a));
		close(fd);
		EXPECT_EQ(0, bp_counter("domains"));
		EXPECT_EQ(0, bp_counter("remote_pages_held"));
	}
}

TEST_HARNESS_MAIN
