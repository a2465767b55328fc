#!/usr/bin/env bash
# tests/oracles/four/build_rust.sh OUT_DIR: builds the Rust program in
# tests/oracles/four/rust/ with Debian's cargo and rustc, offline, and copies the
# binaries into OUT_DIR. Run by the genrule //tests/oracles/four:rust_four from
# Bazel's execution root (where tests/oracles/four/rust/ is the source tree).
#
# Needs the Debian packages rustc, cargo and librust-futures-dev: the crates
# come from /usr/share/cargo/registry (see rust/.cargo/config.toml), which is
# why the genrule runs outside the sandbox.
set -euo pipefail
out=$1
src=tests/oracles/four/rust
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
for bin in "$work"/target/debug/four; do
  if [ -f "$bin" ] && [ -x "$bin" ]; then cp "$bin" "$out/"; fi
done
