#!/usr/bin/env bash
# commit.sh VERSION CHECKSUMS [PREVIOUS]: prints the SHA of the release commit: HEAD's tree with
# checksums.txt replaced by CHECKSUMS, HEAD as its first parent and PREVIOUS (the tip of the
# release branch releases/vX, when it has one) as its second, so the branch moves forward to it
# without a force push. The working tree and branches are not touched. Author, committer and
# dates are fixed (the dates are HEAD's), so the same source, checksums and previous release give
# the same commit: re-running a release makes no second one.
set -euo pipefail
version="$1" file="$2" previous="${3:-}"
src="$(git rev-parse --verify 'HEAD^{commit}')"
index="$(mktemp)"
trap 'rm -f -- "$index"' EXIT
export GIT_INDEX_FILE="$index"
git read-tree "$src"
blob="$(git hash-object -w -- "$file")"
git update-index --add --cacheinfo "100644,$blob,checksums.txt"
tree="$(git write-tree)"
date="$(git show -s --format=%cI "$src")"
parents=(-p "$src")
[[ -z "$previous" ]] || parents+=(-p "$previous")
GIT_AUTHOR_NAME="github-actions[bot]" GIT_AUTHOR_EMAIL="41898282+github-actions[bot]@users.noreply.github.com" \
  GIT_COMMITTER_NAME="github-actions[bot]" GIT_COMMITTER_EMAIL="41898282+github-actions[bot]@users.noreply.github.com" \
  GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
  git commit-tree --no-gpg-sign "$tree" "${parents[@]}" -m "Release $version: checksums.txt" -m "Built from $src."
