#!/usr/bin/env bash
# exercises/next.sh: builds and runs the first exercise whose starting file
# still fails its test, in order (01_..., 02_..., ...), and prints what is
# wrong and the exercise's hint. Exits 0 once every exercise passes.
#   bash exercises/next.sh        # the first unsolved exercise
#   bash exercises/next.sh 04     # only exercise 04, solved or not
set -uo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
quiet=(--noshow_progress --ui_event_filters=-info,-debug,-warning)
bin=$(bazel info "${quiet[@]}" bazel-bin 2>/dev/null)
solved=0
for src in $(ls exercises/[0-9][0-9]_*.h | sort); do
  name=$(basename "$src" .h)
  case "$name" in "$filter"*) ;; *) continue ;; esac
  hint() { sed -n 's|^// HINT: \{0,1\}|  |p' "$src"; }
  if ! out=$(bazel build "${quiet[@]}" "//exercises:${name}_start_test" 2>&1); then
    printf '\n===== %s: does not compile (edit %s)\n\n%s\n\nHint:\n' "$name" "$src" \
      "$(printf '%s\n' "$out" | grep -E 'error|note:' | head -20)"
    hint
    exit 1
  fi
  if out=$("$bin/exercises/${name}_start_test" --gtest_color=no 2>&1); then
    printf 'solved: %s\n' "$name"
    solved=$((solved + 1))
    continue
  fi
  printf '\n===== %s: not solved yet (edit %s; its test is exercises/%s_test.cc)\n\n' \
    "$name" "$src" "$name"
  # The failing assertions, without gtest's banner lines.
  printf '%s\n' "$out" | grep -v -E '^\[( RUN      |       OK |----------|==========|  PASSED  )\]' \
    | grep -v -E '^$|Global test environment|^Running main|tests? from' | head -40
  printf '\nHint:\n'
  hint
  printf '\n(The reference solution is exercises/solutions/%s.h; try without it first.)\n' "$name"
  exit 1
done
printf '\nAll %d exercises solved.\n' "$solved"
