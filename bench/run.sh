#!/usr/bin/env bash
# bench/run.sh: builds and runs pollwake's benchmarks and its peers (Rust's
# futures 0.3, tokio and std; Boost.Asio; bare C++ atomics) on this machine,
# in one go, and renders the results.
#
#   bash bench/run.sh            full run: median of 5 interleaved rounds (~10 min on 2 cores)
#   bash bench/run.sh --smoke    tiny iteration counts, 1 repetition (checks that
#                                everything builds and reports; figures meaningless)
#
# Writes Google-Benchmark-shaped JSON into docs/benchmarks/results/ (one file
# per binary and group), then docs/benchmarks/results.md (tables: pollwake
# beside each peer, ratios, issue 7's targets met or missed) and
# docs/benchmarks/*.png (matplotlib).
#
# Options:
#   --smoke               as above
#   --out DIR             where the JSON goes (default docs/benchmarks/results)
#   --docs DIR            where results.md and the PNGs go (default docs/benchmarks)
#   --no-deps             do not call .ci/deps.sh first
#   --prebuilt DIR        take bench/single_thread_bench, bench/threaded_bench and
#                         bench/peers/asio_peer under DIR instead of building them
#                         with Bazel (the smoke test passes its runfiles root)
# Environment:
#   BAZEL                  the Bazel command (default `bazel`; e.g.
#                          "bazel --output_base=/root/.cache/bazel-me")
#   POLLWAKE_PEERS_CACHE   where cargo builds the Rust peer (default
#                          $HOME/.cache/pollwake-peers): outside the tree, so a
#                          second run reuses the compiled tokio and takes seconds
#
# Installs nothing itself: .ci/deps.sh (called first unless --no-deps) does.
# Cargo runs offline, with /usr/bin/cargo (Debian's), from the crate sources
# that Debian's librust-*-dev packages put in /usr/share/cargo/registry.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

smoke=0
deps=1
out="$root/docs/benchmarks/results"
docs="$root/docs/benchmarks"
prebuilt=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --no-deps) deps=0 ;;
    --out) out=$2; shift ;;
    --docs) docs=$2; shift ;;
    --prebuilt) prebuilt=$2; shift ;;
    *) echo "bench/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out" "$docs"
out=$(cd "$out" && pwd)
docs=$(cd "$docs" && pwd)

log() { echo "=== bench/run.sh: $*" >&2; }

if [ "$deps" = 1 ]; then
  bash "$root/.ci/deps.sh"
fi

# ---- build pollwake's benchmarks and the Asio peer (Bazel, --config=opt)
if [ -n "$prebuilt" ]; then
  single="$prebuilt/bench/single_thread_bench"
  threaded="$prebuilt/bench/threaded_bench"
  asio="$prebuilt/bench/peers/asio_peer"
