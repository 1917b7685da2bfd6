//! The road from `uses:` to a binary, end to end and without GitHub: the release scripts
//! (scripts/release/) run on a local git repository with real tags and publish to a local release
//! host; then action.yml is executed the way the runner executes a composite action (inputs with
//! their defaults, `${{ inputs.x }}` and `${{ steps.x.outputs.y }}` in `env:`, GITHUB_ACTION_PATH,
//! `shell: bash`/`sh` with the runner's own flags, GITHUB_OUTPUT between steps, the action's
//! outputs) on a checkout of each ref a workflow can name.
//!
//! Stand-ins, each said where it is made: the release "binaries" are shell scripts that say which
//! release they are and record what the run step passed them; `gh` is a fake that keeps releases
//! (and drafts) in a directory the HTTP server serves as `<owner>/<repo>/releases/download/...`;
//! "built from source" means a fake `cargo` on PATH was called with `install --locked --path
//! <that checkout>` (install_support::fake_cargo). The git repositories, tags, pushes, tarballs,
//! checksums, downloads and the installer are real.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::install_support::{Server, fake_cargo, path_without, sha256_hex, write_exec};
use serde_yaml_ng::Value;
use tempfile::TempDir;

const UPSTREAM: &str = "owner/artifetch";
const LINUX_X64: &str = "x86_64-unknown-linux-musl";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn targets() -> Vec<String> {
    std::fs::read_to_string(root().join("scripts/release/targets.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn check(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The fake `gh`: `release view|create|upload|edit` on `$FAKE_RELEASES/$GH_REPO/releases/<tag>/`,
/// a `.draft` marker for drafts. `FAKE_GH_FAIL_ONCE=<subcommand>` fails that subcommand once (an
/// API outage in the middle of a release).
const FAKE_GH: &str = r#"#!/bin/sh
echo "gh $*" >> "$FAKE_GH_LOG"
[ "$1" = release ] || { echo "fake gh: unsupported: $*" >&2; exit 2; }
cmd="$2" tag="$3"
shift 3
dir="$FAKE_RELEASES/$GH_REPO/releases/$tag"
if [ "$cmd" = "$FAKE_GH_FAIL_ONCE" ] && [ ! -e "$FAKE_GH_LOG.failed" ]; then
  touch "$FAKE_GH_LOG.failed"
  echo "HTTP 502: Bad Gateway" >&2
  exit 1
fi
case "$cmd" in
  view)
    [ -d "$dir" ] || { echo "release not found" >&2; exit 1; }
    if [ -e "$dir/.draft" ]; then echo true; else echo false; fi ;;
  create)
    [ ! -d "$dir" ] || { echo "already exists" >&2; exit 1; }
    mkdir -p "$dir"
    for a; do [ "$a" = --draft ] && touch "$dir/.draft"; done
    cat > "$dir/.notes" ;;
  upload)
    [ -d "$dir" ] || exit 1
    for a; do case "$a" in --*) ;; *) cp "$a" "$dir/" ;; esac; done ;;
  edit)
    [ -d "$dir" ] || exit 1
    rm -f "$dir/.draft" ;;
  *) echo "fake gh: unsupported: release $cmd" >&2; exit 2 ;;
esac
"#;

/// A project: a bare `origin`, a working clone, a release host and the tools around them.
struct Project {
    tmp: TempDir,
    server: Server,
    /// Where the fake gh keeps releases and the server serves them from.
    releases: PathBuf,
}

impl Project {
    /// `origin` with one commit on main: the action's files from this repository, a Cargo.toml
    /// at `version` and a `src/code.txt` saying which code this is.
    fn new(version: &str) -> Project {
        let tmp = TempDir::new().unwrap();
        let server = Server::start();
        let releases = tmp.path().join("host");
        std::fs::create_dir_all(&releases).unwrap();
        server.serve_releases_from(&releases);
        write_exec(&tmp.path().join("ghbin/gh"), FAKE_GH);
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        let p = Project {
            tmp,
            server,
            releases,
        };
        p.git(&["init", "-q", "--bare", "-b", "main", "origin.git"], None);
        // As the protected branch releases/vX is on GitHub: no force push, no deletion.
        let origin = p.path("origin.git");
        p.git(
            &["config", "receive.denyNonFastForwards", "true"],
            Some(&origin),
        );
        p.git(&["config", "receive.denyDeletes", "true"], Some(&origin));
        p.git(&["clone", "-q", "origin.git", "work"], None);
        let work = p.work();
        for f in [
            "action.yml",
            "checksums.txt",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
            "scripts/install.sh",
            "scripts/install.ps1",
            "scripts/release/targets.txt",
            "scripts/release/check-version.sh",
            "scripts/release/package.sh",
            "scripts/release/checksums.sh",
            "scripts/release/commit.sh",
            "scripts/release/publish.sh",
            "scripts/release/promote.sh",
            "scripts/release/common.sh",
        ] {
            let to = work.join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(root().join(f), &to).unwrap();
        }
        p.set_version(version);
        p.commit("code of main", "initial");
        p.git(&["push", "-q", "origin", "main"], Some(&work));
        p
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.tmp.path().join(sub)
    }

    fn work(&self) -> PathBuf {
        self.path("work")
    }

