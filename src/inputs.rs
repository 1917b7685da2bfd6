//! The one table of inputs: every option artifetch reads, with its default and help text.
//!
//! The same table drives the `INPUT_<NAME>` environment lookup, the command-line flags, `--help`,
//! and the check that `action.yml` declares exactly these inputs. Add an input here and nowhere
//! else needs a list of names.

use std::collections::BTreeMap;
use std::ffi::OsString;

use anyhow::{Context, Result, bail};

/// What kind of value an input takes; booleans may be given as a bare flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
}

/// One input of the action (and flag of the binary).
#[derive(Debug)]
pub struct Input {
    pub name: &'static str,
    pub kind: Kind,
    /// The default as the action declares it (empty: none, or computed at run time).
    pub default: &'static str,
    pub help: &'static str,
}

const fn text(name: &'static str, default: &'static str, help: &'static str) -> Input {
    Input {
        name,
        kind: Kind::Text,
        default,
        help,
    }
}

const fn flag(name: &'static str, help: &'static str) -> Input {
    Input {
        name,
        kind: Kind::Bool,
        default: "false",
        help,
    }
}

pub const INPUTS: &[Input] = &[
    text(
        "name",
        "",
        "Name of one artifact to download (exact); extracted straight into `path`.",
    ),
    text(
        "pattern",
        "",
        "Glob over artifact names (minimatch: * ? [..] {a,b}, leading ! negates).",
    ),
    text(
        "artifact-ids",
        "",
        "Comma-separated artifact ids to download.",
    ),
    text(
        "path",
        "",
        "Destination directory. Default: GITHUB_WORKSPACE, else the current directory.",
    ),
    text(
        "files",
        "",
        "Globs over the paths inside each artifact, one a line (! excludes): extract only what they take.",
    ),
    flag(
        "merge-multiple",
        "Put several artifacts into `path` itself instead of `path/<name>/`.",
    ),
    text(
        "github-token",
        "",
        "Token for the API. Default: the GITHUB_TOKEN environment variable.",
    ),
    text(
        "repository",
        "",
        "owner/repo (or its https URL) the artifacts belong to. Default: GITHUB_REPOSITORY.",
    ),
    text(
        "run-id",
        "",
        "Workflow run whose artifacts to fetch: its id, or a run or job URL. Default: GITHUB_RUN_ID.",
    ),
    flag(
        "skip-decompress",
        "Keep each download as `<path>/<name>.zip` instead of extracting it.",
    ),
    text(
        "digest-mismatch",
        "error",
        "On a SHA-256 mismatch: error, warn, info or ignore.",
    ),
    text(
        "expected-digest",
        "",
        "The producer's archive SHA-256 (hex or sha256:hex); several artifacts: NAME=DIGEST lines.",
    ),
    flag(
        "verify-attestation",
        "Extract an artifact only if a GitHub attestation of its archive digest verifies (offline).",
    ),
    text(
        "attestation-signer-workflow",
        "",
        "owner/repo/.github/workflows/file.yml[@ref] that must have signed. Default: the run's workflow.",
    ),
    text(
        "attestation-repository",
        "",
        "owner/repo the attested build must come from. Default: the artifact's repository.",
    ),
    text(
        "attestation-predicate-type",
        "https://slsa.dev/provenance/v1",
        "The in-toto predicate type the attestation must have.",
    ),
    text(
        "trusted-root",
        "",
        "A Sigstore trusted_root.json. Default: the public-good and GitHub roots embedded in the binary.",
    ),
    text(
        "expected-files-digest",
        "",
        "The producer's files-digest (artifetch manifest); several artifacts: NAME=DIGEST lines.",
    ),
    text(
        "expected-files",
        "",
        "The producer's file list (artifetch manifest or sha256sum lines), inline or @path.",
    ),
    text(
        "if-no-artifact-found",
        "fail",
        "When nothing matches: fail, warn or ignore.",
    ),
    text(
        "summary",
        "true",
        "Write the job summary: true, false, or on-failure (only when the step did not fully succeed).",
    ),
    flag(
        "dry-run",
        "Resolve and select, write outputs and summary, download nothing.",
    ),
    flag(
        "allow-git-paths",
        "Let artifacts write `.git` (or names Windows/macOS fold to it) into `path`.",
    ),
    text(
        "max-size",
        "20GiB",
        "Bound on uncompressed bytes per artifact (e.g. 500MiB, 20GiB).",
    ),
    text(
        "max-files",
        "1000000",
        "Bound on the entries (files, directories, symlinks) of one artifact.",
    ),
    text(
        "max-ratio",
        "500",
        "Bound on an artifact's uncompressed:compressed size ratio (above 16 MiB).",
    ),
    text(
        "partial-download",
        "auto",
        "With files: fetch only the selected entries by HTTP range (auto: when they are a small part of a large archive; true; false).",
    ),
    text(
        "cache-dir",
        "",
        "Directory of verified archives kept across jobs on a persistent runner (off: none). Default: ARTIFETCH_CACHE_DIR, else no cache.",
    ),
    text(
        "cache-max-size",
        "10GiB",
        "Bound on the cache's size; the least recently used archives go first.",
    ),
    text(
        "concurrency",
        "4",
        "How many artifacts download at once (1-32).",
    ),
    text(
        "workflow",
        "",
        "Search this workflow's runs: file name (build.yml), numeric id, or github.workflow_ref.",
    ),
    text(
        "branch",
        "",
        "Search runs of this branch (refs/heads/ is stripped).",
    ),
    text(
        "event",
        "",
        "Search runs triggered by this event (push, pull_request, ...).",
    ),
    text("commit", "", "Search runs of this head commit SHA."),
    text("pr", "", "Search runs of this pull request's head commit."),
    text(
        "workflow-conclusion",
        "success",
        "When searching: run status or conclusion to match; empty matches any.",
    ),
    text(
        "run-number",
        "",
        "When searching: the run with this run number.",
    ),
    flag(
        "search-artifacts",
        "Walk back through older matching runs until one has a matching artifact.",
    ),
    flag(
        "allow-forks",
        "Accept runs whose head repository is a fork (untrusted artifacts).",
    ),
    text("max-runs", "200", "Bound on the runs a search examines."),
    text(
        "fallback",
        "",
        "Lines of filters (branch=, event=, workflow=, commit=, workflow-conclusion=) tried in order when the search finds nothing.",
    ),
    text(
        "shard",
        "",
        "i/n: take a stable 1/n of the selected artifacts (by a hash of the name).",
    ),
    text(
        "max-api-requests",
        "",
        "Most API requests this step may send; stops before exceeding it.",
    ),
    text(
        "wait-timeout",
        "0",
        "Seconds to poll until a matching run completes or the artifact appears.",
    ),
    text(
        "wait-for",
        "run",
        "What wait-timeout waits for: run, artifact or job:<name> (fails once that job has finished without it).",
    ),
    flag(
        "delete-after",
        "Delete each artifact once downloaded and verified (needs actions: write).",
    ),
    text(
        "stall-timeout",
        "30",
        "Seconds without a byte before a download is retried.",
    ),
    text(
        "timeout",
        "0",
        "Minutes the whole step may take (0: no bound).",
    ),
];

