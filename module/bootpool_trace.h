/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM bootpool

#if !defined(_BOOTPOOL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _BOOTPOOL_TRACE_H

#include <linux/tracepoint.h>

/* Let user-space parsers (trace-cmd, perf) resolve the names below. */
TRACE_DEFINE_ENUM(BOOTPOOL_POLICY_LATE);
TRACE_DEFINE_ENUM(BOOTPOOL_POLICY_EARLY);
TRACE_DEFINE_ENUM(BOOTPOOL_POLICY_HYBRID);
TRACE_DEFINE_ENUM(BOOTPOOL_SOURCE_POOL);
TRACE_DEFINE_ENUM(BOOTPOOL_SOURCE_DIONYSOS);
TRACE_DEFINE_ENUM(BOOTPOOL_SWITCH_NONE);
TRACE_DEFINE_ENUM(BOOTPOOL_SWITCH_EXHAUSTED);
TRACE_DEFINE_ENUM(BOOTPOOL_SWITCH_OVERSIZE);
TRACE_DEFINE_ENUM(BOOTPOOL_SWITCH_EARLY);
TRACE_DEFINE_ENUM(BOOTPOOL_SWITCH_REQUESTED);

#define bootpool_show_policy(p)					\
	__print_symbolic(p,					\
			 { BOOTPOOL_POLICY_LATE, "late" },	\
			 { BOOTPOOL_POLICY_EARLY, "early" },	\
			 { BOOTPOOL_POLICY_HYBRID, "hybrid" })

#define bootpool_show_source(s)					\
	__print_symbolic(s,					\
			 { BOOTPOOL_SOURCE_POOL, "pool" },	\
			 { BOOTPOOL_SOURCE_DIONYSOS, "dionysos" })

#define bootpool_show_reason(r)					\
	__print_symbolic(r,					\
			 { BOOTPOOL_SWITCH_NONE, "none" },	\
			 { BOOTPOOL_SWITCH_EXHAUSTED, "exhausted" }, \
			 { BOOTPOOL_SWITCH_OVERSIZE, "oversize" }, \
			 { BOOTPOOL_SWITCH_EARLY, "early" },	\
			 { BOOTPOOL_SWITCH_REQUESTED, "requested" })

TRACE_EVENT(bootpool_attach,
	TP_PROTO(pid_t pid, unsigned int pool_pages, u32 policy),
	TP_ARGS(pid, pool_pages, policy),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(unsigned int, pool_pages)
		__field(u32, policy)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->pool_pages = pool_pages;
		__entry->policy = policy;
	),
	TP_printk("pid=%d pool_pages=%u policy=%s", __entry->pid,
		  __entry->pool_pages, bootpool_show_policy(__entry->policy))
);

TRACE_EVENT(bootpool_alloc,
	TP_PROTO(pid_t pid, u64 size, u64 granted, u32 source, int cpu),
	TP_ARGS(pid, size, granted, source, cpu),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(int, cpu)
		__field(u64, size)
		__field(u64, granted)
		__field(u32, source)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->cpu = cpu;
		__entry->size = size;
		__entry->granted = granted;
		__entry->source = source;
	),
	TP_printk("pid=%d size=%llu granted=%llu source=%s cpu=%d",
		  __entry->pid, __entry->size, __entry->granted,
		  bootpool_show_source(__entry->source), __entry->cpu)
);

TRACE_EVENT(bootpool_free,
	TP_PROTO(pid_t pid, u64 handle, u64 size, u32 source),
	TP_ARGS(pid, handle, size, source),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(u64, handle)
		__field(u64, size)
		__field(u32, source)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->handle = handle;
		__entry->size = size;
		__entry->source = source;
	),
	TP_printk("pid=%d handle=%#llx size=%llu source=%s", __entry->pid,
		  __entry->handle, __entry->size,
		  bootpool_show_source(__entry->source))
);