    fn git(&self, args: &[&str], dir: Option<&Path>) -> String {
        let out = Command::new("git")
            .args(["-c", "user.name=dev", "-c", "user.email=dev@example.com"])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(dir.unwrap_or(self.tmp.path()))
            .env("HOME", self.path("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        check(out, &format!("git {args:?}"))
    }

    fn set_version(&self, version: &str) {
        std::fs::write(
            self.work().join("Cargo.toml"),
            format!(
                "[package]\nname = \"artifetch\"\nversion = \"{}\"\n\n[dependencies]\nx = {{ version = \"1\" }}\n",
                version.trim_start_matches('v')
            ),
        )
        .unwrap();
    }

    /// Commits the whole work tree with `src/code.txt` = `code`.
    fn commit(&self, code: &str, message: &str) -> String {
        let work = self.work();
        std::fs::create_dir_all(work.join("src")).unwrap();
        std::fs::write(work.join("src/code.txt"), code).unwrap();
        self.git(&["add", "-A"], Some(&work));
        self.git(&["commit", "-q", "-m", message], Some(&work));
        self.git(&["rev-parse", "HEAD"], Some(&work))
    }

    /// The release archives of the work tree's HEAD: one fake binary per target that says which
    /// release of which repository it is, packaged by scripts/release/package.sh.
    fn build(&self, version: &str, repo: &str, dist: &Path) {
        for target in targets() {
            let bin = self.path(&format!("bin/{target}/artifetch"));
            let id = format!("release {version} of {repo} for {target}");
            write_exec(&bin, &fake_binary(version, &id));
            let out = Command::new("bash")
                .arg(self.work().join("scripts/release/package.sh"))
                .args([
                    target.as_str(),
                    bin.to_str().unwrap(),
                    dist.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            check(out, "package.sh");
        }
    }

    /// scripts/release/publish.sh in the work tree, as release.yml's publish job runs it.
    fn publish(&self, version: &str, repo: &str, dist: &Path, fail_once: &str) -> Output {
        Command::new("bash")
            .arg(self.work().join("scripts/release/publish.sh"))
            .args([version, dist.to_str().unwrap()])
            .current_dir(self.work())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("ghbin").display()),
            )
            .env("HOME", self.path("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_REPOSITORY", repo)
            .env("GITHUB_SERVER_URL", self.server.url(""))
            .env("FAKE_RELEASES", &self.releases)
            .env("FAKE_GH_LOG", self.path("gh.log"))
            .env("FAKE_GH_FAIL_ONCE", fail_once)
            .output()
            .unwrap()
    }

    /// scripts/release/promote.sh in the work tree, as release.yml's promote job runs it.
    fn promote(&self, version: &str, repo: &str) -> Output {
        Command::new("bash")
            .arg(self.work().join("scripts/release/promote.sh"))
            .arg(version)
            .current_dir(self.work())
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_REPOSITORY", repo)
            .output()
            .unwrap()
    }

    /// Sets Cargo.toml to `version`, commits, builds, publishes, smoke-tests and promotes: the
    /// whole release, in release.yml's order.
    fn release(&self, version: &str, repo: &str) -> String {
        self.set_version(version);
        self.commit(&format!("code of {version}"), &format!("Bump to {version}"));
        let dist = self.path(&format!("dist-{version}-{}", repo.replace('/', "-")));
        self.build(version, repo, &dist);
        check(self.publish(version, repo, &dist, ""), "publish.sh");
        self.smoke(version, repo);
        self.server.forget_requests();
        check(self.promote(version, repo), "promote.sh");
        self.remote_ref(version)
    }

    /// release.yml's smoke job: the action at the just-pushed tag installs the published release
    /// (downloaded, verified) and runs it.
    fn smoke(&self, version: &str, repo: &str) {
        let name = format!("smoke-{version}-{}", repo.replace('/', "-"));
        let runner = self.runner(&name);
        runner
            .run(&self.checkout(version, &name), &[("name", "smoke")])
            .ok();
        assert_eq!(
            runner.ran().trim(),
            format!("release {version} of {repo} for {LINUX_X64}"),
            "the smoke job ran another binary"
        );
    }

    /// The remote branch or tag `name`, or None.
    fn remote_ref_opt(&self, name: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["rev-parse", "-q", "--verify", &format!("{name}^{{commit}}")])
            .current_dir(self.path("origin.git"))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn remote_ref(&self, name: &str) -> String {
        self.git(
            &["rev-parse", &format!("{name}^{{commit}}")],
            Some(&self.path("origin.git")),
        )
    }

    /// The action at `rev` of the work clone as the runner gets it: the tarball of that commit.
    fn checkout(&self, rev: &str, name: &str) -> PathBuf {
        let dir = self.path(&format!("actions/{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let tar = self.path(&format!("actions/{name}.tar"));
        self.git(
            &["archive", "-o", tar.to_str().unwrap(), rev],
            Some(&self.work()),
        );
        let out = Command::new("tar")
            .arg("-xf")
            .arg(&tar)
            .arg("-C")
            .arg(&dir)
            .output()
            .unwrap();
        check(out, "tar -x");
        dir
    }

    fn runner(&self, name: &str) -> Runner {
        Runner::new(&self.path(&format!("runners/{name}")))
    }

    /// A runner whose PATH (after its fake tools) lacks `tools`.
    fn runner_without(&self, name: &str, tools: &[&str]) -> Runner {
        let mut runner = self.runner(name);
        let dir = path_without(&runner.dir.join(format!("tools-{name}")), tools);
        let fakebin = runner.dir.join("fakebin");
        runner.env.insert(
            "PATH".into(),
            format!("{}:{}", fakebin.display(), dir.display()),
        );
        runner
    }

    fn asset(&self, repo: &str, version: &str, target: &str) -> PathBuf {
        self.releases
            .join(repo)
            .join("releases")
            .join(version)
            .join(format!("artifetch-{target}.tar.gz"))
    }

    fn release_url_path(repo: &str, version: &str) -> String {
        format!("/{repo}/releases/download/{version}/artifetch-{LINUX_X64}.tar.gz")
    }
}

/// A release binary stand-in: `--version` as artifetch prints it; otherwise records who ran
/// with which INPUT_* and writes outputs, as the binary does.
fn fake_binary(version: &str, id: &str) -> String {
    format!(
        r#"#!/bin/sh
if [ "$1" = --version ]; then echo "artifetch {v}"; exit 0; fi
echo "{id}" >> "$RUNNER_TEMP/ran.log"
env | grep '^INPUT_' | sort > "$RUNNER_TEMP/ran-env"
echo "download-path=$INPUT_PATH" >> "$GITHUB_OUTPUT"
echo "found-artifact=true" >> "$GITHUB_OUTPUT"
"#,
        v = version.trim_start_matches('v')
    )
}

/// A scratch runner machine: temp, tool cache, a PATH of the usual tools (no cargo unless
/// `with_cargo`), BASH_ENV set to a script that notes every bash it runs in.
struct Runner {
    dir: PathBuf,
    env: BTreeMap<String, String>,
}

#[derive(Debug)]
struct Run {
    ok: bool,
    /// Everything the steps printed, stdout then stderr per step.
    log: String,
    /// stdout lines that are workflow commands.
    commands: Vec<String>,
    outputs: BTreeMap<String, String>,
    steps_run: Vec<String>,
}

impl Runner {
    fn new(dir: &Path) -> Runner {
        for sub in ["temp", "toolcache", "work", "fakebin"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let tools = path_without(&dir.join("tools"), &["cargo"]);
        std::fs::write(
            dir.join("bash_env.sh"),
            format!(
                "echo \"sourced ${{INPUT_BINARY_URL+in-install}}\" >> '{}'\n",
                dir.join("bash_env.log").display()
            ),
        )
        .unwrap();
        let p = |s: &str| dir.join(s).to_str().unwrap().to_string();
        let env = BTreeMap::from([
            (
                "PATH".into(),
                format!("{}:{}", p("fakebin"), tools.display()),
            ),
            ("HOME".into(), p("work")),
            ("GITHUB_ACTIONS".into(), "true".into()),
            ("GITHUB_WORKSPACE".into(), p("work")),
            ("GITHUB_REPOSITORY".into(), "user/app".into()),
            ("RUNNER_OS".into(), "Linux".into()),
            ("RUNNER_ARCH".into(), "X64".into()),
            ("RUNNER_TEMP".into(), p("temp")),
            ("RUNNER_TOOL_CACHE".into(), p("toolcache")),
            ("BASH_ENV".into(), p("bash_env.sh")),
            ("ARTIFETCH_RETRY_DELAY".into(), "0".into()),
        ]);
        Runner {
            dir: dir.to_path_buf(),
            env,
        }
    }

    fn with_cargo(&self) -> &Self {
        fake_cargo(&self.dir.join("fakebin"), &self.dir.join("cargo.log"));
        self
    }

    fn cargo_calls(&self) -> String {
        std::fs::read_to_string(self.dir.join("cargo.log")).unwrap_or_default()
    }

    fn ran(&self) -> String {
        std::fs::read_to_string(self.dir.join("temp/ran.log")).unwrap_or_default()
    }

    fn ran_env(&self) -> String {
        std::fs::read_to_string(self.dir.join("temp/ran-env")).unwrap_or_default()
    }

    fn bash_env_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("bash_env.log")).unwrap_or_default()
    }

    /// Executes `action_dir/action.yml` as the runner executes a composite action on Linux.
    fn run(&self, action_dir: &Path, with: &[(&str, &str)]) -> Run {
        let _ = std::fs::remove_file(self.dir.join("temp/ran.log"));
        let action: Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(action_dir.join("action.yml")).unwrap(),
        )
        .unwrap();
        let mut ctx = Ctx::default();
        // github context values the defaults refer to.
        ctx.github.insert("token".into(), "ghs_jobtoken".into());
        ctx.github.insert("repository".into(), "user/app".into());
        ctx.github.insert("run_id".into(), "4242".into());
        let declared = action["inputs"].as_mapping().unwrap();
        for (name, decl) in declared {
            let name = name.as_str().unwrap().to_string();
            let given = with
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string());
            let value = given.unwrap_or_else(|| {
                let default = decl.get("default").map(scalar).unwrap_or_default();
                ctx.interpolate(&default)
            });
            ctx.inputs.insert(name, value);
        }
        for (k, _) in with {
            assert!(ctx.inputs.contains_key(*k), "input {k} is not declared");
        }
        let mut run = Run {
            ok: true,
            log: String::new(),
            commands: Vec::new(),
            outputs: BTreeMap::new(),
            steps_run: Vec::new(),
        };
        let steps = action["runs"]["steps"].as_sequence().unwrap();
        for (n, step) in steps.iter().enumerate() {
            let id = step
                .get("id")
                .map(scalar)
                .unwrap_or_else(|| format!("__{n}"));
            if let Some(cond) = step.get("if").map(scalar)
                && !ctx.condition(&cond)
            {
                continue;
            }
            let shell = step
                .get("shell")
                .map(scalar)
                .expect("a run step has a shell");
            let script = self.dir.join(format!("temp/step-{n}.sh"));
            std::fs::write(&script, step.get("run").map(scalar).unwrap()).unwrap();
            // The runner's command lines for the named shells.
            let mut cmd = match shell.as_str() {
                "bash" => {
                    let mut c = Command::new("bash");
                    c.args(["--noprofile", "--norc", "-eo", "pipefail"]);
                    c
                }
                "sh" => {
                    let mut c = Command::new("sh");
                    c.arg("-e");
                    c
                }
                other => panic!("step {id}: shell {other} is not emulated"),
            };
            let output_file = self.dir.join(format!("temp/output-{n}"));
            std::fs::write(&output_file, "").unwrap();
            cmd.arg(&script)
                .env_clear()
                .envs(&self.env)
                .env("GITHUB_ACTION_PATH", action_dir)
                .env("GITHUB_OUTPUT", &output_file)
                .current_dir(self.dir.join("work"));
            if let Some(env) = step.get("env").and_then(Value::as_mapping) {
                for (k, v) in env {
                    cmd.env(scalar(k), ctx.interpolate(&scalar(v)));
                }
            }
            // Resolve PATH the way the runner does: the shell is looked up on the job's PATH.
            let out = cmd.output().unwrap();
            run.steps_run.push(id.clone());
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            run.commands.extend(
                stdout
                    .lines()
                    .filter(|l| l.starts_with("::"))
                    .map(str::to_string),
            );
            run.log.push_str(&stdout);
            run.log.push_str(&String::from_utf8_lossy(&out.stderr));
            ctx.steps.insert(
                id.clone(),
                parse_outputs(&std::fs::read_to_string(&output_file).unwrap()),
            );
            if !out.status.success() {
                run.ok = false;
                break;
            }
        }
        if run.ok {
            for (name, decl) in action["outputs"].as_mapping().unwrap() {
                let value = ctx.interpolate(&decl.get("value").map(scalar).unwrap_or_default());
                run.outputs.insert(scalar(name), value);
            }
        }
        run
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

/// `name=value` and `name<<DELIM ... DELIM` lines of a GITHUB_OUTPUT file.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delim).collect();
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        }
    }
    out
}

/// The expression contexts a composite action's steps see, and the subset of the expression
/// language action.yml uses (`a || b`, `==`, `!=`, string literals, context paths). Anything else
/// panics, so a change to action.yml that this emulation cannot follow fails loudly.
#[derive(Default)]
struct Ctx {
    inputs: BTreeMap<String, String>,
    github: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
}

impl Ctx {
    fn operand(&self, op: &str) -> String {
        let op = op.trim();
        if let Some(lit) = op.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return lit.replace("''", "'");
        }
        let parts: Vec<&str> = op.split('.').collect();
        match parts[..] {
            ["inputs", name] => self
                .inputs
                .get(name)
                .unwrap_or_else(|| panic!("undeclared input {name}"))
                .clone(),
            ["github", name] => self
                .github
                .get(name)
                .unwrap_or_else(|| panic!("github.{name} is not emulated"))
                .clone(),
            ["runner", "os"] => "Linux".to_string(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default(),
            _ => panic!("expression {op:?} is not emulated"),
        }
    }

