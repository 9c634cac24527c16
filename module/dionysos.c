// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Dionysos, the memory service
 *
 * Dionysos is one kernel thread, named ``dionysos`` and bound to
 * ``dionysos_cpu``. It grants blocks of a power-of-two number of pages out
 * of a budget of ``dionysos_mb`` MiB, like the buddy allocator of the
 * Barrelfish memory service it is named after; the pages themselves come
 * from the kernel's buddy allocator.
 *
 * A request reaches Dionysos on its CPU in one of two contexts: in the IPI
 * handler at the end of its last hop, or in the ioctl of a task that runs
 * on ``dionysos_cpu``. Neither may sleep or allocate, so Dionysos keeps a
 * reserve of zeroed blocks of orders 0 to 3 from which such a request is
 * served on the spot (bootpool_dionysos_grant_atomic()). Like the reserves
 * the Barrelfish memory service kept so that serving a request never needs
 * memory itself, the reserve is refilled by the thread, in process context,
 * whenever it falls below ``reserve_blocks`` per order; the thread fills it
 * to twice that, so that a run of requests and frees rarely wakes it. A
 * request the reserve cannot serve (a larger order, or an empty reserve) is
 * queued for the thread, which allocates with GFP_KERNEL and replies.
 *
 * Freed blocks go back to Dionysos's budget at once. A block whose pages no
 * one else holds is zeroed if it was ever mapped (a block never mapped was
 * never written) and refills the reserve if it has room; all
 * other blocks go back to the page allocator when their last user, for
 * instance a mapping, lets go.
 */
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "bootpool.h"
#include "bootpool_trace.h"

#define BOOTPOOL_RESERVE_MAX	16	/* capacity per order */

/**
 * struct bootpool_dionysos - the memory service
 * @task: the ``dionysos`` thread.
 * @lock: protects @reserve, @nr, @granted and @served_atomic; taken from
 *	the IPI handler, so always with interrupts disabled. A grant from the
 *	reserve and a return take it once, and no other shared cache line:
 *	the budget is charged under it.
 * @reserve: zeroed, split blocks ready to grant, per order.
 * @nr: blocks in @reserve, per order.
 * @granted: pages granted and not yet returned (against the budget).
 * @served_atomic: requests served from the reserve.
 * @depth: requests on their way to Dionysos and not yet answered. A
 *	request made on ``dionysos_cpu`` and served there at once never waits
 *	in a queue: it is not counted, but it is seen by @max_depth.
 * @max_depth: the largest @depth seen.
 * @queue: requests for the thread.
 * @reap: replies whose requester gave up, for the thread to take back.
 * @served_thread: requests served by the thread (written by it only).
 * @refill_failed: the last refill could not allocate; back off.
 */
struct bootpool_dionysos {
	struct task_struct *task;
	spinlock_t lock;	/* protects the four fields below */
	struct page *reserve[BOOTPOOL_RESERVE_ORDERS][BOOTPOOL_RESERVE_MAX];
	unsigned int nr[BOOTPOOL_RESERVE_ORDERS];
	unsigned long granted;
	unsigned long served_atomic;
	atomic_t depth;
	atomic_t max_depth;
	struct llist_head queue;
	struct llist_head reap;
	unsigned long served_thread;
	bool refill_failed;
};

static struct bootpool_dionysos dionysos = {
	.lock = __SPIN_LOCK_UNLOCKED(dionysos.lock),
};

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/*
 * fail_dionysos (Documentation/fault-injection/): a fault point for tests.
 * When it fires, Dionysos refuses the request with -ENOMEM, as if its
 * budget were spent: in bootpool_dionysos_grant_atomic() for the orders
 * the reserve serves, and in the thread for the others.
 */
static DECLARE_FAULT_ATTR(bootpool_fail_dionysos);

static bool bootpool_dionysos_should_fail(unsigned int order)
{
	return should_fail(&bootpool_fail_dionysos, PAGE_SIZE << order);
}

/**
 * bootpool_dionysos_debugfs_init() - add the fail_dionysos fault attribute
 * @dir: bootpool's debugfs directory.
 *
 * Context: process context, module init.
 */
void bootpool_dionysos_debugfs_init(struct dentry *dir)
{
	fault_create_debugfs_attr("fail_dionysos", dir,
				  &bootpool_fail_dionysos);
}
#else
static bool bootpool_dionysos_should_fail(unsigned int order)
{
	return false;
}

void bootpool_dionysos_debugfs_init(struct dentry *dir)
{
}
#endif

static unsigned int bootpool_reserve_target(void)
{
	return min_t(unsigned int, READ_ONCE(bootpool_reserve_blocks),
		     BOOTPOOL_RESERVE_MAX / 2);
}

