#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the debug guest (the debug stage of scripts/check): KUnit, the whole
# kselftest suite, then a kmemleak scan; KUnit's KTAP and the scan's
# findings are printed between markers for the stage to read.  Exits
# with the suite's status.
#
# Two programs do less here than in the stock guests, where the same
# cases run in full: the hotplug storm runs 50 offline/online cycles
# instead of 100, and the demo's trace replay (case 1) three traces of
# the eleven, one read from Barrelfish's code, one estimated, one
# recorded.  Under this kernel they took 100 s and 190 s of the guest's
# 17 minutes.
insmod /bootpool/bootpool_kunit.ko || echo "@@KUNIT-INSMOD-FAILED@@"
for r in /sys/kernel/debug/kunit/*/results; do cat "$r"; done > /tmp/kunit.ktap
rmmod bootpool_kunit
cd /kselftest && BOOTPOOL_HOTPLUG_CYCLES=50 \
	BOOTPOOL_DEMO_TRACES="barrelfish-domain-init.trace barrelfish-upstream-x86_64-max.trace hellotest-x86_64-upstream.trace" \
	./run_kselftest.sh
rc=$?
echo "@@KUNIT-START@@"
cat /tmp/kunit.ktap
echo "@@KUNIT-END@@"
echo scan > /sys/kernel/debug/kmemleak
sleep 2
echo scan > /sys/kernel/debug/kmemleak
cat /sys/kernel/debug/kmemleak > /tmp/kmemleak
echo "@@KMEMLEAK-START@@"
cat /tmp/kmemleak
echo "@@KMEMLEAK-END@@"
exit $rc
