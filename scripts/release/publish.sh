#!/usr/bin/env bash
# publish.sh VERSION DIST: publishes a release whose tag names a commit that carries its checksums.
# Run in a checkout of the source commit (HEAD), after build.sh put every archive in DIST.
#
#   1. Cargo.toml's version is VERSION (check-version.sh);
#   2. checksums.txt is computed (checksums.sh) and committed on top of HEAD (commit.sh), the
#      same commit on every run for the same archives;
#   3. if the tag VERSION already exists on the remote it must name that commit (a re-run), else
#      nothing is changed;
#   4. the assets are uploaded to a draft release (drafts serve no assets and name no tag);
#   5. the tag VERSION is pushed;
#   6. the draft is published;
#   7. the major tag (v1) is moved to the commit unless a higher v1.x.y exists.
# Each step checks what is already done, so re-running after a failure at any step completes the
# release; no step needs a repository setting (no pull request is opened: branches never carry
# release checksums, see README "Pinning").
#
# Environment: GITHUB_REPOSITORY (owner/name), GITHUB_SERVER_URL; RELEASE_REMOTE (default origin);
# GH_TOKEN for `gh` and, in Actions, for the push (an http extraheader for GITHUB_SERVER_URL, the
# token never on a command line).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$1" dist="$(cd "$2" && pwd)"
remote="${RELEASE_REMOTE:-origin}"
export GH_REPO="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/name) is required}"
major="${version%%.*}"
say() { printf 'release %s: %s\n' "$version" "$*" >&2; }
die() {
  printf '::error title=release::%s\n' "$*"
  exit 1
}

if [[ "${GITHUB_ACTIONS:-}" == "true" && -n "${GH_TOKEN:-}" ]]; then
  auth="$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
  echo "::add-mask::$auth"
  export GIT_CONFIG_COUNT=1
  export GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"
fi

"$here/check-version.sh" "$version"
"$here/checksums.sh" "$version" "$dist" >"$dist/checksums.txt"
commit="$("$here/commit.sh" "$version" "$dist/checksums.txt")"
say "release commit $commit (checksums.txt on $(git rev-parse HEAD))"

remote_tag() { # NAME -> the commit the remote tag names, or nothing
  git ls-remote --tags "$remote" "refs/tags/$1^{}" "refs/tags/$1" | awk '{ print $1 }' | tail -n 1
}
tagged="$(remote_tag "$version")"
if [[ -n "$tagged" && "$tagged" != "$commit" ]]; then
  die "the tag $version already names $tagged, not $commit: these archives differ from that release's. Re-run only the failed publish job (it reuses the built archives), or, if that release was never published, delete the tag and its draft release first."
fi

state="$(gh release view "$version" --json isDraft --jq '.isDraft' 2>/dev/null || echo missing)"
case "$state" in
  missing)
    say "creating the draft release"
    gh release create "$version" --draft --title "$version" --notes-file - >/dev/null <<NOTES
Prebuilt artifetch for Linux (x86_64, aarch64; static musl), macOS (x86_64, aarch64) and Windows (x86_64; also used on Windows on Arm).

\`uses: $GH_REPO@$version\` (or \`@$major\`, or the commit \`$commit\`) installs these files, verified against the checksums.txt that commit carries.

Verify provenance: \`gh attestation verify artifetch-<target>.tar.gz --repo $GH_REPO\`
NOTES
    state=true
    ;;
  true | false) ;;
  *) die "unexpected answer from gh release view: $state" ;;
esac
if [[ "$state" == true ]]; then
  say "uploading the assets to the draft"
  gh release upload "$version" --clobber "$dist"/artifetch-*.tar.gz "$dist/checksums.txt"
else
  say "already published; its tag names $commit: assets kept"
fi

if [[ -z "$tagged" ]]; then
  say "pushing the tag $version"
  git tag -f "$version" "$commit" >/dev/null
  git push "$remote" "refs/tags/$version"
fi
if [[ "$state" == true ]]; then
  say "publishing"
  gh release edit "$version" --draft=false >/dev/null
fi

highest="$(git ls-remote --tags "$remote" "refs/tags/$major.*" | awk '{ print $2 }' |
  sed -n 's#^refs/tags/\(v[0-9]*\.[0-9]*\.[0-9]*\)$#\1#p' | sort -V | tail -n 1)"
if [[ "$highest" == "$version" ]]; then
  if [[ "$(remote_tag "$major")" != "$commit" ]]; then
    say "moving $major to $commit"
    git tag -f "$major" "$commit" >/dev/null
    git push --force "$remote" "refs/tags/$major"
  fi
else
  say "$major stays at $highest (higher than $version)"
fi
say "done: $GH_REPO@$version = $commit"
