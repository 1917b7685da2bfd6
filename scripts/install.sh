#!/usr/bin/env bash
# Installs the artifetch binary for this runner and writes its path as the step output `path`.
#
# action.yml starts this as `bash --noprofile --norc` with BASH_ENV and ENV unset (from `sh`, so
# no startup file of the job runs first).
#
# What runs is decided by checksums.txt at the action's ref (written by scripts/release/ on the
# commit a version tag names) and Cargo.toml at the same ref:
#   - checksums.txt names a version equal to Cargo.toml's and holds this platform's archive and
#     binary SHA-256: that release's prebuilt binary, verified, from (in order)
#       1. the tool cache, $RUNNER_TOOL_CACHE/artifetch/<version>/<arch>/, re-hashed on every hit;
#       2. <server>/<repository>/releases/download/<version>/<asset>, server and repository as
#          recorded in checksums.txt (retried with backoff);
#       3. the mirror given as the input `binary-url` (INPUT_BINARY_URL): <binary-url>/<asset>;
#   - otherwise (no checksums: a branch, a pull request, a fork, an unreleased commit; or a
#     version that differs from Cargo.toml's), or when no download worked: `cargo install --locked
#     --path "$GITHUB_ACTION_PATH"`, with a ::warning:: that says why; never another version's
#     binary. Without cargo: an error naming the options.
# A checksum mismatch is fatal: no fallback hides it.
#
# Environment: RUNNER_OS, RUNNER_ARCH (required); RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_ACTION_PATH, GITHUB_ACTIONS, GITHUB_SERVER_URL, INPUT_BINARY_URL; ARTIFETCH_INSTALL
# (`prebuilt-only`: no source build, its fallbacks become errors); for tests: ARTIFETCH_CHECKSUMS (path of
# the checksums file), ARTIFETCH_RELEASE_SERVER (overrides the recorded server),
# ARTIFETCH_DOWNLOAD_ATTEMPTS (default 4), ARTIFETCH_RETRY_DELAY (first backoff in seconds,
# doubled each retry; default 2).
#
# Functions here are called from `if`/`||`, where bash ignores `set -e`: every command whose
# failure matters is checked explicitly.
set -euo pipefail
unset BASH_ENV ENV

log() { printf 'artifetch install: %s\n' "$*" >&2; }
# A warning or an error, said once: in Actions as a workflow command (the runner shows it in the
# log and as an annotation: one line, `%` escaped, so nothing in it starts another command),
# elsewhere on stderr.
say() {
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    local m="$2" pct='%' # through a variable: bash 3.2 (macOS) keeps quotes in the pattern
    m="${m//$pct/%25}"
    m="${m//$'\r'/%0D}"
    m="${m//$'\n'/%0A}"
    printf '::%s title=artifetch install::%s\n' "$1" "$m"
  else
    log "$1: $2"
  fi
}
die() {
  say error "$*"
  exit 1
}
warn() {
  say warning "$*"
}
# The last line of a tool's stderr, printable characters only, cut to 300.
last_line() {
  local line=""
  [[ -s "$1" ]] && line="$(tail -n 1 "$1" 2>/dev/null | tr -cd '[:print:]' | cut -c 1-300)" || true
  printf '%s' "${line:-no message}"
}

to_unix() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s' "$1"; fi
}
to_native() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s' "$1"; fi
}

action_path="$(to_unix "${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}")"
checksums="$(to_unix "${ARTIFETCH_CHECKSUMS:-$action_path/checksums.txt}")"
mirror="${INPUT_BINARY_URL:-}"
mirror="${mirror%/}"
attempts="${ARTIFETCH_DOWNLOAD_ATTEMPTS:-4}"
policy="${ARTIFETCH_INSTALL:-auto}"
case "$policy" in
  auto | prebuilt-only) ;;
  *) die "ARTIFETCH_INSTALL='$policy': expected prebuilt-only (no source build) or auto (the default)" ;;
esac
first_delay="${ARTIFETCH_RETRY_DELAY:-2}"
temp_root="$(to_unix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")"

