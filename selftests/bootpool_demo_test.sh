#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs userspace-demo's bootpool-demo with a few domains and checks its
# figures, which are the module's counters, against bootpool_trace_model.awk:
# an independent calculation, from each trace file alone, of what each
# rule's domain asks and where the module serves it. Also checks that the
# figures add up to the module's debugfs counters, and records a trace from
# the bootpool_alloc tracepoint and replays it, and that each trace
# recorded from Barrelfish replays, under the rule it was recorded with, to
# the counts of its log. On two NUMA nodes, with one Dionysos per node and
# the demo's tight budget, the steals are what the budget implies. TAP
# output, one test case per claim; no figure is a fixed number.
#
# BOOTPOOL_DEMO_TRACES, if set, names the traces case 1 replays (file
# names, e.g. "barrelfish-domain-init.trace hellotest-x86_64-late.trace");
# by default it replays every shipped one. The debug guest of make check
# names three of the eleven, one of each kind, as its kernel replays each
# about ten times slower than the stock x86_64 guest.
set -u

KSFT_SKIP=4
N=4
TMP=${TMPDIR:-/tmp}/bootpool_demo_test.$$
TRACING=/sys/kernel/tracing
EVENT=$TRACING/events/bootpool/bootpool_alloc/enable

DEMO=$(command -v bootpool-demo 2>/dev/null || true)
[ -n "$DEMO" ] || DEMO=/userspace-demo/bootpool-demo
TRACES=$(dirname "$DEMO")/traces
MODEL=$(dirname "$0")/bootpool_trace_model.awk

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root"
	exit $KSFT_SKIP
fi
if [ ! -c /dev/bootpool ]; then
	echo "1..0 # SKIP bootpool module not loaded"
	exit $KSFT_SKIP
fi

# The demo's placements here (on, off1, offH) measure the one Dionysos;
# one Dionysos per node is make demo-numa's. A module loaded with several
# instances (the numa stage of make check) is loaded again with one for
# this test, and as the guest loaded it (BOOTPOOL_MODPARAMS) at the end.
MODULE=${BOOTPOOL_MODULE_DIR:-/bootpool}/bootpool.ko
RELOADED=
restore_module() {
	[ -n "$RELOADED" ] || return 0
	rmmod bootpool
	# shellcheck disable=SC2086
	insmod "$MODULE" ${BOOTPOOL_MODPARAMS:-}
}
if [ "$(grep -c '^instance=' /sys/kernel/debug/bootpool/dionysos)" -gt 1 ]; then
	if ! rmmod bootpool || ! insmod "$MODULE"; then
		echo "1..0 # SKIP cannot load the module with one Dionysos"
		exit $KSFT_SKIP
	fi
	RELOADED=1
fi

mkdir -p "$TMP"
trap 'echo 0 > "$EVENT" 2>/dev/null; rm -rf "$TMP"; restore_module' EXIT

NTESTS=12
TESTNO=0
FAILS=0
echo "TAP version 13"
echo "1..$NTESTS"

# result NAME ASSERTION-ERRORS: one TAP line; the errors, if any, as comments.
result() {
	TESTNO=$((TESTNO + 1))
	if [ -z "$2" ]; then
		echo "ok $TESTNO $1"
	else
		printf '%s\n' "$2" | sed 's/^/# /'
		echo "not ok $TESTNO $1"
		FAILS=$((FAILS + 1))
	fi
}

# demo OUT ARGS...: run the demo, its CSV to OUT.csv, the rest to OUT.txt.
demo() {
	out=$1
	shift
	if ! "$DEMO" -n $N -r 1 --csv "$out.csv" "$@" > "$out.txt" 2>&1; then
		echo "bootpool-demo $* failed:"
		cat "$out.txt"
		return 1
	fi
}

# get CSV TRACE RULE PLACEMENT MODE COLUMN: one figure of the CSV.
get() {
	awk -F, -v t="$2" -v r="$3" -v l="$4" -v m="$5" -v c="$6" '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	$idx["trace"] == t && $idx["rule"] == r && $idx["placement"] == l &&
	$idx["mode"] == m { print $idx[c]; found = 1; exit }
	END { if (!found) print "missing" }' "$1"
}

