//! The whole step, start to end: inputs -> settings -> plan -> fetch -> report, and the mapping
//! of any failure to one `::error::` line and exit code 1.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::download::Downloader;
use crate::fetch::{Fetched, Fetcher};
use crate::github::{ApiConfig, Blob, GitHub};
use crate::inputs::{self, Command, input};
use crate::log::Log;
use crate::plan::{self, Plan};
use crate::report::{RunReport, Sinks, write_outputs, write_summary};
use crate::resolve::{self, ChosenRun, Level, Resolution, Trace, WaitReport};
use crate::settings::{self, NotFound, RunMode, Selection, Settings, WaitFor};
use crate::util::random_hex;

/// Runs artifetch with these arguments (without the program name) and this environment.
pub fn main_with(args: &[OsString], env: &dyn Fn(&str) -> Option<String>) -> ExitCode {
    let log = Log::from_env(env);
    // `--help` and `--version` print only what they are for: an `::add-mask::` line before the
    // version would put the token in clear text in any log that quotes the output (an installer's
    // "using artifetch 1.2.3" line), since a workflow command only counts at the start of a line.
    let parsed = match inputs::parse(args, env) {
        Ok(Command::Manifest(dir)) => {
            return match crate::handoff::print_manifest(&dir, &Sinks::from_env(env)) {
                Ok(()) => ExitCode::SUCCESS,
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
    let from_input = parsed
        .as_ref()
        .ok()
        .and_then(|raw| raw.get(input!("github-token")).map(str::to_string));
    let mut masked: Vec<String> = Vec::new();
    let tokens = ["INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN"]
        .into_iter()
        .filter_map(|key| env(key).map(|t| t.trim().to_string()))
        .chain(from_input);
    for token in tokens {
        if !masked.contains(&token) {
            log.mask(&token);
            masked.push(token);
        }
    }
    let raw = match parsed {
        Ok(raw) => raw,
        Err(e) => return fail(&log, &e),
    };
    let settings = match settings::resolve(&raw, env) {
        Ok(s) => s,
        Err(e) => return fail(&log, &e),
    };
    for warning in &settings.warnings {
        log.warning(warning);
    }
    let sinks = Sinks::from_env(env);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8)))
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            return fail(
                &log,
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
        Err(e) => fail(&log, &e),
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
    let roots = crate::github::tls::extra_roots(settings.extra_ca.as_deref())?;
    let api = ApiConfig {
        base: &settings.api_url,
        token: &settings.token,
        timing: settings.timing,
        max_requests: settings.max_api_requests,
        polling: settings.search.wait.is_some(),
    };
    let github = Arc::new(GitHub::new(api, &roots, log.clone())?);
    log.info(&format!(
        "Artifacts of {}: {}",
        settings.repository(),
        describe(&settings.selection)
    ));
    let mut trace = Trace::default();
    let found = find(&settings, &github, &log, &mut trace).await;
    let report = |run, fetched, dry_run_items| RunReport {
        settings: &settings,
        log: &log,
        run,
        fetched,
        dry_run_items,
        elapsed: started.elapsed(),
        api_requests: github.request_count(),
        api_budget: github.budget_line(),
        trace: &trace,
    };

    let found = match found {
        Ok(f) => f,
        Err(e) => {
            // The summary still shows the search and the wait that led here.
            finish(&sinks, &log, &report(None, &[], &[]))?;
            return Err(e);
        }
    };
    let (run, plan) = match found {
        Found::Plan(run, plan) => (run, plan),
        Found::Nothing(mut msg, run) => {
            finish(&sinks, &log, &report(run.as_ref(), &[], &[]))?;
            if let (Selection::Name(name), Some(run), NotFound::Fail | NotFound::Warn) =
                (&settings.selection, &run, settings.if_no_artifact_found)
                && let Some(hint) = plan::name_miss_hint(&settings, &github, run.id, name).await
            {
                msg.push_str(&hint);
            }
            return match settings.if_no_artifact_found {
                NotFound::Fail => bail!("{msg} (if-no-artifact-found: fail)"),
                NotFound::Warn => {
                    log.warning(&msg);
                    Ok(ExitCode::SUCCESS)
                }
                NotFound::Ignore => {
                    log.info(&msg);
                    Ok(ExitCode::SUCCESS)
                }
            };
        }
    };

    // Pins are checked against the selection before anything is downloaded.
    let selected: Vec<&str> = plan
        .items
        .iter()
        .map(|i| i.artifact.name.as_str())
        .collect();
    for w in settings.pins.check_selection(&selected)? {
        log.warning(&w);
    }
    // One download URL per artifact at least: stop now rather than half-way.
    if let Some((max, left)) = github.requests_left()
        && (plan.items.len() as u64) > left
    {
        finish(&sinks, &log, &report(Some(&run), &[], &[]))?;
        bail!(
            "max-api-requests: fetching {} artifacts needs at least {} more API requests, and {left} of {max} are left; nothing was downloaded (raise max-api-requests, or split the work with shard)",
            plan.items.len(),
            plan.items.len()
        );
    }
    if let Some(remaining) = github.gate().rate().remaining
        && (plan.items.len() as u64) > remaining
    {
        log.warning(&format!(
            "fetching {} artifacts needs at least {} API requests and the rate limit has {remaining} left: requests will be spaced out and wait for the reset",
            plan.items.len(),
            plan.items.len()
        ));
    }

    if settings.dry_run {
        for item in &plan.items {
            log.info(&format!(
                "Would fetch '{}' (id {}) to {}",
                item.artifact.name,
                item.artifact.id,
                item.dest.display()
            ));
        }
        finish(&sinks, &log, &report(Some(&run), &[], &plan.items))?;
        return Ok(ExitCode::SUCCESS);
    }

    let cache = match &settings.cache {
        Some(c) => Some(crate::cache::Cache::open(&c.dir, c.max_bytes)?),
        None => None,
    };
    // Only our own directory: its parent (RUNNER_TEMP or the system temp directory) exists.
    std::fs::create_dir(workdir)
        .with_context(|| format!("cannot create the work directory {}", workdir.display()))?;
    let fetcher = Arc::new(Fetcher {
        settings: Arc::clone(&settings),
        downloader: Downloader {
            settings: Arc::clone(&settings),
            github: Arc::clone(&github),
            blob: Blob::new(settings.timing.stall, &roots, log.clone(), github.gate())?,
            log: log.clone(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                crate::download::CONNECTIONS.max(settings.concurrency),
            )),
        },
        log: log.clone(),
        workdir: PathBuf::from(workdir),
        cache,
    });
    let fetched = fetcher.fetch_all(&plan).await;
    if settings.search.delete_after {
        delete_fetched(&settings, &github, &log, &fetched).await;
    }
    finish(&sinks, &log, &report(Some(&run), &fetched, &[]))?;

    let failed: Vec<&str> = fetched
        .iter()
        .filter(|f| f.result.is_err())
        .map(|f| f.item.artifact.name.as_str())
        .collect();
    let total: u64 = fetched
        .iter()
        .filter_map(|f| f.result.as_ref().ok())
        .map(|d| d.downloaded)
        .sum();
    log.info(&format!(
        "Fetched {} of {} artifacts ({}) in {:.2}s; {}",
        fetched.len() - failed.len(),
        fetched.len(),
        crate::util::human_bytes(total),
        started.elapsed().as_secs_f64(),
        github.budget_line()
    ));
    let errors: Vec<&String> = fetched
        .iter()
        .filter_map(|f| f.result.as_ref().err())
        .collect();
    if let [only] = errors.as_slice()
        && fetched.len() == 1
    {
        // One artifact, one failure: its own message is the step's error.
        bail!("{only}");
    }
    if !failed.is_empty() {
        for e in &errors {
            log.error(e);
        }
        return Err(Reported(format!(
            "{} of {} artifacts failed: {}",
            failed.len(),
            fetched.len(),
            failed.join(", ")
        ))
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

/// A run and its plan, or why there is nothing to fetch (with the run, if one was found).
enum Found {
    Plan(ChosenRun, Plan),
    Nothing(String, Option<ChosenRun>),
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
        let level_settings;
        let level: &Settings = match index {
            0 => settings,
            n => {
                let mut s = settings.clone();
                s.search = settings.fallback[n - 1].search.clone();
                s.run = RunMode::Search;
                s.search.max_runs = settings.search.max_runs.saturating_sub(examined_total);
                level_settings = s;
                &level_settings
            }
        };
        let filters = resolve::describe_search(level);
        if index > 0 {
            if level.search.max_runs == 0 {
                trace.levels.push(Level {
                    label,
                    filters,
                    result: format!(
                        "not tried: max-runs ({}) was spent by the levels before",
                        settings.search.max_runs
                    ),
                    requests: 0,
                });
                continue;
            }
            log.info(&format!(
                "Trying {label} ({}): {filters}",
                settings.fallback[index - 1].line
            ));
        }
        let before = github.request_count();
        let attempt = if index == 0 {
            poll(level, github, log, trace).await
        } else {
            try_level(level, github, log).await
        };
        let (found, examined) = match attempt {
            Ok(r) => r,
            // With somewhere else to look, an artifact that exists only expired is a miss.
            Err(e) if chained && e.downcast_ref::<plan::Expired>().is_some() => {
                (Found::Nothing(format!("{e:#}"), None), 1)
            }
            Err(e) => return Err(e),
        };
        examined_total += examined;
        let result = match &found {
            Found::Plan(run, _) => format!("matched run {}: {}", run.id, run.why),
            Found::Nothing(why, _) => why.clone(),
        };
        trace.levels.push(Level {
            label: label.clone(),
            filters,
            result,
            requests: github.request_count() - before,
        });
        if let Found::Plan(..) = found {
            trace.matched = Some(trace.levels.len() - 1);
            if index > 0 {
                log.info(&format!("Matched {label}"));
            }
            return Ok(found);
        }
        if let Found::Nothing(why, _) = &found
            && chained
        {
            log.info(&format!("{label} did not match: {why}"));
        }
        last = Some(found);
    }
    let mut nothing = last.expect("the primary level always runs");
    if chained && let Found::Nothing(why, _) = &mut nothing {
        *why = format!(
            "no level of the search matched ({} tried; see the summary); the last: {why}",
            trace.levels.len()
        );
    }
    Ok(nothing)
}

/// One level, once: the run, and its plan. Also the number of runs examined.
async fn try_level(settings: &Settings, github: &GitHub, log: &Log) -> Result<(Found, usize)> {
    Ok(match resolve::choose(settings, github, log).await? {
        Resolution::NotFound { why, examined } => (Found::Nothing(why, None), examined),
        Resolution::Found(mut run) => {
            log.info(&format!("Using run {} ({}): {}", run.id, run.url, run.why));
            let plan = plan::make(settings, github, log, &run).await?;
            fill_from_artifacts(&mut run, &plan);
            let examined = run.examined;
            if plan.items.is_empty() && plan.other_shards == 0 {
                (
                    Found::Nothing(nothing_matched(settings, &run), Some(run)),
                    examined,
                )
            } else {
                (Found::Plan(run, plan), examined)
            }
        }
    })
}

/// The primary level; with `wait-timeout`, polled with backoff until there is something to
/// fetch, the producer has finished without it (`wait-for: job:<name>`), or the time is up.
/// Polls are conditional requests: what did not change since the last poll costs nothing.
async fn poll(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    trace: &mut Trace,
) -> Result<(Found, usize)> {
    let Some(limit) = settings.search.wait else {
        return try_level(settings, github, log).await;
    };
    let mut mode = settings.search.wait_for.clone();
    let mut note = None;
    if settings.is_ghes() && mode != WaitFor::Run {
        let why = format!(
            "wait-for {mode}: on GitHub Enterprise Server a run's artifacts appear only once the run has completed, so this waits for the run instead"
        );
        log.info(&why);
        note = Some(why);
        mode = WaitFor::Run;
    }
    // A producer still running has no conclusion yet: the conclusion filter would hide it.
    let relaxed;
    let settings = if mode != WaitFor::Run && settings.run == RunMode::Search {
        let mut s = settings.clone();
        s.search.conclusion = None;
        relaxed = s;
        &relaxed
    } else {
        settings
    };
    let started = Instant::now();
    let deadline = started + limit;
    let (requests_before, free_before) = (github.request_count(), github.not_modified_count());
    let max_pause = settings.timing.backoff * 60;
    let mut pause = settings.timing.backoff * 5;
    let mut polls = 0u32;
    let (result, stopped) = loop {
        polls += 1;
        let (found, examined, finished) = match &mode {
            WaitFor::Job(name) => poll_job(settings, github, log, name).await?,
            _ => {
                let (found, examined) = try_level(settings, github, log).await?;
                (found, examined, None)
            }
        };
        if let Some(why) = finished {
            break (Err(anyhow::anyhow!("{why}")), why);
        }
        let Found::Nothing(why, _) = &found else {
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
        let wait = pause.min(deadline - now);
        log.info(&format!(
            "Waiting: {why}; checking again in {:.1}s (wait-timeout, wait-for {mode})",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(max_pause);
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

/// One poll of `wait-for: job:<name>`: the run, its jobs, then its artifacts (in that order: a
/// job seen finished has uploaded whatever it was going to). The third value, when set, is why
/// waiting longer is pointless.
async fn poll_job(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    name: &str,
) -> Result<(Found, usize, Option<String>)> {
    let mut run = match resolve::choose(settings, github, log).await? {
        Resolution::NotFound { why, examined } => {
            return Ok((Found::Nothing(why, None), examined, None));
        }
        Resolution::Found(run) => run,
    };
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
    fill_from_artifacts(&mut run, &plan);
    let examined = run.examined;
    if !plan.items.is_empty() || plan.other_shards > 0 {
        return Ok((Found::Plan(run, plan), examined, None));
    }
    let finished = match job {
        Some(j) if j.status.as_deref() == Some("completed") => {
            let conclusion = j.conclusion.as_deref().unwrap_or("unknown");
            Some(if conclusion == "success" {
                format!(
                    "wait-for job:{name}: job '{name}' of run {} finished with conclusion success without uploading {}; not waiting for an artifact that will not come",
                    run.id,
                    describe(&settings.selection)
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
    };
    let why = match job {
        Some(j) => format!(
            "job '{name}' of run {} is {}; {}",
            run.id,
            j.status.as_deref().unwrap_or("unknown"),
            nothing_matched(settings, &run)
        ),
        None => format!("run {} has no job '{name}' yet", run.id),
    };
    Ok((Found::Nothing(why, Some(run)), examined, finished))
}

/// The current run's head commit and branch come with its artifacts; no request needed.
fn fill_from_artifacts(run: &mut ChosenRun, plan: &Plan) {
    let Some(wr) = plan
        .items
        .iter()
        .find_map(|i| i.artifact.workflow_run.as_ref())
    else {
        return;
    };
    if run.head_sha.is_none() {
        run.head_sha = wr.head_sha.clone();
    }
    if run.head_branch.is_none() {
        run.head_branch = wr.head_branch.clone();
    }
}

fn nothing_matched(settings: &Settings, run: &ChosenRun) -> String {
    let mut msg = format!(
        "No artifact in run {} of {} matches {}",
        run.id,
        settings.repository(),
        describe(&settings.selection)
    );
    if settings.is_ghes() && matches!(settings.run, RunMode::Current(_)) {
        msg.push_str(
            "; on GitHub Enterprise Server a run's artifacts appear in the REST API only after the run has completed, so a later job of the same run cannot fetch them (fetch them from a workflow_run-triggered workflow, or use actions/download-artifact@v3)",
        );
    }
    msg
}

/// `delete-after`: delete each artifact that was downloaded and verified. A failure is a warning.
async fn delete_fetched(settings: &Settings, github: &GitHub, log: &Log, fetched: &[Fetched]) {
    for f in fetched.iter().filter(|f| f.result.is_ok()) {
        let a = &f.item.artifact;
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
        let written = crate::handoff::write_manifests(report.settings, report.fetched, dir)?;
        let mut outputs = report.outputs();
        outputs.extend(crate::handoff::outputs(report.fetched, written.as_ref()));
        let outputs: Vec<(&str, String)> = outputs
            .into_iter()
            .map(|(name, value)| (name, log.redact(&value)))
            .collect();
        write_outputs(file, &outputs)?;
    }
    // The summary is for people; failing to write it must not fail a step whose files are in
    // place (outputs are different: later steps read them).
    let pinned = crate::handoff::summary(report);
    if let Some(file) = &sinks.summary
        && let Err(e) = write_summary(file, &(report.summary() + &pinned))
    {
        log.warning(&format!("{e:#}; the job summary is missing"));
    }
    Ok(())
}

fn describe(selection: &Selection) -> String {
    match selection {
        Selection::All => "all artifacts".into(),
        Selection::Name(n) => format!("name '{n}'"),
        Selection::Pattern(p) => format!("pattern '{}'", p.as_str()),
        Selection::Ids(ids) => format!(
            "artifact-ids {}",
            ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
        ),
    }
}
