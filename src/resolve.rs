//! Which run to fetch from: the current one, a given `run-id` (checked against any search
//! inputs), or the newest run matching `workflow` / `branch` / `event` / `commit` / `pr` /
//! `workflow-conclusion` / `run-number`, optionally walking back until a run still has a
//! matching, unexpired artifact.
//!
//! The peers page through history 30 runs at a time, trust the server's order after filtering,
//! ignore expiry and accept runs from forks. Here: 100 runs a page, our own sort by `created_at`
//! then id, expired artifacts never satisfy a search, fork runs are refused unless
//! `allow-forks` (the `workflow_run` artifact-poisoning pattern), and we stop as soon as the
//! answer is known. A `name` with only branch/commit filters is answered from the repository's
//! artifact list with the `name` filter: one request instead of a run walk.

use std::collections::HashMap;

use crate::github::Url;
use anyhow::{Context, Result, bail};

use crate::github::model::{ArtifactRun, RunList};
use crate::github::{Artifact, GitHub, WorkflowRun};
use crate::github::{Refusal, refusal};
use crate::log::Log;
use crate::settings::{FindConfig, RunMode, Selection, Source, WaitFor};

/// The run chosen, and why.
#[derive(Debug, Clone, Default)]
pub struct ChosenRun {
    pub id: u64,
    pub url: String,
    /// The head commit and branch, as the run (or the search's artifact list) gave them; for
    /// the current run, not read: the plan has them from its artifacts ([`crate::plan::Head`]).
    pub head_sha: Option<String>,
    pub head_branch: Option<String>,
    pub conclusion: Option<String>,
    /// The `#42` people see (`run_number`), when known.
    pub number: Option<u64>,
    /// The workflow's name, when known.
    pub workflow: Option<String>,
    /// RFC 3339, when known (not for the current run: it is not read).
    pub created_at: Option<String>,
    /// How it was chosen; [`ChosenRun::why`] says it in words.
    pub reason: Reason,
    /// Runs (or, on the artifact-list path, artifacts) looked at.
    pub examined: usize,
    /// The run's artifacts when the search already listed them (saves a request).
    pub artifacts: Option<Vec<Artifact>>,
}

/// How the run was chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Reason {
    /// `run-id` at its default: the workflow's own run, in the workflow's repository.
    #[default]
    Current,
    /// `run-id` at the workflow's own run, but `repository` names another repository: the id is
    /// looked up there (where it is almost certainly not).
    CurrentIdElsewhere { workflow_repository: String },
    /// `run-id` set to another run (a number or a run URL).
    Given,
    /// The newest run the search found, and what it passed over.
    Search(Searched),
}

/// A search that found its run: the filters, and the runs (or artifacts) passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Searched {
    /// The filters, as [`describe_search`] words them.
    pub filters: String,
    /// Found from the repository's artifact list by this artifact name, not by walking runs.
    pub by_artifact: Option<String>,
    /// The run had to hold a matching unexpired artifact (`search-artifacts`).
    pub needs_artifact: bool,
    pub passed_over: PassedOver,
}

/// What a search passed over on its way to the run it chose, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassedOver {
    /// Runs (or artifacts' runs) that did not match a filter.
    pub filtered: usize,
    /// Runs from forks (`allow-forks` is false).
    pub forks: usize,
    /// Runs without a matching unexpired artifact.
    pub without_artifact: usize,
    /// Expired artifacts of the name (the artifact-list path).
    pub expired: usize,
}

impl PassedOver {
    /// `2 not matching the filters, 1 from a fork (allow-forks is false)`; empty for none.
    pub fn describe(&self, unit: &str) -> String {
        let mut parts = Vec::new();
        let mut add = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        add(self.filtered, "not matching the filters");
        add(self.forks, "from a fork (allow-forks is false)");
        add(
            self.without_artifact,
            "without a matching unexpired artifact",
        );
        add(self.expired, "expired");
        if parts.is_empty() {
            return String::new();
        }
        let total = self.filtered + self.forks + self.without_artifact + self.expired;
        let unit = if total == 1 {
            unit.trim_end_matches('s')
        } else {
            unit
        };
        format!("passed over {total} newer {unit}: {}", parts.join(", "))
    }
}

