# Installs the artifetch binary on a Windows runner and writes its path as the step output `path`.
# The PowerShell twin of scripts/install.sh (same decisions, sources, order, checks, messages and
# environment; read that file's header). In short: a prebuilt binary only when checksums.txt at the
# action's ref names Cargo.toml's version and records this platform's archive and binary SHA-256;
# tool cache (re-hashed on every hit) -> the release of the repository checksums.txt names ->
# INPUT_BINARY_URL mirror; otherwise, or when nothing could be downloaded, `cargo install` of this
# ref with a warning that says why; else an error naming the options. A checksum mismatch is fatal.
# Windows on Arm gets the x64 build (it runs under emulation); other platforms go to cargo.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue' # the progress bar slows Invoke-WebRequest down a lot
Set-StrictMode -Version 3.0

function Log([string]$msg) { [Console]::Error.WriteLine("artifetch install: $msg") }
# A warning or an error, said once: in Actions a workflow command on stdout (the runner shows it
# in the log and as an annotation; one line, `%` escaped, so nothing in it starts another
# command), elsewhere on stderr.
function Say([string]$level, [string]$msg) {
    if ($env:GITHUB_ACTIONS -eq 'true') {
        $m = $msg.Replace('%', '%25').Replace("`r", '%0D').Replace("`n", '%0A')
        [Console]::Out.WriteLine("::$level title=artifetch install::$m")
    } else {
        Log "${level}: $msg"
    }
}
function Die([string]$msg) {
    Say 'error' $msg
    exit 1
}
function Warn([string]$msg) {
    Say 'warning' $msg
}
# An exception's message on one line, cut to 300 characters.
function OneLine([string]$text) {
    $t = ($text -replace '[\r\n\t]+', ' ').Trim()
    if ($t.Length -gt 300) { $t = $t.Substring(0, 300) }
    if (-not $t) { $t = 'no message' }
    return $t
}

$actionPath = if ($env:GITHUB_ACTION_PATH) { $env:GITHUB_ACTION_PATH } else { Split-Path -Parent $PSScriptRoot }
$checksums = if ($env:ARTIFETCH_CHECKSUMS) { $env:ARTIFETCH_CHECKSUMS } else { Join-Path $actionPath 'checksums.txt' }
$mirror = if ($env:INPUT_BINARY_URL) { $env:INPUT_BINARY_URL.Trim().TrimEnd('/') } else { '' }
$attempts = if ($env:ARTIFETCH_DOWNLOAD_ATTEMPTS) { [int]$env:ARTIFETCH_DOWNLOAD_ATTEMPTS } else { 4 }
$firstDelay = if ($env:ARTIFETCH_RETRY_DELAY) { [int]$env:ARTIFETCH_RETRY_DELAY } else { 2 }
$temp = if ($env:RUNNER_TEMP) { $env:RUNNER_TEMP } else { [IO.Path]::GetTempPath() }
# ARTIFETCH_INSTALL=prebuilt-only: no source build; its fallbacks become errors.
$policy = if ($env:ARTIFETCH_INSTALL) { $env:ARTIFETCH_INSTALL } else { 'auto' }
if ($policy -ne 'auto' -and $policy -ne 'prebuilt-only') {
    Die "ARTIFETCH_INSTALL='$policy': expected prebuilt-only (no source build) or auto (the default)"
}

$os = "$env:RUNNER_OS"
$arch = "$env:RUNNER_ARCH"
if (-not $os -or -not $arch) {
    Die "RUNNER_OS='$os' RUNNER_ARCH='$arch': both must be set (they are on every Actions runner)"
}
$exe = '.exe'
$target = ''
switch ("$os/$arch") {
    'Windows/X64' { $target = 'x86_64-pc-windows-msvc' }
    'Windows/ARM64' { $target = 'x86_64-pc-windows-msvc' } # x64 under emulation
}
$asset = "artifetch-$target.tar.gz"
$binaryEntry = "artifetch-$target/artifetch$exe"
$archLc = $arch.ToLowerInvariant()

