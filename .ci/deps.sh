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
  # Model checking of the wake protocol.
  spin
  # Benchmark peers and plots. The echo race builds tokio with its `net` and
  # `io-util` features (Debian's virtual librust-tokio+net-dev and
  # librust-tokio+io-util-dev, both provided by librust-tokio-dev); the crates
  # those features pull in are listed by name so that a missing one is
  # installed (dpkg cannot check a virtual package).
  librust-tokio-dev libboost-dev python3-matplotlib
  librust-mio-dev librust-socket2-dev librust-bytes-dev librust-memchr-dev
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
