#!/usr/bin/env bash
# bench/run.sh: builds and runs pollwake's benchmarks and its peers (Rust's
# futures 0.3, tokio and std; Boost.Asio; bare C++ atomics) on this machine,
# in one go, and renders the results.
#
#   bash bench/run.sh            full run: 5 interleaved rounds (~25 min on 2 cores;
#                                POLLWAKE_BENCH_ROUNDS=N for another count)
#   bash bench/run.sh --smoke    tiny iteration counts, 1 repetition (checks that
#                                everything builds and reports; figures meaningless)
#
# Writes Google-Benchmark-shaped JSON into docs/benchmarks/results/ (one file
# per suite and round), then docs/benchmarks/results.md (tables: pollwake
# beside each peer at its best, per-round paired ratios with their spread,
# the targets met or missed, the floors, allocations per operation) and
# docs/benchmarks/*.png (matplotlib).
#
# Options:
#   --smoke               as above
#   --out DIR             where the JSON goes (default docs/benchmarks/results)
#   --docs DIR            where results.md and the PNGs go (default docs/benchmarks)
#   --no-deps             do not call .ci/deps.sh first
#   --prebuilt DIR        take the Bazel-built binaries (bench/single_thread_bench,
#                         bench/threaded_bench, bench/peers/asio_peer, ...) under DIR
#                         instead of building them (the smoke test passes its
#                         runfiles root)
#                         (the echo race's binaries bench/echo_bench, bench/echo_server,
#                         bench/peers/asio_echo, bench/peers/asio_echo_nothreads,
#                         and bench/ffi_bench too)
#   --no-echo             skip the echo race (bench/echo_race.sh) and its
#                         instruction counts (bench/echo_instructions.sh)
# Environment:
#   BAZEL                  the Bazel command (default `bazel`; e.g.
#                          "bazel --output_base=/root/.cache/bazel-me")
#   POLLWAKE_BENCH_ROUNDS  rounds of the full run (default 5)
#   POLLWAKE_BENCH_MIN_TIME  seconds each benchmark runs per round (default 0.2)
#   POLLWAKE_BENCH_CPU     the CPU single-thread suites are pinned to (default:
#                          the last one this shell may use)
#   ECHO_ROUNDS, ECHO_ROUND_TRIPS  the echo race's rounds and round trips per
#                          connection (default 5 and 20000; ECHO_CONNECTIONS,
#                          default 50, as bench/echo_race.sh reads it)
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
echo_race=1
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --no-deps) deps=0 ;;
    --out) out=$2; shift ;;
    --docs) docs=$2; shift ;;
    --prebuilt) prebuilt=$2; shift ;;
    --no-echo) echo_race=0 ;;
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

