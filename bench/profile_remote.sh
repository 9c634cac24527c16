#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Where a remote Dionysos ALLOC+FREE spends its time, in the guest:
#
#   make bench-build ARCH=arm64
#   make vm ARCH=arm64 PAYLOAD=build/arm64/bench RUN='bench/profile_remote.sh'
#
# A domain with the early policy on CPU $CPU (default 1) allocates and frees
# one page in a loop (bootpool_workload -l), each ALLOC sent to Dionysos
# over forward_hops=1, as the benchmark's remote pair does. Two passes of
# $SECONDS_RUN seconds each (default 3):
#
#  1. events only (raw_syscalls and bootpool's tracepoints), whose
#     timestamps split each ALLOC into: entry to the IPI handler's hop on
#     Dionysos's CPU (enter_to_hop), the grant there (hop_to_serve), the
#     answer until the requester has the block (serve_to_alloc), and the
#     way out (alloc_to_exit); each FREE into entry to the free event and
#     the way out. Medians in us over every request, with their count.
#  2. function_graph on the functions of the grant path (the list below),
#     the median time of each per CPU, with its count: what inside the
#     segments costs what. function_graph slows every traced call, so
#     its times are for comparing with each other, not with pass 1.
#
# Needs root, tracefs, bootpool loaded and /kselftest/bootpool/bootpool_workload.
set -u

CPU=${CPU:-1}
SECONDS_RUN=${SECONDS_RUN:-3}
T=/sys/kernel/tracing
W=${BOOTPOOL_WORKLOAD:-/kselftest/bootpool/bootpool_workload}
P=/sys/module/bootpool/parameters
TMP=${TMPDIR:-/tmp}/profile_remote.$$

die() { echo "profile_remote: $*" >&2; exit 1; }

[ -d "$T/events/bootpool" ] || die "no bootpool events in $T"
[ -x "$W" ] || die "$W missing"
mkdir -p "$TMP" || die "cannot make $TMP"
hops_saved=$(cat "$P/forward_hops")
echo 1 > "$P/forward_hops" || die "cannot set forward_hops"

# Start the workload; print its pid. It runs until killed.
start_workload() {
	"$W" -l -c "$CPU" -p early 4096 > /dev/null 2>&1 &
	echo $!
}

# Per key, the median and count of the "KEY VALUE" lines on stdin, in the
# order of the keys.
medians() {
	sort -k1,1 -k2,2n | awk '
	function flush() {
		if (n)
			printf "  %-48s %9.2f %7d\n", k, v[int((n + 1) / 2)], n
	}
	$1 != k { flush(); k = $1; n = 0 }
	{ v[++n] = $2 }
	END { flush() }'
}

reset() {
	echo 0 > "$T/tracing_on"
	echo nop > "$T/current_tracer"
	echo > "$T/set_ftrace_filter"
	echo 0 > "$T/events/enable"
	echo > "$T/trace"
}

reset
echo 16384 > "$T/buffer_size_kb"

# ---- pass 1: events ----
pid=$(start_workload)
sleep 1		# warm: the reserve holds a block of the domain's memcg
echo "common_pid == $pid" > "$T/events/raw_syscalls/sys_enter/filter"
echo "common_pid == $pid" > "$T/events/raw_syscalls/sys_exit/filter"
echo 1 > "$T/events/raw_syscalls/sys_enter/enable"
echo 1 > "$T/events/raw_syscalls/sys_exit/enable"
for e in bootpool_alloc bootpool_free bootpool_forward bootpool_dionysos_serve; do
	echo 1 > "$T/events/bootpool/$e/enable"
done
echo 1 > "$T/tracing_on"
sleep "$SECONDS_RUN"
echo 0 > "$T/tracing_on"
kill "$pid"
wait "$pid" 2> /dev/null
cat "$T/trace" > "$TMP/events"
echo 0 > "$T/events/raw_syscalls/sys_enter/filter"
echo 0 > "$T/events/raw_syscalls/sys_exit/filter"
reset

