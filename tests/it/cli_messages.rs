//! What a person running the binary by hand, or a step with a copied configuration, is told:
//! the token from `GH_TOKEN`, a misspelt flag's nearest name, a switch given a value, and
//! `INPUT_*` variables that no input reads.

use crate::support::*;

fn world() -> World {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    w
}

#[test]
fn gh_token_is_read_when_github_token_is_not_set() {
    let w = world();
    let token = w.gh.token();
    let out = w.run(
        &[("name", "dist")],
        &[("GITHUB_TOKEN", ""), ("GH_TOKEN", &token)],
    );
    out.ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l == format!("::add-mask::{token}")),
        "GH_TOKEN not masked:\n{}",
        out.stdout
    );
    // GITHUB_TOKEN wins when both are set (a wrong GH_TOKEN is never sent).
    let out = w.run(&[("name", "dist")], &[("GH_TOKEN", "ghp_wrong")]);
    out.ok();
    // Neither: the error names both.
    let out = w.run(&[("name", "dist")], &[("GITHUB_TOKEN", "")]);
    out.failed()
        .one_error(&["github-token", "GITHUB_TOKEN", "GH_TOKEN"]);
}

#[test]
fn a_misspelt_flag_gets_the_nearest_name() {
    let w = world();
    w.run_args(&["--nmae", "dist"], &[], &[])
        .failed()
        .one_error(&["unknown flag '--nmae'", "did you mean '--name'?"]);
    w.run_args(&["--merge_multiple"], &[], &[])
        .failed()
        .one_error(&["did you mean '--merge-multiple'?"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn a_switch_given_a_value_is_explained() {
    let w = world();
    w.run_args(&["--merge-multiple", "yes"], &[], &[])
        .failed()
        .one_error(&[
            "'--merge-multiple' is a switch",
            "--merge-multiple=true",
            "--merge-multiple=false",
            "'yes'",
        ]);
    // The `=` form takes a value, checked as the input is.
    w.run_args(&["--merge-multiple=yes"], &[], &[])
        .failed()
        .one_error(&["merge-multiple", "'yes'", "true or false"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn an_unknown_input_variable_gets_a_warning_naming_the_nearest_input() {
    let w = world();
    let out = w.run(&[("name", "dist")], &[("INPUT_MAX-SIZZE", "1GiB")]);
    out.ok();
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    for needle in ["INPUT_MAX-SIZZE", "no input", "did you mean max-size"] {
        assert!(
            warnings[0].contains(needle),
            "{} lacks {needle}",
            warnings[0]
        );
    }
    // Both spellings of a real input, and the install-only input, are known.
    let out = w.run(
        &[("name", "dist")],
        &[
            ("INPUT_RUN_ID", ""),
            ("INPUT_BINARY_URL", "https://mirror.example"),
        ],
    );
    out.ok();
    assert!(out.warnings().is_empty(), "{:#?}", out.warnings());
}

#[test]
fn dawidd6_input_variables_are_one_error_naming_each() {
    let w = world();
    let out = w.run(
        &[("name", "dist")],
        &[
            ("INPUT_REPO", "octo/other"),
            ("INPUT_NAME_IS_REGEXP", "true"),
        ],
    );
    out.failed().one_error(&[
        "INPUT_REPO",
        "repository",
        "INPUT_NAME_IS_REGEXP",
        "pattern",
        "dawidd6",
    ]);
    assert!(w.gh.requests().is_empty(), "fetched despite INPUT_REPO");
    // The same through action.yml's LEGACY_INPUT_* mapping: every one named, in one error.
    let out = w.run(
        &[("name", "dist")],
        &[
            ("LEGACY_INPUT_REPO", "octo/other"),
            ("LEGACY_INPUT_SKIP_UNPACK", "true"),
        ],
    );
    out.failed()
        .one_error(&["repo:", "repository", "skip_unpack:", "skip-decompress"]);
}
