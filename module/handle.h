/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The encoding of block handles and of their mmap offsets, for the files
 * that make and read them (the domain's, the table of Dionysos blocks)
 * and for KUnit.
 */
#ifndef _BOOTPOOL_HANDLE_H
#define _BOOTPOOL_HANDLE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/sizes.h>
#include <linux/types.h>

#include "bootpool.h"

/*
 * Handles name a block within one domain, and never name another one: a
 * handle carries the block's index (its pool slot, or its entry in the
 * domain's table of Dionysos blocks) and the generation the index had when
 * the block was handed out. Each index counts its own generations; one
 * whose generations are used up is retired, never handed out again (after
 * 2^50 ALLOC+FREE cycles of one pool slot or 2^43 Dionysos blocks in one
 * table entry), so a handle cannot come back.
 *
 *   pool:     0 | generation (51 bits, odd while in use) | slot (12 bits)
 *   Dionysos: 1 | generation (43 bits, from 1)           | index (20 bits)
 *
 * The mmap offset of a block is its index in pages, pool slots first, so
 * that it fits a 32-bit program's mmap2() and off_t: it names the block
 * while the block is allocated, and a later block may reuse it.
 */
#define BOOTPOOL_HANDLE_REMOTE		BIT_ULL(63)
#define BOOTPOOL_HANDLE_SLOT_BITS	12
#define BOOTPOOL_HANDLE_REMOTE_BITS	20
#define BOOTPOOL_HANDLE_REMOTE_LIMIT	((1U << BOOTPOOL_HANDLE_REMOTE_BITS) - 1)
#define BOOTPOOL_POOL_GEN_MAX		(BIT_ULL(63 - BOOTPOOL_HANDLE_SLOT_BITS) - 1)
#define BOOTPOOL_REMOTE_GEN_MAX		(BIT_ULL(63 - BOOTPOOL_HANDLE_REMOTE_BITS) - 1)

static_assert(BOOTPOOL_MAX_POOL_PAGES <= 1U << BOOTPOOL_HANDLE_SLOT_BITS);
static_assert(BOOTPOOL_MAX_REMOTE_MB * (SZ_1M / PAGE_SIZE) <=
	      BOOTPOOL_HANDLE_REMOTE_LIMIT + 1);

static inline u64 bootpool_remote_handle(u32 idx, u64 gen)
{
	return BOOTPOOL_HANDLE_REMOTE | gen << BOOTPOOL_HANDLE_REMOTE_BITS | idx;
}

static inline u32 bootpool_handle_remote_idx(u64 handle)
{
	return handle & BOOTPOOL_HANDLE_REMOTE_LIMIT;
}

static inline u64 bootpool_handle_remote_gen(u64 handle)
{
	return (handle & ~BOOTPOOL_HANDLE_REMOTE) >> BOOTPOOL_HANDLE_REMOTE_BITS;
}

static inline u64 bootpool_pool_handle(unsigned int slot, u64 gen)
{
	return gen << BOOTPOOL_HANDLE_SLOT_BITS | slot;
}

static inline bool bootpool_handle_is_remote(u64 handle)
{
	return handle & BOOTPOOL_HANDLE_REMOTE;
}

static inline unsigned int bootpool_handle_slot(u64 handle)
{
	return handle & ((1U << BOOTPOOL_HANDLE_SLOT_BITS) - 1);
}

static inline u64 bootpool_handle_gen(u64 handle)
{
	return handle >> BOOTPOOL_HANDLE_SLOT_BITS;
}

/*
 * The mmap page offset of the block a handle names: pool slots from page 1
 * (offset 0 names no block), Dionysos blocks after the largest pool.
 */
#define BOOTPOOL_PGOFF_POOL		1UL
#define BOOTPOOL_PGOFF_REMOTE		(BOOTPOOL_PGOFF_POOL + BOOTPOOL_MAX_POOL_PAGES)

static inline unsigned long bootpool_handle_pgoff(u64 handle)
{
	if (bootpool_handle_is_remote(handle))
		return BOOTPOOL_PGOFF_REMOTE +
		       bootpool_handle_remote_idx(handle);
	return BOOTPOOL_PGOFF_POOL + bootpool_handle_slot(handle);
}

#endif /* _BOOTPOOL_HANDLE_H */
