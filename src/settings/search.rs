//! Which run: the current one, a given `run-id`, or a search (`workflow`, `branch`, ...), its
//! `wait-timeout` and its `fallback` lines.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::inputs::{Name, RawInputs, input};
use crate::pasted;

use super::selection::Selection;
use super::source::Source;
use super::values::{boolean, number};

/// What resolve and the run search take: which run, how to search for it (the primary search,
/// its wait and its `fallback` lines), and the artifacts a searched run must hold.
#[derive(Debug, Clone)]
pub(crate) struct FindConfig {
    pub(crate) source: Source,
    pub(crate) run: RunMode,
    pub(crate) search: Search,
    /// `fallback`: searches tried in order when the primary finds nothing.
    pub(crate) fallback: Vec<Fallback>,
    /// What the runner says of the workflow's own run.
    pub(crate) this_run: ThisRun,
    pub(crate) selection: Selection,
    /// The first pause between `wait-timeout` polls (scaled in tests).
    pub(crate) backoff: Duration,
}

/// Which run to fetch from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunMode {
    /// The run this step belongs to (`GITHUB_RUN_ID`).
    Current(u64),
    /// Another run, named by `run-id`; search inputs become checks against it.
    Given(u64),
    /// The newest run matching the search inputs.
    Search,
}

/// The workflow's own run, from the runner's variables (no request needed).
#[derive(Debug, Clone, Default)]
pub(crate) struct ThisRun {
    /// `GITHUB_REPOSITORY`: where the workflow runs (`repository` may name another).
    pub(crate) repository: Option<String>,
    /// `GITHUB_RUN_NUMBER`: the `#42` people see.
    pub(crate) number: Option<u64>,
    /// `GITHUB_WORKFLOW`: the workflow's name.
    pub(crate) workflow: Option<String>,
}

/// The run-search inputs (`workflow`, `branch`, ...). Empty when not searching.
#[derive(Debug, Clone, Default)]
pub(crate) struct Search {
    /// Workflow file name (`build.yml`) or numeric id.
    pub(crate) workflow: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) event: Option<String>,
    pub(crate) commit: Option<String>,
    pub(crate) pr: Option<u64>,
    /// Status or conclusion filter; `None` when disabled with an empty value.
    pub(crate) conclusion: Option<String>,
    pub(crate) run_number: Option<u64>,
    pub(crate) search_artifacts: bool,
    pub(crate) allow_forks: bool,
    pub(crate) max_runs: usize,
    /// Poll this long for a matching run or artifact (`wait-timeout`, seconds).
    pub(crate) wait: Option<Duration>,
    /// What the wait watches (`wait-for`).
    pub(crate) wait_for: WaitFor,
}

/// `wait-for`: what a wait watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum WaitFor {
    /// A matching run that has (with its conclusion) completed, with the artifact.
    #[default]
    Run,
    /// The artifact, in a run that may still be in progress.
    Artifact,
    /// This job of the run: done waiting, one way or the other, once it has finished.
    Job(String),
}

impl std::fmt::Display for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitFor::Run => f.write_str("run"),
            WaitFor::Artifact => f.write_str("artifact"),
            WaitFor::Job(name) => write!(f, "job:{name}"),
        }
    }
}

impl Search {
    /// Any of the inputs that turn a fetch into a search.
    pub(crate) fn active(&self) -> bool {
        self.workflow.is_some()
            || self.branch.is_some()
            || self.event.is_some()
            || self.commit.is_some()
            || self.pr.is_some()
            || self.run_number.is_some()
    }
}

/// One `fallback` line: the primary search with the filters the line names replaced.
#[derive(Debug, Clone)]
pub(crate) struct Fallback {
    /// The line as written, for the log and the summary.
    pub(crate) line: String,
    pub(crate) search: Search,
}

/// `run-id` defaults to the current run (the action passes `${{ github.run_id }}`), so a run-id
/// equal to `GITHUB_RUN_ID` next to search inputs means "search", not "check this run".
pub(super) fn run_mode(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    search: &Search,
) -> Result<RunMode> {
    let given = raw
        .get(input!("run-id"))
        .map(|v| parse_run_id(v, "run-id"))
        .transpose()?;
    let current = var("GITHUB_RUN_ID")
        .map(|v| parse_run_id(&v, "GITHUB_RUN_ID"))
        .transpose()?;
    Ok(match (given, current) {
        (Some(g), c) if c != Some(g) => RunMode::Given(g),
        _ if search.active() => RunMode::Search,
        (Some(g), _) => RunMode::Current(g),
        (None, Some(c)) => RunMode::Current(c),
        (None, None) => bail!(
            "run-id: not set; expected a positive integer (input run-id or GITHUB_RUN_ID), or search inputs such as workflow or branch"
        ),
    })
}

