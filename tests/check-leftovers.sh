#!/bin/sh
# After the Criterion tests (a ctest FIXTURES_CLEANUP step): no process they
# started may still run. Lists, then kills, every process whose executable lies
# in BUILD (faulter, ibs-promote, the test binaries, the workloads) other than
# ctest's own; fails if there was any. A second look after 3 s lets a process
# that a test just killed finish exiting.
#   tests/check-leftovers.sh BUILD
set -u
build=$(cd "$1" && pwd)

leftovers() {
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = $$ ] && continue
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case "$exe" in
		"$build"/*) echo "$pid" ;;
		esac
	done
}

left=$(leftovers)
[ -z "$left" ] && exit 0
sleep 3
left=$(leftovers)
[ -z "$left" ] && exit 0
echo "check-leftovers: processes the tests started are still running:"
for pid in $left; do
	ps -o pid=,ppid=,etime=,args= -p "$pid"
done
for pid in $left; do
	kill -KILL "$pid" 2>/dev/null
done
exit 1