# check EXPR MESSAGE: add MESSAGE to ERR unless the awk EXPR is true.
ERR=
check() {
	case "$1" in
	*missing*) ERR="${ERR:+$ERR
}$2 (a figure is missing from the CSV)"; return ;;
	esac
	if ! awk "BEGIN { exit !($1) }" 2>/dev/null; then
		ERR="${ERR:+$ERR
}$2"
	fi
}

# check_model CSV TRACE RULE PLACEMENT MODE [AWK-ARGS...]: every figure the
# model computes for the trace equals the demo's (the module's).
check_model() {
	csv=$1 t=$2 rule=$3 place=$4 mode=$5
	shift 5
	name=$(basename "$t")
	awk -v rule="$rule" -v pool="$POOL_PAGES" "$@" -f "$MODEL" "$t" > "$TMP/model" ||
		{ check 0 "$name/$rule: the model failed"; return; }
	while read -r key want; do
		got=$(get "$csv" "$name" "$rule" "$place" "$mode" "$key")
		case "$key" in
		switch_reason)
			[ "$got" = "$want" ] || [ "$got$want" = "nonenone" ] ||
				check 0 "$name/$rule${*:+ ($*)}: switch_reason $got, the model says $want" ;;
		*)
			check "$got - $want < 0.05 && $want - $got < 0.05" \
				"$name/$rule${*:+ ($*)}: $key $got, the model says $want" ;;
		esac
	done < "$TMP/model"
	d=$(get "$csv" "$name" "$rule" "$place" "$mode" dionysos_requests)
	h=$(get "$csv" "$name" "$rule" "$place" "$mode" forward_hops)
	i=$(get "$csv" "$name" "$rule" "$place" "$mode" ipis)
	check "$i == $d * ($h > 0)" "$name/$rule: $i IPIs for $d Dionysos requests at forward_hops $h"
	check "$(get "$csv" "$name" "$rule" "$place" "$mode" failed) == 0" "$name/$rule: domains failed"
}

# The demo's per-domain figures times its domains and rounds must equal
# the change of the module's global counters, in every row of a CSV.
check_counters() {
	rows=$(awk -F, '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	{
		k = $idx["domains"] * $idx["rounds"]
		split("dionysos_requests:debugfs_remote_allocs pool_requests:debugfs_pool_allocs ipis:debugfs_ipis hops:debugfs_hops", pairs, " ")
		for (p in pairs) {
			split(pairs[p], c, ":")
			d = $idx[c[1]] * k - $idx[c[2]]
			if (d > 0.01 || d < -0.01)
				print $idx["trace"] "/" $idx["rule"] "/" $idx["placement"] "/" $idx["mode"] ": " c[1] " " $idx[c[1]] " x " k " != " c[2] " " $idx[c[2]]
		}
	}' "$1")
	[ -z "$rows" ] || check 0 "$rows"
}

POOL_PAGES=$(cat /sys/module/bootpool/parameters/pool_pages 2>/dev/null || echo 256)

if [ ! -x "$DEMO" ] || [ ! -f "$MODEL" ]; then
	while [ $TESTNO -lt $NTESTS ]; do
		result "demo_binary_present" "no bootpool-demo in PATH or $DEMO, or no $MODEL"
	done
	exit 1
fi

