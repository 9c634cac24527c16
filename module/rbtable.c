// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: the table of a domain's Dionysos blocks
 *
 * A domain keeps its Dionysos blocks in a table like the pool's slots:
 * one word an entry (page frame, present, mapped and freed flags,
 * granting instance and order), the generation of the entry's handle
 * beside it, the count of the block's mappings, and a stack of free
 * entries, so that a remote ALLOC+FREE allocates no memory for
 * bookkeeping once the table holds an entry. The table grows by
 * doubling, allocated without its owner's lock (bootpool_rbtable_grow());
 * its owner grows it before it takes the lock to insert, so that no
 * function here drops a lock its caller took.
 */
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "bootpool.h"
#include "handle.h"
#include "rbtable.h"

#define BOOTPOOL_RB_MIN		16	/* entries in a new table */

/* An entry has room for the id of every instance. */
static_assert(order_base_2(BOOTPOOL_MAX_DIONYSOS) <= BOOTPOOL_RB_INST_BITS);

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
		bootpool_dionysos_return(blk.instance, blk.page, blk.order);
		blocks++;
	}
	bootpool_rbtable_free(t);
	return blocks;
}
