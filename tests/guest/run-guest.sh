#!/bin/sh
# The guest test (docs/guest-test.md): boot Debian's stock kernel in QEMU with
# three NUMA nodes (0 and 1 with one CPU each, 2 CPU-less with its own
# memory), run the scenarios inside, and check where the workload's pages
# ended up.
#
# Usage: tests/guest/run-guest.sh [BUILD_DIR]   (default: build)
# Needs BUILD_DIR/ibs-promote and BUILD_DIR/tests/numa_regions (cmake --build).
# Exit: 0 pass, 1 fail (guest output printed), 77 skip (the reason printed).
# Environment:
#   IBSP_GUEST_SCENARIOS  scenarios, comma-separated: policies for numa_regions (locality,
#                         fixed-node:N) and the live ones (steady, shared, exit, pressure,
#                         hintcost; live.sh); default locality,fixed-node:0,steady,shared,exit,hintcost
#   IBSP_GUEST_MEM        MiB of nodes 0, 1 and 2 (default 1024,1024,1024)
#   IBSP_GUEST_NAME       a suffix for this run's initramfs and serial log (default none)
#   IBSP_GUEST_MOVER      ibs-promote (default), self (the workload moves its own pages), or none (negative control: must fail)
#   IBSP_GUEST_ACCEL      auto (default: KVM only when it really boots), tcg or kvm
#   IBSP_GUEST_TIMEOUT_S  limit for one boot (default 480; 600 in bench mode)
#   IBSP_GUEST_MODE       test (default), or bench: the migration benchmark
#                         (BUILD_DIR/bench_migrate against migratepages; docs/performance.md)
#   IBSP_GUEST_BENCH_PAGES, IBSP_GUEST_BENCH_ROUNDS  its size (default 16384 pages, 5 rounds)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
scenarios=${IBSP_GUEST_SCENARIOS:-locality,fixed-node:0,steady,shared,exit,hintcost}
mover=${IBSP_GUEST_MOVER:-ibs-promote}
accel=${IBSP_GUEST_ACCEL:-auto}
mem=${IBSP_GUEST_MEM:-1024,1024,1024}
suffix=${IBSP_GUEST_NAME:+-$IBSP_GUEST_NAME}
mode=${IBSP_GUEST_MODE:-test}
if [ "$mode" = bench ]; then
	limit_s=${IBSP_GUEST_TIMEOUT_S:-600}
	extra="IBSP_MODE=bench IBSP_BENCH_PAGES=${IBSP_GUEST_BENCH_PAGES:-16384} IBSP_BENCH_ROUNDS=${IBSP_GUEST_BENCH_ROUNDS:-5}"
else
	limit_s=${IBSP_GUEST_TIMEOUT_S:-480}
	extra=""
