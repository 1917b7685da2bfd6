//! Errors that say what to do: the permission a 403 asks for, and one annotation per failure.

use crate::support::*;
use fakehub::{Fault, FaultKind, Origin};

#[test]
fn a_403_names_the_permission_and_the_line_to_add() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Status {
            code: 403,
            body: r#"{"message":"Resource not accessible by integration"}"#.into(),
            headers: vec![(
                "X-Accepted-GitHub-Permissions".into(),
                "actions=read".into(),
            )],
        },
    ));
    let out = w.run(&[], &[]);
    out.failed().one_error(&[
        "403",
        "Resource not accessible by integration",
        "actions=read",
        "add `permissions: actions: read` to the job",
    ]);
}

#[test]
fn a_403_without_the_header_still_points_at_actions_read() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    w.gh.inject(Fault::status(
        Origin::Api,
        "/artifacts",
        403,
        r#"{"message":"Resource not accessible by integration"}"#,
    ));
    let out = w.run(&[], &[]);
    out.failed()
        .one_error(&["403", "`permissions: actions: read`"]);
}

#[test]
fn every_annotation_names_the_step_and_each_failure_has_exactly_one() {
    let w = World::new();
    w.add("good", zipbuild::sample_zip());
    let gone = w.add("gone-a", zipbuild::sample_zip());
    let gone_b = w.add("gone-b", zipbuild::sample_zip());
    for id in [gone, gone_b] {
        w.gh.inject(Fault::status(
            Origin::Api,
            &format!("/artifacts/{id}/zip"),
            410,
            r#"{"message":"Artifact has expired"}"#,
        ));
    }
    let out = w.run(&[], &[]);
    out.failed();
    let annotations: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error") || l.starts_with("::warning"))
        .collect();
    assert!(
        annotations.iter().all(|l| l.contains(" title=artifetch::")),
        "{annotations:#?}"
    );
    let errors = out.errors();
    assert_eq!(errors.len(), 2, "one per failed artifact: {errors:#?}");
    assert!(errors.iter().any(|e| e.contains("'gone-a'")));
    assert!(errors.iter().any(|e| e.contains("'gone-b'")));
    // The closing line sums up without a third annotation.
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "2 of 3 artifacts failed: gone-a, gone-b"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_name_miss_lists_what_the_run_has_and_the_nearest_name() {
    let w = World::new();
    w.add("pkg-linux", zipbuild::sample_zip());
    w.add("pkg-macos", zipbuild::sample_zip());
    let out = w.run(&[("name", "pkg-linx")], &[]);
    out.failed().one_error(&[
        "pkg-linx",
        "has 'pkg-linux', 'pkg-macos'",
        "did you mean 'pkg-linux'?",
    ]);
}

#[test]
fn expired_and_digest_mismatch_errors_say_what_to_do() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        fakehub::ArtifactSpec::new("old", zipbuild::sample_zip()).expired(true),
    );
    let out = w.run(&[("name", "old")], &[]);
    out.failed()
        .one_error(&["'old' has expired", "re-run the job that uploaded it"]);

    let w = World::new();
    w.gh.add_artifact(
        w.run,
        fakehub::ArtifactSpec::new("dist", zipbuild::sample_zip())
            .digest(fakehub::DigestMode::Wrong),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&[
        "digest mismatch",
        "not the ones that were uploaded",
        "digest-mismatch: warn accepts it anyway",
    ]);
}

#[test]
fn a_typo_in_repository_with_the_default_run_id_blames_repository() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    // `run-id` left at its default (GITHUB_RUN_ID, this workflow's own run).
    let out = w.run(&[("repository", "octo/helo")], &[]);
    out.failed().one_error(&[
        "repository: octo/helo has no run",
        "run-id defaults to it",
        "check repository",
    ]);
    assert!(
        !out.errors()[0].contains("run-id: "),
        "the input the user never set is not blamed: {:?}",
        out.errors()
    );
    // Short, and the token caveat said once (it was 510 characters, the caveat twice).
    let error = out.errors()[0];
    assert_eq!(error.matches("the token").count(), 1, "{error}");
    assert!(error.len() < 420, "{} characters: {error}", error.len());
}

#[test]
fn a_403_on_the_pull_request_names_pull_requests_read() {
    let w = World::new();
    w.gh.add_pull(7, "cccccccccccccccccccccccccccccccccccccccc", "feature");
    w.gh.inject(Fault::new(
        Origin::Api,
        "/pulls/7",
        FaultKind::Status {
            code: 403,
            body: r#"{"message":"Resource not accessible by integration"}"#.into(),
            headers: vec![(
                "X-Accepted-GitHub-Permissions".into(),
                "pull_requests=read".into(),
            )],
        },
    ));
    let out = w.run(&[("workflow", "build.yml"), ("pr", "7")], &[]);
    out.failed().one_error(&[
        "pr: cannot read pull request #7",
        "403",
        "add `permissions: pull-requests: read` to the job",
    ]);
}

#[test]
fn a_name_miss_lists_the_first_20_names_and_counts_the_rest() {
    let w = World::new();
    for i in 0..25 {
        w.add(&format!("pkg-{i:02}"), zipbuild::sample_zip());
    }
    let out = w.run(&[("name", "pkg-2")], &[]);
    out.failed()
        .one_error(&["'pkg-00'", "'pkg-19'", "and 5 more"]);
    assert!(!out.errors()[0].contains("'pkg-20'"), "{:?}", out.errors());
}

#[test]
fn an_expired_artifact_points_at_retention_days() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        fakehub::ArtifactSpec::new("old", zipbuild::sample_zip()).expired(true),
    );
    let out = w.run(&[("name", "old")], &[]);
    out.failed()
        .one_error(&["'old' has expired", "retention-days"]);
}
