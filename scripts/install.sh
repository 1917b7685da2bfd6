#!/usr/bin/env bash
# Installs the artifetch binary for this runner and writes its path as the step output `path`.
#
# Order of sources:
#   1. the tool cache (RUNNER_TOOL_CACHE/artifetch/<version>/<arch>/), if an earlier step or job
#      installed the same verified build there;
#   2. the action's own GitHub release for the version recorded in checksums.txt;
#   3. the mirror given as the input `binary-url` (INPUT_BINARY_URL): <binary-url>/<asset>;
#   4. `cargo install --locked --path "$GITHUB_ACTION_PATH"` when cargo is on PATH;
#   5. else an error that names the options.
# Every download is checked against the SHA-256 in checksums.txt, committed in the action's
# repository at the ref the workflow uses, so pinning the action by commit pins the binary. With
# no checksum recorded (an unreleased ref) nothing is downloaded.
#
# Environment: RUNNER_OS, RUNNER_ARCH (required); RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_ACTION_PATH, INPUT_BINARY_URL; for tests and mirrors: ARTIFETCH_RELEASE_BASE_URL
# (default https://github.com/artifetch/artifetch/releases/download), ARTIFETCH_CHECKSUMS (path of
# the checksums file), ARTIFETCH_DOWNLOAD_ATTEMPTS (default 4), ARTIFETCH_RETRY_DELAY (first
# backoff in seconds, doubled each retry; default 2).
set -euo pipefail

log() { printf 'artifetch install: %s\n' "$*" >&2; }
die() {
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    printf '::error title=artifetch install::%s\n' "$*"
  fi
  log "error: $*"
  exit 1
}

to_unix() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s' "$1"; fi
}
to_native() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s' "$1"; fi
}

action_path="$(to_unix "${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}")"
checksums="$(to_unix "${ARTIFETCH_CHECKSUMS:-$action_path/checksums.txt}")"
release_base="${ARTIFETCH_RELEASE_BASE_URL:-https://github.com/artifetch/artifetch/releases/download}"
release_base="${release_base%/}"
mirror="${INPUT_BINARY_URL:-}"
mirror="${mirror%/}"
attempts="${ARTIFETCH_DOWNLOAD_ATTEMPTS:-4}"
first_delay="${ARTIFETCH_RETRY_DELAY:-2}"

# --- platform -> release asset ---------------------------------------------------------------
os="${RUNNER_OS:-}"
arch="${RUNNER_ARCH:-}"
exe=""
case "$os/$arch" in
  Linux/X64) target="x86_64-unknown-linux-musl" ;;
  Linux/ARM64) target="aarch64-unknown-linux-musl" ;;
  macOS/X64) target="x86_64-apple-darwin" ;;
  macOS/ARM64) target="aarch64-apple-darwin" ;;
  Windows/X64) target="x86_64-pc-windows-msvc" exe=".exe" ;;
  /* | */)
    die "RUNNER_OS='$os' RUNNER_ARCH='$arch': both must be set (they are on every Actions runner)" ;;
  *)
    die "no prebuilt artifetch for RUNNER_OS='$os' RUNNER_ARCH='$arch'; prebuilt: Linux X64/ARM64, macOS X64/ARM64, Windows X64. Install Rust (cargo) on this runner to build from source." ;;
esac
asset="artifetch-$target.tar.gz"
arch_lc="$(printf '%s' "$arch" | tr '[:upper:]' '[:lower:]')"

# --- checksums.txt: "# version: vX.Y.Z" and "<sha256>  <asset>" lines -------------------------
version=""
expected=""
if [[ -s "$checksums" ]]; then
  version="$(sed -n 's/^# *version: *\([^[:space:]]*\).*$/\1/p' "$checksums" | head -n 1)"
  expected="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print tolower($1); exit }' "$checksums")"
fi

emit() {
  local bin="$1"
  local native
  native="$(to_native "$bin")"
  log "using $native ($("$bin" --version 2>/dev/null || echo 'version unknown'))"
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    printf 'path=%s\n' "$native" >>"$GITHUB_OUTPUT"
  else
    printf '%s\n' "$native"
  fi
  exit 0
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{ print tolower($1) }'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{ print tolower($1) }'
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | awk '{ print tolower($1) }'
  else
    die "no sha256sum, shasum or openssl on PATH: cannot verify the download"
  fi
}

