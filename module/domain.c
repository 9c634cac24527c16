// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: domains
 *
 * A process is a domain. Its first open() of /dev/bootpool attaches it: a
 * pool of ``pool_pages`` zeroed pages is reserved for it, whether it uses
 * them or not, as a Barrelfish parent pays for its child's fixed allocator
 * at spawn. All threads and descriptors of the process share the domain;
 * the domain is found through the process's mm (mmu_notifier_get()), and
 * the mm's release callback tears it down when the process exits, however
 * it dies, even while a forked child still holds an inherited descriptor.
 * Otherwise the last close tears it down.
 *
 * Pool blocks are single pages. User space can write a block only through
 * a mapping, so a freed pool page is zeroed only if it was mapped, and
 * then goes back on the pool's free stack; a page still mapped is replaced
 * by a fresh one instead, so the mapping keeps its page and never sees
 * another block.
 * Dionysos blocks are kept in a table like the pool's slots, one word an
 * entry with a stack of free entries, grown by doubling; they go back to
 * Dionysos when freed.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "bootpool.h"
#include "bootpool_trace.h"

/* Serializes attach with the last detach; protects bootpool_domains. */
static DEFINE_MUTEX(bootpool_attach_lock);
static LIST_HEAD(bootpool_domains);

static const struct mmu_notifier_ops bootpool_mn_ops;

static struct bootpool_domain *to_domain(struct mmu_notifier *mn)
{
	return container_of(mn, struct bootpool_domain, notifier);
}

/*
 * A Dionysos block is kept in the domain's table of remote blocks as one
 * word: page frame, handle generation, present and mapped flags, and
 * order. Indices come from a stack of free ones, so a remote ALLOC+FREE
 * allocates no memory for bookkeeping once the table holds an entry.
 */
#define BOOTPOOL_RB_ORDER_BITS	4
#define BOOTPOOL_RB_MAPPED	BIT(BOOTPOOL_RB_ORDER_BITS)
#define BOOTPOOL_RB_PRESENT	BIT(BOOTPOOL_RB_ORDER_BITS + 1)
#define BOOTPOOL_RB_GEN_SHIFT	(BOOTPOOL_RB_ORDER_BITS + 2)
#define BOOTPOOL_RB_PFN_SHIFT	(BOOTPOOL_RB_GEN_SHIFT + 12)
#define BOOTPOOL_RB_MIN		16	/* entries in a new table */

static_assert(BITS_PER_LONG == 64, "remote entries need 64-bit longs");

static unsigned long bootpool_rb_entry(const struct bootpool_remote_block *blk)
{
	return page_to_pfn(blk->page) << BOOTPOOL_RB_PFN_SHIFT |
	       (unsigned long)blk->gen << BOOTPOOL_RB_GEN_SHIFT |
	       BOOTPOOL_RB_PRESENT | (blk->mapped ? BOOTPOOL_RB_MAPPED : 0) |
	       blk->order;
}

static void bootpool_rb_decode(unsigned long v,
			       struct bootpool_remote_block *blk)
{
	blk->page = pfn_to_page(v >> BOOTPOOL_RB_PFN_SHIFT);
	blk->gen = (v >> BOOTPOOL_RB_GEN_SHIFT) & BOOTPOOL_HANDLE_REMOTE_GEN;
	blk->mapped = v & BOOTPOOL_RB_MAPPED;
	blk->order = v & (BIT(BOOTPOOL_RB_ORDER_BITS) - 1);
}

/*
 * The table index of the remote block named by @handle, with @blk holding
 * the block, or -1 when the domain holds no such block.
 * Context: the domain's lock held.
 */
static long bootpool_rb_lookup(struct bootpool_domain *dom, u64 handle,
			       struct bootpool_remote_block *blk)
	__must_hold(&dom->lock)
{
	u32 idx = bootpool_handle_remote_idx(handle);
	unsigned long v;

	if (handle >> 33 || idx >= dom->rb_size)
		return -1;
	v = dom->rb[array_index_nospec(idx, dom->rb_size)];
	if (!(v & BOOTPOOL_RB_PRESENT))
		return -1;
	bootpool_rb_decode(v, blk);
	if (blk->gen != bootpool_handle_remote_gen(handle))
		return -1;
	return idx;
}