    fn eval(&self, expr: &str) -> String {
        let mut last = String::new();
        for op in expr.split("||") {
            last = self.operand(op);
            if !last.is_empty() {
                return last;
            }
        }
        last
    }

    fn interpolate(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed ${{") + start;
            out.push_str(&self.eval(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn condition(&self, cond: &str) -> bool {
        let c = cond.trim();
        let c = c
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(c);
        if let Some((a, b)) = c.split_once("!=") {
            self.operand(a) != self.operand(b)
        } else if let Some((a, b)) = c.split_once("==") {
            self.operand(a) == self.operand(b)
        } else {
            panic!("condition {cond:?} is not emulated")
        }
    }
}

impl Run {
    fn ok(&self) -> &Self {
        assert!(self.ok, "the action failed:\n{}", self.log);
        assert!(
            !self.commands.iter().any(|c| c.starts_with("::error")),
            "{:#?}",
            self.commands
        );
        self
    }

    fn failed(&self, needles: &[&str]) {
        assert!(!self.ok, "the action succeeded:\n{}", self.log);
        assert_eq!(self.steps_run, ["install"], "only the install step ran");
        let errors: Vec<_> = self
            .commands
            .iter()
            .filter(|c| c.starts_with("::error title=artifetch install::"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "one error annotation: {:#?}",
            self.commands
        );
        for n in needles {
            assert!(
                errors[0].contains(n),
                "the error lacks {n:?}: {}",
                errors[0]
            );
        }
    }

    fn warnings(&self) -> Vec<&String> {
        self.commands
            .iter()
            .filter(|c| c.starts_with("::warning title=artifetch install::"))
            .collect()
    }

    fn only_warning(&self, needles: &[&str]) {
        let w = self.warnings();
        assert_eq!(w.len(), 1, "{:#?}", self.commands);
        for n in needles {
            assert!(w[0].contains(n), "the warning lacks {n:?}: {}", w[0]);
        }
    }
}

/// upstream with two releases (v1.0.0, then v1.1.0) and main moved on after them.
struct Released {
    p: Project,
    v100: String,
    v110: String,
    src110: String,
}

fn released() -> Released {
    let p = Project::new("v1.0.0");
    let v100 = p.release("v1.0.0", UPSTREAM);
    let v110 = p.release("v1.1.0", UPSTREAM);
    let src110 = p.git(&["rev-parse", "HEAD"], Some(&p.work()));
    p.commit("code of main after v1.1.0", "more work");
    p.git(&["push", "-q", "origin", "main"], Some(&p.work()));
    Released {
        p,
        v100,
        v110,
        src110,
    }
}

/// Table row 1: `@vX.Y.Z`, `@vX` and the SHA either resolves to run that release's prebuilt
/// binary, verified; the next job on the runner takes it from the tool cache, re-hashed.
#[test]
fn version_tags_and_the_commits_they_name_run_that_releases_binary() {
    let r = released();
    let p = &r.p;
    assert_eq!(p.remote_ref("v1"), r.v110, "v1 moved to the latest release");
    // The tag names a commit whose only change is checksums.txt, on top of the release's source.
    assert_eq!(p.remote_ref("v1.1.0^"), r.src110);
    let changed = p.git(
        &["diff", "--name-only", "v1.1.0^", "v1.1.0"],
        Some(&p.path("origin.git")),
    );
    assert_eq!(changed, "checksums.txt");
    for (rev, version) in [
        ("v1.0.0", "v1.0.0"),
        ("v1.1.0", "v1.1.0"),
        ("v1", "v1.1.0"),
        (r.v100.as_str(), "v1.0.0"),
        (r.v110.as_str(), "v1.1.0"),
    ] {
        let action = p.checkout(rev, &format!("at-{rev}"));
        let runner = p.runner(&format!("at-{rev}"));
        runner.with_cargo(); // present, and must not be used
        let before = p.server.requests().len();
        let run = runner.run(&action, &[("name", "dist"), ("path", "/tmp/out")]);
        run.ok();
        assert_eq!(
            runner.ran().trim(),
            format!("release {version} of {UPSTREAM} for {LINUX_X64}"),
            "@{rev}"
        );
        assert!(run.warnings().is_empty(), "@{rev}: {:#?}", run.commands);
        assert!(run.log.contains("sha256 verified"), "{}", run.log);
        assert_eq!(
            p.server.requests()[before..],
            [Project::release_url_path(UPSTREAM, version)],
            "@{rev}"
        );
        assert!(runner.cargo_calls().is_empty(), "@{rev}: cargo was called");
        // Outputs pass from the run step to the action's outputs.
        assert_eq!(run.outputs["download-path"], "/tmp/out");
        assert_eq!(run.outputs["found-artifact"], "true");
        // Inputs reach the binary with their defaults.
        let env = runner.ran_env();
        for line in [
            "INPUT_NAME=dist",
            "INPUT_GITHUB_TOKEN=ghs_jobtoken",
            "INPUT_REPOSITORY=user/app",
            "INPUT_RUN_ID=4242",
            "INPUT_MAX_SIZE=20GiB",
            "INPUT_IF_NO_ARTIFACT_FOUND=fail",
        ] {
            assert!(
                env.lines().any(|l| l == line),
                "@{rev}: no {line} in\n{env}"
            );
        }
        // Neither the install step nor the run step sourced the job's BASH_ENV (both `sh`,
        // BASH_ENV unset before bash or the binary runs).
        assert_eq!(runner.bash_env_log().trim(), "", "@{rev}");

        // The next job on the same runner: the tool cache, re-hashed, no download.
        let again = runner.run(&action, &[("name", "dist")]);
        again.ok();
        assert!(again.log.contains("tool cache hit"), "{}", again.log);
        assert_eq!(
            p.server.requests().len(),
            before + 1,
            "@{rev}: downloaded twice"
        );
    }
}

/// Table row 2: a branch, a pull request (`uses: ./` on its checkout), a fork's branch and a
/// commit no tag names (the source commit a release was built from) build that very code, with
/// a warning that says why and that it needs crates.io; nothing is downloaded.
#[test]
fn branches_pull_requests_forks_and_untagged_commits_build_their_own_code() {
    let r = released();
    let p = &r.p;
    // A pull request: a branch off main with a change, checked out as `uses: ./` sees it.
    p.git(&["switch", "-q", "-c", "pr"], Some(&p.work()));
    p.commit("code of the pull request", "PR change");
    // A fork: another repository with main's history and its own change.
    p.git(&["clone", "-q", "origin.git", "fork"], None);
    let fork = p.path("fork");
    std::fs::write(fork.join("src/code.txt"), "code of the fork").unwrap();
    p.git(&["commit", "-q", "-am", "fork change"], Some(&fork));
    p.git(
        &["fetch", "-q", "../fork", "main:fork-main"],
        Some(&p.work()),
    );
    for (rev, name) in [
        ("main", "branch"),
        ("pr", "pull-request"),
        ("fork-main", "fork"),
        (r.src110.as_str(), "untagged-commit"),
    ] {
        let action = p.checkout(rev, name);
        let runner = p.runner(name);
        runner.with_cargo();
        let before = p.server.requests().len();
        let run = runner.run(&action, &[("name", "dist")]);
        run.ok();
        assert!(runner.ran().is_empty(), "{name}: a release binary ran");
        assert!(
            runner
                .cargo_calls()
                .contains(&format!("install --locked --path {}", action.display())),
            "{name}: {}",
            runner.cargo_calls()
        );
        run.only_warning(&[
            "building artifetch from source",
            "no release checksums",
            "crates.io",
        ]);
        assert_eq!(
            p.server.requests().len(),
            before,
            "{name}: something was downloaded"
        );
        assert_eq!(
            run.outputs["found-artifact"], "",
            "{name}: the fake source build writes none"
        );
    }
    // Without cargo: a clear error, never another version's binary.
    let action = p.checkout("main", "branch-no-cargo");
    p.runner("branch-no-cargo").run(&action, &[]).failed(&[
        "no release checksums",
        "cargo (not on PATH)",
        "uses: <owner>/artifetch@vX.Y.Z",
    ]);
}

/// Table row 3: checksums of another version than Cargo.toml's at the same ref (a branch made
/// from a release tag, version bumped) build that code.
#[test]
fn checksums_of_another_version_than_cargo_toml_build_that_code() {
    let r = released();
    let p = &r.p;
    p.git(&["switch", "-q", "-c", "hotfix", "v1.0.0"], Some(&p.work()));
    assert!(
        std::fs::read_to_string(p.work().join("checksums.txt"))
            .unwrap()
            .contains("# version: v1.0.0")
    );
    p.set_version("v1.0.1");
    p.commit("code of the hotfix", "Bump to 1.0.1");
    let action = p.checkout("hotfix", "hotfix");
    let runner = p.runner("hotfix");
    runner.with_cargo();
    let before = p.server.requests().len();
    let run = runner.run(&action, &[]);
    run.ok();
    run.only_warning(&[
        "checksums.txt is for v1.0.0 but Cargo.toml at this ref says v1.0.1",
        "crates.io",
    ]);
    assert!(runner.ran().is_empty());
    assert!(runner.cargo_calls().contains("install --locked --path"));
    assert_eq!(p.server.requests().len(), before);
}

fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            for (k, v) in tree(&path) {
                out.insert(format!("{}/{k}", e.file_name().to_string_lossy()), v);
            }
        } else {
            out.insert(
                e.file_name().to_string_lossy().into_owned(),
                sha256_hex(&std::fs::read(&path).unwrap()),
            );
        }
    }
    out
}

/// A release that fails half-way (the API fails while publishing) is completed by a re-run;
/// re-running a finished release changes nothing; no pull request and no repository setting is
/// involved; another build for an existing tag is refused.
#[test]
fn rerunning_a_release_completes_it_and_changes_nothing_after() {
    let p = Project::new("v1.0.0");
    let src = p.git(&["rev-parse", "HEAD"], Some(&p.work()));
    let dist = p.path("dist");
    p.build("v1.0.0", UPSTREAM, &dist);

    let first = p.publish("v1.0.0", UPSTREAM, &dist, "edit");
    assert!(
        !first.status.success(),
        "the fake API failure did not fail the release"
    );
    // Half-way: the tag exists, the release is still a draft that serves nothing.
    let tagged = p.remote_ref("v1.0.0");
    assert_eq!(p.remote_ref("v1.0.0^"), src);
    let action = p.checkout("v1.0.0", "half-way");
    let runner = p.runner("half-way");
    runner.with_cargo();
    let run = runner.run(&action, &[]);
    run.ok();
    run.only_warning(&[
        "not in the release v1.0.0 of owner/artifetch (HTTP 404",
        "building artifetch from source",
    ]);

    check(p.publish("v1.0.0", UPSTREAM, &dist, ""), "re-run");
    assert_eq!(
        p.remote_ref("v1.0.0"),
        tagged,
        "the re-run made another commit"
    );
    assert_eq!(p.remote_ref("releases/v1"), tagged);
    assert_eq!(p.remote_ref_opt("v1"), None, "v1 moved before the smoke");
    p.smoke("v1.0.0", UPSTREAM);
    check(p.promote("v1.0.0", UPSTREAM), "promote.sh");
    assert_eq!(p.remote_ref("v1"), tagged);
    check(p.promote("v1.0.0", UPSTREAM), "promote.sh again");
    let host = tree(&p.releases);
    assert!(!host.keys().any(|k| k.ends_with(".draft")), "{host:?}");
    let runner = p.runner("completed");
    runner.run(&p.checkout("v1.0.0", "completed"), &[]).ok();
    assert!(runner.ran().contains("release v1.0.0"));

    check(p.publish("v1.0.0", UPSTREAM, &dist, ""), "second re-run");
    assert_eq!(p.remote_ref("v1.0.0"), tagged);
    assert_eq!(tree(&p.releases), host, "a finished release changed");
    let gh = std::fs::read_to_string(p.path("gh.log")).unwrap();
    assert_eq!(gh.matches("gh release create").count(), 1, "{gh}");
    assert!(!gh.contains(" pr "), "{gh}");

    // Other archives for the same tag (a rebuild that differs) are refused; nothing changes.
    let other = p.path("dist-other");
    p.build("v1.0.0", "someone/else", &other);
    let out = p.publish("v1.0.0", UPSTREAM, &other, "");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already names"),
        "{out:?}"
    );
    assert_eq!(p.remote_ref("v1.0.0"), tagged);
    assert_eq!(tree(&p.releases), host);
}

/// Every release commit is pushed to `releases/v1`, which only moves forward (origin refuses
/// non-fast-forward pushes and deletions, as the protected branch does): each tag's commit, an
/// older line's patch included, belongs to the branch, so a pinned SHA is on a branch; main
/// never carries release checksums; `@releases/v1` runs the last release published on it.
#[test]
fn release_commits_belong_to_the_protected_release_branch() {
    let p = Project::new("v1.0.0");
    let v100 = p.release("v1.0.0", UPSTREAM);
    assert_eq!(p.remote_ref("releases/v1"), v100);
    let v110 = p.release("v1.1.0", UPSTREAM);
    assert_eq!(p.remote_ref("releases/v1"), v110);
    p.git(&["switch", "-q", "-c", "patch", &v100], Some(&p.work()));
    let v101 = p.release("v1.0.1", UPSTREAM);
    let tip = p.remote_ref("releases/v1");
    assert_eq!(tip, v101, "the branch holds the last release published");
    let origin = p.path("origin.git");
    for (tag, commit) in [("v1.0.0", &v100), ("v1.1.0", &v110), ("v1.0.1", &v101)] {
        let on_branch = Command::new("git")
            .args(["merge-base", "--is-ancestor", commit, &tip])
            .current_dir(&origin)
            .status()
            .unwrap();
        assert!(on_branch.success(), "{tag} ({commit}) is on no branch");
        // First parent: the release's source, so the tag's own change is checksums.txt alone.
        let changed = p.git(
            &["diff", "--name-only", &format!("{tag}^"), tag],
            Some(&origin),
        );
        assert_eq!(changed, "checksums.txt", "{tag}");
    }
    let main_sums = p.git(&["show", "main:checksums.txt"], Some(&origin));
    assert!(!main_sums.contains("# version:"), "{main_sums}");

    let runner = p.runner("release-branch");
    runner
        .run(&p.checkout(&tip, "release-branch"), &[("name", "dist")])
        .ok();
    assert_eq!(
        runner.ran().trim(),
        format!("release v1.0.1 of {UPSTREAM} for {LINUX_X64}")
    );
}

/// release.yml's order, locally: publish.sh (branch, tag, release) leaves `v1` where it was; the
/// smoke installs the just-published release through action.yml at its tag; only then does
/// promote.sh move `v1`. A release whose asset is broken fails the smoke and is never promoted;
/// promote.sh refuses a version that was not published.
#[test]
fn the_major_tag_moves_only_after_the_smoke_installs_the_release() {
    let p = Project::new("v1.0.0");
    let v100 = p.release("v1.0.0", UPSTREAM);
    for (version, broken) in [("v1.1.0", false), ("v1.2.0", true)] {
        p.set_version(version);
        p.commit(&format!("code of {version}"), "bump");
        let dist = p.path(&format!("dist-{version}"));
        p.build(version, UPSTREAM, &dist);
        check(p.publish(version, UPSTREAM, &dist, ""), "publish.sh");
        let published = p.remote_ref(version);
        assert_eq!(p.remote_ref("releases/v1"), published);
        let before = if broken {
            p.remote_ref("v1.1.0")
        } else {
            v100.clone()
        };
        assert_eq!(
            p.remote_ref("v1"),
            before,
            "{version}: v1 moved before the smoke"
        );
        if broken {
            std::fs::write(p.asset(UPSTREAM, version, LINUX_X64), "truncated").unwrap();
            let runner = p.runner("smoke-broken");
            runner
                .run(&p.checkout(version, "smoke-broken"), &[("name", "smoke")])
                .failed(&["checksum mismatch"]);
            // release.yml's promote job needs every smoke job: it never runs.
            assert_eq!(p.remote_ref("v1"), before, "a broken release reached v1");
        } else {
            p.smoke(version, UPSTREAM);
            check(p.promote(version, UPSTREAM), "promote.sh");
            assert_eq!(p.remote_ref("v1"), published);
        }
    }
    let out = p.promote("v1.3.0", UPSTREAM);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("publish the release (publish.sh) first"),
        "{out:?}"
    );
}

/// release.yml itself runs in that order: the promote job needs the publish job and every smoke
/// job; the smoke jobs cover ubuntu x64 and arm64, macOS arm64, Windows x64 and a container, use
/// the action at the just-published tag with the source fallback off, and fetch the artifact a
/// job of the same run uploaded; only promote runs promote.sh, only publish runs publish.sh.
#[test]
fn release_workflow_smokes_every_platform_before_promoting() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    let wf: Value = serde_yaml_ng::from_str(&text).unwrap();
    let jobs = &wf["jobs"];
    let needs = |job: &str| -> Vec<String> {
        match &jobs[job]["needs"] {
            Value::Sequence(v) => v.iter().map(scalar).collect(),
            v => vec![scalar(v)],
        }
    };
    let runs = |job: &str| -> String {
        let steps = jobs[job]["steps"].as_sequence().unwrap();
        steps
            .iter()
            .map(|st| scalar(&st["run"]))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut promote_needs = needs("promote");
    promote_needs.sort();
    assert_eq!(promote_needs, ["publish", "smoke", "smoke-container"]);
    assert!(runs("promote").contains("scripts/release/promote.sh"));
    assert!(!runs("publish").contains("promote.sh"));
    let oses: Vec<String> = jobs["smoke"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| scalar(&m["os"]))
        .collect();
    assert_eq!(
        oses,
        [
            "ubuntu-latest",
            "ubuntu-24.04-arm",
            "macos-latest",
            "windows-latest"
        ]
    );
    assert!(jobs["smoke-container"]["container"].as_str().is_some());
    let uploaded = scalar(&jobs["smoke-payload"]["steps"][1]["with"]["name"]);
    for job in ["smoke", "smoke-container"] {
        let mut n = needs(job);
        n.sort();
        assert_eq!(n, ["publish", "smoke-payload"], "{job}");
        let steps = jobs[job]["steps"].as_sequence().unwrap();
        let checkout = steps
            .iter()
            .find(|st| scalar(&st["uses"]).starts_with("actions/checkout@"))
            .unwrap();
        assert_eq!(
            scalar(&checkout["with"]["ref"]),
            "refs/tags/${{ inputs.version }}",
            "{job}"
        );
        let dir = scalar(&checkout["with"]["path"]);
        let action = steps
            .iter()
            .find(|st| scalar(&st["uses"]) == format!("./{dir}"))
            .unwrap();
        assert_eq!(scalar(&action["with"]["name"]), uploaded, "{job}");
        assert_eq!(
            scalar(&action["env"]["ARTIFETCH_INSTALL"]),
            "prebuilt-only",
            "{job}"
        );
    }
}

/// The release refuses a version that is not Cargo.toml's; an older patch release does not move
/// the major tag back; every archive carries both licence texts.
#[test]
fn release_checks_the_version_the_major_tag_and_the_archives() {
    let p = Project::new("v1.0.0");
    let dist = p.path("dist");
    p.build("v1.0.0", UPSTREAM, &dist);
    let refused = |version: &str, why: &str| {
        let out = p.publish(version, UPSTREAM, &dist, "");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{out:?}"
        );
        assert!(!p.releases.join(UPSTREAM).exists(), "a release was made");
    };
    refused("v1.0.1", "does not match Cargo.toml's version (1.0.0)");
    // A major version README's snippets do not name: refused before anything is made.
    p.set_version("v2.0.0");
    refused("v2.0.0", "README.md's snippets name v1 but v2.0.0 moves v2");