/// An input's name, checked against [`INPUTS`] when the program is compiled: made only by
/// [`input!`], so a misspelt name is a compile error, not an input silently never read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name(&'static str);

impl Name {
    /// `name` if the table has it; evaluated in a `const` (by [`input!`]), a miss fails the build.
    pub const fn checked(name: &'static str) -> Name {
        let mut i = 0;
        while i < INPUTS.len() {
            if same(INPUTS[i].name, name) {
                return Name(name);
            }
            i += 1;
        }
        panic!("not an input of the table in src/inputs.rs");
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `input!("max-size")`: the [`Name`] of an input of the table; a typo does not compile.
macro_rules! input {
    ($name:literal) => {{
        const NAME: $crate::inputs::Name = $crate::inputs::Name::checked($name);
        NAME
    }};
}
pub(crate) use input;

/// Raw input values by name: trimmed, empty ones dropped. Flags win over the environment.
#[derive(Debug, Default)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// Inputs given with a blank value (most treat that as unset).
    empty: Vec<&'static str>,
}

/// What the command line asked for besides inputs.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(RawInputs),
    /// `artifetch manifest DIR`: print DIR's canonical manifest (the producer's side).
    Manifest(std::path::PathBuf),
    Help,
    Version,
}

impl PartialEq for RawInputs {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}
impl Eq for RawInputs {}

impl RawInputs {
    /// Given, but blank: for inputs where an empty value means "off" rather than "default".
    pub fn given_empty(&self, name: Name) -> bool {
        self.empty.contains(&name.0)
    }

