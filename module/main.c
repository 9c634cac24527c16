// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: bootpool
 *
 * bootpool emulates the bootstrap memory of a Barrelfish domain on Linux.
 * Every process that opens /dev/bootpool gets a fixed pool of page-sized
 * blocks and, depending on its policy, switches early or late to
 * Dionysos, a memory service thread on one CPU that other CPUs reach by
 * IPI. This file holds the misc device and its one ioctl path; see
 * domain.c, user.c, alloc.c, mmap.c, rbtable.c, policy.h, forward.c and
 * dionysos.c for the rest, each with the module parameters it reads.
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

static ushort bootpool_device_mode = 0600;

module_param_named(device_mode, bootpool_device_mode, ushort, 0444);
MODULE_PARM_DESC(device_mode, "Mode of /dev/bootpool (default 0600)");

/* The descriptor's domain, or NULL when the caller is not its process. */
static struct bootpool_domain *bootpool_file_domain(struct file *file)
{
	struct bootpool_domain *dom = file->private_data;

	return bootpool_domain_is_current(dom) ? dom : NULL;
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

/*
 * The ioctls, as dma_heap_ioctl() serves them: one path for every command.
 * The argument is copied in, reconciled with the size the caller's
 * command encodes (an older, shorter struct is zero-extended down to its
 * ``*_SIZE_VER0``; a newer, longer one is accepted when its tail is zero),
 * the command is dispatched on the kernel's struct, and the reply is
 * copied out, as much of it as the caller's struct holds and zeros past
 * it. A reply that cannot be written back takes its ALLOC back, in one
 * place, bootpool_ioctl_one(); ALLOC_BATCH serves each of its elements
 * through the same function, as an ALLOC of the element's size.
 */

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
	{ BOOTPOOL_IOC_SWITCH, BOOTPOOL_SWITCH_SIZE_VER0 },
};

union bootpool_ioctl_arg {
	struct bootpool_alloc alloc;
	struct bootpool_free free;
	struct bootpool_policy policy;
	struct bootpool_stats stats;
	struct bootpool_alloc_batch batch;
	struct bootpool_switch sw;
};

/* Arguments are whole u64 words (the UAPI structs have no padding). */
static_assert(sizeof(struct bootpool_alloc) % sizeof(u64) == 0);
static_assert(sizeof(struct bootpool_free) % sizeof(u64) == 0);
static_assert(sizeof(struct bootpool_policy) % sizeof(u64) == 0);
static_assert(sizeof(struct bootpool_stats) % sizeof(u64) == 0);
static_assert(sizeof(struct bootpool_alloc_batch) % sizeof(u64) == 0);
static_assert(sizeof(struct bootpool_switch) % sizeof(u64) == 0);
/* The sizes before the last fields were added, which older programs pass. */
static_assert(offsetof(struct bootpool_alloc, instance) ==
	      BOOTPOOL_ALLOC_SIZE_VER1);
static_assert(offsetof(struct bootpool_stats, steals) ==
	      BOOTPOOL_STATS_SIZE_VER1);

/*
 * Copy an argument of the kernel's own size a word at a time, in one user
 * access window: into @kbuf from @ubuf when @in, else from @kbuf out to
 * @ubuf. For structs this small a string copy costs more than the few
 * loads or stores (much more under emulation, where a string instruction
 * runs byte by byte); design.rst, "The ioctl path", says more. Always inlined
 * with a constant @in, so that each caller keeps one loop.
 */
