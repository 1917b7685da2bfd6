//! Bad input: one `::error::` line naming the input and what was expected, exit code 1, and the
//! destination exactly as it was (here: a marker file, nothing else).

use crate::support::*;

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
        (
            &[("name", "dist"), ("pattern", "d*")],
            &["name and pattern", "not both"],
        ),
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

/// Values that break naive number parsing: infinities, NaN, overflow, hex, underscores,
/// non-ASCII digits, denormals.
const HOSTILE_NUMBERS: &[&str] = &[
    "inf",
    "-inf",
    "NaN",
    "1e300",
    "-1",
    "18446744073709551616",
    "99999999999999999999999999",
    "0x10",
    "1_000",
    "\u{663}",
    "1e-320",
];

#[test]
fn hostile_numbers_never_panic_and_name_the_input() {
    let w = world();
    let numeric = [
        "run-id",
        "artifact-ids",
        "max-size",
        "concurrency",
        "pr",
        "run-number",
        "max-runs",
        "wait-timeout",
        "stall-timeout",
        "timeout",
    ];
    for input in numeric {
        for value in HOSTILE_NUMBERS {
            let out = w.run(&[(input, value)], &[]);
            assert_ne!(out.code, 101, "{input}={value:?} panicked:\n{}", out.stderr);
            out.failed().one_error(&[input]);
            assert!(
                w.gh.requests().is_empty(),
                "{input}={value:?} sent a request"
            );
            assert_untouched(&w);
        }
    }
    for var in ["GITHUB_RUN_ID", "ARTIFETCH_TIME_SCALE"] {
        for value in HOSTILE_NUMBERS.iter().chain(&["0", "abc"]) {
            let out = w.run(&[], &[(var, value)]);
            assert_ne!(out.code, 101, "{var}={value:?} panicked:\n{}", out.stderr);
            out.failed().one_error(&[var]);
            assert!(w.gh.requests().is_empty(), "{var}={value:?} sent a request");
            assert_untouched(&w);
        }
    }
}

#[test]
fn a_stall_timeout_of_zero_is_refused() {
    let w = world();
    w.run(&[("stall-timeout", "0")], &[]).failed().one_error(&[
        "stall-timeout",
        "'0'",
        "between 1 and 86400",
    ]);
    assert!(w.gh.requests().is_empty());
    assert_untouched(&w);
}

#[test]
fn a_dawidd6_input_name_is_refused_with_the_name_to_write() {
    let w = world();
    let out = w.run(&[], &[("LEGACY_INPUT_RUN_ID", "12345")]);
    out.failed()
        .one_error(&["run_id", "dawidd6/action-download-artifact", "`run-id`"]);
    assert_untouched(&w);
    let out = w.run(&[], &[("LEGACY_INPUT_USE_UNZIP", "true")]);
    out.failed().one_error(&["use_unzip", "remove it"]);
    // Given empty (the action's default for every declared legacy input): no effect.
    w.run(&[("name", "dist")], &[("LEGACY_INPUT_REPO", "")])
        .ok();
}
