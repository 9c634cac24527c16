/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A domain's table of Dionysos blocks (rbtable.c).
 */
#ifndef _BOOTPOOL_RBTABLE_H
#define _BOOTPOOL_RBTABLE_H

#include <linux/compiler.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct page;

/**
 * struct bootpool_remote_block - a block granted by Dionysos
 * @page: first of its 2^@order pages; the pages are split, each holds its
 *	own reference.
 * @order: log2 of the number of pages.
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

long bootpool_rbtable_lookup(const struct bootpool_rbtable *t, u64 handle,
			     struct bootpool_remote_block *blk);
void bootpool_rbtable_get(const struct bootpool_rbtable *t, u32 idx,
			  struct bootpool_remote_block *blk);
u64 bootpool_rbtable_handle(const struct bootpool_rbtable *t,
			    unsigned long idx);
int bootpool_rbtable_grow(struct bootpool_rbtable *t, spinlock_t *lock,
			  u64 gen_base);
int bootpool_rbtable_insert(struct bootpool_rbtable *t,
			    struct bootpool_remote_block *blk, u32 *idx);
void bootpool_rbtable_mark_mapped(struct bootpool_rbtable *t, u32 idx);
void bootpool_rbtable_mark_freed(struct bootpool_rbtable *t, u32 idx);
void bootpool_rbtable_erase(struct bootpool_rbtable *t, u32 idx);
unsigned int bootpool_rbtable_destroy(struct bootpool_rbtable *t);

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