/*
 * Double the table of remote blocks (or make one). The new arrays are
 * allocated without the lock and installed under it, unless another
 * thread of the domain grew the table or freed an entry meanwhile.
 * Context: process context, may sleep; the domain's lock not held.
 * Return: 0, or -ENOMEM.
 */
static int bootpool_rb_grow(struct bootpool_domain *dom)
{
	unsigned long *rb = NULL, *old_rb = NULL;
	u32 *rb_free = NULL, *old_free = NULL;
	u32 size, old_size, i, n = 0;
	int ret = 0;

	spin_lock(&dom->lock);
	size = dom->rb_size ? 2 * dom->rb_size : BOOTPOOL_RB_MIN;
	spin_unlock(&dom->lock);
	if (size > BOOTPOOL_HANDLE_REMOTE_LIMIT + 1)
		return -ENOMEM;

	rb = kvcalloc(size, sizeof(*rb), GFP_KERNEL);
	rb_free = kvmalloc_array(size, sizeof(*rb_free), GFP_KERNEL);
	if (!rb || !rb_free) {
		ret = -ENOMEM;
		goto out_free;
	}

	spin_lock(&dom->lock);
	old_size = dom->rb_size;
	if (old_size < size && !dom->rb_nr_free) {
		if (old_size)
			memcpy(rb, dom->rb, old_size * sizeof(*rb));
		/* The lowest new index on top. */
		for (i = size; i-- > old_size;)
			rb_free[n++] = i;
		old_rb = dom->rb;
		old_free = dom->rb_free;
		dom->rb = rb;
		dom->rb_free = rb_free;
		dom->rb_size = size;
		dom->rb_nr_free = n;
		rb = old_rb;
		rb_free = old_free;
	}
	spin_unlock(&dom->lock);
out_free:
	kvfree(rb);
	kvfree(rb_free);
	return ret;
}

/*
 * Record a remote block; return its table index in *@idx. Grows the table
 * when it is full, dropping the lock to do so.
 * Context: process context, may sleep; the domain's lock held, dropped
 * and taken again. Return: 0, or -ENOMEM.
 */
static int bootpool_rb_insert(struct bootpool_domain *dom,
			      const struct bootpool_remote_block *blk,
			      u32 *idx)
	__must_hold(&dom->lock)
{
	int ret;

	while (!dom->rb_nr_free) {
		spin_unlock(&dom->lock);
		ret = bootpool_rb_grow(dom);
		spin_lock(&dom->lock);
		if (ret)
			return ret;
	}
	*idx = dom->rb_free[--dom->rb_nr_free];
	dom->rb[*idx] = bootpool_rb_entry(blk);
	return 0;
}

/* Context: the domain's lock held. */
static void bootpool_rb_erase(struct bootpool_domain *dom, u32 idx)
	__must_hold(&dom->lock)
{
	dom->rb[idx] = 0;
	dom->rb_free[dom->rb_nr_free++] = idx;
}

static struct mmu_notifier *bootpool_mn_alloc(struct mm_struct *mm)
{
	struct bootpool_domain *dom = kzalloc(sizeof(*dom), GFP_KERNEL);

	if (!dom)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&dom->lock);
	INIT_LIST_HEAD(&dom->node);
	return &dom->notifier;
}

static void bootpool_mn_free(struct mmu_notifier *mn)
{
	kfree(to_domain(mn));
}

static void bootpool_pool_free(struct page **pages, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (pages[i])
			put_page(pages[i]);
}

static void bootpool_domain_set_switch(struct bootpool_domain *dom,
				       u32 reason)
	__must_hold(&dom->lock)
{
	static const enum bootpool_counter counter[] = {
		[BOOTPOOL_SWITCH_EXHAUSTED] = BOOTPOOL_CNT_SWITCH_EXHAUSTED,
		[BOOTPOOL_SWITCH_OVERSIZE] = BOOTPOOL_CNT_SWITCH_OVERSIZE,
		[BOOTPOOL_SWITCH_EARLY] = BOOTPOOL_CNT_SWITCH_EARLY,
	};

	lockdep_assert_held(&dom->lock);
	dom->switched = true;
	dom->switch_reason = reason;
	dom->switch_pages_left = dom->nr_free;
	bootpool_count(counter[reason], 1);
	trace_bootpool_switch(dom->tgid, reason, dom->nr_free);
}

