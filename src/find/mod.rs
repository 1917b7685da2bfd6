//! Finding the run and its plan: the primary search (polled while `wait-timeout` lasts, see
//! [`wait`]), then each `fallback` line in order, until one level yields a run with something to
//! fetch. What each level did goes into the [`Trace`] the report shows.

use std::borrow::Cow;

use anyhow::Result;

use crate::github::GitHub;
use crate::log::Log;
use crate::plan::{self, Plan, Skipped};
use crate::resolve::{self, ChosenRun, Level, Resolution, Trace};
use crate::settings::{FindConfig, PlanConfig, RunMode};

mod wait;

/// A run and its plan, or why there is nothing to fetch (with the run, if one was found).
pub(crate) enum Found {
    Plan(ChosenRun, Plan),
    Nothing(Nothing),
}

/// Why there is nothing to fetch, the run (if one was found) and what of its artifacts the plan
/// left out.
pub(crate) struct Nothing {
    pub(crate) why: String,
    pub(crate) run: Option<ChosenRun>,
    pub(crate) skipped: Vec<Skipped>,
}

impl Found {
    /// Nothing, and no run either.
    fn no_run(why: String) -> Found {
        Found::Nothing(Nothing {
            why,
            run: None,
            skipped: Vec::new(),
        })
    }
}

/// What every level shares: the clients, the log and the plan's config.
pub(crate) struct Ctx<'a> {
    pub(crate) github: &'a GitHub,
    pub(crate) log: &'a Log,
    pub(crate) plan: &'a PlanConfig,
}

/// What one try of a level found, and how many runs (or artifacts) it examined to learn it.
struct Attempt {
    found: Found,
    examined: usize,
}

/// Resolves the run and plans the fetch: the primary search (polled with `wait-timeout`), then
/// each `fallback` line in order until one yields a run with a matching, unexpired artifact.
/// `max-runs` bounds the runs examined across the whole chain.
pub(crate) async fn find(settings: &FindConfig, ctx: &Ctx<'_>, trace: &mut Trace) -> Result<Found> {
    let chained = !settings.fallback.is_empty();
    let mut examined_total = 0;
    let mut last = None;
    for index in 0..=settings.fallback.len() {
        let label = match index {
            0 => "primary".to_string(),
            n => format!("fallback-{n}"),
        };
        let level = level_settings(settings, index, examined_total);
        let tried = try_index(settings, &level, index, &label, ctx, trace).await?;
        let Some(Attempt { found, examined }) = tried else {
            continue;
        };
        examined_total += examined.max(1); // a level finding no run still spends one of max-runs
        if let Found::Plan(..) = found {
            trace.matched = Some(trace.levels.len() - 1);
            if index > 0 {
                ctx.log.info(&format!("Matched {label}"));
            }
            return Ok(found);
        }
        if let Found::Nothing(nothing) = &found
            && chained
        {
            ctx.log
                .info(&format!("{label} did not match: {}", nothing.why));
        }
        last = Some(found);
    }
    let mut nothing = last.expect("the primary level always runs");
    if chained && let Found::Nothing(n) = &mut nothing {
        n.why = format!(
            "no level of the search matched ({} tried; see the summary); the last: {}",
            trace.levels.len(),
            n.why
        );
    }
    Ok(nothing)
}

/// Level `index` (`level`: its settings), tried and written into the trace; `None` when it was
/// left out because the levels before spent `max-runs`.
async fn try_index(
    settings: &FindConfig,
    level: &FindConfig,
    index: usize,
    label: &str,
    ctx: &Ctx<'_>,
    trace: &mut Trace,
) -> Result<Option<Attempt>> {
    let chained = !settings.fallback.is_empty();
    let filters = resolve::describe_search(level);
    if index > 0 {
        if level.search.max_runs == 0 {
            let label = label.to_string();
            trace
                .levels
                .push(not_tried(label, filters, settings.search.max_runs));
            return Ok(None);
        }
        ctx.log.info(&format!(
            "Trying {label} ({}): {filters}",
            settings.fallback[index - 1].line
        ));
    }
    let before = ctx.github.request_count();
    // With a chain, the log line naming the run says which level chose it.
    let shown = chained.then_some(label);
    let attempt = if index == 0 {
        wait::poll(level, ctx, trace, shown).await
    } else {
        try_level(level, ctx, shown, &mut trace.chosen).await
    };
    let attempt = match attempt {
        Ok(r) => r,
        // With somewhere else to look, an artifact that exists only expired is a miss.
        Err(e) if chained && e.downcast_ref::<plan::Expired>().is_some() => Attempt {
            found: Found::no_run(format!("{e:#}")),
            examined: 1,
        },
        Err(e) => return Err(e),
    };
    trace.levels.push(Level {
        label: label.to_string(),
        filters,
        result: attempt.found.describe(),
        requests: ctx.github.request_count() - before,
    });
    Ok(Some(attempt))
}

/// The settings of search level `index`: the primary's, or a `fallback` line's search with
/// what is left of `max-runs` after the levels before.
fn level_settings(settings: &FindConfig, index: usize, examined: usize) -> Cow<'_, FindConfig> {
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
            Found::Nothing(n) => n.why.clone(),
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
    settings: &FindConfig,
    ctx: &Ctx<'_>,
    level: Option<&str>,
    chosen: &mut Option<ChosenRun>,
) -> Result<Attempt> {
    Ok(
        match resolve::choose(settings, ctx.github, ctx.log).await? {
            Resolution::NotFound { why, examined } => Attempt {
                found: Found::no_run(why),
                examined,
            },
            Resolution::Found(run) => {
                announce(ctx.log, &run, level, chosen);
                let plan = plan::make(ctx.plan, ctx.github, ctx.log, &run).await?;
                let examined = run.examined;
                let found = if plan.items.is_empty() && plan.other_shards == 0 {
                    Found::Nothing(Nothing {
                        why: nothing_matched(settings, &run),
                        run: Some(run),
                        skipped: plan.skipped,
                    })
                } else {
                    Found::Plan(run, plan)
                };
                Attempt { found, examined }
            }
        },
    )
}

fn nothing_matched(settings: &FindConfig, run: &ChosenRun) -> String {
    let mut msg = format!(
        "No artifact in run {} of {} matches {}",
        run.id,
        settings.source.repository(),
        settings.selection.describe()
    );
    if settings.source.is_ghes() && matches!(settings.run, RunMode::Current(_)) {
        msg.push_str(
            "; on GitHub Enterprise Server a run's artifacts appear in the REST API only after the run has completed, so a later job of the same run cannot fetch them (fetch them from a workflow_run-triggered workflow, or use actions/download-artifact@v3)",
        );
    }
    msg
}