# --- platform -> release asset ---------------------------------------------------------------
os="${RUNNER_OS:-}"
arch="${RUNNER_ARCH:-}"
exe=""
target=""
case "$os/$arch" in
  Linux/X64) target="x86_64-unknown-linux-musl" ;;
  Linux/ARM64) target="aarch64-unknown-linux-musl" ;;
  macOS/X64) target="x86_64-apple-darwin" ;;
  macOS/ARM64) target="aarch64-apple-darwin" ;;
  Windows/X64) target="x86_64-pc-windows-msvc" exe=".exe" ;;
  # Windows on Arm runs x64 binaries under emulation.
  Windows/ARM64) target="x86_64-pc-windows-msvc" exe=".exe" ;;
  /* | */)
    die "RUNNER_OS='$os' RUNNER_ARCH='$arch': both must be set (they are on every Actions runner)" ;;
esac
[[ "$os" == Windows ]] && exe=".exe"
asset="artifetch-$target.tar.gz"
binary_entry="artifetch-$target/artifetch$exe"
arch_lc="$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')"

# --- checksums.txt: "# version:", "# repository:", "# server:" and "<sha256>  <name>" lines ----
field() { awk -v k="$1:" '$1 == "#" && $2 == k { print $3; exit }' "$checksums"; }
sum_of() {
  awk -v n="$1" '$1 !~ /^#/ && ($2 == n || $2 == "*" n) && $1 ~ /^[0-9a-fA-F]+$/ && length($1) == 64 { print tolower($1); exit }' "$checksums"
}
version="" repository="" server="" archive_sum="" binary_sum=""
if [[ -s "$checksums" ]]; then
  version="$(field version)" || die "cannot read $checksums"
  repository="$(field repository)" || die "cannot read $checksums"
  server="$(field server)" || die "cannot read $checksums"
  if [[ -n "$target" ]]; then
    archive_sum="$(sum_of "$asset")" || die "cannot read $checksums"
    binary_sum="$(sum_of "$binary_entry")" || die "cannot read $checksums"
  fi
fi
recorded_server="${server:-https://github.com}"
recorded_server="${recorded_server%/}"
server="${ARTIFETCH_RELEASE_SERVER:-$recorded_server}"
server="${server%/}"
# [package] version in Cargo.toml at the same ref.
cargo_version=""
if [[ -f "$action_path/Cargo.toml" ]]; then
  cargo_version="$(awk -F'"' '/^\[/ { p = ($0 == "[package]") } p && $1 ~ /^version *= *$/ { print $2; exit }' "$action_path/Cargo.toml")" ||
    die "cannot read $action_path/Cargo.toml"
fi

# Why no prebuilt binary may be used at this ref; empty when one may.
no_prebuilt=""
if [[ -z "$target" ]]; then
  no_prebuilt="there is no prebuilt artifetch for RUNNER_OS='$os' RUNNER_ARCH='$arch' (prebuilt: Linux X64/ARM64, macOS X64/ARM64, Windows X64/ARM64)"
elif [[ -z "$version" ]]; then
  no_prebuilt="this ref of the action has no release checksums (checksums.txt names no version): a branch, a pull request, a fork or a commit that no version tag names"
elif [[ "$version" != "v$cargo_version" ]]; then
  no_prebuilt="checksums.txt is for $version but Cargo.toml at this ref says ${cargo_version:+v}${cargo_version:-no version}: this code is not that release"
elif [[ -z "$repository" ]]; then
  no_prebuilt="checksums.txt for $version names no repository to download from"
elif [[ -z "$archive_sum" || -z "$binary_sum" ]]; then
  no_prebuilt="checksums.txt for $version has no SHA-256 for $asset and $binary_entry"
fi

sha256_of() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out="$(sha256sum -- "$1")" || return 1
  elif command -v shasum >/dev/null 2>&1; then
    out="$(shasum -a 256 -- "$1")" || return 1
  elif command -v openssl >/dev/null 2>&1; then
    out="$(openssl dgst -sha256 -r "$1")" || return 1
  else
    die "no sha256sum, shasum or openssl on PATH: cannot verify the binary"
  fi
  out="${out%% *}"
  printf '%s' "$out" | tr '[:upper:]' '[:lower:]'
}