impl ChosenRun {
    /// One line for the log and the summary: how this run was chosen, true for every way.
    pub fn why(&self) -> String {
        match &self.reason {
            Reason::Current => "the current run (run-id defaults to it)".into(),
            Reason::CurrentIdElsewhere {
                workflow_repository,
            } => format!(
                "run-id {}, left at this workflow's own run, which belongs to {workflow_repository}, looked up in another repository",
                self.id
            ),
            Reason::Given => format!("run-id {}", self.id),
            Reason::Search(s) => {
                let mut why = match (&s.by_artifact, s.needs_artifact) {
                    (Some(name), _) => {
                        format!("newest run with artifact '{name}' matching {}", s.filters)
                    }
                    (None, true) => format!(
                        "newest run matching {} with a matching unexpired artifact",
                        s.filters
                    ),
                    (None, false) => format!("newest run matching {}", s.filters),
                };
                let unit = if s.by_artifact.is_some() {
                    "artifacts"
                } else {
                    "runs"
                };
                let over = s.passed_over.describe(unit);
                if !over.is_empty() {
                    why.push_str(&format!("; {over}"));
                }
                why
            }
        }
    }
}

/// A run, or why none matched (a search that may be retried while waiting) and how many runs
/// (or artifacts) were examined to learn that.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per search, never stored in bulk: boxing buys nothing
pub(crate) enum Resolution {
    Found(ChosenRun),
    NotFound { why: String, examined: usize },
}

/// What the run search did, level by level, for the outputs and the summary.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub levels: Vec<Level>,
    /// Index into `levels` of the level that matched.
    pub matched: Option<usize>,
    /// The primary level's wait (`wait-timeout`), if it waited.
    pub wait: Option<WaitReport>,
    /// The last run chosen, even if the step stopped after choosing it (for the summary).
    pub chosen: Option<ChosenRun>,
}

/// How a `wait-timeout` went.
#[derive(Debug, Clone)]
pub struct WaitReport {
    /// `wait-for` as it ran (`run` after a GHES fallback).
    pub mode: String,
    pub waited: std::time::Duration,
    pub polls: u32,
    /// API requests the polls sent, and how many of them were answered 304 (free).
    pub requests: u64,
    pub free: u64,
    /// Why it stopped.
    pub stopped: String,
    /// Why `wait-for` was changed, if it was.
    pub note: Option<String>,
}

impl WaitReport {
    pub fn describe(&self) -> String {
        let mut s = format!(
            "wait-for {}, waited {:.1} s over {} polls ({} API requests, {} of them free: 304 Not Modified); stopped: {}",
            self.mode,
            self.waited.as_secs_f64(),
            self.polls,
            self.requests,
            self.free,
            self.stopped
        );
        if let Some(note) = &self.note {
            s.push_str(&format!(" ({note})"));
        }
        s
    }
}

/// One level of the chain: the primary search or a `fallback` line.
#[derive(Debug, Clone)]
pub struct Level {
    /// `primary`, `fallback-1`, ...
    pub label: String,
    /// The filters it searched with.
    pub filters: String,
    /// Why it matched, or why not.
    pub result: String,
    /// API requests it took.
    pub requests: u64,
}

impl Trace {
    /// The `matched` output: the winning level's label, or `none`.
    pub fn matched_label(&self) -> String {
        self.matched
            .and_then(|i| self.levels.get(i))
            .map_or_else(|| "none".to_string(), |l| l.label.clone())
    }
}

/// The filters of a search as one line, before any request (a `pr` is shown as such).
pub(crate) fn describe_search(settings: &FindConfig) -> String {
    match settings.run {
        RunMode::Current(id) => format!("the current run ({id})"),
        RunMode::Given(id) => format!("run-id {id}"),
        RunMode::Search => Filters {
            settings,
            commit: settings.search.commit.clone(),
        }
        .describe(),
    }
}

pub(crate) async fn choose(
    settings: &FindConfig,
    github: &GitHub,
    log: &Log,
) -> Result<Resolution> {
    match settings.run {
        RunMode::Current(id) => Ok(Resolution::Found(current(settings, id))),
        RunMode::Given(id) => given(settings, github, id).await,
        RunMode::Search => search(settings, github, log).await,
    }
}