# 1. For every shipped trace (read from code, estimated, or recorded from
#    Barrelfish; or those BOOTPOOL_DEMO_TRACES names) and every rule, the module's counts are what the model
#    computes from the trace file: requests served by the pool and by
#    Dionysos, footprints (as Linux grants and as mem_serv would) at the
#    end of start-up and of the trace, IPIs, retries, the switch. A domain
#    that asks its pool's fallback once switched fails this.
ERR=
set -- "$TRACES"/*.trace "$TRACES"/recorded/*.trace
[ -f "$1" ] || ERR="no trace in $TRACES"
if [ -n "${BOOTPOOL_DEMO_TRACES:-}" ]; then
	for want in $BOOTPOOL_DEMO_TRACES; do
		[ -f "$TRACES/$want" ] || [ -f "$TRACES/recorded/$want" ] ||
			ERR="${ERR:+$ERR; }BOOTPOOL_DEMO_TRACES names $want, which is not in $TRACES"
	done
fi
replayed=0
for t in "$@"; do
	[ -f "$t" ] || continue
	case " ${BOOTPOOL_DEMO_TRACES:-$(basename "$t")} " in
	*" $(basename "$t") "*) ;;
	*) continue ;;
	esac
	replayed=$((replayed + 1))
	base=$TMP/$(basename "$t" .trace)
	if demo "$base" -P off1 -m seq -t "$t"; then
		for rule in late early hybrid; do
			check_model "$base.csv" "$t" $rule off1 one-by-one
		done
		if grep -q '^!switch' "$t"; then
			check_model "$base.csv" "$t" upstream off1 one-by-one
		fi
	else
		ERR="${ERR:+$ERR; }demo run on $(basename "$t") failed"
	fi
done
echo "# replayed $replayed of the $# traces"
result "replay_matches_the_trace_model_for_every_trace_and_rule" "$ERR"

# 2. Taken literally (--no-fallback), the seed's rule switches a late
#    domain at its first refused request; the model says the same.
ERR=
set -- "$TRACES"/barrelfish-upstream-*.trace
[ -f "$1" ] || ERR="no barrelfish-upstream-*.trace in $TRACES"
for t in "$@"; do
	[ -f "$t" ] || continue
	base=$TMP/$(basename "$t" .trace)-literal
	if demo "$base" -p late,early,upstream -P off1 -m seq -t "$t" --no-fallback; then
		for rule in late early upstream; do
			check_model "$base.csv" "$t" $rule off1 one-by-one -v literal=1
		done
		p=$(get "$base.csv" "$(basename "$t")" late off1 one-by-one pool_requests)
		check "$p == 0" "$(basename "$t"): the literal rule served $p requests from the pool before switching on a refused one"
	else
		ERR="${ERR:+$ERR; }demo run on $(basename "$t") failed"
	fi
done
result "literal_rule_switches_at_the_first_refused_request" "$ERR"

# 3. The figures are the module's: they add up to its debugfs counters.
ERR=
for f in "$TMP"/*.csv; do
	[ -f "$f" ] && check_counters "$f"
done
[ -f "$f" ] || ERR="no CSV from tests 1 and 2"
result "demo_figures_match_module_counters" "$ERR"

# 4. Off dionysos_cpu, three hops per request cost three times the hops.
ERR=
T1=$TRACES/barrelfish-upstream-armv7-max.trace
B1=$(basename "$T1")
if demo "$TMP/hops" -p early,late -P off1,off3 -m seq -t "$T1"; then
	for p in early late; do
		h1=$(get "$TMP/hops.csv" "$B1" $p off1 one-by-one hops)
		h3=$(get "$TMP/hops.csv" "$B1" $p off3 one-by-one hops)
		check "$h1 > 0 && $h3 == 3 * $h1" "$p: hops $h3 with forward_hops=3, $h1 with 1"
	done
else
	ERR="demo run failed"
fi
result "forward_hops_3_triples_the_hops" "$ERR"

# 5. A burst of domains queues at Dionysos and still succeeds.
ERR=
if demo "$TMP/burst" -p early,late -P on -m burst -t "$T1"; then
	check_counters "$TMP/burst.csv"
	q=$(get "$TMP/burst.csv" "$B1" early on burst max_queue_depth)
	check "$q >= 1" "max_queue_depth $q after an early burst"
	check "$(get "$TMP/burst.csv" "$B1" early on burst failed) == 0" "early burst: domains failed"
else
	ERR="demo run failed"
fi
result "burst_succeeds_and_reports_queue_depth" "$ERR"

# 6. Sub-page requests only: late never switches.
ERR=
{ echo "# sub-page requests only"; i=0
  while [ $i -lt 200 ]; do echo "1024 l2_pagetable"; echo "512"; echo 4095; i=$((i + 1)); done
} | head -n 250 > "$TMP/subpage.trace"
if demo "$TMP/sub" -p late -P on -m seq -t "$TMP/subpage.trace"; then
	s=$(get "$TMP/sub.csv" subpage.trace late on one-by-one switched_domains)
	r=$(get "$TMP/sub.csv" subpage.trace late on one-by-one dionysos_requests)
	p=$(get "$TMP/sub.csv" subpage.trace late on one-by-one pool_requests)
	check "$s == 0 && $r == 0" "late switched in $s of $N domains, $r Dionysos requests"
	check "$p == 249" "pool served $p of 249 requests"
else
	ERR="demo run failed"
fi
result "late_never_switches_on_subpage_requests" "$ERR"

# 7. First request of 16 KiB: late switches at once, the pool untouched.
ERR=
printf '16K l2_cnode\n4096\n1024\n' > "$TMP/big.trace"
if demo "$TMP/big" -p late -P on -m seq -t "$TMP/big.trace"; then
	s=$(get "$TMP/big.csv" big.trace late on one-by-one switched_domains)
	why=$(get "$TMP/big.csv" big.trace late on one-by-one switch_reason)
	left=$(get "$TMP/big.csv" big.trace late on one-by-one switch_pages_left)
	p=$(get "$TMP/big.csv" big.trace late on one-by-one pool_requests)
	check "$s == $N" "switched in $s of $N domains"
	[ "$why" = oversize ] || check 0 "switch reason $why, not oversize"
	check "$left == $POOL_PAGES && $p == 0" "switched with $left pool pages left, $p pool requests"
else
	ERR="demo run failed"
fi
result "late_switches_at_once_on_16k_first_request" "$ERR"

# 8. A trace recorded from the bootpool_alloc tracepoint replays the same.
ERR=
if [ ! -w "$EVENT" ]; then
	TESTNO=$((TESTNO + 1))
	echo "ok $TESTNO recorded_trace_replays_the_same # SKIP no $EVENT"
else
	printf '4096 heap\n1024\n16K\n8K\n4096\n' > "$TMP/orig.trace"
	echo > "$TRACING/trace"
	echo 1 > "$EVENT"
	"$DEMO" -n 1 -r 1 -p late -P on -m seq -t "$TMP/orig.trace" > /dev/null 2>&1 ||
		ERR="replay of the original failed"
	echo 0 > "$EVENT"
	"$DEMO" --from-ftrace "$TRACING/trace" > "$TMP/rec.trace" 2>/dev/null ||
		ERR="${ERR:+$ERR; }--from-ftrace found no event"
	sed -n 's/.*bootpool_alloc: pid=[0-9]* size=\([0-9]*\).*/\1/p' \
		"$TRACING/trace" > "$TMP/sed.trace"
	printf '4096\n1024\n16384\n8192\n4096\n' > "$TMP/want"
	grep -v '^#' "$TMP/rec.trace" | cmp -s - "$TMP/want" ||
		check 0 "--from-ftrace gave: $(tr '\n' ' ' < "$TMP/rec.trace")"
	cmp -s "$TMP/sed.trace" "$TMP/want" ||
		check 0 "the sed recipe gave: $(tr '\n' ' ' < "$TMP/sed.trace")"
	if [ -z "$ERR" ] && demo "$TMP/rec" -p late -P on -m seq -t "$TMP/rec.trace" &&
	   demo "$TMP/orig" -p late -P on -m seq -t "$TMP/orig.trace"; then
		for col in end_kib dionysos_requests pool_requests switch_reason; do
			a=$(get "$TMP/rec.csv" rec.trace late on one-by-one $col)
			b=$(get "$TMP/orig.csv" orig.trace late on one-by-one $col)
			[ "$a" = "$b" ] || check 0 "$col: recorded $a, original $b"
		done
	else
		ERR="${ERR:-replay of the recorded trace failed}"
	fi
	result "recorded_trace_replays_the_same" "$ERR"
