// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: domains
 *
 * A process is a domain. Its first open() of /dev/bootpool attaches it: a
 * pool of ``pool_pages`` zeroed pages is reserved for it, whether it uses
 * them or not, as a Barrelfish parent pays for its child's fixed allocator
 * at spawn. All threads and descriptors of the process share the domain;
 * the domain is found through the process's mm (mmu_notifier_get()), and
 * the mm's release callback tears it down when the process exits, however
 * it dies, even while a forked child still holds an inherited descriptor.
 * Otherwise the last close tears it down.
 *
 * Pool blocks are single pages. User space can write a block only through
 * a mapping, so a freed pool page is zeroed only if it was mapped, and
 * then goes back on the pool's free stack.
 * Dionysos blocks are kept in a table like the pool's slots (rbtable.c);
 * they go back to Dionysos when freed.
 *
 * Every page a domain holds is charged to the memory cgroup of its process
 * (the one it was in at attach): the pool at attach, each Dionysos block
 * when it is granted, the domain's bookkeeping as it grows.
 *
 * This file attaches, sets up and tears down domains, and holds their
 * policy and their display; user.c keeps each user's share of Dionysos,
 * alloc.c serves ALLOC, FREE and STATS, and mmap.c maps blocks.
 */
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "domain.h"

/*
 * Protects bootpool_domains, the list debugfs walks. Held only to add or
 * remove an entry and to walk the list: never while a pool is allocated
 * or zeroed, nor across mmu_notifier_get() (mm_take_all_locks()), so that
 * no process's open or exit waits behind another's.
 */
static DEFINE_MUTEX(bootpool_domains_lock);
static LIST_HEAD(bootpool_domains);

/*
 * The policies' names: the default_policy parameter and fdinfo and debugfs
 * use them. Only the trace events spell them again, as literals, which
 * __print_symbolic() needs.
 */
static const char * const bootpool_policy_names[BOOTPOOL_POLICY_COUNT] = {
	[BOOTPOOL_POLICY_LATE]		= "late",
	[BOOTPOOL_POLICY_EARLY]		= "early",
	[BOOTPOOL_POLICY_HYBRID]	= "hybrid",
};

/* What a new domain gets. */
static unsigned int bootpool_pool_pages = 256;
static int bootpool_default_policy = BOOTPOOL_POLICY_LATE;

BOOTPOOL_PARAM_UINT(pool_pages, 0, BOOTPOOL_MAX_POOL_PAGES,
		    "Pages in each new domain's pool, 0-4096 (default 256)");

static int bootpool_param_set_policy(const char *val,
				     const struct kernel_param *kp)
{
	int policy = sysfs_match_string(bootpool_policy_names, val);

	if (policy < 0)
		return -EINVAL;
	WRITE_ONCE(*(int *)kp->arg, policy);
	return 0;
}

static int bootpool_param_get_policy(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n",
			  bootpool_policy_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops bootpool_policy_ops = {
	.set = bootpool_param_set_policy,
	.get = bootpool_param_get_policy,
};
module_param_cb(default_policy, &bootpool_policy_ops,
		&bootpool_default_policy, 0644);
MODULE_PARM_DESC(default_policy,
		 "Policy of new domains: late, early or hybrid (default late)");

static const struct mmu_notifier_ops bootpool_mn_ops;

static struct bootpool_domain *to_domain(struct mmu_notifier *mn)
{
	return container_of(mn, struct bootpool_domain, notifier);
}

/*
 * Where new domains start the generations of their handles; debugfs
 * ``gen_base``, for tests that reach the end of the generation space.
 */
static u64 bootpool_gen_base;

/**
 * bootpool_domain_debugfs_init() - add the ``gen_base`` file
 * @dir: bootpool's debugfs directory.
 *
 * Context: module init.
 */
void bootpool_domain_debugfs_init(struct dentry *dir)
{
	debugfs_create_u64("gen_base", 0600, dir, &bootpool_gen_base);
}

static struct mmu_notifier *bootpool_mn_alloc(struct mm_struct *mm)
{
	struct bootpool_domain *dom = kzalloc(sizeof(*dom), BOOTPOOL_GFP_ATTACH);

	if (!dom)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&dom->lock);
	mutex_init(&dom->files_lock);
	INIT_LIST_HEAD(&dom->node);
	return &dom->notifier;
}

static void bootpool_mn_free(struct mmu_notifier *mn)
{
	kfree(to_domain(mn));
}

static void bootpool_pool_free(struct page **pages, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (pages[i])
			put_page(pages[i]);
}

/* Drop the domain's references on its process, its user and its memcg. */
static void bootpool_domain_put_owner(struct bootpool_domain *dom)
{
	put_pid(dom->owner);
	dom->owner = NULL;
	bootpool_user_put(dom->user);
	dom->user = NULL;
	mem_cgroup_put(dom->memcg);
	dom->memcg = NULL;
}