/// The workflow's own run id: its number and workflow come from the runner's variables; in
/// another repository, only the id is known (and is likely wrong there).
fn current(settings: &FindConfig, id: u64) -> ChosenRun {
    let this = &settings.this_run;
    let elsewhere = this
        .repository
        .as_ref()
        .filter(|r| !r.eq_ignore_ascii_case(&settings.source.repository()));
    let (reason, number, workflow) = match elsewhere {
        Some(r) => (
            Reason::CurrentIdElsewhere {
                workflow_repository: r.clone(),
            },
            None,
            None,
        ),
        None => (Reason::Current, this.number, this.workflow.clone()),
    };
    ChosenRun {
        id,
        url: settings.source.run_url(id),
        number,
        workflow,
        reason,
        ..ChosenRun::default()
    }
}

/// Filters that a run must pass, resolved (a `pr` becomes its head commit).
struct Filters<'a> {
    settings: &'a FindConfig,
    commit: Option<String>,
}

impl Filters<'_> {
    /// Why `run` does not match, naming the input and both values; `None` when it does.
    fn mismatch(&self, run: &WorkflowRun, check_conclusion: bool) -> Option<String> {
        self.other_workflow(run)
            .or_else(|| self.other_source(run))
            .or_else(|| self.other_number(run))
            .or_else(|| {
                check_conclusion
                    .then(|| self.other_conclusion(run))
                    .flatten()
            })
    }

    fn other_workflow(&self, run: &WorkflowRun) -> Option<String> {
        let w = self.settings.search.workflow.as_ref()?;
        let ok = match w.parse::<u64>().ok() {
            Some(id) => run.workflow_id == Some(id),
            None => run.workflow_file().is_some_and(|f| f == w),
        };
        if ok {
            return None;
        }
        let actual = run
            .workflow_file()
            .map(str::to_string)
            .or(run.workflow_id.map(|i| i.to_string()));
        Some(format!(
            "workflow: run {} belongs to '{}', not '{w}'",
            run.id,
            actual.unwrap_or_default()
        ))
    }

    /// Branch, event, then commit (or the pull request's head commit).
    fn other_source(&self, run: &WorkflowRun) -> Option<String> {
        let s = &self.settings.search;
        if let Some(b) = &s.branch
            && run.head_branch.as_deref() != Some(b.as_str())
        {
            return Some(format!(
                "branch: run {} is on '{}', not '{b}'",
                run.id,
                run.head_branch.as_deref().unwrap_or("")
            ));
        }
        if let Some(e) = &s.event
            && run.event.as_deref() != Some(e.as_str())
        {
            return Some(format!(
                "event: run {} was triggered by '{}', not '{e}'",
                run.id,
                run.event.as_deref().unwrap_or("")
            ));
        }
        let c = self.commit.as_ref()?;
        let head = run.head_sha.as_deref().unwrap_or("");
        if head.to_ascii_lowercase().starts_with(c.as_str()) && run.head_sha.is_some() {
            return None;
        }
        let input = if s.pr.is_some() { "pr" } else { "commit" };
        Some(format!(
            "{input}: run {} is of commit '{head}', not '{c}'",
            run.id
        ))
    }

    fn other_number(&self, run: &WorkflowRun) -> Option<String> {
        let n = self.settings.search.run_number?;
        (run.run_number != Some(n)).then(|| {
            format!(
                "run-number: run {} has number {}, not {n}",
                run.id,
                run.run_number.unwrap_or(0)
            )
        })
    }

    fn other_conclusion(&self, run: &WorkflowRun) -> Option<String> {
        let c = self.settings.search.conclusion.as_ref()?;
        if run.conclusion.as_deref() == Some(c.as_str())
            || run.status.as_deref() == Some(c.as_str())
        {
            return None;
        }
        Some(format!(
            "workflow-conclusion: run {} is {}, not '{c}'",
            run.id,
            run.conclusion
                .as_deref()
                .or(run.status.as_deref())
                .unwrap_or("unknown")
        ))
    }

    /// Counts and rules out an entry of the repository's artifact list on what the list itself
    /// says: expired, another branch or commit, a fork's (without `allow-forks`).
    fn ruled_out_by_list(
        &self,
        a: &Artifact,
        wr: &ArtifactRun,
        sha: &str,
        over: &mut PassedOver,
    ) -> bool {
        let s = &self.settings.search;
        let other_branch = s
            .branch
            .as_ref()
            .is_some_and(|b| wr.head_branch.as_deref() != Some(b.as_str()));
        let other_commit = self
            .commit
            .as_ref()
            .is_some_and(|c| !sha.to_ascii_lowercase().starts_with(c.as_str()));
        let fork = !s.allow_forks
            && wr.head_repository_id.is_some()
            && wr.head_repository_id != wr.repository_id;
        let counter = if a.expired {
            &mut over.expired
        } else if other_branch || other_commit {
            &mut over.filtered
        } else if fork {
            &mut over.forks
        } else {
            return false;
        };
        *counter += 1;
        true
    }

    fn describe(&self) -> String {
        let s = &self.settings.search;
        let mut parts = Vec::new();
        if let Some(w) = &s.workflow {
            parts.push(format!("workflow {w}"));
        }
        if let Some(b) = &s.branch {
            parts.push(format!("branch {b}"));
        }
        if let Some(e) = &s.event {
            parts.push(format!("event {e}"));
        }
        match (s.pr, &self.commit) {
            (Some(pr), Some(c)) => parts.push(format!("pull request #{pr} (commit {})", short(c))),
            (None, Some(c)) => parts.push(format!("commit {}", short(c))),
            _ => {}
        }
        if let Some(n) = s.run_number {
            parts.push(format!("run number {n}"));
        }
        if let Some(c) = &s.conclusion {
            parts.push(format!("conclusion {c}"));
        }
        if parts.is_empty() {
            "any run".into()
        } else {
            parts.join(", ")
        }
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

async fn filters<'a>(settings: &'a FindConfig, github: &GitHub) -> Result<Filters<'a>> {
    let s = &settings.search;
    let mut commit = s.commit.clone();
    if let Some(pr) = s.pr {
        let pull = github
            .get_pull(&settings.source.owner, &settings.source.repo, pr)
            .await
            .with_context(|| {
                format!(
                    "pr: cannot read pull request #{pr} of {}",
                    settings.source.repository()
                )
            })?;
        let head = pull.head.sha.to_ascii_lowercase();
        if let Some(c) = &commit
            && !head.starts_with(c.as_str())
        {
            bail!("pr and commit: pull request #{pr} has head commit {head}, not {c}");
        }
        commit = Some(head);
    }
    Ok(Filters { settings, commit })
}

