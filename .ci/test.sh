#!/usr/bin/env bash
# .ci/test.sh: every test. Installs what is missing, then runs `bazel test
# //...` under each configuration (default and its sanitizers asan, tsan, all
# with g++ 12; clang, the same tests built by clang 14; choose with
# POLLWAKE_CONFIGS="default"), then the recorder's tests and the examples
# with the recorder compiled in (record), and the recorder's tests with it
# compiled in under TSan (record_tsan) and built by clang 14 (record_clang),
# and ends with one line `N passed, N failed`
# counted from Bazel's own per-target results and each test's XML report.
# Exit status: 0 only when nothing failed and every test target was built.
set -uo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh || exit 1

configs=${POLLWAKE_CONFIGS:-default asan tsan clang record record_tsan record_clang}
logdir=$(mktemp -d)
overall=0
start=$(date +%s)
for config in $configs; do
  flags=()
  filters=()
  targets=(//...)
  if [ "$config" = record ]; then
    # --config=record changes only what the executors' hooks expand to:
    # the recorder's own tests (timelines_test compares the committed
    # timelines with fresh recordings) and the examples it records.
    targets=(//tests/record/... //examples/...)
  elif [ "$config" = record_tsan ]; then
    targets=(//tests/record/...)  # the recorder's threads, under TSan
  elif [ "$config" = record_clang ]; then
    targets=(//tests/record/...)  # the recorder's hooks, built by clang 14
  fi
  if [ "$config" != default ]; then
    flags=("--config=$config")
    # Tests tagged "foreign" run another language's toolchain (cargo, Mono,
    # node, Go, OCaml): once, in the default configuration. The C++ they
    # exercise is tested under the sanitizers by its own targets.
    filters=(--build_tag_filters=-foreign --test_tag_filters=-foreign)
  fi
  echo "=== bazel test ${flags[*]:-(default)} ${filters[*]} ${targets[*]}"
  # --nocache_test_results: every test runs, whatever a cache holds.
  bazel test "${flags[@]}" "${filters[@]}" --nocache_test_results --test_env=CI --test_summary=short \
    --keep_going "${targets[@]}" 2>&1 | tee "$logdir/$config.log"
  status=${PIPESTATUS[0]}
  testlogs=$(bazel info "${flags[@]}" bazel-testlogs 2>/dev/null)
  python3 .ci/count_results.py --config "$config" --log "$logdir/$config.log" \
    --testlogs "$testlogs" >> "$logdir/counts.txt" || overall=1
  # Bazel: 0 all passed, 3 some test failed, 4 no tests, others a build error.
  [ "$status" -eq 0 ] || overall=1
done
# The fuzzers (tests/fuzz/run_fuzzer.sh NAME SECONDS), each counted as one
# result: NAME COUNT-NAME DEFAULT-SECONDS ENVIRONMENT-VARIABLE (0 skips it).
for fuzzer in "schedule fuzz 60 POLLWAKE_FUZZ_SECONDS" \
              "bridge bridge_fuzz 20 POLLWAKE_BRIDGE_FUZZ_SECONDS"; do
  read -r name count default var <<< "$fuzzer"
  seconds=${!var:-$default}
  [ "$seconds" != 0 ] || continue
  echo "=== libFuzzer $name fuzzer, ${seconds} s (tests/fuzz/run_fuzzer.sh $name)"
  if bash tests/fuzz/run_fuzzer.sh "$name" "$seconds" 2>&1 | tee "$logdir/$count.log" | tail -n 5 &&
     tail -n 1 "$logdir/$count.log" | grep -q "^run_fuzzer: PASS"; then
    echo "$count 1 0" >> "$logdir/counts.txt"
  else
    echo "$count 0 1" >> "$logdir/counts.txt"
    overall=1
  fi
done
echo "=== elapsed: $(( $(date +%s) - start )) s"
python3 .ci/count_results.py --sum "$logdir/counts.txt" || overall=1
exit $overall
