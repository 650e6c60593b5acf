#!/bin/sh
# Install every Debian 12 package that ibs-promote's build, tests and
# benchmarks need. Idempotent: packages already present are left alone,
# and apt is not touched at all when nothing is missing.
set -eu

# build-essential also brings libc6-dev's static libc, which the test workloads link,
# and binutils' nm, which cmake/check-calls.py runs; python3 runs cmake/check-*.py.
# The guest test (docs/guest-test.md) boots QEMU (which pulls in SeaBIOS) with a
# static busybox in a cpio initramfs; its kernel is fetched by the test itself.
# numactl brings migratepages, the peer of the migration benchmark in the guest.
# libmicrohttpd serves run --metrics-listen; prometheus brings promtool, which
# the metrics test runs (docs/metrics.md).
# clang-14 and its runtimes (libFuzzer, ASan, UBSan) build tests/fuzz.
# libinih-dev reads --config files; scdoc renders the man pages; the install test
# (tests/install/check-install.sh) renders them with man-db, and links a program
# with `pkg-config --static ibsp`, which lists hwloc's libudev.
# libzstd reads recordings made with perf record -z (PERF_RECORD_COMPRESSED).
# libcap-ng drops the daemon's capabilities after its setup; capsh (libcap2-bin)
# drops them for tests/test_privs.c.
PKGS="build-essential cmake pkg-config xz-utils clang-format git python3
clang-14 libclang-rt-14-dev
libpfm4-dev libnuma-dev libhwloc-dev liburing-dev libcriterion-dev libjansson-dev
libzstd-dev
libcap-ng-dev libcap2-bin
libmicrohttpd-dev prometheus libinih-dev scdoc man-db libudev-dev
linux-source-6.1 linux-perf
qemu-system-x86 busybox-static cpio numactl"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "setup-debian: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi

echo "setup-debian: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
