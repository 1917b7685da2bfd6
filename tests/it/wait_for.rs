//! `wait-for`: waiting for a producer that runs in parallel — the run, the artifact, or one job
//! of the run — with conditional polls (ETag / 304), through the real binary against the fake
//! GitHub. No timed assertions: the waits stop on what the server shows, and `wait-timeout` is
//! only a generous upper bound (scaled by ARTIFETCH_TIME_SCALE).

use crate::support::*;

/// The current run is in progress: a later job of it waits for an earlier one.
fn same_run() -> World {
    World::with_current(Options::default(), |run| run.status("in_progress", None))
}

fn statuses(w: &World, suffix: &str) -> Vec<u16> {
    w.gh.requests()
        .iter()
        .filter(|r| r.origin == Origin::Api && r.path.ends_with(suffix))
        .map(|r| r.status)
        .collect()
}

/// The summary's "N of them free" agrees with the 304s the server sent.
fn free_polls_agree(w: &World, out: &Outcome) -> usize {
    let free = w.gh.requests().iter().filter(|r| r.status == 304).count();
    assert!(
        out.summary
            .contains(&format!(" {free} of them free: 304 Not Modified")),
        "{free} free polls\n{}",
        out.summary
    );
    assert!(
        out.stdout
            .contains(&format!(" {free} of them free: 304 Not Modified")),
        "{}",
        out.stdout
    );
    free
}

const WAIT: &str = "3000"; // 30 s of real time at the tests' scale: a bound, never reached

#[test]
fn job_wait_fails_at_once_when_the_producer_job_fails_naming_it() {
    let w = same_run();
    let job = w.gh.add_job(w.run, "build");
    w.gh.add_job(w.run, "lint");
    let out = run_while(
        &w,
        &[
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "job:build"),
        ],
        after_first(&w, "/jobs", || {
            w.gh.set_job_status(job, "completed", Some("failure"))
        }),
    );
    out.failed().one_error(&[
        "job 'build'",
        &format!("run {}", w.run),
        "conclusion failure",
    ]);
    // Every poll: the jobs, then the artifacts. Unchanged lists were 304s after the first.
    let jobs = statuses(&w, "/jobs");
    let lists = statuses(&w, "/artifacts");
    assert_eq!(jobs.len(), lists.len());
    assert_eq!(jobs.first(), Some(&200));
    assert_eq!(jobs.last(), Some(&200), "the change was seen: {jobs:?}");
    assert!(
        jobs[1..jobs.len() - 1].iter().all(|s| *s == 304),
        "{jobs:?}"
    );
    assert_eq!(lists[0], 200);
    assert!(lists[1..].iter().all(|s| *s == 304), "{lists:?}");
    let free = free_polls_agree(&w, &out);
    assert_eq!(free, jobs.len() + lists.len() - 3);
    assert!(
        out.summary
            .contains("stopped: wait-for job:build: job 'build' of run"),
        "{}",
        out.summary
    );
    assert!(w.blob_requests().is_empty());
}

#[test]
fn job_wait_fails_at_once_when_the_job_succeeded_without_uploading() {
    let w = same_run();
    let job = w.gh.add_job(w.run, "build");
    let out = run_while(
        &w,
        &[
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "job:build"),
        ],
        after_first(&w, "/jobs", || {
            w.gh.set_job_status(job, "completed", Some("success"))
        }),
    );
    out.failed().one_error(&[
        "job 'build'",
        "conclusion success without uploading name 'dist'",
    ]);
}

#[test]
fn job_wait_fetches_what_the_job_uploaded() {
    let w = same_run();
    let job = w.gh.add_job(w.run, "build");
    let out = run_while(
        &w,
        &[
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "job:build"),
        ],
        after_first(&w, "/jobs", || {
            w.gh.set_job_status(job, "in_progress", None);
            w.gh.add_artifact(w.run, ArtifactSpec::new("dist", marker_zip("built")));
            w.gh.set_job_status(job, "completed", Some("success"));
        }),
    );
    out.ok();
    assert_eq!(tree(&w.workspace())["from.txt"], b"built");
    assert!(
        out.summary
            .contains("**Wait:** wait-for job:build, waited ")
            && out.summary.contains("stopped: found what it waited for"),
        "{}",
        out.summary
    );
    free_polls_agree(&w, &out);
    // Polls until the upload (jobs + artifacts each), then one download.
    assert_eq!(statuses(&w, "/zip"), vec![302]);
}

