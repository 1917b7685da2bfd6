//! `files`: only the entries inside an artifact that the globs take are extracted, through the
//! real binary against the fake GitHub.

use crate::support::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

/// A build artifact: a tool, its debug file, two libraries, docs, and a hidden config.
fn build() -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .executable("bin/tool", b"#!/bin/sh\necho tool\n")
        .file("bin/tool.debug", &zipbuild::random_payload(4096, 1))
        .file("bin/.config", b"cfg\n")
        .file("lib/a.so", b"liba\n")
        .file("lib/sub/b.so", b"libb\n")
        .file("docs/readme.md", &zipbuild::text_payload(20_000, 2))
        .dir("empty/")
        .build()
}

#[test]
fn only_the_entries_the_globs_take_are_extracted_and_what_was_left_is_counted() {
    let w = World::new();
    w.add("build", build());
    let out = w.run(
        &[
            ("name", "build"),
            ("path", "out"),
            // `*` stays in its segment (lib/sub/b.so is not `lib/*`), `**` crosses `/`, `!`
            // excludes, and a leading dot is not special inside an artifact.
            ("files", "bin/*\n!bin/*.debug\n\n**/b.so\n"),
            ("manifest", "true"),
        ],
        &[],
    );
    out.ok();
    let got = tree(&w.root.path().join("home/out"));
    assert_eq!(
        names(&got),
        ["bin/.config", "bin/tool", "lib/sub/b.so"],
        "{}",
        out.stdout
    );
    // Parent directories are made for what is taken; directories not taken are not.
    assert!(!w.root.path().join("home/out/empty").exists());
    assert!(!w.root.path().join("home/out/docs").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.root.path().join("home/out/bin/tool"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "the executable bit is kept");
    }
    let a = &out.artifacts_json()[0];
    assert_eq!(
        (a["files"].as_u64(), a["files_left"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(
        out.summary.contains("| 3 taken, 3 left |"),
        "{}",
        out.summary
    );
    assert!(
        out.stdout
            .contains("files: took 3 and left 3 of the artifact's files"),
        "{}",
        out.stdout
    );
    // The manifest output and files-digest describe what was taken, no more.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.outputs["manifest"]).unwrap()).unwrap();
    assert!(!manifest.to_string().contains("readme.md"), "{manifest}");
    w.assert_temp_clean();

    // Without `files`, nothing changes: every file, and no `files_left`.
    let out = w.run(&[("name", "build"), ("path", "all")], &[]);
    out.ok();
    assert_eq!(tree(&w.root.path().join("home/all")).len(), 6);
    assert!(out.artifacts_json()[0].get("files_left").is_none());
}

#[test]
fn a_glob_that_takes_nothing_follows_if_no_artifact_found() {
    let w = World::new();
    w.add("build", build());
    let dir = w.root.path().join("home/out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    let before = listing(&dir);
    let files = [
        ("name", "build"),
        ("path", "out"),
        ("files", "bin/tool\nbin/missing-*"),
    ];

    // Default (fail): the artifact fails, naming the glob; nothing of it is placed.
    let out = w.run(&files, &[]);
    out.failed().one_error(&[
        "'bin/missing-*' matched nothing",
        "artifact 'build'",
        "if-no-artifact-found",
    ]);
    assert_eq!(listing(&dir), before);
    w.assert_temp_clean();

    // warn: a warning, and what the other globs take is extracted.
    let mut warn = files.to_vec();
    warn.push(("if-no-artifact-found", "warn"));
    let out = w.run(&warn, &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("'bin/missing-*' matched nothing among the 6 files")),
        "{}",
        out.stdout
    );
    assert_eq!(
        names(&tree(&w.root.path().join("home/out"))),
        ["bin/tool", "keep.txt"],
        "{}",
        out.stdout
    );

    // ignore: the same, silently.
    let mut ignore = files.to_vec();
    ignore.push(("if-no-artifact-found", "ignore"));
    let out = w.run(&ignore, &[]);
    out.ok();
    assert!(out.warnings().is_empty(), "{}", out.stdout);
}

#[test]
fn with_merge_multiple_the_globs_apply_to_each_artifact_and_a_miss_is_per_artifact() {
    let w = World::new();
    let linux = zipbuild::ZipBuilder::new()
        .file("bin/tool", b"linux tool\n")
        .file("share/linux.txt", b"l\n")
        .build();
    let docs = zipbuild::ZipBuilder::new()
        .file("share/manual.txt", b"m\n")
        .build();
    w.add("linux", linux);
    w.add("docs", docs);
    let out = w.run(
        &[
            ("pattern", "*"),
            ("merge-multiple", "true"),
            ("path", "out"),
            ("files", "bin/*"),
            ("if-no-artifact-found", "warn"),
        ],
        &[],
    );
    out.ok();
    // Entry paths are matched inside each artifact, not under `path/<name>/`.
    assert_eq!(names(&tree(&w.root.path().join("home/out"))), ["bin/tool"]);
    let warnings = out.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("artifact 'docs'"), "{}", warnings[0]);
    let arts = out.artifacts_json();
    let by_name = |n: &str| arts.iter().find(|a| a["name"] == n).unwrap().clone();
    assert_eq!(by_name("docs")["files"], 0);
    assert_eq!(by_name("docs")["files_left"], 1);
    assert_eq!(by_name("linux")["files_left"], 1);
}

#[test]
fn a_raw_artifact_is_its_one_file_named_as_it_is_saved() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("report.html", b"<html>hi</html>".to_vec(), "text/html"),
    );
    let out = w.run(&[("name", "report.html"), ("files", "*.html")], &[]);
    out.ok();
    assert_eq!(tree(&w.workspace())["report.html"], b"<html>hi</html>");
    assert_eq!(out.artifacts_json()[0]["files_left"], 0);

    let out = w.run(
        &[("name", "report.html"), ("path", "x"), ("files", "*.txt")],
        &[],
    );
    out.failed()
        .one_error(&["'*.txt' matched nothing among the 1 files"]);
    assert!(!w.root.path().join("home/x").exists());
    w.assert_temp_clean();
}

