#!/bin/sh
# Pack the guest test's initramfs: a static busybox, /init (init.sh), the
# scenario scripts (scenario.sh, live.sh), the static workloads (numa_regions,
# writer), and ibs-promote with the exact shared
# libraries and loader that ldd lists (it is dynamically linked; see
# docs/guest-test.md for why not static). For the migration benchmark
# (IBSP_GUEST_MODE=bench), also BUILD_DIR/bench_migrate and numactl's
# migratepages, with theirs, when they exist. No kernel modules: everything
# the test uses is built into Debian's kernel.
# Usage: mkinitramfs.sh BUILD_DIR OUT.cpio.gz
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: mkinitramfs.sh BUILD_DIR OUT.cpio.gz}
out=${2:?usage: mkinitramfs.sh BUILD_DIR OUT.cpio.gz}
cli=$build/ibs-promote
workload=$build/tests/numa_regions
writer=$build/tests/writer

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
	echo "mkinitramfs: need a static busybox (apt-get install busybox-static)" >&2
	exit 77
fi
for f in "$cli" "$workload" "$writer"; do
	if [ ! -x "$f" ]; then
		echo "mkinitramfs: $f is missing: build first" >&2
		exit 1
	fi
done
for f in "$workload" "$writer"; do
	if ldd "$f" >/dev/null 2>&1; then
		echo "mkinitramfs: $f must be static" >&2
		exit 1
	fi
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
cp "$here/scenario.sh" "$root/scenario.sh"
cp "$workload" "$root/bin/numa_regions"
cp "$writer" "$root/bin/writer"
cp "$here/live.sh" "$root/live.sh"
cp "$here/live_scenarios.sh" "$root/live_scenarios.sh"
chmod 755 "$root/init" "$root/scenario.sh"

# Copy dynamic binary $1 to /bin/$2 with its libraries:
# "libx.so.1 => /lib/.../libx.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)";
# linux-vdso has no path. Each goes to the same path in the guest (symlinks resolved).
add_dynamic() {
	libs=$(ldd "$1") || {
		echo "mkinitramfs: ldd $1 failed" >&2
		exit 1
	}
	if echo "$libs" | grep -q 'not found'; then
		echo "mkinitramfs: $1 has unresolved libraries:" >&2
		echo "$libs" >&2
		exit 1
	fi
	cp "$1" "$root/bin/$2"
	for lib in $(echo "$libs" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
add_dynamic "$cli" ibs-promote
if [ -x "$build/bench_migrate" ]; then
	add_dynamic "$build/bench_migrate" bench_migrate
fi
migratepages=$(command -v migratepages || true)
if [ -n "$migratepages" ]; then
	add_dynamic "$migratepages" migratepages
fi

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