/* Free the pool's bookkeeping (not its pages, nor the array of them). */
static void bootpool_domain_free_arrays(struct bootpool_domain *dom)
{
	bitmap_free(dom->dirty);
	kfree(dom->free_stack);
	kfree(dom->gen);
	dom->dirty = NULL;
	dom->free_stack = NULL;
	dom->gen = NULL;
}

/* Reserve the pool of a new domain. Context: bootpool_attach_lock held. */
static int bootpool_domain_init(struct bootpool_domain *dom)
{
	unsigned int nr = min_t(unsigned int, READ_ONCE(bootpool_pool_pages),
				BOOTPOOL_MAX_POOL_PAGES);
	unsigned int i;

	lockdep_assert_held(&bootpool_attach_lock);
	dom->pages = kcalloc(nr, sizeof(*dom->pages), GFP_KERNEL);
	dom->gen = kcalloc(nr, sizeof(*dom->gen), GFP_KERNEL);
	dom->free_stack = kcalloc(nr, sizeof(*dom->free_stack), GFP_KERNEL);
	dom->dirty = bitmap_zalloc(nr, GFP_KERNEL);
	if (nr && (!dom->pages || !dom->gen || !dom->free_stack ||
		   !dom->dirty))
		goto out_free_arrays;

	for (i = 0; i < nr; i++) {
		dom->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!dom->pages[i])
			goto out_free_pages;
		/* Slot 0 on top: a fresh pool hands out slots in order. */
		dom->free_stack[i] = nr - 1 - i;
	}
	dom->nr_pages = nr;
	dom->nr_free = nr;
	dom->tgid = current->tgid;
	dom->policy = READ_ONCE(bootpool_default_policy);

	bootpool_count(BOOTPOOL_CNT_DOMAINS, 1);
	bootpool_count(BOOTPOOL_CNT_ATTACHES, 1);
	bootpool_count(BOOTPOOL_CNT_POOL_PAGES, nr);
	trace_bootpool_attach(dom->tgid, nr, dom->policy);
	if (dom->policy == BOOTPOOL_POLICY_EARLY) {
		spin_lock(&dom->lock);
		bootpool_domain_set_switch(dom, BOOTPOOL_SWITCH_EARLY);
		spin_unlock(&dom->lock);
	}
	return 0;

out_free_pages:
	bootpool_pool_free(dom->pages, nr);
out_free_arrays:
	bootpool_domain_free_arrays(dom);
	kfree(dom->pages);
	dom->pages = NULL;
	return -ENOMEM;
}

/*
 * Give back everything the domain holds. Runs once, from the last close or
 * from the process's exit, whichever comes first; neither can race with an
 * ioctl of the domain (an ioctl holds the file and the mm).
 */
static void bootpool_domain_teardown(struct bootpool_domain *dom)
{
	struct bootpool_remote_block blk;
	unsigned int nr, used, blocks;
	unsigned long *rb;
	struct page **pages;
	u32 *rb_free, idx, rb_size;

	spin_lock(&dom->lock);
	if (dom->dead || !dom->pages) {
		dom->dead = true;
		spin_unlock(&dom->lock);
		return;
	}
	dom->dead = true;
	pages = dom->pages;
	nr = dom->nr_pages;
	used = nr - dom->nr_free;
	dom->pages = NULL;
	dom->nr_pages = 0;
	dom->nr_free = 0;
	rb = dom->rb;
	rb_free = dom->rb_free;
	rb_size = dom->rb_size;
	dom->rb = NULL;
	dom->rb_free = NULL;
	dom->rb_size = 0;
	dom->rb_nr_free = 0;
	dom->remote_pages = 0;
	spin_unlock(&dom->lock);

	blocks = used;
	for (idx = 0; idx < rb_size; idx++) {
		if (!(rb[idx] & BOOTPOOL_RB_PRESENT))
			continue;
		bootpool_rb_decode(rb[idx], &blk);
		bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, -(1L << blk.order));
		bootpool_dionysos_release(blk.page, blk.order, blk.mapped);
		blocks++;
	}
	kvfree(rb);
	kvfree(rb_free);

	bootpool_pool_free(pages, nr);
	kfree(pages);
	bootpool_domain_free_arrays(dom);

	bootpool_count(BOOTPOOL_CNT_POOL_PAGES, -(long)nr);
	bootpool_count(BOOTPOOL_CNT_POOL_USED, -(long)used);
	bootpool_count(BOOTPOOL_CNT_DOMAINS, -1);
	bootpool_count(BOOTPOOL_CNT_DETACHES, 1);
	trace_bootpool_detach(dom->tgid, blocks);
}

