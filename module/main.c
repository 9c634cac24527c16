// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: bootpool
 *
 * bootpool emulates the bootstrap memory of a Barrelfish domain on Linux.
 * Every process that opens /dev/bootpool gets a fixed pool of page-sized
 * blocks and, depending on its policy, switches early or late to
 * Dionysos, a memory service thread on one CPU that other CPUs reach by
 * IPI. This file holds the module's parameters, the misc device and the
 * ioctl dispatch; see domain.c, policy.h, dionysos.c and forward.c for the
 * rest.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "bootpool.h"

#define CREATE_TRACE_POINTS
#include "bootpool_trace.h"

unsigned int bootpool_pool_pages = 256;
unsigned int bootpool_dionysos_cpu;
unsigned int bootpool_dionysos_mb = 64;
unsigned int bootpool_max_remote_mb = 16;
unsigned int bootpool_forward_hops = 1;
unsigned int bootpool_max_user_mb = 32;
int bootpool_default_policy = BOOTPOOL_POLICY_LATE;
static ushort bootpool_device_mode = 0600;

/*
 * Set a uint parameter to @val when it lies in [@min, @max], else -EINVAL
 * (as param_set_uint_minmax()). The paths that use the parameters read
 * them locklessly with READ_ONCE(), so the store is marked too.
 */
static int bootpool_param_set_uint(const char *val,
				   const struct kernel_param *kp,
				   unsigned int min, unsigned int max)
{
	unsigned int n;
	int ret;

	if (!val)
		return -EINVAL;
	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < min || n > max)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

/* A writable uint parameter; values outside [@min, @max] are -EINVAL. */
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

BOOTPOOL_PARAM_UINT(pool_pages, 0, BOOTPOOL_MAX_POOL_PAGES,
		    "Pages in each new domain's pool, 0-4096 (default 256)");
BOOTPOOL_PARAM_UINT(forward_hops, 1, BOOTPOOL_MAX_HOPS,
		    "Cross-CPU hops a request from another CPU takes to Dionysos, 1-8 (default 1)");
BOOTPOOL_PARAM_UINT(dionysos_mb, 0, BOOTPOOL_MAX_MB,
		    "Dionysos's budget in MiB, 0-1048576 (default 64)");
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

module_param_named(dionysos_cpu, bootpool_dionysos_cpu, uint, 0444);
MODULE_PARM_DESC(dionysos_cpu, "CPU Dionysos runs on (default 0)");
module_param_named(device_mode, bootpool_device_mode, ushort, 0444);
MODULE_PARM_DESC(device_mode, "Mode of /dev/bootpool (default 0600)");

/*
 * A descriptor serves only the process (thread group) that opened it: not
 * a forked child, not the receiver of a passed descriptor, and not a
 * process that shares its address space (clone(CLONE_VM) without
 * CLONE_THREAD, or a vfork() child before it execs).
 */
static struct bootpool_domain *bootpool_file_domain(struct file *file)
{
	struct bootpool_domain *dom = file->private_data;

	if (dom->notifier.mm != current->mm || dom->tgid != current->tgid)
		return NULL;
	return dom;
}

static int bootpool_open(struct inode *inode, struct file *file)
{
	struct bootpool_domain *dom;

	if (!current->mm)
		return -EINVAL;
	dom = bootpool_domain_attach();
	if (IS_ERR(dom))
		return PTR_ERR(dom);
	file->private_data = dom;
	return 0;
}

static int bootpool_release(struct inode *inode, struct file *file)
{
	bootpool_domain_detach(file->private_data);
	return 0;
}

/**
 * struct bootpool_ioctl_desc - an ioctl the device knows
 * @cmd: its number, with the size of the kernel's structure.
 * @min_size: the smallest (oldest) structure accepted.
 */
struct bootpool_ioctl_desc {
	unsigned int cmd;
	unsigned int min_size;
};

