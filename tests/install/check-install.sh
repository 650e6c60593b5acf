#!/bin/sh
# ctest "install": `cmake --install` into a temporary prefix, then check what
# an operator and a library user get (docs/operations.md): every file; a
# program built with `pkg-config --cflags --libs --static ibsp`, and one with
# find_package(ibsp), count the bundled example's 36000 samples; every man
# page renders without warnings; systemd-analyze accepts the unit; the bash
# completion completes; the example configuration parses.
# Usage: check-install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
extra=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$P" >"$tmp/install.log" || {
	cat "$tmp/install.log"; fail "cmake --install"; }

# 1. every file
pages="ibs-promote.1 ibs-promote-probe.1 ibs-promote-record.1 ibs-promote-info.1
ibs-promote-dump.1 ibs-promote-run.1 ibs-promote-replay.1 ibs-promote.conf.5"
files="bin/ibs-promote lib/libibsp.a lib/pkgconfig/ibsp.pc lib/cmake/ibsp/ibspConfig.cmake
lib/cmake/ibsp/ibspConfigVersion.cmake share/bash-completion/completions/ibs-promote
lib/systemd/system/ibs-promote.service etc/ibs-promote.conf"
for h in "$src"/include/ibsp/*.h; do files="$files include/ibsp/$(basename "$h")"; done
for p in $pages; do files="$files share/man/man${p##*.}/$p"; done
for f in $files; do
	[ -f "$P/$f" ] || fail "$f is not installed"
done
# every command `ibs-promote --help` lists has its page
for c in $("$P/bin/ibs-promote" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
	case $c in help | version) continue ;; esac
	[ -f "$P/share/man/man1/ibs-promote-$c.1" ] || fail "no man page for '$c'"
done
echo "check-install: $(echo $files | wc -w) files present"

# 2. a program built with pkg-config --static counts the example's samples
fixture=$src/tests/fixtures/example-2s-cxl.data
export PKG_CONFIG_PATH="$P/lib/pkgconfig"
# shellcheck disable=SC2046,SC2086
cc -std=c17 -Wall -Werror $extra $(pkg-config --cflags ibsp) -o "$tmp/count_pc" \
	"$src/tests/install/count_samples.c" $(pkg-config --libs --static ibsp) ||
	fail "building with pkg-config --cflags --libs --static ibsp"
n=$("$tmp/count_pc" "$fixture") || fail "count_samples (pkg-config) failed"
[ "$n" = 36000 ] || fail "count_samples (pkg-config) counted $n samples, not 36000"
echo "check-install: pkg-config --static: $n samples"

# 3. the same with find_package(ibsp)
cmake -S "$src/tests/install" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$P" \
	-DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" >"$tmp/consumer.log" 2>&1 &&
	cmake --build "$tmp/consumer" >>"$tmp/consumer.log" 2>&1 || {
	cat "$tmp/consumer.log"; fail "find_package(ibsp) consumer"; }
n=$("$tmp/consumer/count_samples" "$fixture") || fail "count_samples (find_package) failed"
[ "$n" = 36000 ] || fail "count_samples (find_package) counted $n samples, not 36000"
echo "check-install: find_package(ibsp): $n samples"

# 4. man pages render without warnings (man-db's --warnings passes -ww to groff)
for p in $pages; do
	f=$P/share/man/man${p##*.}/$p
	out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$f" 2>&1 >"$tmp/page.txt") ||
		fail "man -l $p failed: $out"
	[ -z "$out" ] || fail "man -l $p: $out"
	grep -q NAME "$tmp/page.txt" || fail "man -l $p rendered no NAME section"
done
echo "check-install: $(echo $pages | wc -w) man pages render without warnings"

# 5. systemd-analyze accepts the unit (its Documentation= pages: the installed ones)
if command -v systemd-analyze >/dev/null; then
	MANPATH=$P/share/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify \
		"$P/lib/systemd/system/ibs-promote.service" || fail "systemd-analyze verify"
	grep -q "^ExecStart=$P/bin/ibs-promote run --config $P/etc/ibs-promote.conf$" \
		"$P/lib/systemd/system/ibs-promote.service" || fail "the unit's ExecStart"
	echo "check-install: systemd-analyze verify accepts the unit"
else
	echo "check-install: SKIP systemd-analyze verify: systemd-analyze is not installed"
fi

# 6. the completion: subcommands, options, sampler and policy names
comp() { # comp WORD... : the completions of the last word (the minimal bash-completion API)
	bash -c '
	_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]};
		words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; split=false; }
	_filedir() { COMPREPLY=(FILES); }; _pids() { COMPREPLY=(PIDS); }; compopt() { :; }
	_command_offset() { COMPREPLY=(COMMAND); }
	. "$0"
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ibs_promote
	echo "${COMPREPLY[*]}"' "$P/share/bash-completion/completions/ibs-promote" "$@"
}
[ "$(comp ibs-promote re)" = "record replay" ] || fail "completion of 're': $(comp ibs-promote re)"
[ "$(comp ibs-promote run --sampler '')" = "auto ibs pebs soft hint" ] || fail "--sampler names"
[ "$(comp ibs-promote replay --policy l)" = "locality last-accessor" ] || fail "--policy names"
[ "$(comp ibs-promote run --dr)" = "--dry-run --drain-ms" ] || fail "run --dr: $(comp ibs-promote run --dr)"
[ "$(comp ibs-promote record --out)" = "--output" ] || fail "record --out"
[ "$(comp ibs-promote replay --con)" = "--config" ] || fail "replay --con"
[ "$(comp ibs-promote info '')" = FILES ] || fail "info FILE"
echo "check-install: bash completion completes"

# 7. the example configuration parses (exit 2 would be a configuration error); the
#    target on the command line replaces the file's -a
out=$("$P/bin/ibs-promote" run --config "$P/etc/ibs-promote.conf" --pid 1073741823 \
	--json "$tmp/t.jsonl" --duration 0.1 2>&1) && rc=0 || rc=$?
[ "$rc" != 2 ] || fail "the example configuration: $out"
echo "check-install: the example configuration parses"
echo "check-install: all passed"
