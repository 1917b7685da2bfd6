//! Finding the right run: cross-workflow search, filters, forks, waiting, deletion, GHES —
//! each through the real binary against the fake GitHub, with request counts from its log.

use crate::support::*;

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SHA_C: &str = "cccccccccccccccccccccccccccccccccccccccc";

fn world() -> World {
    World::deploying(Options::default())
}

/// Adds a build.yml run with an artifact `dist` whose file says `marker`.
fn build_run(w: &World, run: Run, marker: &str) -> u64 {
    let id = w.gh.add_run(run);
    w.gh.add_artifact(id, ArtifactSpec::new("dist", marker_zip(marker)));
    id
}

fn api_requests(w: &World) -> Vec<fakehub::LoggedRequest> {
    w.gh.requests()
        .into_iter()
        .filter(|r| r.origin == Origin::Api)
        .collect()
}

#[test]
fn latest_successful_run_of_a_workflow_on_a_branch_that_still_has_the_artifact() {
    let w = world();
    let base = || Run::new(&w.gh.repo()).sha(SHA_A);
    let wanted = build_run(&w, base().created_at(&at(1)), "wanted");
    let expired = w.gh.add_run(base().created_at(&at(2)));
    w.gh.add_artifact(
        expired,
        ArtifactSpec::new("dist", marker_zip("expired")).expired(true),
    );
    build_run(
        &w,
        base()
            .created_at(&at(3))
            .status("completed", Some("failure")),
        "failed",
    );
    build_run(&w, base().created_at(&at(4)).branch("dev"), "other branch");
    build_run(
        &w,
        base()
            .created_at(&at(5))
            .workflow(".github/workflows/other.yml", 7),
        "other workflow",
    );
    build_run(
        &w,
        base().created_at(&at(6)).head_repo("evil/hello"),
        "fork",
    );
    w.gh.clear_requests();

    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("branch", "main"),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), "wanted");
    assert_eq!(out.outputs["run-id"], wanted.to_string());
    assert_eq!(out.outputs["head-sha"], SHA_A);
    assert_eq!(out.outputs["head-branch"], "main");
    assert_eq!(out.outputs["workflow-conclusion"], "success");
    assert_eq!(out.outputs["run-url"], web_page(&w, wanted));
    assert!(
        out.stdout.contains("from the fork evil/hello"),
        "fork skipped with a reason:\n{}",
        out.stdout
    );

    // One page of runs, the artifact lists of the two candidate runs, one download.
    let api = api_requests(&w);
    assert_eq!(api.len(), 4, "{api:#?}");
    let runs = &api[0];
    assert_eq!(
        runs.path,
        format!("/repos/{}/actions/workflows/build.yml/runs", w.gh.repo())
    );
    for q in [
        "per_page=100",
        "branch=main",
        "status=success",
        "exclude_pull_requests=true",
    ] {
        assert!(runs.query.contains(q), "{q} missing from {}", runs.query);
    }
    assert!(
        out.summary.contains("API requests") && out.summary.contains("4 API requests"),
        "{}",
        out.summary
    );
    assert!(
        out.summary
            .contains("Chosen: newest run matching workflow build.yml, branch main"),
        "{}",
        out.summary
    );
}

#[test]
fn a_name_with_branch_filters_is_answered_from_the_repository_artifact_list() {
    let w = world();
    let wanted = build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)), "wanted");
    build_run(
        &w,
        Run::new(&w.gh.repo()).created_at(&at(2)).branch("dev"),
        "dev",
    );
    w.gh.clear_requests();
    let out = w.run(
        &[
            ("branch", "main"),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), "wanted");
    assert_eq!(out.outputs["run-id"], wanted.to_string());
    let api = api_requests(&w);
    let paths: Vec<&str> = api.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        api.len(),
        3,
        "list by name, read the run's conclusion, download: {paths:#?}"
    );
    assert_eq!(
        api[0].path,
        format!("/repos/{}/actions/artifacts", w.gh.repo())
    );
    assert!(api[0].query.contains("name=dist"));
    assert!(
        !paths.iter().any(|p| p.ends_with("/runs")),
        "no run walk: {paths:?}"
    );
}

#[test]
fn without_search_artifacts_the_newest_matching_run_is_taken() {
    let w = world();
    build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)), "older");
    let newest = w.gh.add_run(Run::new(&w.gh.repo()).created_at(&at(2)));
    let out = w.run(&[("workflow", "build.yml"), ("name", "dist")], &[]);
    out.failed()
        .one_error(&[&format!("No artifact in run {newest}"), "dist"]);
    assert_eq!(
        out.outputs["run-id"],
        newest.to_string(),
        "outputs still name the run"
    );
}

