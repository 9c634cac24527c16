// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: ALLOC, FREE and STATS
 *
 * An ALLOC is routed by the domain's policy (policy.h) to its pool or to
 * Dionysos. A pool ALLOC or FREE takes the domain's lock once. A remote
 * ALLOC takes it to route and charge the request, drops it in
 * bootpool_domain_alloc() while the request travels (forward.c), and
 * takes it again to record the block in the domain's table (rbtable.c),
 * grown beforehand, without the lock, when it is full. A FREE of a block
 * still mapped keeps the block until its last mapping goes (mmap.c).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/smp.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "domain.h"

/* What one domain may hold from Dionysos. */
static unsigned int bootpool_max_remote_mb = 16;

BOOTPOOL_PARAM_UINT(max_remote_mb, 0, BOOTPOOL_MAX_REMOTE_MB,
		    "MiB one domain may hold from Dionysos, 0-4096 (default 16)");

/*
 * The domain switches to Dionysos, for @reason (an &enum
 * bootpool_switch_reason): an ALLOC's route, the early policy, or SWITCH.
 * Context: the domain's lock held.
 */
void bootpool_domain_set_switch(struct bootpool_domain *dom, u32 reason)
	__must_hold(&dom->lock)
{
	static const enum bootpool_counter counter[] = {
		[BOOTPOOL_SWITCH_EXHAUSTED] = BOOTPOOL_CNT_SWITCH_EXHAUSTED,
		[BOOTPOOL_SWITCH_OVERSIZE] = BOOTPOOL_CNT_SWITCH_OVERSIZE,
		[BOOTPOOL_SWITCH_EARLY] = BOOTPOOL_CNT_SWITCH_EARLY,
		[BOOTPOOL_SWITCH_REQUESTED] = BOOTPOOL_CNT_SWITCH_REQUESTED,
	};

	lockdep_assert_held(&dom->lock);
	dom->switched = true;
	dom->switch_reason = reason;
	dom->switch_pages_left = dom->nr_free;
	bootpool_count(counter[reason], 1);
	trace_bootpool_switch(dom->tgid, reason, dom->nr_free);
}

/*
 * The helpers of the pool's ALLOC and FREE are forced inline: a pool
 * ALLOC or FREE is a handful of loads and stores, and a call and return
 * around them adds measurably to it, the more so under emulation, where
 * every return is a lookup of the next translated block.
 */
static __always_inline void
bootpool_alloc_traced(struct bootpool_domain *dom, struct bootpool_alloc *arg)
{
	arg->mmap_offset = (u64)bootpool_handle_pgoff(arg->handle) << PAGE_SHIFT;
	trace_bootpool_alloc(dom->tgid, arg->size, arg->granted, arg->source,
			     arg->cpu);
}

/* Hand out the pool page on top of the free stack for @arg. */
static __always_inline void
bootpool_pool_take(struct bootpool_domain *dom, struct bootpool_alloc *arg,
		   int cpu)
	__must_hold(&dom->lock)
{
	unsigned int slot = dom->free_stack[--dom->nr_free];

	dom->gen[slot]++;	/* odd: in use */
	arg->handle = bootpool_pool_handle(slot, dom->gen[slot]);
	arg->source = BOOTPOOL_SOURCE_POOL;
	arg->granted = PAGE_SIZE;
	arg->cpu = cpu;
	arg->served_cpu = cpu;
	arg->hops = 0;
	arg->ipis = 0;
	arg->instance = 0;
	arg->pad = 0;
	dom->stats.pool_allocs++;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += PAGE_SIZE;
}

/*
 * Count a failed ALLOC.
 * Context: the domain's lock held.
 */
static void bootpool_alloc_failed(struct bootpool_domain *dom)
	__must_hold(&dom->lock)
{
	dom->stats.failed_allocs++;
	bootpool_count(BOOTPOOL_CNT_FAILED_ALLOCS, 1);
}

/*
 * Take the pages of a block of @order against what a domain may hold
 * from Dionysos (max_remote_mb) and what its user's domains may hold
 * (max_user_mb). Return: 0, or -ENOMEM past either.
 * Context: the domain's lock held.
 */
static int bootpool_remote_charge(struct bootpool_domain *dom,
				  unsigned int order)
	__must_hold(&dom->lock)
{
	unsigned long cap = (unsigned long)READ_ONCE(bootpool_max_remote_mb)
			    << (20 - PAGE_SHIFT);
	unsigned long pages = 1UL << order;

	if (dom->remote_pages + pages > cap ||
	    !bootpool_user_charge(dom->user, pages))
		return -ENOMEM;
	dom->remote_pages += pages;
	return 0;
}

