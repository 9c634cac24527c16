// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of bootpool's pure logic: the policy decision
 * (bootpool_policy_route()), the size rounding of Dionysos
 * (bootpool_size_order()) and the handle encoding of handle.h.
 *
 * Built only against a kernel with CONFIG_KUNIT; the tests run when
 * bootpool_kunit.ko is loaded and report KTAP on the console and in
 * /sys/kernel/debug/kunit/. What they test is inline in the headers.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "bootpool.h"
#include "handle.h"

/*
 * Orders the page allocator serves: MAX_ORDER, exclusive, up to 6.3;
 * NR_PAGE_ORDERS from 6.8 (6.4 to 6.7, with an inclusive MAX_ORDER and
 * no NR_PAGE_ORDERS, are not series Debian ships).
 */
#ifdef NR_PAGE_ORDERS
#define BOOTPOOL_NR_PAGE_ORDERS	NR_PAGE_ORDERS
#else
#define BOOTPOOL_NR_PAGE_ORDERS	MAX_ORDER
#endif

struct route_case {
	const char *name;
	u32 policy;
	bool switched;
	unsigned int pool_free;
	u64 size;
	enum bootpool_route route;
	u32 reason;
};

static const struct route_case route_cases[] = {
	{ "late: a page from a pool with room", BOOTPOOL_POLICY_LATE,
	  false, 10, PAGE_SIZE, BOOTPOOL_ROUTE_POOL, BOOTPOOL_SWITCH_NONE },
	{ "late: one byte takes a pool page", BOOTPOOL_POLICY_LATE,
	  false, 1, 1, BOOTPOOL_ROUTE_POOL, BOOTPOOL_SWITCH_NONE },
	{ "late: oversize switches", BOOTPOOL_POLICY_LATE,
	  false, 10, PAGE_SIZE + 1, BOOTPOOL_ROUTE_DIONYSOS,
	  BOOTPOOL_SWITCH_OVERSIZE },
	{ "late: oversize wins over exhausted", BOOTPOOL_POLICY_LATE,
	  false, 0, 2 * PAGE_SIZE, BOOTPOOL_ROUTE_DIONYSOS,
	  BOOTPOOL_SWITCH_OVERSIZE },
	{ "late: exhausted switches", BOOTPOOL_POLICY_LATE,
	  false, 0, PAGE_SIZE, BOOTPOOL_ROUTE_DIONYSOS,
	  BOOTPOOL_SWITCH_EXHAUSTED },
	{ "late: switched stays on Dionysos", BOOTPOOL_POLICY_LATE,
	  true, 10, 1, BOOTPOOL_ROUTE_DIONYSOS, BOOTPOOL_SWITCH_NONE },
	{ "early: always Dionysos", BOOTPOOL_POLICY_EARLY,
	  false, 10, 1, BOOTPOOL_ROUTE_DIONYSOS, BOOTPOOL_SWITCH_NONE },
	{ "early: switched, Dionysos", BOOTPOOL_POLICY_EARLY,
	  true, 0, BOOTPOOL_MAX_ALLOC_SIZE, BOOTPOOL_ROUTE_DIONYSOS,
	  BOOTPOOL_SWITCH_NONE },
	{ "hybrid: a page from the pool", BOOTPOOL_POLICY_HYBRID,
	  false, 1, PAGE_SIZE, BOOTPOOL_ROUTE_POOL, BOOTPOOL_SWITCH_NONE },
	{ "hybrid: oversize to Dionysos, no switch", BOOTPOOL_POLICY_HYBRID,
	  false, 10, PAGE_SIZE + 1, BOOTPOOL_ROUTE_DIONYSOS,
	  BOOTPOOL_SWITCH_NONE },
	{ "hybrid: exhausted to Dionysos, no switch", BOOTPOOL_POLICY_HYBRID,
	  false, 0, 1, BOOTPOOL_ROUTE_DIONYSOS, BOOTPOOL_SWITCH_NONE },
	{ "unknown policy behaves as late", BOOTPOOL_POLICY_COUNT,
	  false, 0, 1, BOOTPOOL_ROUTE_DIONYSOS, BOOTPOOL_SWITCH_EXHAUSTED },
	{ "unknown policy, room: pool", 0xffffffff,
	  false, 5, 100, BOOTPOOL_ROUTE_POOL, BOOTPOOL_SWITCH_NONE },
};

