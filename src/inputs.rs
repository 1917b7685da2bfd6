//! The one table of inputs: every option artifetch reads, with its group, placeholder, default
//! and help text; and what `--help` says besides (examples, exit codes, environment).
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

/// Where an input is listed in `--help`: what it is about. Every row of [`INPUTS`] names its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Selection,
    Source,
    Search,
    Destination,
    Safety,
    Timing,
    Step,
}

use Group::{Destination, Safety, Search, Selection, Source, Step, Timing};

impl Group {
    /// The groups in the order `--help` lists them.
    pub const ALL: [Group; 7] = [Selection, Source, Search, Destination, Safety, Timing, Step];

    /// The heading `--help` gives the group.
    pub fn heading(self) -> &'static str {
        match self {
            Selection => "SELECTION: which artifacts (default: every artifact of the run)",
            Source => "SOURCE: which repository and run, with which token",
            Search => "RUN SEARCH: find the run instead of naming it",
            Destination => "DESTINATION: where and how the files land",
            Safety => "SAFETY: digests, pins, attestations and bounds",
            Timing => "TIMING: waiting, stalls, parallelism and the API budget",
            Step => "STEP: dry run, job summary, clean-up",
        }
    }
}

/// One input of the action (and flag of the binary): the row owns its name, kind, `--help`
/// group and placeholder, default and help text.
#[derive(Debug)]
pub struct Input {
    pub name: &'static str,
    pub kind: Kind,
    pub group: Group,
    /// What the value looks like in `--help` (`<N>`, `<GLOB>`, ...); empty for a flag.
    pub placeholder: &'static str,
    /// The default as the action declares it (empty: none, or computed at run time).
    pub default: &'static str,
    pub help: &'static str,
}

const fn text(
    group: Group,
    name: &'static str,
    placeholder: &'static str,
    default: &'static str,
    help: &'static str,
) -> Input {
    Input {
        name,
        kind: Kind::Text,
        group,
        placeholder,
        default,
        help,
    }
}

const fn flag(group: Group, name: &'static str, help: &'static str) -> Input {
    Input {
        name,
        kind: Kind::Bool,
        group,
        placeholder: "",
        default: "false",
        help,
    }
}

