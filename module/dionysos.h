/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Dionysos's state, for its three files: dionysos.c (instances, grants,
 * reserve), dionysos_share.c (the budget's shares, steals) and
 * dionysos_thread.c (the thread, its work, its CPU). The rest of the
 * module sees only the calls in bootpool.h.
 */
#ifndef _BOOTPOOL_DIONYSOS_H
#define _BOOTPOOL_DIONYSOS_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpuhotplug.h>
#include <linux/errno.h>
#include <linux/llist.h>
#include <linux/lockdep.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <asm/page.h>

struct bootpool_steal;
struct mem_cgroup;
struct page;
struct task_struct;

/* Orders (1 to 8 pages) served without the thread, in atomic context. */
#define BOOTPOOL_ATOMIC_ORDERS	4
/* Freed blocks kept per order for the next grant to the same memcg. */
#define BOOTPOOL_RESERVE_MAX	4

/**
 * struct bootpool_reserved - a freed block kept for reuse
 * @page: first of its pages, zeroed, each holding its own reference.
 * @memcg: the memcg its pages are charged to (a reference).
 */
struct bootpool_reserved {
	struct page *page;
	struct mem_cgroup *memcg;
};

/**
 * struct bootpool_dionysos - one instance of the memory service
 * @id: the instance's index in bootpool_dionysos[].
 * @home_cpu: the CPU it runs on while that CPU is online.
 * @node: @home_cpu's NUMA node, which requests are routed by.
 * @task: the instance's ``dionysos`` thread; NULL once stopped.
 * @cpu: the CPU the instance serves on: @home_cpu, or while that is
 *	offline the one it moved to. Written only by a hotplug callback,
 *	running on the CPU going offline (which Dionysos leaves) or coming
 *	online (which it reaches): a reader on that CPU with preemption or
 *	interrupts disabled sees no change. A reader on another CPU may see
 *	it change at any moment; what it does on the old value (serve on the
 *	spot, send a last hop) stays right, since a grant is made under
 *	@lock wherever it runs and the reply names the CPU that served it.
 * @moves: how often Dionysos moved (hotplug callbacks only).
 * @started: the thread has disabled migration.
 * @arrived: the thread has disabled migration again on the CPU it moved to.
 * @lock: protects @reserve, @nr, @granted, @moved, @steals,
 *	@stolen_pages and @served_atomic; taken from the IPI handler, so
 *	always with interrupts disabled. A grant and a return take it once,
 *	and no other shared cache line: the budget is charged under it. A
 *	steal takes a peer's lock alone, never two at once.
 * @reserve: freed blocks kept for reuse, per order.
 * @nr: blocks in @reserve, per order.
 * @granted: pages granted and not yet returned, against the instance's
 *	share (bootpool_share_pages()).
 * @moved: pages of share stolen from peers, less those peers stole from
 *	this one; the shares' sum stays the budget.
 * @rr: the peer the next steal tries first (round robin).
 * @steals: steals this instance made, one a peer it took share from.
 * @stolen_pages: pages of share it took so.
 * @served_atomic: requests served in the IPI handler or on the spot.
 * @work: work for the thread (bootpool_dionysos_queue_work()).
 * @served_thread: requests served by the thread (written by it only).
 * @off_node_pages: pages of the new blocks it allocated that are not on
 *	@node (that node had none free); its reserve's are not counted again.
 */
struct bootpool_dionysos {
	unsigned int id;
	unsigned int home_cpu;
	int node;
	struct task_struct *task;
	unsigned int cpu;
	unsigned long moves;
	struct completion started;
	struct completion arrived;
	spinlock_t lock;	/* protects the eight fields below */
	struct bootpool_reserved reserve[BOOTPOOL_ATOMIC_ORDERS]
					[BOOTPOOL_RESERVE_MAX];
	unsigned int nr[BOOTPOOL_ATOMIC_ORDERS];
	unsigned long granted;
	long moved;
	unsigned int rr;
	unsigned long steals;
	unsigned long stolen_pages;
	unsigned long served_atomic;
	struct llist_head work;
	unsigned long served_thread;
	atomic_long_t off_node_pages;
};

/* The instances, bootpool_nr_dionysos of them, fixed at load. */
extern struct bootpool_dionysos bootpool_dionysos[BOOTPOOL_MAX_DIONYSOS];
extern unsigned int bootpool_nr_dionysos;
/* The ``dionysos_cpu`` parameter: the single Dionysos's home CPU. */
extern unsigned int bootpool_dionysos_cpu;
/* The ``dionysos_mb`` parameter: the budget of all instances, in MiB. */
extern unsigned int bootpool_dionysos_mb;

int bootpool_dionysos_setup(void);

#define for_each_dionysos(d)						\
	for ((d) = bootpool_dionysos;					\
	     (d) < bootpool_dionysos + bootpool_nr_dionysos; (d)++)

/*
 * The budget and its shares, which a grant charges under the instance's
 * lock alone; what a share lacks is stolen from a peer
 * (dionysos_share.c).
 */
/* ``dionysos_mb`` in pages: what all the instances may grant together. */
static inline unsigned long bootpool_budget_pages(void)
{
	return (unsigned long)READ_ONCE(bootpool_dionysos_mb)
		<< (20 - PAGE_SHIFT);
}

/*
 * @d's share of the budget: an even split of ``dionysos_mb`` between the
 * instances, the remainder to instance 0, plus what it stole less what
 * was stolen from it. Context: @d's lock held, or a racy read for show.
 */
static inline unsigned long
bootpool_share_pages(const struct bootpool_dionysos *d)
{
	unsigned long total = bootpool_budget_pages();
	unsigned int n = bootpool_nr_dionysos;
	long share = total / n + (d->id ? 0 : total % n) + READ_ONCE(d->moved);

	return share > 0 ? share : 0;
}

/* Pages @d's share lacks to grant @pages more. Context: @d's lock held. */
static inline unsigned long
bootpool_share_lack(const struct bootpool_dionysos *d, unsigned long pages)
{
	unsigned long share = bootpool_share_pages(d);

	lockdep_assert_held(&d->lock);
	return d->granted + pages > share ? d->granted + pages - share : 0;
}

/* Context: @d's lock held. */
static inline int bootpool_budget_charge(struct bootpool_dionysos *d,
					 unsigned int order)
{
	unsigned long pages = 1UL << order;

	if (bootpool_share_lack(d, pages))
		return -ENOMEM;
	WRITE_ONCE(d->granted, d->granted + pages);
	return 0;
}

/* Context: @d's lock held. */
static inline void bootpool_budget_uncharge(struct bootpool_dionysos *d,
					    unsigned int order)
{
	lockdep_assert_held(&d->lock);
	WRITE_ONCE(d->granted, d->granted - (1UL << order));
}

int bootpool_budget_steal(struct bootpool_dionysos *d, unsigned int order,
			  struct bootpool_steal *steal);

#endif /* _BOOTPOOL_DIONYSOS_H */
