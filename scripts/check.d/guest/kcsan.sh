#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the KCSAN guest (the kcsan stage of scripts/check): the suite's
# concurrent programs, then the proof: bootpool.ko of this directory,
# built with BOOTPOOL_KCSAN_PROOF=1, runs rounds of remote requests from
# three CPUs until KCSAN reports it (at most 30).  Exits with the suite's
# status.
here=$(cd "$(dirname "$0")" && pwd)
cd /kselftest && BOOTPOOL_RACE_CYCLES=200 ./run_kselftest.sh -t bootpool:bootpool_test \
	-t bootpool:bootpool_race_test -t bootpool:bootpool_fuzz_test \
	-t bootpool:bootpool_hotplug_test
rc=$?
echo "@@KCSAN-PROOF-START@@"
rmmod bootpool_test 2> /dev/null
rmmod bootpool
dmesg -c > /dev/null
if insmod "$here/bootpool.ko"; then
	round=0
	while [ "$round" -lt 30 ] && ! dmesg | grep -q "\[bootpool\]"; do
		round=$((round + 1))
		for cpu in 1 2 3; do
			/kselftest/bootpool/bootpool_workload -c "$cpu" -p early \
				-f 4096x200 > /dev/null &
		done
		wait
	done
	echo "@@KCSAN-PROOF-ROUNDS $round@@"
	rmmod bootpool
else
	echo "@@KCSAN-PROOF-INSMOD-FAILED@@"
fi
echo "@@KCSAN-PROOF-END@@"
exit $rc