#[test]
fn expected_files_with_files_lists_only_the_selected_files() {
    let w = World::new();
    w.add("build", build());
    let pins = format!(
        "{}  bin/tool\n{}  lib/a.so\n",
        sha256(b"#!/bin/sh\necho tool\n"),
        sha256(b"liba\n")
    );
    let inputs = |files: &'static str| {
        vec![
            ("name", "build"),
            ("path", "out"),
            ("files", files),
            ("expected-files", pins.as_str()),
        ]
    };
    let out = w.run(&inputs("bin/tool\nlib/a.so"), &[]);
    out.ok();
    assert!(
        out.summary
            .contains("2 files match the producer's manifest ✅"),
        "{}",
        out.summary
    );
    // A selection wider than the pins: the extra file is a difference, and nothing is placed.
    let out = w.run(&inputs("bin/tool\nlib/**"), &[]);
    out.failed().one_error(&["not the ones the producer made"]);
    assert!(!w.root.path().join("home/out/lib/sub").exists());
}

#[test]
fn every_entry_is_still_checked_whatever_is_selected() {
    let w = World::new();
    // A zip-slip entry that the globs do not take still refuses the archive: it is hostile.
    let slip = zipbuild::ZipBuilder::new()
        .file("bin/tool", b"ok\n")
        .file("../escape.txt", b"evil\n")
        .build();
    w.add("slip", slip);
    // A selected file written through an unselected symlink is refused too.
    let through = zipbuild::ZipBuilder::new()
        .symlink("bin", "elsewhere")
        .dir("elsewhere/")
        .file("bin/tool", b"evil\n")
        .build();
    w.add("through", through);
    for name in ["slip", "through"] {
        let out = w.run(
            &[("name", name), ("path", "out"), ("files", "bin/tool")],
            &[],
        );
        out.failed().one_error(&["refusing archive entry"]);
        assert!(!w.root.path().join("home/out").exists(), "{name}");
        assert!(!w.root.path().join("escape.txt").exists());
        w.assert_temp_clean();
    }
}

#[test]
fn files_with_skip_decompress_or_a_bad_glob_is_refused_before_any_request() {
    let w = World::new();
    w.add("build", build());
    let out = w.run(
        &[
            ("name", "build"),
            ("files", "bin/*"),
            ("skip-decompress", "true"),
        ],
        &[],
    );
    out.failed().one_error(&["skip-decompress", "files"]);
    let out = w.run(&[("name", "build"), ("files", "bin/[")], &[]);
    out.failed().one_error(&["files: pattern 'bin/['"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn max_size_bounds_what_is_taken_not_the_whole_archive() {
    let w = World::new();
    w.add("build", build());
    // docs/readme.md alone is 20,000 bytes: past the bound when taken, not when left.
    let out = w.run(
        &[
            ("name", "build"),
            ("path", "out"),
            ("files", "bin/tool"),
            ("max-size", "1000"),
        ],
        &[],
    );
    out.ok();
    let out = w.run(
        &[
            ("name", "build"),
            ("path", "out2"),
            ("files", "docs/**"),
            ("max-size", "1000"),
        ],
        &[],
    );
    out.failed().one_error(&["max-size", "docs/readme.md"]);
}
