//! scripts/install.sh against a local HTTP server serving fake release assets: the platform
//! picked, checksums of the archive and of the binary enforced, the tool cache re-hashed on every
//! hit, the mirror, retries, and the fallbacks with what they say.
//!
//! Each run gets a cleared environment with an explicit PATH (a directory of fake tools, then
//! `/usr/bin:/bin`), so nothing ambient (a real cargo, proxies, a real tool cache) leaks in.
//! "Built from source" means a fake `cargo` was called (install_support::fake_cargo): the real
//! build is what `cargo install --locked --path` does. Unix only: on Windows `bash` may be WSL's;
//! install.ps1 has its own test (tests/install_ps1.ps1, run by CI's Windows job).
//! action.yml around this script, with real release tags, is tests/it/release_e2e.rs.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install_support::{Server, fake_cargo, path_without, sha256_hex, tar_gz, write_exec};
use tempfile::TempDir;

const VERSION: &str = "v9.9.9";
const REPO: &str = "owner/artifetch";

const PLATFORMS: &[(&str, &str, &str, &str)] = &[
    ("Linux", "X64", "x86_64-unknown-linux-musl", ""),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl", ""),
    ("macOS", "X64", "x86_64-apple-darwin", ""),
    ("macOS", "ARM64", "aarch64-apple-darwin", ""),
    ("Windows", "X64", "x86_64-pc-windows-msvc", ".exe"),
];

fn asset_name(target: &str) -> String {
    format!("artifetch-{target}.tar.gz")
}

fn release_path(repo: &str, target: &str) -> String {
    format!("/{repo}/releases/download/{VERSION}/{}", asset_name(target))
}

/// A release asset whose "binary" is a script: `body` after the shebang.
fn asset_with(dir: &Path, target: &str, exe: &str, body: &str) -> (Vec<u8>, Vec<u8>) {
    let stage = dir.join(format!("stage-{target}-{}", sha256_hex(body.as_bytes())));
    let bin = format!("artifetch{exe}");
    let script = format!("#!/bin/sh\n{body}\n");
    write_exec(&stage.join(&bin), &script);
    let archive = tar_gz(&stage, &[&bin], &stage.join("out.tar.gz"));
    (archive, script.into_bytes())
}

fn fake_asset(dir: &Path, target: &str, exe: &str) -> (Vec<u8>, Vec<u8>) {
    asset_with(
        dir,
        target,
        exe,
        &format!("echo 'artifetch 9.9.9 (fake {target})'"),
    )
}

/// A scratch runner: action dir with checksums.txt and Cargo.toml, tool cache, temp, output file.
struct Runner {
    dir: TempDir,
    server: Server,
    /// target -> (archive, binary)
    assets: BTreeMap<String, (Vec<u8>, Vec<u8>)>,
    env: BTreeMap<String, String>,
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    path: Option<String>,
}

