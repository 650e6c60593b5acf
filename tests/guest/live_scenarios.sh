# shellcheck shell=dash
# The live scenarios themselves, sourced by live.sh (which has the helpers).
# Each sets $failed through check; PENDING lines wait for a feature.

# a. Steady state, then the accessors change: two writers (64 MiB each) start
# on the CPU-less node 2; their pages go to their CPU's node; then each
# writer is moved to the other node's CPU (taskset) and its pages follow,
# in the same run.
scenario_steady() {
	start_writer A --size-mib 64 --bind-node 2 --cpu 0 || { failed="writer A did not start"; return; }
	start_writer B --size-mib 64 --bind-node 2 --cpu 1 || { failed="writer B did not start"; return; }
	for w in A B; do
		place "$w"
		enough "$P_n2" "$P_pages"
		check "${w}_starts_on_node2" $? "$P_n2/$P_pages" ">=95%"
	done
	start_daemon --pid "$pid_A,$pid_B" --interval 250 $(follow_opt) --duration 400
	wait_placed A 0 120
	check A_to_node0 $? "$P_n0/$P_pages after ${W_ms}ms" ">=95% on node 0"
	wait_placed B 1 120
	check B_to_node1 $? "$P_n1/$P_pages after ${W_ms}ms" ">=95% on node 1"
	say "accessors change: A to CPU 1 (node 1), B to CPU 0 (node 0)"
	taskset -p 0x2 "$pid_A" >/dev/null
	taskset -p 0x1 "$pid_B" >/dev/null
	wait_placed A 1 180
	check A_follows_to_node1 $? "$P_n1/$P_pages after ${W_ms}ms" ">=95% on node 1"
	wait_placed B 0 180
	check B_follows_to_node0 $? "$P_n0/$P_pages after ${W_ms}ms" ">=95% on node 0"
	kill -TERM "$pid_A" "$pid_B"
	wait "$pid_A" "$pid_B"
	t_exit=$(now_ms)
	stop_daemon
	echo "$SUMMARY" | grep -q '"end_reason":"target_exit"'
	check end_reason $? "$(echo "$SUMMARY" | grep -o '"end_reason":"[a-z_]*"') $(($(now_ms) - t_exit))ms after the last exit" target_exit
	check daemon_exit "$D_rc" "$D_rc" 0
	say "moved $(json_int "$(json_obj "$SUMMARY" promotions)" done) pages," \
		"$(json_int "$SUMMARY" samples) samples in $(json_int "$SUMMARY" scans) scans," \
		"routes $(echo "$SUMMARY" | grep -o '"by_route":\[[^]]*\]')"
}

# The first (top-tier) node holding >= 95% of S's pages, or -1.
placed_node() {
	for n in 0 1; do
		enough "$(on_node $n)" "$P_pages" && echo $n && return
	done
	echo -1
}

# b. Shared memory: two processes, one on each node, write one shared
# mapping (32 MiB) page for page: every page has two accessors, 50/50. Each
# may move once (it starts on node 2; mapped by both, it needs
# MPOL_MF_MOVE_ALL), then stays: no majority.
scenario_shared() {
	start_writer S --size-mib 32 --bind-node 2 --cpu 0 --shared-fork 1 ||
		{ failed="writer S did not start"; return; }
	wait_line S "WRITER S2 pid=" 60 || { failed="writer S2 did not start"; return; }
	pid_S2=$(sed -n 's/^WRITER S2 pid=\([0-9]*\).*/\1/p' "$dir/S.out")
	place S
	enough "$P_n2" "$P_pages"
	check starts_on_node2 $? "$P_n2/$P_pages" ">=95%"
	# fallback after 2 samples: each scan brings one from each writer
	start_daemon --pid "$pid_S,$pid_S2" --interval 250 --fallback-heat 2 $(follow_opt) \
		--duration 400
	t0=$(now_ms)
	while place S && [ "$(placed_node)" -lt 0 ] && [ $(($(now_ms) - t0)) -lt 120000 ]; do
		sleep 1
	done
	first=$(placed_node)
	[ "$first" -ge 0 ]
	check placed_once $? "$P_line after $(($(now_ms) - t0))ms" ">=95% on node 0 or 1"
	sleep 6 # 24 intervals: time enough for a second move, which must not come
	place S
	[ "$first" -ge 0 ] && enough "$(on_node "$first")" "$P_pages"
	check stays $? "$P_line" ">=95% still on node $first"
	kill -TERM "$pid_S" "$pid_S2"
	wait "$pid_S"
	while [ -d "/proc/$pid_S2" ] && ! grep -q '^State:.*Z' "/proc/$pid_S2/status"; do usleep 100000; done
	stop_daemon
	prom=$(json_obj "$SUMMARY" promotions)
	echo "$SUMMARY" | grep -q '"move_all":true'
	check move_all $? "$(echo "$SUMMARY" | grep -o '"move_all":[a-z]*')" "true (root has CAP_SYS_NICE)"
	eacces=$(json_int "$(json_obj "$SUMMARY" by_errno)" eacces)
	[ "${eacces:-1}" = 0 ]
	check no_eacces $? "eacces=$eacces" 0
	# The kernel's count of pages it migrated (nothing else moves pages here; a few
	# compaction moves are allowed for): each shared page once at most. The daemon's
	# own route counts are printed too (a page planned again while its first move is
	# still queued is counted done twice: docs/guest-test.md).
	moved=$(($(migrated) - MIGRATED0))
	again=$(echo "$SUMMARY" | grep -o '"src":[01],"dst":[0-9]*,"planned":[0-9]*,"done":[0-9]*' |
		sed 's/.*"done"://' | awk '{ s += $1 } END { print s + 0 }')
	[ "$moved" -le $((P_pages + P_pages / 100)) ] && [ "$again" = 0 ]
	check moved_at_most_once $? "kernel migrated $moved pages of $P_pages, daemon done $(json_int "$prom" done), $again from a top-tier node" \
		"<= $P_pages (+1%), 0 from a top-tier node"
	skips=$(json_obj "$SUMMARY" skips)
	nm=$(json_int "$skips" no_majority)
	hy=$(json_int "$skips" hysteresis)
	why=$((${nm:-0} + ${hy:-0}))
	[ "$why" -gt 0 ]
	check why_they_stay $? "no_majority+hysteresis=$why ($skips)" ">0"
	check daemon_exit "$D_rc" "$D_rc" 0
}

