//! The log line that names the run a step fetches from — `Using run ID (URL): WHY` — for every
//! way a run is chosen: the current run, a given run-id (number, run URL, job URL), the current
//! id in another repository, a search (by filters, passing over forks, filtered runs and runs
//! without the artifact; by artifact name from the repository's list), the levels of a
//! `fallback` chain, and after waiting (for a run, an artifact, a job). Each through the real
//! binary against the fake GitHub.

use crate::support::*;

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SHA_C: &str = "cccccccccccccccccccccccccccccccccccccccc";

/// The line the log must hold for run `id` of `repo`, chosen for `why`.
fn using(w: &World, repo: &str, id: u64, why: &str) -> String {
    format!(
        "Using run {id} ({}/{repo}/actions/runs/{id}): {why}",
        w.gh.server_url()
    )
}

/// The log's `Using run` lines, in order.
fn chosen_lines(out: &Outcome) -> Vec<&str> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with("Using run "))
        .collect()
}

/// Exactly one `Using run` line, and it is `want`.
#[track_caller]
fn one_line(out: &Outcome, want: &str) {
    assert_eq!(chosen_lines(out), [want], "\n{}", out.stdout);
}

/// A build.yml run (fakehub's default: push to main, success) with an artifact `dist`.
fn build_run(w: &World, run: Run) -> u64 {
    let id = w.gh.add_run(run);
    w.gh.add_artifact(id, ArtifactSpec::new("dist", marker_zip(&id.to_string())));
    id
}

#[test]
fn the_current_run_when_run_id_is_left_at_its_default() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            w.run,
            "the current run (run-id defaults to it)",
        ),
    );
}

#[test]
fn a_run_id_given_as_a_number() {
    let w = World::new();
    let id = build_run(&w, Run::new(&w.gh.repo()));
    let out = w.run(&[("run-id", &id.to_string()), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), id.to_string());
    one_line(&out, &using(&w, &w.gh.repo(), id, &format!("run-id {id}")));
}

#[test]
fn a_run_url_in_run_id() {
    let w = World::new();
    let id = build_run(&w, Run::new(&w.gh.repo()));
    let url = format!("{}/{}/actions/runs/{id}", w.gh.server_url(), w.gh.repo());
    let out = w.run(&[("run-id", &url), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), id.to_string());
    one_line(&out, &using(&w, &w.gh.repo(), id, &format!("run-id {id}")));
}

#[test]
fn a_job_url_in_run_id() {
    let w = World::new();
    let id = build_run(&w, Run::new(&w.gh.repo()));
    let url = format!(
        "{}/{}/actions/runs/{id}/job/4242",
        w.gh.server_url(),
        w.gh.repo()
    );
    let out = w.run(&[("run-id", &url), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), id.to_string());
    one_line(&out, &using(&w, &w.gh.repo(), id, &format!("run-id {id}")));
}

#[test]
fn another_repository_with_run_id_left_at_its_default() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let out = w.run(&[("repository", "octo/other"), ("name", "dist")], &[]);
    // The line says whose run the id is and where it was looked up (the URL), not "the current
    // run"; the error then blames repository, not the run-id nobody set.
    one_line(
        &out,
        &using(
            &w,
            "octo/other",
            w.run,
            &format!(
                "run-id {}, left at this workflow's own run, which belongs to {}, looked up in another repository",
                w.run,
                w.gh.repo()
            ),
        ),
    );
    out.failed().one_error(&[
        &format!("repository: octo/other has no run {}", w.run),
        "run-id defaults to it",
    ]);
}

#[test]
fn a_search_by_workflow_branch_and_event() {
    let w = World::deploying(Options::default());
    let wanted = build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)));
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("branch", "refs/heads/main"),
            ("event", "push"),
            ("name", "dist"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), wanted.to_string());
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            wanted,
            "newest run matching workflow build.yml, branch main, event push, conclusion success",
        ),
    );
}