/* Free the pool's bookkeeping (not its pages, nor the array of them). */
static void bootpool_domain_free_arrays(struct bootpool_domain *dom)
{
	bitmap_free(dom->dirty);
	kfree(dom->pool_maps);
	kfree(dom->free_stack);
	kfree(dom->gen);
	dom->pool_maps = NULL;
	dom->dirty = NULL;
	dom->free_stack = NULL;
	dom->gen = NULL;
}

/*
 * Reserve the pool of a new domain, or of one whose last descriptor was
 * closed and which another open found before it left the mm: every field
 * starts afresh. Context: the domain's files_lock held, no descriptor.
 */
static int bootpool_domain_init(struct bootpool_domain *dom)
{
	unsigned int nr = min_t(unsigned int, READ_ONCE(bootpool_pool_pages),
				BOOTPOOL_MAX_POOL_PAGES);
	unsigned int i;
	u64 gen;

	lockdep_assert_held(&dom->files_lock);
	dom->user = bootpool_user_get(bootpool_share_uid(current_cred()));
	if (!dom->user)
		return -ENOMEM;
	dom->memcg = get_mem_cgroup_from_mm(current->mm);
	dom->gen_base = READ_ONCE(bootpool_gen_base);
	gen = min(dom->gen_base, BOOTPOOL_POOL_GEN_MAX) & ~1ULL;
	dom->pages = kcalloc(nr, sizeof(*dom->pages), BOOTPOOL_GFP_ATTACH);
	dom->gen = kcalloc(nr, sizeof(*dom->gen), BOOTPOOL_GFP_ATTACH);
	dom->free_stack = kcalloc(nr, sizeof(*dom->free_stack),
				  BOOTPOOL_GFP_ATTACH);
	dom->dirty = bitmap_zalloc(nr, BOOTPOOL_GFP_ATTACH);
	if (nr && (!dom->pages || !dom->gen || !dom->free_stack ||
		   !dom->dirty))
		goto out_free_arrays;

	for (i = 0; i < nr; i++) {
		dom->pages[i] = alloc_page(BOOTPOOL_GFP_ATTACH | __GFP_ZERO);
		if (!dom->pages[i])
			goto out_free_pages;
		/* Slot 0 on top: a fresh pool hands out slots in order. */
		dom->free_stack[i] = nr - 1 - i;
		dom->gen[i] = gen;	/* even: free */
	}
	spin_lock(&dom->lock);
	dom->nr_pages = nr;
	dom->nr_free = nr;
	dom->tgid = current->tgid;
	dom->owner = get_pid(task_tgid(current));
	dom->policy = READ_ONCE(bootpool_default_policy);
	dom->sealed = false;
	dom->switched = false;
	dom->switch_reason = BOOTPOOL_SWITCH_NONE;
	dom->switch_pages_left = 0;
	memset(&dom->stats, 0, sizeof(dom->stats));
	dom->dead = false;
	spin_unlock(&dom->lock);

	bootpool_count(BOOTPOOL_CNT_DOMAINS, 1);
	bootpool_count(BOOTPOOL_CNT_ATTACHES, 1);
	bootpool_count(BOOTPOOL_CNT_POOL_PAGES, nr);
	trace_bootpool_attach(dom->tgid, nr, dom->policy);
	if (dom->policy == BOOTPOOL_POLICY_EARLY) {
		spin_lock(&dom->lock);
		bootpool_domain_set_switch(dom, BOOTPOOL_SWITCH_EARLY);
		spin_unlock(&dom->lock);
	}
	return 0;

out_free_pages:
	bootpool_pool_free(dom->pages, nr);
out_free_arrays:
	bootpool_domain_free_arrays(dom);
	kfree(dom->pages);
	dom->pages = NULL;
	bootpool_domain_put_owner(dom);
	return -ENOMEM;
}

/*
 * Give back everything the domain holds, kept blocks included: a mapping
 * that outlives the domain (the process's exit tears it down before its
 * mappings go) holds its own references on the pages. Runs once, from the
 * last close or from the process's exit, whichever comes first; neither
 * can race with an ioctl or mmap of the domain (both hold the file and
 * the mm).
 */
