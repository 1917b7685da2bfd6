#!/usr/bin/env bash
# checksums.sh VERSION DIST: prints the checksums.txt of a release: its version, the repository
# (GITHUB_REPOSITORY) and server (GITHUB_SERVER_URL) it is published on, and the SHA-256 of each
# archive in DIST and of the binary inside it (as artifetch-<target>/artifetch[.exe], the path it
# has when each archive is extracted into a directory named after it: `sha256sum -c` works there).
# Every target of targets.txt must be in DIST.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$1" dist="$2"
repository="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/name) is required}"
server="${GITHUB_SERVER_URL:-https://github.com}"
[[ "$repository" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || {
  echo "::error title=release::GITHUB_REPOSITORY '$repository' is not owner/name" >&2
  exit 1
}
sha() { sha256sum -- "$1" | awk '{ print $1 }'; }
work="$(mktemp -d)"
trap 'rm -rf -- "$work"' EXIT
echo "# artifetch release checksums, written by scripts/release/checksums.sh: do not edit."
echo "# version: $version"
echo "# repository: $repository"
echo "# server: ${server%/}"
while read -r target; do
  [[ -n "$target" ]] || continue
  archive="$dist/artifetch-$target.tar.gz"
  [[ -f "$archive" ]] || {
    echo "::error title=release::$archive is missing: every target of scripts/release/targets.txt is released" >&2
    exit 1
  }
  exe=""
  [[ "$target" == *-windows-* ]] && exe=".exe"
  mkdir "$work/$target"
  tar -xzf "$archive" -C "$work/$target"
  for f in "artifetch$exe" LICENSE-MIT LICENSE-APACHE; do
    [[ -f "$work/$target/$f" ]] || {
      echo "::error title=release::$archive holds no $f" >&2
      exit 1
    }
  done
  echo "$(sha "$archive")  artifetch-$target.tar.gz"
  echo "$(sha "$work/$target/artifetch$exe")  artifetch-$target/artifetch$exe"
done <"$here/targets.txt"