# checksums.txt: "# version:", "# repository:", "# server:" and "<sha256>  <name>" lines.
$version = ''; $repository = ''; $server = ''; $archiveSum = ''; $binarySum = ''
if (Test-Path -LiteralPath $checksums -PathType Leaf) {
    foreach ($line in Get-Content -LiteralPath $checksums) {
        if ($line -match '^#\s+(version|repository|server):\s+(\S+)') {
            switch ($Matches[1]) {
                'version' { if (-not $version) { $version = $Matches[2] } }
                'repository' { if (-not $repository) { $repository = $Matches[2] } }
                'server' { if (-not $server) { $server = $Matches[2] } }
            }
            continue
        }
        if ($target -and $line -match '^([0-9a-fA-F]{64})\s+\*?(\S+)$') {
            if ($Matches[2] -eq $asset -and -not $archiveSum) { $archiveSum = $Matches[1].ToLowerInvariant() }
            if ($Matches[2] -eq $binaryEntry -and -not $binarySum) { $binarySum = $Matches[1].ToLowerInvariant() }
        }
    }
}
if (-not $server) { $server = 'https://github.com' }
$recordedServer = $server.TrimEnd('/')
if ($env:ARTIFETCH_RELEASE_SERVER) { $server = $env:ARTIFETCH_RELEASE_SERVER }
$server = $server.TrimEnd('/')
# [package] version in Cargo.toml at the same ref.
$cargoVersion = ''
$cargoToml = Join-Path $actionPath 'Cargo.toml'
if (Test-Path -LiteralPath $cargoToml -PathType Leaf) {
    $inPackage = $false
    foreach ($line in Get-Content -LiteralPath $cargoToml) {
        if ($line -match '^\[') { $inPackage = ($line.Trim() -eq '[package]'); continue }
        if ($inPackage -and $line -match '^version\s*=\s*"([^"]+)"') { $cargoVersion = $Matches[1]; break }
    }
}

# Why no prebuilt binary may be used at this ref; empty when one may.
$noPrebuilt = ''
if (-not $target) {
    $noPrebuilt = "there is no prebuilt artifetch for RUNNER_OS='$os' RUNNER_ARCH='$arch' (prebuilt: Linux X64/ARM64, macOS X64/ARM64, Windows X64/ARM64)"
} elseif (-not $version) {
    $noPrebuilt = 'this ref of the action has no release checksums (checksums.txt names no version): a branch, a pull request, a fork or a commit that no version tag names'
} elseif ($version -ne "v$cargoVersion") {
    $said = if ($cargoVersion) { "v$cargoVersion" } else { 'no version' }
    $noPrebuilt = "checksums.txt is for $version but Cargo.toml at this ref says ${said}: this code is not that release"
} elseif (-not $repository) {
    $noPrebuilt = "checksums.txt for $version names no repository to download from"
} elseif (-not $archiveSum -or -not $binarySum) {
    $noPrebuilt = "checksums.txt for $version has no SHA-256 for $asset and $binaryEntry"
}