# d. A target exits while its pages are being moved (rate-limited): its
# batches fail with ESRCH, counted; the run goes on, and the other target's
# pages are placed.
scenario_exit() {
	start_writer A --size-mib 8 --bind-node 2 --cpu 0 || { failed="writer A did not start"; return; }
	start_writer B --size-mib 8 --bind-node 2 --cpu 1 || { failed="writer B did not start"; return; }
	# slow moves (4 MiB/s) and slow decay: A's pages stay candidates after it is gone
	start_daemon --pid "$pid_A,$pid_B" --interval 250 --rate 4 --decay-shift 4 --scan-ms 500 \
		--duration 400
	t0=$(now_ms)
	while place A && [ "$P_n0" = 0 ] && [ $(($(now_ms) - t0)) -lt 120000 ]; do
		usleep 300000
	done
	kill -KILL "$pid_A"
	wait "$pid_A"
	say "A killed with $P_n0/$P_pages of its pages on node 0"
	[ "$P_n0" -gt 0 ] && [ "$P_n0" -lt "$P_pages" ]
	check A_killed_mid_move $? "$P_n0/$P_pages moved" "some, not all"
	wait_placed B 1 180
	check B_to_node1 $? "$P_n1/$P_pages after ${W_ms}ms" ">=95% on node 1"
	kill -0 "$dpid" 2>/dev/null
	check run_goes_on $? "daemon alive after A's exit" alive
	kill -TERM "$pid_B"
	wait "$pid_B"
	stop_daemon
	esrch=$(json_int "$(json_obj "$SUMMARY" by_errno)" esrch)
	[ "${esrch:-0}" -gt 0 ]
	check esrch_counted $? "esrch=$esrch" ">0"
	echo "$SUMMARY" | grep -q '"targets":{"pids":2,"exited":2}'
	check targets $? "$(echo "$SUMMARY" | grep -o '"targets":{[^}]*}')" "2 pids, 2 exited"
	echo "$SUMMARY" | grep -q '"end_reason":"target_exit"'
	check end_reason $? "$(echo "$SUMMARY" | grep -o '"end_reason":"[a-z_]*"')" target_exit
}

