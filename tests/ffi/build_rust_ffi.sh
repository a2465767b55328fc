#!/usr/bin/env bash
# tests/ffi/build_rust_ffi.sh OUT_DIR: builds tests/ffi/rust/ (a Rust plugin
# and a Rust host, both using the real async-ffi crate) with Debian's cargo
# and rustc, offline, and copies librust_ffi_plugin.so and rust_ffi_host into
# OUT_DIR. Run by the genrule //tests/ffi:rust_ffi from Bazel's execution
# root (outside the sandbox: local = True).
#
# The async-ffi crate (0.5.1, unmodified) is taken from
#   $POLLWAKE_ASYNC_FFI_DIR, if set (pass it to Bazel with
#   --action_env=POLLWAKE_ASYNC_FFI_DIR), else
#   <repository root>/../shared/vendor/async-ffi-0.5.1 (for a git worktree,
#   the same place beside its main checkout is tried too)
# and used in place as a path dependency: cargo only reads it (Cargo.lock and
# the build go to a temporary directory).
set -euo pipefail
out=$1
src=tests/ffi/rust
for tool in /usr/bin/cargo /usr/bin/rustc; do
  [ -x "$tool" ] || { echo "$0: $tool is missing (apt-get install rustc cargo librust-futures-dev)" >&2; exit 1; }
done
[ -n "$(ls -d /usr/share/cargo/registry/futures-executor-0.3.* 2>/dev/null)" ] ||
  { echo "$0: Debian's futures crate is missing (apt-get install librust-futures-dev)" >&2; exit 1; }

# The repository root: this script is <root>/tests/ffi/build_rust_ffi.sh
# (the execution root links to the source tree).
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
default=$root/../shared/vendor/async-ffi-0.5.1
if [ ! -d "$default" ] && common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  main_default=$(dirname "$common")/../shared/vendor/async-ffi-0.5.1
  [ -d "$main_default" ] && default=$main_default
fi
crate=${POLLWAKE_ASYNC_FFI_DIR:-$default}
if [ ! -f "$crate/Cargo.toml" ] || [ ! -f "$crate/src/lib.rs" ]; then
  echo "$0: the async-ffi 0.5.1 crate was not found at '$crate'." >&2
  echo "$0: put its sources there, or set POLLWAKE_ASYNC_FFI_DIR and pass --action_env=POLLWAKE_ASYNC_FFI_DIR to bazel." >&2
  # Debian does not package the crate, so a machine may lack it: the outputs
  # become markers, and rust_ffi_test skips with this message (or fails, when
  # CI=true: there the crate must be present).
  mkdir -p "$out"
  for f in librust_ffi_plugin.so rust_ffi_host; do
    echo "POLLWAKE_MISSING: the async-ffi 0.5.1 crate was not found at '$crate' (set POLLWAKE_ASYNC_FFI_DIR)" > "$out/$f"
  done
  exit 0
fi
grep -q '^version = "0.5.1"' "$crate/Cargo.toml" ||
  { echo "$0: '$crate' is not async-ffi 0.5.1" >&2; exit 1; }
crate=$(cd "$crate" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cp -rL "$src/.cargo" "$src/src" "$work/src/"
sed "s|@ASYNC_FFI_DIR@|$crate|" "$src/Cargo.toml.in" > "$work/src/Cargo.toml"
(cd "$work/src" && env -u RUSTUP_TOOLCHAIN CARGO_HOME="$work/home" CARGO_TARGET_DIR="$work/target" \
   RUSTC=/usr/bin/rustc /usr/bin/cargo build --offline --quiet --lib --bins)
mkdir -p "$out"
cp "$work/target/debug/libpollwake_rust_ffi_plugin.so" "$out/librust_ffi_plugin.so"
cp "$work/target/debug/rust_ffi_host" "$out/rust_ffi_host"