static __always_inline int bootpool_copy_words(u64 *kbuf, u64 __user *ubuf,
					       unsigned int size, bool in)
{
	unsigned int i;

	if (!user_access_begin(ubuf, size))
		return -EFAULT;
	for (i = 0; i < size / sizeof(u64); i++) {
		if (in)
			unsafe_get_user(kbuf[i], &ubuf[i], efault);
		else
			unsafe_put_user(kbuf[i], &ubuf[i], efault);
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Copy in @usize bytes as a @ksize struct (copy_struct_from_user()). */
static int bootpool_copy_in(void *karg, unsigned int ksize,
			    void __user *uarg, unsigned int usize)
{
	if (usize == ksize)
		return bootpool_copy_words(karg, uarg, ksize, true);
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/* Copy a reply out: as much as the caller's struct holds, zeros past it. */
static int bootpool_copy_out(void __user *uarg, unsigned int usize,
			     const void *karg, unsigned int ksize)
{
	/* Copied out, never written: the cast only shares the copy loop. */
	if (usize == ksize)
		return bootpool_copy_words((u64 *)karg, uarg, ksize, false);
	if (copy_to_user(uarg, karg, min(usize, ksize)))
		return -EFAULT;
	if (usize > ksize && clear_user(uarg + ksize, usize - ksize))
		return -EFAULT;
	return 0;
}

static long bootpool_ioctl_one(struct bootpool_domain *dom,
			       const struct bootpool_ioctl_desc *desc,
			       void __user *uarg, unsigned int usize);

/*
 * Serve a batch in order, each element as one ALLOC of the batch's stride;
 * stop at the first failure. Return: 0 with @batch->done set, or the first
 * element's errno when none was served.
 */
static long bootpool_ioctl_alloc_batch(struct bootpool_domain *dom,
				       struct bootpool_alloc_batch *batch)
{
	const struct bootpool_ioctl_desc *alloc =
		&bootpool_ioctls[_IOC_NR(BOOTPOOL_IOC_ALLOC)];
	void __user *uptr = u64_to_user_ptr(batch->allocs);
	unsigned int usize = batch->stride;
	long ret = 0;
	u32 done = 0;

	if (!batch->count || batch->count > BOOTPOOL_BATCH_MAX ||
	    usize < BOOTPOOL_ALLOC_SIZE_VER0 || usize > PAGE_SIZE ||
	    batch->flags)
		return -EINVAL;

	while (done < batch->count) {
		ret = bootpool_ioctl_one(dom, alloc, uptr + done * usize, usize);
		if (ret)
			break;
		done++;
		if (fatal_signal_pending(current))
			break;
	}
	batch->done = done;
	return done ? 0 : ret;
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
	case BOOTPOOL_IOC_SWITCH:
		if (karg->sw.flags)
			return -EINVAL;
		return bootpool_domain_switch(dom);
	}
	return -ENOTTY;
}

/*
 * One command with the caller's struct of @usize bytes at @uarg: copy in,
 * dispatch, copy out. The ioctl of every command, and each element of
 * ALLOC_BATCH.
 */
static long bootpool_ioctl_one(struct bootpool_domain *dom,
			       const struct bootpool_ioctl_desc *desc,
			       void __user *uarg, unsigned int usize)
{
	unsigned int kcmd = desc->cmd, ksize = _IOC_SIZE(kcmd);
	/*
	 * Not cleared on entry (CONFIG_INIT_STACK_ALL_ZERO): the copy in or
	 * the memset() below writes the first ksize bytes, and nothing past
	 * them is read or copied out.
	 */
	union bootpool_ioctl_arg karg __uninitialized;
	long ret;

	if (usize < desc->min_size)
		return -EINVAL;
	if (_IOC_DIR(kcmd) & _IOC_WRITE) {
		ret = bootpool_copy_in(&karg, ksize, uarg, usize);
		if (ret)
			return ret;
	} else {
		/* No reply may carry stale kernel stack. */
		memset(&karg, 0, ksize);
	}

	ret = bootpool_ioctl_dispatch(dom, kcmd, &karg);
	if (ret || !(_IOC_DIR(kcmd) & _IOC_READ))
		return ret;

	if (bootpool_copy_out(uarg, usize, &karg, ksize)) {
		/* The reply did not reach the caller whole: take the block back. */
		if (kcmd == BOOTPOOL_IOC_ALLOC)
			bootpool_domain_alloc_undo(dom, &karg.alloc);
		return -EFAULT;
	}
	return 0;
}

static long bootpool_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	unsigned int nr = _IOC_NR(cmd);
	struct bootpool_domain *dom;

	if (_IOC_TYPE(cmd) != BOOTPOOL_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(bootpool_ioctls))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(bootpool_ioctls));
	if (_IOC_DIR(cmd) != _IOC_DIR(bootpool_ioctls[nr].cmd))
		return -ENOTTY;

	dom = bootpool_file_domain(file);
	if (!dom)
		return -EPERM;
	return bootpool_ioctl_one(dom, &bootpool_ioctls[nr],
				  (void __user *)arg, _IOC_SIZE(cmd));
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

	ret = bootpool_forward_start();
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
	bootpool_forward_stop();
	return ret;
}

static void __exit bootpool_exit(void)
{
	misc_deregister(&bootpool_misc);
	bootpool_domains_synchronize();
	bootpool_debugfs_exit();
	bootpool_forward_stop();
}

module_init(bootpool_init);
module_exit(bootpool_exit);

MODULE_DESCRIPTION("Per-process bootstrap memory pools with a late switch to a remote memory service");
MODULE_LICENSE("GPL");
