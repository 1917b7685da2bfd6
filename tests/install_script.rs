//! scripts/install.sh against a local HTTP server serving fake release assets: the platform
//! picked, checksums enforced, the tool cache, the mirror, retries, and the fallbacks.
//!
//! Each run gets a cleared environment with an explicit PATH (`/usr/bin:/bin`, plus a directory
//! of fake tools when a test wants one), so nothing ambient (a real cargo, proxies, a real tool
//! cache) leaks in. Unix only: on Windows `bash` may be WSL's, and the PowerShell twin is
//! exercised by .github/workflows/self-test.yml on a real Windows runner.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use sha2::{Digest, Sha256};
use tempfile::TempDir;

const VERSION: &str = "v9.9.9";

const PLATFORMS: &[(&str, &str, &str, &str)] = &[
    ("Linux", "X64", "x86_64-unknown-linux-musl", ""),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl", ""),
    ("macOS", "X64", "x86_64-apple-darwin", ""),
    ("macOS", "ARM64", "aarch64-apple-darwin", ""),
    ("Windows", "X64", "x86_64-pc-windows-msvc", ".exe"),
];

/// Responses per path, served in order; the last one repeats. Unknown paths get 404.
type Routes = BTreeMap<String, Vec<(u16, Vec<u8>)>>;

/// A tiny HTTP/1.1 server on 127.0.0.1 that logs every request path.
struct Server {
    port: u16,
    routes: Arc<Mutex<Routes>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, l) = (r.clone(), l.clone());
                thread::spawn(move || serve(stream, &r, &l));
            }
        });
        Server { port, routes, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn route(&self, path: &str, responses: Vec<(u16, Vec<u8>)>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), responses);
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, routes: &Mutex<Routes>, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(path.clone());
    let (status, body) = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(queue) if queue.len() > 1 => queue.remove(0),
            Some(queue) if !queue.is_empty() => queue[0].clone(),
            _ => (404, b"not found".to_vec()),
        }
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read_to_end(&mut Vec::new());
}

