#!/usr/bin/env bash
# .ci/deps.sh: installs, from Debian's repository, whatever pollwake needs
# that this machine lacks. Safe to run again: it installs only what is
# missing. Run as root on Debian 12 (the README's two commands call it).
set -euo pipefail

PACKAGES=(
  # Build: compilers, Bazel, the Google libraries.
  g++ clang libclang-rt-14-dev bazel-bootstrap
  libgtest-dev libgmock-dev libbenchmark-dev libabsl-dev
  python3 git ca-certificates
  # Oracles: real Rust (futures crate, offline) and real C# (Mono).
  rustc cargo librust-futures-dev
  mono-mcs mono-runtime
  # Oracles: real JavaScript (node) and real Go (standard library only).
  nodejs golang-go
  # Model checking of the wake protocol.
  spin
  # Benchmark peers and plots.
  librust-tokio-dev librust-async-task-dev librust-async-executor-dev librust-waker-fn-dev
  libboost-dev python3-matplotlib
  # The examples' state diagrams (docs/figures/render_diagrams.py; their
  # sequence diagrams use python3-matplotlib above).
  graphviz
  # Profiling the benchmarks (docs/05_benchmarks.md).
  valgrind linux-perf
  # Foreign event loops driving pollwake tasks (interop/hostloop/): libuv,
  # and real OCaml with Lwt (its programs are built with ocamlfind).
  libuv1-dev ocaml-nox ocaml-findlib liblwt-ocaml-dev
  # The echo race builds tokio with its `net` and `io-util` features (Debian's
  # virtual librust-tokio+net-dev and librust-tokio+io-util-dev, provided by
  # librust-tokio-dev); the crates those features pull in are listed by name
  # so that a missing one is installed (dpkg cannot check a virtual package).
  librust-mio-dev librust-socket2-dev librust-bytes-dev librust-memchr-dev
  # The recorder's HTML timeline, rendered headless by tests/record.
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  case "$p" in \#*) continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo ".ci/deps.sh: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo ".ci/deps.sh: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