static void bootpool_domain_teardown(struct bootpool_domain *dom)
{
	unsigned long remote_pages, kept_pages;
	struct bootpool_rbtable rb = {};
	unsigned int nr, used, blocks;
	struct page **pages;

	spin_lock(&dom->lock);
	if (dom->dead || !dom->pages) {
		dom->dead = true;
		spin_unlock(&dom->lock);
		return;
	}
	dom->dead = true;
	pages = dom->pages;
	nr = dom->nr_pages;
	used = nr - dom->nr_free;
	dom->pages = NULL;
	dom->nr_pages = 0;
	dom->nr_free = 0;
	swap(rb, dom->rb);
	remote_pages = dom->remote_pages;
	kept_pages = dom->kept_pages;
	dom->remote_pages = 0;
	dom->kept_pages = 0;
	spin_unlock(&dom->lock);

	blocks = used + bootpool_rbtable_destroy(&rb);

	bootpool_pool_free(pages, nr);
	kfree(pages);
	bootpool_domain_free_arrays(dom);
	bootpool_forward_spare_free(&dom->spare_req);
	bootpool_user_uncharge(dom->user, remote_pages);
	bootpool_dionysos_purge(dom->memcg);
	bootpool_domain_put_owner(dom);

	bootpool_count(BOOTPOOL_CNT_POOL_PAGES, -(long)nr);
	bootpool_count(BOOTPOOL_CNT_POOL_USED, -(long)used);
	bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, -(long)kept_pages);
	bootpool_count(BOOTPOOL_CNT_DOMAINS, -1);
	bootpool_count(BOOTPOOL_CNT_DETACHES, 1);
	trace_bootpool_detach(dom->tgid, blocks);
}

static void bootpool_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	bootpool_domain_teardown(to_domain(mn));
}

static const struct mmu_notifier_ops bootpool_mn_ops = {
	.release	= bootpool_mn_release,
	.alloc_notifier	= bootpool_mn_alloc,
	.free_notifier	= bootpool_mn_free,
};

/**
 * bootpool_domain_attach() - find or create the caller's domain
 *
 * Context: process context, may sleep; takes no global lock while the
 * domain is found in the mm or its pool is reserved.
 * Return: the domain, with a reference for the new descriptor, or an
 * ERR_PTR: -ENOMEM when the pool cannot be reserved, -EPERM when the
 * caller shares the address space of another process's domain.
 */
struct bootpool_domain *bootpool_domain_attach(void)
{
	struct bootpool_domain *dom;
	struct mmu_notifier *mn;
	int ret = 0;

	mn = mmu_notifier_get(&bootpool_mn_ops, current->mm);
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	dom = to_domain(mn);

	mutex_lock(&dom->files_lock);
	/* The address space's domain belongs to another process. */
	if (dom->files && dom->owner != task_tgid(current)) {
		ret = -EPERM;
	} else if (!dom->files) {
		ret = bootpool_domain_init(dom);
		if (!ret) {
			mutex_lock(&bootpool_domains_lock);
			list_add_tail(&dom->node, &bootpool_domains);
			mutex_unlock(&bootpool_domains_lock);
		}
	}
	if (!ret)
		dom->files++;
	mutex_unlock(&dom->files_lock);
	if (ret) {
		mmu_notifier_put(mn);
		return ERR_PTR(ret);
	}
	return dom;
}

/**
 * bootpool_domain_is_current() - whether the caller owns a domain
 * @dom: the domain of a descriptor.
 *
 * A descriptor serves only the process (thread group) that opened it, in
 * the address space it opened it in: not a forked child, not the receiver
 * of a passed descriptor, not a process that shares its address space
 * (clone(CLONE_VM) without CLONE_THREAD, or a vfork() child before it
 * execs), and not the process itself after an execve(), whose old address
 * space took the domain down with it. The process is known by a
 * reference to its thread group's pid, not by its number: a process
 * that gets the number after the owner has exited (while a sharer keeps
 * the address space and the descriptor) is another one.
 *
 * Context: any.
 * Return: true when the caller is @dom's process.
 */
bool bootpool_domain_is_current(const struct bootpool_domain *dom)
{
	return dom->notifier.mm == current->mm &&
	       dom->owner == task_tgid(current);
}

/**
 * bootpool_domain_detach() - drop a descriptor's reference
 * @dom: the domain.
 *
 * The last descriptor tears the domain down if the process's exit has not
 * already done so. An open of the process that finds the domain before
 * mmu_notifier_put() takes it out of the mm sets it up again.
 *
 * Context: process context, may sleep.
 */
void bootpool_domain_detach(struct bootpool_domain *dom)
{
	mutex_lock(&dom->files_lock);
	if (!--dom->files) {
		bootpool_domain_teardown(dom);
		mutex_lock(&bootpool_domains_lock);
		list_del_init(&dom->node);
		mutex_unlock(&bootpool_domains_lock);
	}
	mutex_unlock(&dom->files_lock);
	mmu_notifier_put(&dom->notifier);
}

/**
 * bootpool_domains_synchronize() - wait until every domain is freed
 *
 * Context: process context, module exit.
 */
void bootpool_domains_synchronize(void)
{
	mmu_notifier_synchronize();
}

