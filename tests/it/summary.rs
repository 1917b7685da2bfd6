//! The job summary: server-controlled names cannot render as live Markdown, and a summary file
//! that cannot be written costs a warning, never a good download.

use crate::support::*;

/// An artifact name that, unescaped, renders code, a link, an image, a mention, bold text, raw
/// HTML, an entity, a table break and a right-to-left override.
const EVIL: &str =
    "`x` [a](evil) ![i](i.png) @octocat **b** <img src=x> &#x202E; | \u{202E}gpj.exe";

#[test]
fn names_in_the_summary_are_escaped_for_markdown() {
    let w = World::new();
    w.add(EVIL, zipbuild::sample_zip());
    w.add("plain", zipbuild::sample_zip());
    for dry_run in ["false", "true"] {
        let out = w.run(&[("dry-run", dry_run)], &[]);
        out.ok();
        let summary = &out.summary;
        assert!(summary.contains("octocat"), "{summary}");
        for live in [
            "`x`", "[a](", "![i](", "@octocat", "**b**", "<img", "&#x202E;", "\u{202E}",
        ] {
            assert!(!summary.contains(live), "{live:?} left live in:\n{summary}");
        }
        // Every row still has its seven cell borders: the `|` in the name did not add a column.
        for row in summary
            .lines()
            .filter(|l| l.starts_with("| ") && l.contains("octocat"))
        {
            let borders = row.matches('|').count() - row.matches("\\|").count();
            assert_eq!(borders, 7, "{row}");
        }
    }
}

#[test]
fn an_unwritable_summary_is_a_warning_after_a_good_download() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let missing = w.root.path().join("no-such-dir").join("summary");
    let out = w.run(
        &[("name", "dist")],
        &[("GITHUB_STEP_SUMMARY", missing.to_str().unwrap())],
    );
    out.ok();
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{}", out.stdout);
    assert!(warnings[0].contains("job summary"), "{}", warnings[0]);
    assert!(out.errors().is_empty());
    assert_eq!(out.outputs["found-artifact"], "true");
    assert!(!tree(&w.workspace()).is_empty());
}

#[test]
fn summary_false_writes_none_and_keeps_the_outputs() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let out = w.run(&[("name", "dist"), ("summary", "false")], &[]);
    out.ok();
    assert_eq!(out.summary, "");
    assert_eq!(out.outputs["found-artifact"], "true");
}

#[test]
fn summary_on_failure_is_silent_on_success_and_written_otherwise() {
    let ok = World::new();
    ok.add("dist", zipbuild::sample_zip());
    let out = ok.run(&[("name", "dist"), ("summary", "on-failure")], &[]);
    out.ok();
    assert_eq!(out.summary, "");

    // Nothing matched, and the step passes with a warning: a person should still see why.
    let warned = World::new();
    warned.add("dist", zipbuild::sample_zip());
    let out = warned.run(
        &[
            ("name", "other"),
            ("if-no-artifact-found", "warn"),
            ("summary", "on-failure"),
        ],
        &[],
    );
    out.ok();
    assert!(out.summary.contains("other"), "{}", out.summary);

    let failed = World::new();
    failed.add("dist", zipbuild::sample_zip());
    let out = failed.run(&[("name", "other"), ("summary", "on-failure")], &[]);
    out.failed();
    assert!(out.summary.contains('❌'), "{}", out.summary);
}

#[test]
fn a_summary_value_that_is_not_one_of_the_three_is_refused() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let out = w.run(&[("name", "dist"), ("summary", "sometimes")], &[]);
    out.one_error(&["summary: 'sometimes' is not one of true, false, on-failure"]);
    assert_eq!(out.summary, "");
    assert!(w.blob_requests().is_empty());
}

/// GFM turns a bare `www.…` or `http(s)://…` into a link even without brackets (its autolink
/// extension), in names and in server text alike.
#[test]
fn bare_urls_in_names_and_server_text_are_not_autolinked() {
    let w = World::new();
    w.add("www.evil.example", zipbuild::sample_zip());
    w.add("broken", zipbuild::sample_zip());
    w.gh.inject(Fault::status(
        Origin::Api,
        "/zip",
        404,
        r#"{"message":"moved: see https://evil.example/fix or HTTP://Other.example"}"#,
    ));
    let out = w.run(&[], &[]);
    out.failed();
    let summary = &out.summary.to_ascii_lowercase();
    assert!(summary.contains("evil.example"), "{summary}");
    for live in ["www.evil", "https://evil", "http://other"] {
        assert!(!summary.contains(live), "{live:?} left live in:\n{summary}");
    }
}
