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
