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
 * Dionysos is the layer below forward.c, which owns a request's life and
 * brings it here; Dionysos knows nothing of requests. It offers grants
 * (bootpool_dionysos_grant_atomic() without sleeping,
 * bootpool_dionysos_grant() on its thread), the return of what it granted
 * (bootpool_dionysos_release(), bootpool_dionysos_return(),
 * bootpool_dionysos_purge()), and a way to run work on its thread and CPU
 * (bootpool_dionysos_queue_work()), as a kthread_worker does. This file
 * sets the instances up and routes each node to one, grants and takes
 * back; dionysos_share.c splits the budget into the instances' shares and
 * moves share between them (steals); dionysos_thread.c runs the thread,
 * its work and its moves from CPU to CPU.
 *
 * A request reaches Dionysos on its CPU in one of two contexts: in the IPI
 * handler at the end of its last hop, or in the ioctl of a task that runs
 * on ``dionysos_cpu``. Neither may sleep, so there a block of up to 8
 * pages is taken from the page allocator without reclaim (GFP_NOWAIT); a
 * request that this cannot serve (a larger order, or no page free without
 * reclaim) goes to the thread, as work of forward.c's, and the thread
 * grants it with reclaim (bootpool_dionysos_grant()).
 *
 * Every block is charged to the memory cgroup of the domain it is granted
 * to, whichever context allocates it: the allocation runs inside
 * set_active_memcg() with the requester's memcg, which the kernel honours
 * in the IPI handler and in the thread alike. The charge stays with the
 * pages until they are freed.
 *
 * A charge cannot move from one page to another, nor be added to a page
 * already allocated (the kernel exports no call for it), so Dionysos
 * cannot keep a reserve allocated ahead of time for whoever asks next.
 * It keeps freed blocks instead: a freed block of up to 8 pages that no
 * one else holds goes, zeroed if it was ever mapped, into a small reserve
 * with the memcg it is charged to, and serves the next request of that
 * order charged to the same memcg, without allocating. The reserve holds
 * at most ``BOOTPOOL_RESERVE_MAX`` blocks per order; its pages count
 * against no cap and no budget, but stay charged to their memcg, and a
 * memcg's blocks leave it when a domain of that memcg is torn down. Only
 * a live domain's FREE or unmap puts a block there: the reply of a
 * requester that died goes back to the page allocator, as its domain may
 * be gone, so the reserve never keeps a memcg whose domains all are.
 * Other freed blocks go back to the page allocator, which uncharges them
 * (a block's mappings hold no page reference: bootpool_domain_mmap()).
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/error-injection.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stringify.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "dionysos.h"

/* Where Dionysos lives. */
unsigned int bootpool_dionysos_cpu;

module_param_named(dionysos_cpu, bootpool_dionysos_cpu, uint, 0444);
MODULE_PARM_DESC(dionysos_cpu, "CPU Dionysos runs on (default 0)");
static char *bootpool_dionysos_cpus = "";
module_param_named(dionysos_cpus, bootpool_dionysos_cpus, charp, 0444);
MODULE_PARM_DESC(dionysos_cpus,
		 "CPUs that each run a Dionysos instance, a list such as 0,4, or node: one on each node's first online CPU (default empty: one on dionysos_cpu)");

struct bootpool_dionysos bootpool_dionysos[BOOTPOOL_MAX_DIONYSOS];
unsigned int bootpool_nr_dionysos;
/* The instance that serves each node: its own, else the nearest. */
static u8 bootpool_dionysos_by_node[MAX_NUMNODES];

/**
 * bootpool_dionysos_route() - the instance that serves a CPU's requests
 * @cpu: the CPU the request is made on.
 *
 * The instance whose home CPU is on @cpu's node; for a node with none,
 * the nearest by node_distance(), the lowest id among equals.
 *
 * Context: any.
 * Return: the instance.
 */
struct bootpool_dionysos *bootpool_dionysos_route(int cpu)
{
	return &bootpool_dionysos[bootpool_dionysos_by_node[cpu_to_node(cpu)]];
}

/**
 * bootpool_dionysos_count() - how many instances run
 *
 * Context: any, once the module is loaded.
 * Return: the number of instances, 1 to %BOOTPOOL_MAX_DIONYSOS.
 */
unsigned int bootpool_dionysos_count(void)
{
	return bootpool_nr_dionysos;
}

/**
 * bootpool_dionysos_node() - the node an instance serves now
 * @d: the instance.
 *
 * Context: any.
 * Return: the NUMA node of the CPU it serves on.
 */
int bootpool_dionysos_node(const struct bootpool_dionysos *d)
{
	return cpu_to_node(bootpool_dionysos_serving_cpu(d));
}

/*
 * Add an instance whose home is @cpu. Return: 0, or -EINVAL with the
 * reason in *@why. Context: module init, the hotplug lock held.
 */
static int bootpool_dionysos_add(unsigned int cpu, const char **why)
{
	struct bootpool_dionysos *d;

	/* First, so that a ninth CPU is named as such, online or not. */
	if (bootpool_nr_dionysos == BOOTPOOL_MAX_DIONYSOS) {
		*why = "more than " __stringify(BOOTPOOL_MAX_DIONYSOS)
		       " instances, the most bootpool runs";
		return -EINVAL;
	}
	if (cpu >= nr_cpu_ids || !cpu_online(cpu)) {
		*why = "a CPU that is not online";
		return -EINVAL;
	}
	for_each_dionysos(d) {
		if (d->home_cpu == cpu) {
			*why = "a CPU named twice";
			return -EINVAL;
		}
	}
	d = &bootpool_dionysos[bootpool_nr_dionysos++];
	d->id = d - bootpool_dionysos;
	d->home_cpu = cpu;
	d->node = cpu_to_node(cpu);
	return 0;
}

/*
 * One instance on each online node's first online CPU; more than
 * %BOOTPOOL_MAX_DIONYSOS nodes with CPUs fail (admin-guide.rst says why).
 */
static int bootpool_dionysos_add_nodes(const char **why)
{
	unsigned int cpu;
	int nid, ret;

	for_each_online_node(nid) {
		cpu = cpumask_first_and(cpumask_of_node(nid), cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			continue;
		if (bootpool_nr_dionysos == BOOTPOOL_MAX_DIONYSOS) {
			*why = "more than " __stringify(BOOTPOOL_MAX_DIONYSOS)
			       " nodes with online CPUs, and bootpool runs at most "
			       __stringify(BOOTPOOL_MAX_DIONYSOS)
			       " instances: name up to "
			       __stringify(BOOTPOOL_MAX_DIONYSOS)
			       " CPUs instead";
			return -EINVAL;
		}
		ret = bootpool_dionysos_add(cpu, why);
		if (ret)
			return ret;
	}
	return 0;
}

/* One instance on each CPU of a list such as "0,4" or "0-1,6", in order. */
static int bootpool_dionysos_add_list(const char *list, const char **why)
{
	char *buf = kstrdup(list, GFP_KERNEL), *cur = buf, *tok, *dash;
	unsigned int first, last, cpu;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!ret && (tok = strsep(&cur, ","))) {
		dash = strchr(tok, '-');
		if (dash)
			*dash++ = '\0';
		if (kstrtouint(tok, 10, &first) ||
		    kstrtouint(dash ? dash : tok, 10, &last) || last < first) {
			*why = "not a list of CPU numbers and ranges";
			ret = -EINVAL;
			break;
		}
		for (cpu = first; !ret && cpu <= last; cpu++)
			ret = bootpool_dionysos_add(cpu, why);
	}
	kfree(buf);
	return ret;
}

/*
 * Route each node to its own instance or, with none, to the nearest.
 * Context: module init.
 */
static void bootpool_dionysos_route_init(void)
{
	struct bootpool_dionysos *d;
	int nid, dist, best;

	for_each_node(nid) {
		best = INT_MAX;
		for_each_dionysos(d) {
			dist = node_distance(nid, d->node);
			if (dist < best) {
				best = dist;
				bootpool_dionysos_by_node[nid] = d->id;
			}
		}
	}
}

/**
 * bootpool_dionysos_setup() - the instances ``dionysos_cpus`` asks for
 *
 * Empty, one on ``dionysos_cpu``; ``node``, one on each online node's
 * first online CPU; else one on each CPU of the list, in its order.
 * Each instance gets its home CPU, node and id; each node its route.
 *
 * Context: module init, the hotplug lock held.
 * Return: 0, or -EINVAL (with a pr_err()) for a value that is not a list
 * of online CPUs, names one twice or more than 8, or ``node`` on more
 * than 8 nodes with online CPUs; or -ENOMEM.
 */
int bootpool_dionysos_setup(void)
{
	const char *list = bootpool_dionysos_cpus ? bootpool_dionysos_cpus : "";
	const char *why = NULL;
	int ret;

	bootpool_nr_dionysos = 0;
	if (!*list) {
		ret = bootpool_dionysos_add(bootpool_dionysos_cpu, &why);
		if (ret) {
			pr_err("bootpool: dionysos_cpu %u is not online\n",
			       bootpool_dionysos_cpu);
			return ret;
		}
	} else {
		if (!strcmp(list, "node"))
			ret = bootpool_dionysos_add_nodes(&why);
		else
			ret = bootpool_dionysos_add_list(list, &why);
		if (!ret && !bootpool_nr_dionysos) {
			why = "no instance";
			ret = -EINVAL;
		}
		if (ret) {
			if (why)
				pr_err("bootpool: dionysos_cpus \"%s\": %s\n",
				       list, why);
			bootpool_nr_dionysos = 0;
			return ret;
		}
	}
	bootpool_dionysos_route_init();
	return 0;
}

/**
 * bootpool_dionysos_id() - an instance's id, its index from 0
 * @d: the instance.
 *
 * Context: any.
 * Return: the id.
 */
unsigned int bootpool_dionysos_id(const struct bootpool_dionysos *d)
{
	return d->id;
}

/**
 * bootpool_dionysos_serving_cpu() - the CPU an instance serves on now
 * @d: the instance.
 *
 * Context: any. The answer may change at any moment, except for a caller
 * with preemption disabled on the CPU a hotplug callback is taking down
 * or bringing up (see &struct bootpool_dionysos.cpu).
 * Return: its home CPU, or the CPU it moved to while that is offline.
 */
unsigned int bootpool_dionysos_serving_cpu(const struct bootpool_dionysos *d)
{
	return READ_ONCE(d->cpu);
}

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
/*
 * fail_dionysos (Documentation/fault-injection/): a fault point for tests.
 * When it fires, Dionysos refuses the request with -ENOMEM, as if its
 * budget were spent: in bootpool_dionysos_grant_atomic() for the orders
 * served in atomic context, and in the thread for the others.
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

static void bootpool_block_put(struct page *page, unsigned int order)
{
	unsigned int i;

	for (i = 0; i < (1U << order); i++)
		put_page(page + i);
}

/*
 * Allocate a block of 2^@order zeroed pages on @d's node, split so that
 * each page holds its own reference, charged to @memcg. On @d's node, not
 * the node of the CPU it runs on nor by the policy of the task it
 * interrupted or serves on the spot: a node's instance hands out that
 * node's memory, wherever hotplug made it serve. Only when that node has
 * none free do the pages come from another (counted in
 * @d->off_node_pages). Not inlined: fail_function makes it fail for the
 * tests, in the IPI handler and in the thread alike.
 * Context: any; @gfp says whether it may sleep.
 */
static noinline struct page *bootpool_block_alloc(struct bootpool_dionysos *d,
						  unsigned int order,
						  struct mem_cgroup *memcg,
						  gfp_t gfp)
{
	struct mem_cgroup *old = set_active_memcg(memcg);
	struct page *page;

	page = alloc_pages_node(d->node, gfp | __GFP_ACCOUNT | __GFP_ZERO |
				__GFP_NOWARN, order);
	set_active_memcg(old);
	if (page && order)
		split_page(page, order);
	if (page && page_to_nid(page) != d->node)
		atomic_long_add(1L << order, &d->off_node_pages);
	return page;
}
ALLOW_ERROR_INJECTION(bootpool_block_alloc, NULL);

/*
 * Take a reserved block of @order charged to @memcg from @d, or NULL.
 * Context: @d's lock held.
 */
static struct page *bootpool_reserve_take(struct bootpool_dionysos *d,
					  unsigned int order,
					  struct mem_cgroup *memcg)
{
	struct bootpool_reserved *r = d->reserve[order];
	unsigned int i, n = d->nr[order];
	struct page *page;

	lockdep_assert_held(&d->lock);
	for (i = n; i-- > 0;) {
		if (r[i].memcg != memcg)
			continue;
		page = r[i].page;
		/* Its memcg reference goes with the charge, to the domain. */
		mem_cgroup_put(r[i].memcg);
		r[i] = r[n - 1];
		WRITE_ONCE(d->nr[order], n - 1);
		return page;
	}
	return NULL;
}

/**
 * bootpool_dionysos_grant_atomic() - grant a block without sleeping
 * @d: the instance.
 * @order: log2 of the pages wanted.
 * @memcg: the memory cgroup the block is charged to.
 * @page: set to the first page of the granted block, or NULL.
 * @steal: what was stolen for it is added here.
 *
 * The block is charged to @d's share of the budget, what the share lacks
 * stolen from a peer, and to @memcg: a reserved block of that memcg, or a
 * new one. GFP_NOWAIT, not GFP_ATOMIC: a memcg at its
 * limit must refuse the charge (__GFP_HIGH would force it past
 * memory.max); and no new block while current, the interrupted task in
 * the IPI handler, has PF_MEMALLOC, which would force it too.
 *
 * fail_function can make it fail for the tests (ALLOW_ERROR_INJECTION).
 *
 * Context: in the IPI handler on @d's CPU, or there with preemption
 * disabled. Never sleeps.
 * Return: 0 with *@page set, -ENOMEM when the budget is exhausted or the
 * fault point fires, -EAGAIN when the thread must serve it
 * (bootpool_dionysos_grant()).
 */
int bootpool_dionysos_grant_atomic(struct bootpool_dionysos *d,
				   unsigned int order, struct mem_cgroup *memcg,
				   struct page **page,
				   struct bootpool_steal *steal)
{
	unsigned long flags;
	int ret;

	if (order >= BOOTPOOL_ATOMIC_ORDERS)
		return -EAGAIN;
	if (bootpool_dionysos_should_fail(order))
		return -ENOMEM;

	spin_lock_irqsave(&d->lock, flags);
	ret = bootpool_budget_charge(d, order);
	*page = ret ? NULL : bootpool_reserve_take(d, order, memcg);
	if (*page)
		WRITE_ONCE(d->served_atomic, d->served_atomic + 1);
	spin_unlock_irqrestore(&d->lock, flags);
	if (ret) {
		ret = bootpool_budget_steal(d, order, steal);
		if (ret)
			return ret;
		spin_lock_irqsave(&d->lock, flags);
		*page = bootpool_reserve_take(d, order, memcg);
		if (*page)
			WRITE_ONCE(d->served_atomic, d->served_atomic + 1);
		spin_unlock_irqrestore(&d->lock, flags);
	}
	if (*page)
		return 0;

	/*
	 * In the IPI handler, current is whichever task was interrupted. One
	 * that is reclaiming (PF_MEMALLOC: kswapd, direct reclaim, the
	 * dionysos thread itself) would make try_charge_memcg() force the
	 * charge past memory.max: the thread serves such a request instead.
	 */
	*page = current->flags & PF_MEMALLOC ? NULL :
		bootpool_block_alloc(d, order, memcg, GFP_NOWAIT);
	spin_lock_irqsave(&d->lock, flags);
	if (*page)
		WRITE_ONCE(d->served_atomic, d->served_atomic + 1);
	else
		bootpool_budget_uncharge(d, order);
	spin_unlock_irqrestore(&d->lock, flags);
	return *page ? 0 : -EAGAIN;
}
ALLOW_ERROR_INJECTION(bootpool_dionysos_grant_atomic, ERRNO);

/**
 * bootpool_dionysos_grant() - grant a block, with reclaim
 * @d: the instance.
 * @order: log2 of the pages wanted.
 * @memcg: the memory cgroup the block is charged to.
 * @page: set to the first page of the granted block, or NULL.
 * @steal: what was stolen for it is added here.
 *
 * For a request bootpool_dionysos_grant_atomic() could not serve: a new
 * block, charged to @d's share (stealing what it lacks) and to @memcg,
 * allocated with reclaim but without the OOM killer. Counted as served
 * by the thread, granted or not.
 *
 * Context: @d's thread, in work bootpool_dionysos_queue_work() ran.
 * Return: 0 with *@page set, or -ENOMEM when the budget is exhausted, the
 * fault point fires or no memory is left.
 */
int bootpool_dionysos_grant(struct bootpool_dionysos *d, unsigned int order,
			    struct mem_cgroup *memcg, struct page **page,
			    struct bootpool_steal *steal)
{
	int ret = -ENOMEM;

	*page = NULL;
	if (!bootpool_dionysos_should_fail(order)) {
		spin_lock_irq(&d->lock);
		ret = bootpool_budget_charge(d, order);
		spin_unlock_irq(&d->lock);
		if (ret)
			ret = bootpool_budget_steal(d, order, steal);
	}
	if (!ret) {
		/* Reclaim, but leave the OOM killer out of it. */
		*page = bootpool_block_alloc(d, order, memcg,
					     GFP_KERNEL | __GFP_RETRY_MAYFAIL);
		if (!*page) {
			spin_lock_irq(&d->lock);
			bootpool_budget_uncharge(d, order);
			spin_unlock_irq(&d->lock);
			ret = -ENOMEM;
		}
	}
	WRITE_ONCE(d->served_thread, d->served_thread + 1);
	return ret;
}

/**
 * bootpool_dionysos_release() - return a granted block
 * @instance: the id of the instance that granted it.
 * @page: first page of the block.
 * @order: log2 of its pages.
 * @memcg: the memcg the block is charged to.
 * @dirty: the block may hold user data (it was mapped); it is zeroed
 *	before it is reserved. A block never mapped was never written.
 *
 * The block leaves Dionysos's budget at once. A block whose pages no one
 * else holds is reserved for the next grant charged to @memcg if there
 * is room; any other goes back to the page allocator, and leaves its
 * memcg, when its last user lets go.
 *
 * Context: process context.
 */
void bootpool_dionysos_release(unsigned int instance, struct page *page,
			       unsigned int order, struct mem_cgroup *memcg,
			       bool dirty)
{
	struct bootpool_dionysos *d = &bootpool_dionysos[instance];
	bool reuse = order < BOOTPOOL_ATOMIC_ORDERS &&
		     READ_ONCE(d->nr[order]) < BOOTPOOL_RESERVE_MAX;
	unsigned long flags;
	unsigned int i;

	for (i = 0; reuse && i < (1U << order); i++)
		if (page_count(page + i) != 1)
			reuse = false;
	if (reuse && dirty)
		for (i = 0; i < (1U << order); i++)
			clear_highpage(page + i);

	spin_lock_irqsave(&d->lock, flags);
	bootpool_budget_uncharge(d, order);
	if (reuse && d->nr[order] < BOOTPOOL_RESERVE_MAX) {
		bootpool_memcg_get(memcg);
		d->reserve[order][d->nr[order]] =
			(struct bootpool_reserved){ page, memcg };
		WRITE_ONCE(d->nr[order], d->nr[order] + 1);
		page = NULL;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (page)
		bootpool_block_put(page, order);
}

/**
 * bootpool_dionysos_return() - return a granted block, not to be reused
 * @instance: the id of the instance that granted it.
 * @page: first page of the block.
 * @order: log2 of its pages.
 *
 * The block leaves Dionysos's budget at once and its pages go back to
 * the page allocator when their last user lets go: for a domain's
 * teardown, whose memcg's reserved blocks are freed anyway.
 *
 * Context: any.
 */
void bootpool_dionysos_return(unsigned int instance, struct page *page,
			      unsigned int order)
{
	struct bootpool_dionysos *d = &bootpool_dionysos[instance];
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	bootpool_budget_uncharge(d, order);
	spin_unlock_irqrestore(&d->lock, flags);
	bootpool_block_put(page, order);
}

/*
 * Move @d's reserved blocks charged to @memcg (every block when @memcg is
 * NULL) to @out; return how many. Context: @d's lock held.
 */
static unsigned int bootpool_reserve_collect(struct bootpool_dionysos *d,
					     struct mem_cgroup *memcg,
					     struct bootpool_reserved *out,
					     unsigned int *orders)
{
	unsigned int order, i, n = 0;
	struct bootpool_reserved *r;

	lockdep_assert_held(&d->lock);
	for (order = 0; order < BOOTPOOL_ATOMIC_ORDERS; order++) {
		r = d->reserve[order];
		for (i = d->nr[order]; i-- > 0;) {
			if (memcg && r[i].memcg != memcg)
				continue;
			orders[n] = order;
			out[n++] = r[i];
			r[i] = r[d->nr[order] - 1];
			WRITE_ONCE(d->nr[order], d->nr[order] - 1);
		}
	}
	return n;
}

/**
 * bootpool_dionysos_purge() - free the reserved blocks of a memcg
 * @memcg: the memcg, or NULL for every block.
 *
 * Every instance's reserve is purged.
 *
 * Called when a domain of @memcg is torn down, so that the reserve never
 * keeps a memcg's pages charged (nor the memcg itself alive) for long
 * after its domains are gone.
 *
 * Context: process context.
 */
void bootpool_dionysos_purge(struct mem_cgroup *memcg)
{
	unsigned int orders[BOOTPOOL_ATOMIC_ORDERS * BOOTPOOL_RESERVE_MAX];
	struct bootpool_reserved out[ARRAY_SIZE(orders)];
	struct bootpool_dionysos *d;
	unsigned int i, n;

	for_each_dionysos(d) {
		spin_lock_irq(&d->lock);
		n = bootpool_reserve_collect(d, memcg, out, orders);
		spin_unlock_irq(&d->lock);
		for (i = 0; i < n; i++) {
			bootpool_block_put(out[i].page, orders[i]);
			mem_cgroup_put(out[i].memcg);
		}
	}
}

static unsigned long bootpool_reserve_pages(struct bootpool_dionysos *d)
{
	unsigned long pages = 0;
	unsigned int order;

	for (order = 0; order < BOOTPOOL_ATOMIC_ORDERS; order++)
		pages += (unsigned long)READ_ONCE(d->nr[order]) << order;
	return pages;
}

/**
 * bootpool_dionysos_show() - print Dionysos's state for debugfs
 * @m: the seq_file.
 * @depth: requests on their way to Dionysos (forward.c counts them).
 * @max_depth: the deepest queue seen.
 *
 * The first lines speak of the first instance's CPU and of all instances'
 * budget, grants and reserve together.
 *
 * Context: process context.
 */
void bootpool_dionysos_show(struct seq_file *m, int depth,
			    unsigned long max_depth)
{
	unsigned long granted = 0, atomic = 0, thread = 0, reserve = 0;
	struct bootpool_dionysos *d = bootpool_dionysos;

	for_each_dionysos(d) {
		granted += READ_ONCE(d->granted);
		atomic += READ_ONCE(d->served_atomic);
		thread += READ_ONCE(d->served_thread);
		reserve += bootpool_reserve_pages(d);
	}
	d = bootpool_dionysos;
	seq_printf(m, "cpu %u\n", bootpool_dionysos_serving_cpu(d));
	seq_printf(m, "home_cpu %u\n", d->home_cpu);
	seq_printf(m, "moves %lu\n", READ_ONCE(d->moves));
	seq_printf(m, "budget_pages %lu\n", bootpool_budget_pages());
	seq_printf(m, "granted_pages %lu\n", granted);
	seq_printf(m, "queue_depth %d\n", depth);
	seq_printf(m, "max_queue_depth %lu\n", max_depth);
	seq_printf(m, "served_atomic %lu\n", atomic);
	seq_printf(m, "served_by_thread %lu\n", thread);
	seq_printf(m, "reserve_pages %lu\n", reserve);
}

/**
 * bootpool_dionysos_show_instance() - print one instance's line for debugfs
 * @m: the seq_file.
 * @instance: the instance's id.
 * @rs: the requests it served (forward.c counts them).
 *
 * Context: process context.
 */
void bootpool_dionysos_show_instance(struct seq_file *m, unsigned int instance,
				     const struct bootpool_route_stats *rs)
{
	struct bootpool_dionysos *d = &bootpool_dionysos[instance];

	seq_printf(m, "instance=%u cpu=%u node=%d share_pages=%lu granted_pages=%lu requests=%lu ipis=%lu cross_node=%lu steals=%lu stolen_pages=%lu queue_max=%lu off_node_pages=%ld\n",
		   d->id, bootpool_dionysos_serving_cpu(d),
		   bootpool_dionysos_node(d), bootpool_share_pages(d),
		   READ_ONCE(d->granted), rs->requests, rs->ipis,
		   rs->cross_node, READ_ONCE(d->steals),
		   READ_ONCE(d->stolen_pages), rs->queue_max,
		   atomic_long_read(&d->off_node_pages));
}