    let v100 = p.release("v1.0.0", UPSTREAM);
    let v110 = p.release("v1.1.0", UPSTREAM);
    p.git(&["switch", "-q", "-c", "patch", &v100], Some(&p.work()));
    let v101 = p.release("v1.0.1", UPSTREAM);
    assert_eq!(p.remote_ref("v1.0.1"), v101);
    assert_eq!(
        p.remote_ref("v1"),
        v110,
        "v1 moved back to an older release"
    );

    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(p.asset(UPSTREAM, "v1.0.1", "x86_64-pc-windows-msvc"))
        .output()
        .unwrap();
    let mut names: Vec<String> = check(listing, "tar -t")
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    assert_eq!(names, ["LICENSE-APACHE", "LICENSE-MIT", "artifetch.exe"]);
    let sums = std::fs::read_to_string(
        p.releases
            .join(UPSTREAM)
            .join("releases/v1.0.1/checksums.txt"),
    )
    .unwrap();
    for target in targets() {
        assert!(
            sums.contains(&format!("  artifetch-{target}.tar.gz\n")),
            "{sums}"
        );
        assert!(
            sums.contains(&format!("  artifetch-{target}/artifetch")),
            "{sums}"
        );
    }
    assert!(sums.contains("# repository: owner/artifetch\n"), "{sums}");
}

/// A fork that publishes its own release: its tags download from its own repository.
#[test]
fn a_forks_release_downloads_from_the_fork() {
    let p = Project::new("v1.0.0");
    p.release("v1.0.0", "someone/artifetch");
    let runner = p.runner("fork");
    runner.run(&p.checkout("v1.0.0", "fork"), &[]).ok();
    assert_eq!(
        runner.ran().trim(),
        format!("release v1.0.0 of someone/artifetch for {LINUX_X64}")
    );
    assert_eq!(
        p.server.requests(),
        [Project::release_url_path("someone/artifetch", "v1.0.0")]
    );
}

/// One release, checked out at its tag, for the failure cases.
fn at_tag() -> (Project, PathBuf) {
    let p = Project::new("v1.0.0");
    p.release("v1.0.0", UPSTREAM);
    let action = p.checkout("v1.0.0", "v1.0.0");
    (p, action)
}

#[test]
fn a_binary_planted_in_the_tool_cache_is_refused() {
    let (p, action) = at_tag();
    let runner = p.runner("planted");
    runner.run(&action, &[]).ok();
    // An earlier job on a persistent runner replaces the cached binary with its own.
    let cached = runner.dir.join("toolcache/artifetch/1.0.0/x64/artifetch");
    let marker = runner.dir.join("planted-ran");
    write_exec(
        &cached,
        &format!(
            "#!/bin/sh\ntouch '{}'\necho 'artifetch 1.0.0'\n",
            marker.display()
        ),
    );
    let run = runner.run(&action, &[]);
    run.ok();
    assert!(!marker.exists(), "the planted binary ran");
    run.only_warning(&["ignoring", "tool cache", "planted"]);
    assert!(runner.ran().contains("release v1.0.0"), "{}", runner.ran());
    assert_eq!(p.server.requests().len(), 2, "downloaded again");
}

#[test]
fn an_unwritable_tool_cache_falls_back_to_runner_temp() {
    let (p, action) = at_tag();
    let mut runner = p.runner("unwritable");
    let file = runner.dir.join("cache-is-a-file");
    std::fs::write(&file, "").unwrap();
    runner
        .env
        .insert("RUNNER_TOOL_CACHE".into(), file.to_str().unwrap().into());
    let run = runner.run(&action, &[]);
    run.ok();
    run.only_warning(&["cannot write to the tool cache", "using RUNNER_TEMP"]);
    assert!(runner.ran().contains("release v1.0.0"));
}

#[test]
fn curl_missing_is_a_clear_error_or_a_source_build() {
    let (p, action) = at_tag();
    let runner = p.runner_without("no-curl", &["curl", "wget", "cargo"]);
    runner
        .run(&action, &[])
        .failed(&["curl (or wget) not on PATH", "Install curl (or wget)"]);
    runner.with_cargo();
    let run = runner.run(&action, &[]);
    run.ok();
    run.only_warning(&[
        "curl (or wget) not on PATH",
        "building artifetch from source",
    ]);
    assert!(p.server.requests().is_empty());

    // wget alone: the release binary, downloaded with wget and verified.
    let runner = p.runner_without("wget-only", &["curl", "cargo"]);
    let run = runner.run(&action, &[]);
    run.ok();
    assert!(run.log.contains("sha256 verified"), "{}", run.log);
    assert!(runner.ran().contains("release v1.0.0"), "{}", runner.ran());
}

#[test]
fn a_container_without_bash_gets_a_clear_error() {
    let (p, action) = at_tag();
    let mut runner = p.runner("no-bash");
    let tools = path_without(&runner.dir.join("tools-no-bash"), &["bash", "cargo"]);
    runner
        .env
        .insert("PATH".into(), tools.to_str().unwrap().into());
    runner
        .run(&action, &[])
        .failed(&["bash is not installed", "curl"]);
}

#[test]
fn an_asset_missing_from_the_release_is_said_so() {
    let (p, action) = at_tag();
    std::fs::remove_file(p.asset(UPSTREAM, "v1.0.0", LINUX_X64)).unwrap();
    let runner = p.runner("missing");
    runner
        .run(&action, &[])
        .failed(&["artifetch-x86_64-unknown-linux-musl.tar.gz is not in the release v1.0.0 of owner/artifetch (HTTP 404", "binary-url (not set)"]);
    assert_eq!(p.server.requests().len(), 1, "a 404 is not retried");
}

#[test]
fn the_binary_url_mirror_serves_the_release_verified() {
    let (p, action) = at_tag();
    let asset = p.asset(UPSTREAM, "v1.0.0", LINUX_X64);
    let bytes = std::fs::read(&asset).unwrap();
    std::fs::remove_file(&asset).unwrap(); // the runner cannot get it from the release
    let name = format!("artifetch-{LINUX_X64}.tar.gz");
    p.server
        .route(&format!("/mirror/{name}"), vec![(200, bytes)]);
    let runner = p.runner("mirror");
    let mirror = p.server.url("/mirror/");
    let run = runner.run(&action, &[("binary-url", &mirror)]);
    run.ok();
    assert!(runner.ran().contains("release v1.0.0"));
    assert!(
        run.log.contains("from the mirror (binary-url)"),
        "{}",
        run.log
    );

    // A mirror serving other bytes is refused.
    std::fs::remove_dir_all(runner.dir.join("toolcache/artifetch")).unwrap();
    p.server.route(
        &format!("/mirror/{name}"),
        vec![(200, b"other bytes".to_vec())],
    );
    runner.with_cargo(); // a mismatch is not hidden by a fallback
    runner
        .run(&action, &[("binary-url", &mirror)])
        .failed(&["checksum mismatch", "the mirror (binary-url)"]);
    assert!(runner.cargo_calls().is_empty());
}

#[test]
fn a_tampered_release_asset_is_refused() {
    let (p, action) = at_tag();
    std::fs::write(p.asset(UPSTREAM, "v1.0.0", LINUX_X64), "tampered").unwrap();
    let runner = p.runner("tampered");
    runner.with_cargo();
    runner
        .run(&action, &[])
        .failed(&["checksum mismatch", &sha256_hex(b"tampered"), "not used"]);
    assert!(runner.cargo_calls().is_empty());
    assert!(runner.ran().is_empty());
}
