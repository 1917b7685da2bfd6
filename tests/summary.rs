//! The job summary: server-controlled names cannot render as live Markdown, and a summary file
//! that cannot be written costs a warning, never a good download.

mod support;

use support::*;

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
