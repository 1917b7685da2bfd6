//! The whole step, start to end: inputs -> settings -> find (resolve and plan, with the
//! `wait-timeout` polls and the `fallback` levels: [`crate::find`]) -> fetch -> report, the
//! `timeout` and signals around it all, and the exit: 0, or 1 with the failure's `::error::`
//! line (several failed artifacts: one annotation each, and a closing line that sums them up).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::fetch::Downloader;
use crate::fetch::Fetcher;
use crate::find::{Ctx, Found, find};
use crate::github::tls::Roots;
use crate::github::{ApiConfig, Blob, GitHub};
use crate::inputs::{self, Command, input};
use crate::log::Log;
use crate::plan::{self, Head, Plan, SkipReason, Skipped};
use crate::report::rows::rows;
use crate::report::{
    Problem, Row, RunReport, Sinks, Stop, Stopped, Verdict, write_outputs, write_summary,
};
use crate::resolve::{ChosenRun, Trace};
use crate::settings::{self, NotFound, Selection, Settings, SummaryMode};
use crate::util::random_hex;

/// Runs artifetch with these arguments (without the program name) and this environment;
/// `input_vars` names the `INPUT_*` variables set (the lookup cannot list them), checked for
/// names no input reads.
pub fn main_with(
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
    input_vars: &[String],
) -> ExitCode {
    let log = Log::from_env(env);
    // `--help` and `--version` print only what they are for: an `::add-mask::` line before the
    // version would put the token in clear text in any log that quotes the output (an installer's
    // "using artifetch 1.2.3" line), since a workflow command only counts at the start of a line.
    let parsed = match inputs::parse(args, env) {
        Ok(Command::Manifest(dir)) => {
            return match crate::handoff::print_manifest(&dir, &Sinks::from_env(env), &log) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&log, &e),
            };
        }
        Ok(Command::Attestation(args)) => {
            return match crate::offline::run(&args) {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&log, &e),
            };
        }
        Ok(Command::Help) => {
            print!("{}", inputs::help());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("artifetch {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Run(raw)) => Ok(raw),
        Err(e) => Err(e),
    };
    // Anything else may print: mask every token first, even if the inputs turn out to be bad.
    mask_tokens(&log, parsed.as_ref().ok(), env);
    let raw = match parsed {
        Ok(raw) => raw,
        Err(e) => return fail(&log, &e),
    };
    match inputs::check_input_variables(input_vars, env) {
        Ok(warnings) => warnings.iter().for_each(|w| log.warning(w)),
        Err(e) => return fail(&log, &e),
    }
    let settings = match settings::resolve(&raw, env) {
        Ok(s) => s,
        Err(e) => return fail(&log, &e),
    };
    for warning in &settings.warnings {
        log.warning(warning);
    }
    let sinks = Sinks::from_env(env);
    execute(settings, &log, sinks)
}

/// Masks every token the step may know (`github-token` as given, or from the environment), so
/// that no later line shows one.
fn mask_tokens(log: &Log, raw: Option<&inputs::RawInputs>, env: &dyn Fn(&str) -> Option<String>) {
    let from_input = raw.and_then(|raw| raw.get(input!("github-token")).map(str::to_string));
    let mut masked: Vec<String> = Vec::new();
    let tokens = [
        "INPUT_GITHUB-TOKEN",
        "INPUT_GITHUB_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
    ]
    .into_iter()
    .filter_map(|key| env(key).map(|t| t.trim().to_string()))
    .chain(from_input);
    for token in tokens {
        if !masked.contains(&token) {
            log.mask(&token);
            masked.push(token);
        }
    }
}

/// The step itself on an async runtime, bounded by `timeout` and ended early by a signal; the
/// temp files go whatever the outcome.
fn execute(settings: Settings, log: &Log, sinks: Sinks) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)))
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            return fail(
                log,
                &anyhow::Error::new(e).context("cannot start the async runtime"),
            );
        }
    };
    let workdir = settings
        .step
        .temp_root
        .join(format!("artifetch-{}", random_hex(12)));
    let result = runtime.block_on(async {
        let overall = settings.timing.overall;
        let bounded = async {
            match overall {
                Some(limit) => {
                    match tokio::time::timeout(limit, run(settings, log.clone(), sinks, &workdir))
                        .await
                    {
                        Ok(r) => r,
                        Err(_) => {
                            crate::cancel::cancel();
                            let moves = settle_moves().await;
                            Err(anyhow::anyhow!(
                                "timeout: the step took longer than {} minutes; stopped{moves}",
                                limit.as_secs_f64() / 60.0
                            ))
                        }
                    }
                }
                None => run(settings, log.clone(), sinks, &workdir).await,
            }
        };
        tokio::select! {
            r = bounded => r,
            signal = cancelled() => {
                crate::cancel::cancel();
                let moves = settle_moves().await;
                Err(anyhow::anyhow!("cancelled by {signal}; temporary files removed{moves}"))
            }
        }
    });
    // Temp files go on success, failure and cancellation alike. On cancellation or timeout, tasks
    // may still be running (extraction was told to stop above): give the runtime a moment to wind
    // down so nothing is recreated behind our back, then remove the work directory and any
    // staging directory that lives inside a destination.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    let _ = std::fs::remove_dir_all(&workdir);
    crate::cancel::remove_registered();
    match result {
        Ok(code) => code,
        Err(e) => fail(log, &e),
    }
}