static void route_case_desc(const struct route_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(route, route_cases, route_case_desc);

static void bootpool_policy_route_test(struct kunit *test)
{
	const struct route_case *c = test->param_value;
	u32 reason = 0xdead;

	KUNIT_EXPECT_EQ(test, bootpool_policy_route(c->policy, c->switched,
						    c->pool_free, c->size,
						    &reason), c->route);
	KUNIT_EXPECT_EQ(test, reason, c->reason);
}

/* The late policy as a state machine: pool until the first miss, then never back. */
static void bootpool_policy_late_sequence_test(struct kunit *test)
{
	unsigned int pool_free = 3;
	bool switched = false;
	u32 reason;
	int i;

	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, bootpool_policy_route(BOOTPOOL_POLICY_LATE,
							    switched, pool_free,
							    PAGE_SIZE, &reason),
				BOOTPOOL_ROUTE_POOL);
		pool_free--;
	}
	KUNIT_EXPECT_EQ(test, bootpool_policy_route(BOOTPOOL_POLICY_LATE,
						    switched, pool_free,
						    PAGE_SIZE, &reason),
			BOOTPOOL_ROUTE_DIONYSOS);
	KUNIT_EXPECT_EQ(test, reason, (u32)BOOTPOOL_SWITCH_EXHAUSTED);
	switched = true;
	/* Freed pool pages do not bring a switched domain back. */
	pool_free = 3;
	KUNIT_EXPECT_EQ(test, bootpool_policy_route(BOOTPOOL_POLICY_LATE,
						    switched, pool_free, 1,
						    &reason),
			BOOTPOOL_ROUTE_DIONYSOS);
	KUNIT_EXPECT_EQ(test, reason, (u32)BOOTPOOL_SWITCH_NONE);
}

static void bootpool_size_order_test(struct kunit *test)
{
	unsigned int order;

	KUNIT_EXPECT_EQ(test, bootpool_size_order(1), 0U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(PAGE_SIZE - 1), 0U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(PAGE_SIZE), 0U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(PAGE_SIZE + 1), 1U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(2 * PAGE_SIZE), 1U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(2 * PAGE_SIZE + 1), 2U);
	KUNIT_EXPECT_EQ(test, bootpool_size_order(BOOTPOOL_MAX_ALLOC_SIZE),
			(unsigned int)BOOTPOOL_MAX_ORDER);
	KUNIT_EXPECT_LT(test, BOOTPOOL_MAX_ORDER, BOOTPOOL_NR_PAGE_ORDERS);

	/* Every size gets the smallest power-of-two block that holds it. */
	for (order = 0; order <= BOOTPOOL_MAX_ORDER; order++) {
		u64 block = PAGE_SIZE << order;

		KUNIT_EXPECT_EQ(test, bootpool_size_order(block), order);
		if (order)
			KUNIT_EXPECT_EQ(test,
					bootpool_size_order((block >> 1) + 1),
					order);
		KUNIT_EXPECT_GE(test, block, (u64)PAGE_SIZE);
	}
}

