//! The core fetch, end to end: selection, layout, pagination, digests, outputs and summary, each
//! through the real binary against the fake GitHub over real sockets.

use crate::support::*;

fn sample(seed: u64) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("readme.txt", format!("hello {seed}\n").as_bytes())
        .stored("data/raw.bin", &zipbuild::random_payload(4096, seed))
        .file("data/big.txt", &zipbuild::text_payload(200_000, seed))
        .executable("bin/tool.sh", b"#!/bin/sh\necho hi\n")
        .build()
}

#[test]
fn by_name_extracts_straight_into_path() {
    let w = World::new();
    w.add("dist", sample(1));
    w.add("other", sample(2));
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    let files = tree(&w.workspace());
    assert_eq!(
        names(&files),
        vec!["bin/tool.sh", "data/big.txt", "data/raw.bin", "readme.txt"]
    );
    assert_eq!(files["readme.txt"], b"hello 1\n");
    assert_eq!(files["data/big.txt"], zipbuild::text_payload(200_000, 1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.workspace().join("bin/tool.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert!(mode & 0o100 != 0, "exec bit kept: {mode:o}");
        let mode = std::fs::metadata(w.workspace().join("readme.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0, "no exec bit: {mode:o}");
    }
    assert_eq!(out.outputs["found-artifact"], "true");
    assert_eq!(out.outputs["run-id"], w.run.to_string());
    // The current run's commit and branch (fakehub's default run) come with its artifact: the
    // plan reads them, no request for the run.
    assert_eq!(
        out.outputs["head-sha"],
        "328faa0536e6fef19753d9d91dc96a9931694ce3"
    );
    assert_eq!(out.outputs["head-branch"], "main");
    assert_eq!(
        out.outputs["download-path"],
        w.workspace().display().to_string()
    );
    let arts = out.artifacts_json();
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0]["name"], "dist");
    assert_eq!(arts[0]["files"], 4);
    assert_eq!(arts[0]["path"], w.workspace().display().to_string());
    assert!(arts[0]["digest"].as_str().unwrap().starts_with("sha256:"));
    // The name filter is done server side: one list request, one download request.
    let api: Vec<_> =
        w.gh.requests()
            .into_iter()
            .filter(|r| r.origin == Origin::Api)
            .collect();
    assert_eq!(api.len(), 2, "{api:#?}");
    assert!(
        api[0].query.contains("name=dist") && api[0].query.contains("per_page=100"),
        "{}",
        api[0].query
    );
    w.assert_temp_clean();
}

#[test]
fn all_artifacts_go_to_their_own_directories_and_merge_multiple_merges() {
    let w = World::new();
    w.add(
        "a",
        zipbuild::ZipBuilder::new()
            .file("a.txt", b"A")
            .file("same.txt", b"from a")
            .build(),
    );
    w.add("b", zipbuild::ZipBuilder::new().file("b.txt", b"B").build());
    w.run(&[], &[]).ok();
    assert_eq!(
        names(&tree(&w.workspace())),
        vec!["a/a.txt", "a/same.txt", "b/b.txt"]
    );

    let merged = w.root.path().join("merged");
    let out = w.run(
        &[
            ("merge-multiple", "true"),
            ("path", merged.to_str().unwrap()),
        ],
        &[],
    );
    out.ok();
    assert_eq!(names(&tree(&merged)), vec!["a.txt", "b.txt", "same.txt"]);
    assert_eq!(out.artifacts_json().len(), 2);
}

#[test]
fn merge_multiple_places_in_name_order_and_warns_about_files_in_several_artifacts() {
    let w = World::new();
    let zip = |tag: &str| {
        zipbuild::ZipBuilder::new()
            .file("same.txt", format!("from {tag}").as_bytes())
            .file("dir/x", format!("x from {tag}").as_bytes())
            .file(&format!("only-{tag}"), b"mine")
            .build()
    };
    // Added so that ids run against names; the first in name order downloads slowest, so any
    // completion order would let it win.
    let a = w.add("alpha", zip("alpha"));
    w.add("gamma", zip("gamma"));
    w.add(
        "beta",
        zipbuild::ZipBuilder::new().file("b.txt", b"B").build(),
    );
    w.gh.inject(Fault::new(
        Origin::Blob,
        &format!("/blob/{a}/"),
        FaultKind::Delay { ms: 300 },
    ));
    let merged = w.root.path().join("merged");
    let out = w.run(
        &[
            ("merge-multiple", "true"),
            ("path", merged.to_str().unwrap()),
        ],
        &[],
    );
    out.ok();
    let t = tree(&merged);
    assert_eq!(t["same.txt"], b"from gamma");
    assert_eq!(t["dir/x"], b"x from gamma");
    assert_eq!(
        names(&t),
        vec!["b.txt", "dir/x", "only-alpha", "only-gamma", "same.txt"]
    );
    one_merge_warning(
        &out,
        &[
            "'gamma' replaced 2",
            "2 file(s)",
            "dir/x (from 'alpha')",
            "same.txt (from 'alpha')",
        ],
    );
}

/// The one `merge-multiple` warning of the step, holding each of `needles`.
#[track_caller]
fn one_merge_warning(out: &Outcome, needles: &[&str]) {
    let warnings: Vec<&str> = out
        .warnings()
        .into_iter()
        .filter(|l| l.contains("merge-multiple"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stdout);
    for needle in needles {
        assert!(
            warnings[0].contains(needle),
            "{} lacks {needle}",
            warnings[0]
        );
    }
}

/// Under merge-multiple, files in several artifacts give one warning for the step, with counts
/// per artifact, not one per colliding artifact (GitHub shows only 10 annotations per step).
#[test]
fn merge_multiple_collisions_are_one_warning_with_counts() {
    let w = World::new();
    for tag in ["alpha", "beta", "gamma", "delta"] {
        w.add(
            tag,
            zipbuild::ZipBuilder::new()
                .file("same.txt", tag.as_bytes())
                .file("also.txt", tag.as_bytes())
                .build(),
        );
    }
    let merged = w.root.path().join("merged");
    let out = w.run(
        &[
            ("merge-multiple", "true"),
            ("path", merged.to_str().unwrap()),
        ],
        &[],
    );
    out.ok();
    assert_eq!(tree(&merged)["same.txt"], b"gamma");
    one_merge_warning(
        &out,
        &[
            "2 file(s) in more than one artifact",
            "6 replaced",
            "'beta' replaced 2",
            "'delta' replaced 2",
            "'gamma' replaced 2",
            "same.txt (from 'alpha')",
        ],
    );
}

#[test]
fn pattern_selects_by_glob_and_one_match_goes_straight_into_path() {
    let w = World::new();
    w.add(
        "build-linux",
        zipbuild::ZipBuilder::new().file("l", b"l").build(),
    );
    w.add(
        "build-mac",
        zipbuild::ZipBuilder::new().file("m", b"m").build(),
    );
    w.add("logs", zipbuild::ZipBuilder::new().file("x", b"x").build());
    w.run(&[("pattern", "build-{linux,mac}")], &[]).ok();
    assert_eq!(
        names(&tree(&w.workspace())),
        vec!["build-linux/l", "build-mac/m"]
    );

    let one = w.root.path().join("one");
    w.run(
        &[("pattern", "!build-*"), ("path", one.to_str().unwrap())],
        &[],
    )
    .ok();
    assert_eq!(names(&tree(&one)), vec!["x"]);
}

#[test]
fn artifact_ids_select_exactly_those() {
    let w = World::new();
    let a = w.add("a", zipbuild::ZipBuilder::new().file("a", b"a").build());
    w.add("b", zipbuild::ZipBuilder::new().file("b", b"b").build());
    let c = w.add("c", zipbuild::ZipBuilder::new().file("c", b"c").build());
    let out = w.run(&[("artifact-ids", &format!("{a}, {c}"))], &[]);
    out.ok();
    assert_eq!(names(&tree(&w.workspace())), vec!["a/a", "c/c"]);
    let ids: Vec<u64> = out
        .artifacts_json()
        .iter()
        .map(|v| v["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![a, c]);
}

#[test]
fn pagination_follows_link_headers_in_repositories_form() {
    let w = World::with(Options {
        link_style_repositories: true,
        ..Options::default()
    });
    for i in 0..230 {
        w.add(
            &format!("art-{i:03}"),
            zipbuild::ZipBuilder::new()
                .file("f", format!("{i}").as_bytes())
                .build(),
        );
    }
    let out = w.run(&[("pattern", "art-22*"), ("dry-run", "true")], &[]);
    out.ok();
    let listed: Vec<_> =
        w.gh.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/artifacts"))
            .collect();
    assert_eq!(listed.len(), 3, "230 artifacts at 100 a page");
    assert!(
        listed[1].path.starts_with("/repositories/"),
        "followed the Link as given: {}",
        listed[1].path
    );
    let names: Vec<String> = out
        .artifacts_json()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        (220..230).map(|i| format!("art-{i}")).collect::<Vec<_>>()
    );
    assert!(tree(&w.workspace()).is_empty(), "dry run downloads nothing");
}

#[test]
fn newest_of_duplicate_names_wins_and_expired_are_skipped_with_a_warning() {
    let w = World::new();
    w.add(
        "dist",
        zipbuild::ZipBuilder::new().file("v", b"old").build(),
    );
    w.add(
        "dist",
        zipbuild::ZipBuilder::new().file("v", b"new").build(),
    );
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("gone", zipbuild::sample_zip()).expired(true),
    );
    let out = w.run(&[], &[]);
    out.ok();
    assert_eq!(tree(&w.workspace())["v"], b"new");
    let warnings = out.warnings();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("'gone'") && l.contains("expired")),
        "{warnings:?}"
    );

    let out = w.run(&[("name", "gone")], &[]);
    out.failed().one_error(&["gone", "expired"]);
}

#[test]
fn skip_decompress_keeps_the_zip_byte_identical() {
    let w = World::new();
    let zip = sample(7);
    w.add("dist", zip.clone());
    w.add("more", sample(8));
    w.run(&[("skip-decompress", "true")], &[]).ok();
    let files = tree(&w.workspace());
    assert_eq!(names(&files), vec!["dist.zip", "more.zip"]);
    assert_eq!(files["dist.zip"], zip);
}

#[test]
fn an_unzipped_artifact_is_written_as_one_file_named_from_content_disposition() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("report.html", b"<html>hi</html>".to_vec(), "text/html"),
    );
    w.run(&[("name", "report.html")], &[]).ok();
    assert_eq!(tree(&w.workspace())["report.html"], b"<html>hi</html>");
}

