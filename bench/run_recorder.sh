#!/usr/bin/env bash
# bench/run_recorder.sh: the recorder's cost in its three states
# (bench/recorder_bench.cc), on LocalPool and ThreadPool. Builds
# //bench:recorder_bench (LocalPool, a single-thread process) and
# //bench:recorder_threaded_bench (ThreadPool) twice, optimized: once as
# shipped (hooks compiled out: off_at_build) and once with --config=record
# (compiled_in_disabled and enabled). Every row runs the same harness. The
# two builds are run alternately, ROUNDS times each (the machine's load
# drifts; alternating spreads it over both), with the same repetitions; it
# prints each row's median ns_per_op over every repetition of every round,
# the spread (min-max of the per-round medians), and each state's ratio to
# off_at_build as a median with the min-max over rounds.
#   ROUNDS=3 bash bench/run_recorder.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/pollwake_recorder_bench"
rounds="${ROUNDS:-3}"
mkdir -p "$out"
rm -f "$out"/*.json
flags=(--benchmark_repetitions=5 "$@")
targets=(//bench:recorder_bench //bench:recorder_threaded_bench)
bazel build --config=opt "${targets[@]}"
off_bin=$(bazel info --config=opt bazel-bin)/bench
mkdir -p "$out/off" "$out/record"
cp "$off_bin/recorder_bench" "$off_bin/recorder_threaded_bench" "$out/off/"
bazel build --config=opt --config=record "${targets[@]}"
rec_bin=$(bazel info --config=opt --config=record bazel-bin)/bench
cp "$rec_bin/recorder_bench" "$rec_bin/recorder_threaded_bench" "$out/record/"
for r in $(seq 1 "$rounds"); do
  for build in off record; do
    for bin in recorder_bench recorder_threaded_bench; do
      "$out/$build/$bin" "${flags[@]}" --benchmark_filter='BM_recorder' \
        --benchmark_out="$out/$build.$bin.$r.json" --benchmark_out_format=json >/dev/null
    done
  done
done
python3 - "$out" "$rounds" <<'PY'
import json, sys, os, statistics, collections
out, rounds = sys.argv[1], int(sys.argv[2])
per_round = collections.defaultdict(dict)   # row -> round -> median of its repetitions
samples = collections.defaultdict(list)     # row -> every repetition
for build in ("off", "record"):
    for binary in ("recorder_bench", "recorder_threaded_bench"):
        for r in range(1, rounds + 1):
            for b in json.load(open(os.path.join(out, f"{build}.{binary}.{r}.json")))["benchmarks"]:
                if b.get("run_type") != "iteration":
                    continue
                samples[b["run_name"]].append(b["ns_per_op"])
for build in ("off", "record"):
    for binary in ("recorder_bench", "recorder_threaded_bench"):
        for r in range(1, rounds + 1):
            reps = collections.defaultdict(list)
            for b in json.load(open(os.path.join(out, f"{build}.{binary}.{r}.json")))["benchmarks"]:
                if b.get("run_type") == "iteration":
                    reps[b["run_name"]].append(b["ns_per_op"])
            for row, xs in reps.items():
                per_round[row][r] = statistics.median(xs)
print(f"{'row':58s} {'median':>10s} {'round medians min-max':>24s}  ratio to off_at_build (median, min-max over rounds)")
for row in sorted(per_round):
    meds = list(per_round[row].values())
    line = f"{row:58s} {statistics.median(samples[row]):10.1f} {min(meds):11.1f}-{max(meds):<11.1f}"
    # The state is the last part of the name, before any "/real_time".
    stem, suffix = (row[:-len("/real_time")], "/real_time") if row.endswith("/real_time") else (row, "")
    base = stem.rsplit("/", 1)[0] + "/off_at_build" + suffix
    if base in per_round and base != row:
        ratios = [per_round[row][r] / per_round[base][r] for r in per_round[row] if r in per_round[base]]
        line += f"  {statistics.median(ratios):6.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
    print(line)
PY