static const struct bootpool_ioctl_desc bootpool_ioctls[] = {
	{ BOOTPOOL_IOC_ALLOC, BOOTPOOL_ALLOC_SIZE_VER0 },
	{ BOOTPOOL_IOC_FREE, BOOTPOOL_FREE_SIZE_VER0 },
	{ BOOTPOOL_IOC_SET_POLICY, BOOTPOOL_POLICY_SIZE_VER0 },
	{ BOOTPOOL_IOC_STATS, BOOTPOOL_STATS_SIZE_VER0 },
	{ BOOTPOOL_IOC_ALLOC_BATCH, BOOTPOOL_ALLOC_BATCH_SIZE_VER0 },
};

union bootpool_ioctl_arg {
	struct bootpool_alloc alloc;
	struct bootpool_free free;
	struct bootpool_policy policy;
	struct bootpool_stats stats;
	struct bootpool_alloc_batch batch;
};

/* Elements of a batch copied at a time when their stride is ours. */
#define BOOTPOOL_BATCH_CHUNK	16

/*
 * The fields of &struct bootpool_alloc that ALLOC reads and writes, for
 * @n arguments laid out as an array at @uptr. A caller whose struct is
 * ours has them read and written one field at a time, in one user access
 * window, rather than the whole struct copied both ways: for a struct this
 * small a string copy costs more than the few stores (and much more under
 * emulation, where a string instruction runs byte by byte). Inline, so
 * that the ALLOC fast path makes no call of its own but into the domain.
 */