fn chosen(settings: &FindConfig, run: &WorkflowRun, reason: Reason, examined: usize) -> ChosenRun {
    ChosenRun {
        id: run.id,
        url: settings.source.run_url(run.id),
        head_sha: run.head_sha.clone(),
        head_branch: run.head_branch.clone(),
        // A conclusion only: a run still going has none (its status is not one).
        conclusion: run.conclusion.clone(),
        number: run.run_number,
        workflow: run.name.clone(),
        created_at: run.created_at.clone(),
        reason,
        examined,
        artifacts: None,
    }
}

fn refuse_fork(settings: &FindConfig, run: &WorkflowRun) -> Result<()> {
    if let Some(fork) = run.fork_name()
        && !settings.search.allow_forks
    {
        bail!(
            "run {} was triggered from the fork {fork}, not {}: its artifacts are untrusted (the workflow_run artifact-poisoning pattern); set allow-forks: true to accept them",
            run.id,
            settings.source.repository()
        );
    }
    Ok(())
}

/// `run-id` given: fetch that run, refuse forks, and refuse search inputs that contradict it.
/// Waiting for the run (`wait-timeout` with `wait-for: run`, or any wait on GHES), a run not
/// yet completed is not found yet: the caller polls it again, conditionally.
async fn given(settings: &FindConfig, github: &GitHub, id: u64) -> Result<Resolution> {
    let run = github
        .get_run(&settings.source.owner, &settings.source.repo, id)
        .await
        .map_err(|e| {
            if refusal(&e) == Some(Refusal::NotFound) {
                e.context(format!(
                    "run-id: run {id} was not found in {}",
                    settings.source.repository()
                ))
            } else {
                e.context(format!("cannot read run {id}"))
            }
        })?;
    let f = filters(settings, github).await?;
    // The conclusion filter is a search default; with an explicit run it is not a contradiction.
    if let Some(why) = f.mismatch(&run, false) {
        bail!("{why} (run-id {id} contradicts the search inputs)");
    }
    refuse_fork(settings, &run)?;
    let waits_for_run = settings.search.wait.is_some()
        && (settings.search.wait_for == WaitFor::Run || settings.source.is_ghes());
    if waits_for_run && run.status.as_deref() != Some("completed") {
        let status = run.status.as_deref().unwrap_or("not completed");
        return Ok(Resolution::NotFound {
            why: format!("run {id} is {status}, not completed yet (wait-for run)"),
            examined: 1,
        });
    }
    Ok(Resolution::Found(chosen(settings, &run, Reason::Given, 1)))
}