else
  read -r -a bazel <<< "${BAZEL:-bazel}"
  log "building pollwake's benchmarks and the Asio peer (bazel --config=opt)"
  (cd "$root" && "${bazel[@]}" build --config=opt //bench:single_thread_bench \
      //bench:threaded_bench //bench/peers:asio_peer)
  bin=$(cd "$root" && "${bazel[@]}" info --config=opt bazel-bin 2>/dev/null)
  single="$bin/bench/single_thread_bench"
  threaded="$bin/bench/threaded_bench"
  asio="$bin/bench/peers/asio_peer"
fi

# ---- build the Rust peer (cargo, offline, cached outside the tree)
cache=${POLLWAKE_PEERS_CACHE:-$HOME/.cache/pollwake-peers}
mkdir -p "$cache/rust-src"
# Built from a copy, so that cargo writes neither Cargo.lock nor target/ into
# the tree (or into a read-only runfiles tree). `cp -p` keeps mtimes, so an
# unchanged source is not recompiled.
cp -rLp "$here/peers/rust/Cargo.toml" "$here/peers/rust/src" "$cache/rust-src/"
mkdir -p "$cache/rust-src/.cargo"
cp -p "$here/peers/rust/.cargo/config.toml" "$cache/rust-src/.cargo/config.toml"
log "building the Rust peer (cargo --offline, target dir $cache/rust-target)"
# RUSTC pins Debian's compiler: cargo would otherwise take the first rustc on
# PATH (e.g. a rustup toolchain that a fresh machine does not have).
(cd "$cache/rust-src" && RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$cache/rust-target" \
   CARGO_HOME="$cache/cargo-home" /usr/bin/cargo build --release --offline --quiet)
rust="$cache/rust-target/release/pollwake-peers"

# ---- run everything
# The machine is shared and its load drifts, so the 5 repetitions are
# interleaved: each round runs every binary once (one repetition each), and
# render.py takes, per benchmark, the median over the rounds. Every
# implementation thus samples the same spans of load.
if [ "$smoke" = 1 ]; then
  # A few iterations, one round: enough to check that each benchmark runs and
  # reports a positive ns_per_op.
  rounds=1
  gb=(--benchmark_min_time=0.001 --benchmark_repetitions=1)
  peer=(--smoke)
else
  rounds=5
  gb=(--benchmark_min_time=0.2 --benchmark_repetitions=1)
  peer=(--min-time 0.2 --reps 1)
fi

rm -f "$out"/*.json
run_gb() {  # run_gb NAME BINARY ARGS...
  local name=$1 binary=$2; shift 2
  log "round $round/$rounds: $name"
  "$binary" "${gb[@]}" --benchmark_out="$out/$name.$round.json" --benchmark_out_format=json \
    "$@" > "$out/$name.$round.log" 2>&1 || { cat "$out/$name.$round.log" >&2; return 1; }
}
run_peer() {  # run_peer NAME BINARY GROUP
  log "round $round/$rounds: $1"
  "$2" "${peer[@]}" --group "$3" > "$out/$1.$round.json"
}

for round in $(seq 1 "$rounds"); do
  # Single-thread processes first: each starts no thread of its own.
  run_gb pollwake_single "$single" --benchmark_filter=-BM_pool_compare
  run_peer rust_single "$rust" single
  run_peer asio_single "$asio" single
  # The same single-thread workloads, in a process that has started a thread;
  # and the LocalPool side of BM_pool_compare, for the same reason.
  run_gb pollwake_single_threaded "$single" --pollwake_threaded \
    '--benchmark_filter=/threaded|BM_pool_compare'
  run_gb pollwake_threaded "$threaded"
  run_peer rust_threaded "$rust" threaded
  run_peer asio_threaded "$asio" threaded
done
rm -f "$out"/*.log

# ---- the FFI benchmarks: bench/ffi_bench.cc beside the real async-ffi crate
# (bench/peers/ffi_rust). Their JSON goes to $out/ffi/ (render.py does not
# read it; docs/06_ffi.md quotes the figures). Only when this script builds
# with Bazel itself; the peer is skipped, with build.sh's error (the crate
# not found, or cargo's failure), when it does not build.
if [ -z "$prebuilt" ]; then
  log "FFI benchmarks (bench/ffi_bench.cc, bench/peers/ffi_rust)"
  mkdir -p "$out/ffi"
  rm -f "$out"/ffi/*.json
  (cd "$root" && "${bazel[@]}" build --config=opt //bench:ffi_bench)
  for round in $(seq 1 "$rounds"); do
    "$bin/bench/ffi_bench" "${gb[@]}" --benchmark_out="$out/ffi/pollwake.$round.json" \
      --benchmark_out_format=json > /dev/null
  done
  peer_log=$(mktemp)
  if bash "$here/peers/ffi_rust/build.sh" "$cache/ffi_peer" 2> "$peer_log"; then
    cat "$peer_log" >&2
    for round in $(seq 1 "$rounds"); do
      "$cache/ffi_peer" --min-time "$([ "$smoke" = 1 ] && echo 0.001 || echo 0.2)" > "$out/ffi/async_ffi.$round.json"
    done
  else
    # build.sh says why: the crate was not found, or cargo's own error.
    log "skipped the async-ffi peer: bench/peers/ffi_rust/build.sh failed:"
    sed 's/^/    /' "$peer_log" >&2
  fi
  rm -f "$peer_log"
fi

# ---- render (Debian's python3, which has python3-matplotlib; a python3 earlier on
# PATH, e.g. from pyenv, may lack it)
log "rendering $docs/results.md and plots"
/usr/bin/python3 "$here/render.py" --results "$out" --docs "$docs" $([ "$smoke" = 1 ] && echo --smoke)
log "done: $out, $docs/results.md"
