//! `fallback`: searches tried in order after the primary one ("artifact as cache" with
//! restore-keys), through the real binary against the fake GitHub, with request counts.

use crate::support::*;

const SHA_PR: &str = "cccccccccccccccccccccccccccccccccccccccc";
const SHA_FEATURE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SHA_MAIN: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// The current run is a deploy workflow in progress; build.yml made the artifacts.
fn world() -> World {
    World::with_current(Options::default(), |run| {
        run.workflow(".github/workflows/deploy.yml", 99)
            .status("in_progress", None)
            .event("pull_request")
    })
}

/// A build.yml run with artifact `deps` (expired or not) whose file says `marker`.
fn build(w: &World, branch: &str, sha: &str, minute: u32, marker: &str, expired: bool) -> u64 {
    let id = w.gh.add_run(
        Run::new(&w.gh.repo())
            .branch(branch)
            .sha(sha)
            .created_at(&at(minute)),
    );
    w.gh.add_artifact(
        id,
        ArtifactSpec::new("deps", marker_zip(marker)).expired(expired),
    );
    id
}

fn api(w: &World) -> Vec<fakehub::LoggedRequest> {
    w.api_requests("")
}

const CHAIN: &str = "commit= branch=feature\ncommit= branch=main\n";

fn inputs<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("workflow", "build.yml"),
        ("commit", SHA_PR),
        ("name", "deps"),
        ("fallback", CHAIN),
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn the_first_level_with_an_unexpired_artifact_wins_and_the_summary_shows_every_level() {
    let w = world();
    build(&w, "feature", SHA_FEATURE, 2, "feature (expired)", true);
    let main = build(&w, "main", SHA_MAIN, 1, "main", false);
    w.gh.clear_requests();

    let out = w.run(&inputs(&[]), &[]);
    out.ok();
    assert_eq!(marker(&w), "main");
    assert_eq!(out.outputs["matched"], "fallback-2");
    assert_eq!(out.outputs["cache-hit"], "false");
    assert_eq!(out.outputs["run-id"], main.to_string());

    // primary: one run list (no run of that commit); fallback-1: the run list, then its
    // artifact list (only expired); fallback-2: run list, artifact list, download.
    let reqs = api(&w);
    let paths: Vec<String> = reqs
        .iter()
        .map(|r| {
            let tail = r.path.rsplit('/').next().unwrap().to_string();
            if tail == "runs" {
                format!("runs?{}", r.query)
            } else {
                tail
            }
        })
        .collect();
    assert_eq!(paths.len(), 6, "{paths:#?}");
    assert!(
        paths[0].contains(&format!("head_sha={SHA_PR}")),
        "{paths:#?}"
    );
    assert!(paths[1].contains("branch=feature") && !paths[1].contains("head_sha"));
    assert_eq!(paths[2], "artifacts");
    assert!(paths[3].contains("branch=main") && !paths[3].contains("head_sha"));
    assert_eq!(&paths[4..], ["artifacts", "zip"]);

    let s = &out.summary;
    assert!(s.contains("**Run search:** matched fallback-2."), "{s}");
    for row in [
        format!("| primary | workflow build.yml, commit {}, conclusion success | – no run in", &SHA_PR[..12]),
        "| fallback-1 | workflow build.yml, branch feature, conclusion success | – name: artifact 'deps' has expired".to_string(),
        format!("| fallback-2 | workflow build.yml, branch main, conclusion success | ✅ matched run {main}"),
    ] {
        assert!(s.contains(&row), "missing {row:?} in\n{s}");
    }
    assert!(s.contains(" | 1 |\n") && s.contains(" | 2 |\n"), "{s}");
    assert!(
        out.stdout
            .contains("Trying fallback-1 (commit= branch=feature)")
    );
}

#[test]
fn a_primary_match_is_a_cache_hit_and_tries_nothing_else() {
    let w = world();
    build(&w, "feature", SHA_PR, 1, "this commit", false);
    build(&w, "main", SHA_MAIN, 2, "main", false);
    w.gh.clear_requests();
    let out = w.run(&inputs(&[]), &[]);
    out.ok();
    assert_eq!(marker(&w), "this commit");
    assert_eq!(out.outputs["matched"], "primary");
    assert_eq!(out.outputs["cache-hit"], "true");
    // Run list, artifact list, download: no fallback level tried.
    assert_eq!(api(&w).len(), 3);
    assert!(
        out.summary.contains("**Run search:** matched primary."),
        "{}",
        out.summary
    );
    assert!(!out.summary.contains("fallback-1"), "{}", out.summary);
}

#[test]
fn no_level_matching_is_matched_none_with_each_reason() {
    let w = world();
    build(&w, "feature", SHA_FEATURE, 2, "feature", true);
    let out = w.run(&inputs(&[("if-no-artifact-found", "warn")]), &[]);
    out.ok();
    assert_eq!(out.outputs["matched"], "none");
    assert_eq!(out.outputs["cache-hit"], "false");
    assert_eq!(out.outputs["found-artifact"], "false");
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("no level of the search matched (3 tried")),
        "{}",
        out.stdout
    );
    let s = &out.summary;
    assert!(s.contains("**Run search:** matched none."), "{s}");
    assert!(
        s.contains(
            "| fallback-2 | workflow build.yml, branch main, conclusion success | – no run in"
        ),
        "{s}"
    );
}