#[test]
fn digest_mismatch_fails_by_default_and_extracts_nothing() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", sample(3)).digest(DigestMode::Wrong),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    assert!(
        out.errors()
            .iter()
            .any(|e| e.contains("digest mismatch") && e.contains("dist")),
        "{}",
        out.stdout
    );
    assert!(
        tree(&w.workspace()).is_empty(),
        "nothing extracted on mismatch"
    );
    w.assert_temp_clean();

    let out = w.run(&[("name", "dist"), ("digest-mismatch", "warn")], &[]);
    out.ok();
    assert!(
        out.warnings().iter().any(|l| l.contains("digest mismatch")),
        "{}",
        out.stdout
    );
    assert_eq!(tree(&w.workspace()).len(), 4);
    assert!(out.summary.contains("mismatch"));
}

#[test]
fn missing_or_null_digest_is_accepted_with_an_info_line() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("a", sample(4)).digest(DigestMode::Missing),
    );
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("b", sample(5)).digest(DigestMode::Null),
    );
    let out = w.run(&[], &[]);
    out.ok();
    assert!(out.stdout.contains("No digest published"), "{}", out.stdout);
    assert_eq!(tree(&w.workspace()).len(), 8);
}

#[test]
fn token_goes_to_the_api_only_with_the_expected_headers() {
    let w = World::new();
    w.add("dist", sample(1));
    w.run(&[("name", "dist")], &[]).ok();
    let reqs = w.gh.requests();
    let blob: Vec<_> = reqs.iter().filter(|r| r.origin == Origin::Blob).collect();
    assert_eq!(blob.len(), 1);
    assert_eq!(
        blob[0].header("authorization"),
        None,
        "token never reaches the blob host"
    );
    assert_eq!(
        blob[0].status, 206,
        "the first request asks for the first range"
    );
    for r in reqs.iter().filter(|r| r.origin == Origin::Api) {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {}", w.gh.token()).as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert!(r.header("user-agent").unwrap().starts_with("artifetch/"));
    }
}

