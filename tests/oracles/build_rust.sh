#!/usr/bin/env bash
# tests/oracles/build_rust.sh SRC_DIR OUT_DIR BIN...: builds the cargo package
# in SRC_DIR (relative to Bazel's execution root, where the genrule runs it)
# with Debian's cargo and rustc, offline, and copies the named binaries into
# OUT_DIR (each must have been built). Shared by the genrules
# //tests/oracles:rust_twins (the twins of the examples, tests/oracles/rust/)
# and //tests/oracles/four:rust_four (tests/oracles/four/rust/).
#
# Needs the Debian packages rustc, cargo and librust-futures-dev: the crates
# come from /usr/share/cargo/registry (see <SRC_DIR>/.cargo/config.toml),
# which is why the genrules run outside the sandbox.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 SRC_DIR OUT_DIR BIN..." >&2; exit 2; }
src=$1
out=$2
shift 2
for tool in /usr/bin/cargo /usr/bin/rustc; do
  [ -x "$tool" ] || { echo "$0: $tool is missing (apt-get install rustc cargo librust-futures-dev)" >&2; exit 1; }
done
[ -d /usr/share/cargo/registry/futures-0.3.21 ] || [ -n "$(ls -d /usr/share/cargo/registry/futures-0.3.* 2>/dev/null)" ] ||
  { echo "$0: Debian's futures crate is missing (apt-get install librust-futures-dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private copy of the inputs only (not a target/ or Cargo.lock left by a
# `cargo run` in the tree): cargo writes Cargo.lock beside Cargo.toml. -L
# follows the symlinks Bazel may have made for the inputs.
mkdir -p "$work/src"
cp -rL "$src/Cargo.toml" "$src/.cargo" "$src/src" "$work/src/"
# A private CARGO_HOME, so no user or rustup configuration applies; RUSTC
# names Debian's compiler even when a rustup one comes first on PATH.
(cd "$work/src" && env -u RUSTUP_TOOLCHAIN CARGO_HOME="$work/home" CARGO_TARGET_DIR="$work/target" \
   RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --quiet --bins)
mkdir -p "$out"
for bin in "$@"; do
  [ -x "$work/target/debug/$bin" ] || { echo "$0: cargo built no binary '$bin' in $src" >&2; exit 1; }
  cp "$work/target/debug/$bin" "$out/"
done