/* Context: the domain's lock held. */
static void bootpool_remote_uncharge(struct bootpool_domain *dom,
				     unsigned int order)
	__must_hold(&dom->lock)
{
	dom->remote_pages -= 1UL << order;
	bootpool_user_uncharge(dom->user, 1UL << order);
}

/*
 * Record the block Dionysos granted for @arg in the table, and count the
 * ALLOC. A full table is grown first, before the lock is taken: growing
 * it may sleep. The block goes back to Dionysos when the table cannot
 * grow.
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, or -ENOMEM.
 */
static int bootpool_remote_record(struct bootpool_domain *dom,
				  struct bootpool_alloc *arg, unsigned int order,
				  const struct bootpool_forward_reply *reply)
{
	struct bootpool_remote_block blk = {
		.page = reply->page,
		.order = order,
		.instance = reply->instance,
	};
	int ret = 0;
	u32 idx;

	for (;;) {
		while (!ret && !bootpool_rbtable_has_free(&dom->rb))
			ret = bootpool_rbtable_grow(&dom->rb, &dom->lock,
						    dom->gen_base);
		if (ret) {
			bootpool_dionysos_release(blk.instance, blk.page, order,
						  dom->memcg, false);
			return ret;
		}
		spin_lock(&dom->lock);
		if (!bootpool_rbtable_insert(&dom->rb, &blk, &idx))
			break;
		/* Another thread of the domain took the last free entry. */
		spin_unlock(&dom->lock);
	}

	arg->source = BOOTPOOL_SOURCE_DIONYSOS;
	arg->handle = bootpool_remote_handle(idx, blk.gen);
	arg->granted = (u64)PAGE_SIZE << order;
	arg->cpu = reply->cpu;
	arg->served_cpu = reply->served_cpu;
	arg->hops = reply->hops;
	arg->ipis = reply->ipis;
	arg->instance = reply->instance;
	arg->pad = 0;
	dom->stats.remote_allocs++;
	dom->stats.steals += reply->steal.steals;
	dom->stats.stolen_pages += reply->steal.pages;
	dom->stats.cross_node += reply->cross_node;
	dom->stats.ipis += arg->ipis;
	dom->stats.hops += arg->hops;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += arg->granted;

	bootpool_count(BOOTPOOL_CNT_REMOTE_ALLOCS, 1);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, 1L << order);
	bootpool_count(BOOTPOOL_CNT_IPIS, arg->ipis);
	bootpool_count(BOOTPOOL_CNT_HOPS, arg->hops);
	spin_unlock(&dom->lock);
	return 0;
}

/**
 * bootpool_domain_alloc() - serve an ALLOC request
 * @dom: the caller's domain.
 * @arg: the request; the output fields are filled on success.
 *
 * A pool ALLOC takes the domain's lock once. A remote one takes it to
 * route and charge the request, drops it here while the request travels
 * to Dionysos, and takes it again to record the block
 * (bootpool_remote_record()), or to take the charge back.
 *
 * Context: process context, may sleep; takes the domain's lock. The caller
 * is the domain's process (bootpool_domain_is_current()): it holds the
 * descriptor and uses the address space, so neither the last close nor the
 * process's exit can have torn the domain down.
 * Return: 0, or -EINVAL (bad size, flags or pad), or -ENOMEM, -EINTR or
 * -ESHUTDOWN (see bootpool_forward_request()); -ENODEV, with a warning, if
 * the domain was torn down all the same.
 */
int bootpool_domain_alloc(struct bootpool_domain *dom,
			  struct bootpool_alloc *arg)
{
	struct bootpool_forward_reply reply;
	enum bootpool_route route;
	unsigned int order;
	u32 reason;
	int ret;

	if (!arg->size || arg->size > BOOTPOOL_MAX_ALLOC_SIZE || arg->flags ||
	    arg->pad)
		return -EINVAL;

	spin_lock(&dom->lock);
	if (WARN_ON_ONCE(dom->dead)) {
		spin_unlock(&dom->lock);
		return -ENODEV;
	}
	dom->sealed = true;
	route = bootpool_policy_route(dom->policy, dom->switched, dom->nr_free,
				      arg->size, &reason);
	if (reason != BOOTPOOL_SWITCH_NONE)
		bootpool_domain_set_switch(dom, reason);

	if (route == BOOTPOOL_ROUTE_POOL) {
		bootpool_pool_take(dom, arg, raw_smp_processor_id());
		spin_unlock(&dom->lock);

		bootpool_count(BOOTPOOL_CNT_POOL_ALLOCS, 1);
		bootpool_count(BOOTPOOL_CNT_POOL_USED, 1);
		bootpool_alloc_traced(dom, arg);
		return 0;
	}