static unsigned long bootpool_budget_pages(void)
{
	return (unsigned long)READ_ONCE(bootpool_dionysos_mb)
		<< (20 - PAGE_SHIFT);
}

/* Context: dionysos.lock held. */
static int bootpool_budget_charge(unsigned int order)
{
	unsigned long pages = 1UL << order;

	lockdep_assert_held(&dionysos.lock);
	if (dionysos.granted + pages > bootpool_budget_pages())
		return -ENOMEM;
	WRITE_ONCE(dionysos.granted, dionysos.granted + pages);
	return 0;
}

/* Context: dionysos.lock held. */
static void bootpool_budget_uncharge(unsigned int order)
{
	lockdep_assert_held(&dionysos.lock);
	WRITE_ONCE(dionysos.granted, dionysos.granted - (1UL << order));
}

static void bootpool_block_put(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		put_page(page + i);
}

static bool bootpool_reserve_low(void)
{
	unsigned int target = bootpool_reserve_target();
	int order;

	for (order = 0; order < BOOTPOOL_RESERVE_ORDERS; order++)
		if (READ_ONCE(dionysos.nr[order]) < target)
			return true;
	return false;
}

static void bootpool_dionysos_note_depth(int depth)
{
	int max = atomic_read(&dionysos.max_depth);

	while (depth > max &&
	       !atomic_try_cmpxchg(&dionysos.max_depth, &max, depth))
		;
}

static void bootpool_dionysos_served(struct bootpool_request *req, int status)
{
	int depth = atomic_fetch_dec(&dionysos.depth);

	trace_bootpool_dionysos_serve(req->tgid, req->order, depth, status);
}

/**
 * bootpool_dionysos_queue_enter() - account a request on its way
 *
 * Called by the requester before the request leaves; Dionysos accounts
 * the answer. The depth seen here is what ``max_queue_depth`` records.
 *
 * Context: any.
 */
void bootpool_dionysos_queue_enter(void)
{
	bootpool_dionysos_note_depth(atomic_inc_return(&dionysos.depth));
}

/*
 * Take a block of @order from the reserve, charged to the budget.
 * Return: 0 with *@page set, -ENOMEM when the budget is exhausted or the
 * fault point fires, -EAGAIN when the thread must serve it.
 */
static int bootpool_reserve_take(unsigned int order, struct page **page)
{
	unsigned long flags;
	unsigned int n;
	bool low;
	int ret;

	if (order >= BOOTPOOL_RESERVE_ORDERS)
		return -EAGAIN;
	if (bootpool_dionysos_should_fail(order))
		return -ENOMEM;

	spin_lock_irqsave(&dionysos.lock, flags);
	if (!dionysos.nr[order]) {
		spin_unlock_irqrestore(&dionysos.lock, flags);
		return -EAGAIN;
	}
	ret = bootpool_budget_charge(order);
	if (!ret) {
		n = dionysos.nr[order] - 1;
		*page = dionysos.reserve[order][n];
		WRITE_ONCE(dionysos.nr[order], n);
		WRITE_ONCE(dionysos.served_atomic, dionysos.served_atomic + 1);
	}
	low = dionysos.nr[order] < bootpool_reserve_target();
	spin_unlock_irqrestore(&dionysos.lock, flags);

	if (low)
		wake_up_process(dionysos.task);
	return ret;
}

/**
 * bootpool_dionysos_grant_atomic() - serve a request from the reserve
 * @req: the request, counted by bootpool_dionysos_queue_enter(); on
 *	success @req->page is set.
 *
 * Context: in the IPI handler on ``dionysos_cpu``, or there with
 * preemption disabled. Never sleeps, never allocates.
 * Return: 0 when served, -ENOMEM when the budget is exhausted (the request
 * is answered), -EAGAIN when the thread must serve it (not answered).
 */
int bootpool_dionysos_grant_atomic(struct bootpool_request *req)
{
	int ret = bootpool_reserve_take(req->order, &req->page);

	if (ret != -EAGAIN)
		bootpool_dionysos_served(req, ret);
	return ret;
}

/**
 * bootpool_dionysos_grant_local() - serve a request made on Dionysos's CPU
 * @order: log2 of the pages wanted.
 * @page: set to the granted block.
 *
 * The request is served on the spot, so it never waits in a queue: it is
 * not counted in the queue depth, only compared with the deepest seen.
 *
 * Context: on ``dionysos_cpu`` with preemption disabled.
 * Return: like bootpool_dionysos_grant_atomic(); on -EAGAIN the caller
 * sends the request to the thread.
 */
int bootpool_dionysos_grant_local(unsigned int order, struct page **page)
{
	int depth = atomic_read(&dionysos.depth) + 1;
	int ret;

	bootpool_dionysos_note_depth(depth);
	ret = bootpool_reserve_take(order, page);
	if (ret != -EAGAIN)
		trace_bootpool_dionysos_serve(current->tgid, order, depth, ret);
	return ret;
}

