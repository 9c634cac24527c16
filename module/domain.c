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
 * A block freed while it is still mapped keeps its pages, its pool slot
 * or its place against ``max_remote_mb``, ``max_user_mb`` and
 * ``dionysos_mb`` until its last mapping goes: its handle is dead at once,
 * but the block is *kept*, and only the close of its last mapping gives it
 * back. So what a domain holds through its blocks and its mappings
 * together never exceeds its pool and its caps. Each block counts its
 * mappings (vm_operations_struct open and close, which also see splits
 * and mremap; a fork never copies a mapping).
 */
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "bootpool.h"
#include "bootpool_trace.h"
#include "handle.h"
#include "rbtable.h"

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
	struct bootpool_stats stats;
	struct list_head node;
};

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

/* What a new domain gets, and what one domain and one user may hold. */
static unsigned int bootpool_pool_pages = 256;
static unsigned int bootpool_max_remote_mb = 16;
static unsigned int bootpool_max_user_mb = 32;
static int bootpool_default_policy = BOOTPOOL_POLICY_LATE;

BOOTPOOL_PARAM_UINT(pool_pages, 0, BOOTPOOL_MAX_POOL_PAGES,
		    "Pages in each new domain's pool, 0-4096 (default 256)");
BOOTPOOL_PARAM_UINT(max_remote_mb, 0, BOOTPOOL_MAX_REMOTE_MB,
		    "MiB one domain may hold from Dionysos, 0-4096 (default 16)");
BOOTPOOL_PARAM_UINT(max_user_mb, 0, BOOTPOOL_MAX_MB,
		    "MiB the domains of one user may hold from Dionysos together, 0-1048576 (default 32)");

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

/*
 * What a domain allocates at attach: charged to its memcg, and past
 * memory.max a failed open (-ENOMEM) rather than an OOM kill.
 */
#define BOOTPOOL_GFP_ATTACH	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

static const struct mmu_notifier_ops bootpool_mn_ops;
static const struct vm_operations_struct bootpool_vm_ops;

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

/* Users with a live domain, under bootpool_users_lock. */
static DEFINE_HASHTABLE(bootpool_users, 6);
static DEFINE_SPINLOCK(bootpool_users_lock);

/* Context: bootpool_users_lock held. Return: @uid's entry, referenced. */
static struct bootpool_user *bootpool_user_find(kuid_t uid)
{
	struct bootpool_user *u;

	lockdep_assert_held(&bootpool_users_lock);
	hash_for_each_possible(bootpool_users, u, node, __kuid_val(uid)) {
		if (uid_eq(u->uid, uid)) {
			refcount_inc(&u->ref);
			return u;
		}
	}
	return NULL;
}

/*
 * Find or add @uid's entry. A new entry is allocated before the lock is
 * taken and dropped if another attach added one meanwhile.
 * Context: process context, may sleep.
 */
static struct bootpool_user *bootpool_user_get(kuid_t uid)
{
	struct bootpool_user *u, *new;

	spin_lock(&bootpool_users_lock);
	u = bootpool_user_find(uid);
	spin_unlock(&bootpool_users_lock);
	if (u)
		return u;
	new = kzalloc(sizeof(*new), BOOTPOOL_GFP_ATTACH);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	atomic_long_set(&new->pages, 0);
	spin_lock(&bootpool_users_lock);
	u = bootpool_user_find(uid);
	if (!u) {
		hash_add(bootpool_users, &new->node, __kuid_val(uid));
		swap(u, new);
	}
	spin_unlock(&bootpool_users_lock);
	kfree(new);
	return u;
}

static void bootpool_user_put(struct bootpool_user *u)
{
	if (!u)
		return;
	spin_lock(&bootpool_users_lock);
	if (refcount_dec_and_test(&u->ref))
		hash_del(&u->node);
	else
		u = NULL;
	spin_unlock(&bootpool_users_lock);
	kfree(u);
}