static void bootpool_pool_handle_test(struct kunit *test)
{
	static const unsigned int slots[] = { 0, 1, 255,
		BOOTPOOL_MAX_POOL_PAGES - 1 };
	static const u64 gens[] = { 1, 3, 0xffff, 0x10001,
		BOOTPOOL_POOL_GEN_MAX };
	unsigned int i, j;

	/* The largest pool fits in the slot field. */
	KUNIT_EXPECT_LE(test, BOOTPOOL_MAX_POOL_PAGES,
			1 << BOOTPOOL_HANDLE_SLOT_BITS);
	/* At least 2^50 ALLOC+FREE cycles of one slot. */
	KUNIT_EXPECT_GE(test, BOOTPOOL_POOL_GEN_MAX, BIT_ULL(51) - 1);

	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		for (j = 0; j < ARRAY_SIZE(gens); j++) {
			u64 h = bootpool_pool_handle(slots[i], gens[j]);

			KUNIT_EXPECT_EQ(test, bootpool_handle_slot(h), slots[i]);
			KUNIT_EXPECT_EQ(test, bootpool_handle_gen(h), gens[j]);
			KUNIT_EXPECT_FALSE(test, bootpool_handle_is_remote(h));
			/* In-use generations are odd: a handle is never 0. */
			KUNIT_EXPECT_NE(test, h, 0ULL);
			/* The mmap offset fits a 32-bit off_t, and is not 0. */
			KUNIT_EXPECT_LT(test, (u64)bootpool_handle_pgoff(h),
					1ULL << (31 - PAGE_SHIFT));
			KUNIT_EXPECT_NE(test, bootpool_handle_pgoff(h), 0UL);
		}
	}
	/* A new generation of the same slot is a different handle. */
	KUNIT_EXPECT_NE(test, bootpool_pool_handle(7, 1),
			bootpool_pool_handle(7, 3));
	KUNIT_EXPECT_NE(test, bootpool_pool_handle(7, 1),
			bootpool_pool_handle(7, 1 + BIT_ULL(16)));
}

static void bootpool_remote_handle_test(struct kunit *test)
{
	u64 first = bootpool_remote_handle(0, 1);
	u64 last = bootpool_remote_handle(BOOTPOOL_HANDLE_REMOTE_LIMIT,
					  BOOTPOOL_REMOTE_GEN_MAX);
	u64 pool_max = bootpool_pool_handle(BOOTPOOL_MAX_POOL_PAGES - 1,
					    BOOTPOOL_POOL_GEN_MAX);

	/* At least 2^43 blocks in one table entry. */
	KUNIT_EXPECT_GE(test, BOOTPOOL_REMOTE_GEN_MAX, BIT_ULL(43) - 1);
	KUNIT_EXPECT_TRUE(test, bootpool_handle_is_remote(first));
	KUNIT_EXPECT_TRUE(test, bootpool_handle_is_remote(last));
	KUNIT_EXPECT_EQ(test, bootpool_handle_remote_idx(last),
			BOOTPOOL_HANDLE_REMOTE_LIMIT);
	KUNIT_EXPECT_EQ(test, bootpool_handle_remote_gen(last),
			BOOTPOOL_REMOTE_GEN_MAX);
	KUNIT_EXPECT_EQ(test, bootpool_handle_remote_gen(first), 1ULL);
	/* Remote and pool handles never collide, nor do their offsets. */
	KUNIT_EXPECT_FALSE(test, bootpool_handle_is_remote(pool_max));
	KUNIT_EXPECT_LT(test, bootpool_handle_pgoff(pool_max),
			bootpool_handle_pgoff(first));
	/* Every offset fits the 32-bit page offset of a 32-bit mmap2(). */
	KUNIT_EXPECT_LT(test, (u64)bootpool_handle_pgoff(last), 1ULL << 32);
	KUNIT_EXPECT_NE(test, bootpool_remote_handle(3, 1),
			bootpool_remote_handle(3, 1 + BIT_ULL(12)));
}

static struct kunit_case bootpool_kunit_cases[] = {
	KUNIT_CASE_PARAM(bootpool_policy_route_test, route_gen_params),
	KUNIT_CASE(bootpool_policy_late_sequence_test),
	KUNIT_CASE(bootpool_size_order_test),
	KUNIT_CASE(bootpool_pool_handle_test),
	KUNIT_CASE(bootpool_remote_handle_test),
	{}
};

static struct kunit_suite bootpool_kunit_suite = {
	.name = "bootpool",
	.test_cases = bootpool_kunit_cases,
};

kunit_test_suite(bootpool_kunit_suite);

MODULE_DESCRIPTION("KUnit tests of bootpool's pure logic");
MODULE_LICENSE("GPL");