    /// The input's value, if it was given and is not blank.
    pub fn get(&self, name: Name) -> Option<&str> {
        self.values.get(name.0).map(String::as_str)
    }

    /// The input's value, else its default from [`INPUTS`] (the one place defaults are written;
    /// empty when the input has none).
    pub fn value(&self, name: Name) -> &str {
        self.get(name)
            .unwrap_or_else(|| lookup(name.0).map_or("", |i| i.default))
    }

    fn set(&mut self, input: &'static Input, value: &str) {
        let value = value.trim();
        self.empty.retain(|n| *n != input.name);
        if value.is_empty() {
            self.values.remove(input.name);
            self.empty.push(input.name);
        } else {
            self.values.insert(input.name, value.to_string());
        }
    }
}

fn lookup(name: &str) -> Option<&'static Input> {
    INPUTS.iter().find(|i| i.name == name)
}

/// dawidd6/action-download-artifact's underscore input names. The runner silently drops an
/// input an action does not declare, so a step copied from there would quietly fetch from the
/// current run; `action.yml` declares these (deprecated) and passes them as `LEGACY_INPUT_<NAME>`,
/// and a given one is refused with the name artifetch reads (their meanings differ in places:
/// `name_is_regexp` takes a regex where `pattern` takes a glob).
pub const LEGACY: &[(&str, &str)] = &[
    ("github_token", "github-token"),
    ("repo", "repository"),
    ("run_id", "run-id"),
    ("run_number", "run-number"),
    ("workflow_conclusion", "workflow-conclusion"),
    ("workflow_search", ""),
    ("name_is_regexp", "pattern"),
    ("search_artifacts", "search-artifacts"),
    ("check_artifacts", "search-artifacts"),
    ("skip_unpack", "skip-decompress"),
    ("if_no_artifact_found", "if-no-artifact-found"),
    ("allow_forks", "allow-forks"),
    ("dry_run", "dry-run"),
    ("merge_multiple", "merge-multiple"),
    ("use_unzip", ""),
];

/// The first dawidd6-style input that was given, as an error naming what to write instead.
fn refuse_legacy(env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    for (old, new) in LEGACY {
        let given = env(&format!("LEGACY_INPUT_{}", old.to_uppercase()))
            .is_some_and(|v| !v.trim().is_empty());
        if !given {
            continue;
        }
        match *new {
            "" => bail!(
                "{old}: an input of dawidd6/action-download-artifact that artifetch has no use for; remove it"
            ),
            new => bail!(
                "{old}: dawidd6/action-download-artifact's name for this input; artifetch reads `{new}` (see README, migrating from dawidd6)"
            ),
        }
    }
    Ok(())
}

/// Reads the command line (without the program name) and the `INPUT_*` variables from `env`.
pub fn parse(args: &[OsString], env: &dyn Fn(&str) -> Option<String>) -> Result<Command> {
    refuse_legacy(env)?;
    let mut raw = RawInputs::default();
    // Environment first (the Actions way), flags after so a person's flag overrides.
    for input in INPUTS {
        let upper = input.name.to_uppercase();
        let value = env(&format!("INPUT_{upper}"))
            .or_else(|| env(&format!("INPUT_{}", upper.replace('-', "_"))));
        if let Some(value) = value {
            raw.set(input, &value);
        }
    }

    if args.first().is_some_and(|a| a == "manifest") {
        return match &args[1..] {
            [dir] if dir != "--help" && dir != "-h" => Ok(Command::Manifest(dir.into())),
            _ => bail!(
                "usage: artifetch manifest DIR (prints DIR's canonical manifest; its files-digest goes to stderr and the files-digest output)"
            ),
        };
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .to_str()
            .with_context(|| format!("argument {arg:?} is not valid UTF-8"))?;
        match arg {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let Some(flag) = arg.strip_prefix("--") else {
            bail!("unexpected argument '{arg}'; expected --<input> <value> (see --help)");
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, None),
        };
        let input = lookup(name)
            .with_context(|| format!("unknown flag '--{name}' (see --help for the inputs)"))?;
        let value = match (inline, input.kind) {
            (Some(value), _) => value.to_string(),
            (None, Kind::Bool) => "true".to_string(),
            (None, Kind::Text) => args
                .next()
                .and_then(|v| v.to_str())
                .with_context(|| format!("flag '--{name}' needs a value"))?
                .to_string(),
        };
        raw.set(input, &value);
    }
    Ok(Command::Run(raw))
}