/*
 * The user whose share of Dionysos a process's domain takes: its uid, or
 * in a user namespace the uid that owns the namespace, level by level,
 * up to the initial namespace or to a namespace that the initial root
 * owns. The uids of a user's subordinate range (newuidmap, /etc/subuid)
 * live in namespaces that user owns, so they are that user, and the
 * range cannot multiply the share; the kernel's ucounts charge each
 * namespace's owner likewise. Ranges that root hands out with namespaces
 * of its own stay users of their own.
 */
static kuid_t bootpool_share_uid(const struct cred *cred)
{
	const struct user_namespace *ns = cred->user_ns;
	kuid_t uid = cred->uid;

	while (ns != &init_user_ns && !uid_eq(ns->owner, GLOBAL_ROOT_UID)) {
		uid = ns->owner;
		ns = ns->parent;
	}
	return uid;
}

/* Take @pages of the user's share of Dionysos; false past max_user_mb. */
static bool bootpool_user_charge(struct bootpool_user *u, unsigned long pages)
{
	unsigned long cap = (unsigned long)READ_ONCE(bootpool_max_user_mb)
			    << (20 - PAGE_SHIFT);

	if (atomic_long_add_return(pages, &u->pages) <= cap)
		return true;
	atomic_long_sub(pages, &u->pages);
	return false;
}

static void bootpool_user_uncharge(struct bootpool_user *u,
				   unsigned long pages)
{
	atomic_long_sub(pages, &u->pages);
}

/**
 * bootpool_users_show() - print what each user holds from Dionysos
 * @m: the seq_file, one ``user_pages_<uid> <pages>`` line per user with a
 *	live domain, uids as the reader's user namespace sees them.
 *
 * Context: process context.
 */
void bootpool_users_show(struct seq_file *m)
{
	struct bootpool_user *u;
	int bkt;

	spin_lock(&bootpool_users_lock);
	hash_for_each(bootpool_users, bkt, u, node)
		seq_printf(m, "user_pages_%u %ld\n",
			   from_kuid_munged(seq_user_ns(m), u->uid),
			   atomic_long_read(&u->pages));
	spin_unlock(&bootpool_users_lock);
}

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