impl Runner {
    /// Assets for every platform, served from the release path, and their checksums recorded
    /// the way scripts/release/checksums.sh records them.
    fn new() -> Runner {
        let dir = TempDir::new().unwrap();
        let server = Server::start();
        let mut assets = BTreeMap::new();
        for (_, _, target, exe) in PLATFORMS {
            let (archive, binary) = fake_asset(dir.path(), target, exe);
            server.route(&release_path(REPO, target), vec![(200, archive.clone())]);
            assets.insert(target.to_string(), (archive, binary));
        }
        let action = dir.path().join("action");
        std::fs::create_dir_all(&action).unwrap();
        std::fs::write(
            action.join("Cargo.toml"),
            "[package]\nname = \"artifetch\"\nversion = \"9.9.9\"\n\n[dependencies]\nx = { version = \"1\" }\n",
        )
        .unwrap();
        for sub in ["toolcache", "temp", "home", "fakebin"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let p = |s: &str| dir.path().join(s).to_str().unwrap().to_string();
        let env = BTreeMap::from([
            (
                "PATH".to_string(),
                format!("{}:/usr/bin:/bin", p("fakebin")),
            ),
            ("HOME".to_string(), p("home")),
            ("GITHUB_ACTIONS".to_string(), "true".to_string()),
            ("GITHUB_ACTION_PATH".to_string(), p("action")),
            ("RUNNER_TOOL_CACHE".to_string(), p("toolcache")),
            ("RUNNER_TEMP".to_string(), p("temp")),
            ("GITHUB_OUTPUT".to_string(), p("output")),
            ("RUNNER_OS".to_string(), "Linux".to_string()),
            ("RUNNER_ARCH".to_string(), "X64".to_string()),
            ("ARTIFETCH_RETRY_DELAY".to_string(), "0".to_string()),
            ("ARTIFETCH_DOWNLOAD_ATTEMPTS".to_string(), "3".to_string()),
        ]);
        let r = Runner {
            dir,
            server,
            assets,
            env,
        };
        r.checksums(&r.checksums_text(REPO));
        r
    }

    fn checksums_text(&self, repo: &str) -> String {
        let mut text = format!(
            "# test checksums\n# version: {VERSION}\n# repository: {repo}\n# server: {}\n",
            self.server.url("")
        );
        for (_, _, target, exe) in PLATFORMS {
            let (archive, binary) = &self.assets[*target];
            text.push_str(&format!(
                "{}  {}\n{}  artifetch-{target}/artifetch{exe}\n",
                sha256_hex(archive),
                asset_name(target),
                sha256_hex(binary)
            ));
        }
        text
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

    fn fake_cargo(&self) {
        fake_cargo(&self.path("fakebin"), &self.path("cargo.log"));
    }

    fn cargo_calls(&self) -> String {
        std::fs::read_to_string(self.path("cargo.log")).unwrap_or_default()
    }

    fn install(&self) -> Outcome {
        let _ = std::fs::remove_file(self.path("output"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
        let out = Command::new("/bin/bash")
            .arg("--noprofile")
            .arg("--norc")
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
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            path,
        }
    }
}

impl Outcome {
    fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "install failed:\n{}", self.stderr);
        assert!(
            !self.stdout.contains("::error"),
            "an error annotation on success:\n{}",
            self.stdout
        );
        self.path
            .as_deref()
            .expect("path= written to GITHUB_OUTPUT")
    }

    fn failed(&self, needles: &[&str]) {
        assert_eq!(self.code, 1, "expected failure:\n{}", self.stderr);
        assert!(self.path.is_none(), "no path on failure");
        let errors: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with("::error title=artifetch install::"))
            .collect();
        assert_eq!(errors.len(), 1, "one error annotation:\n{}", self.stdout);
        for n in needles {
            assert!(
                errors[0].contains(n),
                "the error lacks {n:?}:\n{}",
                errors[0]
            );
        }
        // Said once: the annotation is the message, not repeated on stderr.
        assert!(
            !self
                .stderr
                .contains(&errors[0]["::error title=artifetch install::".len()..]),
            "the error is on stderr too:\n{}",
            self.stderr
        );
    }

    /// The `::warning` annotations printed.
    fn warnings(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::warning title=artifetch install::"))
            .collect()
    }
}

fn run_binary(path: &str) -> String {
    let out = Command::new(path).env_clear().output().unwrap();
    assert!(out.status.success(), "{path} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn picks_the_asset_for_each_runner_platform_and_caches_it() {
    let mut r = Runner::new();
    let mut platforms = PLATFORMS.to_vec();
    // Windows on Arm: the x64 build, which runs under emulation.
    platforms.push(("Windows", "ARM64", "x86_64-pc-windows-msvc", ".exe"));
    for (os, arch, target, exe) in platforms {
        r.set("RUNNER_OS", os).set("RUNNER_ARCH", arch);
        // One runner has one OS: Linux X64 and Windows X64 share the tool cache's `x64`.
        let _ = std::fs::remove_dir_all(r.path("toolcache/artifetch"));
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
            [release_path(REPO, target)],
            "{os}/{arch}"
        );
        assert!(o.stderr.contains("sha256 verified"), "{}", o.stderr);
        assert!(o.stderr.contains("(artifetch 9.9.9)"), "{}", o.stderr);
        assert!(o.warnings().is_empty(), "{}", o.stdout);
    }
}

