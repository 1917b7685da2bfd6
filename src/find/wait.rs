//! `wait-timeout`: the primary level polled until there is something to fetch, the producer
//! has finished without it (`wait-for: job:<name>`), or the time is up.

use std::borrow::Cow;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::github::backoff::Backoff;
use crate::github::model::Job;
use crate::log::Log;
use crate::plan;
use crate::resolve::{self, ChosenRun, Resolution, Trace, WaitReport};
use crate::settings::{FindConfig, RunMode, WaitFor};

use super::{Attempt, Ctx, Found, Nothing, announce, nothing_matched, try_level};

/// The primary level; with `wait-timeout`, polled ([`Backoff::polling`]: 5 doubling to 60 scaled
/// seconds between polls) until there is something to fetch, the producer has finished without it (`wait-for: job:<name>`), or the time is up.
/// Polls are conditional requests: what did not change since the last poll costs nothing.
pub(super) async fn poll(
    settings: &FindConfig,
    ctx: &Ctx<'_>,
    trace: &mut Trace,
    level: Option<&str>,
) -> Result<Attempt> {
    let Some(limit) = settings.search.wait else {
        return try_level(settings, ctx, level, &mut trace.chosen).await;
    };
    let mode = wait_mode(settings, ctx.log);
    // A producer still running has no conclusion yet: the conclusion filter would hide it.
    let relaxed: Cow<'_, FindConfig> =
        if mode.wait_for != WaitFor::Run && settings.run == RunMode::Search {
            let mut s = settings.clone();
            s.search.conclusion = None;
            Cow::Owned(s)
        } else {
            Cow::Borrowed(settings)
        };
    let started = Instant::now();
    let (requests_before, free_before) =
        (ctx.github.request_count(), ctx.github.not_modified_count());
    let polled = poll_until(&relaxed, ctx, &mode, started + limit, level, trace).await?;
    let report = WaitReport {
        mode: mode.wait_for.to_string(),
        waited: started.elapsed(),
        polls: polled.polls,
        requests: ctx.github.request_count() - requests_before,
        free: ctx.github.not_modified_count() - free_before,
        stopped: polled.stopped,
        note: mode.note,
    };
    ctx.log.info(&format!("Wait: {}", report.describe()));
    trace.wait = Some(report);
    polled.result
}

/// How the polls ended: what the caller gets, why they stopped, and how many there were.
struct Polled {
    result: Result<Attempt>,
    stopped: String,
    polls: u32,
}

/// Polls the level until something is found, waiting is pointless, or `deadline` passes.
async fn poll_until(
    settings: &FindConfig,
    ctx: &Ctx<'_>,
    mode: &Mode,
    deadline: Instant,
    level: Option<&str>,
    trace: &mut Trace,
) -> Result<Polled> {
    let pauses = Backoff::polling(settings.backoff);
    let mut polls = 0u32;
    let chosen = &mut trace.chosen;
    loop {
        polls += 1;
        let JobPoll { attempt, finished } = match &mode.wait_for {
            WaitFor::Job(name) => poll_job(settings, ctx, name, level, chosen).await?,
            _ => JobPoll {
                attempt: try_level(settings, ctx, level, chosen).await?,
                finished: None,
            },
        };
        let (result, stopped) = match (finished, &attempt.found) {
            (Some(why), _) => (Err(anyhow::anyhow!("{why}")), why),
            (None, Found::Plan(..)) => (Ok(attempt), "found what it waited for".to_string()),
            (None, Found::Nothing(nothing)) => {
                let now = Instant::now();
                if now < deadline {
                    let wait = pauses.delay(polls).min(deadline - now);
                    ctx.log.info(&format!(
                        "Waiting: {}; checking again in {:.1}s (wait-timeout, wait-for {})",
                        nothing.why,
                        wait.as_secs_f64(),
                        mode.wait_for
                    ));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let stopped = format!("wait-timeout reached; {}", nothing.why);
                (Ok(attempt), stopped)
            }
        };
        return Ok(Polled {
            result,
            stopped,
            polls,
        });
    }
}

/// What a wait watches as it runs, and why that differs from `wait-for`, if it does.
struct Mode {
    wait_for: WaitFor,
    note: Option<String>,
}

/// What to wait for: `wait-for`, except on GHES, where artifacts appear only with the run's end
/// (then the run, and a note that says so).
fn wait_mode(settings: &FindConfig, log: &Log) -> Mode {
    let mode = settings.search.wait_for.clone();
    if !settings.source.is_ghes() || mode == WaitFor::Run {
        return Mode {
            wait_for: mode,
            note: None,
        };
    }
    let why = format!(
        "wait-for {mode}: on GitHub Enterprise Server a run's artifacts appear only once the run has completed, so this waits for the run instead"
    );
    log.info(&why);
    Mode {
        wait_for: WaitFor::Run,
        note: Some(why),
    }
}

/// One poll: what it found, and, when set, why waiting longer is pointless.
struct JobPoll {
    attempt: Attempt,
    finished: Option<String>,
}

/// One poll of `wait-for: job:<name>`: the run, its jobs, then its artifacts (in that order: a
/// job seen finished has uploaded whatever it was going to).
async fn poll_job(
    settings: &FindConfig,
    ctx: &Ctx<'_>,
    name: &str,
    level: Option<&str>,
    chosen: &mut Option<ChosenRun>,
) -> Result<JobPoll> {
    let run = match resolve::choose(settings, ctx.github, ctx.log).await? {
        Resolution::NotFound { why, examined } => {
            let found = Found::no_run(why);
            let attempt = Attempt { found, examined };
            return Ok(JobPoll {
                attempt,
                finished: None,
            });
        }
        Resolution::Found(run) => run,
    };
    announce(ctx.log, &run, level, chosen);
    let jobs = ctx
        .github
        .list_jobs(&settings.source.owner, &settings.source.repo, run.id)
        .await
        .with_context(|| {
            format!(
                "wait-for job:{name}: cannot list the jobs of run {}",
                run.id
            )
        })?;
    // Of re-run attempts with one name, the newest.
    let job = jobs.iter().filter(|j| j.name == name).max_by_key(|j| j.id);
    let plan = plan::make(ctx.plan, ctx.github, ctx.log, &run).await?;
    let examined = run.examined;
    if !plan.items.is_empty() || plan.other_shards > 0 {
        let found = Found::Plan(run, plan);
        let attempt = Attempt { found, examined };
        return Ok(JobPoll {
            attempt,
            finished: None,
        });
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
    let found = Found::Nothing(Nothing {
        why,
        run: Some(run),
        skipped: plan.skipped,
    });
    Ok(JobPoll {
        attempt: Attempt { found, examined },
        finished,
    })
}

/// Why waiting longer for `wait-for: job:<name>` is pointless, if it is: the job finished
/// without the artifact, or every job finished and none has the name.
fn job_finished(
    settings: &FindConfig,
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