static void bootpool_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	bootpool_domain_teardown(to_domain(mn));
}

static const struct mmu_notifier_ops bootpool_mn_ops = {
	.release	= bootpool_mn_release,
	.alloc_notifier	= bootpool_mn_alloc,
	.free_notifier	= bootpool_mn_free,
};

/**
 * bootpool_domain_attach() - find or create the caller's domain
 *
 * Context: process context, may sleep.
 * Return: the domain, with a reference for the new descriptor, or an
 * ERR_PTR: -ENOMEM when the pool cannot be reserved.
 */
struct bootpool_domain *bootpool_domain_attach(void)
{
	struct bootpool_domain *dom;
	struct mmu_notifier *mn;
	int ret;

	mutex_lock(&bootpool_attach_lock);
	mn = mmu_notifier_get(&bootpool_mn_ops, current->mm);
	if (IS_ERR(mn)) {
		mutex_unlock(&bootpool_attach_lock);
		return ERR_CAST(mn);
	}
	dom = to_domain(mn);
	if (!dom->files) {
		ret = bootpool_domain_init(dom);
		if (ret) {
			mmu_notifier_put(mn);
			mutex_unlock(&bootpool_attach_lock);
			return ERR_PTR(ret);
		}
		list_add_tail(&dom->node, &bootpool_domains);
	}
	dom->files++;
	mutex_unlock(&bootpool_attach_lock);
	return dom;
}

/**
 * bootpool_domain_detach() - drop a descriptor's reference
 * @dom: the domain.
 *
 * The last descriptor tears the domain down if the process's exit has not
 * already done so.
 *
 * Context: process context, may sleep.
 */
void bootpool_domain_detach(struct bootpool_domain *dom)
{
	mutex_lock(&bootpool_attach_lock);
	if (!--dom->files) {
		bootpool_domain_teardown(dom);
		list_del_init(&dom->node);
	}
	/*
	 * Under the lock: a domain torn down by its last close must be gone
	 * from the mm before another open of the process can look it up, or
	 * that open would find it with no descriptor and set it up again.
	 */
	mmu_notifier_put(&dom->notifier);
	mutex_unlock(&bootpool_attach_lock);
}

/**
 * bootpool_domains_synchronize() - wait until every domain is freed
 *
 * Context: process context, module exit.
 */
void bootpool_domains_synchronize(void)
{
	mmu_notifier_synchronize();
}

/**
 * bootpool_domain_set_policy() - choose the domain's switching policy
 * @dom: the domain.
 * @policy: an &enum bootpool_policy_id.
 *
 * Context: process context; takes the domain's lock.
 * Return: 0, -EINVAL for an unknown policy, -EBUSY after the first ALLOC.
 */
int bootpool_domain_set_policy(struct bootpool_domain *dom, u32 policy)
{
	int ret = 0;

	if (policy >= BOOTPOOL_POLICY_COUNT)
		return -EINVAL;

	spin_lock(&dom->lock);
	if (dom->sealed || dom->dead) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (dom->switched)
		bootpool_count(BOOTPOOL_CNT_SWITCH_EARLY, -1);
	dom->policy = policy;
	dom->switched = false;
	dom->switch_reason = BOOTPOOL_SWITCH_NONE;
	dom->switch_pages_left = 0;
	if (policy == BOOTPOOL_POLICY_EARLY)
		bootpool_domain_set_switch(dom, BOOTPOOL_SWITCH_EARLY);
out_unlock:
	spin_unlock(&dom->lock);
	return ret;
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
	arg->mmap_offset = arg->handle << PAGE_SHIFT;
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
	dom->stats.pool_allocs++;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += PAGE_SIZE;
}

/**
 * bootpool_domain_alloc_pool_run() - serve a run of requests from the pool
 * @dom: the caller's domain.
 * @args: requests, in order.
 * @n: how many.
 *
 * Serves @args from the start, under one hold of the domain's lock, for as long
 * as each is valid and the domain's policy sends it to the pool without a
 * switch: exactly what bootpool_domain_alloc() would do for each. The
 * caller serves the first request not taken with bootpool_domain_alloc().
 *
 * Context: process context; takes the domain's lock.
 * Return: the number of requests served.
 */
