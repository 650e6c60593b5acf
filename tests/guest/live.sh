#!/bin/sh
# shellcheck shell=dash
# The live guest scenarios (docs/guest-test.md, "Live scenarios"): ibs-promote
# run --sampler=hint on writer processes (tests/workloads/writer.c) that keep
# rewriting their memory, in the guest's three nodes (0 and 1 with a CPU each,
# 2 CPU-less). Each check prints one line, pass or fail, with what it measured:
#   IBSP-CHECK <scenario> <what> <measured> <expected>: pass|FAIL|PENDING
# and the scenario ends with "IBSP-SCENARIO <scenario> PASS" or "... FAIL why".
# Usage: live.sh steady|shared|exit|pressure|hintcost
name=${1:?usage: live.sh steady|shared|exit|pressure|hintcost}
dir=/tmp/live-$name
rm -rf "$dir"
mkdir -p "$dir"
failed=""
dpid=""

say() { echo "IBSP-LIVE $name: $*"; }

# check WHAT OK MEASURED EXPECTED: OK is 0 (pass) or anything else (fail).
check() {
	if [ "$2" = 0 ]; then
		echo "IBSP-CHECK $name $1 $3 (want $4): pass"
	else
		echo "IBSP-CHECK $name $1 $3 (want $4): FAIL"
		failed="${failed:+$failed; }$1 $3, want $4"
	fi
}

# pending WHAT WHY: an assertion that waits for a feature (printed, not failed).
pending() { echo "IBSP-CHECK $name $1: PENDING ($2)"; }

now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# start_writer LABEL ARGS...: a writer in the background, its pid in pid_LABEL.
start_writer() {
	_l=$1
	shift
	/bin/writer --label "$_l" "$@" >"$dir/$_l.out" 2>&1 &
	wait_line "$_l" "WRITER $_l pid=" 120 || return 1
	eval "pid_$_l=\$(sed -n 's/^WRITER $_l pid=\([0-9]*\).*/\1/p' \"\$dir/\$_l.out\" | head -n 1)"
}

# wait_line LABEL PATTERN SECONDS: until LABEL's output has a line starting with PATTERN.
wait_line() {
	_t=0
	while ! grep -q "^$2" "$dir/$1.out" 2>/dev/null; do
		_t=$((_t + 1))
		if [ "$_t" -gt $(($3 * 10)) ]; then
			say "no '$2' from $1 within $3 s: $(cat "$dir/$1.out")"
			return 1
		fi
		usleep 100000
	done
}

pid_of() { eval "echo \$pid_$1"; }

# place LABEL [FILE]: where LABEL's pages are now. Sets P_pages, P_n0, P_n1, P_n2, P_line.
# FILE: the output file when it is not LABEL's own (a forked writer shares its parent's).
place() {
	_f=$dir/${2:-$1}.out
	_n=$(grep -c "^PLACE $1 " "$_f")
	kill -USR1 "$(pid_of "$1")" 2>/dev/null || return 1
	_t=0
	while [ "$(grep -c "^PLACE $1 " "$_f")" -le "$_n" ]; do
		_t=$((_t + 1))
		[ "$_t" -gt 600 ] && return 1
		usleep 100000
	done
	P_line=$(grep "^PLACE $1 " "$_f" | tail -n 1)
	P_pages=$(echo "$P_line" | sed 's/.* pages=\([0-9]*\).*/\1/')
	P_n0=$(echo "$P_line" | sed 's/.* node0=\([0-9]*\).*/\1/')
	P_n1=$(echo "$P_line" | sed 's/.* node1=\([0-9]*\).*/\1/')
	P_n2=$(echo "$P_line" | sed 's/.* node2=\([0-9]*\).*/\1/')
}

# on_node N: the last place's count on node N
on_node() { eval "echo \$P_n$1"; }

# enough COUNT PAGES: COUNT >= 95% of PAGES
enough() { [ $(($1 * 100)) -ge $(($2 * 95)) ]; }

# wait_placed LABEL NODE SECONDS [FILE]: until >= 95% of LABEL's pages are on NODE.
# Sets W_ms (how long it took) and leaves the last place in P_*.
wait_placed() {
	_t0=$(now_ms)
	while :; do
		place "$1" "$4" || return 1
		W_ms=$(($(now_ms) - _t0))
		enough "$(on_node "$2")" "$P_pages" && return 0
		[ "$W_ms" -gt $(($3 * 1000)) ] && return 1
		sleep 1
	done
}

# start_daemon ARGS...: ibs-promote run --sampler=hint on CPU 1, telemetry in $dir/tele.jsonl.
start_daemon() {
	/bin/taskset 0x2 /bin/ibs-promote run --sampler=hint --json "$dir/tele.jsonl" \
		--mmap-pages 1024 "$@" >"$dir/daemon.out" 2>&1 &
	dpid=$!
	MIGRATED0=$(migrated)
	say "ibs-promote run --sampler=hint $* (pid $dpid)"
}

# stop_daemon: wait for it (its targets have exited, or --duration); exit status in D_rc.
stop_daemon() {
	D_rc=0
	wait "$dpid" || D_rc=$?
	dpid=""
	sed 's/^/IBSP-DAEMON: /' "$dir/daemon.out"
	SUMMARY=$(tail -n 1 "$dir/tele.jsonl")
	if [ -n "${IBSP_LIVE_DEBUG:-}" ]; then
		sed "s/^/IBSP-TELEMETRY-LINE $name /" "$dir/tele.jsonl"
	else
		echo "IBSP-TELEMETRY $name $SUMMARY"
	fi
	say "the kernel migrated $(($(migrated) - MIGRATED0)) pages since the daemon started"
}

# pages the kernel has migrated since boot (numa_balancing is off: only ibs-promote moves)
migrated() { sed -n 's/^pgmigrate_success \([0-9]*\)/\1/p' /proc/vmstat; }

# json_int LINE KEY: the first integer value of "KEY" in LINE (after an optional prefix object).
json_int() { echo "$1" | grep -o "\"$2\":[0-9]*" | head -n 1 | sed 's/.*://'; }
# json_obj LINE KEY: the flat object that is KEY's value
json_obj() { echo "$1" | grep -o "\"$2\":{[^}]*}" | head -n 1; }

stop_writers() {
	for _l in "$@"; do
		kill -TERM "$(pid_of "$_l")" 2>/dev/null
	done
	for _l in "$@"; do
		_p=$(pid_of "$_l")
		while kill -0 "$_p" 2>/dev/null; do usleep 100000; done
	done
}

verdict() {
	[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null && wait "$dpid"
	if [ -n "$failed" ]; then
		echo "IBSP-SCENARIO $name FAIL $failed"
	else
		echo "IBSP-SCENARIO $name PASS"
	fi
}

. /live_scenarios.sh

echo "IBSP-SCENARIO $name start mover=ibs-promote"
case "$name" in
steady | shared | exit | pressure | hintcost) "scenario_$name" ;;
*) failed="unknown scenario" ;;
esac
verdict