#[test]
fn a_search_by_pull_request_names_it_and_its_head_commit() {
    let w = World::deploying(Options::default());
    w.gh.add_pull(7, SHA_B, "feature");
    let wanted = build_run(
        &w,
        Run::new(&w.gh.repo())
            .sha(SHA_B)
            .branch("feature")
            .created_at(&at(1)),
    );
    let out = w.run(
        &[("workflow", "build.yml"), ("pr", "7"), ("name", "dist")],
        &[],
    );
    out.ok();
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            wanted,
            &format!(
                "newest run matching workflow build.yml, pull request #7 (commit {}), conclusion success",
                &SHA_B[..12]
            ),
        ),
    );
}

#[test]
fn a_search_says_what_it_passed_over_forks_filtered_and_runs_without_the_artifact() {
    let w = World::deploying(Options::default());
    let base = || Run::new(&w.gh.repo()).sha(SHA_A);
    let wanted = build_run(&w, base().created_at(&at(1)));
    // Newer, each passed over for its own reason.
    w.gh.add_run(base().created_at(&at(2))); // no artifact
    build_run(&w, base().created_at(&at(3)).head_repo("evil/hello")); // a fork's
    build_run(&w, Run::new(&w.gh.repo()).sha(SHA_C).created_at(&at(4))); // another commit
    // A short commit is matched here, not by the server: the run of SHA_C is filtered here.
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("commit", &SHA_A[..7]),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), wanted.to_string());
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            wanted,
            "newest run matching workflow build.yml, commit aaaaaaa, conclusion success with a matching unexpired artifact; \
             passed over 3 newer runs: 1 not matching the filters, 1 from a fork (allow-forks is false), 1 without a matching unexpired artifact",
        ),
    );
}

#[test]
fn a_search_by_artifact_name_from_the_artifact_list_says_what_it_passed_over() {
    let w = World::deploying(Options::default());
    // Artifacts newest last (the list is read by id, newest first).
    let wanted = build_run(&w, Run::new(&w.gh.repo()).created_at(&at(1)));
    let expired = w.gh.add_run(Run::new(&w.gh.repo()).created_at(&at(2)));
    w.gh.add_artifact(
        expired,
        ArtifactSpec::new("dist", marker_zip("expired")).expired(true),
    );
    build_run(&w, Run::new(&w.gh.repo()).branch("dev").created_at(&at(3)));
    build_run(
        &w,
        Run::new(&w.gh.repo())
            .head_repo("evil/hello")
            .created_at(&at(4)),
    );
    let out = w.run(
        &[
            ("branch", "main"),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), wanted.to_string());
    assert!(
        !w.api_requests("").iter().any(|r| r.path.ends_with("/runs"))
            && !w.api_requests("/actions/artifacts").is_empty(),
        "answered from the artifact list, not a run walk"
    );
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            wanted,
            "newest run with artifact 'dist' matching branch main, conclusion success; \
             passed over 3 newer artifacts: 1 not matching the filters, 1 from a fork (allow-forks is false), 1 expired",
        ),
    );
}

/// build.yml runs for a `fallback` chain: `feature` (only an expired `dist`), then `main`.
fn chain_world() -> (World, u64, u64) {
    let w = World::deploying(Options::default());
    let main = build_run(&w, Run::new(&w.gh.repo()).sha(SHA_A).created_at(&at(1)));
    let feature = w.gh.add_run(
        Run::new(&w.gh.repo())
            .branch("feature")
            .sha(SHA_B)
            .created_at(&at(2)),
    );
    w.gh.add_artifact(
        feature,
        ArtifactSpec::new("dist", marker_zip("expired")).expired(true),
    );
    (w, feature, main)
}

const CHAIN: &str = "commit= branch=feature\ncommit= branch=main\n";

