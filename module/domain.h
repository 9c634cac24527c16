/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process's domain, for the files that serve it: domain.c (attach,
 * teardown, policy, display), user.c (each user's share of Dionysos),
 * alloc.c (ALLOC, FREE, STATS) and mmap.c (mappings of blocks). The rest
 * of the module sees only the calls in bootpool.h.
 */
#ifndef _BOOTPOOL_DOMAIN_H
#define _BOOTPOOL_DOMAIN_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "bootpool.h"
#include "handle.h"
#include "rbtable.h"

struct cred;

/**
 * struct bootpool_domain - the bootpool state of one process
 * @notifier: one per mm (mmu_notifier_get()); its release callback tears
 *	the domain down when the process exits, however it dies.
 * @files_lock: serializes attach and detach of the domain's descriptors:
 *	protects @files and the (re)initialization of the domain.
 * @files: open descriptors.
 * @lock: protects the fields from @tgid to @stats, the pool's and the
 *	remote blocks' alike, so that an ALLOC or a FREE takes one lock
 *	once. Taken only by the owning process, by its exit, and by debugfs
 *	readers: never shared between processes on the allocation path.
 * @tgid: the owning process's number, for tracing and display.
 * @owner: the owning process: a reference to its thread group's pid, so
 *	that no later process that gets the same number passes for it.
 * @memcg: the memory cgroup of the process at attach, charged for every
 *	page the domain holds.
 * @user: the owner's share of Dionysos (max_user_mb): its uid's, or that
 *	of the user that owns its user namespace (bootpool_share_uid()).
 * @dead: torn down; every operation fails.
 * @sealed: the first ALLOC was made; the policy can no longer change.
 * @policy: an &enum bootpool_policy_id.
 * @switched: the domain switched to Dionysos.
 * @switch_reason: an &enum bootpool_switch_reason.
 * @switch_pages_left: free pool pages at the switch.
 * @nr_pages: pages in the pool.
 * @nr_free: entries on @free_stack.
 * @pages: the pool's pages, indexed by slot.
 * @gen: generation of each slot's handle: odd while in use, even while
 *	free, past %BOOTPOOL_POOL_GEN_MAX once retired.
 * @free_stack: free slots, most recently freed on top.
 * @dirty: slots whose page was mapped since it was last zeroed.
 * @pool_maps: mappings of each slot's page; allocated at the first mmap.
 * @rb: the Dionysos blocks held.
 * @gen_base: where the generations of new slots and entries start
 *	(debugfs ``gen_base`` at attach, for tests; normally 0).
 * @remote_pages: Dionysos pages held or being requested, including those
 *	of freed blocks kept by their mappings.
 * @kept_pages: pages of blocks freed while mapped, held until their last
 *	mapping goes (pool slots and Dionysos pages alike).
 * @spare_req: the request of the domain's last remote ALLOC, kept for the
 *	next one (forward.c); freed at teardown.
 * @stats: counters reported by STATS.
 * @node: entry in the list of domains (debugfs), under bootpool_domains_lock.
 */
struct bootpool_domain {
	struct mmu_notifier notifier;
	struct mutex files_lock;	/* protects @files */
	unsigned int files;
	spinlock_t lock;	/* protects @tgid to @stats */
	pid_t tgid;
	struct pid *owner;
	struct mem_cgroup *memcg;
	struct bootpool_user *user;
	bool dead;
	bool sealed;
	u32 policy;
	bool switched;
	u32 switch_reason;
	u32 switch_pages_left;
	unsigned int nr_pages;
	unsigned int nr_free;
	struct page **pages;
	u64 *gen;
	u16 *free_stack;
	unsigned long *dirty;
	unsigned int *pool_maps;
	struct bootpool_rbtable rb;
	u64 gen_base;
	unsigned long remote_pages;
	unsigned long kept_pages;
	struct bootpool_request *spare_req;
	struct bootpool_stats stats;
	struct list_head node;
};

/*
 * What a domain allocates at attach: charged to its memcg, and past
 * memory.max a failed open (-ENOMEM) rather than an OOM kill.
 */
#define BOOTPOOL_GFP_ATTACH	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

/* ---- user.c ---- */

/* ``max_user_mb`` (user.c). */
extern unsigned int bootpool_max_user_mb;

/**
 * struct bootpool_user - what the domains of one user hold from Dionysos
 * @node: entry in bootpool_users.
 * @uid: the user.
 * @ref: live domains of the user.
 * @pages: Dionysos pages they hold or are requesting, against
 *	``max_user_mb``.
 */
struct bootpool_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_long_t pages;
};

kuid_t bootpool_share_uid(const struct cred *cred);
struct bootpool_user *bootpool_user_get(kuid_t uid);
void bootpool_user_put(struct bootpool_user *u);

/* Take @pages of the user's share of Dionysos; false past max_user_mb. */
static inline bool bootpool_user_charge(struct bootpool_user *u,
					unsigned long pages)
{
	unsigned long cap = (unsigned long)READ_ONCE(bootpool_max_user_mb)
			    << (20 - PAGE_SHIFT);

	if (atomic_long_add_return(pages, &u->pages) <= cap)
		return true;
	atomic_long_sub(pages, &u->pages);
	return false;
}

static inline void bootpool_user_uncharge(struct bootpool_user *u,
					  unsigned long pages)
{
	atomic_long_sub(pages, &u->pages);
}

/* ---- alloc.c ---- */

void bootpool_domain_set_switch(struct bootpool_domain *dom, u32 reason)
	__must_hold(&dom->lock);

/* The slot named by @handle if it is in use by that handle, else -1. */
static __always_inline int bootpool_pool_slot(struct bootpool_domain *dom,
					      u64 handle)
	__must_hold(&dom->lock)
{
	unsigned int slot = bootpool_handle_slot(handle);
	u64 gen = bootpool_handle_gen(handle);

	if (dom->dead || slot >= dom->nr_pages || !(gen & 1))
		return -1;
	slot = array_index_nospec(slot, dom->nr_pages);
	if (dom->gen[slot] != gen)
		return -1;
	return slot;
}

void bootpool_pool_recycle(struct bootpool_domain *dom, unsigned int slot);
void bootpool_remote_erase(struct bootpool_domain *dom, u32 idx,
			   const struct bootpool_remote_block *blk)
	__must_hold(&dom->lock);
void bootpool_remote_give_back(struct bootpool_domain *dom,
			       const struct bootpool_remote_block *blk);

#endif /* _BOOTPOOL_DOMAIN_H */
