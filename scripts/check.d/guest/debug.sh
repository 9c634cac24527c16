#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the debug guest (the debug stage of scripts/check): KUnit, the whole
# kselftest suite, then a kmemleak scan; KUnit's KTAP and the scan's
# findings are printed between markers for the stage to read.  Exits
# with the suite's status.
insmod /bootpool/bootpool_kunit.ko || echo "@@KUNIT-INSMOD-FAILED@@"
for r in /sys/kernel/debug/kunit/*/results; do cat "$r"; done > /tmp/kunit.ktap
rmmod bootpool_kunit
cd /kselftest && ./run_kselftest.sh
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
