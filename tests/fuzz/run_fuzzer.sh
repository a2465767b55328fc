#!/usr/bin/env bash
# tests/fuzz/run_fuzzer.sh: builds the schedule fuzzer with libFuzzer (clang
# 14, -fsanitize=fuzzer,address,undefined; outside Bazel, whose toolchain
# here is g++) and runs it for a bounded time, starting from the checked-in
# corpus tests/fuzz/corpus/ (which it does not modify).
#
#   bash tests/fuzz/run_fuzzer.sh            # 60 s
#   bash tests/fuzz/run_fuzzer.sh 300        # 300 s
#
# Last line: "run_fuzzer: PASS ..." (exit 0) or "run_fuzzer: FAIL ..." (exit
# 1): a broken promise (CHECK failed), a sanitizer report, a leak, a crash, a
# hang longer than 10 s on one input (a lost wakeup in run_until shows up
# so), or a build failure. A failing input is kept in $POLLWAKE_FUZZ_ARTIFACTS
# (default /tmp/pollwake-fuzz) and the command that replays it is printed.
# New inputs it finds stay in a temporary directory; to add the interesting
# ones to the corpus: POLLWAKE_FUZZ_MERGE=1 bash tests/fuzz/run_fuzzer.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-${POLLWAKE_FUZZ_SECONDS:-60}}
artifacts=${POLLWAKE_FUZZ_ARTIFACTS:-/tmp/pollwake-fuzz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$artifacts"

fail() {
  echo "run_fuzzer: FAIL: $*"
  exit 1
}

# The sources the fuzzer links: the harness and what //executor:local_pool
# depends on; Abseil's Mutex (the join slot's lock) from Debian.
sources=(
  tests/fuzz/local_pool_fuzzer.cc
  executor/local_pool.cc
  executor/detail/local_task.cc
  executor/enter.cc
  executor/block_on.cc
  poll/waker.cc
)
echo "run_fuzzer: building with clang++ (libFuzzer, ASan, UBSan)"
clang++ -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all -fno-omit-frame-pointer -pthread \
  "${sources[@]}" -labsl_synchronization -labsl_time -labsl_base -labsl_raw_logging_internal \
  -labsl_spinlock_wait -o "$work/local_pool_fuzzer" > "$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "the fuzzer did not build"; }

echo "run_fuzzer: fuzzing for ${seconds} s from tests/fuzz/corpus/ ($(ls tests/fuzz/corpus | wc -l) inputs)"
# New inputs go to $work/new (the first corpus directory); the checked-in
# corpus is only read. -timeout: one input running 10 s is a hang.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$work/local_pool_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=512 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$work/new" tests/fuzz/corpus > "$work/fuzz.log" 2>&1
status=$?

runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$' | tail -1)
found=$(ls "$work/new" | wc -l)
if [ "$status" -ne 0 ]; then
  tail -n 60 "$work/fuzz.log"
  crash=$(grep -o "Test unit written to [^ ]*" "$work/fuzz.log" | tail -1 | sed 's/Test unit written to //')
  if [ -n "$crash" ]; then
    echo "run_fuzzer: replay it with: $work/local_pool_fuzzer $crash (rebuild first: the binary is removed)"
    fail "libFuzzer exit status $status; failing input saved as $crash"
  fi
  fail "libFuzzer exit status $status"
fi

if [ "${POLLWAKE_FUZZ_MERGE:-0}" = 1 ]; then
  before=$(ls tests/fuzz/corpus | wc -l)
  "$work/local_pool_fuzzer" -merge=1 -max_len=512 tests/fuzz/corpus "$work/new" > "$work/merge.log" 2>&1 ||
    { tail -n 20 "$work/merge.log"; fail "merging new inputs into the corpus"; }
  echo "run_fuzzer: merged $(( $(ls tests/fuzz/corpus | wc -l) - before )) new inputs into tests/fuzz/corpus/"
fi
echo "run_fuzzer: PASS: ${runs:-?} inputs run in ${seconds} s, ${found} new ones found, no broken promise, no sanitizer report"
