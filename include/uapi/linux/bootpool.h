/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * bootpool: per-process bootstrap memory pools with a late switch to a
 * remote memory service.
 *
 * DOC: bootpool user-space API
 *
 * A process becomes a *domain* with its first open() of /dev/bootpool: a
 * pool of page-sized blocks is reserved for it. ALLOC serves requests from
 * that pool or from the memory service Dionysos, a kernel thread bound to
 * one CPU, according to the domain's switching policy. FREE returns a block
 * to where it came from, mmap() maps a block, STATS reports the domain's
 * counters, SWITCH moves the domain to Dionysos when it chooses.
 *
 * All structures have fixed-width fields and no implicit padding, so a
 * 32-bit program on a 64-bit kernel uses the same structures and ioctl
 * numbers (user pointers are carried in __u64 fields). The size
 * encoded in an ioctl number may differ from the size of the structure known
 * to the kernel: a shorter (older) structure is accepted down to its
 * ``*_SIZE_VER0``, missing input fields read as zero and missing output
 * fields are not written; a longer (newer) structure is accepted when its
 * unknown trailing input bytes are zero (otherwise ``E2BIG``), and unknown
 * trailing output bytes are cleared.
 *
 * mmap() maps one block: the offset is the block's @mmap_offset from
 * ALLOC, the length at most the block's granted size, and the mapping
 * must be ``MAP_SHARED``. An offset names its block while the block is
 * allocated; a later block may reuse it once the block is freed. mmap()
 * fails with ``EINVAL`` for a private mapping, an offset that names no
 * block of the process, or a longer length, and with ``ENOMEM`` when
 * memory ran out. The mapping is not inherited by
 * fork(), whatever the process does (madvise(MADV_DOFORK) fails with
 * ``EINVAL``), and get_user_pages() cannot take its pages (``VM_IO``,
 * and special page table entries, which GUP-fast refuses too). A block
 * freed while it is mapped is *kept*: its handle is dead at once, but its
 * pages stay in the mapping, and the block keeps its
 * pool slot or its place against the caps (and is reported in
 * @kept_bytes of STATS) until its last mapping is unmapped.
 *
 * Every ioctl and mmap() through a descriptor fails with ``EPERM`` when
 * called by a process other than the one that opened it: a forked child or
 * the receiver of a passed descriptor must open /dev/bootpool itself, and
 * a process that shares the opener's address space (clone(CLONE_VM)
 * without CLONE_THREAD, a vfork() child) can use neither the descriptor
 * nor open() a domain of its own on that address space. An ioctl number
 * bootpool does not know fails with ``ENOTTY``.
 */
#ifndef _UAPI_LINUX_BOOTPOOL_H
#define _UAPI_LINUX_BOOTPOOL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * enum bootpool_policy_id - when a domain switches from its pool to Dionysos
 * @BOOTPOOL_POLICY_LATE: serve requests of at most one page from the pool,
 *	sub-page ones with a whole page; switch to Dionysos for good at the
 *	first request the pool cannot serve (pool exhausted, or larger than a
 *	page), even when Dionysos then refuses that request (``ENOMEM``).
 * @BOOTPOOL_POLICY_EARLY: switch at attach: every request goes to Dionysos
 *	while the pool stays reserved and unused.
 * @BOOTPOOL_POLICY_HYBRID: never switch: pool pages are used while any are
 *	free, only what the pool cannot serve goes to Dionysos.
 * @BOOTPOOL_POLICY_COUNT: number of policies; not a policy.
 */
enum bootpool_policy_id {
	BOOTPOOL_POLICY_LATE = 0,
	BOOTPOOL_POLICY_EARLY = 1,
	BOOTPOOL_POLICY_HYBRID = 2,
	BOOTPOOL_POLICY_COUNT
};

/**
 * enum bootpool_source - where a block was served from
 * @BOOTPOOL_SOURCE_POOL: the domain's own pool.
 * @BOOTPOOL_SOURCE_DIONYSOS: the memory service Dionysos.
 */
enum bootpool_source {
	BOOTPOOL_SOURCE_POOL = 1,
	BOOTPOOL_SOURCE_DIONYSOS = 2,
};

