/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootpool internals shared by the module's files.
 */
#ifndef _BOOTPOOL_H
#define _BOOTPOOL_H

#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/llist.h>
#include <linux/memcontrol.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/bootpool.h>

#include "policy.h"

/* Largest order Dionysos grants. */
#define BOOTPOOL_MAX_ORDER	get_order(BOOTPOOL_MAX_ALLOC_SIZE)
#define BOOTPOOL_MAX_HOPS	8
/* Most Dionysos instances (``dionysos_cpus``). */
#define BOOTPOOL_MAX_DIONYSOS	8
#define BOOTPOOL_MAX_POOL_PAGES	4096
/* Largest dionysos_mb and max_user_mb (1 TiB), and max_remote_mb. */
#define BOOTPOOL_MAX_MB		BIT(20)
/* As many pages as a domain's table has entries (2^20). */
#define BOOTPOOL_MAX_REMOTE_MB	4096

/**
 * bootpool_param_set_uint() - set a writable uint module parameter
 * @val: the value written.
 * @kp: the parameter.
 * @min: the smallest value allowed.
 * @max: the largest value allowed.
 *
 * Checks as param_set_uint_minmax() does, except that every value it
 * refuses is -EINVAL, one too large for 32 bits included (kstrtouint()
 * says -ERANGE for that). The paths that use the parameters read them
 * locklessly with READ_ONCE(), so the store is marked too.
 *
 * Context: process context (sysfs write or module load).
 * Return: 0, or -EINVAL for a value outside [@min, @max] (or past
 * UINT_MAX) or not a number.
 */