#[test]
fn conclusion_filter_takes_statuses_and_conclusions_and_empty_means_any() {
    let w = world();
    build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)), "success");
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .created_at(&at(2))
            .status("completed", Some("failure")),
        "failure",
    );
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .created_at(&at(3))
            .status("in_progress", None),
        "running",
    );

    w.run(&[("workflow", "build.yml")], &[]).ok();
    assert_eq!(marker(&w), "success");
    w.run(
        &[
            ("workflow", "build.yml"),
            ("workflow-conclusion", "failure"),
        ],
        &[],
    )
    .ok();
    assert_eq!(marker(&w), "failure");
    w.run(
        &[
            ("workflow", "build.yml"),
            ("workflow-conclusion", "in_progress"),
        ],
        &[],
    )
    .ok();
    assert_eq!(marker(&w), "running");
    w.run(
        &[("workflow", "build.yml"), ("workflow-conclusion", "")],
        &[],
    )
    .ok();
    assert_eq!(marker(&w), "running", "empty: any conclusion, newest wins");
}

#[test]
fn event_commit_pr_and_run_number_filters() {
    let w = world();
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .created_at(&at(1))
            .sha(SHA_A)
            .run_number(10),
        "a",
    );
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .created_at(&at(2))
            .sha(SHA_B)
            .event("pull_request")
            .run_number(11),
        "b",
    );
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .created_at(&at(3))
            .sha(SHA_C)
            .event("schedule")
            .run_number(12),
        "c",
    );
    w.gh.add_pull(42, SHA_B, "feature");

    w.run(&[("event", "schedule")], &[]).ok();
    assert_eq!(marker(&w), "c");
    w.run(&[("commit", SHA_A)], &[]).ok();
    assert_eq!(marker(&w), "a");
    w.run(&[("commit", &SHA_A[..8]), ("workflow", "build.yml")], &[])
        .ok();
    assert_eq!(marker(&w), "a", "short SHAs match as prefixes");
    let out = w.run(&[("pr", "42")], &[]);
    out.ok();
    assert_eq!(marker(&w), "b");
    assert_eq!(out.outputs["head-sha"], SHA_B);
    w.run(&[("workflow", "build.yml"), ("run-number", "10")], &[])
        .ok();
    assert_eq!(marker(&w), "a");
}

#[test]
fn run_id_that_contradicts_a_search_input_is_an_error_naming_both_values() {
    let w = world();
    let run = build_run(&w, Run::new(&w.gh.repo()).branch("dev").sha(SHA_A), "dev");
    let out = w.run(&[("run-id", &run.to_string()), ("branch", "main")], &[]);
    out.failed()
        .one_error(&["branch", "'dev'", "'main'", &run.to_string()]);
    assert!(tree(&w.workspace()).is_empty());
    let out = w.run(&[("run-id", &run.to_string()), ("commit", SHA_B)], &[]);
    out.failed().one_error(&["commit", SHA_A, SHA_B]);
    let out = w.run(
        &[("run-id", &run.to_string()), ("workflow", "deploy.yml")],
        &[],
    );
    out.failed()
        .one_error(&["workflow", "build.yml", "deploy.yml"]);
    // Consistent inputs are fine, and a run-id of another run is fetched from directly.
    w.run(&[("run-id", &run.to_string()), ("branch", "dev")], &[])
        .ok();
    assert_eq!(marker(&w), "dev");
}

#[test]
fn runs_from_forks_are_refused_unless_allowed() {
    let w = world();
    let fork = build_run(&w, Run::new(&w.gh.repo()).head_repo("evil/hello"), "fork");
    let out = w.run(&[("run-id", &fork.to_string())], &[]);
    out.failed()
        .one_error(&["fork", "evil/hello", "allow-forks"]);
    assert!(tree(&w.workspace()).is_empty());
    w.run(
        &[("run-id", &fork.to_string()), ("allow-forks", "true")],
        &[],
    )
    .ok();
    assert_eq!(marker(&w), "fork");
    let out = w.run(&[("workflow", "build.yml")], &[]);
    out.failed();
    assert!(
        out.errors()[0].contains("from forks skipped"),
        "{}",
        out.stdout
    );
}

#[test]
fn max_runs_bounds_the_search_with_a_clear_message() {
    let w = world();
    for i in 0..6 {
        w.gh.add_run(Run::new(&w.gh.repo()).created_at(&at(10 + i)));
    }
    build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)), "too old");
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("search-artifacts", "true"),
            ("max-runs", "3"),
        ],
        &[],
    );
    out.failed()
        .one_error(&["max-runs", "examined 3 runs", "raise max-runs"]);
    w.run(
        &[("workflow", "build.yml"), ("search-artifacts", "true")],
        &[],
    )
    .ok();
    assert_eq!(marker(&w), "too old");
}