async fn search(settings: &FindConfig, github: &GitHub, log: &Log) -> Result<Resolution> {
    let s = &settings.search;
    let f = filters(settings, github).await?;
    if let Selection::Name(name) = &settings.selection
        && s.search_artifacts
        && s.workflow.is_none()
        && s.event.is_none()
        && s.run_number.is_none()
        && let Some(found) = by_artifact_list(settings, github, &f, name).await?
    {
        return Ok(found);
    }
    walk_runs(settings, github, log, &f).await
}

/// The newest unexpired artifact of this name whose run matches, from the repository-wide list.
/// `None` when the list lacks the run details to decide (older servers): walk the runs instead.
async fn by_artifact_list(
    settings: &FindConfig,
    github: &GitHub,
    f: &Filters<'_>,
    name: &str,
) -> Result<Option<Resolution>> {
    let s = &settings.search;
    let (owner, repo) = (&settings.source.owner, &settings.source.repo);
    let mut next = Some(github.repo_artifacts_url(owner, repo, name)?);
    let mut examined = 0;
    let mut runs: HashMap<u64, WorkflowRun> = HashMap::new();
    let mut over = PassedOver::default();
    while let Some(url) = next.take() {
        let (mut page, link) = github.repo_artifacts_page(url).await?;
        page.sort_by_key(|a| std::cmp::Reverse(a.id));
        for a in page.into_iter().filter(|a| a.name == name) {
            if examined >= s.max_runs {
                return Ok(Some(Resolution::NotFound {
                    why: max_runs_reached(examined, "artifacts", f),
                    examined,
                }));
            }
            examined += 1;
            let Some(wr) = a.workflow_run.clone() else {
                return Ok(None);
            };
            let (Some(run_id), Some(sha)) = (wr.id, wr.head_sha.clone()) else {
                return Ok(None);
            };
            if f.ruled_out_by_list(&a, &wr, &sha, &mut over) {
                continue;
            }
            // The list has no conclusion: read the run (once per run) to check it.
            let run = run_once(&mut runs, github, &settings.source, run_id).await?;
            if f.mismatch(&run, true).is_some() {
                over.filtered += 1;
                continue;
            }
            if !s.allow_forks && run.fork_name().is_some() {
                over.forks += 1;
                continue;
            }
            let reason = Reason::Search(Searched {
                filters: f.describe(),
                by_artifact: Some(name.to_string()),
                needs_artifact: true,
                passed_over: over,
            });
            let mut c = chosen(settings, &run, reason, examined);
            c.artifacts = Some(vec![a]);
            return Ok(Some(Resolution::Found(c)));
        }
        next = link;
    }
    Ok(Some(Resolution::NotFound {
        why: format!(
            "no unexpired artifact '{name}' from a run matching {} in {} ({examined} artifacts examined)",
            f.describe(),
            settings.source.repository()
        ),
        examined,
    }))
}

/// Run `id`, read from the API the first time it is asked for and from `runs` after that.
async fn run_once(
    runs: &mut HashMap<u64, WorkflowRun>,
    github: &GitHub,
    source: &Source,
    id: u64,
) -> Result<WorkflowRun> {
    if let Some(r) = runs.get(&id) {
        return Ok(r.clone());
    }
    let r = github.get_run(&source.owner, &source.repo, id).await?;
    runs.insert(id, r.clone());
    Ok(r)
}

fn max_runs_reached(examined: usize, what: &str, f: &Filters) -> String {
    format!(
        "max-runs: examined {examined} {what} matching {} without an answer; raise max-runs to search further back",
        f.describe()
    )
}

