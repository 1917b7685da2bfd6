#!/usr/bin/env bash
# check-version.sh VERSION: VERSION is vX.Y.Z and equals the [package] version in Cargo.toml at
# this checkout. A release of any other code than the one its version names is refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-}"
if [[ ! "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "::error title=release::version '$version' is not of the form vX.Y.Z" >&2
  exit 1
fi
cargo_version="$(awk -F'"' '/^\[/ { p = ($0 == "[package]") } p && $1 ~ /^version *= *$/ { print $2; exit }' Cargo.toml)"
if [[ "v$cargo_version" != "$version" ]]; then
  echo "::error title=release::$version does not match Cargo.toml's version ($cargo_version) at $(git rev-parse --short HEAD 2>/dev/null || echo this checkout): bump Cargo.toml first" >&2
  exit 1
fi
# README's snippets (`uses: <owner>/artifetch@vX`) are what users copy: a release whose major tag
# they do not name would leave every copied workflow on a tag this release does not move.
major="${version%%.*}"
named="$(grep -oE 'uses: *[A-Za-z0-9_.-]+/artifetch@v[0-9]+' README.md | sed 's/.*@//' | sort -u | paste -sd ' ' -)" || true
if [[ "$named" != "$major" ]]; then
  echo "::error title=release::README.md's snippets name ${named:-no artifetch@vX tag} but $version moves $major: update README.md's \`uses:\` lines first" >&2
  exit 1
fi