#[test]
fn unsupported_platform_reaches_the_source_build() {
    let mut r = Runner::new();
    for (os, arch) in [("Linux", "ARM"), ("Linux", "X86"), ("FreeBSD", "X64")] {
        r.set("RUNNER_OS", os).set("RUNNER_ARCH", arch);
        r.install().failed(&[
            "no prebuilt artifetch",
            &format!("RUNNER_OS='{os}' RUNNER_ARCH='{arch}'"),
            "Linux X64/ARM64, macOS X64/ARM64, Windows X64/ARM64",
            "cargo (not on PATH)",
        ]);
    }
    r.fake_cargo();
    let o = r.install();
    assert!(run_binary(o.ok()).contains("built from source"));
    assert!(
        o.warnings()[0].contains("no prebuilt artifetch") && o.warnings()[0].contains("crates.io"),
        "{}",
        o.stdout
    );
    r.env.remove("RUNNER_ARCH");
    r.install().failed(&["both must be set"]);
    assert!(r.server.requests().is_empty());
}

#[test]
fn checksum_mismatch_is_refused_and_nothing_is_cached() {
    let r = Runner::new();
    let target = PLATFORMS[0].2;
    r.server.route(
        &release_path(REPO, target),
        vec![(200, b"tampered bytes".to_vec())],
    );
    r.fake_cargo(); // a mismatch is fatal: no fallback may hide it
    let o = r.install();
    o.failed(&[
        "checksum mismatch",
        &sha256_hex(&r.assets[target].0),
        &sha256_hex(b"tampered bytes"),
        "not used",
    ]);
    assert!(r.cargo_calls().is_empty());
    assert!(!r.path("toolcache/artifetch/9.9.9/x64").exists());
}

#[test]
fn a_binary_that_differs_from_its_recorded_hash_is_refused() {
    let r = Runner::new();
    let target = PLATFORMS[0].2;
    // The archive hash is recorded for this archive, but the binary inside is another one.
    let (archive, _) = asset_with(r.dir.path(), target, "", "echo 'artifetch 9.9.9 (other)'");
    r.server
        .route(&release_path(REPO, target), vec![(200, archive.clone())]);
    let text = r
        .checksums_text(REPO)
        .replace(&sha256_hex(&r.assets[target].0), &sha256_hex(&archive));
    r.checksums(&text);
    r.install().failed(&[
        "checksum mismatch for artifetch inside artifetch-x86_64-unknown-linux-musl.tar.gz",
        &sha256_hex(&r.assets[target].1),
    ]);
    assert!(!r.path("toolcache/artifetch/9.9.9/x64").exists());
}

#[test]
fn cache_hit_rehashes_the_binary_and_refuses_a_planted_one() {
    let r = Runner::new();
    let first = r.install();
    let first_path = first.ok().to_string();
    assert_eq!(r.server.requests().len(), 1);
    let second = r.install();
    assert_eq!(second.ok(), first_path);
    assert!(
        second.stderr.contains("tool cache hit") && second.stderr.contains("sha256 verified"),
        "{}",
        second.stderr
    );
    assert_eq!(r.server.requests().len(), 1, "no second download");

    // An earlier job plants its own binary where the cache entry is.
    let planted = r.path("planted");
    write_exec(
        Path::new(&first_path),
        &format!(
            "#!/bin/sh\ntouch '{}'\necho 'artifetch 9.9.9'\n",
            planted.display()
        ),
    );
    let third = r.install();
    assert_eq!(third.ok(), first_path);
    assert!(!planted.exists(), "the planted binary ran");
    assert!(
        third.warnings()[0].contains("ignoring") && third.warnings()[0].contains("planted"),
        "{}",
        third.stdout
    );
    assert!(!third.stderr.contains("tool cache hit"), "{}", third.stderr);
    assert_eq!(r.server.requests().len(), 2, "downloaded again");
    assert_eq!(
        std::fs::read(&first_path).unwrap(),
        r.assets[PLATFORMS[0].2].1
    );
}

#[test]
fn unwritable_tool_cache_falls_back_to_runner_temp() {
    let mut r = Runner::new();
    // A regular file where the tool cache should be: every mkdir under it fails.
    std::fs::write(r.path("cache-file"), "x").unwrap();
    r.set("RUNNER_TOOL_CACHE", r.path("cache-file").to_str().unwrap());
    let o = r.install();
    let path = o.ok();
    assert!(Path::new(path).starts_with(r.path("temp")), "{path}");
    assert!(run_binary(path).contains("fake x86_64-unknown-linux-musl"));
    assert!(
        o.warnings()[0].contains("cannot write to the tool cache"),
        "{}",
        o.stdout
    );
}