# Checks that the binary runs and writes the step output. Its output is never logged as is (with
# GITHUB_TOKEN set it could carry a workflow command): only a version number read from it.
emit() {
  local bin="$1" native out="" rc=0 ver=""
  [[ -f "$bin" ]] || die "$bin is missing after the install"
  out="$(unset GITHUB_TOKEN INPUT_GITHUB_TOKEN GITHUB_ACTIONS && "$bin" --version 2>/dev/null </dev/null)" || rc=$?
  ((rc == 0)) || die "$bin does not run on this runner ($RUNNER_OS $RUNNER_ARCH): '--version' exited with $rc"
  if [[ "$out" =~ (^|$'\n')artifetch\ ([0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*) ]]; then
    ver="${BASH_REMATCH[2]}"
  fi
  native="$(to_native "$bin")"
  [[ "$native" != *$'\n'* && "$native" != *$'\r'* ]] || die "the install path contains a line break"
  log "using $native (artifetch ${ver:-of unrecognised version})"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'path=%s\n' "$native" >>"$GITHUB_OUTPUT" || die "cannot write the step output to GITHUB_OUTPUT ($GITHUB_OUTPUT)"
  else
    printf '%s\n' "$native" || die "cannot write to stdout"
  fi
  exit 0
}

# Builds this ref of the action from source, or fails naming what was tried.
build_from_source() {
  local why="$1" tried="$2" hint="$3" root rc=0
  if [[ "$policy" == prebuilt-only ]]; then
    die "cannot install the prebuilt artifetch${target:+ ($target)}: $why${tried:+ (tried: $tried)}. ARTIFETCH_INSTALL=prebuilt-only turns the source build off: use a release of the action (uses: <owner>/artifetch@vX.Y.Z), set binary-url to a mirror of its assets, or pre-seed the tool cache"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    die "cannot install artifetch${target:+ ($target)}: $why. Tried: ${tried:+$tried; }cargo (not on PATH). $hint"
  fi
  warn "building artifetch from source with cargo: $why${tried:+ (tried: $tried)}. This needs crates.io (or a crates mirror configured for cargo) and takes a few minutes."
  root="$temp_root/artifetch-cargo"
  mkdir -p -- "$root" 2>"$temp_root/.artifetch-err" || die "cannot create $root: $(last_line "$temp_root/.artifetch-err")"
  log "cargo install --locked --path $action_path --root $root"
  # A kept target dir makes a later step's rebuild a quick no-op.
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
    cargo install --locked --path "$action_path" --root "$root" >&2 || rc=$?
  ((rc == 0)) || die "cargo install --locked --path $action_path failed (exit $rc, see above)"
  emit "$root/bin/artifetch$exe"
}

source_hint="Use a release of the action (uses: <owner>/artifetch@vX.Y.Z, @vX or the commit SHA such a tag names) or put Rust's cargo on the runner's PATH."
if [[ -n "$no_prebuilt" ]]; then
  build_from_source "$no_prebuilt" "" "$source_hint"
fi

# --- the tool cache: trusted only when the binary's SHA-256 is the recorded one ------------------
cache_dir=""
if [[ -n "${RUNNER_TOOL_CACHE:-}" ]]; then
  cache_dir="$(to_unix "$RUNNER_TOOL_CACHE")/artifetch/${version#v}/$arch_lc"
  if [[ -f "$cache_dir/artifetch$exe" ]]; then
    cached_sum="$(sha256_of "$cache_dir/artifetch$exe")" || cached_sum="unreadable"
    if [[ "$cached_sum" == "$binary_sum" ]]; then
      log "tool cache hit: artifetch $version ($target), sha256 verified: $cached_sum"
      emit "$cache_dir/artifetch$exe"
    fi
    warn "ignoring $cache_dir/artifetch$exe in the tool cache: its sha256 $cached_sum is not the $binary_sum that checksums.txt records for $version (another build, or planted by an earlier job); downloading again"
  fi
fi

# --- download ------------------------------------------------------------------------------------
# curl, else wget (images such as debian:slim variants and busybox-based ones ship only wget).
downloader=""
for tool in curl wget; do
  if command -v "$tool" >/dev/null 2>&1; then
    downloader="$tool"
    break
  fi
done
missing_tools=()
[[ -n "$downloader" ]] || missing_tools+=("curl (or wget)")
command -v tar >/dev/null 2>&1 || missing_tools+=(tar)
if ((${#missing_tools[@]})); then
  build_from_source "${missing_tools[*]} not on PATH: cannot download the release binary (in a container job, install them in the image: apt-get install -y curl tar, apk add curl tar)" "" \
    "Install ${missing_tools[*]} on the runner or in the job's container, or put Rust's cargo on PATH."
fi

mkdir -p -- "$temp_root" 2>/dev/null || true
work="$(mktemp -d "$temp_root/artifetch-install.XXXXXX" 2>/dev/null)" ||
  die "cannot create a temporary directory in $temp_root (RUNNER_TEMP): not writable?"
trap 'rm -rf -- "$work"' EXIT

# get URL FILE ERRFILE -> prints the HTTP status of the (last) answer; returns 0 on an answer,
# 23 on a local write error, another non-zero code when there was no answer (ERRFILE says why).
get() {
  local rc=0 code
  if [[ "$downloader" == curl ]]; then
    curl -sSL --connect-timeout 10 --max-time 300 -o "$2" -w '%{http_code}' -- "$1" 2>"$3" || return $?
    return 0
  fi
  # wget: -S writes each answer's status line to stderr (after redirects: the last one counts);
  # an error status is exit 8 (GNU) or 1 (busybox), a write error exit 3.
  wget -nv -S -T 10 -t 1 -O "$2" -- "$1" 2>"$3" || rc=$?
  code="$(awk '$1 ~ /^HTTP\// { code = $2 } END { print code + 0 }' "$3")"
  printf '%s' "$code"
  ((rc != 3)) || return 23
  ((rc == 0 || code >= 400)) || return "$rc"
  return 0
}

# download URL FILE MAX_ATTEMPTS WHERE -> 0 on success; 1 when not there or unreachable, with
# `dl_failure` saying which. Exits on a local fault.
dl_failure=""
download() {
  local url="$1" out="$2" max="$3" where="$4" try=1 delay="$first_delay" code rc err
  while :; do
    rc=0
    code="$(get "$url" "$out" "$work/get.err")" || rc=$?
    err="$(last_line "$work/get.err")"
    case "$rc" in
      23) die "cannot write the download to $out: $err" ;; # curl: write error, a local fault
      0)
        case "$code" in
          200) return 0 ;;
          404 | 410)
            dl_failure="$asset is not $where (HTTP $code from $url)"
            log "$dl_failure"
            return 1 ;;
          401 | 403)
            dl_failure="$url refused the download (HTTP $code)"
            log "$dl_failure"
            return 1 ;;
        esac
        err="HTTP $code" ;;
    esac
    if ((try >= max)); then
      dl_failure="$url unreachable after $try attempt(s): $err"
      log "$dl_failure"
      return 1
    fi
    log "$url: $err (attempt $try of $max); retrying in ${delay}s"
    sleep "$delay"
    try=$((try + 1))
    delay=$((delay * 2))
  done
}

