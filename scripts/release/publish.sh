#!/usr/bin/env bash
# publish.sh VERSION DIST: publishes a release whose tag names a commit that carries its checksums.
# Run in a checkout of the source commit (HEAD), after build.sh put every archive in DIST.
#
#   1. Cargo.toml's version is VERSION and README's snippets name its major tag (check-version.sh);
#   2. checksums.txt is computed (checksums.sh) and committed on top of HEAD (commit.sh), the
#      same commit on every run for the same archives;
#   3. if the tag VERSION already exists on the remote it must name that commit (a re-run), else
#      nothing is changed;
#   4. the assets are uploaded to a draft release (drafts serve no assets and name no tag);
#   5. the release commit is pushed to the branch releases/vX (vX the major version), which it
#      moves forward without a force push (its second parent is the branch's previous tip), so
#      the SHA a user pins belongs to a branch; protect that branch (docs/RELEASING.md);
#   6. the tag VERSION is pushed;
#   7. the draft is published.
# The major tag (vX) is not moved here: promote.sh does that once the release has been installed
# and run on every platform (release.yml's smoke jobs).
# Each step checks what is already done, so re-running after a failure at any step completes the
# release; no pull request is opened.
#
# Environment: GITHUB_REPOSITORY (owner/name), GITHUB_SERVER_URL; RELEASE_REMOTE (default origin);
# GH_TOKEN for `gh` and, in Actions, for the push (common.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$1" dist="$(cd "$2" && pwd)"
# shellcheck source=scripts/release/common.sh
source "$here/common.sh"

"$here/check-version.sh" "$version"
"$here/checksums.sh" "$version" "$dist" >"$dist/checksums.txt"
branch="releases/$major"
tagged="$(remote_tag "$version")"
tip="$(remote_branch "$branch")"
[[ -z "$tip" ]] || git fetch -q "$remote" "refs/heads/$branch"
[[ -z "$tagged" ]] || git fetch -q "$remote" "refs/tags/$version"
release_commit() { "$here/commit.sh" "$version" "$dist/checksums.txt" "$@"; }
second_parent() { git rev-parse -q --verify "$1^2" || true; }
if [[ -n "$tagged" ]]; then # a re-run: the same commit as then, if these are the same archives
  commit="$(release_commit "$(second_parent "$tagged")")"
elif [[ -n "$tip" && "$(release_commit "$(second_parent "$tip")")" == "$tip" ]]; then
  commit="$tip" # a re-run that had pushed the branch but not the tag
else
  commit="$(release_commit "$tip")"
fi
say "release commit $commit (checksums.txt on $(git rev-parse HEAD))"
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

if [[ -n "$tip" ]] && git merge-base --is-ancestor "$commit" "$tip"; then
  say "$branch already holds $commit"
else
  say "pushing $commit to the branch $branch"
  git push "$remote" "$commit:refs/heads/$branch"
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
say "published: $GH_REPO@$version = $commit (on $branch); $major moves there with promote.sh"
