//! What people paste: a run or job URL in `run-id`, a repository URL in `repository`, and
//! `${{ github.workflow_ref }}` in `workflow` are read where unambiguous; a pasted value that
//! names another repository than the one the step reads is an error naming both.

use crate::support::*;

/// A finished build.yml run (not the current one) holding `dist`.
fn other_run(w: &World, marker: &str) -> u64 {
    let id =
        w.gh.add_run(Run::new(&w.gh.repo()).workflow(".github/workflows/build.yml", 7));
    w.gh.add_artifact(id, ArtifactSpec::new("dist", marker_zip(marker)));
    id
}

#[test]
fn a_job_url_in_run_id_fetches_from_that_run() {
    let w = World::new();
    let id = other_run(&w, "pasted");
    let url = format!(
        "{}/{}/actions/runs/{id}/job/123",
        w.gh.server_url(),
        w.gh.repo()
    );
    let out = w.run(&[("run-id", &url), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), "pasted");
    assert_eq!(out.outputs["run-id"], id.to_string());
}

#[test]
fn a_repository_url_is_read_as_owner_slash_repo() {
    let w = World::new();
    let id = other_run(&w, "by url");
    let repo_url = format!("{}/{}.git", w.gh.server_url(), w.gh.repo());
    let out = w.run(
        &[
            ("repository", &repo_url),
            ("run-id", &id.to_string()),
            ("name", "dist"),
        ],
        &[],
    );
    out.ok();
    assert_eq!(marker(&w), "by url");
}

#[test]
fn github_workflow_ref_in_workflow_searches_that_workflow() {
    let w = World::with_current(Options::default(), |run| {
        run.workflow(".github/workflows/deploy.yml", 99)
            .status("in_progress", None)
    });
    other_run(&w, "from build.yml");
    let workflow_ref = format!(
        "{}/.github/workflows/build.yml@refs/heads/main",
        w.gh.repo()
    );
    let out = w.run(&[("workflow", &workflow_ref), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), "from build.yml");
}

#[test]
fn a_pasted_url_of_another_repository_is_an_error_naming_both() {
    let w = World::new();
    let id = other_run(&w, "x");
    let out = w.run(
        &[(
            "run-id",
            &format!("{}/someone/else/actions/runs/{id}", w.gh.server_url()),
        )],
        &[],
    );
    out.failed().one_error(&[
        "run-id",
        "someone/else",
        &w.gh.repo(),
        "set repository: someone/else",
    ]);
    assert!(w.gh.requests().is_empty(), "nothing was asked of the API");
}

#[test]
fn a_pasted_url_of_another_host_is_refused_naming_both() {
    let w = World::new();
    let id = other_run(&w, "x");
    let server = w.gh.server_url();
    let ours = server.split("://").nth(1).unwrap().trim_end_matches('/');
    let run_url = format!(
        "https://elsewhere.example/{}/actions/runs/{id}",
        w.gh.repo()
    );
    let repo_url = format!("https://elsewhere.example/{}", w.gh.repo());
    let id = id.to_string();
    let cases: [(&str, Vec<(&str, &str)>); 2] = [
        ("run-id", vec![("run-id", &run_url), ("name", "dist")]),
        (
            "repository",
            vec![("repository", &repo_url), ("run-id", &id), ("name", "dist")],
        ),
    ];
    for (input, inputs) in cases {
        let out = w.run(&inputs, &[]);
        out.failed()
            .one_error(&[input, "elsewhere.example", ours, "GITHUB_SERVER_URL"]);
    }
    assert!(w.gh.requests().is_empty(), "nothing was asked of the API");
}
