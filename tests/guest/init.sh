#!/bin/busybox sh
# shellcheck shell=dash
# /init of the guest test's initramfs (tests/guest/mkinitramfs.sh packs it).
# Reports the topology, checks that ibs-promote runs, runs each scenario and
# powers off. Every line the host parses starts with "IBSP-". The kernel
# command line gives the environment (run-guest.sh sets it):
#   IBSP_SCENARIOS  comma-separated policies, e.g. locality,fixed-node:0
#   IBSP_MOVER      self (the workload moves its own pages) or ibs-promote
#   IBSP_MODE       bench: run the migration benchmark instead of the scenarios,
#                   with IBSP_BENCH_PAGES and IBSP_BENCH_ROUNDS (docs/performance.md)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "IBSP-GUEST: init $(cut -d' ' -f1 /proc/uptime)s kernel $(uname -r)"

for n in /sys/devices/system/node/node*; do
	echo "IBSP-GUEST: topology $(basename "$n") cpulist=$(cat "$n/cpulist")" \
		"distance=$(tr ' ' , <"$n/distance")" \
		"mem_kb=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' "$n/meminfo")"
done
echo "IBSP-GUEST: topology has_cpu=$(cat /sys/devices/system/node/has_cpu)" \
	"has_memory=$(cat /sys/devices/system/node/has_memory)"
# The only mover must be ours: no automatic NUMA balancing behind its back.
echo 0 >/proc/sys/kernel/numa_balancing 2>/dev/null
echo "IBSP-GUEST: numa_balancing=$(cat /proc/sys/kernel/numa_balancing 2>/dev/null)"

# ibs-promote and its shared libraries load: exit 4 means only the software sampler (no PMU here).
/bin/ibs-promote probe
rc=$?
if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
	echo "IBSP-GUEST: probe ok (exit $rc)"
else
	echo "IBSP-GUEST: probe FAIL (exit $rc)"
fi

if [ "${IBSP_MODE:-}" = bench ]; then
	# From CPU 1 (node 1): none of the benchmark's own pages on node 2 or 0.
	/bin/bench_migrate --pages "${IBSP_BENCH_PAGES:-16384}" --rounds "${IBSP_BENCH_ROUNDS:-5}" \
		--src 2 --dst 0 --cpu 1 --migratepages /bin/migratepages
	echo "IBSP-BENCH: done rc=$?"
else
	for s in $(echo "${IBSP_SCENARIOS:-locality}" | tr , ' '); do
		IBSP_MOVER=${IBSP_MOVER:-self} /bin/sh /scenario.sh "$s"
	done
fi
echo "IBSP-GUEST: done $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f