#[test]
fn a_search_over_more_than_a_thousand_runs_says_where_github_stops() {
    let w = world();
    for i in 0..1100u32 {
        w.gh.add_run(
            Run::new(&w.gh.repo())
                .created_at(&format!("2026-10-01T00:{:02}:{:02}Z", i / 60, i % 60))
                .run_number(u64::from(i) + 1),
        );
    }
    w.gh.clear_requests();
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("run-number", "5000"),
            ("max-runs", "5000"),
        ],
        &[],
    );
    out.failed()
        .one_error(&["1000 runs examined", "at most 1,000 runs"]);
    assert_eq!(api_requests(&w).len(), 10, "ten pages of 100 runs");
}

#[test]
fn unknown_workflow_is_named() {
    let w = world();
    let out = w.run(&[("workflow", "nope.yml")], &[]);
    out.failed()
        .one_error(&["workflow", "'nope.yml'", "not found"]);
}

#[test]
fn wait_timeout_polls_until_the_artifact_appears() {
    let w = world();
    let out = std::thread::scope(|scope| {
        // The artifact appears only after the step has seen the run without it (not after a
        // fixed delay, which a busy machine can outlast before the first poll).
        let uploader = scope.spawn(|| {
            let started = std::time::Instant::now();
            while !w
                .gh
                .requests()
                .iter()
                .any(|r| r.path.ends_with("/artifacts"))
                && started.elapsed() < std::time::Duration::from_secs(30)
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            w.gh.add_artifact(w.run, ArtifactSpec::new("late", marker_zip("late")));
        });
        // wait-timeout 300 s, scaled by ARTIFETCH_TIME_SCALE=0.01: 3 s of real time at most.
        let out = w.run(&[("name", "late"), ("wait-timeout", "300")], &[]);
        uploader.join().unwrap();
        out
    });
    out.ok();
    assert_eq!(marker(&w), "late");
    assert!(
        out.stdout.contains("Waiting: No artifact in run"),
        "{}",
        out.stdout
    );
    let lists =
        w.gh.requests()
            .iter()
            .filter(|r| r.path.ends_with("/artifacts"))
            .count();
    assert!(lists >= 2, "polled the list {lists} times");

    let out = w.run(&[("name", "never"), ("wait-timeout", "20")], &[]);
    out.failed().one_error(&["never"]);
}

#[test]
fn delete_after_deletes_what_was_fetched_and_a_failed_delete_is_a_warning() {
    let w = World::new();
    let a = w.add("a", marker_zip("a"));
    let b = w.add("b", marker_zip("b"));
    w.run(&[("name", "a"), ("delete-after", "true")], &[]).ok();
    let state: Vec<(u64, bool)> = w.gh.artifacts().iter().map(|x| (x.id, x.deleted)).collect();
    assert_eq!(state, vec![(a, true), (b, false)]);
    let deletes: Vec<_> =
        w.gh.requests()
            .into_iter()
            .filter(|r| r.method == "DELETE")
            .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].status, 204);

    w.gh.inject(
        Fault::status(
            Origin::Api,
            &format!("/artifacts/{b}"),
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        )
        .method("DELETE"),
    );
    let out = w.run(&[("name", "b"), ("delete-after", "true")], &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("delete-after") && l.contains("actions: write")),
        "{}",
        out.stdout
    );
    assert!(!w.gh.artifacts().iter().find(|x| x.id == b).unwrap().deleted);
}

#[test]
fn ghes_search_works_under_api_v3() {
    let w = World::deploying(Options {
        ghes: true,
        ..Options::default()
    });
    let wanted = build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)), "ghes");
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("branch", "main"),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), "ghes");
    assert_eq!(out.outputs["run-id"], wanted.to_string());
    // From GITHUB_SERVER_URL: one built from the API URL (which on GHES starts with the
    // server URL, then `/api/v3/repos/`) would not be this one.
    assert_eq!(out.outputs["run-url"], web_page(&w, wanted));
    assert!(
        w.gh.requests()
            .iter()
            .filter(|r| r.origin == Origin::Api)
            .all(|r| r.path.starts_with("/api/v3/"))
    );
}

#[test]
fn ghes_current_run_without_artifacts_explains_why() {
    let w = World::deploying(Options {
        ghes: true,
        ..Options::default()
    });
    w.add("dist", marker_zip("hidden until the run completes"));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["only after the run has completed"]);
}

/// A run's web page, as GitHub links it: `GITHUB_SERVER_URL/OWNER/REPO/actions/runs/ID`.
fn web_page(w: &World, run: u64) -> String {
    format!("{}/{}/actions/runs/{run}", w.gh.server_url(), w.gh.repo())
}
