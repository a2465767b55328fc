#!/usr/bin/env bash
# tests/fuzz/run_fuzzer.sh: builds one of pollwake's fuzzers with libFuzzer
# (clang 14, -fsanitize=fuzzer,address,undefined; outside Bazel, whose
# default toolchain here is g++) and runs it for a bounded time, starting from its
# checked-in corpus (which it does not modify).
#
#   bash tests/fuzz/run_fuzzer.sh schedule [SECONDS]   LocalPool schedules (local_pool_fuzzer.cc),
#                                                      corpus tests/fuzz/corpus/, 60 s
#   bash tests/fuzz/run_fuzzer.sh bridge [SECONDS]     the C ABI bridge (bridge_fuzzer.cc),
#                                                      corpus tests/fuzz/bridge_corpus/, 20 s
#
# Last line: "run_fuzzer: PASS: NAME ..." (exit 0) or "run_fuzzer: FAIL: NAME
# ..." (exit 1): a broken promise (CHECK failed), a sanitizer report, a
# leak, a crash, a hang longer than 10 s on one input (a lost wakeup or a
# lost completion shows up so), or a build failure. A failing input is kept
# in $POLLWAKE_FUZZ_ARTIFACTS (default /tmp/pollwake-fuzz/NAME) and the
# command that replays it is printed. New inputs it finds stay in a
# temporary directory; to add the interesting ones to the corpus:
#   POLLWAKE_FUZZ_MERGE=1 bash tests/fuzz/run_fuzzer.sh NAME
# Environment: POLLWAKE_FUZZ_SECONDS (schedule) and
# POLLWAKE_BRIDGE_FUZZ_SECONDS (bridge) set the default time.
set -uo pipefail
cd "$(dirname "$0")/../.."

name=${1:-}
# Per fuzzer: its sources (the harness and what its Bazel library depends
# on), extra link flags, corpus, longest input, default time.
case "$name" in
  schedule)
    sources=(tests/fuzz/local_pool_fuzzer.cc executor/local_pool.cc
             executor/detail/local_task.cc executor/enter.cc executor/block_on.cc poll/waker.cc)
    # Abseil's Mutex (the join slot's lock) from Debian.
    libs=(-labsl_synchronization -labsl_time -labsl_base -labsl_raw_logging_internal
          -labsl_spinlock_wait)
    corpus=tests/fuzz/corpus
    max_len=512
    default_seconds=${POLLWAKE_FUZZ_SECONDS:-60}
    ;;
  bridge)
    sources=(tests/fuzz/bridge_fuzzer.cc interop/bridge/bridge.cc executor/local_pool.cc
             executor/detail/local_task.cc executor/enter.cc executor/block_on.cc poll/waker.cc poll/timer.cc)
    # Abseil from Debian.
    libs=(-labsl_synchronization -labsl_time -labsl_statusor -labsl_status -labsl_cord
          -labsl_strerror -labsl_str_format_internal -labsl_strings -labsl_strings_internal
          -labsl_raw_hash_set -labsl_hash -labsl_city -labsl_low_level_hash
          -labsl_throw_delegate -labsl_hashtablez_sampler -labsl_base
          -labsl_raw_logging_internal -labsl_spinlock_wait)
    corpus=tests/fuzz/bridge_corpus
    max_len=256
    default_seconds=${POLLWAKE_BRIDGE_FUZZ_SECONDS:-20}
    ;;
  *)
    echo "usage: bash tests/fuzz/run_fuzzer.sh schedule|bridge [SECONDS]" >&2
    echo "run_fuzzer: FAIL: unknown fuzzer '$name'"
    exit 2
    ;;
esac
seconds=${2:-$default_seconds}
artifacts=${POLLWAKE_FUZZ_ARTIFACTS:-/tmp/pollwake-fuzz/$name}
bin=${name}_fuzzer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/new" "$artifacts"

fail() {
  echo "run_fuzzer: FAIL: $name: $*"
  exit 1
}

echo "run_fuzzer: $name: building with clang++ (libFuzzer, ASan, UBSan)"
clang++ -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all -fno-omit-frame-pointer -pthread \
  "${sources[@]}" "${libs[@]}" -o "$work/$bin" > "$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "the fuzzer did not build"; }

echo "run_fuzzer: $name: fuzzing for ${seconds} s from $corpus/ ($(ls "$corpus" | wc -l) inputs)"
# New inputs go to $work/new (the first corpus directory); the checked-in
# corpus is only read. -timeout: one input running 10 s is a hang.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$work/$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$work/new" "$corpus" > "$work/fuzz.log" 2>&1
status=$?

runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/fuzz.log" | grep -o '[0-9]*$' | tail -1)
found=$(ls "$work/new" | wc -l)
if [ "$status" -ne 0 ]; then
  tail -n 60 "$work/fuzz.log"
  crash=$(grep -o "Test unit written to [^ ]*" "$work/fuzz.log" | tail -1 | sed 's/Test unit written to //')
  if [ -n "$crash" ]; then
    echo "run_fuzzer: replay it with: $work/$bin $crash (rebuild first: the binary is removed)"
    fail "libFuzzer exit status $status; failing input saved as $crash"
  fi
  fail "libFuzzer exit status $status"
fi

if [ "${POLLWAKE_FUZZ_MERGE:-0}" = 1 ]; then
  before=$(ls "$corpus" | wc -l)
  "$work/$bin" -merge=1 -max_len="$max_len" "$corpus" "$work/new" > "$work/merge.log" 2>&1 ||
    { tail -n 20 "$work/merge.log"; fail "merging new inputs into the corpus"; }
  echo "run_fuzzer: $name: merged $(( $(ls "$corpus" | wc -l) - before )) new inputs into $corpus/"
fi
echo "run_fuzzer: PASS: $name: ${runs:-?} inputs run in ${seconds} s, ${found} new ones found, no broken promise, no sanitizer report"
