//! The whole step, start to end: inputs -> settings -> resolve -> plan -> fetch -> report, with
//! `wait-timeout` polling and the `fallback` levels around resolve and plan, the `timeout` and
//! signals around it all, and the exit: 0, or 1 with the failure's `::error::` line (several
//! failed artifacts: one annotation each, and a closing line that sums them up).

use std::borrow::Cow;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::fetch::Downloader;
use crate::fetch::Fetcher;
use crate::github::backoff::Backoff;
use crate::github::model::Job;
use crate::github::tls::Roots;
use crate::github::{ApiConfig, Blob, GitHub};
use crate::inputs::{self, Command, input};
use crate::log::Log;
use crate::plan::{self, Head, Plan, SkipReason, Skipped};
use crate::report::rows::rows;
use crate::report::{
    Problem, Row, RunReport, Sinks, Stop, Stopped, Verdict, write_outputs, write_summary,
};
use crate::resolve::{self, ChosenRun, Level, Resolution, Trace, WaitReport};
use crate::settings::{self, NotFound, RunMode, Selection, Settings, SummaryMode, WaitFor};
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
    let roots = extra_roots(settings.extra_ca.as_deref())?;
    let github = Arc::new(api_client(&settings, &roots, &log)?);
    log.info(&format!(
        "Artifacts of {}: {}",
        settings.repository(),
        settings.selection.describe()
    ));
    let mut trace = Trace::default();
    let found = find(&settings, &github, &log, &mut trace).await;
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
        Ok(Found::Nothing(msg, run, skipped)) => return step.nothing(msg, run, &skipped).await,
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

    if settings.dry_run {
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
    if settings.search.delete_after {
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
            settings: self.settings,
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
        finish(self.sinks, self.log, &report)?;
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
            (&s.selection, &run, s.if_no_artifact_found)
            && let Some(miss) = plan::name_miss_hint(s, self.github, run.id, name).await
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
        let severity = match s.if_no_artifact_found {
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
        match s.if_no_artifact_found {
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
        for w in self.settings.pins.check_selection(&selected)? {
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
        base: &settings.api_url,
        token: &settings.token,
        timing: settings.timing.github(),
        max_requests: settings.max_api_requests,
        polling: settings.search.wait.is_some(),
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
    let cache = match &settings.cache {
        Some(c) => Some(
            crate::fetch::Cache::open(&c.dir, c.max_bytes)?.with_barrier(c.test_barrier.clone()),
        ),
        None => None,
    };
    std::fs::create_dir(workdir)
        .with_context(|| format!("cannot create the work directory {}", workdir.display()))?;
    Ok(Arc::new(Fetcher {
        config: Arc::new(crate::fetch::Config::from(&**settings)),
        downloader: Downloader {
            config: crate::fetch::DownloadConfig::from(&**settings),
            github: Arc::clone(github),
            blob: Blob::new(settings.timing.stall, roots, log.clone(), github.gate())?,
            log: log.clone(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                crate::fetch::CONNECTIONS.max(settings.concurrency),
            )),
        },
        log: log.clone(),
        workdir: PathBuf::from(workdir),
        cache,
    }))
}

/// A run and its plan, or why there is nothing to fetch (with the run, if one was found).
enum Found {
    Plan(ChosenRun, Plan),
    /// Why, the run (if one was found) and what of its artifacts the plan left out.
    Nothing(String, Option<ChosenRun>, Vec<Skipped>),
}

/// Resolves the run and plans the fetch: the primary search (polled with `wait-timeout`), then
/// each `fallback` line in order until one yields a run with a matching, unexpired artifact.
/// `max-runs` bounds the runs examined across the whole chain.
async fn find(settings: &Settings, github: &GitHub, log: &Log, trace: &mut Trace) -> Result<Found> {
    let chained = !settings.fallback.is_empty();
    let mut examined_total = 0;
    let mut last = None;
    for index in 0..=settings.fallback.len() {
        let label = match index {
            0 => "primary".to_string(),
            n => format!("fallback-{n}"),
        };
        let level = level_settings(settings, index, examined_total);
        let level: &Settings = &level;
        let filters = resolve::describe_search(level);
        if index > 0 {
            if level.search.max_runs == 0 {
                trace
                    .levels
                    .push(not_tried(label, filters, settings.search.max_runs));
                continue;
            }
            log.info(&format!(
                "Trying {label} ({}): {filters}",
                settings.fallback[index - 1].line
            ));
        }
        let before = github.request_count();
        // With a chain, the log line naming the run says which level chose it.
        let shown = chained.then_some(label.as_str());
        let attempt = if index == 0 {
            poll(level, github, log, trace, shown).await
        } else {
            try_level(level, github, log, shown, &mut trace.chosen).await
        };
        let (found, examined) = match attempt {
            Ok(r) => r,
            // With somewhere else to look, an artifact that exists only expired is a miss.
            Err(e) if chained && e.downcast_ref::<plan::Expired>().is_some() => {
                (Found::Nothing(format!("{e:#}"), None, Vec::new()), 1)
            }
            Err(e) => return Err(e),
        };
        examined_total += examined.max(1); // a level finding no run still spends one of max-runs
        trace.levels.push(Level {
            label: label.clone(),
            filters,
            result: found.describe(),
            requests: github.request_count() - before,
        });
        if let Found::Plan(..) = found {
            trace.matched = Some(trace.levels.len() - 1);
            if index > 0 {
                log.info(&format!("Matched {label}"));
            }
            return Ok(found);
        }
        if let Found::Nothing(why, ..) = &found
            && chained
        {
            log.info(&format!("{label} did not match: {why}"));
        }
        last = Some(found);
    }
    let mut nothing = last.expect("the primary level always runs");
    if chained && let Found::Nothing(why, ..) = &mut nothing {
        *why = format!(
            "no level of the search matched ({} tried; see the summary); the last: {why}",
            trace.levels.len()
        );
    }
    Ok(nothing)
}

/// The settings of search level `index`: the primary's, or a `fallback` line's search with
/// what is left of `max-runs` after the levels before.
fn level_settings(settings: &Settings, index: usize, examined: usize) -> Cow<'_, Settings> {
    if index == 0 {
        return Cow::Borrowed(settings);
    }
    let mut s = settings.clone();
    s.search = settings.fallback[index - 1].search.clone();
    s.run = RunMode::Search;
    s.search.max_runs = settings.search.max_runs.saturating_sub(examined);
    Cow::Owned(s)
}

/// A fallback level left out: the levels before it examined all `max-runs` runs.
fn not_tried(label: String, filters: String, max_runs: usize) -> Level {
    Level {
        label,
        filters,
        result: format!("not tried: max-runs ({max_runs}) was spent by the levels before"),
        requests: 0,
    }
}

impl Found {
    /// What a level found, for the trace.
    fn describe(&self) -> String {
        match self {
            Found::Plan(run, _) => format!("matched run {}: {}", run.id, run.why()),
            Found::Nothing(why, ..) => why.clone(),
        }
    }
}

/// The log line naming the run chosen and why (and, in a `fallback` chain, by which level); the
/// run is kept in `chosen` so that a stop after this point can still show it in the summary.
fn announce(log: &Log, run: &ChosenRun, level: Option<&str>, chosen: &mut Option<ChosenRun>) {
    *chosen = Some(run.clone());
    let level = level.map_or(String::new(), |l| format!(" (search level {l})"));
    log.info(&format!(
        "Using run {} ({}): {}{level}",
        run.id,
        run.url,
        run.why()
    ));
}

/// One level, once: the run, and its plan. Also the number of runs examined.
async fn try_level(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    level: Option<&str>,
    chosen: &mut Option<ChosenRun>,
) -> Result<(Found, usize)> {
    Ok(match resolve::choose(settings, github, log).await? {
        Resolution::NotFound { why, examined } => (Found::Nothing(why, None, Vec::new()), examined),
        Resolution::Found(run) => {
            announce(log, &run, level, chosen);
            let plan = plan::make(settings, github, log, &run).await?;
            let examined = run.examined;
            if plan.items.is_empty() && plan.other_shards == 0 {
                let why = nothing_matched(settings, &run);
                (Found::Nothing(why, Some(run), plan.skipped), examined)
            } else {
                (Found::Plan(run, plan), examined)
            }
        }
    })
}

/// The primary level; with `wait-timeout`, polled ([`Backoff::polling`]: 5 doubling to 60 scaled
/// seconds between polls) until there is something to fetch, the producer has finished without it (`wait-for: job:<name>`), or the time is up.
/// Polls are conditional requests: what did not change since the last poll costs nothing.
async fn poll(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    trace: &mut Trace,
    level: Option<&str>,
) -> Result<(Found, usize)> {
    let Some(limit) = settings.search.wait else {
        return try_level(settings, github, log, level, &mut trace.chosen).await;
    };
    let (mode, note) = wait_mode(settings, log);
    // A producer still running has no conclusion yet: the conclusion filter would hide it.
    let relaxed: Cow<'_, Settings> = if mode != WaitFor::Run && settings.run == RunMode::Search {
        let mut s = settings.clone();
        s.search.conclusion = None;
        Cow::Owned(s)
    } else {
        Cow::Borrowed(settings)
    };
    let settings: &Settings = &relaxed;
    let started = Instant::now();
    let deadline = started + limit;
    let (requests_before, free_before) = (github.request_count(), github.not_modified_count());
    let pauses = Backoff::polling(settings.timing.backoff);
    let mut polls = 0u32;
    let chosen = &mut trace.chosen;
    let (result, stopped) = loop {
        polls += 1;
        let (found, examined, finished) = match &mode {
            WaitFor::Job(name) => poll_job(settings, github, log, name, level, chosen).await?,
            _ => {
                let (found, examined) = try_level(settings, github, log, level, chosen).await?;
                (found, examined, None)
            }
        };
        if let Some(why) = finished {
            break (Err(anyhow::anyhow!("{why}")), why);
        }
        let Found::Nothing(why, ..) = &found else {
            break (
                Ok((found, examined)),
                "found what it waited for".to_string(),
            );
        };
        let now = Instant::now();
        if now >= deadline {
            let stopped = format!("wait-timeout reached; {why}");
            break (Ok((found, examined)), stopped);
        }
        let wait = pauses.delay(polls).min(deadline - now);
        log.info(&format!(
            "Waiting: {why}; checking again in {:.1}s (wait-timeout, wait-for {mode})",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
    };
    let report = WaitReport {
        mode: mode.to_string(),
        waited: started.elapsed(),
        polls,
        requests: github.request_count() - requests_before,
        free: github.not_modified_count() - free_before,
        stopped,
        note,
    };
    log.info(&format!("Wait: {}", report.describe()));
    trace.wait = Some(report);
    result
}

/// What to wait for: `wait-for`, except on GHES, where artifacts appear only with the run's end
/// (then the run, and a note that says so).
fn wait_mode(settings: &Settings, log: &Log) -> (WaitFor, Option<String>) {
    let mode = settings.search.wait_for.clone();
    if !settings.is_ghes() || mode == WaitFor::Run {
        return (mode, None);
    }
    let why = format!(
        "wait-for {mode}: on GitHub Enterprise Server a run's artifacts appear only once the run has completed, so this waits for the run instead"
    );
    log.info(&why);
    (WaitFor::Run, Some(why))
}

/// One poll of `wait-for: job:<name>`: the run, its jobs, then its artifacts (in that order: a
/// job seen finished has uploaded whatever it was going to). The third value, when set, is why
/// waiting longer is pointless.
async fn poll_job(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    name: &str,
    level: Option<&str>,
    chosen: &mut Option<ChosenRun>,
) -> Result<(Found, usize, Option<String>)> {
    let run = match resolve::choose(settings, github, log).await? {
        Resolution::NotFound { why, examined } => {
            return Ok((Found::Nothing(why, None, Vec::new()), examined, None));
        }
        Resolution::Found(run) => run,
    };
    announce(log, &run, level, chosen);
    let jobs = github
        .list_jobs(&settings.owner, &settings.repo, run.id)
        .await
        .with_context(|| {
            format!(
                "wait-for job:{name}: cannot list the jobs of run {}",
                run.id
            )
        })?;
    // Of re-run attempts with one name, the newest.
    let job = jobs.iter().filter(|j| j.name == name).max_by_key(|j| j.id);
    let plan = plan::make(settings, github, log, &run).await?;
    let examined = run.examined;
    if !plan.items.is_empty() || plan.other_shards > 0 {
        return Ok((Found::Plan(run, plan), examined, None));
    }
    let finished = job_finished(settings, name, &run, job, &jobs);
    let why = match job {
        Some(j) => format!(
            "job '{name}' of run {} is {}; {}",
            run.id,
            j.status.as_deref().unwrap_or("unknown"),
            nothing_matched(settings, &run)
        ),
        None => format!("run {} has no job '{name}' yet", run.id),
    };
    Ok((
        Found::Nothing(why, Some(run), plan.skipped),
        examined,
        finished,
    ))
}

/// Why waiting longer for `wait-for: job:<name>` is pointless, if it is: the job finished
/// without the artifact, or every job finished and none has the name.
fn job_finished(
    settings: &Settings,
    name: &str,
    run: &ChosenRun,
    job: Option<&Job>,
    jobs: &[Job],
) -> Option<String> {
    match job {
        Some(j) if j.status.as_deref() == Some("completed") => {
            let conclusion = j.conclusion.as_deref().unwrap_or("unknown");
            Some(if conclusion == "success" {
                format!(
                    "wait-for job:{name}: job '{name}' of run {} finished with conclusion success without uploading {}; not waiting for an artifact that will not come",
                    run.id,
                    settings.selection.describe()
                )
            } else {
                format!(
                    "wait-for job:{name}: job '{name}' of run {} finished with conclusion {conclusion}; its artifact will not come",
                    run.id
                )
            })
        }
        // Every job finished (or the run did) and none has the name: it will not appear.
        None if !jobs.is_empty()
            && (run.conclusion.is_some()
                || jobs
                    .iter()
                    .all(|j| j.status.as_deref() == Some("completed"))) =>
        {
            let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
            Some(format!(
                "wait-for job:{name}: run {} has no job named '{name}' (its jobs: {})",
                run.id,
                names.join(", ")
            ))
        }
        _ => None,
    }
}

fn nothing_matched(settings: &Settings, run: &ChosenRun) -> String {
    let mut msg = format!(
        "No artifact in run {} of {} matches {}",
        run.id,
        settings.repository(),
        settings.selection.describe()
    );
    if settings.is_ghes() && matches!(settings.run, RunMode::Current(_)) {
        msg.push_str(
            "; on GitHub Enterprise Server a run's artifacts appear in the REST API only after the run has completed, so a later job of the same run cannot fetch them (fetch them from a workflow_run-triggered workflow, or use actions/download-artifact@v3)",
        );
    }
    msg
}

/// `delete-after`: delete each artifact that was downloaded and verified. A failure is a warning.
async fn delete_fetched(settings: &Settings, github: &GitHub, log: &Log, rows: &[Row]) {
    for r in rows.iter().filter(|r| r.done().is_some()) {
        let a = &r.artifact;
        match github.delete_artifact(&settings.owner, &settings.repo, a.id).await {
            Ok(()) => log.info(&format!("Deleted artifact '{}' (id {})", a.name, a.id)),
            Err(e) => log.warning(&format!(
                "delete-after: could not delete artifact '{}' (id {}): {e:#} (the token needs actions: write)",
                a.name, a.id
            )),
        }
    }
}

/// Writes outputs and the summary, with secrets redacted: both may quote server text.
fn finish(sinks: &Sinks, log: &Log, report: &RunReport) -> Result<()> {
    if let Some(file) = &sinks.output {
        // The manifest files exist only to be named by outputs, so they go next to them.
        let dir = file
            .parent()
            .filter(|d| d.is_dir())
            .unwrap_or(&report.settings.temp_root);
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