static void bootpool_domain_set_switch(struct bootpool_domain *dom,
				       u32 reason)
	__must_hold(&dom->lock)
{
	static const enum bootpool_counter counter[] = {
		[BOOTPOOL_SWITCH_EXHAUSTED] = BOOTPOOL_CNT_SWITCH_EXHAUSTED,
		[BOOTPOOL_SWITCH_OVERSIZE] = BOOTPOOL_CNT_SWITCH_OVERSIZE,
		[BOOTPOOL_SWITCH_EARLY] = BOOTPOOL_CNT_SWITCH_EARLY,
		[BOOTPOOL_SWITCH_REQUESTED] = BOOTPOOL_CNT_SWITCH_REQUESTED,
	};

	lockdep_assert_held(&dom->lock);
	dom->switched = true;
	dom->switch_reason = reason;
	dom->switch_pages_left = dom->nr_free;
	bootpool_count(counter[reason], 1);
	trace_bootpool_switch(dom->tgid, reason, dom->nr_free);
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

/*
 * The helpers of the pool's ALLOC and FREE are forced inline: a pool
 * ALLOC or FREE is a handful of loads and stores, and a call and return
 * around them adds measurably to it, the more so under emulation, where
 * every return is a lookup of the next translated block.
 */
static __always_inline void
bootpool_alloc_traced(struct bootpool_domain *dom, struct bootpool_alloc *arg)
{
	arg->mmap_offset = (u64)bootpool_handle_pgoff(arg->handle) << PAGE_SHIFT;
	trace_bootpool_alloc(dom->tgid, arg->size, arg->granted, arg->source,
			     arg->cpu);
}

/* Hand out the pool page on top of the free stack for @arg. */
static __always_inline void
bootpool_pool_take(struct bootpool_domain *dom, struct bootpool_alloc *arg,
		   int cpu)
	__must_hold(&dom->lock)
{
	unsigned int slot = dom->free_stack[--dom->nr_free];

	dom->gen[slot]++;	/* odd: in use */
	arg->handle = bootpool_pool_handle(slot, dom->gen[slot]);
	arg->source = BOOTPOOL_SOURCE_POOL;
	arg->granted = PAGE_SIZE;
	arg->cpu = cpu;
	arg->served_cpu = cpu;
	arg->hops = 0;
	arg->ipis = 0;
	dom->stats.pool_allocs++;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += PAGE_SIZE;
}

/*
 * Count a failed ALLOC.
 * Context: the domain's lock held.
 */
static void bootpool_alloc_failed(struct bootpool_domain *dom)
	__must_hold(&dom->lock)
{
	dom->stats.failed_allocs++;
	bootpool_count(BOOTPOOL_CNT_FAILED_ALLOCS, 1);
}

/*
 * Take the pages of a block of @order against what a domain may hold
 * from Dionysos (max_remote_mb) and what its user's domains may hold
 * (max_user_mb). Return: 0, or -ENOMEM past either.
 * Context: the domain's lock held.
 */
static int bootpool_remote_charge(struct bootpool_domain *dom,
				  unsigned int order)
	__must_hold(&dom->lock)
{
	unsigned long cap = (unsigned long)READ_ONCE(bootpool_max_remote_mb)
			    << (20 - PAGE_SHIFT);
	unsigned long pages = 1UL << order;

	if (dom->remote_pages + pages > cap ||
	    !bootpool_user_charge(dom->user, pages))
		return -ENOMEM;
	dom->remote_pages += pages;
	return 0;
}

/* Context: the domain's lock held. */
static void bootpool_remote_uncharge(struct bootpool_domain *dom,
				     unsigned int order)
	__must_hold(&dom->lock)
{
	dom->remote_pages -= 1UL << order;
	bootpool_user_uncharge(dom->user, 1UL << order);
}

/*
 * Record the block Dionysos granted for @arg in the table, and count the
 * ALLOC. A full table is grown first, before the lock is taken: growing
 * it may sleep. The block goes back to Dionysos when the table cannot
 * grow.
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, or -ENOMEM.
 */
static int bootpool_remote_record(struct bootpool_domain *dom,
				  struct bootpool_alloc *arg, unsigned int order,
				  const struct bootpool_forward_reply *reply)
{
	struct bootpool_remote_block blk = {
		.page = reply->page,
		.order = order,
	};
	int ret = 0;
	u32 idx;

	for (;;) {
		while (!ret && !bootpool_rbtable_has_free(&dom->rb))
			ret = bootpool_rbtable_grow(&dom->rb, &dom->lock,
						    dom->gen_base);
		if (ret) {
			bootpool_dionysos_release(blk.page, order, dom->memcg,
						  false);
			return ret;
		}
		spin_lock(&dom->lock);
		if (!bootpool_rbtable_insert(&dom->rb, &blk, &idx))
			break;
		/* Another thread of the domain took the last free entry. */
		spin_unlock(&dom->lock);
	}

	arg->source = BOOTPOOL_SOURCE_DIONYSOS;
	arg->handle = bootpool_remote_handle(idx, blk.gen);
	arg->granted = (u64)PAGE_SIZE << order;
	arg->cpu = reply->cpu;
	arg->served_cpu = reply->served_cpu;
	arg->hops = reply->hops;
	arg->ipis = reply->ipis;
	dom->stats.remote_allocs++;
	dom->stats.ipis += arg->ipis;
	dom->stats.hops += arg->hops;
	dom->stats.bytes_requested += arg->size;
	dom->stats.bytes_granted += arg->granted;

	bootpool_count(BOOTPOOL_CNT_REMOTE_ALLOCS, 1);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, 1L << order);
	bootpool_count(BOOTPOOL_CNT_IPIS, arg->ipis);
	bootpool_count(BOOTPOOL_CNT_HOPS, arg->hops);
	spin_unlock(&dom->lock);
	return 0;
}

