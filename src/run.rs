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
use crate::github::{Blob, GitHub};
use crate::inputs::{self, Command};
use crate::log::Log;
use crate::plan::{self, Plan};
use crate::report::{RunReport, Sinks, write_outputs, write_summary};
use crate::resolve::{self, ChosenRun, Resolution};
use crate::settings::{self, NotFound, RunMode, Selection, Settings};
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
        .and_then(|raw| raw.get("github-token").map(str::to_string));
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
                            crate::fsx::cancel();
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
                crate::fsx::cancel();
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
    crate::fsx::remove_registered();
    match result {
        Ok(code) => code,
        Err(e) => fail(&log, &e),
    }
}

/// After a cancellation: waits until every move into a destination has completed or been undone
/// (a second signal aborts them) and says what became of each interrupted one.
async fn settle_moves() -> String {
    let wait = async {
        while crate::fsx::placements_active() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        () = wait => {}
        _ = cancelled() => {
            crate::fsx::abort();
            while crate::fsx::placements_active() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
    crate::fsx::take_notes()
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
    let roots = crate::github::tls::extra_roots(&settings)?;
    let github = Arc::new(GitHub::new(&settings, &roots, log.clone())?);
    log.info(&format!(
        "Artifacts of {}: {}",
        settings.repository(),
        describe(&settings.selection)
    ));
    let report = |run, fetched, dry_run_items| RunReport {
        settings: &settings,
        log: &log,
        run,
        fetched,
        dry_run_items,
        elapsed: started.elapsed(),
        api_requests: github.request_count(),
    };

    let (run, plan) = match find(&settings, &github, &log).await? {
        Found::Plan(run, plan) => (run, plan),
        Found::Nothing(msg, run) => {
            finish(&sinks, &log, &report(run.as_ref(), &[], &[]))?;
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

    // Only our own directory: its parent (RUNNER_TEMP or the system temp directory) exists.
    std::fs::create_dir(workdir)
        .with_context(|| format!("cannot create the work directory {}", workdir.display()))?;
    let fetcher = Arc::new(Fetcher {
        settings: Arc::clone(&settings),
        downloader: Downloader {
            settings: Arc::clone(&settings),
            github: Arc::clone(&github),
            blob: Blob::new(&settings, &roots, log.clone())?,
            log: log.clone(),
            slots: Arc::new(tokio::sync::Semaphore::new(
                crate::download::CONNECTIONS.max(settings.concurrency),
            )),
        },
        log: log.clone(),
        workdir: PathBuf::from(workdir),
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
        "Fetched {} of {} artifacts ({}) in {:.2}s with {} API requests",
        fetched.len() - failed.len(),
        fetched.len(),
        crate::util::human_bytes(total),
        started.elapsed().as_secs_f64(),
        github.request_count()
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

/// Resolves the run and plans the fetch; with `wait-timeout`, polls with backoff until there is
/// something to fetch or the time is up.
async fn find(settings: &Settings, github: &GitHub, log: &Log) -> Result<Found> {
    let deadline = settings.search.wait.map(|w| Instant::now() + w);
    let max_pause = settings.timing.backoff * 60;
    let mut pause = settings.timing.backoff * 5;
    loop {
        let found = match resolve::choose(settings, github, log).await? {
            Resolution::NotFound(why) => Found::Nothing(why, None),
            Resolution::Found(mut run) => {
                log.info(&format!("Using run {} ({}): {}", run.id, run.url, run.why));
                let plan = plan::make(settings, github, log, &run).await?;
                fill_from_artifacts(&mut run, &plan);
                if plan.items.is_empty() {
                    Found::Nothing(nothing_matched(settings, &run), Some(run))
                } else {
                    Found::Plan(run, plan)
                }
            }
        };
        let (Found::Nothing(why, _), Some(deadline)) = (&found, deadline) else {
            return Ok(found);
        };
        let now = Instant::now();
        if now >= deadline {
            return Ok(found);
        }
        let wait = pause.min(deadline - now);
        log.info(&format!(
            "Waiting: {why}; checking again in {:.0}s (wait-timeout)",
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(max_pause);
    }
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
