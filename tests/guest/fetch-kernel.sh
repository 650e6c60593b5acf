#!/bin/sh
# Fetch Debian's current stock kernel for the guest test, without installing
# it: resolve the versioned package behind linux-image-amd64, download the
# .deb, keep only boot/ (vmlinuz and config; the modules are not needed, see
# docs/guest-test.md) and print the vmlinuz path on stdout.
#
# Usage: fetch-kernel.sh CACHE_DIR
# Cached: a kernel already unpacked under CACHE_DIR/<package>/ is reused, and
# apt is not asked again while it is there. Exit 77 (skip) when nothing can be
# fetched (no apt metadata, no network) and no kernel is cached.
set -eu

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

skip() {
	echo "fetch-kernel: $*" >&2
	exit 77
}

vmlinuz_in() {
	for f in "$1"/boot/vmlinuz-*; do
		if [ -f "$f" ]; then
			echo "$f"
			return 0
		fi
	done
	return 1
}

# e.g. "  Depends: linux-image-6.1.0-56-amd64"
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

# Stale or missing apt lists (a kernel superseded by a security update is gone
# from the mirror): refresh them once, as root or with password-less sudo.
updated=0
apt_update() {
	[ "$updated" = 0 ] || return 1
	updated=1
	echo "fetch-kernel: refreshing apt lists" >&2
	if [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1
	else
		sudo -n apt-get update -qq >/dev/null 2>&1
	fi
}

pkg=$(resolve)
if [ -z "$pkg" ] && apt_update; then
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	# No apt metadata (apt-get update never ran): fall back to any cached kernel.
	for d in "$cache"/linux-image-*; do
		if vmlinuz_in "$d"; then
			echo "fetch-kernel: apt cannot resolve linux-image-amd64; using cached $d" >&2
			exit 0
		fi
	done
	skip "apt-cache cannot resolve linux-image-amd64 (run apt-get update) and no kernel is cached in $cache"
fi

dir=$cache/$pkg
if vmlinuz_in "$dir"; then
	exit 0
fi

tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch-kernel: downloading $pkg into $cache" >&2
# apt-get download writes into the current directory. As root, apt warns that
# its _apt sandbox user cannot write there; the download still works.
download() {
	(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>"$tmp/err")
}
if ! download && ! { apt_update && pkg=$(resolve) && [ -n "$pkg" ] && download; }; then
	grep -v 'unsandboxed' "$tmp/err" >&2 || true
	skip "apt-get download $pkg failed (no network?)"
fi
dir=$cache/$pkg
deb=$(ls "$tmp"/*.deb)
mkdir -p "$tmp/x"
# Only boot/: the package is mostly modules (~400 MB unpacked), which the guest does not use.
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards './boot/*'
vmlinuz_in "$tmp/x" >/dev/null || {
	echo "fetch-kernel: $deb holds no boot/vmlinuz-*" >&2
	exit 1
}
rm -rf "$dir"
mv "$tmp/x" "$dir"
vmlinuz_in "$dir"