/**
 * bootpool_domain_alloc() - serve an ALLOC request
 * @dom: the caller's domain.
 * @arg: the request; the output fields are filled on success.
 *
 * A pool ALLOC takes the domain's lock once. A remote one takes it to
 * route and charge the request, drops it here while the request travels
 * to Dionysos, and takes it again to record the block
 * (bootpool_remote_record()), or to take the charge back.
 *
 * Context: process context, may sleep; takes the domain's lock. The caller
 * is the domain's process (bootpool_domain_is_current()): it holds the
 * descriptor and uses the address space, so neither the last close nor the
 * process's exit can have torn the domain down.
 * Return: 0, or -EINVAL (bad size or flags), or -ENOMEM, -EINTR or
 * -ESHUTDOWN (see bootpool_forward_request()); -ENODEV, with a warning, if
 * the domain was torn down all the same.
 */
int bootpool_domain_alloc(struct bootpool_domain *dom,
			  struct bootpool_alloc *arg)
{
	struct bootpool_forward_reply reply;
	enum bootpool_route route;
	unsigned int order;
	u32 reason;
	int ret;

	if (!arg->size || arg->size > BOOTPOOL_MAX_ALLOC_SIZE || arg->flags)
		return -EINVAL;

	spin_lock(&dom->lock);
	if (WARN_ON_ONCE(dom->dead)) {
		spin_unlock(&dom->lock);
		return -ENODEV;
	}
	dom->sealed = true;
	route = bootpool_policy_route(dom->policy, dom->switched, dom->nr_free,
				      arg->size, &reason);
	if (reason != BOOTPOOL_SWITCH_NONE)
		bootpool_domain_set_switch(dom, reason);

	if (route == BOOTPOOL_ROUTE_POOL) {
		bootpool_pool_take(dom, arg, raw_smp_processor_id());
		spin_unlock(&dom->lock);

		bootpool_count(BOOTPOOL_CNT_POOL_ALLOCS, 1);
		bootpool_count(BOOTPOOL_CNT_POOL_USED, 1);
		bootpool_alloc_traced(dom, arg);
		return 0;
	}

	order = bootpool_size_order(arg->size);
	ret = bootpool_remote_charge(dom, order);
	if (!ret) {
		/* The request travels to Dionysos without the lock. */
		spin_unlock(&dom->lock);
		ret = bootpool_forward_request(dom->memcg, order, &reply);
		if (!ret)
			ret = bootpool_remote_record(dom, arg, order, &reply);
		if (!ret) {
			bootpool_alloc_traced(dom, arg);
			return 0;
		}
		spin_lock(&dom->lock);
		bootpool_remote_uncharge(dom, order);
	}
	bootpool_alloc_failed(dom);
	spin_unlock(&dom->lock);
	return ret;
}

/*
 * Take the Dionysos block at @idx, freed and with no mapping left, out of
 * the table; bootpool_remote_give_back() gives it back once the lock is
 * dropped.
 * Context: the domain's lock held.
 */
static void bootpool_remote_erase(struct bootpool_domain *dom, u32 idx,
				  const struct bootpool_remote_block *blk)
	__must_hold(&dom->lock)
{
	bootpool_rbtable_erase(&dom->rb, idx);
	dom->remote_pages -= 1UL << blk->order;
}

/*
 * Give a block bootpool_remote_erase() took out back to the user's share
 * and to Dionysos.
 * Context: process context; the domain's lock not held.
 */
static void bootpool_remote_give_back(struct bootpool_domain *dom,
				      const struct bootpool_remote_block *blk)
{
	unsigned long pages = 1UL << blk->order;

	bootpool_user_uncharge(dom->user, pages);
	bootpool_count(BOOTPOOL_CNT_REMOTE_PAGES, -(long)pages);
	bootpool_dionysos_release(blk->page, blk->order, dom->memcg,
				  blk->mapped);
}