	order = bootpool_size_order(arg->size);
	ret = bootpool_remote_charge(dom, order);
	if (!ret) {
		/* The request travels to Dionysos without the lock. */
		spin_unlock(&dom->lock);
		ret = bootpool_forward_request(dom->memcg, order,
					       &dom->spare_req, &reply);
		if (!ret)
			ret = bootpool_remote_record(dom, arg, order, &reply);
		if (!ret) {
			bootpool_alloc_traced(dom, arg);
			return 0;
		}
		spin_lock(&dom->lock);
		bootpool_remote_uncharge(dom, order);
	}
	bootpool_alloc_failed(dom);
	spin_unlock(&dom->lock);
	return ret;
}

/*
 * Take the Dionysos block at @idx, freed and with no mapping left, out of
 * the table; bootpool_remote_give_back() gives it back once the lock is
 * dropped.
 * Context: the domain's lock held.
 */
void bootpool_remote_erase(struct bootpool_domain *dom, u32 idx,
			   const struct bootpool_remote_block *blk)
	__must_hold(&dom->lock)
{
	bootpool_rbtable_erase(&dom->rb, idx);
	dom->remote_pages -= 1UL << blk->order;
}

/*
 * Give a block bootpool_remote_erase() took out back to the user's share
 * and to Dionysos.
 * Context: process context; the domain's lock not held.
 */
void bootpool_remote_give_back(struct bootpool_domain *dom,
			       const struct bootpool_remote_block *blk)
{
	unsigned long pages = 1UL << blk->order;

	bootpool_user_uncharge(dom->user, pages);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, -(long)pages);
	bootpool_dionysos_release(blk->instance, blk->page, blk->order,
				  dom->memcg, blk->mapped);
}

static int bootpool_domain_free_remote(struct bootpool_domain *dom,
				       u64 handle)
{
	struct bootpool_remote_block blk;
	long idx;

	spin_lock(&dom->lock);
	idx = bootpool_rbtable_lookup(&dom->rb, handle, &blk);
	if (idx < 0) {
		spin_unlock(&dom->lock);
		return -EINVAL;
	}
	dom->stats.frees++;
	bootpool_count(BOOTPOOL_CNT_REMOTE_FREES, 1);
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE << blk.order,
			    BOOTPOOL_SOURCE_DIONYSOS);
	if (dom->rb.maps[idx]) {
		/* Kept, and counted, until its last mapping goes. */
		bootpool_rbtable_mark_freed(&dom->rb, idx);
		dom->kept_pages += 1UL << blk.order;
		spin_unlock(&dom->lock);
		bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, 1L << blk.order);
		return 0;
	}
	bootpool_remote_erase(dom, idx, &blk);
	spin_unlock(&dom->lock);
	bootpool_remote_give_back(dom, &blk);
	return 0;
}

/*
 * Put a free slot back on the free stack, unless its generations are used
 * up: then it is retired, and its page stays out of the pool (counted as
 * used) until the domain ends.
 * Context: the domain's lock held.
 * Return: true when the slot is free again.
 */
static __always_inline bool bootpool_pool_put(struct bootpool_domain *dom,
					      unsigned int slot)
	__must_hold(&dom->lock)
{
	if (unlikely(dom->gen[slot] > BOOTPOOL_POOL_GEN_MAX))
		return false;
	dom->free_stack[dom->nr_free++] = slot;
	return true;
}

/*
 * Put a freed pool slot whose page was mapped, and is mapped no more, back
 * on the free stack, its page zeroed. A page that something else still
 * holds (no mapping can make one: its PTEs are special) is neither zeroed
 * nor reused: its slot stays taken until the domain ends.
 * Context: process context; the domain's lock not held.
 */
void bootpool_pool_recycle(struct bootpool_domain *dom, unsigned int slot)
{
	struct page *page;
	bool put = false;

	spin_lock(&dom->lock);
	page = dom->dead ? NULL : dom->pages[slot];
	spin_unlock(&dom->lock);
	if (!page || page_count(page) != 1)
		return;

	/* Out of the pool and out of reach until zeroed. */
	clear_highpage(page);
	spin_lock(&dom->lock);
	if (!dom->dead) {
		__clear_bit(slot, dom->dirty);
		put = bootpool_pool_put(dom, slot);
	}
	spin_unlock(&dom->lock);
	if (put)
		bootpool_count(BOOTPOOL_CNT_POOL_USED, -1);
}

