# Tests of scripts/install.ps1 on a Windows runner (CI's windows job runs this after the build;
# no PowerShell can be installed where the other tests run). Plain PowerShell, no test framework:
# each case sets the environment, runs the installer in a fresh pwsh, and checks its exit code, its
# step output and what it printed. A local HTTP server (Python's http.server) serves the release.
#
#   pwsh -NoProfile -File tests/install_ps1.ps1 -Binary target/debug/artifetch.exe
param([Parameter(Mandatory = $true)][string]$Binary)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$repoRoot = Split-Path -Parent $PSScriptRoot
$installer = Join-Path $repoRoot 'scripts/install.ps1'
$pwsh = (Get-Process -Id $PID).Path
$systemTar = Join-Path $env:SystemRoot 'System32\tar.exe'
$scratch = Join-Path ([IO.Path]::GetTempPath()) ('artifetch-ps1-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $scratch | Out-Null
$failures = 0

function Check([bool]$ok, [string]$what) {
    if ($ok) { Write-Host "  ok: $what" } else { Write-Host "  FAILED: $what"; $script:failures++ }
}
function Sha256([string]$path) { (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant() }

# --- a release: the real binary in an archive made by Windows' tar, served under owner/artifetch
$target = 'x86_64-pc-windows-msvc'
$asset = "artifetch-$target.tar.gz"
$stage = Join-Path $scratch 'stage'
New-Item -ItemType Directory -Path $stage | Out-Null
Copy-Item -LiteralPath $Binary -Destination (Join-Path $stage 'artifetch.exe')
$site = Join-Path $scratch 'site'
$releaseDir = Join-Path $site 'owner/artifetch/releases/download/v9.9.9'
New-Item -ItemType Directory -Path $releaseDir | Out-Null
& $systemTar -czf (Join-Path $releaseDir $asset) -C $stage artifetch.exe
if ($LASTEXITCODE -ne 0) { throw 'tar failed' }
$archiveSum = Sha256 (Join-Path $releaseDir $asset)
$binarySum = Sha256 (Join-Path $stage 'artifetch.exe')

$port = 8765
$server = Start-Process -FilePath python -ArgumentList '-m', 'http.server', "$port", '--bind', '127.0.0.1', '--directory', $site -PassThru -WindowStyle Hidden
for ($i = 0; $i -lt 50; $i++) {
    try { Invoke-WebRequest -Uri "http://127.0.0.1:$port/" -UseBasicParsing | Out-Null; break } catch { Start-Sleep -Milliseconds 200 }
}

# The action directory: checksums.txt as scripts/release/checksums.sh writes it, Cargo.toml.
$action = Join-Path $scratch 'action'
New-Item -ItemType Directory -Path $action | Out-Null
Set-Content -LiteralPath (Join-Path $action 'Cargo.toml') -Value "[package]`nname = `"artifetch`"`nversion = `"9.9.9`"`n"
function Write-Checksums([string]$archive, [string]$binary) {
    Set-Content -LiteralPath (Join-Path $action 'checksums.txt') -Value @(
        '# test checksums',
        '# version: v9.9.9',
        '# repository: owner/artifetch',
        "# server: http://127.0.0.1:$port",
        "$archive  $asset",
        "$binary  artifetch-$target/artifetch.exe"
    )
}
Write-Checksums $archiveSum $binarySum

# A PATH without cargo, whose first entry holds a `tar.cmd` that fails: the installer must use
# System32\tar.exe, never a tar found on PATH.
$fakeBin = Join-Path $scratch 'fakebin'
New-Item -ItemType Directory -Path $fakeBin | Out-Null
Set-Content -LiteralPath (Join-Path $fakeBin 'tar.cmd') -Value '@exit /b 7'
$cleanPath = "$fakeBin;$env:SystemRoot\System32;$env:SystemRoot;$env:SystemRoot\System32\WindowsPowerShell\v1.0"

# Runs the installer with these variables (and nothing else of ours); returns exit code, output
# path, stdout and stderr.
function Install([hashtable]$vars) {
    $names = 'RUNNER_OS', 'RUNNER_ARCH', 'RUNNER_TOOL_CACHE', 'RUNNER_TEMP', 'GITHUB_OUTPUT', 'GITHUB_ACTION_PATH',
    'GITHUB_ACTIONS', 'INPUT_BINARY_URL', 'ARTIFETCH_RELEASE_SERVER', 'ARTIFETCH_RETRY_DELAY',
    'ARTIFETCH_DOWNLOAD_ATTEMPTS', 'GITHUB_TOKEN', 'PATH', 'ARTIFETCH_INSTALL', 'GITHUB_SERVER_URL'
    $saved = @{}
    foreach ($n in $names) { $saved[$n] = [Environment]::GetEnvironmentVariable($n) }
    $run = Join-Path $scratch ('run-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $run, "$run/temp", "$run/cache" | Out-Null
    $defaults = @{
        RUNNER_OS = 'Windows'; RUNNER_ARCH = 'X64'; RUNNER_TOOL_CACHE = "$run/cache"; RUNNER_TEMP = "$run/temp"
        GITHUB_OUTPUT = "$run/output"; GITHUB_ACTION_PATH = $action; GITHUB_ACTIONS = 'true'
        INPUT_BINARY_URL = ''; ARTIFETCH_RELEASE_SERVER = ''; ARTIFETCH_RETRY_DELAY = '0'
        ARTIFETCH_DOWNLOAD_ATTEMPTS = '2'; GITHUB_TOKEN = ''; PATH = $cleanPath
        ARTIFETCH_INSTALL = ''; GITHUB_SERVER_URL = ''
    }
    foreach ($k in $vars.Keys) { $defaults[$k] = $vars[$k] }
    try {
        foreach ($n in $names) { [Environment]::SetEnvironmentVariable($n, $defaults[$n]) }
        $stdout = & $pwsh -NoProfile -NonInteractive -File $installer 2>"$run/stderr" | Out-String
        $code = $LASTEXITCODE
    } finally {
        foreach ($n in $names) { [Environment]::SetEnvironmentVariable($n, $saved[$n]) }
    }
    $path = ''
    if (Test-Path -LiteralPath "$run/output") {
        foreach ($line in Get-Content -LiteralPath "$run/output") { if ($line -like 'path=*') { $path = $line.Substring(5) } }
    }
    # Err: everything the installer said, stdout's annotations (each message is said once, in
    # Actions as an annotation) and stderr's log lines.
    $stderr = Get-Content -Raw -LiteralPath "$run/stderr"
    return [pscustomobject]@{ Code = $code; Path = $path; Out = $stdout; Err = "$stdout$stderr"; Run = $run }
}

try {
    Write-Host 'release download, verified, into the tool cache (a failing tar.cmd first on PATH)'
    $r = Install @{ GITHUB_TOKEN = 'ghs_secret_value' }
    Check ($r.Code -eq 0) "exit 0 (got $($r.Code)): $($r.Err)"
    Check ($r.Path -eq (Join-Path "$($r.Run)/cache" 'artifetch\9.9.9\x64\artifetch.exe')) "path in the tool cache: $($r.Path)"
    Check ($r.Err -match 'sha256 verified') 'archive verified'
    Check (-not ("$($r.Out)$($r.Err)" -match 'ghs_secret_value|add-mask')) 'no binary output, no token in the log'

    Write-Host 'cache hit re-hashes; a planted binary is refused and replaced'
    $cache = $r.Run + '/cache'
    $again = Install @{ RUNNER_TOOL_CACHE = $cache }
    Check ($again.Code -eq 0 -and $again.Err -match 'tool cache hit') "cache hit: $($again.Err)"
    Copy-Item -Force -LiteralPath (Join-Path $env:SystemRoot 'System32\whoami.exe') -Destination $r.Path
    $planted = Install @{ RUNNER_TOOL_CACHE = $cache }
    Check ($planted.Code -eq 0) "exit 0 after a planted binary: $($planted.Err)"
    Check ($planted.Out -match '::warning title=artifetch install::ignoring') 'warning about the planted binary'
    Check ((Sha256 $r.Path) -eq $binarySum) 'the cached binary is the release one again'

    Write-Host 'Windows on Arm gets the x64 build'
    $arm = Install @{ RUNNER_ARCH = 'ARM64' }
    Check ($arm.Code -eq 0 -and $arm.Path -like '*\artifetch\9.9.9\arm64\artifetch.exe') "ARM64: $($arm.Path) $($arm.Err)"

    Write-Host 'unwritable tool cache: RUNNER_TEMP instead'
    $file = Join-Path $scratch 'cache-is-a-file'
    Set-Content -LiteralPath $file -Value 'x'
    $unwritable = Install @{ RUNNER_TOOL_CACHE = $file }
    Check ($unwritable.Code -eq 0 -and $unwritable.Path -like "$($unwritable.Run)*temp*") "path under RUNNER_TEMP: $($unwritable.Path) $($unwritable.Err)"
    Check ($unwritable.Out -match 'cannot write to the tool cache') 'warning about the tool cache'

    Write-Host 'unreachable release (connection refused): no strict-mode crash, the error names the options'
    $down = Install @{ ARTIFETCH_RELEASE_SERVER = 'http://127.0.0.1:9' }
    Check ($down.Code -eq 1) "exit 1 (got $($down.Code))"
    Check ($down.Err -match 'unreachable after 2 attempt' -and $down.Err -match "set the input 'binary-url'" -and $down.Err -match 'cargo \(not on PATH\)') "error: $($down.Err)"

    Write-Host 'the mirror (binary-url) when the release is unreachable'
    $mirror = Install @{ ARTIFETCH_RELEASE_SERVER = 'http://127.0.0.1:9'; INPUT_BINARY_URL = "http://127.0.0.1:$port/owner/artifetch/releases/download/v9.9.9/" }
    Check ($mirror.Code -eq 0 -and $mirror.Err -match 'from the mirror') "mirror: $($mirror.Err)"

    Write-Host 'not in the release (404)'
    $missing = Install @{ ARTIFETCH_RELEASE_SERVER = "http://127.0.0.1:$port/nowhere" }
    Check ($missing.Code -eq 1 -and $missing.Err -match 'is not in the release v9.9.9 of owner/artifetch \(HTTP 404') "404: $($missing.Err)"

    Write-Host 'checksum mismatch'
    Write-Checksums ('0' * 64) $binarySum
    $bad = Install @{}
    Check ($bad.Code -eq 1 -and $bad.Err -match 'checksum mismatch' -and -not $bad.Path) "mismatch: $($bad.Err)"
    Write-Checksums $archiveSum $binarySum

    Write-Host 'unsupported platform and a ref without release checksums reach the cargo fallback'
    $x86 = Install @{ RUNNER_ARCH = 'X86' }
    Check ($x86.Code -eq 1 -and $x86.Err -match "no prebuilt artifetch for RUNNER_OS='Windows' RUNNER_ARCH='X86'" -and $x86.Err -match 'cargo \(not on PATH\)') "X86: $($x86.Err)"
    Set-Content -LiteralPath (Join-Path $action 'checksums.txt') -Value '# no release checksums'
    $branch = Install @{}
    Check ($branch.Code -eq 1 -and $branch.Err -match 'no release checksums' -and $branch.Err -match 'cargo \(not on PATH\)') "branch: $($branch.Err)"
    Write-Checksums $archiveSum $binarySum
    Set-Content -LiteralPath (Join-Path $action 'Cargo.toml') -Value "[package]`nversion = `"9.10.0`"`n"
    $other = Install @{}
    Check ($other.Code -eq 1 -and $other.Err -match 'checksums.txt is for v9.9.9 but Cargo.toml at this ref says v9.10.0') "version mismatch: $($other.Err)"

    Write-Host 'ARTIFETCH_INSTALL=prebuilt-only: the source fallback is an error naming the policy'
    $strict = Install @{ ARTIFETCH_INSTALL = 'prebuilt-only'; ARTIFETCH_RELEASE_SERVER = 'http://127.0.0.1:9' }
    Check ($strict.Code -eq 1 -and $strict.Err -match 'ARTIFETCH_INSTALL=prebuilt-only turns the source build off' -and -not ($strict.Err -match 'cargo \(not on PATH\)')) "prebuilt-only: $($strict.Err)"
    $unknown = Install @{ ARTIFETCH_INSTALL = 'source' }
    Check ($unknown.Code -eq 1 -and $unknown.Err -match "ARTIFETCH_INSTALL='source'") "unknown policy: $($unknown.Err)"

    Write-Host 'a runner of another server (GHES): one try at the release'
    $ghes = Install @{ GITHUB_SERVER_URL = 'https://ghes.example.com'; ARTIFETCH_RELEASE_SERVER = 'http://127.0.0.1:9' }
    Check ($ghes.Code -eq 1 -and $ghes.Err -match 'one try' -and $ghes.Err -match 'after 1 attempt') "ghes: $($ghes.Err)"

    Write-Host 'each message once: the error is not repeated on stderr'
    Check (([regex]::Matches($ghes.Err, 'cannot install artifetch')).Count -eq 1) "said twice: $($ghes.Err)"
} finally {
    Stop-Process -Id $server.Id -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force -LiteralPath $scratch -ErrorAction SilentlyContinue
}

if ($failures -gt 0) { Write-Host "$failures check(s) failed"; exit 1 }
Write-Host 'all install.ps1 checks passed'
