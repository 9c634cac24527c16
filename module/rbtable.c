// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: the table of a domain's Dionysos blocks
 *
 * A domain keeps its Dionysos blocks in a table like the pool's slots:
 * one word an entry (page frame, present, mapped and freed flags, and
 * order), the generation of the entry's handle beside it, the count of
 * the block's mappings, and a stack of free entries, so that a remote
 * ALLOC+FREE allocates no memory for bookkeeping once the table holds an
 * entry. The table grows by doubling, allocated without its owner's lock
 * (bootpool_rbtable_grow()); its owner grows it before it takes the lock
 * to insert, so that no function here drops a lock its caller took.
 */
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>

#include "bootpool.h"
#include "handle.h"
#include "rbtable.h"

#define BOOTPOOL_RB_ORDER_BITS	4
#define BOOTPOOL_RB_MAPPED	BIT(BOOTPOOL_RB_ORDER_BITS)
#define BOOTPOOL_RB_PRESENT	BIT(BOOTPOOL_RB_ORDER_BITS + 1)
#define BOOTPOOL_RB_FREED	BIT(BOOTPOOL_RB_ORDER_BITS + 2)
#define BOOTPOOL_RB_PFN_SHIFT	(BOOTPOOL_RB_ORDER_BITS + 3)
#define BOOTPOOL_RB_MIN		16	/* entries in a new table */

static_assert(BITS_PER_LONG == 64, "remote entries need 64-bit longs");

static unsigned long bootpool_rb_entry(const struct bootpool_remote_block *blk)
{
	return page_to_pfn(blk->page) << BOOTPOOL_RB_PFN_SHIFT |
	       BOOTPOOL_RB_PRESENT | (blk->mapped ? BOOTPOOL_RB_MAPPED : 0) |
	       (blk->freed ? BOOTPOOL_RB_FREED : 0) | blk->order;
}

static void bootpool_rb_decode(unsigned long v,
			       struct bootpool_remote_block *blk)
{
	blk->page = pfn_to_page(v >> BOOTPOOL_RB_PFN_SHIFT);
	blk->mapped = v & BOOTPOOL_RB_MAPPED;
	blk->freed = v & BOOTPOOL_RB_FREED;
	blk->order = v & (BIT(BOOTPOOL_RB_ORDER_BITS) - 1);
}

/**
 * bootpool_rbtable_lookup() - find the block a handle names
 * @t: the table.
 * @handle: a handle from user space.
 * @blk: set to the block when there is one.
 *
 * Context: the owner's lock held.
 * Return: the table index of the block named by @handle, or -1 when the
 * table holds no such block (or one freed while mapped).
 */
long bootpool_rbtable_lookup(const struct bootpool_rbtable *t, u64 handle,
			     struct bootpool_remote_block *blk)
{
	u32 idx = bootpool_handle_remote_idx(handle);
	unsigned long v;

	if (!bootpool_handle_is_remote(handle) || idx >= t->size)
		return -1;
	idx = array_index_nospec(idx, t->size);
	v = t->entry[idx];
	if (!(v & BOOTPOOL_RB_PRESENT))
		return -1;
	bootpool_rb_decode(v, blk);
	blk->gen = t->gen[idx];
	if (blk->freed || blk->gen != bootpool_handle_remote_gen(handle))
		return -1;
	return idx;
}

/**
 * bootpool_rbtable_get() - the block at an index in use
 * @t: the table.
 * @idx: an index that holds a block (one the owner's mappings name).
 * @blk: set to the block; its @gen is not set.
 *
 * Context: the owner's lock held.
 */
void bootpool_rbtable_get(const struct bootpool_rbtable *t, u32 idx,
			  struct bootpool_remote_block *blk)
{
	bootpool_rb_decode(t->entry[idx], blk);
}

/**
 * bootpool_rbtable_handle() - the handle of the latest block at an index
 * @t: the table.
 * @idx: an index, from an mmap offset.
 *
 * Context: the owner's lock held.
 * Return: the handle, or 0 for an index past the table.
 */
u64 bootpool_rbtable_handle(const struct bootpool_rbtable *t,
			    unsigned long idx)
{
	if (idx >= t->size)
		return 0;
	idx = array_index_nospec(idx, t->size);
	return bootpool_remote_handle(idx, t->gen[idx]);
}

static void bootpool_rbtable_free(struct bootpool_rbtable *t)
{
	kvfree(t->entry);
	kvfree(t->free);
	kvfree(t->maps);
	kvfree(t->gen);
}

/**
 * bootpool_rbtable_grow() - double the table, or make one
 * @t: the table.
 * @lock: the owner's lock, not held.
 * @gen_base: where the generations of the new entries start.
 *
 * The new arrays are allocated without @lock and installed under it,
 * unless another thread of the owner grew the table or freed an entry
 * meanwhile.
 *
 * Context: process context, may sleep; @lock not held.
 * Return: 0, or -ENOMEM.
 */
