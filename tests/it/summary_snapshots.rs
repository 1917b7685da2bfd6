//! The job summary as a person sees it, snapshot by snapshot: each scenario runs the real binary
//! against the fake GitHub and compares the Markdown with the file in `tests/snapshots/`.
//! What changes from run to run (ports, temp paths, times, ages) is replaced before comparing.
//! `.config/insta.yaml` sets `update: no`: a missing or different snapshot fails, never writes.
//! `cargo xtask summaries` renders every snapshot to HTML.

use crate::support::*;

fn tiny(name: &str) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("name.txt", name.as_bytes())
        .build()
}

/// Compares `summary` with the snapshot `name`, volatile parts replaced.
#[track_caller]
fn snap(name: &str, summary: &str) {
    insta::with_settings!({
        filters => vec![
            (r"https?://127\.0\.0\.1:\d+", "[server]"),
            (r"(/private)?/tmp/\.tmp[A-Za-z0-9]+", "[root]"),
            (r"\d+\.\d\d&nbsp;s", "[time]"),
            // Concurrent downloads: whichever answer came last sets what the log calls left.
            (r"rate limit: \d+ of \d+ left until \d\d:\d\d:\d\d UTC", "rate limit: [left]"),
            (r"just now|\d+ (minute|hour|day)s? ago", "[age]"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[timestamp]"),
            (r"\d+(\.\d+)? ?[KM]iB/s", "[rate]"),
        ],
        // tests/snapshots, where cargo xtask summaries and tests/it/summary_rendered.rs read them.
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, summary);
    });
}

#[test]
fn success() {
    let w = World::new();
    w.add("pkg-linux", tiny("linux"));
    w.add("pkg-macos", tiny("macos"));
    let dest = w.workspace().join("out");
    let out = w.run(&[("path", dest.to_str().unwrap())], &[]);
    out.ok();
    snap("success", &out.summary);
}

#[test]
fn partial_failure() {
    let w = World::new();
    w.add("good", tiny("good"));
    let corrupt = zipbuild::ZipBuilder::new()
        .entry(zipbuild::Entry {
            crc_override: Some(0xdead_beef),
            ..zipbuild::Entry::new("broken.txt", b"bits that do not match the crc")
        })
        .build();
    w.add("corrupt", corrupt);
    let out = w.run(&[], &[]);
    out.failed();
    snap("partial_failure", &out.summary);
}

#[test]
fn digest_mismatch() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", tiny("dist")).digest(DigestMode::Wrong),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    snap("digest_mismatch", &out.summary);
}

#[test]
fn expired_skipped() {
    let w = World::new();
    w.add("pkg-linux", tiny("linux"));
    let old = w.add("pkg-old", tiny("old"));
    w.gh.expire_artifact(old);
    let out = w.run(&[("pattern", "pkg-*")], &[]);
    out.ok();
    snap("expired_skipped", &out.summary);
}

#[test]
fn nothing_matched() {
    let w = World::new();
    w.add("pkg-linux", tiny("linux"));
    w.add("docs", tiny("docs"));
    let out = w.run(&[("pattern", "wheel-*")], &[]);
    out.failed();
    snap("nothing_matched", &out.summary);
}

#[test]
fn name_typo() {
    let w = World::new();
    w.add("pkg-linux", tiny("linux"));
    w.add("pkg-macos", tiny("macos"));
    let out = w.run(&[("name", "pkg-linx")], &[]);
    out.failed();
    snap("name_typo", &out.summary);
}

#[test]
fn search_with_skips() {
    let w = World::new();
    let repo = w.gh.repo();
    let at = |t: &str| format!("2026-01-0{t}T10:00:00Z");
    let good =
        w.gh.add_run(Run::new(&repo).run_number(40).created_at(&at("1")));
    w.gh.add_artifact(good, ArtifactSpec::new("pkg", tiny("good")));
    // Newer, but without the artifact.
    let bare =
        w.gh.add_run(Run::new(&repo).run_number(41).created_at(&at("2")));
    w.gh.add_artifact(bare, ArtifactSpec::new("logs", tiny("logs")));
    // Newest, from a fork.
    let fork = w.gh.add_run(
        Run::new(&repo)
            .run_number(42)
            .created_at(&at("3"))
            .head_repo("mallory/hello"),
    );
    w.gh.add_artifact(fork, ArtifactSpec::new("pkg", tiny("evil")));
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("pattern", "pkg"),
            ("search-artifacts", "true"),
        ],
        &[],
    );
    out.ok();
    snap("search_with_skips", &out.summary);
}

