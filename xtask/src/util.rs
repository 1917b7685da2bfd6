//! Shared by the demo and the benchmark: building and locating the release binary, scratch
//! directories, a small flag reader, byte formatting.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The variables `cargo run` sets for the package it runs (not the user's cargo configuration).
fn is_cargo_run_variable(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

/// The release build of artifetch. Not `--quiet`: a first build takes minutes, and cargo's own
/// progress shows it is working; an up-to-date build prints one "Finished" line.
const BUILD_ARGS: [&str; 4] = ["build", "--release", "-p", "artifetch"];

/// Builds `artifetch` in release mode (a no-op when it is up to date) and returns its path.
///
/// `cargo xtask` runs the release xtask binary from the same target directory, so the
/// artifetch binary sits next to the running executable; `CARGO_TARGET_DIR` and
/// `<root>/target/release` are the fallbacks.
pub fn release_binary() -> Result<PathBuf> {
    let mut build = cargo();
    build.args(BUILD_ARGS).current_dir(workspace_root());
    eprintln!(
        "building artifetch (cargo build --release -p artifetch): the first build takes a few minutes, later ones a moment"
    );
    let started = std::time::Instant::now();
    let status = build
        .status()
        .context("cannot run cargo to build artifetch")?;
    if !status.success() {
        bail!("cargo build --release -p artifetch failed ({status})");
    }
    eprintln!(
        "artifetch is built ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    let name = format!("artifetch{}", std::env::consts::EXE_SUFFIX);
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join(&name));
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("release").join(&name));
    }
    candidates.push(workspace_root().join("target/release").join(&name));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .with_context(|| format!("built artifetch but cannot find it; looked at {candidates:?}"))
}

/// `cargo`, without the variables `cargo run` set for the xtask package (CARGO_MANIFEST_DIR,
/// CARGO_PKG_*, ...): passed on, they reach build scripts that watch them (ring's does), which
/// then rerun, and two builds invalidate each other on every call.
pub fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_cargo_run_variable) {
            cargo.env_remove(key);
        }
    }
    cargo
}

/// A fresh scratch directory under the system temp dir, removed on drop unless kept.
pub struct Scratch {
    pub path: PathBuf,
    pub keep: bool,
}

impl Scratch {
    pub fn new(tag: &str) -> Result<Scratch> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "artifetch-{tag}-{}-{nanos:08x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Scratch { path, keep: false })
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Flags of the form `--name value`, `--name=value` and bare `--switch`.
pub struct Flags {
    items: Vec<(String, Option<String>)>,
}

impl Flags {
    /// `valued` lists the flags that take a value.
    pub fn parse(args: &[String], valued: &[&str], switches: &[&str]) -> Result<Flags> {
        let mut items = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                bail!("unexpected argument '{a}'");
            };
            let (name, inline) = match name.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (name, None),
            };
            if valued.contains(&name) {
                // A flag where the value should be means the value was left out.
                let v = match inline {
                    Some(v) => Some(v),
                    None => it.next().filter(|v| !v.starts_with("--")).cloned(),
                };
                let v = v
                    .filter(|v| !v.is_empty())
                    .with_context(|| format!("--{name} needs a value"))?;
                items.push((name.to_string(), Some(v)));
            } else if switches.contains(&name) && inline.is_none() {
                items.push((name.to_string(), None));
            } else {
                bail!("unknown flag '--{name}'");
            }
        }
        Ok(Flags { items })
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    pub fn has(&self, name: &str) -> bool {
        self.items.iter().any(|(n, _)| n == name)
    }
}

/// `1.5 MiB`-style sizes.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Every regular file and symlink under `dir` (relative path, size), sorted.
pub fn list_files(dir: &Path) -> Vec<(String, u64)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, u64)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap_or(&p).display().to_string();
                out.push((rel, meta.len()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::{BUILD_ARGS, is_cargo_run_variable, workspace_root};

    /// A first `cargo xtask demo` builds xtask, then artifetch, in release mode: minutes on a
    /// fresh clone. Neither build may be silenced (it was 4 min 39 s of silence).
    #[test]
    fn the_demos_builds_are_not_silent() {
        assert!(!BUILD_ARGS.contains(&"--quiet") && !BUILD_ARGS.contains(&"-q"));
        let config = std::fs::read_to_string(workspace_root().join(".cargo/config.toml")).unwrap();
        let alias = config
            .lines()
            .find(|l| l.starts_with("xtask ="))
            .expect("the xtask alias");
        assert!(
            !alias.contains("--quiet") && !alias.contains(" -q"),
            "{alias}"
        );
    }

    #[test]
    fn the_nested_build_drops_what_cargo_run_set_and_keeps_the_users_configuration() {
        for set_by_cargo_run in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_CRATE_NAME"] {
            assert!(
                is_cargo_run_variable(set_by_cargo_run),
                "{set_by_cargo_run}"
            );
        }
        for users in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "CARGO",
        ] {
            assert!(!is_cargo_run_variable(users), "{users}");
        }
    }
}