/**
 * enum bootpool_switch_reason - why a domain switched to Dionysos
 * @BOOTPOOL_SWITCH_NONE: the domain has not switched.
 * @BOOTPOOL_SWITCH_EXHAUSTED: a request found no free page in the pool.
 * @BOOTPOOL_SWITCH_OVERSIZE: a request was larger than one page.
 * @BOOTPOOL_SWITCH_EARLY: the early policy switched at attach.
 * @BOOTPOOL_SWITCH_REQUESTED: the domain asked to switch
 *	(%BOOTPOOL_IOC_SWITCH), as a Barrelfish domain switches itself with
 *	ram_alloc_set() once it is bound to the memory server.
 */
enum bootpool_switch_reason {
	BOOTPOOL_SWITCH_NONE = 0,
	BOOTPOOL_SWITCH_EXHAUSTED = 1,
	BOOTPOOL_SWITCH_OVERSIZE = 2,
	BOOTPOOL_SWITCH_EARLY = 3,
	BOOTPOOL_SWITCH_REQUESTED = 4,
};

/* Largest request Dionysos serves: 4 MiB, 1024 pages of 4 KiB. */
#define BOOTPOOL_MAX_ALLOC_SIZE		(4ULL << 20)

/**
 * struct bootpool_alloc - argument of BOOTPOOL_IOC_ALLOC
 * @size: (in) bytes requested, 1 to %BOOTPOOL_MAX_ALLOC_SIZE.
 * @flags: (in) must be 0.
 * @source: (out) an &enum bootpool_source.
 * @handle: (out) names the block for FREE; never 0, and never given twice
 *	in one domain.
 * @granted: (out) bytes granted: one page from the pool, a power-of-two
 *	number of pages from Dionysos.
 * @mmap_offset: (out) offset to pass to mmap() to map this block; at most
 *	4 GiB + 16 MiB, so that it fits the 32-bit page offset of a 32-bit
 *	program's mmap2().
 * @cpu: (out) CPU the request was made on.
 * @served_cpu: (out) CPU that served it: @cpu for %BOOTPOOL_SOURCE_POOL;
 *	for %BOOTPOOL_SOURCE_DIONYSOS the CPU Dionysos served it on, which is
 *	``dionysos_cpu`` unless that was offline (Dionysos then serves on
 *	another CPU, see Documentation/admin-guide.rst).
 * @hops: (out) cross-CPU message hops the request travelled to Dionysos
 *	(``forward_hops`` from another CPU, and one more when its last hop
 *	landed on a CPU Dionysos had just left); 0 for the pool and for
 *	requests made on Dionysos's CPU.
 * @ipis: (out) inter-processor interrupts that carried the request: one
 *	for each hop whose next CPU is not the one it is on. A hop from
 *	Dionysos's CPU to itself (an even ``forward_hops`` with no third CPU
 *	online) counts as a hop, not an IPI; the wake-ups of the ``dionysos``
 *	thread and of the sleeping requester are not counted. This is the
 *	one definition; @ipis of STATS and the ``ipis`` counters sum it.
 * @instance: (out) for %BOOTPOOL_SOURCE_DIONYSOS, the id of the Dionysos
 *	instance that served it: 0 with one Dionysos (the default), else its
 *	place in ``dionysos_cpus`` (Documentation/admin-guide.rst); 0 for
 *	%BOOTPOOL_SOURCE_POOL.
 * @pad: (in) reserved, must be 0; (out) 0. A caller whose structure ends
 *	before it (an older size) passes it as 0.
 *
 * The input values of the (out) fields, @instance among them, are
 * ignored: a reply may be passed in again as the next request.
 *
 * Errors: ``EINVAL`` for size 0, a size above %BOOTPOOL_MAX_ALLOC_SIZE,
 * unknown flags or a non-zero @pad; ``ENOMEM`` when Dionysos's budget
 * (``dionysos_mb``), the domain's cap (``max_remote_mb``) or the cap of its
 * user's domains together (``max_user_mb``) would be exceeded (blocks freed
 * but still mapped count), or memory ran out, or the process's memory cgroup
 * is at its ``memory.max``; ``EINTR`` when a fatal signal arrived while
 * waiting for Dionysos (whatever Dionysos granted meanwhile goes back to
 * it); ``ESHUTDOWN`` when the kernel is going down (reboot, power-off or
 * kexec has begun) and the request would have had to travel to Dionysos or
 * wait for its thread. CPUs going offline on the way are no error: the
 * request goes round them.
 */
