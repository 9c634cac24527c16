#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs bootpool's ftrace tests (ftrace/*.tc beside this script) with the
# kernel's own ftracetest, installed by the kselftest tree next to us.
set -u

here=$(cd "$(dirname "$0")" && pwd)
ftracetest=${FTRACETEST:-$here/../ftrace/ftracetest}
ksft_skip=4

if [ ! -x "$ftracetest" ]; then
	echo "SKIP: ftracetest not found at $ftracetest"
	exit $ksft_skip
fi
if [ ! -d /sys/module/bootpool ]; then
	echo "SKIP: bootpool module not loaded"
	exit $ksft_skip
fi

BOOTPOOL_WORKLOAD=$here/bootpool_workload
export BOOTPOOL_WORKLOAD
exec "$ftracetest" -vv --fail-unsupported --fail-unresolved \
	--logdir "${TMPDIR:-/tmp}/bootpool-ftracetest" "$here/ftrace"