/// The `--help` text, built from the table.
pub fn help() -> String {
    let mut out = format!(
        "artifetch {}\nFetch GitHub Actions workflow artifacts: streamed, verified, safely extracted.\n\n\
         USAGE: artifetch [--<input> <value>]...\n       \
         artifetch manifest DIR   (print DIR's canonical manifest; files-digest on stderr)\n\n\
         Every input is also read from INPUT_<NAME> (as GitHub Actions sets it); flags win.\n\
         Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_API_URL,\n\
         GITHUB_SERVER_URL, GITHUB_WORKSPACE, RUNNER_TEMP, RUNNER_DEBUG=1 for request detail.\n\nINPUTS:\n",
        env!("CARGO_PKG_VERSION")
    );
    for input in INPUTS {
        let value = match input.kind {
            Kind::Bool => "",
            Kind::Text => " <value>",
        };
        let default = if input.default.is_empty() || input.kind == Kind::Bool {
            String::new()
        } else {
            format!(" [default: {}]", input.default)
        };
        out.push_str(&format!(
            "  --{}{value}\n      {}{default}\n",
            input.name, input.help
        ));
    }
    out.push_str("  -h, --help      Print this help\n  -V, --version   Print the version\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Command> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&args, &|k| env.get(k).cloned())
    }

    fn raw(cmd: Command) -> RawInputs {
        match cmd {
            Command::Run(raw) => raw,
            other => panic!("expected Run, got {other:?}"),
        }
    }

    #[test]
    fn env_hyphen_and_underscore_spellings_are_read_and_trimmed() {
        let r = raw(parse_with(
            &[],
            &[("INPUT_RUN-ID", " 42 "), ("INPUT_GITHUB_TOKEN", "t")],
        )
        .unwrap());
        assert_eq!(r.get(input!("run-id")), Some("42"));
        assert_eq!(r.get(input!("github-token")), Some("t"));
    }

    #[test]
    fn blank_means_unset_and_flags_override_env() {
        let r = raw(parse_with(
            &["--name=b", "--dry-run"],
            &[("INPUT_NAME", "a"), ("INPUT_PATTERN", "  ")],
        )
        .unwrap());
        assert_eq!(r.get(input!("name")), Some("b"));
        assert_eq!(r.get(input!("pattern")), None);
        assert_eq!(r.get(input!("dry-run")), Some("true"));
    }

    #[test]
    fn text_flag_takes_next_argument() {
        let r = raw(parse_with(&["--run-id", "7", "--merge-multiple=false"], &[]).unwrap());
        assert_eq!(r.get(input!("run-id")), Some("7"));
        assert_eq!(r.get(input!("merge-multiple")), Some("false"));
    }

    #[test]
    fn unknown_flag_and_missing_value_are_errors() {
        let e = parse_with(&["--nope"], &[]).unwrap_err().to_string();
        assert!(e.contains("--nope"), "{e}");
        let e = parse_with(&["--run-id"], &[]).unwrap_err().to_string();
        assert!(e.contains("needs a value"), "{e}");
    }

    #[test]
    fn help_lists_every_input() {
        assert_eq!(parse_with(&["--help"], &[]).unwrap(), Command::Help);
        let h = help();
        for input in INPUTS {
            assert!(h.contains(&format!("--{}", input.name)), "{}", input.name);
        }
    }

    #[test]
    fn every_name_of_the_table_is_a_name() {
        for i in INPUTS {
            assert_eq!(Name::checked(i.name).as_str(), i.name);
        }
        assert_eq!(input!("max-size").to_string(), "max-size");
    }

    /// What `input!("max-sise")` evaluates in a `const`: there the panic fails the build.
    #[test]
    #[should_panic(expected = "not an input of the table")]
    fn a_misspelt_name_is_refused() {
        Name::checked("max-sise");
    }

    #[test]
    fn dawidd6_names_are_refused_only_when_given() {
        // The action declares them with an empty default, so empty means "not used".
        assert!(parse_with(&[], &[("LEGACY_INPUT_RUN_ID", " ")]).is_ok());
        let e = parse_with(&[], &[("LEGACY_INPUT_NAME_IS_REGEXP", "true")]).unwrap_err();
        assert!(format!("{e}").contains("artifetch reads `pattern`"), "{e}");
    }
}