pub const INPUTS: &[Input] = &[
    text(
        Selection,
        "name",
        "<NAME>",
        "",
        "Name of one artifact to download (exact); extracted straight into `path`.",
    ),
    text(
        Selection,
        "pattern",
        "<GLOB>",
        "",
        "Glob over artifact names (minimatch: * ? [..] {a,b}, leading ! negates).",
    ),
    text(
        Selection,
        "artifact-ids",
        "<ID,...>",
        "",
        "Comma-separated artifact ids to download.",
    ),
    text(
        Destination,
        "path",
        "<PATH>",
        "",
        "Destination directory. Default: GITHUB_WORKSPACE, else the current directory.",
    ),
    text(
        Selection,
        "files",
        "<GLOB lines>",
        "",
        "Globs over the paths inside each artifact, one a line (! excludes): extract only what they take.",
    ),
    flag(
        Destination,
        "merge-multiple",
        "Put several artifacts into `path` itself instead of `path/<name>/`.",
    ),
    text(
        Source,
        "github-token",
        "<TOKEN>",
        "",
        "Token for the API. Default: the GITHUB_TOKEN environment variable.",
    ),
    text(
        Source,
        "repository",
        "<OWNER/REPO|URL>",
        "",
        "owner/repo (or its https URL) the artifacts belong to. Default: GITHUB_REPOSITORY.",
    ),
    text(
        Source,
        "run-id",
        "<ID|URL>",
        "",
        "Workflow run whose artifacts to fetch: its id, or a run or job URL. Default: GITHUB_RUN_ID.",
    ),
    flag(
        Destination,
        "skip-decompress",
        "Keep each download as `<path>/<name>.zip` instead of extracting it.",
    ),
    text(
        Safety,
        "digest-mismatch",
        "<error|warn|info|ignore>",
        "error",
        "On a SHA-256 mismatch: error, warn, info or ignore.",
    ),
    text(
        Safety,
        "expected-digest",
        "<SHA256|NAME=SHA256 lines>",
        "",
        "The producer's archive SHA-256 (hex or sha256:hex); several artifacts: NAME=DIGEST lines.",
    ),
    flag(
        Safety,
        "verify-attestation",
        "Extract an artifact only if a GitHub attestation of its archive digest verifies (offline).",
    ),
    text(
        Safety,
        "attestation-signer-workflow",
        "<OWNER/REPO/.github/workflows/FILE[@REF]>",
        "",
        "owner/repo/.github/workflows/file.yml[@ref] that must have signed. Default: the run's workflow.",
    ),
    text(
        Safety,
        "attestation-repository",
        "<OWNER/REPO>",
        "",
        "owner/repo the attested build must come from. Default: the artifact's repository.",
    ),
    text(
        Safety,
        "attestation-predicate-type",
        "<URI>",
        "https://slsa.dev/provenance/v1",
        "The in-toto predicate type the attestation must have.",
    ),
    text(
        Safety,
        "attestation-from",
        "<run|workflow>",
        "run",
        "run: the attestation must be made by the artifact's own run; workflow: by attestation-signer-workflow@ref in any run.",
    ),
    text(
        Safety,
        "attestation-source-ref",
        "<REF>",
        "",
        "Full ref (refs/heads/main) the attested build must come from; the only way to accept refs/pull/N/merge.",
    ),
    text(
        Safety,
        "attestation-runner",
        "<github-hosted|any>",
        "any",
        "github-hosted: refuse attestations signed on a self-hosted runner.",
    ),
    text(
        Safety,
        "trusted-root",
        "<PATH>",
        "",
        "A Sigstore trusted_root.json. Default: the public-good and GitHub roots embedded in the binary.",
    ),
    text(
        Safety,
        "expected-files-digest",
        "<DIGEST|NAME=DIGEST lines>",
        "",
        "The producer's files-digest (artifetch manifest); several artifacts: NAME=DIGEST lines.",
    ),
    text(
        Safety,
        "expected-files",
        "<LINES|@PATH>",
        "",
        "The producer's file list (artifetch manifest or sha256sum lines), inline or @path.",
    ),
    flag(
        Safety,
        "manifest",
        "Hash every extracted file for the manifest, manifest-sha256sum and files-digest outputs.",
    ),
    text(
        Selection,
        "if-no-artifact-found",
        "<fail|warn|ignore>",
        "fail",
        "When nothing matches: fail, warn or ignore.",
    ),
    text(
        Step,
        "summary",
        "<true|false|on-failure>",
        "true",
        "Write the job summary: true, false, or on-failure (only when the step did not fully succeed).",
    ),
    flag(
        Step,
        "dry-run",
        "Resolve and select, write outputs and summary, download nothing.",
    ),
    flag(
        Safety,
        "allow-git-paths",
        "Let artifacts write `.git` (or names Windows/macOS fold to it) into `path`.",
    ),
    text(
        Safety,
        "max-size",
        "<SIZE>",
        "20GiB",
        "Bound on uncompressed bytes per artifact (e.g. 500MiB, 20GiB).",
    ),
    text(
        Safety,
        "max-files",
        "<N>",
        "1000000",
        "Bound on the entries (files, directories, symlinks) of one artifact.",
    ),
    text(
        Safety,
        "max-ratio",
        "<N>",
        "500",
        "Bound on an artifact's uncompressed:compressed size ratio (above 16 MiB).",
    ),
    text(
        Destination,
        "partial-download",
        "<auto|true|false>",
        "auto",
        "With files: fetch only the selected entries by HTTP range (auto: when they are a small part of a large archive; true; false).",
    ),
    text(
        Destination,
        "cache-dir",
        "<PATH|off>",
        "",
        "Directory of verified archives kept across jobs on a persistent runner (off: none). Default: ARTIFETCH_CACHE_DIR, else no cache.",
    ),
    text(
        Destination,
        "cache-max-size",
        "<SIZE>",
        "10GiB",
        "Bound on the cache's size; the least recently used archives go first.",
    ),
    text(
        Timing,
        "concurrency",
        "<N>",
        "4",
        "How many artifacts download at once (1-32).",
    ),
    text(
        Search,
        "workflow",
        "<FILE|ID|WORKFLOW_REF>",
        "",
        "Search this workflow's runs: file name (build.yml), numeric id, or github.workflow_ref.",
    ),
    text(
        Search,
        "branch",
        "<BRANCH>",
        "",
        "Search runs of this branch (refs/heads/ is stripped).",
    ),
    text(
        Search,
        "event",
        "<EVENT>",
        "",
        "Search runs triggered by this event (push, pull_request, ...).",
    ),
    text(
        Search,
        "commit",
        "<SHA>",
        "",
        "Search runs of this head commit SHA.",
    ),
    text(
        Search,
        "pr",
        "<N>",
        "",
        "Search runs of this pull request's head commit.",
    ),
    text(
        Search,
        "workflow-conclusion",
        "<STATUS|CONCLUSION>",
        "success",
        "When searching: run status or conclusion to match; empty matches any.",
    ),
    text(
        Search,
        "run-number",
        "<N>",
        "",
        "When searching: the run with this run number.",
    ),
    flag(
        Search,
        "search-artifacts",
        "Walk back through older matching runs until one has a matching artifact.",
    ),
    flag(
        Search,
        "allow-forks",
        "Accept runs whose head repository is a fork (untrusted artifacts).",
    ),
    text(
        Search,
        "max-runs",
        "<N>",
        "200",
        "Bound on the runs a search examines.",
    ),
    text(
        Search,
        "fallback",
        "<FILTER lines>",
        "",
        "Lines of filters (branch=, event=, workflow=, commit=, workflow-conclusion=) tried in order when the search finds nothing.",
    ),
    text(
        Selection,
        "shard",
        "<I/N>",
        "",
        "i/n: take a stable 1/n of the selected artifacts (by a hash of the name).",
    ),
    text(
        Timing,
        "max-api-requests",
        "<N>",
        "",
        "Most API requests this step may send; stops before exceeding it.",
    ),
    text(
        Timing,
        "wait-timeout",
        "<SECONDS>",
        "0",
        "Seconds to poll until a matching run completes or the artifact appears.",
    ),
    text(
        Timing,
        "wait-for",
        "<run|artifact|job:NAME>",
        "run",
        "What wait-timeout waits for: run, artifact or job:<name> (fails once that job has finished without it).",
    ),
    flag(
        Step,
        "delete-after",
        "Delete each artifact once downloaded and verified (needs actions: write).",
    ),
    text(
        Timing,
        "stall-timeout",
        "<SECONDS>",
        "30",
        "Seconds without a byte before a download is retried.",
    ),
    text(
        Timing,
        "timeout",
        "<MINUTES>",
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
    /// `artifetch attestation verify ...`: one bundle, offline (the arguments after `attestation`).
    Attestation(Vec<OsString>),
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

/// What to write instead of a dawidd6 input: `repo: artifetch reads `repository``.
fn legacy_advice(old: &str, new: &str) -> String {
    match new {
        "" => format!("{old}: artifetch has no use for it; remove it"),
        new => format!("{old}: artifetch reads `{new}`"),
    }
}

/// The dawidd6-style inputs that were given (through action.yml's `LEGACY_INPUT_*`), all in one
/// error naming what to write instead.
fn refuse_legacy(env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let given: Vec<String> = LEGACY
        .iter()
        .filter(|(old, _)| {
            env(&format!("LEGACY_INPUT_{}", old.to_uppercase()))
                .is_some_and(|v| !v.trim().is_empty())
        })
        .map(|(old, new)| legacy_advice(old, new))
        .collect();
    refuse_dawidd6(&given)
}

/// One error naming every dawidd6 input given (`advice`: what to write instead of each).
fn refuse_dawidd6(advice: &[String]) -> Result<()> {
    if advice.is_empty() {
        return Ok(());
    }
    bail!(
        "dawidd6/action-download-artifact's input names, which artifetch does not read (see README, migrating from dawidd6): {}",
        advice.join("; ")
    )
}

/// The input an `INPUT_<NAME>` variable names, in either spelling (`RUN-ID`, `RUN_ID`).
fn input_of_variable(suffix: &str) -> Option<&'static Input> {
    let wanted = suffix.to_lowercase().replace('_', "-");
    INPUTS.iter().find(|i| i.name == wanted)
}

/// Inputs `action.yml` reads for the install step only; the binary leaves them alone.
const INSTALL_ONLY: &[&str] = &["BINARY_URL", "BINARY-URL"];

/// The `INPUT_*` variables set (`names`, values read from `env`) that no input reads: a warning
/// each naming the nearest input, or, for dawidd6's names (`INPUT_REPO`), one error naming every
/// one and what artifetch reads instead, since the step would otherwise quietly fetch from the
/// defaults. Empty variables are ignored (the runner sets declared, unset inputs empty).
pub fn check_input_variables(
    names: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    let mut legacy = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let Some(suffix) = name.strip_prefix("INPUT_") else {
            continue;
        };
        let given = env(name).is_some_and(|v| !v.trim().is_empty());
        if !given || input_of_variable(suffix).is_some() || INSTALL_ONLY.contains(&suffix) {
            continue;
        }
        let lower = suffix.to_lowercase();
        if let Some((old, new)) = LEGACY.iter().find(|(old, _)| *old == lower) {
            legacy.push(format!("{name} ({})", legacy_advice(old, new)));
            continue;
        }
        let names: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
        let near = crate::util::nearest(&lower.replace('_', "-"), &names)
            .map(|n| format!("; did you mean {n} (INPUT_{})?", n.to_uppercase()))
            .unwrap_or_else(|| " (see --help for the inputs)".into());
        warnings.push(format!(
            "{name} is set, but no input of that name exists: ignored{near}"
        ));
    }
    refuse_dawidd6(&legacy)?;
    Ok(warnings)
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

    if args.first().is_some_and(|a| a == "attestation") {
        return Ok(Command::Attestation(args[1..].to_vec()));
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
        let input = lookup(name).with_context(|| unknown_flag(name))?;
        let value = match (inline, input.kind) {
            (Some(value), _) => value.to_string(),
            (None, Kind::Bool) => {
                // Nothing but flags is read: a word after a switch is meant as its value.
                if let Some(word) = args.clone().next().and_then(|a| a.to_str())
                    && !word.starts_with("--")
                {
                    bail!(
                        "'--{name}' is a switch and takes no separate value, so '{word}' is not read as one: write --{name} or --{name}=true to turn it on, --{name}=false to turn it off"
                    );
                }
                "true".to_string()
            }
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

/// `unknown flag '--nmae'; did you mean '--name'?`
fn unknown_flag(name: &str) -> String {
    let names: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
    match crate::util::nearest(&name.replace('_', "-"), &names) {
        Some(near) => format!("unknown flag '--{name}'; did you mean '--{near}'? (see --help)"),
        None => format!("unknown flag '--{name}' (see --help for the inputs)"),
    }
}

/// The environment variables artifetch reads besides `INPUT_<NAME>`, as `--help` lists them:
/// the names, and what each is for. tests/it/help.rs checks that the code reads every one.
pub const ENVIRONMENT: &[(&[&str], &str)] = &[
    (
        &["GITHUB_TOKEN", "GH_TOKEN"],
        "the token when github-token is not given (GH_TOKEN, as gh reads it, when GITHUB_TOKEN is not set)",
    ),
    (
        &["GITHUB_REPOSITORY"],
        "the repository when repository is not given",
    ),
    (&["GITHUB_RUN_ID"], "the current run: run-id's default"),
    (
        &["GITHUB_RUN_NUMBER", "GITHUB_WORKFLOW"],
        "the current run's #number and workflow name, for the job summary",
    ),
    (
        &["GITHUB_API_URL", "GITHUB_SERVER_URL"],
        "the API and the web server (GitHub Enterprise Server); default https://api.github.com, https://github.com",
    ),
    (
        &["GITHUB_WORKSPACE"],
        "path's default, and where pin files (@path) are read from",
    ),
    (
        &["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"],
        "the files the outputs and the job summary are written to",
    ),
    (
        &["GITHUB_ACTIONS"],
        "true: speak in workflow commands (annotations, log groups, masked secrets)",
    ),
    (
        &["RUNNER_TEMP"],
        "where downloads are staged (else the system's temp directory)",
    ),
    (
        &["RUNNER_DEBUG"],
        "1: log every HTTP request and its status",
    ),
    (&["ARTIFETCH_CACHE_DIR"], "cache-dir's default"),
    (
        &["SSL_CERT_FILE"],
        "PEM certificates trusted besides the system's (a GHES internal CA)",
    ),
    (
        &["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"],
        "proxies, also lower-case (a plain-http API through a proxy is refused)",
    ),
    (
        &["HOME", "USERPROFILE"],
        "what a leading ~ in path and cache-dir stands for",
    ),
];

/// The exit codes the binary uses, and when. `main_with` returns nothing else.
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        0,
        "done: everything selected was fetched (or, with dry-run, would be); also when nothing matched and if-no-artifact-found is warn or ignore",
    ),
    (
        1,
        "failed: a bad input, no run or no artifact (if-no-artifact-found: fail), an API error, an artifact that failed, timeout or cancellation; the log's error annotations say which",
    ),
];

/// The worked examples of `--help`: what it does, and the command line. tests/it/help.rs runs each
/// against the fake GitHub (with its repository and run id for `octo/hello` and `1234567890`).
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "The artifact dist of one run into ./out (with GITHUB_TOKEN set, e.g. to $(gh auth token)):",
        "artifetch --repository octo/hello --run-id 1234567890 --name dist --path out",
    ),
    (
        "What the newest successful build.yml run on main that still has a pkg-* artifact would give, downloading nothing:",
        "artifetch --repository octo/hello --workflow build.yml --branch main --pattern 'pkg-*' --search-artifacts --dry-run",
    ),
];