fi

# 9. Latencies come from several rounds: the median of the rounds' medians
#    lies in its interval, and six rounds reach 95%.
ERR=
if "$DEMO" -n 2 -r 6 -p late -P on -m seq -t "$TMP/big.trace" \
	--csv "$TMP/lat.csv" > "$TMP/lat.txt" 2>&1; then
	get_lat() { get "$TMP/lat.csv" big.trace late on one-by-one "$1"; }
	med=$(get_lat lat_median_us)
	lo=$(get_lat lat_lo_us)
	hi=$(get_lat lat_hi_us)
	check "$lo <= $med && $med <= $hi && $lo > 0" "median $med outside [$lo, $hi]"
	check "$(get_lat rounds) == 6" "$(get_lat rounds) rounds, want 6"
	check "$(get_lat lat_coverage) >= 0.95" "interval covers $(get_lat lat_coverage)"
	r=$(get_lat lat_round_medians_us | tr ';' '\n' | grep -c .)
	check "$r == 6" "$r round medians in the CSV, want 6"
else
	ERR="demo run failed: $(tail -n 3 "$TMP/lat.txt")"
fi
result "latency_is_a_median_over_rounds_with_its_interval" "$ERR"

# 10. The sweeps' savings are the model's differences: late against early
#     and against upstream, for a small and the default pool, and with
#     heap pages added before the first larger request.
ERR=
# model_saved TRACE OTHER KEY AWK-ARGS...: the model's other minus late.
model_saved() {
	t=$1 other=$2 key=$3
	shift 3
	a=$(awk -v rule="$other" "$@" -f "$MODEL" "$t" | awk -v k="$key" '$1 == k { print $2 }')
	b=$(awk -v rule=late "$@" -f "$MODEL" "$t" | awk -v k="$key" '$1 == k { print $2 }')
	awk -v a="$a" -v b="$b" 'BEGIN { print a - b }'
}
# sweep_check CSV KIND X AWK-ARGS...
sweep_check() {
	csv=$1 kind=$2 x=$3
	shift 3
	for other in early upstream; do
		for col in saved_startup_bf_kib:startup_bf_kib saved_end_kib:end_kib; do
			want=$(model_saved "$T1" $other "${col#*:}" "$@")
			got=$(awk -F, -v k="$kind" -v x="$x" -v c="late-vs-$other" -v col="${col%%:*}" '
			NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
			$idx["kind"] == k && $idx["x"] == x && $idx["comparison"] == c { print $idx[col]; f = 1 }
			END { if (!f) print "missing" }' "$csv")
			check "$got - $want < 0.05 && $want - $got < 0.05" \
				"$kind $x late-vs-$other: ${col%%:*} $got, the model says $want"
		done
	done
}
if "$DEMO" --sweep-pool "16,$POOL_PAGES" -t "$T1" --csv "$TMP/sp.csv" > "$TMP/sp.txt" 2>&1 &&
   "$DEMO" --sweep-heap 0:300:300 -t "$T1" --csv "$TMP/sh.csv" > "$TMP/sh.txt" 2>&1; then
	sweep_check "$TMP/sp.csv" pool_pages 16 -v pool=16
	sweep_check "$TMP/sp.csv" pool_pages "$POOL_PAGES" -v pool="$POOL_PAGES"
	sweep_check "$TMP/sh.csv" heap_pages 0 -v pool="$POOL_PAGES"
	sweep_check "$TMP/sh.csv" heap_pages 300 -v pool="$POOL_PAGES" -v extra=300
	p=$(cat /sys/module/bootpool/parameters/pool_pages)
	check "$p == $POOL_PAGES" "the pool sweep left pool_pages at $p"
else
	ERR="a sweep failed: $(tail -n 3 "$TMP/sp.txt" "$TMP/sh.txt" 2>/dev/null)"
fi
result "sweeps_match_the_trace_model" "$ERR"

# 11. A trace recorded from Barrelfish (traces/recorded/) replays to what
#     Barrelfish's own allocators served the domain: under the rule it was
#     recorded with, the module's pool requests, Dionysos requests and
#     Dionysos bytes at mem_serv's sizes, at !main and at the end, equal
#     the trace's "# barrelfish-count" lines, which log2trace wrote from
#     the log.
ERR=
set -- "$TRACES"/recorded/*.trace
[ -f "$1" ] || ERR="no trace in $TRACES/recorded"
for t in "$@"; do
	[ -f "$t" ] || continue
	name=$(basename "$t")
	sed -n 's/^# barrelfish-count //p' "$t" > "$TMP/counts"
	rule=$(sed -n 's/^rule=\([a-z]*\) .*/\1/p' "$TMP/counts" | sort -u)
	case "$rule" in
	late|upstream) ;;
	*) check 0 "$name: no barrelfish-count line, or no single rule ('$rule')"; continue ;;
	esac
	base=$TMP/recorded-$(basename "$t" .trace)
	if ! demo "$base" -p "$rule" -P off1 -m seq -t "$t"; then
		ERR="${ERR:+$ERR; }demo run on $name failed"
		continue
	fi
	# rule=R at=main|end fixed_pages=N mem_serv_requests=N mem_serv_bytes=N
	while read -r _ at fixed mreq mbytes; do
		at=${at#at=}
		case "$at" in
		main) pre=startup_ kib=startup_bf_kib ;;
		end) pre='' kib=end_bf_kib ;;
		*) check 0 "$name: barrelfish-count at '$at'"; continue ;;
		esac
		p=$(get "$base.csv" "$name" "$rule" off1 one-by-one "${pre}pool_requests")
		d=$(get "$base.csv" "$name" "$rule" off1 one-by-one "${pre}dionysos_requests")
		k=$(get "$base.csv" "$name" "$rule" off1 one-by-one "$kib")
		check "$p == ${fixed#fixed_pages=}" \
			"$name/$rule at $at: $p pool requests, Barrelfish's fixed pool served ${fixed#fixed_pages=}"
		check "$d == ${mreq#mem_serv_requests=}" \
			"$name/$rule at $at: $d Dionysos requests, Barrelfish asked mem_serv ${mreq#mem_serv_requests=}"
		# the footprint at mem_serv's sizes, less the whole pool
		b=$(awk -v k="$k" -v p="$POOL_PAGES" 'BEGIN { print k * 1024 - p * 4096 }')
		check "$b == ${mbytes#mem_serv_bytes=}" \
			"$name/$rule at $at: Dionysos granted $b bytes at mem_serv's sizes, Barrelfish's mem_serv served ${mbytes#mem_serv_bytes=}"
		check "$(get "$base.csv" "$name" "$rule" off1 one-by-one failed) == 0" "$name/$rule: domains failed"
	done < "$TMP/counts"
	if ! grep -q 'at=main' "$TMP/counts" || ! grep -q 'at=end' "$TMP/counts"; then
		check 0 "$name: no barrelfish-count at=main and at=end"
	fi
