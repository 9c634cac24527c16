# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # the stages use what is set here
#
# What the stages of scripts/check share: sourced by each stage file in
# scripts/check.d/, never run.  A stage runs in a process of its own and
# records its results with count and result below into the file
# CHECK_RESULTS names (the driver sums them); it learns nothing from the
# stages before it except through the files they leave in build/, which
# it checks or makes again (prepare).

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit
export DEBIAN_FRONTEND=noninteractive
CACHE=${BOOTPOOL_CACHE:-$HOME/.cache/bootpool}
ARCHES=${CHECK_ARCHES:-arm64 x86_64}
RESULTS=${CHECK_RESULTS:-/dev/null}
PARSE=scripts/check.d/parse

# count NAME PASS FAIL SKIP: one summary line, into the results.
count() {
	printf '%s: %d passed, %d failed, %d skipped\n' "$@" >> "$RESULTS"
	echo "check: $1: $2 passed, $3 failed, $4 skipped"
}

# result NAME ok|fail [REASON]: one TAP-like result.
result() {
	if [ "$2" = ok ]; then
		count "$1" 1 0 0
	else
		count "$1" 0 1 0
		echo "check: $1 FAILED${3:+: $3}"
	fi
}

# show_tail LOG [N]: the end of a log, after a failure.
show_tail() {
	echo "check: last lines of $1:"
	tail -n "${2:-30}" "$1" | sed 's/^/  | /'
}

# prepare ARCH NAME: ARCH's modules and installed kselftests in
# build/ARCH, made (make ARCH=ARCH W=1 modules selftests: nothing to do
# after the build stage) so that a stage needs no stage before it; if
# that fails, NAME fails and prepare returns non-zero.
prepare() {
	local log=build/$1/check-prepare.log

	mkdir -p "build/$1"
	if make --no-print-directory ARCH="$1" W=1 modules selftests > "$log" 2>&1; then
		return 0
	fi
	show_tail "$log" 15
	result "$2" fail "not run: make ARCH=$1 W=1 modules selftests failed, see $log"
	return 1
}

# make_w1 NAME LOG ARGS...: make ARGS into LOG; a failure or any compiler
# or modpost warning is a failed result NAME (and a non-zero return).
# make runs under the command in the array IN_SYSROOT, if the caller set
# one (the next stage builds in sid's sysroot).
IN_SYSROOT=()
make_w1() {
	local name=$1 log=$2
	shift 2
	if ! "${IN_SYSROOT[@]}" make --no-print-directory "$@" > "$log" 2>&1; then
		show_tail "$log"
		result "$name" fail "build, see $log"
		return 1
	fi
	if grep -i 'warning:' "$log" > "$log.warnings"; then
		sed 's/^/  | /' "$log.warnings"
		result "$name" fail "build warnings, see $log"
		return 1
	fi
}

# copy_suite ARCH DIR: the installed kselftests (and demo) of ARCH's
# build, for a guest booting another kernel with the modules of DIR.
copy_suite() {
	cp -a "build/$1/kselftest" "$2/"
	[ ! -d "build/$1/userspace-demo" ] || cp -a "build/$1/userspace-demo" "$2/"
}

# count_guest NAME LOG RC: count the kselftests of a guest run that ended
# with status RC; a failed guest or one that ran no test is one failure.
count_guest() {
	local p f s extra=0
	read -r p f s < <("$PARSE" kselftest "$2")
	if [ "$3" -ne 0 ]; then
		echo "check: $1 guest failed (status $3), see above and $2"
		extra=1
	elif [ $((p + f + s)) -eq 0 ]; then
		echo "check: $1 guest ran no test, see $2"
		extra=1
	fi
	count "$1" "$p" $((f + extra)) "$s"
	[ $((f + extra)) -eq 0 ] || why_failed "$2"
}

# why_failed LOG: under the last result line of the summary, the failed
# tests, the harness's first failed expectations (file:line and the
# values it saw, with the line after each: a TH_LOG() of the test's) and
# scripts/vm's verdict (a kernel problem, a timeout), so that the tail of
# a failed run says what failed and where without its logs.
why_failed() {
	{
		grep -E '^(# )?not ok [0-9]+' "$1" | grep -v -i '# todo' | head -n 8 || true
		grep -E -A 1 '^(# )*[A-Za-z0-9_.-]+\.c:[0-9]+:[A-Za-z0-9_.]+:Expected ' "$1" |
			grep -v '^--$' | head -n 6 || true
		grep -m 1 '^vm: FAIL: ' "$1" || true
	} | cut -c 1-200 | sed 's/^/  | /' >> "$RESULTS"
}

# guest_suite NAME ARCH BUILD [KERNEL]: run the installed kselftests of
# BUILD in the ARCH guest (booting KERNEL, default Debian's from the
# cache) and count them under NAME.  The console log is SUITE_LOG
# (default BUILD/check-kselftest.log); SUITE_TESTS, if set, names the
# programs to run (run_kselftest.sh -t bootpool:<program> each), else
# all run; scripts/vm reads the rest of the guest's settings (NUMA,
# MODPARAMS, ...) from the environment.
guest_suite() {
	local log=${SUITE_LOG:-$3/check-kselftest.log} rc=0 sel='' t

	for t in ${SUITE_TESTS:-}; do
		sel="$sel -t bootpool:$t"
	done
	KERNEL=${4:-} scripts/vm --quiet --arch "$2" --build "$3" --log "$log" \
		--run "cd /kselftest && ./run_kselftest.sh$sel" || rc=$?
	count_guest "$1" "$log" "$rc"
}

# kernel_wanted ARGS...: whether to run the kernel scripts/build-debug-kernel
# ARGS... names.  make check-debug (CHECK_DEBUG_BUILD=1) builds each one
# that is missing; plain make check builds only the x86_64 debug kernel,
# and runs the others (arm64, KCSAN) when they are in the cache already,
# so that a run from an empty cache builds one kernel, not three.
kernel_wanted() {
	local dir

	[ -n "${CHECK_DEBUG_BUILD:-}" ] && return 0
	dir=$(scripts/build-debug-kernel "$@" --print-dir 2> /dev/null) || return 1
	[ -f "$dir/built.stamp" ]
}

# debug_kernel RESULT LABEL ARGS...: build or reuse the kernel
# scripts/build-debug-kernel ARGS... names (its log is
# build/check-RESULT.log, spaces made dashes) and set DEBUG_KDIR to its tree;
# if that fails, RESULT fails and debug_kernel returns non-zero.
debug_kernel() {
	local name=$1 label=$2 klog t0
	shift 2

	klog=build/check-${name// /-}.log
	mkdir -p build
	t0=$(date +%s)
	if ! DEBUG_KDIR=$(scripts/build-debug-kernel "$@" 2> "$klog"); then
		show_tail "$klog"
		result "$name" fail "see $klog"
		return 1
	fi
	echo "check: $label kernel ready in $(( $(date +%s) - t0 ))s: $DEBUG_KDIR"
	DEBUG_KDIR=$DEBUG_KDIR/linux
}