/// The `--help` text, built from the tables: the inputs by group, the examples, the exit codes
/// and the environment.
pub fn help() -> String {
    let mut out = format!(
        "artifetch {}\nFetch GitHub Actions workflow artifacts: streamed, verified, safely extracted.\n\n\
         USAGE:\n  artifetch [--<input> <value>]...\n  \
         artifetch manifest <DIR>   print DIR's canonical manifest (its files-digest on stderr)\n  \
         artifetch attestation verify --bundle <FILE> (--file <FILE> | --digest sha256:<HEX>) [...]\n  \
         \x20                          verify one Sigstore bundle offline (--help for its flags)\n\n\
         Every input is also read from INPUT_<NAME> (as GitHub Actions sets it); flags win.\n\
         A flag alone means true (--dry-run); --dry-run=false turns it off.\n\
         <... lines>: one value holding several lines (in bash: $'a\\nb').\n",
        env!("CARGO_PKG_VERSION")
    );
    // The inputs, group by group, in the table's order within a group.
    for group in Group::ALL {
        out.push_str(&format!("\n{}\n", group.heading()));
        for input in INPUTS.iter().filter(|i| i.group == group) {
            let value = match input.kind {
                Kind::Bool => String::new(),
                Kind::Text => format!(" {}", input.placeholder),
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
    }
    out.push_str(
        "\nOTHER\n  -h, --help      Print this help\n  -V, --version   Print the version\n",
    );
    // What a person needs besides the inputs.
    out.push_str("\nEXAMPLES\n");
    for (what, command) in EXAMPLES {
        out.push_str(&format!("  # {what}\n  {command}\n"));
    }
    out.push_str("\nEXIT CODES\n");
    for (code, when) in EXIT_CODES {
        out.push_str(&format!("  {code}  {when}\n"));
    }
    out.push_str("\nENVIRONMENT\n");
    for (names, what) in ENVIRONMENT {
        out.push_str(&format!("  {}\n      {what}\n", names.join(", ")));
    }
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

    /// The `--<name>` lines of `--help`, by the group heading they stand under.
    fn help_sections() -> Vec<(String, Vec<String>)> {
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in help().lines() {
            if !line.is_empty() && !line.starts_with(' ') {
                sections.push((line.to_string(), Vec::new()));
            } else if let (Some(flag), Some(last)) =
                (line.strip_prefix("  --"), sections.last_mut())
            {
                last.1.push(flag.split(' ').next().unwrap().to_string());
            }
        }
        sections
    }

    #[test]
    fn help_lists_every_input_exactly_once_under_its_group() {
        assert_eq!(parse_with(&["--help"], &[]).unwrap(), Command::Help);
        let sections = help_sections();
        for input in INPUTS {
            let under: Vec<&str> = sections
                .iter()
                .filter(|(_, flags)| flags.iter().any(|f| f == input.name))
                .map(|(heading, _)| heading.as_str())
                .collect();
            assert_eq!(
                under,
                [input.group.heading()],
                "--{} must be listed once, under its group",
                input.name
            );
            let count: usize = sections
                .iter()
                .map(|(_, f)| f.iter().filter(|f| *f == input.name).count())
                .sum();
            assert_eq!(count, 1, "--{}", input.name);
        }
        for group in Group::ALL {
            assert!(
                INPUTS.iter().any(|i| i.group == group),
                "{group:?} has no input: its heading would stand alone"
            );
        }
    }

    #[test]
    fn every_text_input_has_a_typed_placeholder_and_flags_have_none() {
        for input in INPUTS {
            match input.kind {
                Kind::Text => {
                    let p = input.placeholder;
                    assert!(
                        p.starts_with('<') && p.ends_with('>') && p != "<value>" && p.len() > 2,
                        "--{}: placeholder {p:?}",
                        input.name
                    );
                    assert!(
                        help().contains(&format!("  --{} {p}\n", input.name)),
                        "--{}",
                        input.name
                    );
                }
                Kind::Bool => assert_eq!(input.placeholder, "", "--{}", input.name),
            }
        }
        assert!(!help().contains("<value>\n"));
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