unsigned int bootpool_domain_alloc_pool_run(struct bootpool_domain *dom,
					    struct bootpool_alloc *args,
					    unsigned int n)
{
	int cpu = raw_smp_processor_id();
	enum bootpool_route route;
	unsigned int i;
	u32 reason;

	spin_lock(&dom->lock);
	for (i = 0; i < n && !dom->dead; i++) {
		if (!args[i].size || args[i].size > BOOTPOOL_MAX_ALLOC_SIZE ||
		    args[i].flags)
			break;
		route = bootpool_policy_route(dom->policy, dom->switched,
					      dom->nr_free, args[i].size,
					      &reason);
		if (route != BOOTPOOL_ROUTE_POOL ||
		    reason != BOOTPOOL_SWITCH_NONE)
			break;
		dom->sealed = true;
		bootpool_pool_take(dom, &args[i], cpu);
	}
	spin_unlock(&dom->lock);

	if (i) {
		bootpool_count(BOOTPOOL_CNT_POOL_ALLOCS, i);
		bootpool_count(BOOTPOOL_CNT_POOL_USED, i);
	}
	for (n = 0; n < i; n++)
		bootpool_alloc_traced(dom, &args[n]);
	return i;
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
 * Serve @arg from Dionysos, within the pages a domain may hold from it
 * (max_remote_mb). The caller holds the domain's lock, which is dropped
 * while the request travels and held again on return: a remote ALLOC takes
 * it twice, once to route and reserve, once to record the block.
 */
static int bootpool_domain_alloc_remote(struct bootpool_domain *dom,
					struct bootpool_alloc *arg)
	__must_hold(&dom->lock)
{
	unsigned int order = bootpool_size_order(arg->size);
	unsigned long cap = (unsigned long)READ_ONCE(bootpool_max_remote_mb)
			    << (20 - PAGE_SHIFT);
	unsigned long pages = 1UL << order;
	struct bootpool_remote_block blk;
	u32 idx;
	int ret;

	if (dom->remote_pages + pages > cap)
		return -ENOMEM;
	dom->remote_pages += pages;
	blk.gen = dom->remote_gen++ & BOOTPOOL_HANDLE_REMOTE_GEN;
	spin_unlock(&dom->lock);

	ret = bootpool_forward_request(dom, order, arg, &blk.page);

	spin_lock(&dom->lock);
	if (!ret) {
		blk.order = order;
		blk.mapped = false;
		/* Needs memory only when the table is full. */
		ret = bootpool_rb_insert(dom, &blk, &idx);
		if (ret) {
			spin_unlock(&dom->lock);
			bootpool_dionysos_release(blk.page, order, false);
			spin_lock(&dom->lock);
		}
	}
	if (ret) {
		dom->remote_pages -= pages;
		return ret;
	}

	arg->source = BOOTPOOL_SOURCE_DIONYSOS;
	arg->handle = bootpool_remote_handle(idx, blk.gen);
	arg->granted = (u64)PAGE_SIZE << order;
	dom->stats.remote_allocs++;
	dom->stats.ipis += arg->ipis;
	dom->stats.hops += arg->hops;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += arg->granted;

	bootpool_count(BOOTPOOL_CNT_REMOTE_ALLOCS, 1);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, pages);
	bootpool_count(BOOTPOOL_CNT_IPIS, arg->ipis);
	bootpool_count(BOOTPOOL_CNT_HOPS, arg->hops);
	return 0;
}

/**
 * bootpool_domain_alloc() - serve an ALLOC request
 * @dom: the caller's domain.
 * @arg: the request; the output fields are filled on success.
 *
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, or -EINVAL (bad size or flags), -ENOMEM, -ENXIO or -EINTR
 * (see bootpool_forward_request()).
 */
int bootpool_domain_alloc(struct bootpool_domain *dom,
			  struct bootpool_alloc *arg)
{
	enum bootpool_route route;
	u32 reason;
	int ret;

	if (!arg->size || arg->size > BOOTPOOL_MAX_ALLOC_SIZE || arg->flags)
		return -EINVAL;