#[test]
fn each_fallback_level_says_which_level_chose_the_run() {
    let (w, feature, main) = chain_world();
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("commit", SHA_C),
            ("name", "dist"),
            ("fallback", CHAIN),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), main.to_string());
    assert_eq!(out.outputs["matched"], "fallback-2");
    let repo = w.gh.repo();
    assert_eq!(
        chosen_lines(&out),
        [
            using(
                &w,
                &repo,
                feature,
                "newest run matching workflow build.yml, branch feature, conclusion success (search level fallback-1)"
            ),
            using(
                &w,
                &repo,
                main,
                "newest run matching workflow build.yml, branch main, conclusion success (search level fallback-2)"
            ),
        ],
        "\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\nMatched fallback-2\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_chain_whose_primary_search_matches_says_primary() {
    let (w, _, main) = chain_world();
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("commit", SHA_A),
            ("name", "dist"),
            ("fallback", CHAIN),
        ],
        &[],
    );
    out.ok();
    assert_eq!(out.outputs["matched"], "primary");
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            main,
            &format!(
                "newest run matching workflow build.yml, commit {}, conclusion success (search level primary)",
                &SHA_A[..12]
            ),
        ),
    );
}

const WAIT: &str = "3000"; // 30 s of real time at the tests' scale: a bound, never reached

#[test]
fn after_waiting_for_a_run_to_succeed_the_line_names_that_run() {
    let w = World::deploying(Options::default());
    let producer = build_run(
        &w,
        Run::new(&w.gh.repo())
            .status("in_progress", None)
            .created_at(&at(1)),
    );
    let out = run_while(
        &w,
        &[
            ("workflow", "build.yml"),
            ("name", "dist"),
            ("wait-timeout", WAIT),
        ],
        after_first(&w, "/runs", || {
            w.gh.set_run_status(producer, "completed", Some("success"))
        }),
    );
    out.ok();
    assert_eq!(marker(&w), producer.to_string());
    assert!(
        out.stdout.contains("\nWaiting: no run in "),
        "{}",
        out.stdout
    );
    one_line(
        &out,
        &using(
            &w,
            &w.gh.repo(),
            producer,
            "newest run matching workflow build.yml, conclusion success",
        ),
    );
}

#[test]
fn after_waiting_for_an_artifact_the_line_names_the_run_without_a_conclusion_filter() {
    let w = World::deploying(Options::default());
    let producer = w.gh.add_run(
        Run::new(&w.gh.repo())
            .status("in_progress", None)
            .created_at(&at(1)),
    );
    let out = run_while(
        &w,
        &[
            ("workflow", "build.yml"),
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "artifact"),
        ],
        after_first(&w, "/artifacts", || {
            w.gh.add_artifact(producer, ArtifactSpec::new("dist", marker_zip("early")));
        }),
    );
    out.ok();
    assert_eq!(marker(&w), "early");
    // One line per poll, each naming the run it looked at; the last is the one fetched from.
    let want = using(
        &w,
        &w.gh.repo(),
        producer,
        "newest run matching workflow build.yml",
    );
    let lines = chosen_lines(&out);
    assert!(lines.len() >= 2, "polled at least twice:\n{}", out.stdout);
    assert!(lines.iter().all(|l| *l == want), "{lines:#?}\nwant {want}");
}

#[test]
fn after_waiting_for_a_job_the_line_names_the_run() {
    let w = World::with_current(Options::default(), |run| run.status("in_progress", None));
    let job = w.gh.add_job(w.run, "build");
    let out = run_while(
        &w,
        &[
            ("name", "dist"),
            ("wait-timeout", WAIT),
            ("wait-for", "job:build"),
        ],
        after_first(&w, "/jobs", || {
            w.gh.add_artifact(w.run, ArtifactSpec::new("dist", marker_zip("built")));
            w.gh.set_job_status(job, "completed", Some("success"));
        }),
    );
    out.ok();
    assert_eq!(marker(&w), "built");
    let want = using(
        &w,
        &w.gh.repo(),
        w.run,
        "the current run (run-id defaults to it)",
    );
    let lines = chosen_lines(&out);
    assert!(!lines.is_empty(), "no line names the run:\n{}", out.stdout);
    assert!(lines.iter().all(|l| *l == want), "{lines:#?}\nwant {want}");
}