/// After a cancellation: waits until every move into a destination has completed or been undone
/// (a second signal aborts them) and says what became of each interrupted one.
async fn settle_moves() -> String {
    let wait = async {
        while crate::cancel::placements_active() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        () = wait => {}
        _ = cancelled() => {
            crate::cancel::abort();
            while crate::cancel::placements_active() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
    crate::cancel::take_notes()
        .iter()
        .map(|n| format!("; {n}"))
        .collect()
}

fn fail(log: &Log, e: &anyhow::Error) -> ExitCode {
    match e.downcast_ref::<Reported>() {
        // Each failure already has its annotation: the closing line only sums them up.
        Some(Reported(summary)) => log.info(summary),
        None => log.error(&format!("{e:#}")),
    }
    ExitCode::FAILURE
}

/// The step fails, but every failure was already reported as its own `::error::` annotation:
/// one annotation per failure, and a plain closing line.
#[derive(Debug)]
struct Reported(String);

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Reported {}

/// Waits for Ctrl-C or SIGTERM (the runner cancels steps with signals).
async fn cancelled() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

async fn run(settings: Settings, log: Log, sinks: Sinks, workdir: &Path) -> Result<ExitCode> {
    let started = Instant::now();
    let settings = Arc::new(settings);
    let roots = extra_roots(settings.access.extra_ca.as_deref())?;
    let github = Arc::new(api_client(&settings, &roots, &log)?);
    log.info(&format!(
        "Artifacts of {}: {}",
        settings.source.repository(),
        settings.find.selection.describe()
    ));
    let mut trace = Trace::default();
    let ctx = Ctx {
        github: &github,
        log: &log,
        plan: &settings.plan,
    };
    let found = find(&settings.find, &ctx, &mut trace).await;
    let step = Step {
        settings: &settings,
        log: &log,
        sinks: &sinks,
        github: &github,
        trace: &trace,
        started,
    };
    let (run, plan) = match found {
        Ok(Found::Plan(run, plan)) => (run, plan),
        Ok(Found::Nothing(n)) => return step.nothing(n.why, n.run, &n.skipped).await,
        Err(e) => {
            // The summary still shows the search, the wait and the run chosen that led here.
            step.finish(
                trace.chosen.as_ref(),
                None,
                &[],
                Some(Stopped::from_error(&e)),
            )?;
            return Err(e);
        }
    };
    step.check_before_download(&run, &plan)?;

    if settings.step.dry_run {
        for item in &plan.items {
            log.info(&format!(
                "Would fetch '{}' (id {}) to {}",
                item.artifact.name,
                item.artifact.id,
                item.dest.display()
            ));
        }
        step.finish(
            Some(&run),
            Some(&plan.head),
            &rows(&plan, Vec::new(), true),
            None,
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    let fetcher = fetcher(&settings, &github, &roots, &log, workdir)?;
    let rows = rows(&plan, fetcher.fetch_all(&plan).await, false);
    if settings.step.delete_after {
        delete_fetched(&settings, &github, &log, &rows).await;
    }
    let verdict = step.finish(Some(&run), Some(&plan.head), &rows, None)?;
    step.conclude(&rows, verdict)
}

/// What every part of one step shares once the run search is done.
struct Step<'a> {
    settings: &'a Settings,
    log: &'a Log,
    sinks: &'a Sinks,
    github: &'a GitHub,
    trace: &'a Trace,
    started: Instant,
}

impl Step<'_> {
    /// Writes outputs and the summary for these rows; returns the verdict they add up to. `head`:
    /// what the plan read of the run's commit and branch, when there is a plan.
    fn finish(
        &self,
        run: Option<&ChosenRun>,
        head: Option<&Head>,
        rows: &[Row],
        stop: Option<Stopped>,
    ) -> Result<Verdict> {
        let report = RunReport {
            settings: &self.settings.report,
            log: self.log,
            run,
            head,
            rows,
            stopped: stop,
            elapsed: self.started.elapsed(),
            api_budget: self.github.budget_line(),
            trace: self.trace,
            now: now_unix(),
        };
        finish(self.sinks, self.log, &report, &self.settings.step.temp_root)?;
        Ok(report.verdict())
    }

    /// Nothing to fetch: the summary says what was asked and what the run has, then
    /// `if-no-artifact-found` decides.
    async fn nothing(
        &self,
        mut msg: String,
        run: Option<ChosenRun>,
        skipped: &[Skipped],
    ) -> Result<ExitCode> {
        let s = self.settings;
        let mut listed: Vec<Skipped> = Vec::new();
        if let (Selection::Name(name), Some(run), NotFound::Fail | NotFound::Warn) =
            (&s.find.selection, &run, s.step.if_no_artifact_found)
            && let Some(miss) = plan::name_miss_hint(&s.source, self.github, run.id, name).await
        {
            msg.push_str(&miss.hint);
            // The summary lists what the run has, as a pattern's miss does.
            if skipped.is_empty() {
                listed = miss
                    .listed
                    .into_iter()
                    .map(|artifact| Skipped {
                        artifact,
                        why: SkipReason::NotSelected,
                    })
                    .collect();
            }
        }
        let severity = match s.step.if_no_artifact_found {
            NotFound::Fail => Problem::Error,
            NotFound::Warn => Problem::Warning,
            NotFound::Ignore => Problem::Accepted,
        };
        let stop = Stopped {
            what: if run.is_some() {
                Stop::NoArtifact
            } else {
                Stop::NoRun
            },
            severity,
            message: msg.clone(),
            cause: None,
            next: None,
        };
        let rows: Vec<Row> = skipped.iter().chain(&listed).map(Row::skipped).collect();
        self.finish(run.as_ref(), None, &rows, Some(stop))?;
        match s.step.if_no_artifact_found {
            NotFound::Fail => bail!("{msg} (if-no-artifact-found: fail)"),
            NotFound::Warn => self.log.warning(&msg),
            NotFound::Ignore => self.log.info(&msg),
        }
        Ok(ExitCode::SUCCESS)
    }

    /// Pins against the selection, and the API requests the downloads need, before any.
    fn check_before_download(&self, run: &ChosenRun, plan: &Plan) -> Result<()> {
        let selected: Vec<&str> = plan
            .items
            .iter()
            .map(|i| i.artifact.name.as_str())
            .collect();
        for w in self.settings.fetch.pins.check_selection(&selected)? {
            self.log.warning(&w);
        }
        // One download URL per artifact at least: stop now rather than half-way.
        let needed = plan.items.len() as u64;
        if let Some((max, left)) = self.github.requests_left()
            && needed > left
        {
            let msg = format!(
                "max-api-requests: fetching {needed} artifacts needs at least {needed} more API requests, and {left} of {max} are left; nothing was downloaded (raise max-api-requests, or split the work with shard)"
            );
            self.finish(
                Some(run),
                Some(&plan.head),
                &[],
                Some(Stopped::error(
                    msg.clone(),
                    "max-api-requests is too low for this run",
                    "raise `max-api-requests`, or split the work with `shard`",
                )),
            )?;
            bail!("{msg}");
        }
        if let Some(remaining) = self.github.gate().rate().remaining
            && needed > remaining
        {
            self.log.warning(&format!(
                "fetching {needed} artifacts needs at least {needed} API requests and the rate limit has {remaining} left: requests will be spaced out and wait for the reset"
            ));
        }
        Ok(())
    }

    /// The closing log line, and one error annotation per failure (or the only one as the
    /// step's error).
    fn conclude(&self, rows: &[Row], verdict: Verdict) -> Result<ExitCode> {
        let taken: Vec<&Row> = rows.iter().filter(|r| r.taken()).collect();
        let failed: Vec<&Row> = taken
            .iter()
            .copied()
            .filter(|r| r.failure().is_some())
            .collect();
        let total: u64 = taken
            .iter()
            .filter_map(|r| r.done())
            .map(|d| d.downloaded)
            .sum();
        self.log.info(&format!(
            "Fetched {} of {} artifacts ({}) in {:.2}s; {}",
            taken.len() - failed.len(),
            taken.len(),
            crate::util::human_bytes(total),
            self.started.elapsed().as_secs_f64(),
            self.github.budget_line()
        ));
        if !verdict.fails_the_step() {
            return Ok(ExitCode::SUCCESS);
        }
        let errors: Vec<&str> = failed
            .iter()
            .filter_map(|r| r.failure())
            .map(|f| f.message.as_str())
            .collect();
        if let [only] = errors.as_slice()
            && taken.len() == 1
        {
            // One artifact, one failure: its own message is the step's error.
            bail!("{only}");
        }
        for e in &errors {
            self.log.error(e);
        }
        let names: Vec<&str> = failed.iter().map(|r| r.artifact.name.as_str()).collect();
        Err(Reported(format!(
            "{} of {} artifacts failed: {}",
            failed.len(),
            taken.len(),
            names.join(", ")
        ))
        .into())
    }
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The certificates of `SSL_CERT_FILE` (`extra_ca`), none without it.
fn extra_roots(extra_ca: Option<&Path>) -> Result<Roots> {
    let Some(path) = extra_ca else {
        return Ok(Roots::none());
    };
    // The one reader of user-named files: a regular file only, bounded, never echoed.
    let pem = crate::extract::user_file::read_user_file(path).context("SSL_CERT_FILE")?;
    Roots::from_pem(&pem, path)
}

/// The API client, with what it needs of the settings.
fn api_client(settings: &Settings, roots: &Roots, log: &Log) -> Result<GitHub> {
    let api = ApiConfig {
        base: &settings.source.api_url,
        token: &settings.access.token,
        timing: settings.timing.github(),
        max_requests: settings.access.max_api_requests,
        polling: settings.find.search.wait.is_some(),
    };
    GitHub::new(api, roots, log.clone())
}

/// The fetch stage: the blob client beside the API one, the cache if on, and the step's own
/// work directory (created now: its parent, RUNNER_TEMP or the system temp directory, exists).
fn fetcher(
    settings: &Arc<Settings>,
    github: &Arc<GitHub>,
    roots: &Roots,
    log: &Log,
    workdir: &Path,
) -> Result<Arc<Fetcher>> {
    let cache = match &settings.fetch.cache {
        Some(c) => Some(
            crate::fetch::Cache::open(&c.dir, c.max_bytes)?.with_barrier(c.test_barrier.clone()),
        ),
        None => None,
    };
    std::fs::create_dir(workdir)
        .with_context(|| format!("cannot create the work directory {}", workdir.display()))?;
    Ok(Arc::new(Fetcher {
        config: Arc::new(crate::fetch::Config::of(&settings.fetch, &settings.source)),
        downloader: Downloader {
            config: crate::fetch::DownloadConfig::of(
                &settings.fetch,
                &settings.source,
                settings.timing,
            ),
            github: Arc::clone(github),
            blob: Blob::new(settings.timing.stall, roots, log.clone(), github.gate())?,
            log: log.clone(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                crate::fetch::CONNECTIONS.max(settings.fetch.concurrency),
            )),
        },
        log: log.clone(),
        spool: crate::extract::Budget::new(crate::fetch::SPOOL_BUDGET),
        workdir: PathBuf::from(workdir),
        cache,
    }))
}

/// `delete-after`: delete each artifact that was downloaded and verified. A failure is a warning.
async fn delete_fetched(settings: &Settings, github: &GitHub, log: &Log, rows: &[Row]) {
    for r in rows.iter().filter(|r| r.done().is_some()) {
        let a = &r.artifact;
        match github.delete_artifact(&settings.source.owner, &settings.source.repo, a.id).await {
            Ok(()) => log.info(&format!("Deleted artifact '{}' (id {})", a.name, a.id)),
            Err(e) => log.warning(&format!(
                "delete-after: could not delete artifact '{}' (id {}): {e:#} (the token needs actions: write)",
                a.name, a.id
            )),
        }
    }
}

/// Writes outputs and the summary, with secrets redacted: both may quote server text.
fn finish(sinks: &Sinks, log: &Log, report: &RunReport, temp_root: &Path) -> Result<()> {
    if let Some(file) = &sinks.output {
        // The manifest files exist only to be named by outputs, so they go next to them.
        let dir = file.parent().filter(|d| d.is_dir()).unwrap_or(temp_root);
        let written = crate::handoff::write_manifests(report.settings, report.rows, dir)?;
        let mut outputs = report.outputs();
        outputs.extend(crate::handoff::outputs(report.rows, written.as_ref()));
        let outputs: Vec<(&str, String)> = outputs
            .into_iter()
            .map(|(name, value)| (name, log.redact(&value)))
            .collect();
        write_outputs(file, &outputs)?;
    }
    // The summary is for people; failing to write it must not fail a step whose files are in
    // place (outputs are different: later steps read them).
    let wanted = match report.settings.summary {
        SummaryMode::Always => true,
        SummaryMode::Never => false,
        SummaryMode::OnFailure => report.verdict() != Verdict::Success,
    };
    if let Some(file) = sinks.summary.as_ref().filter(|_| wanted)
        && let Err(e) = write_summary(file, &(report.summary() + &crate::handoff::summary(report)))
    {
        log.warning(&format!("{e:#}; the job summary is missing"));
    }
    Ok(())
}