# ---- the suites: one line each. Every round runs each suite once, in a new
# shuffled order.
#   gb_suite   NAME KIND LABEL [ARGS...]  a Google Benchmark binary built by Bazel
#   peer_suite NAME KIND BINARY [ARGS...] a peer binary (prints its JSON on stdout)
# KIND is `single` (the process must start no thread: it runs under
# `taskset -c $cpu`, and the run fails if it ends with more than one thread)
# or `threaded` (starts threads; pins what it pins itself).
# NAME is the results file's stem: <NAME>.<round>.json.
gb_targets=()
suites=()
quote_args() { [ $# -eq 0 ] || printf '%q ' "$@"; }
gb_suite() {
  local name=$1 kind=$2 label=$3; shift 3
  gb_targets+=("$label")
  suites+=("$name|$kind|gb|$label|$(quote_args "$@")")
}
peer_suite() {
  local name=$1 kind=$2 binary=$3; shift 3
  suites+=("$name|$kind|peer|$binary|$(quote_args "$@")")
}

gb_suite pollwake_single single //bench:single_thread_bench --benchmark_filter=-BM_pool_compare
# The same single-thread workloads in a process that has started a thread;
# and the LocalPool side of BM_pool_compare, for the same reason.
gb_suite pollwake_single_threaded threaded //bench:single_thread_bench --pollwake_threaded \
  '--benchmark_filter=/threaded|BM_pool_compare'
gb_suite pollwake_threaded threaded //bench:threaded_bench
for p in futures std waker-fn noop futures-lite tokio async-task async-executor; do
  peer_suite "rust_$p" single RUST --group single --peer "$p"
done
for p in futures tokio async-executor; do
  peer_suite "rust_threaded_$p" threaded RUST --group threaded --peer "$p"
done
for p in asio asio-hint1 asio-unsafe coro-queue; do
  peer_suite "cpp_$p" single //bench/peers:asio_peer --group single --peer "$p"
done
peer_suite cpp_threaded threaded //bench/peers:asio_peer --group threaded
# The C ABI bridge's round trip (bench/bridge_bench.cc): pollwake alone, no
# peer; render.py tabulates only the workloads it knows, docs/07_bridge.md
# quotes these.
gb_suite bridge threaded //bench:bridge_bench

# ---- build pollwake's benchmarks and the C++ peer (Bazel, --config=opt)
mapfile -t gb_targets < <(printf '%s\n' "${gb_targets[@]}" //bench/peers:asio_peer \
  //bench:echo_bench //bench:echo_server //bench/peers:asio_echo \
  //bench/peers:asio_echo_nothreads //bench:ffi_bench | sort -u)
label_path() {  # //bench/peers:asio_peer -> bench/peers/asio_peer
  local l=${1#//}
  echo "${l%%:*}/${l#*:}"
}
if [ -n "$prebuilt" ]; then
  bin=$prebuilt
else
  read -r -a bazel <<< "${BAZEL:-bazel}"
  log "building pollwake's benchmarks and the C++ peer (bazel --config=opt)"
  (cd "$root" && "${bazel[@]}" build --config=opt "${gb_targets[@]}")
  bin=$(cd "$root" && "${bazel[@]}" info --config=opt bazel-bin 2>/dev/null)
fi
echo_bins=$bin

# ---- build the Rust peer (cargo, offline, cached outside the tree)
cache=${POLLWAKE_PEERS_CACHE:-$HOME/.cache/pollwake-peers}
mkdir -p "$cache/rust-src"
# The copy must be exact: a source file left there by another checkout (the
# cache may be shared) would be compiled in.
rm -rf "$cache/rust-src/src"
# Built from a copy, so that cargo writes neither Cargo.lock nor target/ into
# the tree (or into a read-only runfiles tree). `cp -p` keeps mtimes, so an
# unchanged source is not recompiled.
cp -rLp "$here/peers/rust/Cargo.toml" "$here/peers/rust/src" "$cache/rust-src/"
mkdir -p "$cache/rust-src/.cargo"
cp -p "$here/peers/rust/.cargo/config.toml" "$cache/rust-src/.cargo/config.toml"
# cargo decides by mtime; if the sources differ from those of the last build
# here (another checkout may have built in this cache since), make them newer
# than its output so that cargo recompiles.
sum=$(cd "$cache/rust-src" && find Cargo.toml src -type f | sort | xargs sha256sum | sha256sum)
if [ "$sum" != "$(cat "$cache/rust-src.sha256" 2>/dev/null)" ]; then
  find "$cache/rust-src/Cargo.toml" "$cache/rust-src/src" -type f -exec touch {} +
  echo "$sum" > "$cache/rust-src.sha256"
fi
log "building the Rust peer (cargo --offline, target dir $cache/rust-target)"
# RUSTC pins Debian's compiler: cargo would otherwise take the first rustc on
# PATH (e.g. a rustup toolchain that a fresh machine does not have).
# --smoke only checks that every peer builds and reports, so it builds the
# `smoke` profile (Cargo.toml: no LTO, many codegen units): minutes faster on
# a machine that has never built the peers, and its figures are not used.
if [ "$smoke" = 1 ]; then cargo_profile=smoke; else cargo_profile=release; fi
(cd "$cache/rust-src" && RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$cache/rust-target" \
   CARGO_HOME="$cache/cargo-home" /usr/bin/cargo build --profile "$cargo_profile" --offline --quiet)
rust="$cache/rust-target/$cargo_profile/pollwake-peers"
tokio_echo="$cache/rust-target/$cargo_profile/tokio_echo"

# ---- what was built with what (results.md records it)
rm -f "$out"/*.json "$out"/versions.txt "$out"/order.txt
{
  echo "rustc: $(/usr/bin/rustc --version)"
  echo "cargo: $(/usr/bin/cargo --version)"
  if [ "$cargo_profile" = release ]; then
    echo "rust profile: release, opt-level 3, lto = \"fat\", codegen-units = 1, panic = \"abort\""
  else
    echo "rust profile: smoke (no LTO; figures not comparable)"
  fi
  # The crate versions cargo resolved (Cargo.lock of the build copy).
  awk '/^name = /{n=$3} /^version = /{gsub(/"/,"",n); gsub(/"/,"",$3); print "crate: " n " " $3}' \
    "$cache/rust-src/Cargo.lock" | grep -E ' (futures|tokio|async-task|async-executor|futures-lite|waker-fn|libc) ' || true
  echo "g++: $(g++ --version | head -n 1)"
  echo "boost: $(dpkg-query -W -f='${Version}' libboost-dev 2>/dev/null || echo unknown)"
  echo "kernel: $(uname -r); cpus: $(nproc)"
} > "$out/versions.txt"

# ---- run everything
# The machine may be shared and its load drifts, so the rounds interleave:
# each round runs every suite once (one repetition each) in a new shuffled
# order, and render.py pairs pollwake's figure with each peer's figure from
# the same round (per-round ratios, then their median and min-max).
rounds=${POLLWAKE_BENCH_ROUNDS:-5}
if [ "$smoke" = 1 ]; then
  # A few iterations, one round: enough to check that each benchmark runs and
  # reports a positive ns_per_op.
  rounds=1
  min_time=0.001
  gb=(--benchmark_min_time=0.001 --benchmark_repetitions=1)
  peer=(--smoke)
else
  min_time=${POLLWAKE_BENCH_MIN_TIME:-0.2}
  gb=(--benchmark_min_time="$min_time" --benchmark_repetitions=1)
  peer=(--min-time "$min_time" --reps 1)
fi
# The CPU single-thread suites are pinned to (taskset), the same for every
# implementation: the last CPU this shell may use.
cpu=${POLLWAKE_BENCH_CPU:-$(taskset -cp $$ | sed 's/.*: //' | tr ',' '\n' | tail -n 1 | sed 's/.*-//')}

run_suite() {  # run_suite ROUND ENTRY
  local round=$1 name kind type what args
  IFS='|' read -r name kind type what args <<< "$2"
  local -a argv pin=()
  eval "argv=($args)"
  [ "$kind" = single ] && pin=(taskset -c "$cpu")
  local json="$out/$name.$round.json" log="$out/$name.$round.log"
  log "round $round/$rounds: $name${pin:+ (pinned to CPU $cpu)}"
  if [ "$type" = gb ]; then
    "${pin[@]}" "$bin/$(label_path "$what")" "${gb[@]}" --benchmark_out="$json" \
      --benchmark_out_format=json "${argv[@]}" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
  else
    [ "$what" = RUST ] && what=$rust || what="$bin/$(label_path "$what")"
    "${pin[@]}" "$what" "${peer[@]}" "${argv[@]}" > "$json" 2> "$log" || { cat "$log" >&2; return 1; }
  fi
  # Both kinds of binary fail by themselves when a single-thread process ends
  # with a second thread; check the JSON too, so a binary that forgot to
  # cannot pass for a single-thread figure.
  if [ "$kind" = single ]; then
    /usr/bin/python3 - "$json" "$type" <<'PY' || return 1
import json, sys
doc = json.load(open(sys.argv[1]))
ctx = doc.get("context", {})
ok = ctx.get("threads_at_end") == 1 if sys.argv[2] == "peer" else ctx.get("libc_single_threaded") == "1"
if not ok:
    sys.exit(f"bench/run.sh: {sys.argv[1]}: a single-thread suite started a thread ({ctx})")
PY
  fi
}

for round in $(seq 1 "$rounds"); do
  mapfile -t order < <(printf '%s\n' "${suites[@]}" | shuf)
  printf 'round %s: %s\n' "$round" "$(printf '%s\n' "${order[@]}" | cut -d'|' -f1 | tr '\n' ' ')" \
    >> "$out/order.txt"
  for entry in "${order[@]}"; do run_suite "$round" "$entry"; done
done
rm -f "$out"/*.log

# ---- the FFI benchmarks: bench/ffi_bench.cc beside the real async-ffi crate
# (bench/peers/ffi_rust), interleaved as above: each round runs both, in a
# new shuffled order, pinned to the same CPU. Their JSON goes to $out/ffi/;
# render.py puts them in results.md and ffi.png, and docs/06_ffi.md explains
# them. The peer is skipped, with build.sh's error (the crate not found, or
# cargo's failure), when it does not build.
log "FFI benchmarks (bench/ffi_bench.cc, bench/peers/ffi_rust)"
mkdir -p "$out/ffi"
rm -f "$out"/ffi/*.json
ffi_suites=(pollwake)
peer_log=$(mktemp)
if bash "$here/peers/ffi_rust/build.sh" "$cache/ffi_peer" 2> "$peer_log"; then
  cat "$peer_log" >&2
  ffi_suites+=(async_ffi)
else
  # build.sh says why: the crate was not found, or cargo's own error.
  log "skipped the async-ffi peer: bench/peers/ffi_rust/build.sh failed:"
  sed 's/^/    /' "$peer_log" >&2
fi
rm -f "$peer_log"
for round in $(seq 1 "$rounds"); do
  for s in $(printf '%s\n' "${ffi_suites[@]}" | shuf); do
    log "round $round/$rounds: ffi $s (pinned to CPU $cpu)"
    if [ "$s" = pollwake ]; then
      taskset -c "$cpu" "$bin/bench/ffi_bench" "${gb[@]}" --benchmark_out="$out/ffi/pollwake.$round.json" \
        --benchmark_out_format=json > /dev/null
    else
      taskset -c "$cpu" "$cache/ffi_peer" --min-time "$min_time" \
        > "$out/ffi/async_ffi.$round.json"
    fi
  done
done

# ---- the host-loop benchmarks: bench/hostloop_bench.cc (a libuv loop drives
# pollwake tasks: a wake from the loop's thread, a wake from another thread,
# a task <-> loop ping-pong). JSON in $out/hostloop/; docs/08_host_loop.md
# quotes the figures. Only when this script builds with Bazel itself.
if [ -z "$prebuilt" ]; then
  log "host-loop benchmarks (bench/hostloop_bench.cc)"
  mkdir -p "$out/hostloop"
  rm -f "$out"/hostloop/*.json
  (cd "$root" && "${bazel[@]}" build --config=opt //bench:hostloop_bench)
  for round in $(seq 1 "$rounds"); do
    "$bin/bench/hostloop_bench" "${gb[@]}" --benchmark_out="$out/hostloop/pollwake.$round.json" \
      --benchmark_out_format=json > /dev/null
  done
fi

# ---- the echo race: pollwake's reactor beside tokio and Asio, over loopback
# (bench/echo_race.sh: one load generator for every server; median of 5
# interleaved rounds of 50 x 20,000 round trips, about 4 s a server and
# round: runs of 3 rounds x 4,000 spread by 5% between two runs, more than
# the differences they are there to show; docs/benchmarks/echo.md)
if [ "$echo_race" = 1 ]; then
  log "echo race"
  mkdir -p "$out/echo"
  ECHO_ROUND_TRIPS=${ECHO_ROUND_TRIPS:-20000} \
    bash "$here/echo_race.sh" --pollwake "$echo_bins" --tokio "$tokio_echo" --out "$out/echo" \
    --rounds "${ECHO_ROUNDS:-5}" $([ "$smoke" = 1 ] && echo --smoke) > "$docs/echo.md.new"
  mv "$docs/echo.md.new" "$docs/echo.md"  # a failed race leaves the last table as it was
  cat "$docs/echo.md" >&2
  # The one-thread servers' own work, in instructions per round trip
  # (bench/echo_instructions.sh: callgrind, so not in a smoke run, whose
  # binaries may be built with a sanitizer that valgrind cannot run).
  if [ "$smoke" = 0 ]; then
    log "echo race: user-space instructions per round trip (callgrind)"
    # Two operating points: 50 connections (the race's), and 5, where each
    # wait finds fewer connections ready; the same 150,000 round trips apart.
    {
      bash "$here/echo_instructions.sh" --pollwake "$echo_bins" --tokio "$tokio_echo"
      echo
      ECHO_CONNECTIONS=5 ECHO_M1=10000 ECHO_M2=40000 \
        bash "$here/echo_instructions.sh" --pollwake "$echo_bins" --tokio "$tokio_echo"
    } > "$docs/echo_instructions.md.new"
    mv "$docs/echo_instructions.md.new" "$docs/echo_instructions.md"
    cat "$docs/echo_instructions.md" >&2
  fi
fi

# ---- render (Debian's python3, which has python3-matplotlib; a python3 earlier on
# PATH, e.g. from pyenv, may lack it)
log "rendering $docs/results.md and plots"
/usr/bin/python3 "$here/render.py" --results "$out" --docs "$docs" $([ "$smoke" = 1 ] && echo --smoke)
log "done: $out, $docs/results.md"