#[test]
fn unwritable_runner_temp_and_output_are_errors() {
    let mut r = Runner::new();
    std::fs::write(r.path("temp-file"), "x").unwrap();
    r.set("RUNNER_TEMP", r.path("temp-file").to_str().unwrap());
    r.install()
        .failed(&["cannot create a temporary directory", "RUNNER_TEMP"]);

    let mut r = Runner::new();
    std::fs::create_dir(r.path("output-dir")).unwrap();
    r.set("GITHUB_OUTPUT", r.path("output-dir").to_str().unwrap());
    r.install().failed(&["cannot write the step output"]);
}

#[test]
fn a_binary_that_does_not_run_fails_the_step() {
    let r = Runner::new();
    let target = PLATFORMS[0].2;
    let (archive, binary) = asset_with(r.dir.path(), target, "", "exit 3");
    r.server
        .route(&release_path(REPO, target), vec![(200, archive.clone())]);
    let text = r
        .checksums_text(REPO)
        .replace(&sha256_hex(&r.assets[target].0), &sha256_hex(&archive))
        .replace(&sha256_hex(&r.assets[target].1), &sha256_hex(&binary));
    r.checksums(&text);
    r.install()
        .failed(&["does not run on this runner", "exited with 3"]);
}

/// issue 10, bug 9: with GITHUB_TOKEN set a binary may print `::add-mask::<token>`; the
/// installer logs no output of the binary as is.
#[test]
fn the_binary_output_is_never_logged_verbatim() {
    let mut r = Runner::new();
    let target = PLATFORMS[0].2;
    let (archive, binary) = asset_with(
        r.dir.path(),
        target,
        "",
        "echo \"::add-mask::${GITHUB_TOKEN:-s3cret-in-output}\"; echo 'artifetch 9.9.9 ::warning::x'",
    );
    r.server
        .route(&release_path(REPO, target), vec![(200, archive.clone())]);
    let text = r
        .checksums_text(REPO)
        .replace(&sha256_hex(&r.assets[target].0), &sha256_hex(&archive))
        .replace(&sha256_hex(&r.assets[target].1), &sha256_hex(&binary));
    r.checksums(&text);
    r.set("GITHUB_TOKEN", "ghs_tokenvalue");
    let o = r.install();
    o.ok();
    let all = format!("{}{}", o.stdout, o.stderr);
    for secret in [
        "ghs_tokenvalue",
        "s3cret-in-output",
        "::add-mask::",
        "::warning::x",
    ] {
        assert!(!all.contains(secret), "{secret} logged:\n{all}");
    }
    assert!(o.stderr.contains("(artifetch 9.9.9)"), "{}", o.stderr);
}

#[test]
fn retries_with_backoff_then_succeeds() {
    let r = Runner::new();
    let good = r.assets[PLATFORMS[0].2].0.clone();
    r.server.route(
        &release_path(REPO, PLATFORMS[0].2),
        vec![(503, vec![]), (502, vec![]), (200, good)],
    );
    let o = r.install();
    o.ok();
    assert_eq!(r.server.requests().len(), 3);
    assert!(
        o.stderr.contains("HTTP 503 (attempt 1 of 3)"),
        "{}",
        o.stderr
    );
}

#[test]
fn not_in_the_release_is_said_so_and_not_retried() {
    let r = Runner::new();
    r.server.route(
        &release_path(REPO, PLATFORMS[0].2),
        vec![(404, b"Not Found".to_vec())],
    );
    let o = r.install();
    o.failed(&[
        "artifetch-x86_64-unknown-linux-musl.tar.gz is not in the release v9.9.9 of owner/artifetch (HTTP 404",
        "binary-url (not set)",
        "cargo (not on PATH)",
        "set the input 'binary-url'",
    ]);
    assert!(!o.stderr.contains("unreachable"), "{}", o.stderr);
    assert_eq!(r.server.requests().len(), 1, "a 404 is not retried");
}