struct bootpool_alloc {
	__u64 size;
	__u32 flags;
	__u32 source;
	__u64 handle;
	__u64 granted;
	__u64 mmap_offset;
	__u32 cpu;
	__u32 served_cpu;
	__u32 hops;
	__u32 ipis;
	__u32 instance;
	__u32 pad;
};

#define BOOTPOOL_ALLOC_SIZE_VER0	24	/* up to and including @handle */
#define BOOTPOOL_ALLOC_SIZE_VER1	56	/* up to and including @ipis */

/**
 * struct bootpool_free - argument of BOOTPOOL_IOC_FREE
 * @handle: (in) a handle returned by ALLOC to this process and not freed.
 * @flags: (in) must be 0.
 *
 * A block still mapped is kept until its last mapping goes (see mmap()
 * above); FREE succeeds all the same.
 *
 * Errors: ``EINVAL`` for unknown flags, and for a handle that this process
 * does not hold (never allocated, already freed, or another process's).
 */
struct bootpool_free {
	__u64 handle;
	__u64 flags;
};

#define BOOTPOOL_FREE_SIZE_VER0		8

/**
 * struct bootpool_policy - argument of BOOTPOOL_IOC_SET_POLICY
 * @policy: (in) an &enum bootpool_policy_id.
 * @flags: (in) must be 0.
 *
 * Errors: ``EINVAL`` for an unknown policy or flags; ``EBUSY`` once the
 * domain has made its first ALLOC.
 */
struct bootpool_policy {
	__u32 policy;
	__u32 flags;
};

#define BOOTPOOL_POLICY_SIZE_VER0	4

/**
 * struct bootpool_stats - argument of BOOTPOOL_IOC_STATS, all (out)
 * @pool_pages: pages in the domain's pool, reserved at attach.
 * @pool_used: pool pages currently handed out.
 * @pool_free: pool pages free to hand out.
 * @policy: the domain's &enum bootpool_policy_id.
 * @switched: 1 once the domain switched to Dionysos, else 0.
 * @switch_reason: an &enum bootpool_switch_reason.
 * @switch_pages_left: free pool pages at the moment of the switch.
 * @pad: reserved, 0.
 * @pool_allocs: requests served by the pool.
 * @remote_allocs: requests served by Dionysos.
 * @frees: successful FREEs.
 * @failed_allocs: ALLOC requests that passed their argument checks and
 *	then failed (``ENOMEM``, ``EINTR``, ``ESHUTDOWN``, or ``EFAULT``
 *	writing the reply back, after which every other counter is as it
 *	was).
 * @ipis: sum of @ipis of the domain's successful ALLOCs.
 * @hops: sum of @hops of the domain's successful ALLOCs.
 * @bytes_requested: sum of @size over successful ALLOCs.
 * @bytes_granted: sum of @granted over successful ALLOCs.
 * @remote_bytes: bytes currently held from Dionysos, kept blocks included.
 * @footprint_bytes: memory the domain costs now: its whole pool plus
 *	@remote_bytes.
 * @kept_bytes: bytes of blocks freed while mapped and kept until their
 *	last mapping goes (pool and Dionysos blocks; counted in @pool_used
 *	and @remote_bytes as well).
 * @steals: steals the domain's Dionysos requests caused: an instance
 *	whose share of ``dionysos_mb`` was used up took share from a peer,
 *	once a peer (Documentation/design.rst); 0 with one Dionysos.
 * @stolen_pages: pages of share taken by those steals.
 * @cross_node: the domain's Dionysos requests served by an instance on
 *	another NUMA node than the CPU they were made on, or for which share
 *	was stolen from an instance on another node.
 *
 * A Dionysos ALLOC whose reply cannot be written back is taken back from
 * every counter but @steals, @stolen_pages and @cross_node: the share it
 * moved stays moved.
 */
struct bootpool_stats {
	__u32 pool_pages;
	__u32 pool_used;
	__u32 pool_free;
	__u32 policy;
	__u32 switched;
	__u32 switch_reason;
	__u32 switch_pages_left;
	__u32 pad;
	__u64 pool_allocs;
	__u64 remote_allocs;
	__u64 frees;
	__u64 failed_allocs;
	__u64 ipis;
	__u64 hops;
	__u64 bytes_requested;
	__u64 bytes_granted;
	__u64 remote_bytes;
	__u64 footprint_bytes;
	__u64 kept_bytes;
	__u64 steals;
	__u64 stolen_pages;
	__u64 cross_node;
};

