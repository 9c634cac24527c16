// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: mapping blocks
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
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/slab.h>

#include "bootpool.h"
#include "domain.h"

/*
 * A mapping names its block by a key in vm_private_data: the pool slot, or
 * BOOTPOOL_HANDLE_REMOTE with the index in the table of remote blocks.
 * The block's entry stays put while it is mapped, freed or not.
 */
static unsigned int *bootpool_mapping_count(struct bootpool_domain *dom,
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
static void bootpool_mapping_put(struct bootpool_domain *dom,
				 unsigned long key)
{
	struct bootpool_remote_block blk;
	u32 idx;

	spin_lock(&dom->lock);
	/* A dead domain gave everything back already. */
	if (dom->dead || --*bootpool_mapping_count(dom, key))
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
		++*bootpool_mapping_count(dom, (unsigned long)vma->vm_private_data);
	spin_unlock(&dom->lock);
}

static void bootpool_vm_close(struct vm_area_struct *vma)
{
	bootpool_mapping_put(bootpool_vma_domain(vma),
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
static struct page *bootpool_mapping_get(struct bootpool_domain *dom,
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
	first = bootpool_mapping_get(dom,
				     bootpool_pgoff_handle(dom, vma->vm_pgoff),
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
		bootpool_mapping_put(dom, key);
		return ret;
	}
	vma->vm_private_data = (void *)key;
	vma->vm_ops = &bootpool_vm_ops;
	return 0;
}