function Sha256Of([string]$path) {
    return (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
}

# Checks that the binary runs and writes the step output. Its output is never logged as is (with
# GITHUB_TOKEN set it could carry a workflow command): only a version number read from it.
function Emit([string]$bin) {
    if (-not (Test-Path -LiteralPath $bin -PathType Leaf)) { Die "$bin is missing after the install" }
    foreach ($name in 'GITHUB_TOKEN', 'INPUT_GITHUB_TOKEN') {
        Remove-Item -LiteralPath "Env:$name" -ErrorAction SilentlyContinue
    }
    $actions = $env:GITHUB_ACTIONS
    $text = ''
    try {
        $env:GITHUB_ACTIONS = $null
        $text = (& $bin --version 2>$null | Out-String)
        $rc = $LASTEXITCODE
        $env:GITHUB_ACTIONS = $actions
    } catch {
        $env:GITHUB_ACTIONS = $actions
        Die "$bin does not run on this runner ($os $arch): $(OneLine $_.Exception.Message)"
    }
    if ($rc -ne 0) { Die "$bin does not run on this runner ($os $arch): '--version' exited with $rc" }
    $ver = 'of unrecognised version'
    if ($text -match '(?m)^artifetch (\d+\.\d+\.\d+[0-9A-Za-z.+-]*)') { $ver = $Matches[1] }
    if ($bin -match '[\r\n]') { Die 'the install path contains a line break' }
    Log "using $bin (artifetch $ver)"
    if ($env:GITHUB_OUTPUT) {
        try {
            Add-Content -LiteralPath $env:GITHUB_OUTPUT -Value "path=$bin" -Encoding utf8
        } catch {
            Die "cannot write the step output to GITHUB_OUTPUT ($env:GITHUB_OUTPUT): $(OneLine $_.Exception.Message)"
        }
    } else {
        [Console]::Out.WriteLine($bin)
    }
    exit 0
}

# Builds this ref of the action from source, or fails naming what was tried.
function BuildFromSource([string]$why, [string]$tried, [string]$hint) {
    if ($policy -eq 'prebuilt-only') {
        $triedNote = if ($tried) { " (tried: $tried)" } else { '' }
        $for = if ($target) { " ($target)" } else { '' }
        Die "cannot install the prebuilt artifetch${for}: $why$triedNote. ARTIFETCH_INSTALL=prebuilt-only turns the source build off: use a release of the action (uses: <owner>/artifetch@vX.Y.Z), set binary-url to a mirror of its assets, or pre-seed the tool cache"
    }
    if (-not (Get-Command cargo -ErrorAction SilentlyContinue)) {
        $t = if ($tried) { "$tried; " } else { '' }
        $for = if ($target) { " ($target)" } else { '' }
        Die "cannot install artifetch${for}: $why. Tried: ${t}cargo (not on PATH). $hint"
    }
    $triedNote = if ($tried) { " (tried: $tried)" } else { '' }
    Warn "building artifetch from source with cargo: $why$triedNote. This needs crates.io (or a crates mirror configured for cargo) and takes a few minutes."
    $root = Join-Path $temp 'artifetch-cargo'
    Log "cargo install --locked --path $actionPath --root $root"
    # A kept target dir makes a later step's rebuild a quick no-op.
    if (-not $env:CARGO_TARGET_DIR) { $env:CARGO_TARGET_DIR = Join-Path $root 'target' }
    # stdout to the log's stderr side; cargo's own stderr is left alone (no ErrorRecords from it).
    & cargo install --locked --path $actionPath --root $root | ForEach-Object { [Console]::Error.WriteLine("$_") }
    if ($LASTEXITCODE -ne 0) { Die "cargo install --locked --path $actionPath failed (exit $LASTEXITCODE, see above)" }
    Emit (Join-Path (Join-Path $root 'bin') "artifetch$exe")
}

$sourceHint = "Use a release of the action (uses: <owner>/artifetch@vX.Y.Z, @vX or the commit SHA such a tag names) or put Rust's cargo on the runner's PATH."
if ($noPrebuilt) { BuildFromSource $noPrebuilt '' $sourceHint }

# The tool cache: trusted only when the binary's SHA-256 is the recorded one.
$cacheDir = ''
if ($env:RUNNER_TOOL_CACHE) {
    $cacheDir = Join-Path (Join-Path (Join-Path $env:RUNNER_TOOL_CACHE 'artifetch') $version.TrimStart('v')) $archLc
    $cached = Join-Path $cacheDir "artifetch$exe"
    if (Test-Path -LiteralPath $cached -PathType Leaf) {
        $cachedSum = try { Sha256Of $cached } catch { 'unreadable' }
        if ($cachedSum -eq $binarySum) {
            Log "tool cache hit: artifetch $version ($target), sha256 verified: $cachedSum"
            Emit $cached
        }
        Warn "ignoring $cached in the tool cache: its sha256 $cachedSum is not the $binarySum that checksums.txt records for $version (another build, or planted by an earlier job); downloading again"
    }
}

# Windows' own bsdtar: a Git for Windows tar earlier on PATH reads `C:\...` as a remote host.
$tar = Join-Path $env:SystemRoot 'System32\tar.exe'
if (-not (Test-Path -LiteralPath $tar -PathType Leaf)) {
    BuildFromSource "$tar is missing: cannot extract the release binary" '' 'Use a Windows image that has tar.exe (Windows 10 1803 and later) or put Rust''s cargo on PATH.'
}

$work = Join-Path $temp ('artifetch-install.' + [guid]::NewGuid().ToString('N'))
try {
    New-Item -ItemType Directory -Path $work -Force | Out-Null
} catch {
    Die "cannot create a temporary directory in $temp (RUNNER_TEMP): $(OneLine $_.Exception.Message)"
}

$script:dlFailure = ''
# Returns $true on success; $false when not there or unreachable, with $script:dlFailure saying which.
function Download([string]$url, [string]$out, [int]$max, [string]$where) {
    $delay = $firstDelay
    for ($try = 1; ; $try++) {
        $code = 0
        $err = ''
        try {
            Invoke-WebRequest -Uri $url -OutFile $out -UseBasicParsing -TimeoutSec 300 -MaximumRedirection 10
            return $true
        } catch {
            $err = OneLine $_.Exception.Message
            # A DNS, connect or TLS failure has no Response: under strict mode it must not be read.
            $response = $null
            if ($_.Exception.PSObject.Properties['Response']) { $response = $_.Exception.Response }
            if ($null -ne $response) {
                try { $code = [int]$response.StatusCode } catch { $code = 0 }
            }
        }
        if ($code -eq 404 -or $code -eq 410) {
            $script:dlFailure = "$asset is not $where (HTTP $code from $url)"
            Log $script:dlFailure
            return $false
        }
        if ($code -eq 401 -or $code -eq 403) {
            $script:dlFailure = "$url refused the download (HTTP $code)"
            Log $script:dlFailure
            return $false
        }
        if ($code -ne 0) { $err = "HTTP $code" }
        if ($try -ge $max) {
            $script:dlFailure = "$url unreachable after $try attempt(s): $err"
            Log $script:dlFailure
            return $false
        }
        Log "${url}: $err (attempt $try of $max); retrying in ${delay}s"
        Start-Sleep -Seconds $delay
        $delay *= 2
    }
}

# Puts the verified binary into the tool cache (or, when that cannot be written, under RUNNER_TEMP
# for this job) and emits it.
function Place([string]$bin) {
    if ($cacheDir) {
        try {
            if (Test-Path -LiteralPath $cacheDir) { Remove-Item -Recurse -Force -LiteralPath $cacheDir }
            New-Item -ItemType Directory -Force -Path $cacheDir | Out-Null
            Copy-Item -LiteralPath $bin -Destination (Join-Path $cacheDir "artifetch$exe")
            Emit (Join-Path $cacheDir "artifetch$exe")
        } catch {
            Warn "cannot write to the tool cache ($cacheDir): $(OneLine $_.Exception.Message); using RUNNER_TEMP for this job instead"
        }
    }
    $dest = Join-Path $temp ('artifetch-bin.' + [guid]::NewGuid().ToString('N'))
    try {
        New-Item -ItemType Directory -Force -Path $dest | Out-Null
        Copy-Item -LiteralPath $bin -Destination (Join-Path $dest "artifetch$exe")
    } catch {
        Die "cannot write $dest (RUNNER_TEMP): $(OneLine $_.Exception.Message)"
    }
    Emit (Join-Path $dest "artifetch$exe")
}

# Installs and exits on success; returns $false if not there or unreachable. A mismatch is fatal.
function FetchVerified([string]$what, [string]$url, [int]$max, [string]$where) {
    Log "downloading $asset from ${what}: $url"
    $file = Join-Path $work $asset
    $x = Join-Path $work 'x'
    Remove-Item -Recurse -Force -LiteralPath $file, $x -ErrorAction SilentlyContinue
    if (-not (Download $url $file $max $where)) { return $false }
    $actual = Sha256Of $file
    if ($actual -ne $archiveSum) {
        Die "checksum mismatch for $asset from $what ($url): expected sha256 $archiveSum (checksums.txt at this action's ref), got $actual. The file was not used."
    }
    Log "sha256 verified: $actual"
    New-Item -ItemType Directory -Path $x | Out-Null
    & $tar -xzf $file -C $x | Out-Null
    if ($LASTEXITCODE -ne 0) { Die "$asset from ${what}: verified, but $tar cannot extract it (exit $LASTEXITCODE)" }
    $bin = Join-Path $x "artifetch$exe"
    if (-not (Test-Path -LiteralPath $bin -PathType Leaf)) {
        Die "$asset from ${what}: verified, but holds no artifetch$exe at its top level"
    }
    $actual = Sha256Of $bin
    if ($actual -ne $binarySum) {
        Die "checksum mismatch for artifetch$exe inside ${asset}: expected sha256 $binarySum, got $actual. Not used."
    }
    Place $bin
}

$releaseUrl = "$server/$repository/releases/download/$version/$asset"
$tried = @()
# With a mirror configured, or on a runner of another server (GHES) than the release's, the
# release gets one attempt: that runner likely cannot reach it, and retries would cost every job
# a minute.
$runnerServer = if ($env:GITHUB_SERVER_URL) { $env:GITHUB_SERVER_URL.TrimEnd('/') } else { '' }
$releaseAttempts = $attempts
if ($mirror) {
    $releaseAttempts = 1
} elseif ($runnerServer -and $runnerServer -ne $recordedServer) {
    $releaseAttempts = 1
    Log "this runner's server is $runnerServer, the release is on ${recordedServer}: one try (set binary-url to a mirror, or pre-seed the tool cache, on runners that cannot reach it)"
}
if (-not (FetchVerified 'the release' $releaseUrl $releaseAttempts "in the release $version of $repository")) {
    $tried += "release: $script:dlFailure"
}
if ($mirror) {
    if (-not (FetchVerified 'the mirror (binary-url)' "$mirror/$asset" $attempts 'on the mirror (binary-url)')) {
        $tried += "binary-url: $script:dlFailure"
    }
} else {
    $tried += 'binary-url (not set)'
}
BuildFromSource "the prebuilt binary of $version could not be downloaded" ($tried -join '; ') "Either set the input 'binary-url' to a mirror of this release's assets (verified against checksums.txt) or put Rust's cargo on the runner's PATH to build from source."
