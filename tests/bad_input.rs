//! Bad input: one `::error::` line naming the input and what was expected, exit code 1, and the
//! destination exactly as it was (here: a marker file, nothing else).

mod support;

use support::*;

fn world() -> World {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    std::fs::write(w.workspace().join("marker"), b"untouched").unwrap();
    w
}

fn assert_untouched(w: &World) {
    assert_eq!(
        names(&tree(&w.workspace())),
        vec!["marker"],
        "destination changed"
    );
    w.assert_temp_clean();
}

/// Inputs given, and what the one error line must say.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

#[test]
fn each_bad_input_names_itself() {
    let cases: &[Case] = &[
        (
            &[("run-id", "abc")],
            &["run-id", "'abc'", "positive integer"],
        ),
        (&[("run-id", "-3")], &["run-id", "positive integer"]),
        (
            &[("repository", "nope")],
            &["repository", "'nope'", "owner/repo"],
        ),
        (&[("repository", "a/b/c")], &["repository", "owner/repo"]),
        (
            &[("digest-mismatch", "loud")],
            &["digest-mismatch", "'loud'", "error, warn, info, ignore"],
        ),
        (
            &[("if-no-artifact-found", "maybe")],
            &["if-no-artifact-found", "fail, warn, ignore"],
        ),
        (
            &[("merge-multiple", "yes")],
            &["merge-multiple", "'yes'", "true or false"],
        ),
        (&[("dry-run", "1")], &["dry-run", "true or false"]),
        (&[("skip-decompress", "on")], &["skip-decompress"]),
        (&[("pattern", "[")], &["pattern", "'['"]),
        (&[("pattern", "+(a|b)")], &["pattern", "extglob"]),
        (&[("pattern", "v{1..3}")], &["pattern", "{1..3}"]),
        (&[("artifact-ids", "12,abc")], &["artifact-ids", "'abc'"]),
        (
            &[("name", "dist"), ("artifact-ids", "1")],
            &["name and artifact-ids"],
        ),
        (&[("max-size", "huge")], &["max-size"]),
    ];
    let w = world();
    for (inputs, needles) in cases {
        let out = w.run(inputs, &[]);
        out.failed().one_error(needles);
        assert!(
            w.gh.requests().is_empty(),
            "no request for bad input {inputs:?}"
        );
        assert_untouched(&w);
    }
}

#[test]
fn underscore_spelling_of_inputs_is_read() {
    let w = world();
    let out = w.run(&[], &[("INPUT_RUN_ID", "xyz")]);
    out.failed().one_error(&["run-id", "'xyz'"]);
}

#[test]
fn missing_token_and_repository_are_named() {
    let w = world();
    w.run(&[], &[("GITHUB_TOKEN", "")])
        .failed()
        .one_error(&["github-token", "not set"]);
    w.run(&[], &[("GITHUB_REPOSITORY", "")])
        .failed()
        .one_error(&["repository", "not set"]);
    w.run(&[], &[("GITHUB_RUN_ID", "")])
        .failed()
        .one_error(&["run-id", "not set"]);
}

#[test]
fn bad_credentials_are_reported_with_githubs_message() {
    let w = world();
    let out = w.run(&[("github-token", "wrong")], &[]);
    out.failed()
        .one_error(&["401", "Bad credentials", "github-token"]);
    assert!(
        !out.stdout
            .lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .any(|l| l.contains("wrong")),
        "token printed:\n{}",
        out.stdout
    );
    assert_untouched(&w);
}

#[test]
fn a_run_that_does_not_exist_says_so() {
    let w = world();
    let out = w.run(&[("run-id", "987654")], &[]);
    out.failed()
        .one_error(&["run-id", "987654", "not found", "404"]);
    assert_untouched(&w);
}

#[test]
fn unsafe_artifact_names_are_refused() {
    let w = World::new();
    w.add("..", zipbuild::sample_zip());
    let out = w.run(&[], &[]);
    out.failed().one_error(&["\"..\"", "not a safe"]);
    assert!(tree(&w.workspace()).is_empty());
}

#[test]
fn unknown_flag_is_an_error() {
    let w = world();
    w.run_args(&["--colour", "red"], &[], &[])
        .failed()
        .one_error(&["--colour"]);
}
