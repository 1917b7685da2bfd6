//! Test harness: a fake GitHub, a scratch workspace, and the real `artifetch` binary run with an
//! environment stripped of everything ambient (no proxies, no real tokens, no real runner files),
//! then given exactly the runner variables a workflow step would see.

#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod proxy;

pub use fakehub::{
    ArtifactSpec, DigestMode, FakeGitHub, Fault, FaultKind, Options, Origin, Run, zipbuild,
};
use tempfile::TempDir;

/// One scenario: the fake server, a run on it, and a scratch runner layout.
pub struct World {
    pub gh: FakeGitHub,
    pub run: u64,
    pub root: TempDir,
}

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

impl Outcome {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn failed(&self) -> &Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The `::error title=artifetch::` lines (every annotation names the step).
    pub fn errors(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::error title=artifetch::"))
            .collect()
    }

    pub fn warnings(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::warning title=artifetch::"))
            .collect()
    }

    /// Exactly one `::error::` line, and it contains every needle.
    #[track_caller]
    pub fn one_error(&self, needles: &[&str]) -> &Self {
        let errors = self.errors();
        assert_eq!(
            errors.len(),
            1,
            "expected one ::error:: line, got {errors:#?}\nstdout:\n{}",
            self.stdout
        );
        for n in needles {
            assert!(errors[0].contains(n), "error {:?} lacks {n:?}", errors[0]);
        }
        self
    }

