# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # sourced: `version` comes from, and `major` goes to, the script
# common.sh: sourced by publish.sh and promote.sh (with `version` set): messages, the push
# credentials in Actions, and what the remote's tags and branches name.
remote="${RELEASE_REMOTE:-origin}"
export GH_REPO="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY (owner/name) is required}"
major="${version%%.*}"
say() { printf 'release %s: %s\n' "$version" "$*" >&2; }
die() {
  printf '::error title=release::%s\n' "$*"
  exit 1
}

# In Actions: an http extraheader for GITHUB_SERVER_URL, so the token is never on a command line.
if [[ "${GITHUB_ACTIONS:-}" == "true" && -n "${GH_TOKEN:-}" ]]; then
  auth="$(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
  echo "::add-mask::$auth"
  export GIT_CONFIG_COUNT=1
  export GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"
fi

remote_tag() { # NAME -> the commit the remote tag names, or nothing
  git ls-remote --tags "$remote" "refs/tags/$1^{}" "refs/tags/$1" | awk '{ print $1 }' | tail -n 1
}
remote_branch() { # NAME -> the commit the remote branch names, or nothing
  git ls-remote --heads "$remote" "refs/heads/$1" | awk '{ print $1 }'
}