#[test]
fn dry_run() {
    let w = World::new();
    w.add("pkg-linux", tiny("linux"));
    w.add("pkg-macos", tiny("macos"));
    let out = w.run(&[("dry-run", "true")], &[]);
    out.ok();
    snap("dry_run", &out.summary);
}

#[test]
fn raw_artifact() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("report.html", b"<html></html>".to_vec(), "text/html"),
    );
    let out = w.run(&[("name", "report.html")], &[]);
    out.ok();
    snap("raw_artifact", &out.summary);
}

#[test]
fn merge_multiple() {
    let w = World::new();
    w.add("part-a", tiny("a"));
    w.add("part-b", tiny("b"));
    let out = w.run(&[("merge-multiple", "true"), ("path", "dist")], &[]);
    out.ok();
    snap("merge_multiple", &out.summary);
}

#[test]
fn ghes() {
    let w = World::with(Options {
        ghes: true,
        ..Options::default()
    });
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", tiny("dist")).digest(DigestMode::Missing),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    snap("ghes", &out.summary);
}

#[test]
fn a_thousand_artifacts_fold_into_details() {
    // A limit the 1,010 requests stay under: no wait for a reset, the same footer every time.
    let w = World::with(Options {
        rate_limit: 5000,
        ..Options::default()
    });
    for i in 0..1000 {
        let name = format!("part-{i:04}");
        w.add(&name, tiny(&name));
    }
    // The footer counts requests: a blob answer late past the test scale's 0.3 s stall timeout
    // (one in a thousand on a loaded machine) would be retried with a fresh signed URL, one more.
    let out = w.run(&[("stall-timeout", "1000")], &[]);
    out.ok();
    assert!(
        out.summary
            .contains("<details><summary>1,000 artifacts</summary>")
    );
    snap("thousand_artifacts", &out.summary);
}

#[test]
fn ten_thousand_artifacts_stay_far_under_the_one_mib_limit() {
    let w = World::new();
    for i in 0..10_000 {
        let name = format!("a-rather-long-artifact-name-for-a-matrix-job-{i:05}");
        w.add(&name, tiny("x"));
    }
    // A dry run lists all 10,000 without downloading them.
    let out = w.run(&[("dry-run", "true")], &[]);
    out.ok();
    let len = out.summary.len();
    assert!(len < 128 * 1024, "{len} bytes");
    assert!(out.summary.contains("would fetch 10,000 artifacts"));
    assert!(out.summary.contains("… and 9,500 more rows, not shown"));
    assert_eq!(out.artifacts_json().len(), 10_000);
}

/// A stop before any download: the token may not list the run's artifacts (403).
#[test]
fn stop_403() {
    let w = World::new();
    w.add("dist", tiny("dist"));
    w.gh.inject(fakehub::Fault::new(
        fakehub::Origin::Api,
        "/artifacts",
        fakehub::FaultKind::Status {
            code: 403,
            body: r#"{"message":"Resource not accessible by integration"}"#.into(),
            headers: vec![(
                "X-Accepted-GitHub-Permissions".into(),
                "actions=read".into(),
            )],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    snap("stop_403", &out.summary);
}

/// A stop before any download: the artifact asked for by name has expired.
#[test]
fn stop_expired() {
    let w = World::new();
    let old = w.add("dist", tiny("dist"));
    w.add("docs", tiny("docs"));
    w.gh.expire_artifact(old);
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    snap("stop_expired", &out.summary);
}

/// A stop before any download: the API keeps failing (502) while listing the artifacts.
#[test]
fn stop_api_error() {
    let w = World::new();
    w.add("dist", tiny("dist"));
    w.gh.inject(
        fakehub::Fault::status(
            fakehub::Origin::Api,
            "/artifacts",
            502,
            r#"{"message":"Server Error"}"#,
        )
        .times(100),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    snap("stop_api_error", &out.summary);
}

/// A pattern that matches nothing: the run's artifacts, as a table, say what there is.
#[test]
fn pattern_miss() {
    let w = World::new();
    w.add("wheel-linux", tiny("linux"));
    let old = w.add("wheel-old", tiny("old"));
    w.gh.expire_artifact(old);
    w.add("docs", tiny("docs"));
    let out = w.run(&[("pattern", "wheels-*")], &[]);
    out.failed();
    snap("pattern_miss", &out.summary);
}