    pub fn artifacts_json(&self) -> Vec<serde_json::Value> {
        let raw = self.outputs.get("artifacts").expect("artifacts output");
        serde_json::from_str::<serde_json::Value>(raw)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl World {
    pub fn new() -> World {
        World::with(Options::default())
    }

    pub fn with(opts: Options) -> World {
        World::with_current(opts, |run| run)
    }

    /// A world whose current run (`GITHUB_RUN_ID`) is shaped by `shape`.
    pub fn with_current(opts: Options, shape: impl FnOnce(Run) -> Run) -> World {
        let gh = FakeGitHub::start(opts);
        let run = gh.add_run(shape(Run::new(&gh.repo())));
        let root = tempfile::tempdir().unwrap();
        for d in ["workspace", "temp", "home"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        World { gh, run, root }
    }

    pub fn add(&self, name: &str, zip: Vec<u8>) -> u64 {
        self.gh.add_artifact(self.run, ArtifactSpec::new(name, zip))
    }

    pub fn workspace(&self) -> PathBuf {
        self.root.path().join("workspace")
    }

    pub fn temp(&self) -> PathBuf {
        self.root.path().join("temp")
    }

    /// The variables a step on the runner sees, pointing at the fake server.
    pub fn env(&self) -> BTreeMap<String, String> {
        let p = |x: &str| self.root.path().join(x).display().to_string();
        [
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_API_URL", self.gh.api_url()),
            ("GITHUB_SERVER_URL", self.gh.server_url()),
            ("GITHUB_REPOSITORY", self.gh.repo()),
            ("GITHUB_RUN_ID", self.run.to_string()),
            // What the runner says of the current run (fakehub's defaults for a new run).
            ("GITHUB_RUN_NUMBER", "1".to_string()),
            ("GITHUB_WORKFLOW", "Build".to_string()),
            ("GITHUB_TOKEN", self.gh.token()),
            ("GITHUB_WORKSPACE", p("workspace")),
            ("GITHUB_OUTPUT", p("output")),
            ("GITHUB_STEP_SUMMARY", p("summary")),
            ("RUNNER_TEMP", p("temp")),
            ("HOME", p("home")),
            // Shrinks backoff and stall timers so fault tests take milliseconds.
            ("ARTIFETCH_TIME_SCALE", "0.01".to_string()),
            // ...but not the stall timer below 10 s (scaled): a loaded machine can hold a blob
            // answer past 0.3 s, and the retry (one more request) breaks every exact request
            // count. A test of stalls sets its own `stall-timeout`, which wins.
            ("INPUT_STALL-TIMEOUT", "1000".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs the binary with `INPUT_*` variables and extra environment (an empty value removes one).
    pub fn run(&self, inputs: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Outcome {
        self.run_args(&[], inputs, extra_env)
    }

    pub fn run_args(
        &self,
        args: &[&str],
        inputs: &[(&str, &str)],
        extra_env: &[(&str, &str)],
    ) -> Outcome {
        let _ = std::fs::remove_file(self.root.path().join("output"));
        let _ = std::fs::remove_file(self.root.path().join("summary"));
        let out = self
            .command(inputs, extra_env)
            .args(args)
            .output()
            .expect("run artifetch");
        self.outcome(out)
    }

    /// [`World::run`] under a shell that limits the size of any file the binary writes to `kib`
    /// KiB (`ulimit -f`; SIGXFSZ ignored, so a write past it fails with EFBIG): a local disk
    /// fault, for the tests that it is not retried.
    #[cfg(unix)]
    pub fn run_with_file_size_limit(&self, inputs: &[(&str, &str)], kib: u64) -> Outcome {
        let _ = std::fs::remove_file(self.root.path().join("output"));
        let _ = std::fs::remove_file(self.root.path().join("summary"));
        let cmd = self.command(inputs, &[]);
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("ulimit -f {kib}; trap '' XFSZ; exec \"$0\""))
            .arg(env!("CARGO_BIN_EXE_artifetch"))
            .env_clear()
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(cmd.get_current_dir().unwrap())
            .output()
            .expect("run artifetch");
        self.outcome(out)
    }

    /// What a finished run printed and wrote.
    fn outcome(&self, out: std::process::Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: parse_outputs(&self.root.path().join("output")),
            summary: std::fs::read_to_string(self.root.path().join("summary")).unwrap_or_default(),
        }
    }

    /// Nothing was left in RUNNER_TEMP.
    #[track_caller]
    pub fn assert_temp_clean(&self) {
        let left: Vec<_> = std::fs::read_dir(self.temp())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "temp files left behind: {left:?}");
    }
}

/// Parses a `$GITHUB_OUTPUT` file the way the runner does (heredoc form).
pub fn parse_outputs(file: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(file) else {
        return out;
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let (name, delim) = line.split_once("<<").expect("heredoc form");
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delim {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

/// What [`walk`] finds at one path.
pub enum Found {
    Dir,
    File(Vec<u8>),
    Symlink(PathBuf),
}

/// Everything under `dir`, depth first, as `/`-separated relative paths; symlinks are reported,
/// never followed. A missing `dir` is empty. The one walker the test helpers share.
pub fn walk(dir: &Path) -> Vec<(String, Found)> {
    fn go(base: &Path, dir: &Path, out: &mut Vec<(String, Found)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if meta.file_type().is_symlink() {
                out.push((rel, Found::Symlink(std::fs::read_link(&p).unwrap())));
            } else if meta.is_dir() {
                out.push((rel, Found::Dir));
                go(base, &p, out);
            } else {
                out.push((rel, Found::File(std::fs::read(&p).unwrap())));
            }
        }
    }
    let mut out = Vec::new();
    go(dir, dir, &mut out);
    out
}

/// Every regular file under `dir`, as relative paths with contents (symlinks marked).
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .filter_map(|(rel, found)| match found {
            Found::Dir => None,
            Found::File(data) => Some((rel, data)),
            Found::Symlink(_) => Some((format!("{rel} -> symlink"), Vec::new())),
        })
        .collect()
}

pub fn names(tree: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    tree.keys().map(String::as_str).collect()
}

impl World {
    /// The binary's `Command` with the same environment as [`World::run`], not yet started.
    /// Inputs become `INPUT_<NAME>`; an empty value in `extra_env` removes that variable.
    pub fn command(&self, inputs: &[(&str, &str)], extra_env: &[(&str, &str)]) -> Command {
        let mut env = self.env();
        for (k, v) in inputs {
            env.insert(format!("INPUT_{}", k.to_uppercase()), v.to_string());
        }
        for (k, v) in extra_env {
            if v.is_empty() {
                env.remove(*k);
            } else {
                env.insert(k.to_string(), v.to_string());
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_artifetch"));
        cmd.env_clear()
            .envs(&env)
            .current_dir(self.root.path().join("home"));
        cmd
    }

    /// API requests whose path contains `needle`.
    pub fn api_requests(&self, needle: &str) -> Vec<fakehub::LoggedRequest> {
        self.gh
            .requests()
            .into_iter()
            .filter(|r| r.origin == Origin::Api && r.path.contains(needle))
            .collect()
    }

    /// Requests to the blob origin.
    pub fn blob_requests(&self) -> Vec<fakehub::LoggedRequest> {
        self.gh
            .requests()
            .into_iter()
            .filter(|r| r.origin == Origin::Blob)
            .collect()
    }
}

/// Everything under `dir` (directories, files with contents, symlinks with targets), so that
/// "left exactly as it was" and "nothing else created" can be compared. Missing dir: empty.
pub fn listing(dir: &Path) -> BTreeMap<String, String> {
    walk(dir)
        .into_iter()
        .map(|(rel, found)| {
            let what = match found {
                Found::Dir => "dir".to_string(),
                Found::File(data) => format!("file {}", String::from_utf8_lossy(&data)),
                Found::Symlink(t) => format!("symlink -> {}", t.display()),
            };
            (rel, what)
        })
        .collect()
}

/// Names directly inside `dir`.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A zip holding one file, `from.txt`, that says `marker`: which artifact landed is then
/// [`marker`]'s answer.
pub fn marker_zip(marker: &str) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("from.txt", marker.as_bytes())
        .build()
}

/// What the `from.txt` of a [`marker_zip`] extracted into the workspace says.
pub fn marker(w: &World) -> String {
    String::from_utf8(tree(&w.workspace())["from.txt"].clone()).unwrap()
}

/// A run's `created_at` on a fixed day, `minute` minutes after 10:00 (later is newer).
pub fn at(minute: u32) -> String {
    format!("2026-11-20T10:{minute:02}:00Z")
}

impl World {
    /// A world whose current run is an in-progress deploy.yml run (triggered by `workflow_run`),
    /// as when a deploy workflow fetches what build.yml (fakehub's default workflow) made.
    pub fn deploying(opts: Options) -> World {
        World::with_current(opts, |run| {
            run.workflow(".github/workflows/deploy.yml", 99)
                .status("in_progress", None)
                .event("workflow_run")
        })
    }
}

/// Calls `then` once the binary has sent a request whose path ends with `suffix` (so the step
/// has looked at least once and seen the producer unfinished): no fixed delay, which a busy
/// machine can outlast before the first poll.
pub fn after_first<'a>(
    w: &'a World,
    suffix: &'a str,
    then: impl FnOnce() + Send + 'a,
) -> impl FnOnce() + Send + 'a {
    move || {
        for _ in 0..4000 {
            if w.gh.requests().iter().any(|r| r.path.ends_with(suffix)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        then();
    }
}

/// Runs the binary while `producer` changes the fake GitHub on another thread.
pub fn run_while(w: &World, inputs: &[(&str, &str)], producer: impl FnOnce() + Send) -> Outcome {
    std::thread::scope(|scope| {
        let p = scope.spawn(producer);
        let out = w.run(inputs, &[]);
        p.join().unwrap();
        out
    })
}

/// Sends `signal` (`-TERM`, `-INT`) to a running artifetch with kill(1), waits for it, checks it
/// failed, and returns its stdout.
#[cfg(unix)]
#[track_caller]
pub fn signal_and_wait_failed(child: std::process::Child, signal: &str) -> String {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{stdout}");
    stdout
}