/**
 * bootpool_dionysos_refuse() - answer a request that cannot reach Dionysos
 * @req: the request.
 * @status: a negative errno for the requester.
 *
 * Context: any, including hard interrupt.
 */
void bootpool_dionysos_refuse(struct bootpool_request *req, int status)
{
	bootpool_dionysos_served(req, status);
	bootpool_request_complete(req, status);
}

/**
 * bootpool_dionysos_enqueue() - hand a request to the ``dionysos`` thread
 * @req: a request the reserve could not serve.
 *
 * Context: any, including hard interrupt.
 */
void bootpool_dionysos_enqueue(struct bootpool_request *req)
{
	llist_add(&req->llnode, &dionysos.queue);
	wake_up_process(dionysos.task);
}

/**
 * bootpool_dionysos_reap() - take back the reply of a requester that died
 * @req: the abandoned request; Dionysos frees it and what it granted.
 *
 * Context: any, including hard interrupt.
 */
void bootpool_dionysos_reap(struct bootpool_request *req)
{
	llist_add(&req->llnode, &dionysos.reap);
	wake_up_process(dionysos.task);
}

/**
 * bootpool_dionysos_release() - return a granted block
 * @page: first page of the block.
 * @order: log2 of its pages.
 * @dirty: the block may hold user data (it was mapped); it is zeroed
 *	before it can refill the reserve. A block never mapped was never
 *	written: it is still zero.
 *
 * A block whose pages no one else holds refills the reserve if there is
 * room; any other goes back to the page allocator when its last user lets
 * go.
 *
 * Context: process context.
 */
void bootpool_dionysos_release(struct page *page, unsigned int order,
			       bool dirty)
{
	bool reuse = order < BOOTPOOL_RESERVE_ORDERS &&
		     READ_ONCE(dionysos.nr[order]) < 2 * bootpool_reserve_target();
	unsigned long flags;
	unsigned int i;

	for (i = 0; reuse && i < (1U << order); i++)
		if (page_count(page + i) != 1)
			reuse = false;
	if (reuse && dirty)
		for (i = 0; i < (1U << order); i++)
			clear_highpage(page + i);

	spin_lock_irqsave(&dionysos.lock, flags);
	bootpool_budget_uncharge(order);
	if (reuse && dionysos.nr[order] < 2 * bootpool_reserve_target()) {
		dionysos.reserve[order][dionysos.nr[order]] = page;
		WRITE_ONCE(dionysos.nr[order], dionysos.nr[order] + 1);
		page = NULL;
	}
	spin_unlock_irqrestore(&dionysos.lock, flags);
	if (page)
		bootpool_block_put(page, order);
}

static struct page *bootpool_dionysos_alloc_block(unsigned int order)
{
	struct page *page;

	page = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
	if (page && order)
		split_page(page, order);
	return page;
}

static void bootpool_dionysos_serve_queue(void)
{
	struct bootpool_request *req, *next;
	struct llist_node *list;
	int ret;

	list = llist_reverse_order(llist_del_all(&dionysos.queue));
	llist_for_each_entry_safe(req, next, list, llnode) {
		ret = -ENOMEM;
		if (!bootpool_dionysos_should_fail(req->order)) {
			spin_lock_irq(&dionysos.lock);
			ret = bootpool_budget_charge(req->order);
			spin_unlock_irq(&dionysos.lock);
		}
		if (!ret) {
			req->page = bootpool_dionysos_alloc_block(req->order);
			if (!req->page) {
				spin_lock_irq(&dionysos.lock);
				bootpool_budget_uncharge(req->order);
				spin_unlock_irq(&dionysos.lock);
				ret = -ENOMEM;
			}
		}
		WRITE_ONCE(dionysos.served_thread, dionysos.served_thread + 1);
		bootpool_dionysos_served(req, ret);
		bootpool_request_complete(req, ret);
	}
}

static void bootpool_dionysos_reap_all(void)
{
	struct bootpool_request *req, *next;
	struct llist_node *list;

	list = llist_del_all(&dionysos.reap);
	llist_for_each_entry_safe(req, next, list, llnode) {
		if (!req->status && req->page)
			bootpool_dionysos_release(req->page, req->order, false);
		bootpool_count(BOOTPOOL_CNT_ABANDONED, 1);
		kfree(req);
	}
}