static inline int bootpool_param_set_uint(const char *val,
					  const struct kernel_param *kp,
					  unsigned int min, unsigned int max)
{
	unsigned int n;

	if (!val || kstrtouint(val, 0, &n) || n < min || n > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

/*
 * A writable uint module parameter, bootpool_@name, in the file that reads
 * it; values outside [@min, @max] are -EINVAL.
 */
#define BOOTPOOL_PARAM_UINT(name, min, max, desc)				\
static int bootpool_param_set_##name(const char *val,			\
				     const struct kernel_param *kp)	\
{									\
	return bootpool_param_set_uint(val, kp, min, max);		\
}									\
static const struct kernel_param_ops bootpool_##name##_ops = {		\
	.set = bootpool_param_set_##name,				\
	.get = param_get_uint,						\
};									\
module_param_cb(name, &bootpool_##name##_ops, &bootpool_##name, 0644);	\
MODULE_PARM_DESC(name, desc)

/* A reference on @memcg (NULL, or any memcg without CONFIG_MEMCG: none). */
static inline void bootpool_memcg_get(struct mem_cgroup *memcg)
{
#ifdef CONFIG_MEMCG
	if (memcg)
		css_get(&memcg->css);
#endif
}

/* ---- stats.c: global counters and debugfs ---- */

enum bootpool_counter {
	BOOTPOOL_CNT_DOMAINS,		/* live domains (gauge) */
	BOOTPOOL_CNT_ATTACHES,
	BOOTPOOL_CNT_DETACHES,
	BOOTPOOL_CNT_POOL_PAGES,	/* pool pages reserved (gauge) */
	BOOTPOOL_CNT_POOL_USED,		/* pool pages handed out (gauge) */
	BOOTPOOL_CNT_POOL_ALLOCS,
	BOOTPOOL_CNT_POOL_FREES,
	BOOTPOOL_CNT_REMOTE_ALLOCS,
	BOOTPOOL_CNT_REMOTE_FREES,
	BOOTPOOL_CNT_REMOTE_PAGES,	/* Dionysos pages held by domains (gauge) */
	BOOTPOOL_CNT_FAILED_ALLOCS,
	BOOTPOOL_CNT_SWITCH_EXHAUSTED,
	BOOTPOOL_CNT_SWITCH_OVERSIZE,
	BOOTPOOL_CNT_SWITCH_EARLY,
	BOOTPOOL_CNT_SWITCH_REQUESTED,
	BOOTPOOL_CNT_IPIS,
	BOOTPOOL_CNT_HOPS,
	BOOTPOOL_CNT_ABANDONED,		/* remote replies whose requester died */
	BOOTPOOL_CNT_KEPT_PAGES,	/* pages of freed blocks still mapped (gauge) */
	BOOTPOOL_NR_COUNTERS
};

struct bootpool_counters {
	long v[BOOTPOOL_NR_COUNTERS];
};

DECLARE_PER_CPU(struct bootpool_counters, bootpool_counters);

static inline void bootpool_count(enum bootpool_counter c, long n)
{
	this_cpu_add(bootpool_counters.v[c], n);
}

long bootpool_counter_sum(enum bootpool_counter c);
int bootpool_debugfs_init(void);
void bootpool_debugfs_exit(void);

/* ---- domain.c, user.c, alloc.c, mmap.c: a process's pool and blocks ---- */

struct bootpool_domain;
struct dentry;

struct bootpool_domain *bootpool_domain_attach(void);
void bootpool_domain_detach(struct bootpool_domain *dom);
bool bootpool_domain_is_current(const struct bootpool_domain *dom);
int bootpool_domain_set_policy(struct bootpool_domain *dom, u32 policy);
int bootpool_domain_switch(struct bootpool_domain *dom);
int bootpool_domain_alloc(struct bootpool_domain *dom,
			  struct bootpool_alloc *arg);
int bootpool_domain_free(struct bootpool_domain *dom, u64 handle);
void bootpool_domain_alloc_undo(struct bootpool_domain *dom,
				const struct bootpool_alloc *arg);
void bootpool_domain_stats(struct bootpool_domain *dom,
			   struct bootpool_stats *st);
int bootpool_domain_mmap(struct bootpool_domain *dom,
			 struct vm_area_struct *vma);
void bootpool_domain_show(struct seq_file *m, struct bootpool_domain *dom,
			  const char *prefix);
int bootpool_domains_show(struct seq_file *m, void *unused);
void bootpool_domains_synchronize(void);
void bootpool_users_show(struct seq_file *m);
void bootpool_domain_debugfs_init(struct dentry *dir);

/* ---- forward.c: a request's life, from the requester to Dionysos ---- */

/**
 * struct bootpool_steal - what a grant took from other instances' shares
 * @steals: steals made for it, one a peer that gave share.
 * @pages: pages of share taken.
 * @cross_node: a peer it took from is on another node than the thief.
 */
struct bootpool_steal {
	unsigned int steals;
	unsigned int pages;
	bool cross_node;
};

/**
 * struct bootpool_forward_reply - a block granted by Dionysos, and its way
 * @page: the first page of the block.
 * @cpu: the CPU the request was made on.
 * @served_cpu: the CPU that served it.
 * @hops: cross-CPU hops it took.
 * @ipis: IPIs sent for it.
 * @instance: the Dionysos instance that granted it, and takes it back.
 * @cross_node: it was served by an instance on another node than @cpu's,
 *	or share was stolen for it from an instance on another node.
 * @steal: what its grant stole.
 */
struct bootpool_forward_reply {
	struct page *page;
	int cpu;
	int served_cpu;
	unsigned int hops;
	unsigned int ipis;
	unsigned int instance;
	bool cross_node;
	struct bootpool_steal steal;
};

/**
 * struct bootpool_route_stats - the requests one instance served
 * @requests: requests it served, granted or not.
 * @ipis: IPIs that carried them.
 * @cross_node: those made on another node than the instance's CPU's.
 * @queue_max: the deepest its queue was.
 */
struct bootpool_route_stats {
	unsigned long requests;
	unsigned long ipis;
	unsigned long cross_node;
	unsigned long queue_max;
};

int bootpool_forward_start(void);
void bootpool_forward_stop(void);
struct bootpool_request;

int bootpool_forward_request(struct mem_cgroup *memcg, unsigned int order,
			     struct bootpool_request **spare,
			     struct bootpool_forward_reply *reply);
void bootpool_forward_spare_free(struct bootpool_request **spare);
int bootpool_forward_depth(void);
unsigned long bootpool_forward_max_depth(void);
void bootpool_forward_reset_max_depth(void);
void bootpool_forward_route_stats(unsigned int instance,
				  struct bootpool_route_stats *rs);

/* ---- dionysos.c, dionysos_thread.c: the memory service, below forward.c ---- */

/**
 * struct bootpool_dionysos_work - work for Dionysos's thread
 * @node: entry in the thread's list of work.
 * @func: what the thread runs (bootpool_dionysos_queue_work()).
 */
struct bootpool_dionysos_work {
	struct llist_node node;
	void (*func)(struct bootpool_dionysos_work *work);
};

struct bootpool_dionysos;

int bootpool_dionysos_start(void);
void bootpool_dionysos_stop(void);
struct bootpool_dionysos *bootpool_dionysos_route(int cpu);
unsigned int bootpool_dionysos_id(const struct bootpool_dionysos *d);
unsigned int bootpool_dionysos_serving_cpu(const struct bootpool_dionysos *d);
unsigned int bootpool_dionysos_count(void);
int bootpool_dionysos_node(const struct bootpool_dionysos *d);
int bootpool_dionysos_grant_atomic(struct bootpool_dionysos *d,
				   unsigned int order, struct mem_cgroup *memcg,
				   struct page **page,
				   struct bootpool_steal *steal);
int bootpool_dionysos_grant(struct bootpool_dionysos *d, unsigned int order,
			    struct mem_cgroup *memcg, struct page **page,
			    struct bootpool_steal *steal);
void bootpool_dionysos_queue_work(struct bootpool_dionysos *d,
				  struct bootpool_dionysos_work *work);
void bootpool_dionysos_release(unsigned int instance, struct page *page,
			       unsigned int order, struct mem_cgroup *memcg,
			       bool dirty);
void bootpool_dionysos_return(unsigned int instance, struct page *page,
			      unsigned int order);
void bootpool_dionysos_purge(struct mem_cgroup *memcg);
void bootpool_dionysos_show(struct seq_file *m, int depth,
			    unsigned long max_depth);
void bootpool_dionysos_show_instance(struct seq_file *m, unsigned int instance,
				     const struct bootpool_route_stats *rs);
void bootpool_dionysos_debugfs_init(struct dentry *dir);

#endif /* _BOOTPOOL_H */