/// Pages through the matching runs, newest first, until one answers.
async fn walk_runs(
    settings: &FindConfig,
    github: &GitHub,
    log: &Log,
    f: &Filters<'_>,
) -> Result<Resolution> {
    let s = &settings.search;
    let (owner, repo) = (&settings.source.owner, &settings.source.repo);
    let query = runs_query(f);
    let name_filter = match &settings.selection {
        Selection::Name(n) => Some(n.as_str()),
        _ => None,
    };
    let mut next = Some(github.runs_url(owner, repo, s.workflow.as_deref(), &query)?);
    let mut examined = 0;
    let mut over = PassedOver::default();
    while let Some(url) = next.take() {
        let (runs, link) = runs_page(settings, github, url).await?;
        for run in runs {
            if examined >= s.max_runs {
                return Ok(Resolution::NotFound {
                    why: max_runs_reached(examined, "runs", f),
                    examined,
                });
            }
            examined += 1;
            if f.mismatch(&run, true).is_some() {
                over.filtered += 1;
                continue;
            }
            if let Some(fork) = run.fork_name()
                && !s.allow_forks
            {
                over.forks += 1;
                log.info(&format!(
                    "Skipping run {} from the fork {fork} (allow-forks is false)",
                    run.id
                ));
                continue;
            }
            if s.search_artifacts {
                let artifacts = github
                    .list_run_artifacts(owner, repo, run.id, name_filter)
                    .await?;
                if !artifacts
                    .iter()
                    .any(|a| !a.expired && settings.selection.matches(&a.name, a.id))
                {
                    over.without_artifact += 1;
                    continue;
                }
                let mut c = chosen(settings, &run, searched(f, true, over), examined);
                c.artifacts = Some(artifacts);
                return Ok(Resolution::Found(c));
            }
            let reason = searched(f, false, over);
            return Ok(Resolution::Found(chosen(settings, &run, reason, examined)));
        }
        next = link;
    }
    Ok(Resolution::NotFound {
        why: no_run(settings, f, examined, &over),
        examined,
    })
}

/// One page of the run list, newest first, and the next page's URL.
async fn runs_page(
    settings: &FindConfig,
    github: &GitHub,
    url: Url,
) -> Result<(Vec<WorkflowRun>, Option<Url>)> {
    let (page, link): (RunList, _) =
        github
            .get_page(url)
            .await
            .map_err(|e| match (refusal(&e), &settings.search.workflow) {
                (Some(Refusal::NotFound), Some(w)) => e.context(format!(
                    "workflow: '{w}' was not found in {}",
                    settings.source.repository()
                )),
                _ => e.context("cannot list workflow runs"),
            })?;
    let mut runs = page.workflow_runs;
    // Do not trust the order after filtering: newest created first, then highest id.
    runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok((runs, link))
}

/// The server-side filters of the run list (the rest is matched here, run by run).
fn runs_query<'a>(f: &'a Filters<'_>) -> Vec<(&'static str, &'a str)> {
    let s = &f.settings.search;
    let mut query: Vec<(&str, &str)> = vec![("exclude_pull_requests", "true")];
    if let Some(b) = &s.branch {
        query.push(("branch", b));
    }
    if let Some(e) = &s.event {
        query.push(("event", e));
    }
    // The server filter wants a full SHA; a short one is matched here instead.
    if let Some(c) = f.commit.as_deref().filter(|c| c.len() == 40) {
        query.push(("head_sha", c));
    }
    if let Some(c) = &s.conclusion {
        query.push(("status", c));
    }
    query
}

/// Why the run walk found nothing, with what it passed over.
fn no_run(settings: &FindConfig, f: &Filters<'_>, examined: usize, over: &PassedOver) -> String {
    let mut msg = format!(
        "no run in {} matches {} ({examined} runs examined",
        settings.source.repository(),
        f.describe()
    );
    if over.forks > 0 {
        msg.push_str(&format!(", {} from forks skipped", over.forks));
    }
    if over.without_artifact > 0 {
        msg.push_str(&format!(
            ", {} without a matching unexpired artifact",
            over.without_artifact
        ));
    }
    msg.push(')');
    if examined >= 1000 {
        msg.push_str("; GitHub returns at most 1,000 runs for a filtered search");
    }
    msg
}

fn searched(f: &Filters, needs_artifact: bool, passed_over: PassedOver) -> Reason {
    Reason::Search(Searched {
        filters: f.describe(),
        by_artifact: None,
        needs_artifact,
        passed_over,
    })
}
