#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs userspace-demo's bootpool-demo with a few domains and asserts the
# seed's claims on its figures, which must match the module's own debugfs
# counters; also records a trace from the bootpool_alloc tracepoint and
# replays it. TAP output, one test case per claim. What late switching
# saves is asserted against what the trace replayed holds (its requests
# before the first one above a page), never against a fixed number.
set -u

KSFT_SKIP=4
N=4
TMP=${TMPDIR:-/tmp}/bootpool_demo_test.$$
TRACING=/sys/kernel/tracing
EVENT=$TRACING/events/bootpool/bootpool_alloc/enable

DEMO=$(command -v bootpool-demo 2>/dev/null || true)
[ -n "$DEMO" ] || DEMO=/userspace-demo/bootpool-demo
TRACES=$(dirname "$DEMO")/traces
DEFAULT_TRACE=$TRACES/barrelfish-domain-init.trace
PAGE=4096

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root"
	exit $KSFT_SKIP
fi
if [ ! -c /dev/bootpool ]; then
	echo "1..0 # SKIP bootpool module not loaded"
	exit $KSFT_SKIP
fi

mkdir -p "$TMP"
trap 'echo 0 > "$EVENT" 2>/dev/null; rm -rf "$TMP"' EXIT

NTESTS=9
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
	if ! "$DEMO" -n $N --csv "$out.csv" "$@" > "$out.txt" 2>&1; then
		echo "bootpool-demo $* failed:"
		cat "$out.txt"
		return 1
	fi
}

