#!/usr/bin/env bash
# tests/fuzz/run_bridge_fuzzer.sh: builds the C ABI bridge fuzzer with
# libFuzzer (clang 14, -fsanitize=fuzzer,address,undefined; outside Bazel,
# whose toolchain here is g++) and runs it for a bounded time from the
# checked-in corpus tests/fuzz/bridge_corpus/ (which it does not modify).
#
#   bash tests/fuzz/run_bridge_fuzzer.sh         # 20 s
#   bash tests/fuzz/run_bridge_fuzzer.sh 300     # 300 s
#
# Last line: "run_bridge_fuzzer: PASS ..." (exit 0) or "run_bridge_fuzzer:
# FAIL ..." (exit 1): a broken promise (CHECK failed), a sanitizer report, a
# leak, a crash, a hang longer than 10 s on one input (a lost completion
# shows up so), or a build failure. A failing input is kept in
# $POLLWAKE_FUZZ_ARTIFACTS (default /tmp/pollwake-bridge-fuzz). To add new
# inputs to the corpus: POLLWAKE_FUZZ_MERGE=1 bash tests/fuzz/run_bridge_fuzzer.sh
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-${POLLWAKE_BRIDGE_FUZZ_SECONDS:-20}}
artifacts=${POLLWAKE_FUZZ_ARTIFACTS:-/tmp/pollwake-bridge-fuzz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$artifacts"

fail() {
  echo "run_bridge_fuzzer: FAIL: $*"
  exit 1
}

# The harness and what //interop/bridge depends on; Abseil from Debian.
sources=(
  tests/fuzz/bridge_fuzzer.cc
  interop/bridge/bridge.cc
  executor/local_pool.cc
  executor/detail/local_task.cc
  executor/enter.cc
  executor/block_on.cc
  poll/waker.cc
  poll/timer.cc
)
absl=(-labsl_synchronization -labsl_time -labsl_statusor -labsl_status -labsl_cord
      -labsl_strerror -labsl_str_format_internal -labsl_strings -labsl_strings_internal
      -labsl_raw_hash_set -labsl_hash -labsl_city -labsl_low_level_hash -labsl_throw_delegate
      -labsl_hashtablez_sampler -labsl_base -labsl_raw_logging_internal -labsl_spinlock_wait)
echo "run_bridge_fuzzer: building with clang++ (libFuzzer, ASan, UBSan)"
clang++ -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all -fno-omit-frame-pointer -pthread \
  "${sources[@]}" "${absl[@]}" -o "$work/bridge_fuzzer" > "$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "the fuzzer did not build"; }

echo "run_bridge_fuzzer: fuzzing for ${seconds} s from tests/fuzz/bridge_corpus/ ($(ls tests/fuzz/bridge_corpus | wc -l) inputs)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$work/bridge_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=256 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$work/new" tests/fuzz/bridge_corpus > "$work/fuzz.log" 2>&1
status=$?

runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$' | tail -1)
found=$(ls "$work/new" | wc -l)
if [ "$status" -ne 0 ]; then
  tail -n 60 "$work/fuzz.log"
  crash=$(grep -o "Test unit written to [^ ]*" "$work/fuzz.log" | tail -1 | sed 's/Test unit written to //')
  [ -n "$crash" ] && fail "libFuzzer exit status $status; failing input saved as $crash"
  fail "libFuzzer exit status $status"
fi

if [ "${POLLWAKE_FUZZ_MERGE:-0}" = 1 ]; then
  before=$(ls tests/fuzz/bridge_corpus | wc -l)
  "$work/bridge_fuzzer" -merge=1 -max_len=256 tests/fuzz/bridge_corpus "$work/new" > "$work/merge.log" 2>&1 ||
    { tail -n 20 "$work/merge.log"; fail "merging new inputs into the corpus"; }
  echo "run_bridge_fuzzer: merged $(( $(ls tests/fuzz/bridge_corpus | wc -l) - before )) new inputs into tests/fuzz/bridge_corpus/"
fi
echo "run_bridge_fuzzer: PASS: ${runs:-?} inputs run in ${seconds} s, ${found} new ones found, no broken promise, no sanitizer report"
