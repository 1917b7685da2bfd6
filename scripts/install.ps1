# Installs the artifetch binary on a Windows runner and writes its path as the step output `path`.
# The PowerShell twin of scripts/install.sh (same sources, order, checks and environment):
# tool cache -> the action's release -> INPUT_BINARY_URL mirror -> cargo install -> error.
# Every download is verified against the SHA-256 in checksums.txt at the action's ref.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

function Log([string]$msg) { [Console]::Error.WriteLine("artifetch install: $msg") }
function Die([string]$msg) {
    if ($env:GITHUB_ACTIONS -eq 'true') { Write-Output "::error title=artifetch install::$msg" }
    Log "error: $msg"
    exit 1
}

$actionPath = if ($env:GITHUB_ACTION_PATH) { $env:GITHUB_ACTION_PATH } else { Split-Path -Parent $PSScriptRoot }
$checksums = if ($env:ARTIFETCH_CHECKSUMS) { $env:ARTIFETCH_CHECKSUMS } else { Join-Path $actionPath 'checksums.txt' }
$releaseBase = if ($env:ARTIFETCH_RELEASE_BASE_URL) { $env:ARTIFETCH_RELEASE_BASE_URL } else { 'https://github.com/artifetch/artifetch/releases/download' }
$releaseBase = $releaseBase.TrimEnd('/')
$mirror = if ($env:INPUT_BINARY_URL) { $env:INPUT_BINARY_URL.Trim().TrimEnd('/') } else { '' }
$attempts = if ($env:ARTIFETCH_DOWNLOAD_ATTEMPTS) { [int]$env:ARTIFETCH_DOWNLOAD_ATTEMPTS } else { 4 }
$firstDelay = if ($env:ARTIFETCH_RETRY_DELAY) { [int]$env:ARTIFETCH_RETRY_DELAY } else { 2 }
$temp = if ($env:RUNNER_TEMP) { $env:RUNNER_TEMP } else { [IO.Path]::GetTempPath() }

$os = "$env:RUNNER_OS"
$arch = "$env:RUNNER_ARCH"
$exe = ''
switch ("$os/$arch") {
    'Linux/X64' { $target = 'x86_64-unknown-linux-musl' }
    'Linux/ARM64' { $target = 'aarch64-unknown-linux-musl' }
    'macOS/X64' { $target = 'x86_64-apple-darwin' }
    'macOS/ARM64' { $target = 'aarch64-apple-darwin' }
    'Windows/X64' { $target = 'x86_64-pc-windows-msvc'; $exe = '.exe' }
    default {
        Die "no prebuilt artifetch for RUNNER_OS='$os' RUNNER_ARCH='$arch'; prebuilt: Linux X64/ARM64, macOS X64/ARM64, Windows X64. Install Rust (cargo) on this runner to build from source."
    }
}
$asset = "artifetch-$target.tar.gz"
$archLc = $arch.ToLowerInvariant()

$version = ''
$expected = ''
if ((Test-Path -LiteralPath $checksums) -and (Get-Item -LiteralPath $checksums).Length -gt 0) {
    foreach ($line in Get-Content -LiteralPath $checksums) {
        if (-not $version -and $line -match '^#\s*version:\s*(\S+)') { $version = $Matches[1]; continue }
        $fields = $line -split '\s+'
        if (-not $expected -and $fields.Count -ge 2 -and ($fields[1] -eq $asset -or $fields[1] -eq "*$asset")) {
            $expected = $fields[0].ToLowerInvariant()
        }
    }
}

function Emit([string]$bin) {
    $v = try { & $bin --version 2>$null } catch { 'version unknown' }
    Log "using $bin ($v)"
    if ($env:GITHUB_OUTPUT) {
        Add-Content -LiteralPath $env:GITHUB_OUTPUT -Value "path=$bin" -Encoding utf8
    } else {
        Write-Output $bin
    }
    exit 0
}

$cacheRoot = ''
$cacheDir = ''
if ($version -and $env:RUNNER_TOOL_CACHE) {
    $cacheRoot = Join-Path (Join-Path $env:RUNNER_TOOL_CACHE 'artifetch') $version.TrimStart('v')
    $cacheDir = Join-Path $cacheRoot $archLc
    $marker = Join-Path $cacheRoot "$archLc.complete"
    $cached = Join-Path $cacheDir "artifetch$exe"
    if ($expected -and (Test-Path -LiteralPath $cached) -and (Test-Path -LiteralPath $marker) -and
        ((Get-Content -LiteralPath $marker -Raw).Trim() -eq $expected)) {
        Log "tool cache hit: artifetch $version ($target)"
        Emit $cached
    }
}