	spin_lock(&dom->lock);
	if (dom->dead) {
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

	ret = bootpool_domain_alloc_remote(dom, arg);
	if (ret)
		bootpool_alloc_failed(dom);
	spin_unlock(&dom->lock);
	if (!ret)
		bootpool_alloc_traced(dom, arg);
	return ret;
}

static int bootpool_domain_free_remote(struct bootpool_domain *dom,
				       u64 handle)
{
	struct bootpool_remote_block blk;
	long idx;

	spin_lock(&dom->lock);
	idx = bootpool_rb_lookup(dom, handle, &blk);
	if (idx < 0) {
		spin_unlock(&dom->lock);
		return -EINVAL;
	}
	bootpool_rb_erase(dom, idx);
	dom->remote_pages -= 1UL << blk.order;
	dom->stats.frees++;
	spin_unlock(&dom->lock);

	bootpool_count(BOOTPOOL_CNT_REMOTE_FREES, 1);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, -(1L << blk.order));
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE << blk.order,
			    BOOTPOOL_SOURCE_DIONYSOS);
	bootpool_dionysos_release(blk.page, blk.order, blk.mapped);
	return 0;
}

/* The slot named by @handle if it is in use by that handle, else -1. */
static __always_inline int bootpool_pool_slot(struct bootpool_domain *dom,
					      u64 handle)
	__must_hold(&dom->lock)
{
	unsigned int slot = bootpool_handle_slot(handle);
	u16 gen = bootpool_handle_gen(handle);

	if (dom->dead || handle >> 32 || slot >= dom->nr_pages ||
	    !(gen & 1) || dom->gen[slot] != gen)
		return -1;
	return slot;
}

/**
 * bootpool_domain_free() - serve a FREE request
 * @dom: the caller's domain.
 * @handle: the block.
 *
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, -EINVAL for a handle the domain does not hold, -ENOMEM when a
 * still-mapped pool page cannot be replaced (the block stays allocated).
 */
int bootpool_domain_free(struct bootpool_domain *dom, u64 handle)
{
	struct page *fresh = NULL, *old = NULL, *page = NULL;
	bool dirty;
	int slot;

	if (bootpool_handle_is_remote(handle))
		return bootpool_domain_free_remote(dom, handle);

retry:
	spin_lock(&dom->lock);
	slot = bootpool_pool_slot(dom, handle);
	if (slot < 0) {
		spin_unlock(&dom->lock);
		if (fresh)
			put_page(fresh);
		return -EINVAL;
	}
	/*
	 * The common case: a block never mapped (mmap sets its dirty bit
	 * before it takes a reference) is still zero and no one else holds
	 * its page: straight back on the free stack, page untouched.
	 */
	dirty = test_bit(slot, dom->dirty);
	if (dirty) {
		page = dom->pages[slot];
		/*
		 * A mapping holds its own reference: give the mapping the
		 * old page and the pool a fresh one. Once the generation
		 * moves on, no new mapping can take a reference, so the
		 * count seen here is final.
		 */
		if (page_count(page) > 1 && !fresh) {
			spin_unlock(&dom->lock);
			fresh = alloc_page(GFP_KERNEL | __GFP_ZERO);
			if (!fresh)
				return -ENOMEM;
			goto retry;
		}
		__clear_bit(slot, dom->dirty);
		if (fresh) {
			old = page;
			dom->pages[slot] = fresh;
			fresh = NULL;
			dirty = false;
		}
	}
	dom->gen[slot]++;	/* even: free */
	dom->stats.frees++;
	if (!dirty)
		dom->free_stack[dom->nr_free++] = slot;
	spin_unlock(&dom->lock);

	if (fresh)
		put_page(fresh);
	if (old)
		put_page(old);
	if (dirty) {
		/* Out of the pool and out of reach until zeroed. */
		clear_highpage(page);
		spin_lock(&dom->lock);
		dom->free_stack[dom->nr_free++] = slot;
		spin_unlock(&dom->lock);
	}

	bootpool_count(BOOTPOOL_CNT_POOL_FREES, 1);
	bootpool_count(BOOTPOOL_CNT_POOL_USED, -1);
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE, BOOTPOOL_SOURCE_POOL);
	return 0;
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
	st->footprint_bytes = ((u64)dom->nr_pages << PAGE_SHIFT) +
			      st->remote_bytes;
	spin_unlock(&dom->lock);
}

