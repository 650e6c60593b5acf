#!/bin/sh
# Build the libFuzzer targets with clang-14 (ASan+UBSan, leak detection) in
# BUILD (default build-fuzz) and run each for SECONDS (default 60) from seed
# corpora made from the fixtures and the regression inputs (tests/regress).
# Any crash, leak or timeout fails; the input is left in BUILD/fuzz-artifacts
# and should become a regression input under tests/regress (docs/testing.md).
#   tests/fuzz/run.sh [-b BUILD] [-t SECONDS] [TARGET...]
# IBSP_FUZZ_NICE=1 runs them under nice -n 19 (a shared machine).
set -eu
cd "$(dirname "$0")/../.."

build=build-fuzz
secs=60
while getopts b:t: o; do
	case $o in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
targets=${*:-"perf_file perf_pipe replay heatmap info decode live cli config"}

CC=${CC:-clang-14}
cmake -S . -B "$build" -DCMAKE_C_COMPILER="$CC" -DIBSP_FUZZ=ON -DIBSP_BUILD_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DIBSP_WERROR=ON >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

seeds="$build/fuzz-seeds"
rm -rf "$seeds"
# A small IBS recording, with its three-node topology, for the reader and replay.
"$build/ibsp-gen" -o "$build/gen-small.data" --pages 64 --samples 400 --duration-ms 4000 \
	--thp 0.2 >/dev/null
python3 tests/fuzz/make-seeds.py tests/fixtures tests/regress "$seeds" "$build/gen-small.data"

mkdir -p "$build/fuzz-artifacts" "$build/fuzz-corpus"
nice=""
[ "${IBSP_FUZZ_NICE:-0}" = 1 ] && nice="nice -n 19"
# Leak detection on; the fuzzer's own allocations at exit are not ours.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=""
for t in $targets; do
	corpus="$build/fuzz-corpus/$t"
	mkdir -p "$corpus"
	echo "fuzz: $t for ${secs}s"
	# -close_fd_mask=2: the target's own error messages go nowhere; libFuzzer
	# and the sanitizers keep a copy of stderr for their reports.
	if ! $nice "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
		-max_len=262144 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" "$seeds/$t" \
		>"$build/fuzz-$t.log" 2>&1; then
		failed="$failed $t"
		tail -n 60 "$build/fuzz-$t.log"
	fi
	grep -E '^stat::number_of_executed_units|^Done ' "$build/fuzz-$t.log" |
		sed "s/^/fuzz: $t: /" || true
done
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (inputs in $build/fuzz-artifacts)"
	exit 1
fi
echo "fuzz: all targets ran ${secs}s without a crash or leak"
