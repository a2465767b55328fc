#!/usr/bin/env bash
# docs/timelines/generate.sh: regenerates docs/timelines/NN_name.html, the
# recorder's timeline of each tour example that runs an executor (the
# examples before 02 and the hand-driven ones poll futures by hand: there is
# no executor to record). Each example is run with the recorder compiled in
# (--config=record) and POLLWAKE_RECORD_OUT naming its page; its lints go to
# stderr. tests/record:timelines_test checks the pages (one per example
# listed here, each a valid trace that draws).
#   bash docs/timelines/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
EXAMPLES=(02_block_on 03_local_pool 04_thread_pool 12_ffi_plugin 15_echo)
targets=()
for e in "${EXAMPLES[@]}"; do targets+=("//examples:$e"); done
bazel build --config=record "${targets[@]}"
for e in "${EXAMPLES[@]}"; do
  out="$PWD/docs/timelines/$e.html"
  rm -f "$out"
  POLLWAKE_RECORD_OUT="$out" bazel run --config=record "//examples:$e" >/dev/null
  [ -s "$out" ] || { echo "generate.sh: $e wrote no timeline" >&2; exit 1; }
done