# node0's MemFree in bytes
node0_free() { sed -n 's/.*MemFree: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node0/meminfo | awk '{ print $1 * 1024 }'; }

# c. Fast-tier pressure (its own boot: DRAM nodes of IBSP_GUEST_MEM, smaller
# than what the processes hold): a cold filler F holds node 0 down to 48 MiB
# above what is left; a hot writer H (128 MiB on node 2) writes from CPU 0.
# H's pages fit on node 0 only if F's cold pages are demoted to node 2.
scenario_pressure() {
	total=$(sed -n 's/.*MemTotal: *\([0-9]*\) kB/\1/p' /sys/devices/system/node/node0/meminfo)
	say "node 0: $((total / 1024)) MiB, $(($(node0_free) >> 20)) MiB free"
	start_writer F --idle --fill-node 0 --leave-mib 48 --cpu 0 ||
		{ failed="filler F did not start"; return; }
	start_writer H --size-mib 128 --bind-node 2 --cpu 0 || { failed="writer H did not start"; return; }
	place F
	say "F holds $((P_pages / 256)) MiB on node 0; node 0 has $(($(node0_free) >> 20)) MiB free"
	start_daemon --pid "$pid_F,$pid_H" --interval 250 --mmap-pages 256 $(follow_opt) --duration 400
	sleep 1
	kill -USR2 "$pid_F" # one write pass: the engine learns F's pages, which then go cold
	min_free=$(node0_free)
	t0=$(now_ms)
	while place H && ! enough "$P_n0" "$P_pages" && [ $(($(now_ms) - t0)) -lt 90000 ]; do
		f=$(node0_free)
		[ "$f" -lt "$min_free" ] && min_free=$f
		sleep 1
	done
	say "H: $P_line after $(($(now_ms) - t0))ms"
	h_n0=$P_n0 h_pages=$P_pages
	kill -TERM "$pid_F" "$pid_H"
	wait "$pid_F" "$pid_H"
	stop_daemon
	wm=$(echo "$SUMMARY" | grep -o '"node":0,[^}]*' | grep -o '"watermark_bytes":[0-9]*' | sed 's/.*://')
	[ "$min_free" -ge "${wm:-0}" ] && [ "${wm:-0}" -gt 0 ]
	check node0_kernel_free $? "min $((min_free >> 20)) MiB" ">= watermark $((${wm:-0} >> 20)) MiB"
	# every line: each top-tier node's free bytes (the engine's view) at or above its watermark
	below=$(grep -o '"node":[0-9]*,"top_tier":true,"free_bytes":[0-9]*,"total_bytes":[0-9]*,"watermark_bytes":[0-9]*' \
		"$dir/tele.jsonl" | sed 's/[a-z_":]*//g' |
		awk -F, '$3 < $5 { n++ } END { print n + 0 }')
	check no_node_below_watermark "$below" "$below lines below" 0
	if echo "$SUMMARY" | grep -q '"demoted":'; then
		dem=$(json_int "$SUMMARY" demoted)
		[ "${dem:-0}" -gt 0 ]
		check demotions_counted $? "demoted=$dem" ">0"
		[ $((h_n0 * 100)) -ge $((h_pages * 90)) ]
		check H_promoted_by_making_room $? "$h_n0/$h_pages on node 0" ">=90%"
	else
		pending demotions_counted "no promotions.demoted in this build's telemetry: policy v2 (demotion) not merged; H has $h_n0/$h_pages on node 0"
		pending H_promoted_by_making_room "needs demotion (policy v2)"
	fi
	check daemon_exit "$D_rc" "$D_rc" 0
}

# What the hint sampler costs its target: a writer's pages written per second
# alone, with the sampler at the default scan period, at the floor (100 ms),
# and alone again; and the faults per second the target takes.
scenario_hintcost() {
	start_writer W --size-mib 64 --bind-node 0 --cpu 0 || { failed="writer W did not start"; return; }
	pages=$(sed -n 's/.* pages=\([0-9]*\).*/\1/p' "$dir/W.out" | head -n 1)
	rate_window() { # RESULT: the writer's rate over 4 s
		place W
		sleep 4
		place W
		echo "$P_line" | sed 's/.* rate=\([0-9]*\).*/\1/'
	}
	off1=$(rate_window)
	for scan in 1000 100; do
		start_daemon --pid "$pid_W" --dry-run --scan-ms "$scan" --interval 1000 --duration 6
		sleep 1
		eval "on_$scan=\$(rate_window)"
		stop_daemon
		samples=$(json_int "$SUMMARY" samples)
		scans=$(json_int "$SUMMARY" scans)
		eval "faults_$scan=\$((samples / 6)) scans_$scan=$scans"
	done
	off2=$(rate_window)
	kill -TERM "$pid_W"
	wait "$pid_W"
	off=$(((off1 + off2) / 2))
	echo "IBSP-COST pages=$pages rate_off=$off1,$off2 rate_1000ms=$on_1000 rate_100ms=$on_100" \
		"faults_per_s_1000ms=$faults_1000 faults_per_s_100ms=$faults_100" \
		"scans=$scans_1000,$scans_100" \
		"slowdown_1000ms=$(awk "BEGIN { printf \"%.3f\", $off / ($on_1000 + 0.001) }")" \
		"slowdown_100ms=$(awk "BEGIN { printf \"%.3f\", $off / ($on_100 + 0.001) }")"
	# a written page faults at most once per scan: the scan period bounds the fault rate
	[ "$faults_1000" -le $((pages * 6 / 5 + 200)) ] && [ "$faults_1000" -gt 0 ]
	check faults_bounded_by_period $? "$faults_1000/s at 1000 ms, $pages pages" \
		"0 < x <= one per page and scan"
	[ "$faults_100" -gt "$faults_1000" ]
	check faults_follow_the_period $? "$faults_100/s at 100 ms" "> $faults_1000/s at 1000 ms"
}