static __always_inline int
bootpool_alloc_get(struct bootpool_alloc *a,
		   const struct bootpool_alloc __user *uptr, unsigned int n)
{
	unsigned int i;

	if (!user_access_begin(uptr, n * sizeof(*uptr)))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		unsafe_get_user(a[i].size, &uptr[i].size, efault);
		unsafe_get_user(a[i].flags, &uptr[i].flags, efault);
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

static __always_inline int
bootpool_alloc_put(struct bootpool_alloc __user *uptr,
		   const struct bootpool_alloc *a, unsigned int n)
{
	unsigned int i;

	if (!user_access_begin(uptr, n * sizeof(*uptr)))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		unsafe_put_user(a[i].source, &uptr[i].source, efault);
		unsafe_put_user(a[i].handle, &uptr[i].handle, efault);
		unsafe_put_user(a[i].granted, &uptr[i].granted, efault);
		unsafe_put_user(a[i].mmap_offset, &uptr[i].mmap_offset,
				efault);
		unsafe_put_user(a[i].cpu, &uptr[i].cpu, efault);
		unsafe_put_user(a[i].served_cpu, &uptr[i].served_cpu, efault);
		unsafe_put_user(a[i].hops, &uptr[i].hops, efault);
		unsafe_put_user(a[i].ipis, &uptr[i].ipis, efault);
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Serve one element, reconciling its size like the argument of ALLOC.
 * Return: 0, the element's errno, or -EFAULT (block taken back).
 */
static long bootpool_batch_one(struct bootpool_domain *dom,
			       void __user *uptr, size_t usize)
{
	const size_t ksize = sizeof(struct bootpool_alloc);
	struct bootpool_alloc a;
	long ret;

	ret = copy_struct_from_user(&a, ksize, uptr, usize);
	if (ret)
		return ret;
	ret = bootpool_domain_alloc(dom, &a);
	if (ret)
		return ret;
	if (copy_to_user(uptr, &a, min(usize, ksize))) {
		bootpool_domain_alloc_undo(dom, &a, true);
		return -EFAULT;
	}
	return 0;
}

/*
 * Write back the replies of @n served elements of our own stride. When one
 * cannot be written, it and those after it are taken back, newest first:
 * it counts as a failed ALLOC, those after it as never made.
 * Return: replies written; *@err is -EFAULT if not all.
 */
static u32 bootpool_batch_put(struct bootpool_domain *dom,
			      struct bootpool_alloc __user *uptr,
			      const struct bootpool_alloc *a, u32 n, long *err)
{
	u32 i, done = 0;

	if (!bootpool_alloc_put(uptr, a, n))
		return n;
	while (done < n && !bootpool_alloc_put(uptr + done, &a[done], 1))
		done++;
	for (i = n; i-- > done;)
		bootpool_domain_alloc_undo(dom, &a[i], i == done);
	*err = -EFAULT;
	return done;
}

/*
 * Serve up to @n elements of our own stride with one copy in, and one copy
 * out for each run of pool blocks and for each other element, so that an
 * element whose reply cannot be written back stops the batch where it is.
 * An element that cannot be read is found by serving the elements one at
 * a time. Return: elements served and written back; *@err is the errno
 * that stopped it early, if any.
 */
static u32 bootpool_batch_chunk(struct bootpool_domain *dom,
				struct bootpool_alloc __user *uptr, u32 n,
				long *err)
{
	struct bootpool_alloc a[BOOTPOOL_BATCH_CHUNK];
	u32 i = 0, run, done;

	if (bootpool_alloc_get(a, uptr, n)) {
		for (i = 0; i < n; i++) {
			*err = bootpool_batch_one(dom, uptr + i, sizeof(a[0]));
			if (*err)
				break;
		}
		return i;
	}
	while (i < n) {
		run = bootpool_domain_alloc_pool_run(dom, &a[i], n - i);
		if (!run) {
			*err = bootpool_domain_alloc(dom, &a[i]);
			if (*err)
				break;
			run = 1;
		}
		done = bootpool_batch_put(dom, uptr + i, &a[i], run, err);
		i += done;
		if (done < run)
			break;
	}
	return i;
}

/*
 * Serve a batch in order, each element like one ALLOC; stop at the first
 * failure. Return: 0 with @batch->done set, or the first element's errno
 * when none was served.
 */
static long bootpool_ioctl_alloc_batch(struct bootpool_domain *dom,
				       struct bootpool_alloc_batch *batch)
{
	void __user *uptr = u64_to_user_ptr(batch->allocs);
	size_t usize = batch->stride;
	u32 i = 0, n, done;
	long ret = 0;

	if (!batch->count || batch->count > BOOTPOOL_BATCH_MAX ||
	    usize < BOOTPOOL_ALLOC_SIZE_VER0 || usize > PAGE_SIZE ||
	    batch->flags)
		return -EINVAL;

	while (i < batch->count && !ret) {
		if (usize == sizeof(struct bootpool_alloc)) {
			n = min_t(u32, batch->count - i, BOOTPOOL_BATCH_CHUNK);
			done = bootpool_batch_chunk(dom, uptr, n, &ret);
		} else {
			ret = bootpool_batch_one(dom, uptr, usize);
			done = !ret;
		}
		i += done;
		uptr += done * usize;
		if (!ret && fatal_signal_pending(current))
			break;
	}
	batch->done = i;
	return i ? 0 : ret;
}

static long bootpool_ioctl_dispatch(struct bootpool_domain *dom,
				    unsigned int kcmd,
				    union bootpool_ioctl_arg *karg)
{
	switch (kcmd) {
	case BOOTPOOL_IOC_ALLOC:
		return bootpool_domain_alloc(dom, &karg->alloc);
	case BOOTPOOL_IOC_FREE:
		if (karg->free.flags)
			return -EINVAL;
		return bootpool_domain_free(dom, karg->free.handle);
	case BOOTPOOL_IOC_SET_POLICY:
		if (karg->policy.flags)
			return -EINVAL;
		return bootpool_domain_set_policy(dom, karg->policy.policy);
	case BOOTPOOL_IOC_STATS:
		bootpool_domain_stats(dom, &karg->stats);
		return 0;
	case BOOTPOOL_IOC_ALLOC_BATCH:
		return bootpool_ioctl_alloc_batch(dom, &karg->batch);
	}
	return -ENOTTY;
}

/*
 * Copy an argument in. A caller whose struct is ours gets a copy of
 * constant size, whose bounds are checked at build time; older and newer
 * structs are reconciled by copy_struct_from_user().
 */
static int bootpool_copy_in(unsigned int kcmd, union bootpool_ioctl_arg *karg,
			    void __user *uarg, unsigned int usize)
{
	unsigned long left;

	if (usize != _IOC_SIZE(kcmd))
		return copy_struct_from_user(karg, _IOC_SIZE(kcmd), uarg, usize);

	switch (kcmd) {
	case BOOTPOOL_IOC_SET_POLICY:
		left = copy_from_user(&karg->policy, uarg, sizeof(karg->policy));
		break;
	case BOOTPOOL_IOC_ALLOC_BATCH:
		left = copy_from_user(&karg->batch, uarg, sizeof(karg->batch));
		break;
	default:
		return copy_struct_from_user(karg, _IOC_SIZE(kcmd), uarg, usize);
	}
	return left ? -EFAULT : 0;
}

/* Copy a reply out: as much of it as the caller's struct holds. */
static int bootpool_copy_out(unsigned int kcmd, union bootpool_ioctl_arg *karg,
			     void __user *uarg, unsigned int usize)
{
	unsigned long left;

	if (usize < _IOC_SIZE(kcmd))
		return copy_to_user(uarg, karg, usize) ? -EFAULT : 0;

	switch (kcmd) {
	case BOOTPOOL_IOC_STATS:
		left = copy_to_user(uarg, &karg->stats, sizeof(karg->stats));
		break;
	case BOOTPOOL_IOC_ALLOC_BATCH:
		left = copy_to_user(uarg, &karg->batch, sizeof(karg->batch));
		break;
	default:
		left = copy_to_user(uarg, karg, _IOC_SIZE(kcmd));
	}
	return left ? -EFAULT : 0;
}

/*
 * ALLOC with a struct of our size, the hot path: only the input fields are
 * read and the output fields written. Every output field is set by
 * bootpool_domain_alloc() when it succeeds.
 */
static long bootpool_ioctl_alloc(struct bootpool_domain *dom,
				 struct bootpool_alloc __user *uarg)
{
	struct bootpool_alloc a;
	long ret;

	ret = bootpool_alloc_get(&a, uarg, 1);
	if (ret)
		return ret;
	ret = bootpool_domain_alloc(dom, &a);
	if (ret)
		return ret;
	if (bootpool_alloc_put(uarg, &a, 1)) {
		/* The caller cannot learn the handle: take the block back. */
		bootpool_domain_alloc_undo(dom, &a, true);
		return -EFAULT;
	}
	return 0;
}

/* FREE with a struct of our size, the other hot path: one access window. */
static long bootpool_ioctl_free(struct bootpool_domain *dom,
				struct bootpool_free __user *uarg)
{
	u64 handle, flags;

	if (!user_access_begin(uarg, sizeof(*uarg)))
		return -EFAULT;
	unsafe_get_user(handle, &uarg->handle, efault);
	unsafe_get_user(flags, &uarg->flags, efault);
	user_access_end();
	if (flags)
		return -EINVAL;
	return bootpool_domain_free(dom, handle);
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * Every command but the hot paths, and every size: through the argument
 * union. Kept out of line so that its stack, which the kernel may clear
 * on entry (CONFIG_INIT_STACK_ALL_ZERO), costs the hot paths nothing.
 */
static noinline_for_stack long
bootpool_ioctl_generic(struct bootpool_domain *dom, unsigned int cmd,
		       const struct bootpool_ioctl_desc *desc,
		       void __user *uarg)
{
	unsigned int kcmd = desc->cmd, ksize, usize;
	union bootpool_ioctl_arg karg;
	long ret;

	/* Cleared, so that no reply can carry stale kernel stack. */
	memset(&karg, 0, sizeof(karg));
	usize = _IOC_SIZE(cmd);
	ksize = _IOC_SIZE(kcmd);
	if (usize < desc->min_size)
		return -EINVAL;
	if (_IOC_DIR(kcmd) & _IOC_WRITE) {
		ret = bootpool_copy_in(kcmd, &karg, uarg, usize);
		if (ret)
			return ret;
	}

	ret = bootpool_ioctl_dispatch(dom, kcmd, &karg);
	if (ret || !(_IOC_DIR(kcmd) & _IOC_READ))
		return ret;

	if (bootpool_copy_out(kcmd, &karg, uarg, usize) ||
	    (usize > ksize && clear_user(uarg + ksize, usize - ksize))) {
		/* The caller cannot learn the handle: take the block back. */
		if (kcmd == BOOTPOOL_IOC_ALLOC)
			bootpool_domain_alloc_undo(dom, &karg.alloc, true);
		return -EFAULT;
	}
	return 0;
}

static long bootpool_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int nr = _IOC_NR(cmd);
	struct bootpool_domain *dom;

	if (cmd != BOOTPOOL_IOC_ALLOC && cmd != BOOTPOOL_IOC_FREE) {
		if (_IOC_TYPE(cmd) != BOOTPOOL_IOC_MAGIC ||
		    nr >= ARRAY_SIZE(bootpool_ioctls))
			return -ENOTTY;
		nr = array_index_nospec(nr, ARRAY_SIZE(bootpool_ioctls));
		if (_IOC_DIR(cmd) != _IOC_DIR(bootpool_ioctls[nr].cmd))
			return -ENOTTY;
	}

	dom = bootpool_file_domain(file);
	if (!dom)
		return -EPERM;
	/* The hot paths, with no argument union to clear or copy. */
	if (cmd == BOOTPOOL_IOC_ALLOC)
		return bootpool_ioctl_alloc(dom, uarg);
	if (cmd == BOOTPOOL_IOC_FREE)
		return bootpool_ioctl_free(dom, uarg);
	return bootpool_ioctl_generic(dom, cmd, &bootpool_ioctls[nr], uarg);
}

static int bootpool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct bootpool_domain *dom = bootpool_file_domain(file);

	if (!dom)
		return -EPERM;
	return bootpool_domain_mmap(dom, vma);
}

static void bootpool_show_fdinfo(struct seq_file *m, struct file *file)
{
	bootpool_domain_show(m, file->private_data, "bootpool_");
}

static const struct file_operations bootpool_fops = {
	.owner		= THIS_MODULE,
	.open		= bootpool_open,
	.release	= bootpool_release,
	.unlocked_ioctl	= bootpool_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= bootpool_mmap,
	.show_fdinfo	= bootpool_show_fdinfo,
	.llseek		= noop_llseek,
};

static struct miscdevice bootpool_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "bootpool",
	.fops	= &bootpool_fops,
};

static int __init bootpool_init(void)
{
	int ret;

	ret = bootpool_dionysos_start();
	if (ret)
		return ret;

	bootpool_debugfs_init();

	bootpool_misc.mode = bootpool_device_mode;
	ret = misc_register(&bootpool_misc);
	if (ret)
		goto out_remove_debugfs;
	return 0;

out_remove_debugfs:
	bootpool_debugfs_exit();
	bootpool_dionysos_stop();
	return ret;
}

static void __exit bootpool_exit(void)
{
	misc_deregister(&bootpool_misc);
	bootpool_domains_synchronize();
	bootpool_debugfs_exit();
	bootpool_dionysos_stop();
}

module_init(bootpool_init);
module_exit(bootpool_exit);

MODULE_DESCRIPTION("Per-process bootstrap memory pools with a late switch to a remote memory service");
MODULE_LICENSE("GPL");
