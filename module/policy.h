/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DOC: switching policies
 *
 * A domain starts on its fixed pool, as a spawned Barrelfish domain starts
 * on its fixed RAM allocator, and may switch to Dionysos, the remote memory
 * service. The policy decides when:
 *
 * - late: a request of at most one page comes from the pool (a sub-page
 *   one gets a whole page); the first request the pool cannot serve, an
 *   oversize one or one that finds the pool exhausted, switches the domain
 *   for good.
 * - early: the domain switches at attach, every request goes to Dionysos.
 * - hybrid: the domain never switches; the pool serves what it can.
 *
 * This header holds only the decision, a pure function that the ALLOC
 * fast path inlines and the KUnit tests call on its own. The policies'
 * names and the ``default_policy`` parameter are in domain.c.
 */
#ifndef _BOOTPOOL_POLICY_H
#define _BOOTPOOL_POLICY_H

#include <linux/mm.h>
#include <linux/types.h>
#include <uapi/linux/bootpool.h>

/**
 * enum bootpool_route - where a request goes
 * @BOOTPOOL_ROUTE_POOL: serve from the domain's pool.
 * @BOOTPOOL_ROUTE_DIONYSOS: serve from Dionysos.
 */
enum bootpool_route {
	BOOTPOOL_ROUTE_POOL,
	BOOTPOOL_ROUTE_DIONYSOS,
};

/**
 * bootpool_policy_route() - decide where a request is served
 * @policy: the domain's &enum bootpool_policy_id.
 * @switched: whether the domain has already switched.
 * @pool_free: free pages in the domain's pool.
 * @size: bytes requested, already validated to be non-zero.
 * @switch_reason: set to the reason when this request makes the domain
 *	switch, else to %BOOTPOOL_SWITCH_NONE.
 *
 * Context: any.
 * Return: %BOOTPOOL_ROUTE_POOL or %BOOTPOOL_ROUTE_DIONYSOS.
 */
static inline enum bootpool_route
bootpool_policy_route(u32 policy, bool switched, unsigned int pool_free,
		      u64 size, u32 *switch_reason)
{
	bool fits = size <= PAGE_SIZE;

	*switch_reason = BOOTPOOL_SWITCH_NONE;

	switch (policy) {
	case BOOTPOOL_POLICY_EARLY:
		return BOOTPOOL_ROUTE_DIONYSOS;
	case BOOTPOOL_POLICY_HYBRID:
		return fits && pool_free ? BOOTPOOL_ROUTE_POOL :
					   BOOTPOOL_ROUTE_DIONYSOS;
	case BOOTPOOL_POLICY_LATE:
	default:
		if (switched)
			return BOOTPOOL_ROUTE_DIONYSOS;
		if (!fits)
			*switch_reason = BOOTPOOL_SWITCH_OVERSIZE;
		else if (!pool_free)
			*switch_reason = BOOTPOOL_SWITCH_EXHAUSTED;
		else
			return BOOTPOOL_ROUTE_POOL;
		return BOOTPOOL_ROUTE_DIONYSOS;
	}
}

/**
 * bootpool_size_order() - order of the block Dionysos grants for @size
 * @size: bytes requested, 1 to %BOOTPOOL_MAX_ALLOC_SIZE.
 *
 * Dionysos is a buddy allocator: it rounds a request up to a power-of-two
 * number of pages.
 *
 * Context: any.
 * Return: log2 of the number of pages granted.
 */
static inline unsigned int bootpool_size_order(u64 size)
{
	return get_order(size);
}

#endif /* _BOOTPOOL_POLICY_H */
