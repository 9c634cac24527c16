#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the benchmark (bench/bootpool_bench) once with a small count, so
# that it cannot rot. Nothing is timed: this fails only when the program
# fails. Exit 4 (kselftest skip) when it was not built or bootpool is not
# loaded.
set -u

here=$(dirname "$0")
bench=$here/bootpool_bench

if [ ! -x "$bench" ]; then
	echo "# SKIP: $bench was not built"
	exit 4
fi
if [ ! -e /dev/bootpool ]; then
	echo "# SKIP: bootpool is not loaded"
	exit 4
fi
if ! "$bench" -n 200 -r 1 -p 4; then
	echo "# bootpool_bench failed"
	exit 1
fi
exit 0
