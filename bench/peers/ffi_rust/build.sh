#!/usr/bin/env bash
# bench/peers/ffi_rust/build.sh OUT_BINARY: builds the async-ffi peer (release,
# lto = "fat", codegen-units = 1) with Debian's cargo and rustc, offline, and
# copies it to OUT_BINARY. The crate is found as tests/ffi/build_rust_ffi.sh
# finds it: $POLLWAKE_ASYNC_FFI_DIR, else <repository root>/../shared/vendor/
# async-ffi-0.5.1 (also tried beside the main checkout of a git worktree).
set -euo pipefail
out=$1
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
root=$(cd "$here/../../.." && pwd)
default=$root/../shared/vendor/async-ffi-0.5.1
if [ ! -d "$default" ] && common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  main_default=$(dirname "$common")/../shared/vendor/async-ffi-0.5.1
  [ -d "$main_default" ] && default=$main_default
fi
crate=${POLLWAKE_ASYNC_FFI_DIR:-$default}
[ -f "$crate/src/lib.rs" ] || { echo "$0: the async-ffi 0.5.1 crate was not found at '$crate' (set POLLWAKE_ASYNC_FFI_DIR)" >&2; exit 1; }
crate=$(cd "$crate" && pwd)
cache=${POLLWAKE_PEERS_CACHE:-$HOME/.cache/pollwake-peers}
mkdir -p "$cache/ffi-rust-src/.cargo"
cp -rLp "$here/src" "$cache/ffi-rust-src/"
cp -p "$here/.cargo/config.toml" "$cache/ffi-rust-src/.cargo/config.toml"
sed "s|@ASYNC_FFI_DIR@|$crate|" "$here/Cargo.toml.in" > "$cache/ffi-rust-src/Cargo.toml.new"
cmp -s "$cache/ffi-rust-src/Cargo.toml.new" "$cache/ffi-rust-src/Cargo.toml" 2>/dev/null ||
  mv "$cache/ffi-rust-src/Cargo.toml.new" "$cache/ffi-rust-src/Cargo.toml"
rm -f "$cache/ffi-rust-src/Cargo.toml.new"
(cd "$cache/ffi-rust-src" && env -u RUSTUP_TOOLCHAIN RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$cache/ffi-rust-target" \
   CARGO_HOME="$cache/cargo-home" /usr/bin/cargo build --release --offline --quiet)
cp "$cache/ffi-rust-target/release/pollwake-ffi-peer" "$out"