int bootpool_rbtable_grow(struct bootpool_rbtable *t, spinlock_t *lock,
			  u64 gen_base)
{
	u64 gen = min(gen_base, BOOTPOOL_REMOTE_GEN_MAX - 1);
	struct bootpool_rbtable new = {};
	u32 size, i, n = 0;
	int ret = 0;

	spin_lock(lock);
	size = t->size ? 2 * t->size : BOOTPOOL_RB_MIN;
	spin_unlock(lock);
	if (size > BOOTPOOL_HANDLE_REMOTE_LIMIT + 1)
		return -ENOMEM;

	new.entry = kvcalloc(size, sizeof(*new.entry), GFP_KERNEL_ACCOUNT);
	new.free = kvmalloc_array(size, sizeof(*new.free), GFP_KERNEL_ACCOUNT);
	new.maps = kvcalloc(size, sizeof(*new.maps), GFP_KERNEL_ACCOUNT);
	new.gen = kvmalloc_array(size, sizeof(*new.gen), GFP_KERNEL_ACCOUNT);
	if (!new.entry || !new.free || !new.maps || !new.gen) {
		ret = -ENOMEM;
		goto out_free;
	}

	spin_lock(lock);
	if (t->size < size && !t->nr_free) {
		if (t->size) {
			memcpy(new.entry, t->entry, t->size * sizeof(*t->entry));
			memcpy(new.maps, t->maps, t->size * sizeof(*t->maps));
			memcpy(new.gen, t->gen, t->size * sizeof(*t->gen));
		}
		/* The lowest new index on top. */
		for (i = size; i-- > t->size;) {
			new.free[n++] = i;
			new.gen[i] = gen;
		}
		new.size = size;
		new.nr_free = n;
		/* The old arrays are freed below. */
		swap(*t, new);
	}
	spin_unlock(lock);
out_free:
	bootpool_rbtable_free(&new);
	return ret;
}

/**
 * bootpool_rbtable_insert() - record a block
 * @t: the table.
 * @blk: the block; the generation of its handle is set.
 * @idx: set to its index.
 *
 * Context: the owner's lock held.
 * Return: 0, or -EAGAIN when the table is full: the caller grows it
 * (bootpool_rbtable_grow(), without the lock) and tries again.
 */
int bootpool_rbtable_insert(struct bootpool_rbtable *t,
			    struct bootpool_remote_block *blk, u32 *idx)
{
	if (!t->nr_free)
		return -EAGAIN;
	*idx = t->free[--t->nr_free];
	t->entry[*idx] = bootpool_rb_entry(blk);
	blk->gen = ++t->gen[*idx];
	return 0;
}

/**
 * bootpool_rbtable_mark_mapped() - note that a block was mapped
 * @t: the table.
 * @idx: the block's index.
 *
 * Context: the owner's lock held.
 */
void bootpool_rbtable_mark_mapped(struct bootpool_rbtable *t, u32 idx)
{
	t->entry[idx] |= BOOTPOOL_RB_MAPPED;
}

/**
 * bootpool_rbtable_mark_freed() - note that a mapped block was freed
 * @t: the table.
 * @idx: the block's index; it is kept until its last mapping goes, and
 *	no handle finds it any more.
 *
 * Context: the owner's lock held.
 */
void bootpool_rbtable_mark_freed(struct bootpool_rbtable *t, u32 idx)
{
	t->entry[idx] |= BOOTPOOL_RB_FREED;
}

/**
 * bootpool_rbtable_erase() - empty an entry
 * @t: the table.
 * @idx: the entry; it is retired, not reused, when its generations are
 *	used up.
 *
 * Context: the owner's lock held.
 */
void bootpool_rbtable_erase(struct bootpool_rbtable *t, u32 idx)
{
	t->entry[idx] = 0;
	if (likely(t->gen[idx] < BOOTPOOL_REMOTE_GEN_MAX))
		t->free[t->nr_free++] = idx;
}

/**
 * bootpool_rbtable_destroy() - give back every block and free the table
 * @t: a table its owner no longer reaches (taken out of the owner whole,
 *	under its lock).
 *
 * Every block, kept ones included, goes back to Dionysos; a mapping that
 * outlives the table holds its own references on the pages.
 *
 * Context: process context.
 * Return: how many blocks the table held.
 */
unsigned int bootpool_rbtable_destroy(struct bootpool_rbtable *t)
{
	struct bootpool_remote_block blk;
	unsigned int blocks = 0;
	u32 idx;

	for (idx = 0; idx < t->size; idx++) {
		if (!(t->entry[idx] & BOOTPOOL_RB_PRESENT))
			continue;
		bootpool_rb_decode(t->entry[idx], &blk);
		bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, -(1L << blk.order));
		bootpool_dionysos_return(blk.page, blk.order);
		blocks++;
	}
	bootpool_rbtable_free(t);
	return blocks;
}