# download URL FILE MAX_ATTEMPTS -> 0 on success; 1 when unreachable or refused.
download() {
  local url="$1" out="$2" max="$3" try=1 delay="$first_delay" code
  while :; do
    code="$(curl -sSL --connect-timeout 10 --max-time 300 -o "$out" -w '%{http_code}' "$url" 2>/dev/null)" || code="${code:-000}"
    case "$code" in
      200) return 0 ;;
      404 | 401 | 403 | 410)
        log "$url: HTTP $code (not retried)"
        return 1 ;;
    esac
    if ((try >= max)); then
      log "$url: HTTP ${code:-000} after $try attempt(s); giving up"
      return 1
    fi
    log "$url: HTTP ${code:-000} (attempt $try of $max); retrying in ${delay}s"
    sleep "$delay"
    try=$((try + 1))
    delay=$((delay * 2))
  done
}

# --- cache ---------------------------------------------------------------------------------------
cache_dir=""
if [[ -n "$version" && -n "${RUNNER_TOOL_CACHE:-}" ]]; then
  cache_root="$(to_unix "$RUNNER_TOOL_CACHE")/artifetch/${version#v}"
  cache_dir="$cache_root/$arch_lc"
  if [[ -n "$expected" && -x "$cache_dir/artifetch$exe" && -f "$cache_root/$arch_lc.complete" ]] &&
    [[ "$(cat "$cache_root/$arch_lc.complete")" == "$expected" ]]; then
    log "tool cache hit: artifetch $version ($target)"
    emit "$cache_dir/artifetch$exe"
  fi
fi

work="$(mktemp -d "$(to_unix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/artifetch-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# fetch_verified SOURCE_NAME URL MAX_ATTEMPTS -> installs and exits on success; 1 if unreachable.
fetch_verified() {
  local what="$1" url="$2" max="$3" actual dest
  log "downloading $asset from $what: $url"
  download "$url" "$work/$asset" "$max" || return 1
  actual="$(sha256_of "$work/$asset")"
  if [[ "$actual" != "$expected" ]]; then
    die "checksum mismatch for $asset from $what ($url): expected sha256 $expected (checksums.txt at this action's ref), got $actual. The file was not used."
  fi
  log "sha256 verified: $actual"
  mkdir -p "$work/x"
  tar -xzf "$work/$asset" -C "$work/x" || die "$asset from $what: verified, but not a readable .tar.gz"
  [[ -f "$work/x/artifetch$exe" ]] || die "$asset from $what: verified, but holds no artifetch$exe at its top level"
  chmod +x "$work/x/artifetch$exe"
  if [[ -n "$cache_dir" ]]; then
    rm -rf "$cache_dir" "$cache_root/$arch_lc.complete"
    mkdir -p "$cache_root"
    mv "$work/x" "$cache_dir"
    printf '%s' "$expected" >"$cache_root/$arch_lc.complete"
    dest="$cache_dir/artifetch$exe"
  else
    mkdir -p "$work/../artifetch-bin"
    dest="$(cd "$work/.." && pwd)/artifetch-bin/artifetch$exe"
    mv "$work/x/artifetch$exe" "$dest"
  fi
  emit "$dest"
}

tried=()
if [[ -z "$version" || -z "$expected" ]]; then
  log "no checksum for $asset in ${checksums} (an unreleased ref?): refusing to download a prebuilt binary"
  tried+=("download (no checksum recorded at this ref)")
else
  # With a mirror configured the release gets one attempt: that runner likely cannot reach it.
  release_attempts="$attempts"
  [[ -n "$mirror" ]] && release_attempts=1
  fetch_verified "the release" "$release_base/$version/$asset" "$release_attempts" ||
    tried+=("release $release_base/$version/$asset (unreachable)")
  if [[ -n "$mirror" ]]; then
    fetch_verified "the mirror (binary-url)" "$mirror/$asset" "$attempts" ||
      tried+=("binary-url $mirror/$asset (unreachable)")
  else
    tried+=("binary-url (not set)")
  fi
fi

if command -v cargo >/dev/null 2>&1; then
  root="$(to_unix "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")/artifetch-cargo"
  log "building from source: cargo install --locked --path $action_path --root $root"
  # A kept target dir makes a later step's rebuild a quick no-op.
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
    cargo install --locked --path "$action_path" --root "$root" >&2 ||
    die "cargo install --locked --path $action_path failed (see above)"
  emit "$root/bin/artifetch$exe"
fi

tried+=("cargo (not on PATH)")
printf -v tried_list '%s; ' "${tried[@]}"
die "cannot install artifetch ($target): tried ${tried_list%; }. Either set the input 'binary-url' to a mirror of this release's assets (verified against checksums.txt) or put Rust's cargo on the runner's PATH to build from source."