# Puts the verified binary into the tool cache (or, when that cannot be written, under
# RUNNER_TEMP for this job) and emits it.
place() {
  local bin="$1" stage dest
  if [[ -n "$cache_dir" ]]; then
    if mkdir -p -- "${cache_dir%/*}" 2>"$work/place.err" &&
      stage="$(mktemp -d "${cache_dir%/*}/.incoming.XXXXXX" 2>"$work/place.err")" &&
      cp -- "$bin" "$stage/artifetch$exe" 2>"$work/place.err" &&
      chmod +x -- "$stage/artifetch$exe" 2>"$work/place.err" &&
      rm -rf -- "$cache_dir" 2>"$work/place.err" &&
      mv -- "$stage" "$cache_dir" 2>"$work/place.err"; then
      emit "$cache_dir/artifetch$exe"
    fi
    warn "cannot write to the tool cache ($cache_dir): $(last_line "$work/place.err"); using RUNNER_TEMP for this job instead"
  fi
  dest="$(mktemp -d "$temp_root/artifetch-bin.XXXXXX" 2>"$work/place.err")" ||
    die "cannot create a directory in $temp_root (RUNNER_TEMP): $(last_line "$work/place.err")"
  if ! { cp -- "$bin" "$dest/artifetch$exe" && chmod +x -- "$dest/artifetch$exe"; } 2>"$work/place.err"; then
    die "cannot write $dest/artifetch$exe: $(last_line "$work/place.err")"
  fi
  emit "$dest/artifetch$exe"
}

# fetch_verified WHAT URL MAX_ATTEMPTS WHERE -> installs and exits on success; 1 if not there or
# unreachable. A checksum mismatch is fatal.
fetch_verified() {
  local what="$1" url="$2" max="$3" where="$4" actual x="$work/x"
  log "downloading $asset from $what: $url"
  rm -rf -- "${work:?}/$asset" "$x"
  download "$url" "$work/$asset" "$max" "$where" || return 1
  actual="$(sha256_of "$work/$asset")" || die "cannot hash $work/$asset"
  if [[ "$actual" != "$archive_sum" ]]; then
    die "checksum mismatch for $asset from $what ($url): expected sha256 $archive_sum (checksums.txt at this action's ref), got $actual. The file was not used."
  fi
  log "sha256 verified: $actual"
  mkdir -- "$x" || die "cannot create $x"
  tar -xzf "$work/$asset" -C "$x" 2>"$work/tar.err" ||
    die "$asset from $what: verified, but tar cannot extract it: $(last_line "$work/tar.err")"
  [[ -f "$x/artifetch$exe" ]] || die "$asset from $what: verified, but holds no artifetch$exe at its top level"
  actual="$(sha256_of "$x/artifetch$exe")" || die "cannot hash $x/artifetch$exe"
  [[ "$actual" == "$binary_sum" ]] ||
    die "checksum mismatch for artifetch$exe inside $asset: expected sha256 $binary_sum, got $actual. Not used."
  place "$x/artifetch$exe"
}

release_url="$server/$repository/releases/download/$version/$asset"
tried=()
# With a mirror configured, or on a runner of another server (GHES) than the release's, the
# release gets one attempt: that runner likely cannot reach it, and retries would cost every job
# a minute.
release_attempts="$attempts"
runner_server="${GITHUB_SERVER_URL:-}"
runner_server="${runner_server%/}"
if [[ -n "$mirror" ]]; then
  release_attempts=1
elif [[ -n "$runner_server" && "$runner_server" != "$recorded_server" ]]; then
  release_attempts=1
  log "this runner's server is $runner_server, the release is on $recorded_server: one try (set binary-url to a mirror, or pre-seed the tool cache, on runners that cannot reach it)"
fi
fetch_verified "the release" "$release_url" "$release_attempts" "in the release $version of $repository" ||
  tried+=("release: $dl_failure")
if [[ -n "$mirror" ]]; then
  fetch_verified "the mirror (binary-url)" "$mirror/$asset" "$attempts" "on the mirror (binary-url)" ||
    tried+=("binary-url: $dl_failure")
else
  tried+=("binary-url (not set)")
fi
printf -v tried_list '%s; ' "${tried[@]}"
build_from_source "the prebuilt binary of $version could not be downloaded" "${tried_list%; }" \
  "Either set the input 'binary-url' to a mirror of this release's assets (verified against checksums.txt) or put Rust's cargo on the runner's PATH to build from source."