/**
 * bootpool_domain_set_policy() - choose the domain's switching policy
 * @dom: the domain.
 * @policy: an &enum bootpool_policy_id.
 *
 * Context: process context; takes the domain's lock.
 * Return: 0, -EINVAL for an unknown policy, -EBUSY after the first ALLOC.
 */
int bootpool_domain_set_policy(struct bootpool_domain *dom, u32 policy)
{
	int ret = 0;

	if (policy >= BOOTPOOL_POLICY_COUNT)
		return -EINVAL;

	spin_lock(&dom->lock);
	if (dom->sealed || dom->dead) {
		ret = -EBUSY;
		goto out_unlock;
	}
	if (dom->switched)
		bootpool_count(BOOTPOOL_CNT_SWITCH_EARLY, -1);
	dom->policy = policy;
	dom->switched = false;
	dom->switch_reason = BOOTPOOL_SWITCH_NONE;
	dom->switch_pages_left = 0;
	if (policy == BOOTPOOL_POLICY_EARLY)
		bootpool_domain_set_switch(dom, BOOTPOOL_SWITCH_EARLY);
out_unlock:
	spin_unlock(&dom->lock);
	return ret;
}

/**
 * bootpool_domain_switch() - switch the domain to Dionysos at its request
 * @dom: the domain.
 *
 * What a Barrelfish domain does with ram_alloc_set() once it is bound to
 * the memory server: from now on every request goes to Dionysos. Seals
 * the policy, as the first ALLOC does.
 *
 * Context: process context; takes the domain's lock.
 * Return: 0, -EINVAL for a hybrid domain (it never switches), -EALREADY
 * when the domain has switched already, -EBUSY when it is being torn down.
 */
int bootpool_domain_switch(struct bootpool_domain *dom)
{
	int ret = 0;

	spin_lock(&dom->lock);
	if (dom->dead)
		ret = -EBUSY;
	else if (dom->policy == BOOTPOOL_POLICY_HYBRID)
		ret = -EINVAL;
	else if (dom->switched)
		ret = -EALREADY;
	if (!ret) {
		dom->sealed = true;
		bootpool_domain_set_switch(dom, BOOTPOOL_SWITCH_REQUESTED);
	}
	spin_unlock(&dom->lock);
	return ret;
}

/**
 * bootpool_domain_show() - print a domain's summary
 * @m: the seq_file.
 * @dom: the domain.
 * @prefix: put before every key.
 *
 * Context: process context; takes the domain's lock.
 */
void bootpool_domain_show(struct seq_file *m, struct bootpool_domain *dom,
			  const char *prefix)
{
	static const char * const reason[] = {
		"none", "exhausted", "oversize", "early", "requested"
	};
	struct bootpool_stats st;
	pid_t pid;

	bootpool_domain_stats(dom, &st);
	/* As /proc shows it: in the reader's pid namespace, 0 if not there. */
	rcu_read_lock();
	pid = pid_vnr(find_pid_ns(dom->tgid, &init_pid_ns));
	rcu_read_unlock();
	seq_printf(m, "%spid:\t%d\n", prefix, pid);
	seq_printf(m, "%spolicy:\t%s\n", prefix,
		   bootpool_policy_names[st.policy]);
	seq_printf(m, "%sswitched:\t%u\n", prefix, st.switched);
	seq_printf(m, "%sswitch_reason:\t%s\n", prefix,
		   reason[st.switch_reason]);
	seq_printf(m, "%spool_pages:\t%u\n", prefix, st.pool_pages);
	seq_printf(m, "%spool_used:\t%u\n", prefix, st.pool_used);
	seq_printf(m, "%spool_allocs:\t%llu\n", prefix, st.pool_allocs);
	seq_printf(m, "%sremote_allocs:\t%llu\n", prefix, st.remote_allocs);
	seq_printf(m, "%sipis:\t%llu\n", prefix, st.ipis);
	seq_printf(m, "%shops:\t%llu\n", prefix, st.hops);
	seq_printf(m, "%sremote_bytes:\t%llu\n", prefix, st.remote_bytes);
	seq_printf(m, "%sfootprint_bytes:\t%llu\n", prefix,
		   st.footprint_bytes);
	seq_printf(m, "%skept_bytes:\t%llu\n", prefix, st.kept_bytes);
}

/**
 * bootpool_domains_show() - print every live domain for debugfs
 * @m: the seq_file.
 * @unused: unused.
 *
 * Context: process context; takes bootpool_domains_lock.
 * Return: 0.
 */
int bootpool_domains_show(struct seq_file *m, void *unused)
{
	struct bootpool_domain *dom;

	mutex_lock(&bootpool_domains_lock);
	list_for_each_entry(dom, &bootpool_domains, node) {
		bootpool_domain_show(m, dom, "");
		seq_putc(m, '\n');
	}
	mutex_unlock(&bootpool_domains_lock);
	return 0;
}
