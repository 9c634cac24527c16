#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run in the first kernel by scripts/kexec-check, with bootpool loaded with
# dionysos_cpu=1: start remote requests from every CPU, load this kernel
# again with the small init beside this script, and kexec into it.
set -eu
HERE=$(dirname "$0")
D=/sys/kernel/debug/bootpool

[ "$(sed -n 's/^cpu //p' $D/dionysos)" = 1 ]
# Print Dionysos's moves on the console while the CPUs go down.
E=/sys/kernel/tracing/events/bootpool/bootpool_dionysos_move/enable
if [ -f $E ]; then echo 1 > $E; fi
echo 1 > /proc/sys/kernel/tracepoint_printk

# Every CPU keeps remote requests in flight, each relayed over three hops,
# until the kernel goes down: bootpool must take no more and answer those
# on their way before the other CPUs stop. A worker's first failure goes to
# the console (ESHUTDOWN once the reboot notifiers have run).
echo 3 > /sys/module/bootpool/parameters/forward_hops
ncpus=$(grep -c '^processor' /proc/cpuinfo)
cpu=0
while [ "$cpu" -lt "$ncpus" ]; do
	/kselftest/bootpool/bootpool_workload -c "$cpu" -p early -l \
		4096x8 65536x2 262144 > /dev/null 2> /dev/kmsg &
	cpu=$((cpu + 1))
done
sleep 1

kexec -l "$HERE/vmlinuz" --initrd="$HERE/second.cpio" \
	--append="$(cat /proc/cmdline) bootpool.kexec=second"
echo "kexec-check: loaded, executing"
kexec -e
echo "kexec-check: kexec -e returned" >&2
exit 1