#[test]
fn token_is_masked_and_never_printed_even_in_debug() {
    let w = World::new();
    w.add("dist", sample(1));
    let out = w.run(&[("name", "dist")], &[("RUNNER_DEBUG", "1")]);
    out.ok();
    let token = w.gh.token();
    let first = out.stdout.lines().next().unwrap();
    assert_eq!(first, format!("::add-mask::{token}"));
    let rest: String = out.stdout.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert!(!rest.contains(&token), "token printed:\n{rest}");
    assert!(
        out.stdout.contains("::debug::GET /repos/"),
        "debug lines show requests:\n{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("sig="),
        "signed query never logged:\n{}",
        out.stdout
    );
}

#[test]
fn summary_lists_each_artifact_with_a_run_link() {
    let w = World::new();
    w.add("alpha", sample(1));
    w.add("beta", sample(2));
    let out = w.run(&[], &[]);
    out.ok();
    let run_url = format!(
        "{}/{}/actions/runs/{}",
        w.gh.server_url(),
        w.gh.repo(),
        w.run
    );
    assert!(out.summary.contains(&run_url), "{}", out.summary);
    assert!(
        out.summary.contains("| alpha |") && out.summary.contains("| beta |"),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("✅ verified"));
    assert!(
        out.summary
            .contains("### ✅ artifetch: 2 artifacts fetched"),
        "{}",
        out.summary
    );
    assert!(
        out.stdout.contains("::group::Artifact 'alpha'"),
        "{}",
        out.stdout
    );
}