$work = Join-Path $temp ("artifetch-install." + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $work | Out-Null

# Returns $true on success; $false when unreachable or refused.
function Download([string]$url, [string]$out, [int]$max) {
    $delay = $firstDelay
    for ($try = 1; ; $try++) {
        $code = 0
        try {
            Invoke-WebRequest -Uri $url -OutFile $out -UseBasicParsing -TimeoutSec 300 -MaximumRedirection 10
            return $true
        } catch {
            if ($_.Exception.Response) { $code = [int]$_.Exception.Response.StatusCode }
        }
        if ($code -in 401, 403, 404, 410) { Log "${url}: HTTP $code (not retried)"; return $false }
        if ($try -ge $max) { Log "${url}: HTTP $code after $try attempt(s); giving up"; return $false }
        Log "${url}: HTTP $code (attempt $try of $max); retrying in ${delay}s"
        Start-Sleep -Seconds $delay
        $delay *= 2
    }
}

function FetchVerified([string]$what, [string]$url, [int]$max) {
    Log "downloading $asset from ${what}: $url"
    $file = Join-Path $work $asset
    if (-not (Download $url $file $max)) { return $false }
    $actual = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $expected) {
        Die "checksum mismatch for $asset from $what ($url): expected sha256 $expected (checksums.txt at this action's ref), got $actual. The file was not used."
    }
    Log "sha256 verified: $actual"
    $x = Join-Path $work 'x'
    New-Item -ItemType Directory -Path $x | Out-Null
    & tar -xzf $file -C $x
    if ($LASTEXITCODE -ne 0) { Die "$asset from ${what}: verified, but not a readable .tar.gz" }
    if (-not (Test-Path -LiteralPath (Join-Path $x "artifetch$exe"))) {
        Die "$asset from ${what}: verified, but holds no artifetch$exe at its top level"
    }
    if ($cacheDir) {
        if (Test-Path -LiteralPath $cacheDir) { Remove-Item -Recurse -Force -LiteralPath $cacheDir }
        New-Item -ItemType Directory -Force -Path $cacheRoot | Out-Null
        Move-Item -LiteralPath $x -Destination $cacheDir
        Set-Content -LiteralPath (Join-Path $cacheRoot "$archLc.complete") -Value $expected -NoNewline
        Emit (Join-Path $cacheDir "artifetch$exe")
    }
    Emit (Join-Path $x "artifetch$exe")
}

$tried = @()
if (-not $version -or -not $expected) {
    Log "no checksum for $asset in $checksums (an unreleased ref?): refusing to download a prebuilt binary"
    $tried += 'download (no checksum recorded at this ref)'
} else {
    $releaseAttempts = if ($mirror) { 1 } else { $attempts }
    if (-not (FetchVerified 'the release' "$releaseBase/$version/$asset" $releaseAttempts)) {
        $tried += "release $releaseBase/$version/$asset (unreachable)"
    }
    if ($mirror) {
        if (-not (FetchVerified 'the mirror (binary-url)' "$mirror/$asset" $attempts)) {
            $tried += "binary-url $mirror/$asset (unreachable)"
        }
    } else {
        $tried += 'binary-url (not set)'
    }
}

if (Get-Command cargo -ErrorAction SilentlyContinue) {
    $root = Join-Path $temp 'artifetch-cargo'
    Log "building from source: cargo install --locked --path $actionPath --root $root"
    # A kept target dir makes a later step's rebuild a quick no-op.
    if (-not $env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR = Join-Path $root 'target' }
    & cargo install --locked --path $actionPath --root $root | Out-Host
    if ($LASTEXITCODE -ne 0) { Die "cargo install --locked --path $actionPath failed (see above)" }
    Emit (Join-Path (Join-Path $root 'bin') "artifetch$exe")
}

$tried += 'cargo (not on PATH)'
Die "cannot install artifetch ($target): tried $($tried -join '; '). Either set the input 'binary-url' to a mirror of this release's assets (verified against checksums.txt) or put Rust's cargo on the runner's PATH to build from source."
