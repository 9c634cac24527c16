// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Dionysos's budget, its shares, and steals between instances
 *
 * ``dionysos_mb`` is what all the instances may grant together. Each has
 * a share of it, an even split with the remainder to instance 0, which a
 * grant charges under the instance's own lock (the inline helpers in
 * dionysos.h). An instance whose share is used up steals what it lacks
 * from a peer that has it free, trying the peers round robin from the one
 * after the last that gave, as Barrelfish's distributed memory server
 * (``mem_serv_dist``) does; a steal is one cross-instance message,
 * counted and traced. Moves of share are serialized by one lock, so that
 * the shares always add up to the budget.
 */
#include <linux/moduleparam.h>
#include <linux/spinlock.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "dionysos.h"

unsigned int bootpool_dionysos_mb = 64;

/*
 * Serializes the moves of share between instances: every steal, and a
 * new ``dionysos_mb``. Taken before an instance's lock, never under one;
 * with it, the instances' ``moved`` add up to zero whenever it is free.
 */
static DEFINE_SPINLOCK(bootpool_share_lock);

/*
 * A new budget is split evenly again: share moved by steals goes back
 * first, under the old budget, so that at no moment do the shares add up
 * to more than the old budget or the new one, whichever is larger.
 */
static int bootpool_param_set_dionysos_mb(const char *val,
					  const struct kernel_param *kp)
{
	struct kernel_param parsed = *kp;
	struct bootpool_dionysos *d;
	unsigned long flags;
	unsigned int mb;
	int ret;

	parsed.arg = &mb;
	ret = bootpool_param_set_uint(val, &parsed, 0, BOOTPOOL_MAX_MB);
	if (ret)
		return ret;
	spin_lock_irqsave(&bootpool_share_lock, flags);
	for_each_dionysos(d) {
		spin_lock(&d->lock);
		WRITE_ONCE(d->moved, 0);
		spin_unlock(&d->lock);
	}
	WRITE_ONCE(bootpool_dionysos_mb, mb);
	spin_unlock_irqrestore(&bootpool_share_lock, flags);
	return 0;
}

static const struct kernel_param_ops bootpool_dionysos_mb_ops = {
	.set = bootpool_param_set_dionysos_mb,
	.get = param_get_uint,
};
module_param_cb(dionysos_mb, &bootpool_dionysos_mb_ops, &bootpool_dionysos_mb,
		0644);
MODULE_PARM_DESC(dionysos_mb,
		 "Dionysos's budget in MiB, 0-1048576 (default 64)");

/*
 * Move @lack pages of share to @d from one peer that has them free,
 * trying the peers round robin from the one after the last that gave, as
 * Barrelfish's distributed memory server steals, and charge @pages to @d
 * in the same hold of its lock, so that no other grant takes the share
 * first. One instance's lock at a time: the peer's, then @d's.
 * Context: bootpool_share_lock held, interrupts disabled.
 * Return: 0 when charged; -EAGAIN when a peer gave but other grants used
 * @d's share meanwhile; -ENOMEM when no peer has @lack pages free.
 */
static int bootpool_steal_from_peer(struct bootpool_dionysos *d,
				    unsigned long lack, unsigned long pages,
				    struct bootpool_steal *steal)
{
	unsigned int n = bootpool_nr_dionysos, i, id;
	struct bootpool_dionysos *v;
	bool given;
	int ret;

	lockdep_assert_held(&bootpool_share_lock);
	for (i = 0; i < n; i++) {
		id = (READ_ONCE(d->rr) + i) % n;
		v = &bootpool_dionysos[id];
		if (v == d)
			continue;
		spin_lock(&v->lock);
		given = !bootpool_share_lack(v, lack);
		if (given)
			WRITE_ONCE(v->moved, v->moved - lack);
		spin_unlock(&v->lock);
		if (!given)
			continue;

		spin_lock(&d->lock);
		WRITE_ONCE(d->moved, d->moved + lack);
		WRITE_ONCE(d->steals, d->steals + 1);
		WRITE_ONCE(d->stolen_pages, d->stolen_pages + lack);
		WRITE_ONCE(d->rr, (id + 1) % n);
		ret = bootpool_share_lack(d, pages) ? -EAGAIN : 0;
		if (!ret)
			WRITE_ONCE(d->granted, d->granted + pages);
		spin_unlock(&d->lock);
		trace_bootpool_steal(d->id, v->id, lack);
		steal->steals++;
		steal->pages += lack;
		if (v->node != d->node)
			steal->cross_node = true;
		return ret;
	}
	return -ENOMEM;
}

/*
 * Charge 2^@order pages to @d's share, stealing from peers what it lacks;
 * a few tries, each stealing what the share lacks by then.
 * Context: no instance's lock held.
 * Return: 0, or -ENOMEM when no peer has the share free.
 */
int bootpool_budget_steal(struct bootpool_dionysos *d, unsigned int order,
			  struct bootpool_steal *steal)
{
	unsigned long pages = 1UL << order, lack, flags;
	unsigned int tries;
	int ret = -ENOMEM;

	for (tries = 0; tries < BOOTPOOL_MAX_DIONYSOS; tries++) {
		spin_lock_irqsave(&bootpool_share_lock, flags);
		spin_lock(&d->lock);
		lack = bootpool_share_lack(d, pages);
		if (!lack)
			WRITE_ONCE(d->granted, d->granted + pages);
		spin_unlock(&d->lock);
		ret = lack ? bootpool_steal_from_peer(d, lack, pages, steal) : 0;
		spin_unlock_irqrestore(&bootpool_share_lock, flags);
		if (ret != -EAGAIN)
			break;
	}
	return ret == -EAGAIN ? -ENOMEM : ret;
}