TRACE_EVENT(bootpool_switch,
	TP_PROTO(pid_t pid, u32 reason, unsigned int pages_left),
	TP_ARGS(pid, reason, pages_left),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(u32, reason)
		__field(unsigned int, pages_left)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->reason = reason;
		__entry->pages_left = pages_left;
	),
	TP_printk("pid=%d reason=%s pages_left=%u", __entry->pid,
		  bootpool_show_reason(__entry->reason), __entry->pages_left)
);

TRACE_EVENT(bootpool_forward,
	TP_PROTO(int from_cpu, int to_cpu, unsigned int hop,
		 unsigned int instance),
	TP_ARGS(from_cpu, to_cpu, hop, instance),
	TP_STRUCT__entry(
		__field(int, from_cpu)
		__field(int, to_cpu)
		__field(unsigned int, hop)
		__field(unsigned int, instance)
	),
	TP_fast_assign(
		__entry->from_cpu = from_cpu;
		__entry->to_cpu = to_cpu;
		__entry->hop = hop;
		__entry->instance = instance;
	),
	TP_printk("from_cpu=%d to_cpu=%d hop=%u instance=%u",
		  __entry->from_cpu, __entry->to_cpu, __entry->hop,
		  __entry->instance)
);

TRACE_EVENT(bootpool_dionysos_serve,
	TP_PROTO(pid_t pid, unsigned int order, unsigned int queue_depth,
		 int status, int cpu, unsigned int instance),
	TP_ARGS(pid, order, queue_depth, status, cpu, instance),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(unsigned int, order)
		__field(unsigned int, queue_depth)
		__field(int, status)
		__field(int, cpu)
		__field(unsigned int, instance)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->order = order;
		__entry->queue_depth = queue_depth;
		__entry->status = status;
		__entry->cpu = cpu;
		__entry->instance = instance;
	),
	TP_printk("pid=%d order=%u queue_depth=%u status=%d cpu=%d instance=%u",
		  __entry->pid, __entry->order, __entry->queue_depth,
		  __entry->status, __entry->cpu, __entry->instance)
);

TRACE_EVENT(bootpool_dionysos_move,
	TP_PROTO(unsigned int from_cpu, unsigned int to_cpu,
		 unsigned int instance),
	TP_ARGS(from_cpu, to_cpu, instance),
	TP_STRUCT__entry(
		__field(unsigned int, from_cpu)
		__field(unsigned int, to_cpu)
		__field(unsigned int, instance)
	),
	TP_fast_assign(
		__entry->from_cpu = from_cpu;
		__entry->to_cpu = to_cpu;
		__entry->instance = instance;
	),
	TP_printk("from_cpu=%u to_cpu=%u instance=%u", __entry->from_cpu,
		  __entry->to_cpu, __entry->instance)
);

TRACE_EVENT(bootpool_steal,
	TP_PROTO(unsigned int thief, unsigned int victim, unsigned long pages),
	TP_ARGS(thief, victim, pages),
	TP_STRUCT__entry(
		__field(unsigned int, thief)
		__field(unsigned int, victim)
		__field(unsigned long, pages)
	),
	TP_fast_assign(
		__entry->thief = thief;
		__entry->victim = victim;
		__entry->pages = pages;
	),
	TP_printk("thief=%u victim=%u pages=%lu", __entry->thief,
		  __entry->victim, __entry->pages)
);

TRACE_EVENT(bootpool_detach,
	TP_PROTO(pid_t pid, unsigned int blocks_returned),
	TP_ARGS(pid, blocks_returned),
	TP_STRUCT__entry(
		__field(pid_t, pid)
		__field(unsigned int, blocks_returned)
	),
	TP_fast_assign(
		__entry->pid = pid;
		__entry->blocks_returned = blocks_returned;
	),
	TP_printk("pid=%d blocks_returned=%u", __entry->pid,
		  __entry->blocks_returned)
);

#endif /* _BOOTPOOL_TRACE_H */

#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE bootpool_trace
#include <trace/define_trace.h>