/**
 * bootpool_domain_mmap() - map a block
 * @dom: the caller's domain.
 * @vma: the mapping; its offset in pages is the block's handle.
 *
 * The mapping holds its own references on the pages, so freeing the block
 * does not pull them from under it. It is not inherited across fork.
 *
 * Context: process context, mmap_lock held for writing.
 * Return: 0, -EINVAL for a private mapping, an offset that names no block,
 * or a length larger than the block; or an error of vm_insert_page().
 */
int bootpool_domain_mmap(struct bootpool_domain *dom,
			 struct vm_area_struct *vma)
{
	unsigned long i, npages = vma_pages(vma);
	u64 handle = vma->vm_pgoff;
	struct bootpool_remote_block blk;
	struct page *first = NULL;
	int slot, ret = 0;
	long idx;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	if (bootpool_handle_is_remote(handle)) {
		spin_lock(&dom->lock);
		idx = bootpool_rb_lookup(dom, handle, &blk);
		if (idx >= 0 && npages <= (1UL << blk.order)) {
			dom->rb[idx] |= BOOTPOOL_RB_MAPPED;
			first = blk.page;
			for (i = 0; i < npages; i++)
				get_page(first + i);
		}
		spin_unlock(&dom->lock);
	} else {
		spin_lock(&dom->lock);
		slot = bootpool_pool_slot(dom, handle);
		if (slot >= 0 && npages == 1) {
			__set_bit(slot, dom->dirty);
			first = dom->pages[slot];
			get_page(first);
		}
		spin_unlock(&dom->lock);
	}
	if (!first)
		return -EINVAL;

	vma->vm_flags |= VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP;
	for (i = 0; i < npages && !ret; i++)
		ret = vm_insert_page(vma, vma->vm_start + i * PAGE_SIZE,
				     first + i);
	for (i = 0; i < npages; i++)
		put_page(first + i);
	return ret;
}

/**
 * bootpool_domain_show() - print a domain's summary
 * @m: the seq_file.
 * @dom: the domain.
 * @prefix: put before every key.
 *
 * Context: process context; takes the domain's lock.
 */
void bootpool_domain_show(struct seq_file *m, struct bootpool_domain *dom,
			  const char *prefix)
{
	static const char * const policy[] = { "late", "early", "hybrid" };
	static const char * const reason[] = {
		"none", "exhausted", "oversize", "early"
	};
	struct bootpool_stats st;

	bootpool_domain_stats(dom, &st);
	seq_printf(m, "%spid:\t%d\n", prefix, dom->tgid);
	seq_printf(m, "%spolicy:\t%s\n", prefix, policy[st.policy]);
	seq_printf(m, "%sswitched:\t%u\n", prefix, st.switched);
	seq_printf(m, "%sswitch_reason:\t%s\n", prefix,
		   reason[st.switch_reason]);
	seq_printf(m, "%spool_pages:\t%u\n", prefix, st.pool_pages);
	seq_printf(m, "%spool_used:\t%u\n", prefix, st.pool_used);
	seq_printf(m, "%spool_allocs:\t%llu\n", prefix, st.pool_allocs);
	seq_printf(m, "%sremote_allocs:\t%llu\n", prefix, st.remote_allocs);
	seq_printf(m, "%sipis:\t%llu\n", prefix, st.ipis);
	seq_printf(m, "%shops:\t%llu\n", prefix, st.hops);
	seq_printf(m, "%sremote_bytes:\t%llu\n", prefix, st.remote_bytes);
	seq_printf(m, "%sfootprint_bytes:\t%llu\n", prefix,
		   st.footprint_bytes);
}

/**
 * bootpool_domains_show() - print every live domain for debugfs
 * @m: the seq_file.
 * @unused: unused.
 *
 * Context: process context; takes bootpool_attach_lock.
 * Return: 0.
 */
int bootpool_domains_show(struct seq_file *m, void *unused)
{
	struct bootpool_domain *dom;

	mutex_lock(&bootpool_attach_lock);
	list_for_each_entry(dom, &bootpool_domains, node) {
		bootpool_domain_show(m, dom, "");
		seq_putc(m, '\n');
	}
	mutex_unlock(&bootpool_attach_lock);
	return 0;
}