#[test]
fn with_search_artifacts_each_level_walks_back_and_max_runs_bounds_the_whole_chain() {
    let w = world();
    // Three runs on feature, newest without the artifact; one on main with it.
    for m in [3, 4] {
        w.gh.add_run(
            Run::new(&w.gh.repo())
                .branch("feature")
                .sha(SHA_FEATURE)
                .created_at(&at(m)),
        );
    }
    build(&w, "feature", SHA_FEATURE, 2, "feature, older", false);
    build(&w, "main", SHA_MAIN, 1, "main", false);

    // Enough runs: fallback-1 walks back past two runs without `deps` to the third.
    w.gh.clear_requests();
    let out = w.run(&inputs(&[("search-artifacts", "true")]), &[]);
    out.ok();
    assert_eq!(marker(&w), "feature, older");
    assert_eq!(out.outputs["matched"], "fallback-1");
    // primary: 1 run list; fallback-1: 1 run list + 3 artifact lists; the download.
    assert_eq!(api(&w).len(), 6);

    // max-runs 2 across the chain: the primary finds no run and spends one, fallback-1 the
    // other, fallback-2 is not tried.
    std::fs::remove_dir_all(w.workspace()).unwrap();
    std::fs::create_dir_all(w.workspace()).unwrap();
    w.gh.clear_requests();
    let out = w.run(
        &inputs(&[
            ("search-artifacts", "true"),
            ("max-runs", "2"),
            ("if-no-artifact-found", "ignore"),
        ]),
        &[],
    );
    out.ok();
    assert_eq!(out.outputs["matched"], "none");
    // primary: 1 run list; fallback-1: 1 run list + 1 artifact list; fallback-2: nothing.
    assert_eq!(api(&w).len(), 3);
    // (The summary escapes Markdown punctuation such as parentheses.)
    assert!(
        out.summary.replace('\\', "")
            .contains("| fallback-2 | workflow build.yml, branch main, conclusion success | – not tried: max-runs (2) was spent by the levels before | 0 |"),
        "{}",
        out.summary
    );
}

#[test]
fn a_fallback_after_the_current_run() {
    // No search inputs: the primary is the current run; the fallback searches.
    let w = World::with_current(Options::default(), |run| run.branch("feature"));
    let main = build(&w, "main", SHA_MAIN, 1, "main", false);
    let out = w.run(&[("name", "deps"), ("fallback", "branch=main")], &[]);
    out.ok();
    assert_eq!(marker(&w), "main");
    assert_eq!(out.outputs["matched"], "fallback-1");
    assert_eq!(out.outputs["run-id"], main.to_string());
    assert!(
        out.summary
            .replace('\\', "")
            .contains("| primary | the current run ("),
        "{}",
        out.summary
    );
}

#[test]
fn bad_fallback_lines_are_named() {
    let w = world();
    for (text, needles) in [
        (
            "branch=main\nlabel=x",
            &["fallback line 2", "unknown filter 'label'"][..],
        ),
        ("main", &["fallback line 1", "'main' is not key=value"][..]),
        ("commit=xyz", &["fallback line 1: commit", "'xyz'"][..]),
        (
            "workflow-conclusion=great",
            &["fallback line 1: workflow-conclusion", "'great'"][..],
        ),
    ] {
        let out = w.run(&[("workflow", "build.yml"), ("fallback", text)], &[]);
        out.failed().one_error(needles);
    }
    assert!(w.gh.requests().is_empty());
}

#[test]
fn only_the_primary_waits_then_each_fallback_is_tried_once() {
    let w = world();
    build(&w, "main", SHA_MAIN, 1, "main", false);
    w.gh.clear_requests();
    // wait-timeout 20 s is 0.2 s at the tests' scale.
    let out = w.run(&inputs(&[("wait-timeout", "20")]), &[]);
    out.ok();
    assert_eq!(out.outputs["matched"], "fallback-2");
    assert!(
        out.summary.contains("**Wait:** wait-for run, waited ")
            && out
                .summary
                .contains("stopped: wait-timeout reached; no run in"),
        "{}",
        out.summary
    );
    let runs = w.api_requests("/runs");
    for branch in ["branch=feature", "branch=main"] {
        assert_eq!(
            runs.iter().filter(|r| r.query.contains(branch)).count(),
            1,
            "{branch}"
        );
    }
}

#[test]
fn more_than_ten_fallback_levels_are_refused() {
    let w = world();
    let lines: String = (1..=11).map(|n| format!("branch=b{n}\n")).collect();
    let out = w.run(&inputs(&[("fallback", &lines)]), &[]);
    out.failed()
        .one_error(&["fallback", "11 lines", "at most 10"]);
    assert!(api(&w).is_empty(), "nothing was asked of the API");
}

#[test]
fn max_runs_counts_the_levels_that_find_no_run() {
    let w = world();
    // One build.yml run, on a branch no level asks for: every level asks once and finds no
    // run. Each one spends one of max-runs, so two levels use both and the rest are not tried.
    build(&w, "elsewhere", SHA_MAIN, 1, "elsewhere", false);
    let chain = "branch=x1\nbranch=x2\nbranch=x3\n";
    let out = w.run(
        &inputs(&[
            ("fallback", chain),
            ("max-runs", "2"),
            ("if-no-artifact-found", "warn"),
        ]),
        &[],
    );
    out.ok();
    let s = &out.summary;
    for level in ["fallback-2", "fallback-3"] {
        assert!(
            s.lines()
                .any(|l| l.starts_with(&format!("| {level} |")) && l.contains("not tried")),
            "{level}:\n{s}"
        );
    }
}
