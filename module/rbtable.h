/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A domain's table of Dionysos blocks (rbtable.c).
 */
#ifndef _BOOTPOOL_RBTABLE_H
#define _BOOTPOOL_RBTABLE_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "handle.h"

/**
 * struct bootpool_remote_block - a block granted by Dionysos
 * @page: first of its 2^@order pages; the pages are split, each holds its
 *	own reference.
 * @order: log2 of the number of pages.
 * @instance: the Dionysos instance that granted it, whose budget it is
 *	charged to.
 * @gen: generation of its handle, from the table's @gen.
 * @mapped: the block was mapped, so it may hold user data.
 * @freed: FREE was called while it was mapped; it is kept, and counted,
 *	until its last mapping goes.
 *
 * What one entry of &struct bootpool_rbtable holds, decoded: the table
 * keeps it as one word, so that a remote ALLOC allocates nothing for its
 * bookkeeping.
 */
struct bootpool_remote_block {
	struct page *page;
	unsigned int order;
	unsigned int instance;
	u64 gen;
	bool mapped;
	bool freed;
};

/**
 * struct bootpool_rbtable - the Dionysos blocks a domain holds
 * @entry: blocks by handle index: encoded entries, 0 if free.
 * @free: free indices of @entry, the lowest on top in a new table.
 * @maps: mappings of each entry's block.
 * @gen: generation of each entry's latest block; an entry at
 *	%BOOTPOOL_REMOTE_GEN_MAX is retired once that block goes.
 * @size: entries in each array.
 * @nr_free: entries on @free.
 *
 * The table has no lock of its own: its owner's lock protects it, held
 * by the caller of every function here but bootpool_rbtable_grow() and
 * bootpool_rbtable_destroy(). The table moves as a whole: its arrays are
 * replaced together when it grows, and taken together at teardown.
 */
struct bootpool_rbtable {
	unsigned long *entry;
	u32 *free;
	u32 *maps;
	u64 *gen;
	u32 size;
	u32 nr_free;
};

int bootpool_rbtable_grow(struct bootpool_rbtable *t, spinlock_t *lock,
			  u64 gen_base);
unsigned int bootpool_rbtable_destroy(struct bootpool_rbtable *t);

/*
 * The functions of the ALLOC and FREE paths are inline: a remote ALLOC and
 * FREE call none of them out of line.
 */
#define BOOTPOOL_RB_ORDER_BITS	4
#define BOOTPOOL_RB_MAPPED	BIT(BOOTPOOL_RB_ORDER_BITS)
#define BOOTPOOL_RB_PRESENT	BIT(BOOTPOOL_RB_ORDER_BITS + 1)
#define BOOTPOOL_RB_FREED	BIT(BOOTPOOL_RB_ORDER_BITS + 2)
#define BOOTPOOL_RB_INST_SHIFT	(BOOTPOOL_RB_ORDER_BITS + 3)
#define BOOTPOOL_RB_INST_BITS	3
#define BOOTPOOL_RB_PFN_SHIFT	(BOOTPOOL_RB_INST_SHIFT + BOOTPOOL_RB_INST_BITS)

static_assert(BITS_PER_LONG == 64, "remote entries need 64-bit longs");

static inline unsigned long
bootpool_rb_entry(const struct bootpool_remote_block *blk)
{
	return page_to_pfn(blk->page) << BOOTPOOL_RB_PFN_SHIFT |
	       BOOTPOOL_RB_PRESENT | (blk->mapped ? BOOTPOOL_RB_MAPPED : 0) |
	       (blk->freed ? BOOTPOOL_RB_FREED : 0) |
	       (unsigned long)blk->instance << BOOTPOOL_RB_INST_SHIFT |
	       blk->order;
}

static inline void bootpool_rb_decode(unsigned long v,
				      struct bootpool_remote_block *blk)
{
	blk->page = pfn_to_page(v >> BOOTPOOL_RB_PFN_SHIFT);
	blk->mapped = v & BOOTPOOL_RB_MAPPED;
	blk->freed = v & BOOTPOOL_RB_FREED;
	blk->order = v & (BIT(BOOTPOOL_RB_ORDER_BITS) - 1);
	blk->instance = (v >> BOOTPOOL_RB_INST_SHIFT) &
			(BIT(BOOTPOOL_RB_INST_BITS) - 1);
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
static inline long bootpool_rbtable_lookup(const struct bootpool_rbtable *t,
					   u64 handle,
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
static inline void bootpool_rbtable_get(const struct bootpool_rbtable *t,
					u32 idx,
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
static inline u64 bootpool_rbtable_handle(const struct bootpool_rbtable *t,
					  unsigned long idx)
{
	if (idx >= t->size)
		return 0;
	idx = array_index_nospec(idx, t->size);
	return bootpool_remote_handle(idx, t->gen[idx]);
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
static inline int bootpool_rbtable_insert(struct bootpool_rbtable *t,
					  struct bootpool_remote_block *blk,
					  u32 *idx)
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
static inline void bootpool_rbtable_mark_mapped(struct bootpool_rbtable *t,
						u32 idx)
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
static inline void bootpool_rbtable_mark_freed(struct bootpool_rbtable *t,
					       u32 idx)
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
static inline void bootpool_rbtable_erase(struct bootpool_rbtable *t, u32 idx)
{
	t->entry[idx] = 0;
	if (likely(t->gen[idx] < BOOTPOOL_REMOTE_GEN_MAX))
		t->free[t->nr_free++] = idx;
}

/* Whether the table has a free entry, for a caller without the lock. */
static inline bool bootpool_rbtable_has_free(const struct bootpool_rbtable *t)
{
	/*
	 * A hint, read without the owner's lock by a caller that grows the
	 * table before it takes the lock: bootpool_rbtable_insert() looks
	 * again under it.
	 */
	return data_race(t->nr_free) != 0;
}

#endif /* _BOOTPOOL_RBTABLE_H */
