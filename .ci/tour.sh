#!/usr/bin/env bash
# .ci/tour.sh: the examples tour. Installs what is missing, builds every
# example, and runs them in order (01_..., 02_..., ...), each after a header.
#   bash .ci/tour.sh          # the whole tour
#   bash .ci/tour.sh 03       # only examples whose name starts with 03
#   bash .ci/tour.sh 01_trivial   # only the first one
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/deps.sh

bazel build --noshow_progress --ui_event_filters=-info,-debug //examples:all
bin=$(bazel info bazel-bin 2>/dev/null)
filter=${1:-}
# Examples are C++ (.cc) or, for a C client, C (.c). A name may carry a
# letter after its number (01b_ runs after 01_ and before 02_): byte order.
for src in $(ls examples/[0-9][0-9]_*.cc examples/[0-9][0-9][a-z]_*.cc examples/[0-9][0-9]_*.c 2>/dev/null | LC_ALL=C sort); do
  name=$(basename "$(basename "$src" .cc)" .c)
  case "$name" in "$filter"*) ;; *) continue ;; esac
  printf '\n===== %s  (source: %s, expected: examples/%s.expected)\n' "$name" "$src" "$name"
  "$bin/examples/$name"
done