fi
work=$build/guest
mkdir -p "$work"
mem0=${mem%%,*}
mem2=${mem##*,}
mem1=${mem#*,}
mem1=${mem1%%,*}
case "$mem0$mem1$mem2" in
*[!0-9]* | "")
	echo "guest: IBSP_GUEST_MEM='$mem' is not three sizes in MiB (e.g. 512,512,1024)"
	exit 1
	;;
esac

skip() {
	echo "guest: SKIP: $*"
	exit 77
}

t_start=$(date +%s.%N)
elapsed() {
	echo "$(date +%s.%N) $t_start" | awk '{ printf "%.1f", $1 - $2 }'
}

command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
command -v cpio >/dev/null || skip "no cpio (apt-get install cpio)"
command -v timeout >/dev/null || skip "no timeout (coreutils)"
if [ "$mode" = bench ]; then
	[ -x "$build/bench_migrate" ] || { echo "guest: $build/bench_migrate is missing: build first"; exit 1; }
	command -v migratepages >/dev/null || skip "no migratepages (apt-get install numactl)"
fi

rc=0
kernel=$("$here/fetch-kernel.sh" "$work") || rc=$?
if [ "$rc" = 77 ]; then
	skip "no kernel (see above)"
elif [ "$rc" != 0 ]; then
	exit 1
fi
echo "guest: kernel $kernel ($(elapsed) s)"

initrd=$work/initramfs$suffix.cpio.gz
"$here/mkinitramfs.sh" "$build" "$initrd" || {
	rc=$?
	[ "$rc" = 77 ] && skip "cannot build the initramfs (see above)"
	exit 1
}
echo "guest: initramfs $initrd, $(($(wc -c <"$initrd") / 1024)) KiB ($(elapsed) s)"

# A killed test (ctest's timeout, ^C) takes its guest along.
_pid=""
trap '[ -z "$_pid" ] || kill "$_pid" 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM

# Boot once with ACCEL and CPU; the serial console goes to $log. Returns 0
# when the guest reached /init (qemu's own status in $qrc), 2 when it did not
# within BOOT_S seconds (the guest is killed then).
boot() {
	_accel=$1 _cpu=$2 _boot_s=$3
	log=$work/serial$suffix-$_accel.log
	[ "$mode" = test ] || log=$work/serial$suffix-$mode-$_accel.log
	timeout -k 5 "$limit_s" qemu-system-x86_64 -accel "$_accel" -cpu "$_cpu" \
		-smp 2 -m "$((mem0 + mem1 + mem2))M" \
		-object memory-backend-ram,size="${mem0}M",id=m0 \
		-object memory-backend-ram,size="${mem1}M",id=m1 \
		-object memory-backend-ram,size="${mem2}M",id=m2 \
		-numa node,nodeid=0,cpus=0,memdev=m0 \
		-numa node,nodeid=1,cpus=1,memdev=m1 \
		-numa node,nodeid=2,memdev=m2 \
		-numa dist,src=0,dst=1,val=21 \
		-numa dist,src=0,dst=2,val=30 \
		-numa dist,src=1,dst=2,val=30 \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet IBSP_SCENARIOS=$scenarios IBSP_MOVER=$mover${IBSP_LIVE_DEBUG:+ IBSP_LIVE_DEBUG=1}${extra:+ $extra}" \
		-nographic -no-reboot -nodefaults -serial stdio -display none \
		</dev/null >"$log" 2>&1 &
	_pid=$!
	_ticks=0
	while ! grep -q 'IBSP-GUEST: init' "$log"; do
		if ! kill -0 "$_pid" 2>/dev/null; then
			break
		fi
		_ticks=$((_ticks + 1))
		if [ "$_ticks" -gt $((_boot_s * 10)) ]; then
			kill "$_pid" 2>/dev/null || true
			wait "$_pid" || true
			_pid=""
			return 2
		fi
		sleep 0.1
	done
	qrc=0
	wait "$_pid" || qrc=$?
	_pid=""
	grep -q 'IBSP-GUEST: init' "$log" || return 2
	return 0
}

# KVM: /dev/kvm alone is not enough. A nested KVM without vmx/svm in the CPU
# flags (this project's VMs) fails stock kernels: -cpu host aborts, the boot
# hangs (docs/guest-test.md). So KVM is tried only with vmx/svm present, and a
# boot that does not reach /init within 20 s falls back to TCG.
kvm_why=""
if [ ! -w /dev/kvm ]; then
	kvm_why="no writable /dev/kvm"
elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	kvm_why="/dev/kvm without vmx/svm in the CPU flags (paravirtual nested KVM, which hangs stock kernels)"
fi
used=""
if [ "$accel" = kvm ] || { [ "$accel" = auto ] && [ -z "$kvm_why" ]; }; then
	if boot kvm host 20; then
		used=kvm
	elif [ "$accel" = kvm ]; then
		echo "guest: FAIL: KVM did not reach /init within 20 s; serial output:"
		cat "$log"
		exit 1
	else
		echo "guest: KVM did not reach /init within 20 s; using TCG"
	fi
elif [ "$accel" = auto ]; then
	echo "guest: not trying KVM: $kvm_why"
fi
if [ -z "$used" ]; then
	if ! boot tcg max 120; then
		echo "guest: FAIL: the guest did not reach /init (TCG, qemu exit ${qrc:-?}); serial output:"
		cat "$log"
		exit 1
	fi
	used=tcg
fi
echo "guest: booted with $used, qemu exit $qrc ($(elapsed) s)"

tr -d '\r' <"$log" >"$log.txt"
fail=""
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	fail="the guest ran past ${limit_s} s"
elif ! grep -q '^IBSP-GUEST: done' "$log.txt"; then
	fail="the guest did not finish (no 'IBSP-GUEST: done')"
elif ! grep -q '^IBSP-GUEST: probe ok' "$log.txt"; then
	fail="ibs-promote probe did not run in the guest"
fi
if [ "$mode" = bench ]; then
	if ! grep -qx 'IBSP-BENCH: done rc=0' "$log.txt"; then
		fail="${fail:+$fail; }the benchmark failed: $(grep '^IBSP-BENCH: done' "$log.txt" || echo 'no verdict')"
	fi
else
	for s in $(echo "$scenarios" | tr , ' '); do
		if ! grep -qx "IBSP-SCENARIO $s PASS" "$log.txt"; then
			fail="${fail:+$fail; }scenario $s: $(grep "^IBSP-SCENARIO $s FAIL" "$log.txt" || echo 'no verdict')"
		fi
	done
fi

if [ -n "$fail" ]; then
	echo "guest: FAIL: $fail; serial output ($log):"
	cat "$log.txt"
	exit 1
fi
grep -E '^(IBSP-|INITIAL|RESULT|CHECK|PLACE|BENCH)' "$log.txt"
echo "guest: PASS ($used, $(elapsed) s in all; serial output in $log)"
