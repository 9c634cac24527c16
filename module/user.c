// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: each user's share of Dionysos
 *
 * The domains of one user hold at most ``max_user_mb`` MiB from Dionysos
 * together. A user is known by a uid (bootpool_share_uid()); an entry
 * lives while the user has a live domain, and counts the Dionysos pages
 * its domains hold or are requesting.
 */
#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/refcount.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/user_namespace.h>

#include "bootpool.h"
#include "domain.h"

unsigned int bootpool_max_user_mb = 32;

BOOTPOOL_PARAM_UINT(max_user_mb, 0, BOOTPOOL_MAX_MB,
		    "MiB the domains of one user may hold from Dionysos together, 0-1048576 (default 32)");

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
struct bootpool_user *bootpool_user_get(kuid_t uid)
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

void bootpool_user_put(struct bootpool_user *u)
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
kuid_t bootpool_share_uid(const struct cred *cred)
{
	const struct user_namespace *ns = cred->user_ns;
	kuid_t uid = cred->uid;

	while (ns != &init_user_ns && !uid_eq(ns->owner, GLOBAL_ROOT_UID)) {
		uid = ns->owner;
		ns = ns->parent;
	}
	return uid;
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