# get CSV POLICY PLACEMENT MODE COLUMN: one figure of the CSV.
get() {
	awk -F, -v p="$2" -v l="$3" -v m="$4" -v c="$5" '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	$1 == p && $2 == l && $4 == m { print $idx[c]; found = 1; exit }
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

# The demo's per-domain figures times N must equal the change of the
# module's global counters over the configuration.
check_counters() {
	for col in dionysos_requests:debugfs_remote_allocs \
		   pool_requests:debugfs_pool_allocs ipis:debugfs_ipis \
		   hops:debugfs_hops; do
		per=$(get "$1" "$2" "$3" "$4" "${col%%:*}")
		tot=$(get "$1" "$2" "$3" "$4" "${col#*:}")
		check "$per * $N == $tot" \
			"$2/$3/$4: ${col%%:*} $per x $N domains != ${col#*:} $tot"
	done
}

# pages_before_switch TRACE [asked]: how many requests the late policy
# serves from the pool before it switches, read from the trace file: the
# requests before the first one above a page, at most pool_pages of them.
# Of SIZE/FALLBACK it takes FALLBACK, or SIZE when "asked" (--no-fallback).
pages_before_switch() {
	awk -v asked="${2:-}" -v page=$PAGE -v pool="$POOL_PAGES" '
	function bytes(s) {
		if (s ~ /[Kk]$/)
			return s * 1024
		if (s ~ /[Mm]$/)
			return s * 1048576
		return s + 0
	}
	{ sub(/#.*/, "") }
	NF == 0 { next }
	{
		n = split($1, part, "/")
		size = bytes(n == 2 && asked == "" ? part[2] : part[1])
		if (size > page || k == pool)
			exit
		k++
	}
	END { print k + 0 }' "$1"
}

# check_saving CSV TRACE [asked]: late saves a page per request before its
# switch, in memory, Dionysos requests and IPIs (off1), and switches there.
check_saving() {
	k=$(pages_before_switch "$2" "${3:-}")
	ml=$(get "$1" late off1 one-by-one mem_kib)
	me=$(get "$1" early off1 one-by-one mem_kib)
	rl=$(get "$1" late off1 one-by-one dionysos_requests)
	re=$(get "$1" early off1 one-by-one dionysos_requests)
	il=$(get "$1" late off1 one-by-one ipis)
	ie=$(get "$1" early off1 one-by-one ipis)
	pl=$(get "$1" late off1 one-by-one pool_requests)
	what="$(basename "$2")${3:+ (--no-fallback)}"
	check "$me - $ml == $k * $PAGE / 1024" \
		"$what: late $ml KiB, early $me KiB: want $k pages saved"
	check "$re - $rl == $k" "$what: Dionysos requests late $rl, early $re: want $k fewer"
	check "$ie - $il == $k" "$what: IPIs late $il, early $ie: want $k fewer"
	check "$pl == $k" "$what: the pool served $pl requests, want $k"
	check "$(get "$1" late off1 one-by-one failed) == 0" "$what: late domains failed"
	check "$(get "$1" early off1 one-by-one failed) == 0" "$what: early domains failed"
}

POOL_PAGES=$(cat /sys/module/bootpool/parameters/pool_pages 2>/dev/null || echo 256)

if [ ! -x "$DEMO" ]; then
	while [ $TESTNO -lt $NTESTS ]; do
		result "demo_binary_present" "no bootpool-demo in PATH or $DEMO"
	done
	exit 1
fi

# 1. On the default trace, late switching saves a page, a Dionysos request
#    and an IPI per request it serves from the pool before its switch, as
#    many as the trace puts before its first request above a page; the
#    headline says so and names the trace.
ERR=
if demo "$TMP/claim" -p late,early -P off1 -m seq; then
	check_saving "$TMP/claim.csv" "$DEFAULT_TRACE"
	grep -qx "late_vs_early_trace=$(basename "$DEFAULT_TRACE")" "$TMP/claim.txt" ||
		check 0 "the headline does not name $(basename "$DEFAULT_TRACE")"
	grep -qx "late_vs_early_kib_saved_per_domain=$((k * PAGE / 1024))" "$TMP/claim.txt" ||
		check 0 "headline: $(grep saved_per_domain "$TMP/claim.txt"), want $((k * PAGE / 1024))"
else
	ERR="demo run failed"
fi
result "late_saves_a_page_per_request_before_the_switch" "$ERR"

# 2. The figures are the module's: they add up to its debugfs counters.
ERR=
if [ -f "$TMP/claim.csv" ]; then
	check_counters "$TMP/claim.csv" late off1 one-by-one
	check_counters "$TMP/claim.csv" early off1 one-by-one
else
	ERR="no CSV from test 1"
fi
result "demo_figures_match_module_counters" "$ERR"

# 3. Off dionysos_cpu, three hops per request cost three times the hops.
ERR=
if demo "$TMP/hops" -p early,late -P off1,off3 -m seq; then
	for p in early late; do
		h1=$(get "$TMP/hops.csv" $p off1 one-by-one hops)
		h3=$(get "$TMP/hops.csv" $p off3 one-by-one hops)
		check "$h1 > 0 && $h3 == 3 * $h1" "$p: hops $h3 with forward_hops=3, $h1 with 1"
	done
else
	ERR="demo run failed"
fi
result "forward_hops_3_triples_the_hops" "$ERR"

# 4. A burst of domains queues at Dionysos and still succeeds.
ERR=
if demo "$TMP/burst" -p early,late -P on -m burst; then
	check_counters "$TMP/burst.csv" early on burst
	q=$(get "$TMP/burst.csv" early on burst max_queue_depth)
	check "$q >= 1" "max_queue_depth $q after an early burst"
else
	ERR="demo run failed"
fi
result "burst_succeeds_and_reports_queue_depth" "$ERR"

# 5. Sub-page requests only: late never switches.
ERR=
{ echo "# sub-page requests only"; i=0
  while [ $i -lt 200 ]; do echo "1024 l2_pagetable"; echo "512"; echo 4095; i=$((i + 1)); done
} | head -n 250 > "$TMP/subpage.trace"
if demo "$TMP/sub" -p late -P on -m seq -t "$TMP/subpage.trace"; then
	s=$(get "$TMP/sub.csv" late on one-by-one switched_domains)
	r=$(get "$TMP/sub.csv" late on one-by-one dionysos_requests)
	p=$(get "$TMP/sub.csv" late on one-by-one pool_requests)
	check "$s == 0 && $r == 0" "late switched in $s of $N domains, $r Dionysos requests"
	check "$p == 249" "pool served $p of 249 requests"
else
	ERR="demo run failed"
fi
result "late_never_switches_on_subpage_requests" "$ERR"

# 6. First request of 16 KiB: late switches at once, the pool untouched.
ERR=
printf '16K l2_cnode\n4096\n1024\n' > "$TMP/big.trace"
if demo "$TMP/big" -p late -P on -m seq -t "$TMP/big.trace"; then
	s=$(get "$TMP/big.csv" late on one-by-one switched_domains)
	why=$(get "$TMP/big.csv" late on one-by-one switch_reason)
	left=$(get "$TMP/big.csv" late on one-by-one switch_pages_left)
	p=$(get "$TMP/big.csv" late on one-by-one pool_requests)
	check "$s == $N" "switched in $s of $N domains"
	[ "$why" = oversize ] || check 0 "switch reason $why, not oversize"
	check "$left == 256 && $p == 0" "switched with $left pool pages left, $p pool requests"
else
	ERR="demo run failed"
fi
result "late_switches_at_once_on_16k_first_request" "$ERR"

# 7. A trace recorded from the bootpool_alloc tracepoint replays the same.
ERR=
if [ ! -w "$EVENT" ]; then
	TESTNO=$((TESTNO + 1))
	echo "ok $TESTNO recorded_trace_replays_the_same # SKIP no $EVENT"
else
	printf '4096 heap\n1024\n16K\n8K\n4096\n' > "$TMP/orig.trace"
	echo > "$TRACING/trace"
	echo 1 > "$EVENT"
	"$DEMO" -n 1 -p late -P on -m seq -t "$TMP/orig.trace" > /dev/null 2>&1 ||
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
		for col in mem_kib dionysos_requests pool_requests switch_reason; do
			a=$(get "$TMP/rec.csv" late on one-by-one $col)
			b=$(get "$TMP/orig.csv" late on one-by-one $col)
			[ "$a" = "$b" ] || check 0 "$col: recorded $a, original $b"
		done
	else
		ERR="${ERR:-replay of the recorded trace failed}"
	fi
	result "recorded_trace_replays_the_same" "$ERR"
fi

# 8. Upstream's start-up: refused requests are replayed with their
#    fallback and counted, and late saves what comes before the first
#    request nothing retries smaller; taken literally (--no-fallback) the
#    rule switches at the first refused request and saves what precedes it.
ERR=
set -- "$TRACES"/barrelfish-upstream-*.trace
[ -f "$1" ] || ERR="no barrelfish-upstream-*.trace in $TRACES"
for t in "$@"; do
	[ -f "$t" ] || continue
	base=$TMP/$(basename "$t" .trace)
	if demo "$base" -p late,early -P off1 -m seq -t "$t" &&
	   demo "$base-asked" -p late,early -P off1 -m seq -t "$t" --no-fallback; then
		check_saving "$base.csv" "$t"
		check_saving "$base-asked.csv" "$t" asked
		want=$(grep -c '^[0-9][0-9KkMm]*/' "$t")
		got=$(get "$base.csv" late off1 one-by-one retried_requests)
		check "$got == $want && $want > 0" \
			"$(basename "$t"): $got refused requests replayed, the trace has $want"
		why=$(get "$base.csv" late off1 one-by-one switch_reason)
		[ "$why" = oversize ] ||
			check 0 "$(basename "$t"): late switched for $why, not oversize"
	else
		ERR="${ERR:+$ERR; }demo run on $(basename "$t") failed"
	fi
done
result "upstream_traces_save_their_pages_before_the_switch" "$ERR"

# 9. The sweep: K page-sized requests before one above a page save K pages
#    and K Dionysos requests, for every K, on the pool's own counts.
ERR=
if "$DEMO" --sweep 0:32:16 -n 2 --csv "$TMP/sweep.csv" > "$TMP/sweep.txt" 2>&1; then
	rows=$(awk -F, -v page=$PAGE '
	NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
	{
		x = $idx["pool_requests_before_switch"]
		if ($idx["kib_saved_per_domain"] != x * page / 1024 ||
		    $idx["early_dionysos_requests"] - $idx["late_dionysos_requests"] != x ||
		    $idx["early_ipis"] - $idx["late_ipis"] != x || $idx["failed"] != 0)
			print "K " x ": " $0
		if (x != 16 * (NR - 2))
			print "row " NR - 1 " has K " x ", want " 16 * (NR - 2)
		n++
	}
	END { if (n != 3) print n " points, want 3" }' "$TMP/sweep.csv")
	[ -z "$rows" ] || check 0 "$rows"
else
	ERR="bootpool-demo --sweep failed: $(tail -n 3 "$TMP/sweep.txt")"
fi
result "sweep_saves_a_page_per_request_before_the_switch" "$ERR"

[ "$FAILS" -eq 0 ]