# One sample line per segment of each complete request.
awk -v pid="$pid" '
function ts(   i) {
	for (i = 1; i <= NF; i++)
		if ($i ~ /^[0-9]+\.[0-9]+:$/)
			return substr($i, 1, length($i) - 1) * 1e6
	return -1
}
/ sys_enter: / && $0 ~ ("-" pid " ") { t0 = ts(); t1 = t2 = t3 = t5 = -1; kind = ""; next }
/ bootpool_forward: / { t1 = ts(); next }
/ bootpool_dionysos_serve: / { t2 = ts(); next }
/ bootpool_alloc: / && t0 >= 0 { t3 = ts(); kind = "alloc"; next }
/ bootpool_free: / && t0 >= 0 { t5 = ts(); kind = "free"; next }
/ sys_exit: / && $0 ~ ("-" pid " ") && t0 >= 0 {
	t4 = ts()
	if (kind == "alloc" && t1 >= t0 && t2 >= t1 && t3 >= t2) {
		print "alloc_total", t4 - t0
		print "alloc_enter_to_hop", t1 - t0
		print "alloc_hop_to_serve", t2 - t1
		print "alloc_serve_to_alloc", t3 - t2
		print "alloc_alloc_to_exit", t4 - t3
	} else if (kind == "free") {
		print "free_total", t4 - t0
		print "free_enter_to_free", t5 - t0
		print "free_free_to_exit", t4 - t5
	}
	t0 = -1
}' "$TMP/events" > "$TMP/samples"

echo "profile_remote: pass 1, events: median us and count per segment"
medians < "$TMP/samples"

# ---- pass 2: function_graph on the grant path ----
FUNCS="bootpool_ioctl bootpool_domain_alloc bootpool_user_charge
bootpool_user_uncharge bootpool_forward_request bootpool_forward_send
bootpool_forward_ipi bootpool_forward_arrive bootpool_dionysos_grant_atomic
bootpool_block_alloc bootpool_request_answer bootpool_rbtable_insert
bootpool_rbtable_lookup bootpool_domain_free bootpool_remote_give_back
bootpool_remote_erase bootpool_dionysos_release
kmalloc_trace __kmalloc kmem_cache_alloc kfree obj_cgroup_charge
obj_cgroup_uncharge __memcg_kmem_charge_page
smp_call_function_single_async generic_exec_single
do_handle_IPI generic_smp_call_function_single_interrupt
__flush_smp_call_function_queue
wake_up_var __wake_up_bit prepare_to_wait_event finish_wait schedule"
for f in $FUNCS; do
	echo "$f" >> "$T/set_ftrace_filter" 2> /dev/null
done
echo function_graph > "$T/current_tracer"
echo 1 > "$T/options/funcgraph-tail" 2> /dev/null
pid=$(start_workload)
sleep 1
echo 1 > "$T/tracing_on"
sleep "$SECONDS_RUN"
echo 0 > "$T/tracing_on"
kill "$pid"
wait "$pid" 2> /dev/null
cat "$T/trace" > "$TMP/graph"
reset
echo "$hops_saved" > "$P/forward_hops"

# "CPU:function duration" per call, from leaf lines and closing braces.
awk -F'|' '
NF >= 2 && match($1, /[0-9]+\.[0-9]+ us/) {
	d = substr($1, RSTART, RLENGTH - 3)
	cpu = $1; sub(/^ */, "", cpu); sub(/\).*/, "", cpu)
	f = $2
	gsub(/[ ;{}()*\/]/, "", f)
	if (f != "")
		print cpu ":" f, d
}' "$TMP/graph" > "$TMP/calls"

echo "profile_remote: pass 2, function_graph: median us and count per CPU:function"
medians < "$TMP/calls"
rm -rf "$TMP"
