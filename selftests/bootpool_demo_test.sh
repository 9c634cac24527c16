#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs userspace-demo's bootpool-demo with a few domains and asserts the
# seed's claims on its figures, which must match the module's own debugfs
# counters; also records a trace from the bootpool_alloc tracepoint and
# replays it. TAP output, one test case per claim.
set -u

KSFT_SKIP=4
N=4
TMP=${TMPDIR:-/tmp}/bootpool_demo_test.$$
TRACING=/sys/kernel/tracing
EVENT=$TRACING/events/bootpool/bootpool_alloc/enable

DEMO=$(command -v bootpool-demo 2>/dev/null || true)
[ -n "$DEMO" ] || DEMO=/userspace-demo/bootpool-demo

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

NTESTS=7
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

if [ ! -x "$DEMO" ]; then
	while [ $TESTNO -lt $NTESTS ]; do
		result "demo_binary_present" "no bootpool-demo in PATH or $DEMO"
	done
	exit 1
fi

# 1. Late switching uses at least 256 KiB less per domain than early and
#    sends fewer requests and IPIs to Dionysos (default trace, off CPU).
ERR=
if demo "$TMP/claim" -p late,early -P off1 -m seq; then
	c=$TMP/claim.csv
	ml=$(get "$c" late off1 one-by-one mem_kib)
	me=$(get "$c" early off1 one-by-one mem_kib)
	rl=$(get "$c" late off1 one-by-one dionysos_requests)
	re=$(get "$c" early off1 one-by-one dionysos_requests)
	il=$(get "$c" late off1 one-by-one ipis)
	ie=$(get "$c" early off1 one-by-one ipis)
	check "$me - $ml >= 256" "late $ml KiB, early $me KiB: less than 256 KiB saved"
	check "$rl < $re" "Dionysos requests: late $rl, early $re"
	check "$il < $ie" "IPIs: late $il, early $ie"
	check "$(get "$c" late off1 one-by-one failed) == 0" "late domains failed"
	grep -q '^late_vs_early_kib_saved_per_domain=[0-9]' "$TMP/claim.txt" ||
		check 0 "no late_vs_early_kib_saved_per_domain line"
else
	ERR="demo run failed"
fi
result "late_saves_256k_requests_and_ipis_per_domain" "$ERR"

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

[ "$FAILS" -eq 0 ]