/**
 * bootpool_domain_free() - serve a FREE request
 * @dom: the caller's domain.
 * @handle: the block.
 *
 * The handle is dead on return. A block still mapped is kept until its
 * last mapping goes; any other goes back at once.
 *
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, or -EINVAL for a handle the domain does not hold.
 */
int bootpool_domain_free(struct bootpool_domain *dom, u64 handle)
{
	bool dirty, put = false, kept = false;
	int slot;

	if (bootpool_handle_is_remote(handle))
		return bootpool_domain_free_remote(dom, handle);

	spin_lock(&dom->lock);
	slot = bootpool_pool_slot(dom, handle);
	if (slot < 0) {
		spin_unlock(&dom->lock);
		return -EINVAL;
	}
	dom->gen[slot]++;	/* even: free */
	dom->stats.frees++;
	/*
	 * The common case: a block never mapped (mmap sets its dirty bit
	 * first) is still zero: straight back on the free stack.
	 */
	dirty = test_bit(slot, dom->dirty);
	if (!dirty) {
		put = bootpool_pool_put(dom, slot);
	} else if (dom->pool_maps[slot]) {
		/* Kept, slot and all, until its last mapping goes. */
		dom->kept_pages++;
		kept = true;
	}
	spin_unlock(&dom->lock);

	bootpool_count(BOOTPOOL_CNT_POOL_FREES, 1);
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE, BOOTPOOL_SOURCE_POOL);
	if (put)
		bootpool_count(BOOTPOOL_CNT_POOL_USED, -1);
	else if (kept)
		bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, 1);
	else if (dirty)
		bootpool_pool_recycle(dom, slot);
	return 0;
}

/**
 * bootpool_domain_alloc_undo() - take back an ALLOC whose reply was lost
 * @dom: the caller's domain.
 * @arg: the request as bootpool_domain_alloc() served it.
 *
 * For an ALLOC that fails after it was served, because its reply could
 * not be written back whole: the block is freed, and every counter the
 * ALLOC and the FREE moved is moved back, so that the request changes
 * only ``failed_allocs``. A switch the request caused stays: the domain's
 * policy did see the request. The caller may have seen part of the reply,
 * the handle included, and freed the block meanwhile: then there is
 * nothing to take back, and nothing is counted.
 *
 * Context: process context, may sleep; takes the domain's lock.
 */
void bootpool_domain_alloc_undo(struct bootpool_domain *dom,
				const struct bootpool_alloc *arg)
{
	bool remote = arg->source == BOOTPOOL_SOURCE_DIONYSOS;

	if (bootpool_domain_free(dom, arg->handle))
		return;
	spin_lock(&dom->lock);
	dom->stats.frees--;
	if (remote)
		dom->stats.remote_allocs--;
	else
		dom->stats.pool_allocs--;
	dom->stats.bytes_requested -= arg->size;
	dom->stats.bytes_granted -= arg->granted;
	dom->stats.ipis -= arg->ipis;
	dom->stats.hops -= arg->hops;
	bootpool_alloc_failed(dom);
	spin_unlock(&dom->lock);

	bootpool_count(remote ? BOOTPOOL_CNT_REMOTE_ALLOCS :
				BOOTPOOL_CNT_POOL_ALLOCS, -1);
	bootpool_count(remote ? BOOTPOOL_CNT_REMOTE_FREES :
				BOOTPOOL_CNT_POOL_FREES, -1);
	bootpool_count(BOOTPOOL_CNT_IPIS, -(long)arg->ipis);
	bootpool_count(BOOTPOOL_CNT_HOPS, -(long)arg->hops);
}

/**
 * bootpool_domain_stats() - fill a STATS reply
 * @dom: the domain.
 * @st: the reply.
 *
 * Context: process context; takes the domain's lock.
 */
void bootpool_domain_stats(struct bootpool_domain *dom,
			   struct bootpool_stats *st)
{
	spin_lock(&dom->lock);
	*st = dom->stats;
	st->pool_pages = dom->nr_pages;
	st->pool_free = dom->nr_free;
	st->pool_used = dom->nr_pages - dom->nr_free;
	st->policy = dom->policy;
	st->switched = dom->switched;
	st->switch_reason = dom->switch_reason;
	st->switch_pages_left = dom->switch_pages_left;
	st->pad = 0;
	st->remote_bytes = (u64)dom->remote_pages << PAGE_SHIFT;
	st->kept_bytes = (u64)dom->kept_pages << PAGE_SHIFT;
	st->footprint_bytes = ((u64)dom->nr_pages << PAGE_SHIFT) +
			      st->remote_bytes;
	spin_unlock(&dom->lock);
}