#[test]
fn nothing_found_follows_if_no_artifact_found() {
    let w = World::new();
    w.add("dist", sample(1));
    let out = w.run(&[("name", "nope")], &[]);
    out.failed().one_error(&["nope"]);
    assert_eq!(out.outputs["found-artifact"], "false");

    let out = w.run(
        &[("pattern", "zzz*"), ("if-no-artifact-found", "warn")],
        &[],
    );
    out.ok();
    assert_eq!(out.warnings().len(), 1);
    assert_eq!(out.outputs["found-artifact"], "false");

    let out = w.run(
        &[("pattern", "zzz*"), ("if-no-artifact-found", "ignore")],
        &[],
    );
    out.ok();
    assert!(out.warnings().is_empty() && out.errors().is_empty());
}

#[test]
fn flags_work_by_hand_outside_actions() {
    let w = World::new();
    w.add("dist", sample(1));
    let dest = w.root.path().join("by-hand");
    let out = w.run_args(
        &[
            "--name",
            "dist",
            "--path",
            dest.to_str().unwrap(),
            &format!("--run-id={}", w.run),
        ],
        &[],
        &[
            ("GITHUB_ACTIONS", ""),
            ("GITHUB_RUN_ID", ""),
            ("GITHUB_OUTPUT", ""),
            ("GITHUB_STEP_SUMMARY", ""),
        ],
    );
    out.ok();
    assert!(
        !out.stdout.contains("::"),
        "plain lines outside Actions:\n{}",
        out.stdout
    );
    assert_eq!(tree(&dest).len(), 4);
}

#[test]
fn help_documents_every_input() {
    let w = World::new();
    let out = w.run_args(&["--help"], &[], &[]);
    out.ok();
    for input in [
        "--name",
        "--pattern",
        "--artifact-ids",
        "--path",
        "--merge-multiple",
        "--github-token",
        "--repository",
        "--run-id",
        "--skip-decompress",
        "--digest-mismatch",
        "--if-no-artifact-found",
        "--dry-run",
    ] {
        assert!(out.stdout.contains(input), "{input} missing from --help");
    }
}