static int bootpool_domain_free_remote(struct bootpool_domain *dom,
				       u64 handle)
{
	struct bootpool_remote_block blk;
	long idx;

	spin_lock(&dom->lock);
	idx = bootpool_rbtable_lookup(&dom->rb, handle, &blk);
	if (idx < 0) {
		spin_unlock(&dom->lock);
		return -EINVAL;
	}
	dom->stats.frees++;
	bootpool_count(BOOTPOOL_CNT_REMOTE_FREES, 1);
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE << blk.order,
			    BOOTPOOL_SOURCE_DIONYSOS);
	if (dom->rb.maps[idx]) {
		/* Kept, and counted, until its last mapping goes. */
		bootpool_rbtable_mark_freed(&dom->rb, idx);
		dom->kept_pages += 1UL << blk.order;
		spin_unlock(&dom->lock);
		bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, 1L << blk.order);
		return 0;
	}
	bootpool_remote_erase(dom, idx, &blk);
	spin_unlock(&dom->lock);
	bootpool_remote_give_back(dom, &blk);
	return 0;
}

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

/*
 * Put a free slot back on the free stack, unless its generations are used
 * up: then it is retired, and its page stays out of the pool (counted as
 * used) until the domain ends.
 * Context: the domain's lock held.
 * Return: true when the slot is free again.
 */
static __always_inline bool bootpool_pool_put(struct bootpool_domain *dom,
					      unsigned int slot)
	__must_hold(&dom->lock)
{
	if (unlikely(dom->gen[slot] > BOOTPOOL_POOL_GEN_MAX))
		return false;
	dom->free_stack[dom->nr_free++] = slot;
	return true;
}

/*
 * Put a freed pool slot whose page was mapped, and is mapped no more, back
 * on the free stack, its page zeroed. A page that something else still
 * holds (no mapping can make one: its PTEs are special) is neither zeroed
 * nor reused: its slot stays taken until the domain ends.
 * Context: process context; the domain's lock not held.
 */
static void bootpool_pool_recycle(struct bootpool_domain *dom,
				  unsigned int slot)
{
	struct page *page;
	bool put = false;

	spin_lock(&dom->lock);
	page = dom->dead ? NULL : dom->pages[slot];
	spin_unlock(&dom->lock);
	if (!page || page_count(page) != 1)
		return;

	/* Out of the pool and out of reach until zeroed. */
	clear_highpage(page);
	spin_lock(&dom->lock);
	if (!dom->dead) {
		__clear_bit(slot, dom->dirty);
		put = bootpool_pool_put(dom, slot);
	}
	spin_unlock(&dom->lock);
	if (put)
		bootpool_count(BOOTPOOL_CNT_POOL_USED, -1);
}

/**
 * bootpool_domain_free() - serve a FREE request
 * @dom: the caller's domain.
 * @handle: the block.
 *
 * The handle is dead on return. A block still mapped is kept until its
 * last mapping goes; any other goes back at once.
 *
 * Context: process context, may sleep; takes the domain's lock.
 * Return: 0, or -EINVAL for a handle the domain does not hold.
 */
int bootpool_domain_free(struct bootpool_domain *dom, u64 handle)
{
	bool dirty, put = false, kept = false;
	int slot;

	if (bootpool_handle_is_remote(handle))
		return bootpool_domain_free_remote(dom, handle);

	spin_lock(&dom->lock);
	slot = bootpool_pool_slot(dom, handle);
	if (slot < 0) {
		spin_unlock(&dom->lock);
		return -EINVAL;
	}
	dom->gen[slot]++;	/* even: free */
	dom->stats.frees++;
	/*
	 * The common case: a block never mapped (mmap sets its dirty bit
	 * first) is still zero: straight back on the free stack.
	 */
	dirty = test_bit(slot, dom->dirty);
	if (!dirty) {
		put = bootpool_pool_put(dom, slot);
	} else if (dom->pool_maps[slot]) {
		/* Kept, slot and all, until its last mapping goes. */
		dom->kept_pages++;
		kept = true;
	}
	spin_unlock(&dom->lock);

	bootpool_count(BOOTPOOL_CNT_POOL_FREES, 1);
	trace_bootpool_free(dom->tgid, handle, PAGE_SIZE, BOOTPOOL_SOURCE_POOL);
	if (put)
		bootpool_count(BOOTPOOL_CNT_POOL_USED, -1);
	else if (kept)
		bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, 1);
	else if (dirty)
		bootpool_pool_recycle(dom, slot);
	return 0;
}