#define BOOTPOOL_STATS_SIZE_VER0	32	/* up to and including @pad */
#define BOOTPOOL_STATS_SIZE_VER1	120	/* up to and including @kept_bytes */

/**
 * struct bootpool_switch - argument of BOOTPOOL_IOC_SWITCH
 * @flags: (in) must be 0.
 *
 * The domain switches to Dionysos now, for good: every later request
 * goes to Dionysos, and the switch reason is
 * %BOOTPOOL_SWITCH_REQUESTED. Like the first ALLOC, it seals the
 * domain's policy.
 *
 * Errors: ``EINVAL`` for unknown flags or a domain whose policy is
 * %BOOTPOOL_POLICY_HYBRID (it never switches); ``EALREADY`` when the
 * domain has switched already (the early policy, an earlier ALLOC or
 * SWITCH). A failed call changes nothing.
 */
struct bootpool_switch {
	__u64 flags;
};

#define BOOTPOOL_SWITCH_SIZE_VER0	8

/* Most requests one ALLOC_BATCH call takes. */
#define BOOTPOOL_BATCH_MAX		1024

/**
 * struct bootpool_alloc_batch - argument of BOOTPOOL_IOC_ALLOC_BATCH
 * @allocs: (in) user pointer to an array of @count &struct bootpool_alloc,
 *	each with its @size and @flags set (in) and its other fields filled
 *	(out) when served.
 * @count: (in) number of requests, 1 to %BOOTPOOL_BATCH_MAX.
 * @stride: (in) size in bytes of one array element, at least
 *	%BOOTPOOL_ALLOC_SIZE_VER0; elements are reconciled like the argument
 *	of BOOTPOOL_IOC_ALLOC.
 * @flags: (in) must be 0.
 * @done: (out) requests served, in array order; its input value is
 *	ignored.
 *
 * A domain's start-up makes hundreds of requests; one call serves them in
 * order, each like one ALLOC, and stops at the first that fails, whatever
 * the reason: its argument checks (``EINVAL``, ``E2BIG``), reading it or
 * writing its reply back (``EFAULT``; a block it was served is taken back
 * and it counts in @failed_allocs of STATS), or serving it. Requests before
 * it keep their blocks and replies; requests after it are not made. The
 * call fails only when the first request failed, with its errno; otherwise
 * it succeeds and @done tells how far it got. Like ALLOC, the first
 * request that passes its argument checks seals the domain's policy.
 *
 * Errors: ``EINVAL`` for @count 0 or above %BOOTPOOL_BATCH_MAX, a @stride
 * below %BOOTPOOL_ALLOC_SIZE_VER0 or above the page size, or unknown
 * @flags; ``EFAULT`` for a bad @allocs; any errno of BOOTPOOL_IOC_ALLOC
 * for the first request. ``EFAULT`` when @done cannot be written back:
 * the served requests keep their blocks, whose handles are already in
 * the array.
 */
struct bootpool_alloc_batch {
	__u64 allocs;
	__u32 count;
	__u32 stride;
	__u32 flags;
	__u32 done;
};

#define BOOTPOOL_ALLOC_BATCH_SIZE_VER0	24

#define BOOTPOOL_IOC_MAGIC		0xBB

#define BOOTPOOL_IOC_ALLOC	_IOWR(BOOTPOOL_IOC_MAGIC, 0x0, struct bootpool_alloc)
#define BOOTPOOL_IOC_FREE	_IOW(BOOTPOOL_IOC_MAGIC, 0x1, struct bootpool_free)
#define BOOTPOOL_IOC_SET_POLICY	_IOW(BOOTPOOL_IOC_MAGIC, 0x2, struct bootpool_policy)
#define BOOTPOOL_IOC_STATS	_IOR(BOOTPOOL_IOC_MAGIC, 0x3, struct bootpool_stats)
#define BOOTPOOL_IOC_ALLOC_BATCH _IOWR(BOOTPOOL_IOC_MAGIC, 0x4, struct bootpool_alloc_batch)
#define BOOTPOOL_IOC_SWITCH	_IOW(BOOTPOOL_IOC_MAGIC, 0x5, struct bootpool_switch)

#endif /* _UAPI_LINUX_BOOTPOOL_H */