static void bootpool_dionysos_refill(void)
{
	unsigned int target = bootpool_reserve_target();
	unsigned long flags;
	struct page *page;
	int order;

	dionysos.refill_failed = false;
	for (order = 0; order < BOOTPOOL_RESERVE_ORDERS; order++) {
		/* Fill up, so that the next wake-up is far away. */
		while (READ_ONCE(dionysos.nr[order]) < 2 * target) {
			page = bootpool_dionysos_alloc_block(order);
			if (!page) {
				dionysos.refill_failed = true;
				return;
			}
			spin_lock_irqsave(&dionysos.lock, flags);
			if (dionysos.nr[order] < BOOTPOOL_RESERVE_MAX) {
				dionysos.reserve[order][dionysos.nr[order]] =
					page;
				WRITE_ONCE(dionysos.nr[order],
					   dionysos.nr[order] + 1);
				page = NULL;
			}
			spin_unlock_irqrestore(&dionysos.lock, flags);
			if (page)
				bootpool_block_put(page, order);
		}
	}
}

static bool bootpool_dionysos_has_work(void)
{
	return !llist_empty(&dionysos.queue) || !llist_empty(&dionysos.reap) ||
	       (!dionysos.refill_failed && bootpool_reserve_low());
}

static int bootpool_dionysos_thread(void *unused)
{
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!bootpool_dionysos_has_work()) {
			/* After a failed refill, try again a little later. */
			if (dionysos.refill_failed)
				schedule_timeout(HZ / 10);
			else
				schedule();
			dionysos.refill_failed = false;
			continue;
		}
		__set_current_state(TASK_RUNNING);
		bootpool_dionysos_serve_queue();
		bootpool_dionysos_reap_all();
		bootpool_dionysos_refill();
		cond_resched();
	}
	return 0;
}

/**
 * bootpool_dionysos_start() - start the ``dionysos`` thread
 *
 * kthread_create_on_cpu() would name the thread ``dionysos/N``; the thread
 * is created under its own name and bound before its first wake-up.
 *
 * Context: process context, module init.
 * Return: 0, or a negative errno.
 */
int bootpool_dionysos_start(void)
{
	struct task_struct *task;

	task = kthread_create(bootpool_dionysos_thread, NULL, "dionysos");
	if (IS_ERR(task))
		return PTR_ERR(task);
	kthread_bind(task, bootpool_dionysos_cpu);
	dionysos.task = task;
	wake_up_process(task);
	return 0;
}

/**
 * bootpool_dionysos_stop() - stop the thread and give back the reserve
 *
 * Called once no process can send a request any more; replies still in
 * flight (of requesters that died) are waited for and taken back.
 *
 * Context: process context, module exit.
 */
void bootpool_dionysos_stop(void)
{
	int order;

	while (atomic_read(&dionysos.depth) || !llist_empty(&dionysos.queue))
		msleep(20);
	kthread_stop(dionysos.task);
	bootpool_dionysos_serve_queue();
	bootpool_dionysos_reap_all();

	for (order = 0; order < BOOTPOOL_RESERVE_ORDERS; order++) {
		while (dionysos.nr[order]) {
			struct page *page;

			page = dionysos.reserve[order][--dionysos.nr[order]];
			bootpool_block_put(page, order);
		}
	}
	WARN(dionysos.granted, "bootpool: %lu Dionysos pages not returned\n",
	     dionysos.granted);
}

/**
 * bootpool_dionysos_max_depth() - deepest queue seen
 *
 * Context: any.
 * Return: the largest number of requests outstanding at Dionysos.
 */
unsigned long bootpool_dionysos_max_depth(void)
{
	return atomic_read(&dionysos.max_depth);
}

/**
 * bootpool_dionysos_reset_max_depth() - restart the deepest-queue record
 *
 * Context: any.
 */
void bootpool_dionysos_reset_max_depth(void)
{
	atomic_set(&dionysos.max_depth, atomic_read(&dionysos.depth));
}

/**
 * bootpool_dionysos_show() - print Dionysos's state for debugfs
 * @m: the seq_file.
 *
 * Context: process context.
 */
void bootpool_dionysos_show(struct seq_file *m)
{
	int order;

	seq_printf(m, "cpu %u\n", bootpool_dionysos_cpu);
	seq_printf(m, "budget_pages %lu\n", bootpool_budget_pages());
	seq_printf(m, "granted_pages %lu\n", READ_ONCE(dionysos.granted));
	seq_printf(m, "queue_depth %d\n", atomic_read(&dionysos.depth));
	seq_printf(m, "max_queue_depth %d\n",
		   atomic_read(&dionysos.max_depth));
	seq_printf(m, "served_from_reserve %lu\n",
		   READ_ONCE(dionysos.served_atomic));
	seq_printf(m, "served_by_thread %lu\n",
		   READ_ONCE(dionysos.served_thread));
	for (order = 0; order < BOOTPOOL_RESERVE_ORDERS; order++)
		seq_printf(m, "reserve_order%d %u\n", order,
			   READ_ONCE(dionysos.nr[order]));
}