/**
 * bootpool_domain_alloc_undo() - take back an ALLOC whose reply was lost
 * @dom: the caller's domain.
 * @arg: the request as bootpool_domain_alloc() served it.
 *
 * For an ALLOC that fails after it was served, because its reply could
 * not be written back whole: the block is freed, and every counter the
 * ALLOC and the FREE moved is moved back, so that the request changes
 * only ``failed_allocs``. A switch the request caused stays: the domain's
 * policy did see the request. The caller may have seen part of the reply,
 * the handle included, and freed the block meanwhile: then there is
 * nothing to take back, and nothing is counted.
 *
 * Context: process context, may sleep; takes the domain's lock.
 */
void bootpool_domain_alloc_undo(struct bootpool_domain *dom,
				const struct bootpool_alloc *arg)
{
	bool remote = arg->source == BOOTPOOL_SOURCE_DIONYSOS;

	if (bootpool_domain_free(dom, arg->handle))
		return;
	spin_lock(&dom->lock);
	dom->stats.frees--;
	if (remote)
		dom->stats.remote_allocs--;
	else
		dom->stats.pool_allocs--;
	dom->stats.bytes_requested -= arg->size;
	dom->stats.bytes_granted -= arg->granted;
	dom->stats.ipis -= arg->ipis;
	dom->stats.hops -= arg->hops;
	bootpool_alloc_failed(dom);
	spin_unlock(&dom->lock);

	bootpool_count(remote ? BOOTPOOL_CNT_REMOTE_ALLOCS :
				BOOTPOOL_CNT_POOL_ALLOCS, -1);
	bootpool_count(remote ? BOOTPOOL_CNT_REMOTE_FREES :
				BOOTPOOL_CNT_POOL_FREES, -1);
	bootpool_count(BOOTPOOL_CNT_IPIS, -(long)arg->ipis);
	bootpool_count(BOOTPOOL_CNT_HOPS, -(long)arg->hops);
}

/**
 * bootpool_domain_stats() - fill a STATS reply
 * @dom: the domain.
 * @st: the reply.
 *
 * Context: process context; takes the domain's lock.
 */
void bootpool_domain_stats(struct bootpool_domain *dom,
			   struct bootpool_stats *st)
{
	spin_lock(&dom->lock);
	*st = dom->stats;
	st->pool_pages = dom->nr_pages;
	st->pool_free = dom->nr_free;
	st->pool_used = dom->nr_pages - dom->nr_free;
	st->policy = dom->policy;
	st->switched = dom->switched;
	st->switch_reason = dom->switch_reason;
	st->switch_pages_left = dom->switch_pages_left;
	st->pad = 0;
	st->remote_bytes = (u64)dom->remote_pages << PAGE_SHIFT;
	st->kept_bytes = (u64)dom->kept_pages << PAGE_SHIFT;
	st->footprint_bytes = ((u64)dom->nr_pages << PAGE_SHIFT) +
			      st->remote_bytes;
	spin_unlock(&dom->lock);
}

/*
 * A mapping names its block by a key in vm_private_data: the pool slot, or
 * BOOTPOOL_HANDLE_REMOTE with the index in the table of remote blocks.
 * The block's entry stays put while it is mapped, freed or not.
 */
static unsigned int *bootpool_block_maps(struct bootpool_domain *dom,
					 unsigned long key)
	__must_hold(&dom->lock)
{
	if (key & BOOTPOOL_HANDLE_REMOTE)
		return &dom->rb.maps[bootpool_handle_remote_idx(key)];
	return &dom->pool_maps[key];
}

