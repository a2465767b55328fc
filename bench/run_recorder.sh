#!/usr/bin/env bash
# bench/run_recorder.sh: the recorder's cost in its three states
# (bench/recorder_bench.cc). Builds //bench:recorder_bench twice, optimized:
# once as shipped (hooks compiled out: off_at_build) and once with
# --config=record (compiled_in_disabled and enabled), runs each with the
# same repetitions, and prints the rows' median ns_per_op side by side with
# the same workloads of single_thread_bench.
#   bash bench/run_recorder.sh [extra Google Benchmark flags]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/pollwake_recorder_bench"
mkdir -p "$out"
flags=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true "$@")
run() {  # run NAME CONFIG... -- TARGET FILTER
  local name=$1; shift
  local configs=()
  while [ "$1" != "--" ]; do configs+=("$1"); shift; done
  shift
  bazel run "${configs[@]}" "$1" -- "${flags[@]}" --benchmark_filter="$2" \
    --benchmark_out="$out/$name.json" --benchmark_out_format=json >/dev/null
}
run off --config=opt -- //bench:recorder_bench 'BM_recorder'
run record --config=opt --config=record -- //bench:recorder_bench 'BM_recorder'
run baseline --config=opt -- //bench:single_thread_bench 'BM_localpool_(spawn_run|yield_pingpong)/'
python3 - "$out" <<'PY'
import json, sys, os
rows = []
for name in ("baseline", "off", "record"):
    for b in json.load(open(os.path.join(sys.argv[1], name + ".json")))["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows.append((b["run_name"], b["ns_per_op"]))
for run, ns in rows:
    print(f"{run:55s} {ns:9.2f} ns_per_op (median of 5)")
PY