#[test]
fn mirror_is_used_when_the_release_is_unreachable_and_still_verified() {
    let mut r = Runner::new();
    let target = PLATFORMS[1].2;
    let release = release_path(REPO, target);
    r.server.route(&release, vec![(503, vec![])]);
    r.server.route(
        &format!("/mirror/{}", asset_name(target)),
        vec![(200, r.assets[target].0.clone())],
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
fn unreachable_release_shows_curls_error_and_falls_back_to_cargo_with_a_warning() {
    let mut r = Runner::new();
    let port = closed_port(); // nothing listens there
    r.set(
        "ARTIFETCH_RELEASE_SERVER",
        &format!("http://127.0.0.1:{port}"),
    );
    let o = r.install();
    // curl's own last error line, not "HTTP 000".
    o.failed(&["curl: (7)", "unreachable after 3 attempt(s)"]);
    assert!(!o.stderr.contains("HTTP 000"), "{}", o.stderr);

    r.fake_cargo();
    let o = r.install();
    let path = o.ok();
    assert!(run_binary(path).contains("built from source"));
    assert!(o.stderr.contains("attempt 2 of 3"), "retried: {}", o.stderr);
    let warning = o.warnings()[0];
    assert!(
        warning.contains("building artifetch from source")
            && warning.contains("could not be downloaded")
            && warning.contains("crates.io"),
        "{warning}"
    );
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
fn curl_or_tar_missing_is_named() {
    let mut r = Runner::new();
    for (tool, missing) in [
        ("curl (or wget)", &["curl", "wget"][..]),
        ("tar", &["tar"][..]),
    ] {
        let mut without = missing.to_vec();
        without.push("cargo");
        let bin = path_without(&r.path(&format!("no-{}", missing[0])), &without);
        r.set("PATH", bin.to_str().unwrap());
        r.install().failed(&[
            &format!("{tool} not on PATH: cannot download the release binary"),
            &format!("Install {tool}"),
        ]);
    }
    assert!(r.server.requests().is_empty());
}

/// A runner with wget and no curl (slim and busybox-based images): the release is downloaded
/// with wget, verified the same way; wget's 404 and its unreachable host read as curl's do.
#[test]
fn wget_downloads_when_curl_is_missing() {
    let mut r = Runner::new();
    let bin = path_without(&r.path("no-curl"), &["curl", "cargo"]);
    r.set("PATH", bin.to_str().unwrap());
    let o = r.install();
    let path = o.ok();
    assert!(run_binary(path).contains("fake x86_64-unknown-linux-musl"));
    assert!(o.stderr.contains("sha256 verified"), "{}", o.stderr);
    assert_eq!(r.server.requests(), [release_path(REPO, PLATFORMS[0].2)]);

    std::fs::remove_dir_all(r.path("toolcache/artifetch")).unwrap();
    r.server.route(
        &release_path(REPO, PLATFORMS[0].2),
        vec![(404, b"Not Found".to_vec())],
    );
    r.install()
        .failed(&["is not in the release v9.9.9 of owner/artifetch (HTTP 404"]);

    let port = closed_port();
    r.set(
        "ARTIFETCH_RELEASE_SERVER",
        &format!("http://127.0.0.1:{port}"),
    );
    r.install().failed(&[
        "unreachable after 3 attempt(s)",
        "failed: Connection refused",
    ]);
}

/// ARTIFETCH_INSTALL=prebuilt-only: every way to the source build is an error instead, cargo
/// on PATH or not; a value it does not know is refused.
#[test]
fn prebuilt_only_turns_the_source_build_into_an_error() {
    let mut r = Runner::new();
    r.fake_cargo();
    r.set("ARTIFETCH_INSTALL", "prebuilt-only");
    let port = closed_port();
    r.set(
        "ARTIFETCH_RELEASE_SERVER",
        &format!("http://127.0.0.1:{port}"),
    );
    r.install().failed(&[
        "cannot install the prebuilt artifetch",
        "could not be downloaded",
        "ARTIFETCH_INSTALL=prebuilt-only turns the source build off",
    ]);
    r.checksums("");
    r.install()
        .failed(&["no release checksums", "prebuilt-only"]);
    assert!(r.cargo_calls().is_empty(), "cargo ran: {}", r.cargo_calls());
    r.set("ARTIFETCH_INSTALL", "source");
    r.install()
        .failed(&["ARTIFETCH_INSTALL='source'", "prebuilt-only"]);
    // The default builds from source, as before.
    r.env.remove("ARTIFETCH_INSTALL");
    assert!(run_binary(r.install().ok()).contains("built from source"));
}

/// On a runner of another server (GHES) the release on github.com gets one try, not four with
/// backoff: such runners often cannot reach it, and every job would wait for the retries.
#[test]
fn a_runner_of_another_server_tries_the_release_once() {
    let mut r = Runner::new();
    let target = PLATFORMS[0].2;
    let flaky = vec![(503, b"down".to_vec()), (200, r.assets[target].0.clone())];
    r.server.route(&release_path(REPO, target), flaky.clone());
    r.set("GITHUB_SERVER_URL", "https://ghes.example.com");
    let o = r.install();
    o.failed(&["after 1 attempt(s)"]);
    assert!(o.stderr.contains("one try"), "{}", o.stderr);
    assert_eq!(r.server.requests().len(), 1);
    // The release's own server: retried as usual.
    r.server.route(&release_path(REPO, target), flaky);
    let url = r.server.url("");
    r.set("GITHUB_SERVER_URL", url.trim_end_matches('/'));
    r.install().ok();
    assert_eq!(r.server.requests().len(), 1 + 2);
}

/// Outside Actions a message goes to stderr, and no workflow command is printed.
#[test]
fn outside_actions_messages_go_to_stderr_only() {
    let mut r = Runner::new();
    r.env.remove("GITHUB_ACTIONS");
    r.checksums("");
    let o = r.install();
    assert_eq!(o.code, 1);
    assert!(!o.stdout.contains("::"), "{}", o.stdout);
    assert!(
        o.stderr
            .contains("artifetch install: error: cannot install artifetch"),
        "{}",
        o.stderr
    );
}

#[test]
fn no_recorded_checksum_refuses_every_download() {
    let mut r = Runner::new();
    r.set("INPUT_BINARY_URL", &r.server.url("/mirror"));
    for text in ["", "# comments only, an unreleased ref\n"] {
        r.checksums(text);
        r.install().failed(&[
            "no release checksums",
            "cargo (not on PATH)",
            "uses: <owner>/artifetch@vX.Y.Z",
        ]);
    }
    std::fs::remove_file(r.path("action/checksums.txt")).unwrap();
    r.fake_cargo();
    let o = r.install();
    assert!(run_binary(o.ok()).contains("built from source"));
    assert!(
        o.warnings()[0].contains("no release checksums"),
        "{}",
        o.stdout
    );
    assert!(r.server.requests().is_empty(), "{:?}", r.server.requests());
}

#[test]
fn checksums_of_another_version_than_cargo_toml_build_from_source() {
    let r = Runner::new();
    std::fs::write(
        r.path("action/Cargo.toml"),
        "[package]\nname = \"artifetch\"\nversion = \"9.10.0\"\n",
    )
    .unwrap();
    r.install().failed(&[
        "checksums.txt is for v9.9.9 but Cargo.toml at this ref says v9.10.0",
        "cargo (not on PATH)",
    ]);
    r.fake_cargo();
    let o = r.install();
    assert!(run_binary(o.ok()).contains("built from source"));
    assert!(o.warnings()[0].contains("not that release"), "{}", o.stdout);
    assert!(r.server.requests().is_empty(), "{:?}", r.server.requests());
}

#[test]
fn the_repository_comes_from_checksums() {
    let r = Runner::new();
    let fork = "someone/artifetch-fork";
    r.server.route(
        &release_path(fork, PLATFORMS[0].2),
        vec![(200, r.assets[PLATFORMS[0].2].0.clone())],
    );
    r.checksums(&r.checksums_text(fork));
    r.install().ok();
    assert_eq!(r.server.requests(), [release_path(fork, PLATFORMS[0].2)]);
}

#[test]
fn annotations_cannot_start_another_workflow_command() {
    let mut r = Runner::new();
    r.set("RUNNER_OS", "Plan9\n::error::injected%0A::error::encoded");
    let o = r.install();
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    // A line break is encoded; a `%` too, so an encoded one stays text after decoding.
    assert!(
        o.stdout
            .contains("%0A::error::injected%250A::error::encoded"),
        "{}",
        o.stdout
    );
}
