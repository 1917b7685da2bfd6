#!/usr/bin/env bash
# package.sh TARGET BINARY OUT_DIR: writes OUT_DIR/artifetch-TARGET.tar.gz holding the binary (as
# artifetch, or artifetch.exe for Windows) and both licence texts at the top level.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="$1" binary="$2" out="$3"
grep -qxF -- "$target" "$root/scripts/release/targets.txt" || {
  echo "::error title=release::unknown target '$target' (see scripts/release/targets.txt)" >&2
  exit 1
}
exe=""
[[ "$target" == *-windows-* ]] && exe=".exe"
stage="$(mktemp -d)"
trap 'rm -rf -- "$stage"' EXIT
cp -- "$binary" "$stage/artifetch$exe"
chmod 755 "$stage/artifetch$exe"
cp -- "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$stage/"
mkdir -p -- "$out"
tar -czf "$out/artifetch-$target.tar.gz" -C "$stage" "artifetch$exe" LICENSE-MIT LICENSE-APACHE
echo "packaged $out/artifetch-$target.tar.gz"