/*
 * A mapping of the block named by @key went away. When it was the last
 * and the block was freed meanwhile, the block goes back now.
 * Context: process context; the domain's lock not held.
 */
static void bootpool_block_unmapped(struct bootpool_domain *dom,
				    unsigned long key)
{
	struct bootpool_remote_block blk;
	u32 idx;

	spin_lock(&dom->lock);
	/* A dead domain gave everything back already. */
	if (dom->dead || --*bootpool_block_maps(dom, key))
		goto out_unlock;

	if (key & BOOTPOOL_HANDLE_REMOTE) {
		idx = bootpool_handle_remote_idx(key);
		bootpool_rbtable_get(&dom->rb, idx, &blk);
		if (!blk.freed)
			goto out_unlock;
		dom->kept_pages -= 1UL << blk.order;
		bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, -(1L << blk.order));
		bootpool_remote_erase(dom, idx, &blk);
		spin_unlock(&dom->lock);
		bootpool_remote_give_back(dom, &blk);
		return;
	}
	/* An odd generation: the slot is in use, not freed. */
	if (dom->gen[key] & 1)
		goto out_unlock;
	dom->kept_pages--;
	spin_unlock(&dom->lock);
	bootpool_count(BOOTPOOL_CNT_KEPT_PAGES, -1);
	bootpool_pool_recycle(dom, key);
	return;

out_unlock:
	spin_unlock(&dom->lock);
}

static struct bootpool_domain *bootpool_vma_domain(struct vm_area_struct *vma)
{
	/* The mapping holds the file, and the file the domain. */
	return vma->vm_file->private_data;
}

/* A copy of a mapping: split or moved by mremap (fork never copies it). */
static void bootpool_vm_open(struct vm_area_struct *vma)
{
	struct bootpool_domain *dom = bootpool_vma_domain(vma);

	spin_lock(&dom->lock);
	if (!dom->dead)
		++*bootpool_block_maps(dom, (unsigned long)vma->vm_private_data);
	spin_unlock(&dom->lock);
}

static void bootpool_vm_close(struct vm_area_struct *vma)
{
	bootpool_block_unmapped(bootpool_vma_domain(vma),
				(unsigned long)vma->vm_private_data);
}

static const struct vm_operations_struct bootpool_vm_ops = {
	.open	= bootpool_vm_open,
	.close	= bootpool_vm_close,
};