#[test]
fn existing_files_are_replaced_and_unrelated_ones_left_alone() {
    let w = World::new();
    std::fs::write(w.workspace().join("readme.txt"), b"old").unwrap();
    std::fs::write(w.workspace().join("mine.txt"), b"keep").unwrap();
    w.add("dist", sample(9));
    w.run(&[("name", "dist")], &[]).ok();
    let files = tree(&w.workspace());
    assert_eq!(files["readme.txt"], b"hello 9\n");
    assert_eq!(files["mine.txt"], b"keep");
}

#[test]
fn ghes_base_path_and_same_host_redirect_work_without_digest() {
    let w = World::with(Options {
        ghes: true,
        ..Options::default()
    });
    w.gh.set_run_status(w.run, "completed", Some("success"));
    w.add("dist", sample(1));
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    assert!(w.gh.api_url().ends_with("/api/v3"));
    assert_eq!(tree(&w.workspace()).len(), 4);
    for r in w.gh.requests() {
        if r.origin == Origin::Blob {
            assert!(r.path.starts_with("/_services/pipelines/"), "{}", r.path);
            assert_eq!(
                r.header("authorization"),
                None,
                "no token on the GHES pipelines URL"
            );
        }
    }
}

#[test]
fn every_declared_output_is_written() {
    let w = World::new();
    w.add("dist", sample(1));
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    let written: Vec<&str> = out.outputs.keys().map(String::as_str).collect();
    let mut declared: Vec<&str> = artifetch::report::OUTPUTS.iter().map(|(n, _)| *n).collect();
    declared.sort_unstable();
    assert_eq!(written, declared);
}

#[test]
fn digest_mismatch_info_and_ignore_extract_with_a_log_line_or_silently() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", sample(3)).digest(DigestMode::Wrong),
    );
    let out = w.run(&[("name", "dist"), ("digest-mismatch", "info")], &[]);
    out.ok();
    assert!(out.warnings().is_empty(), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| !l.starts_with("::") && l.contains("digest mismatch")),
        "{}",
        out.stdout
    );
    assert_eq!(tree(&w.workspace()).len(), 4);

    let out = w.run(&[("name", "dist"), ("digest-mismatch", "ignore")], &[]);
    out.ok();
    assert!(!out.stdout.contains("digest mismatch"), "{}", out.stdout);
    assert!(
        out.summary.contains("mismatch"),
        "the summary still tells: {}",
        out.summary
    );
}

#[test]
fn an_expired_artifact_asked_for_by_id_is_an_error_that_says_so() {
    let w = World::new();
    let id =
        w.gh.add_artifact(w.run, ArtifactSpec::new("old", sample(1)).expired(true));
    let out = w.run(&[("artifact-ids", &id.to_string())], &[]);
    out.failed()
        .one_error(&["artifact-ids", &id.to_string(), "expired"]);
    let out = w.run(&[("artifact-ids", "999999")], &[]);
    out.failed()
        .one_error(&["artifact-ids", "999999", "not an artifact of this run"]);
}

#[test]
fn a_server_that_serves_the_archive_from_the_api_url_itself_is_read_directly() {
    // No redirect: the API answers the download request with the body (some proxies and mirrors
    // do). Nothing then goes to the blob origin.
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("notes.txt", b"hello".to_vec(), "text/plain"),
    );
    w.gh.inject(Fault::new(
        Origin::Api,
        "/zip",
        FaultKind::Status {
            code: 200,
            // The artifact's length (size_in_bytes bounds every download), other bytes.
            body: "HELLO".into(),
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                (
                    "content-disposition".into(),
                    "attachment; filename=\"notes.txt\"".into(),
                ),
            ],
        },
    ));
    let out = w.run(&[("name", "notes.txt"), ("digest-mismatch", "warn")], &[]);
    out.ok();
    assert_eq!(tree(&w.workspace())["notes.txt"], b"HELLO");
    assert!(w.blob_requests().is_empty());
}
