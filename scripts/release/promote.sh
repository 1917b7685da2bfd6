#!/usr/bin/env bash
# promote.sh VERSION: moves the major tag (v1 for v1.2.3) to the commit the published tag VERSION
# names, unless a higher vX.y.z exists (never back to an older patch). release.yml runs it only
# after the smoke jobs installed that release through action.yml on every platform and fetched an
# artifact with it, so a broken asset never reaches `@vX` users. Safe to re-run.
#
# Environment: as publish.sh (common.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$1"
# shellcheck source=scripts/release/common.sh
source "$here/common.sh"

commit="$(remote_tag "$version")"
[[ -n "$commit" ]] || die "the tag $version is not on $remote: publish the release (publish.sh) first"
highest="$(git ls-remote --tags "$remote" "refs/tags/$major.*" | awk '{ print $2 }' |
  sed -n 's#^refs/tags/\(v[0-9]*\.[0-9]*\.[0-9]*\)$#\1#p' | sort -V | tail -n 1)"
if [[ "$highest" != "$version" ]]; then
  say "$major stays at $highest (higher than $version)"
elif [[ "$(remote_tag "$major")" == "$commit" ]]; then
  say "$major already names $commit"
else
  say "moving $major to $commit"
  git fetch -q "$remote" "refs/tags/$version"
  git tag -f "$major" "$commit" >/dev/null
  git push --force "$remote" "refs/tags/$major"
fi