/// `scaled` turns seconds into a wait, shrunk by the tests' time scale.
pub(super) fn search(raw: &RawInputs, scaled: &dyn Fn(f64) -> Duration) -> Result<Search> {
    let text = |name: Name| raw.get(name).map(str::to_string);
    let branch =
        text(input!("branch")).map(|b| b.strip_prefix("refs/heads/").unwrap_or(&b).to_string());
    let commit = text(input!("commit"))
        .map(|c| check_commit(&c, "commit"))
        .transpose()?;
    let workflow = text(input!("workflow"))
        .map(|w| check_workflow(&w, "workflow"))
        .transpose()?;
    let positive = |name: Name| -> Result<Option<u64>> {
        raw.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("{name}: '{v}' is not a positive integer"))
            })
            .transpose()
    };
    let conclusion = if raw.given_empty(input!("workflow-conclusion")) {
        None
    } else {
        let c = raw.value(input!("workflow-conclusion"));
        Some(check_conclusion(c, "workflow-conclusion")?)
    };
    let max_runs = raw
        .value(input!("max-runs"))
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| {
            format!(
                "max-runs: '{}' is not a positive integer",
                raw.value(input!("max-runs"))
            )
        })? as usize;
    let wait = number(
        raw,
        input!("wait-timeout"),
        "seconds",
        1.0..=432_000.0,
        true,
    )?;
    Ok(Search {
        workflow,
        branch,
        event: text(input!("event")),
        commit,
        pr: positive(input!("pr"))?,
        conclusion,
        run_number: positive(input!("run-number"))?,
        search_artifacts: boolean(raw, input!("search-artifacts"))?,
        allow_forks: boolean(raw, input!("allow-forks"))?,
        max_runs,
        wait: (wait > 0.0).then(|| scaled(wait)),
        wait_for: wait_for(raw.get(input!("wait-for")), wait > 0.0)?,
    })
}

pub(super) fn wait_for(value: Option<&str>, waiting: bool) -> Result<WaitFor> {
    let mode = match value.unwrap_or("run") {
        "run" => WaitFor::Run,
        "artifact" => WaitFor::Artifact,
        v => match v.strip_prefix("job:").map(str::trim) {
            Some(name) if !name.is_empty() => WaitFor::Job(name.to_string()),
            _ => bail!("wait-for: '{v}' is not a wait; expected run, artifact or job:<job name>"),
        },
    };
    if mode != WaitFor::Run && !waiting {
        bail!("wait-for: '{mode}' needs wait-timeout, the seconds to wait; expected both");
    }
    Ok(mode)
}

/// A commit SHA or prefix, lower-cased; `what` names the input in the error.
pub(super) fn check_commit(c: &str, what: &str) -> Result<String> {
    if !(c.len() >= 7 && c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_hexdigit())) {
        bail!("{what}: '{c}' is not a commit SHA; expected 7 to 40 hex digits");
    }
    Ok(c.to_ascii_lowercase())
}

/// A workflow file name or id, without `.github/workflows/`.
pub(super) fn check_workflow(w: &str, what: &str) -> Result<String> {
    // A workflow reference pasted whole (`owner/repo/.github/workflows/build.yml@ref`).
    let w = &pasted::workflow_ref(w).map_or_else(|| w.to_string(), |(_, file)| file);
    if w.contains('/') && !w.starts_with(".github/workflows/") || w.contains(char::is_whitespace) {
        bail!(
            "{what}: '{w}' is not a workflow; expected a file name like build.yml or a numeric id"
        );
    }
    Ok(w.trim_start_matches(".github/workflows/").to_string())
}

pub(super) fn check_conclusion(c: &str, what: &str) -> Result<String> {
    let c = c.to_ascii_lowercase();
    {
        const KNOWN: &[&str] = &[
            "completed",
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "skipped",
            "stale",
            "success",
            "timed_out",
            "in_progress",
            "queued",
            "requested",
            "waiting",
            "pending",
        ];
        if !KNOWN.contains(&c.as_str()) {
            bail!(
                "{what}: '{c}' is not a run status or conclusion; expected one of {} (empty: any)",
                KNOWN.join(", ")
            );
        }
    }
    Ok(c)
}

/// `fallback` lines accepted: a restore-keys chain is a handful; thousands would be thousands of
/// searches.
pub(super) const MAX_FALLBACK_LEVELS: usize = 10;

/// The `fallback` lines: each `key=value` pair (separated by spaces) replaces that filter of the
/// primary search; an empty value clears it (`commit=`). `commit` replaces `pr` too: both name
/// the head commit.
pub(super) fn fallback(text: Option<&str>, primary: &Search) -> Result<Vec<Fallback>> {
    let mut out = Vec::new();
    let lines = text.unwrap_or("").lines().map(str::trim);
    let given = lines.clone().filter(|l| !l.is_empty()).count();
    if given > MAX_FALLBACK_LEVELS {
        bail!(
            "fallback: {given} lines; expected at most {MAX_FALLBACK_LEVELS} (each line is one more search, with its own requests and a row in the summary)"
        );
    }
    for (n, line) in lines.filter(|l| !l.is_empty()).enumerate() {
        let what = format!("fallback line {}", n + 1);
        let mut search = primary.clone();
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=').with_context(|| {
                format!("{what}: '{pair}' is not key=value; expected filters like branch=main (keys: branch, event, workflow, commit, workflow-conclusion)")
            })?;
            let value = (!value.is_empty()).then_some(value);
            let named = format!("{what}: {key}");
            match key {
                "branch" => {
                    search.branch =
                        value.map(|b| b.strip_prefix("refs/heads/").unwrap_or(b).to_string())
                }
                "event" => search.event = value.map(str::to_string),
                "workflow" => {
                    search.workflow = value.map(|w| check_workflow(w, &named)).transpose()?
                }
                "commit" => {
                    search.commit = value.map(|c| check_commit(c, &named)).transpose()?;
                    search.pr = None;
                }
                "workflow-conclusion" => {
                    search.conclusion = value.map(|c| check_conclusion(c, &named)).transpose()?
                }
                other => bail!(
                    "{what}: unknown filter '{other}'; expected branch, event, workflow, commit or workflow-conclusion"
                ),
            }
        }
        out.push(Fallback {
            line: line.to_string(),
            search,
        });
    }
    Ok(out)
}

/// A positive integer, or a run URL (a job URL's run too).
pub(super) fn parse_run_id(value: &str, input: &str) -> Result<u64> {
    if let Some((_, id)) = pasted::run_url(value) {
        return Ok(id);
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("{input}: '{value}' is not a run id; expected a positive integer"))
}