/* vma->vm_flags is read-only from 6.3 on, where vm_flags_set() came. */
static void bootpool_vm_flags_set(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
#ifdef BOOTPOOL_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/* Allocate the pool's mapping counts at the first mmap of a pool block. */
static int bootpool_pool_maps_init(struct bootpool_domain *dom)
{
	unsigned int *maps;

	if (READ_ONCE(dom->pool_maps))
		return 0;
	/* No teardown can run during an mmap: nr_pages is stable. */
	maps = kcalloc(max(dom->nr_pages, 1U), sizeof(*maps),
		       GFP_KERNEL_ACCOUNT);
	if (!maps)
		return -ENOMEM;
	spin_lock(&dom->lock);
	if (!dom->pool_maps) {
		dom->pool_maps = maps;
		maps = NULL;
	}
	spin_unlock(&dom->lock);
	kfree(maps);
	return 0;
}

/*
 * The handle of the block allocated at mmap page offset @pgoff, or 0.
 * Context: the domain's lock held.
 */
static u64 bootpool_pgoff_handle(struct bootpool_domain *dom,
				 unsigned long pgoff)
	__must_hold(&dom->lock)
{
	unsigned long i;
	u64 gen;

	if (pgoff >= BOOTPOOL_PGOFF_REMOTE)
		return bootpool_rbtable_handle(&dom->rb,
					       pgoff - BOOTPOOL_PGOFF_REMOTE);
	i = pgoff - BOOTPOOL_PGOFF_POOL;
	if (pgoff < BOOTPOOL_PGOFF_POOL || i >= dom->nr_pages)
		return 0;
	i = array_index_nospec(i, dom->nr_pages);
	gen = dom->gen[i];
	if (!(gen & 1) || gen > BOOTPOOL_POOL_GEN_MAX)
		return 0;
	return bootpool_pool_handle(i, gen);
}

/*
 * Find the block @handle names, check that @npages fit in it, mark it
 * mapped and count one more mapping of it.
 * Return: its first page, with *@key set, or NULL.
 * Context: the domain's lock held.
 */
static struct page *bootpool_block_map(struct bootpool_domain *dom,
				       u64 handle, unsigned long npages,
				       unsigned long *key)
	__must_hold(&dom->lock)
{
	struct bootpool_remote_block blk;
	long idx;
	int slot;

	if (bootpool_handle_is_remote(handle)) {
		idx = bootpool_rbtable_lookup(&dom->rb, handle, &blk);
		if (idx < 0 || npages > (1UL << blk.order))
			return NULL;
		bootpool_rbtable_mark_mapped(&dom->rb, idx);
		dom->rb.maps[idx]++;
		*key = BOOTPOOL_HANDLE_REMOTE | idx;
		return blk.page;
	}
	slot = bootpool_pool_slot(dom, handle);
	if (slot < 0 || npages != 1 || !dom->pool_maps)
		return NULL;
	__set_bit(slot, dom->dirty);
	dom->pool_maps[slot]++;
	*key = slot;
	return dom->pages[slot];
}

/**
 * bootpool_domain_mmap() - map a block
 * @dom: the caller's domain.
 * @vma: the mapping; its offset names the block (bootpool_handle_pgoff()).
 *
 * The block counts the mapping: a block freed while mapped is kept until
 * its last mapping goes. The mapping's page table entries are special
 * ones, which hold no reference on the pages and which no
 * get_user_pages() user can take. It is not inherited across fork.
 *
 * Context: process context, mmap_lock held for writing.
 * Return: 0, -EINVAL for a private mapping, an offset that names no block,
 * or a length larger than the block; -ENOMEM; or an error of
 * remap_pfn_range().
 */
int bootpool_domain_mmap(struct bootpool_domain *dom,
			 struct vm_area_struct *vma)
{
	unsigned long key, npages = vma_pages(vma);
	struct page *first;
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff < BOOTPOOL_PGOFF_REMOTE) {
		ret = bootpool_pool_maps_init(dom);
		if (ret)
			return ret;
	}

	/* Counted before the lock is dropped, so that FREE keeps the block. */
	spin_lock(&dom->lock);
	first = bootpool_block_map(dom, bootpool_pgoff_handle(dom, vma->vm_pgoff),
				   npages, &key);
	spin_unlock(&dom->lock);
	if (!first)
		return -EINVAL;

	/*
	 * VM_IO as well as VM_DONTCOPY: madvise(MADV_DOFORK) refuses it, so
	 * no process can make a fork inherit the mapping. Special PTEs
	 * (remap_pfn_range(), VM_PFNMAP), not vm_insert_page()'s ordinary
	 * ones: GUP-fast refuses them on every kernel, where 6.1's does not
	 * look at VM_IO, so no get_user_pages() user (vmsplice(), O_DIRECT)
	 * can hold the pages past the block's life. A block's pages are
	 * contiguous (a Dionysos block is one split allocation).
	 */
	bootpool_vm_flags_set(vma, VM_IO | VM_DONTCOPY | VM_DONTEXPAND |
				   VM_DONTDUMP);
	ret = remap_pfn_range(vma, vma->vm_start, page_to_pfn(first),
			      npages << PAGE_SHIFT, vma->vm_page_prot);
	if (ret) {
		/* A failed mmap is unmapped without a close. */
		bootpool_block_unmapped(dom, key);
		return ret;
	}
	vma->vm_private_data = (void *)key;
	vma->vm_ops = &bootpool_vm_ops;
	return 0;
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