done
result "recorded_traces_replay_to_barrelfish_counts" "$ERR"

# 12. One Dionysos per node, placement tight: the budget is the fewest MiB
#     that hold the burst, split evenly each round, and the domains hold
#     what they got until all have reported. Each domain holds P pages of
#     Dionysos (the model's end_kib less the pool), so an instance whose
#     node carries D domains steals D x P less its share, exactly, every
#     round, in at least one steal and at most one per grant; the other
#     steals nothing. Needs two nodes; the module is loaded with
#     dionysos_cpus=node for it and as the guest loaded it at the end.
NAME=tight_budget_steals_what_the_budget_implies
# node_of CPU: its NUMA node.
node_of() {
	for d in /sys/devices/system/node/node*; do
		[ -e "$d/cpu$1" ] && { echo "${d##*node}"; return; }
	done
	echo -1
}
if [ ! -d /sys/devices/system/node/node1 ] ||
   [ -z "$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)" ]; then
	TESTNO=$((TESTNO + 1))
	echo "ok $TESTNO $NAME # SKIP needs two NUMA nodes"
else
	ERR=
	RELOADED=1
	if ! rmmod bootpool || ! insmod "$MODULE" dionysos_cpus=node; then
		ERR="cannot load the module with dionysos_cpus=node"
	elif demo "$TMP/tight" -r 2 -p late,early,upstream -P tight -m burst -t "$T1"; then
		# Pages of 4 KiB, as the model counts them: 256 a MiB.
		ppm=256
		icpus=$(sed -n 's/^instance=[0-9]* cpu=\([0-9]*\) .*/\1/p' \
			/sys/kernel/debug/bootpool/dionysos | tr '\n' ' ')
		# The demo's round robin over the CPUs that run no Dionysos.
		nodes=
		c=0
		ncpu=$(grep -c '^processor' /proc/cpuinfo)
		while [ $c -lt "$ncpu" ]; do
			case " $icpus" in *" $c "*) ;; *) nodes="$nodes $(node_of $c)" ;; esac
			c=$((c + 1))
		done
		d0=$(echo "$nodes" | awk -v n=$N '{ for (i = 0; i < n; i++) k += $(i % NF + 1) == 0; print k + 0 }')
		d1=$((N - d0))
		any=0
		for rule in late early upstream; do
			awk -v rule=$rule -v pool="$POOL_PAGES" -f "$MODEL" "$T1" > "$TMP/model"
			pages=$(awk -v p="$POOL_PAGES" '$1 == "end_kib" { print $2 / 4 - p }' "$TMP/model")
			dreq=$(awk '$1 == "dionysos_requests" { print $2 }' "$TMP/model")
			mb=$(( (N * pages + ppm - 1) / ppm ))
			share=$((mb * ppm / 2))
			rounds=$(get "$TMP/tight.csv" "$B1" $rule tight burst rounds)
			check "$(get "$TMP/tight.csv" "$B1" $rule tight burst failed) == 0" "$rule: domains failed"
			check "$(get "$TMP/tight.csv" "$B1" $rule tight burst budget_mb) == $mb" \
				"$rule: budget $(get "$TMP/tight.csv" "$B1" $rule tight burst budget_mb) MiB, the model says $mb"
			check "$(get "$TMP/tight.csv" "$B1" $rule tight burst dionysos_pages_per_domain) == $pages" \
				"$rule: $(get "$TMP/tight.csv" "$B1" $rule tight burst dionysos_pages_per_domain) Dionysos pages per domain, the model says $pages"
			steals=$(get "$TMP/tight.csv" "$B1" $rule tight burst instance_steals)
			stolen=$(get "$TMP/tight.csv" "$B1" $rule tight burst instance_stolen_pages)
			for inst in 0 1; do
				dn=$d0
				[ $inst -eq 0 ] || dn=$d1
				want=$((dn * pages - share))
				[ $want -gt 0 ] || want=0
				[ $want -eq 0 ] || any=1
				got=$(echo "$stolen" | cut -d';' -f$((inst + 1)))
				st=$(echo "$steals" | cut -d';' -f$((inst + 1)))
				echo "# $rule: instance $inst, $dn domains of $pages pages, share $share: stole $got pages in $st steals over $rounds rounds"
				check "$got == $rounds * $want" \
					"$rule: instance $inst ($dn domains of $pages pages, share $share) stole $got pages in $rounds rounds, want $rounds x $want"
				if [ $want -eq 0 ]; then
					check "$st == 0" "$rule: instance $inst stole $st times, its share sufficed"
				else
					check "$st >= $rounds && $st <= $rounds * $dn * $dreq" \
						"$rule: instance $inst stole $st times in $rounds rounds, want 1 to $((dn * dreq)) a round"
				fi
			done
		done
		[ $any -eq 1 ] || check 0 "no instance had to steal ($d0 and $d1 domains on the nodes): the case proves nothing"
	else
		ERR="demo run failed: $(tail -n 3 "$TMP/tight.txt")"
	fi
	result "$NAME" "$ERR"
fi

[ "$FAILS" -eq 0 ]