#[test]
fn a_missing_job_is_named_once_the_run_has_finished() {
    let w = World::new();
    let build = w.gh.add_job(w.run, "build");
    w.gh.set_job_status(build, "completed", Some("success"));
    let out = w.run(
        &[
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "job:deploy"),
        ],
        &[],
    );
    out.failed()
        .one_error(&["run", "has no job named 'deploy'", "its jobs: build"]);
    assert_eq!(w.api_requests("/jobs").len(), 1);
}

#[test]
fn artifact_wait_takes_it_from_a_run_still_in_progress() {
    let w = World::with_current(Options::default(), |run| {
        run.workflow(".github/workflows/deploy.yml", 99)
    });
    let producer = w.gh.add_run(
        Run::new(&w.gh.repo())
            .status("in_progress", None)
            .created_at("2026-11-20T10:00:00Z"),
    );
    let inputs = [
        ("workflow", "build.yml"),
        ("branch", "main"),
        ("name", "dist"),
        ("wait-timeout", WAIT),
        ("wait-for", "artifact"),
    ];
    let out = run_while(
        &w,
        &inputs,
        after_first(&w, "/artifacts", || {
            w.gh.add_artifact(producer, ArtifactSpec::new("dist", marker_zip("early")));
        }),
    );
    out.ok();
    assert_eq!(tree(&w.workspace())["from.txt"], b"early");
    assert_eq!(out.outputs["run-id"], producer.to_string());
    // The run list carries no conclusion filter while waiting for an artifact.
    let runs: Vec<_> = w.api_requests("/workflows/build.yml/runs");
    assert!(
        runs.iter().all(|r| !r.query.contains("status=")),
        "{runs:#?}"
    );
    assert_eq!(runs[0].status, 200);
    assert!(runs[1..].iter().all(|r| r.status == 304));
    free_polls_agree(&w, &out);
}

#[test]
fn on_ghes_artifact_and_job_waits_fall_back_to_the_run_and_say_why() {
    for mode in ["job:build", "artifact"] {
        on_ghes_a_wait_falls_back_to_the_run(mode);
    }
}

/// `wait-for: mode` on GHES waits for the producer's run to complete, and says why.
#[track_caller]
fn on_ghes_a_wait_falls_back_to_the_run(mode: &str) {
    let w = World::with_current(
        Options {
            ghes: true,
            ..Options::default()
        },
        |run| run.workflow(".github/workflows/deploy.yml", 99),
    );
    let producer = w.gh.add_run(
        Run::new(&w.gh.repo())
            .status("in_progress", None)
            .created_at("2026-11-20T10:00:00Z"),
    );
    w.gh.add_artifact(producer, ArtifactSpec::new("dist", marker_zip("ghes")));
    let out = run_while(
        &w,
        &[
            ("workflow", "build.yml"),
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", mode),
        ],
        after_first(&w, "/workflows/build.yml/runs", || {
            w.gh.set_run_status(producer, "completed", Some("success"))
        }),
    );
    out.ok();
    assert_eq!(tree(&w.workspace())["from.txt"], b"ghes", "{mode}");
    let why = format!(
        "wait-for {mode}: on GitHub Enterprise Server a run's artifacts appear only once the run has completed, so this waits for the run instead"
    );
    assert!(out.stdout.contains(&why), "{mode}: {}", out.stdout);
    assert!(
        out.summary.contains("**Wait:** wait-for run, waited") && out.summary.contains(&why),
        "{mode}: {}",
        out.summary
    );
    assert!(w.api_requests("/jobs").is_empty(), "{mode}");
    // The producer's run was polled until it completed: its artifacts were not taken while it
    // was still in progress.
    assert!(
        w.api_requests("/workflows/build.yml/runs").len() >= 2,
        "{mode}: the run was not waited for"
    );
}

#[test]
fn bad_wait_for_values_are_named() {
    let w = World::new();
    let out = w.run(&[("wait-for", "job:"), ("wait-timeout", "10")], &[]);
    out.failed()
        .one_error(&["wait-for", "'job:'", "run, artifact or job:<job name>"]);
    let out = w.run(&[("wait-for", "artifact")], &[]);
    out.failed().one_error(&["wait-for", "needs wait-timeout"]);
    assert!(w.gh.requests().is_empty());
}