fn write_exec(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn asset_name(target: &str) -> String {
    format!("artifetch-{target}.tar.gz")
}

/// A release asset whose "binary" is a script that prints the version and its target.
fn fake_asset(dir: &Path, target: &str, exe: &str) -> Vec<u8> {
    let stage = dir.join(format!("stage-{target}"));
    write_exec(
        &stage.join(format!("artifetch{exe}")),
        &format!("#!/bin/sh\necho 'artifetch 9.9.9 (fake {target})'\n"),
    );
    let out = dir.join(asset_name(target));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .arg(&stage)
        .arg(format!("artifetch{exe}"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A scratch runner: action dir with checksums.txt, tool cache, temp, output file, fake tools.
struct Runner {
    dir: TempDir,
    server: Server,
    assets: BTreeMap<String, Vec<u8>>,
    env: BTreeMap<String, String>,
}

struct Outcome {
    code: i32,
    stderr: String,
    path: Option<String>,
}

impl Runner {
    /// Assets for every platform, served from the release path, and their checksums recorded.
    fn new() -> Runner {
        let dir = TempDir::new().unwrap();
        let server = Server::start();
        let mut assets = BTreeMap::new();
        let mut checksums = format!("# test checksums\n# version: {VERSION}\n");
        for (_, _, target, exe) in PLATFORMS {
            let bytes = fake_asset(dir.path(), target, exe);
            checksums.push_str(&format!("{}  {}\n", sha256_hex(&bytes), asset_name(target)));
            server.route(
                &format!("/releases/download/{VERSION}/{}", asset_name(target)),
                vec![(200, bytes.clone())],
            );
            assets.insert(target.to_string(), bytes);
        }
        let action = dir.path().join("action");
        std::fs::create_dir_all(&action).unwrap();
        std::fs::write(action.join("checksums.txt"), checksums).unwrap();
        for sub in ["toolcache", "temp", "home"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let p = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
        let env = BTreeMap::from([
            (
                "PATH".to_string(),
                format!("{}:/usr/bin:/bin", p("fakebin")),
            ),
            ("HOME".to_string(), p("home")),
            ("GITHUB_ACTION_PATH".to_string(), p("action")),
            ("RUNNER_TOOL_CACHE".to_string(), p("toolcache")),
            ("RUNNER_TEMP".to_string(), p("temp")),
            ("GITHUB_OUTPUT".to_string(), p("output")),
            ("RUNNER_OS".to_string(), "Linux".to_string()),
            ("RUNNER_ARCH".to_string(), "X64".to_string()),
            (
                "ARTIFETCH_RELEASE_BASE_URL".to_string(),
                server.url("/releases/download"),
            ),
            ("ARTIFETCH_RETRY_DELAY".to_string(), "0".to_string()),
            ("ARTIFETCH_DOWNLOAD_ATTEMPTS".to_string(), "3".to_string()),
        ]);
        Runner {
            dir,
            server,
            assets,
            env,
        }
    }

    fn set(&mut self, key: &str, value: &str) -> &mut Self {
        self.env.insert(key.to_string(), value.to_string());
        self
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    fn checksums(&self, text: &str) {
        std::fs::write(self.path("action/checksums.txt"), text).unwrap();
    }

    /// A fake `cargo` first on PATH: logs its arguments and "installs" a script into --root.
    fn fake_cargo(&self) {
        write_exec(
            &self.path("fakebin/cargo"),
            &format!(
                r#"#!/bin/sh
echo "$@" >> '{log}'
root=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--root" ]; then root="$2"; fi
  shift
done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "artifetch 9.9.9 (built from source)"\n' > "$root/bin/artifetch"
chmod +x "$root/bin/artifetch"
"#,
                log = self.path("cargo.log").display()
            ),
        );
    }

    fn cargo_calls(&self) -> String {
        std::fs::read_to_string(self.path("cargo.log")).unwrap_or_default()
    }

    fn install(&self) -> Outcome {
        let _ = std::fs::remove_file(self.path("output"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
        let out = Command::new("/bin/bash")
            .arg(script)
            .env_clear()
            .envs(&self.env)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let output = std::fs::read_to_string(self.path("output")).unwrap_or_default();
        let path = output
            .lines()
            .find_map(|l| l.strip_prefix("path="))
            .map(str::to_string);
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            path,
        }
    }
}

impl Outcome {
    fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "install failed:\n{}", self.stderr);
        self.path
            .as_deref()
            .expect("path= written to GITHUB_OUTPUT")
    }

    fn failed(&self, needles: &[&str]) {
        assert_eq!(self.code, 1, "expected failure:\n{}", self.stderr);
        assert!(self.path.is_none(), "no path on failure");
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr lacks {n:?}:\n{}",
                self.stderr
            );
        }
    }
}

fn run_binary(path: &str) -> String {
    let out = Command::new(path).env_clear().output().unwrap();
    assert!(out.status.success(), "{path} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn picks_the_asset_for_each_runner_platform_and_caches_it() {
    let mut r = Runner::new();
    for (os, arch, target, exe) in PLATFORMS {
        r.set("RUNNER_OS", os).set("RUNNER_ARCH", arch);
        let before = r.server.requests().len();
        let o = r.install();
        let path = o.ok();
        let want = r
            .path("toolcache/artifetch/9.9.9")
            .join(arch.to_lowercase())
            .join(format!("artifetch{exe}"));
        assert_eq!(Path::new(path), want, "{os}/{arch}");
        assert!(
            run_binary(path).contains(&format!("fake {target}")),
            "{os}/{arch}"
        );
        assert_eq!(
            r.server.requests()[before..],
            [format!(
                "/releases/download/{VERSION}/{}",
                asset_name(target)
            )],
            "{os}/{arch}"
        );
        assert!(o.stderr.contains("sha256 verified"), "{}", o.stderr);
    }
    assert_eq!(r.assets.len(), PLATFORMS.len());
}

#[test]
fn unsupported_or_missing_platform_is_a_precise_error() {
    let mut r = Runner::new();
    for (os, arch) in [
        ("Linux", "ARM"),
        ("Windows", "ARM64"),
        ("Linux", "X86"),
        ("FreeBSD", "X64"),
    ] {
        r.set("RUNNER_OS", os).set("RUNNER_ARCH", arch);
        r.install().failed(&[
            "no prebuilt artifetch",
            &format!("RUNNER_OS='{os}' RUNNER_ARCH='{arch}'"),
            "Linux X64/ARM64, macOS X64/ARM64, Windows X64",
        ]);
    }
    r.env.remove("RUNNER_ARCH");
    r.install().failed(&["both must be set"]);
    assert!(r.server.requests().is_empty());
}

#[test]
fn checksum_mismatch_is_refused_and_nothing_is_cached() {
    let r = Runner::new();
    let path = format!(
        "/releases/download/{VERSION}/{}",
        asset_name(PLATFORMS[0].2)
    );
    r.server
        .route(&path, vec![(200, b"tampered bytes".to_vec())]);
    r.fake_cargo(); // a mismatch is fatal: no fallback may hide it
    let o = r.install();
    o.failed(&[
        "checksum mismatch",
        &sha256_hex(&r.assets[PLATFORMS[0].2]),
        &sha256_hex(b"tampered bytes"),
        "not used",
    ]);
    assert!(r.cargo_calls().is_empty());
    assert!(!r.path("toolcache/artifetch/9.9.9/x64").exists());
    assert!(!r.path("toolcache/artifetch/9.9.9/x64.complete").exists());
}

#[test]
fn cache_hit_skips_the_download() {
    let r = Runner::new();
    let first = r.install();
    let first_path = first.ok().to_string();
    assert_eq!(r.server.requests().len(), 1);
    let second = r.install();
    assert_eq!(second.ok(), first_path);
    assert!(
        second.stderr.contains("tool cache hit"),
        "{}",
        second.stderr
    );
    assert_eq!(
        r.server.requests().len(),
        1,
        "the server saw a second request"
    );

    // A cache entry for another build (marker with a different checksum) is not trusted.
    std::fs::write(
        r.path("toolcache/artifetch/9.9.9/x64.complete"),
        "0".repeat(64),
    )
    .unwrap();
    let third = r.install();
    third.ok();
    assert!(!third.stderr.contains("tool cache hit"), "{}", third.stderr);
    assert_eq!(r.server.requests().len(), 2);
}

#[test]
fn retries_with_backoff_then_succeeds() {
    let r = Runner::new();
    let path = format!(
        "/releases/download/{VERSION}/{}",
        asset_name(PLATFORMS[0].2)
    );
    let good = r.assets[PLATFORMS[0].2].clone();
    r.server
        .route(&path, vec![(503, vec![]), (502, vec![]), (200, good)]);
    let o = r.install();
    o.ok();
    assert_eq!(r.server.requests().len(), 3);
    assert!(o.stderr.contains("attempt 1 of 3"), "{}", o.stderr);
}

#[test]
fn mirror_is_used_when_the_release_is_unreachable_and_still_verified() {
    let mut r = Runner::new();
    let target = PLATFORMS[1].2;
    let release = format!("/releases/download/{VERSION}/{}", asset_name(target));
    r.server.route(&release, vec![(503, vec![])]);
    r.server.route(
        &format!("/mirror/{}", asset_name(target)),
        vec![(200, r.assets[target].clone())],
    );
    let mirror = r.server.url("/mirror/");
    r.set("RUNNER_ARCH", "ARM64")
        .set("INPUT_BINARY_URL", &mirror);
    let o = r.install();
    assert!(run_binary(o.ok()).contains(target));
    // One release attempt only (a mirror is configured), then the mirror.
    assert_eq!(
        r.server.requests(),
        [release.clone(), format!("/mirror/{}", asset_name(target))]
    );
    assert!(
        o.stderr.contains("from the mirror (binary-url)"),
        "{}",
        o.stderr
    );

    // The mirror's bytes are checked too.
    std::fs::remove_dir_all(r.path("toolcache/artifetch")).unwrap();
    r.server.route(
        &format!("/mirror/{}", asset_name(target)),
        vec![(200, b"evil".to_vec())],
    );
    r.install()
        .failed(&["checksum mismatch", "the mirror (binary-url)"]);
}

#[test]
fn falls_back_to_cargo_when_the_release_is_unreachable() {
    let mut r = Runner::new();
    // Nothing listens on this port.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    r.set(
        "ARTIFETCH_RELEASE_BASE_URL",
        &format!("http://127.0.0.1:{closed}/releases/download"),
    );
    r.fake_cargo();
    let o = r.install();
    let path = o.ok();
    assert!(run_binary(path).contains("built from source"));
    assert!(o.stderr.contains("attempt 2 of 3"), "retried: {}", o.stderr);
    let calls = r.cargo_calls();
    assert!(
        calls.contains(&format!(
            "install --locked --path {}",
            r.path("action").display()
        )),
        "{calls}"
    );
}

#[test]
fn without_cargo_or_mirror_the_error_names_both_options() {
    let r = Runner::new();
    let path = format!(
        "/releases/download/{VERSION}/{}",
        asset_name(PLATFORMS[0].2)
    );
    r.server.route(&path, vec![(500, vec![])]);
    r.install().failed(&[
        "cannot install artifetch",
        "binary-url (not set)",
        "cargo (not on PATH)",
        "set the input 'binary-url'",
        "put Rust's cargo",
    ]);
    assert_eq!(r.server.requests().len(), 3, "three attempts");
}

#[test]
fn no_recorded_checksum_refuses_every_download() {
    let mut r = Runner::new();
    r.set("INPUT_BINARY_URL", &r.server.url("/mirror"));
    for text in ["", "# comments only, an unreleased ref\n"] {
        r.checksums(text);
        r.install().failed(&[
            "no checksum for artifetch-x86_64-unknown-linux-musl.tar.gz",
            "refusing to download",
            "cargo (not on PATH)",
        ]);
    }
    std::fs::remove_file(r.path("action/checksums.txt")).unwrap();
    r.fake_cargo();
    let o = r.install();
    assert!(run_binary(o.ok()).contains("built from source"));
    assert!(r.server.requests().is_empty(), "{:?}", r.server.requests());
}
