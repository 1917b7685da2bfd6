#!/usr/bin/env bash
# build.sh TARGET OUT_DIR: the release build of one target (static C runtime on Linux musl and
# Windows msvc, stripped), packaged by package.sh. Needs the target's Rust toolchain (and
# musl-tools for *-linux-musl on Linux).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$1" out="$2"
case "$target" in
  *-linux-musl | *-windows-msvc) export RUSTFLAGS="-C target-feature=+crt-static" ;;
esac
cargo build --release --locked -p artifetch --target "$target"
bin="target/$target/release/artifetch"
if [[ "$target" == *-windows-msvc ]]; then
  bin="$bin.exe"
elif [[ "$target" == *-apple-darwin ]]; then
  strip -x "$bin" # profile.release strips too; a native strip where one exists
else
  strip "$bin" 2>/dev/null || true # cross targets: the host strip may not read them
fi
scripts/release/package.sh "$target" "$bin" "$out"
