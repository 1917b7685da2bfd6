//! Pinned handoff: the consumer checks that it got exactly what the producer made (the archive
//! digest the producer handed over, and later its files), through the real binary against the
//! fake GitHub.

use crate::support::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

fn dist(seed: u64) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("readme.txt", format!("hello {seed}\n").as_bytes())
        .file("lib/core.txt", &zipbuild::text_payload(5_000, seed))
        .executable("bin/tool.sh", b"#!/bin/sh\necho hi\n")
        .build()
}

#[test]
fn a_pinned_digest_that_matches_is_reported() {
    let w = World::new();
    let zip = dist(1);
    let hex = sha256(&zip);
    w.add("dist", zip);
    // upload-artifact's `artifact-digest` output is bare hex; any case is accepted.
    let out = w.run(
        &[("name", "dist"), ("expected-digest", &hex.to_uppercase())],
        &[],
    );
    out.ok();
    assert_eq!(names(&tree(&w.workspace())).len(), 3);
    let digests: serde_json::Value = serde_json::from_str(&out.outputs["digests"]).unwrap();
    assert_eq!(
        digests,
        serde_json::json!({ "dist": format!("sha256:{hex}") })
    );
    assert!(out.summary.contains("digest pinned ✅"), "{}", out.summary);
    assert_eq!(
        out.artifacts_json()[0]["pinned"],
        serde_json::json!({"digest": true, "files": null})
    );
    assert_eq!(out.artifacts_json()[0]["sha256"], format!("sha256:{hex}"));
    assert!(
        out.stdout.contains(&format!(
            "Digest pinned: matches expected-digest sha256:{hex}"
        )),
        "{}",
        out.stdout
    );
    w.assert_temp_clean();
}

#[test]
fn a_swapped_artifact_with_a_valid_server_digest_fails_and_nothing_reaches_path() {
    let w = World::new();
    // The producer made and pinned one archive; what the server holds under that name now (a
    // re-upload with overwrite: true, say) is another, with its own correct `digest`.
    let made = dist(1);
    let pinned = sha256(&made);
    let served = dist(2);
    let served_hex = sha256(&served);
    w.add("dist", served);
    std::fs::write(w.workspace().join("keep.txt"), b"mine").unwrap();
    let before = listing(&w.workspace());
    // digest-mismatch only governs the server's digest: a pin difference fails regardless.
    let out = w.run(
        &[
            ("name", "dist"),
            ("expected-digest", &format!("sha256:{pinned}")),
            ("digest-mismatch", "ignore"),
        ],
        &[],
    );
    out.failed().one_error(&[
        "artifact 'dist' is not the one the producer made",
        &format!("sha256:{}…{}", &pinned[..12], &pinned[60..]),
        &format!("sha256:{}…{}", &served_hex[..12], &served_hex[60..]),
    ]);
    assert_eq!(listing(&w.workspace()), before);
    assert_eq!(out.outputs["digests"], "{}");
    w.assert_temp_clean();
}

#[test]
fn a_wrong_name_digest_line_fails_that_artifact_only() {
    let w = World::new();
    let a = dist(1);
    let b = dist(2);
    let a_hex = sha256(&a);
    w.add("a", a);
    w.add("b", b);
    let wrong = sha256(b"something else");
    let pins = format!("a={a_hex}\nb: sha256:{wrong}\n");
    let out = w.run(&[("expected-digest", &pins)], &[]);
    out.failed();
    let errors = out.errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("artifact 'b' is not the one the producer made")),
        "{errors:#?}"
    );
    assert_eq!(errors.len(), 1, "one annotation per failure: {errors:#?}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l == "1 of 2 artifacts failed: b"),
        "{}",
        out.stdout
    );
    assert_eq!(entries(&w.workspace()), vec!["a"]);
    let digests: serde_json::Value = serde_json::from_str(&out.outputs["digests"]).unwrap();
    assert_eq!(
        digests,
        serde_json::json!({ "a": format!("sha256:{a_hex}") })
    );
    w.assert_temp_clean();
}

#[test]
fn a_selection_with_an_artifact_lacking_a_pin_fails_before_any_download() {
    let w = World::new();
    let a = dist(1);
    let a_hex = sha256(&a);
    w.add("a", a);
    w.add("b", dist(2));
    let out = w.run(&[("expected-digest", &format!("a={a_hex}"))], &[]);
    out.failed().one_error(&[
        "expected-digest: no digest pinned for artifact 'b'",
        "selected: a, b",
    ]);
    assert!(w.blob_requests().is_empty());
    assert!(entries(&w.workspace()).is_empty());

    // One bare digest cannot pin several artifacts.
    let out = w.run(&[("expected-digest", &a_hex)], &[]);
    out.failed().one_error(&[
        "expected-digest: one digest was given but the selection has 2 artifacts (a, b)",
    ]);
    assert!(w.blob_requests().is_empty());
}

#[test]
fn a_malformed_pin_is_bad_input() {
    let w = World::new();
    w.add("dist", dist(1));
    let out = w.run(&[("name", "dist"), ("expected-digest", "sha256:1234")], &[]);
    out.failed()
        .one_error(&["expected-digest: line 1 'sha256:1234' is not NAME=DIGEST"]);
    assert!(w.gh.requests().is_empty());
}

/// The producer's side: what it uploads, as a directory on disk and as the zip the server keeps.
struct Produced {
    dir: tempfile::TempDir,
}

/// (path, contents, executable); `None` contents: an empty directory.
type Files<'a> = &'a [(&'a str, Option<&'a [u8]>, bool)];

const DIST: Files<'static> = &[
    ("readme.txt", Some(b"hello\n"), false),
    ("lib/core.txt", Some(b"core library\n"), false),
    ("bin/tool.sh", Some(b"#!/bin/sh\necho hi\n"), true),
    (".config/settings.json", Some(b"{}\n"), false),
    ("cache", None, false),
];

fn produce(files: Files) -> Produced {
    let dir = tempfile::tempdir().unwrap();
    for (path, data, exec) in files {
        let p = dir.path().join(path);
        match data {
            None => std::fs::create_dir_all(&p).unwrap(),
            Some(data) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(&p, data).unwrap();
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = if *exec { 0o755 } else { 0o644 };
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
                }
            }
        }
    }
    Produced { dir }
}

fn zip_of(files: Files) -> Vec<u8> {
    let mut z = zipbuild::ZipBuilder::new();
    for (path, data, exec) in files {
        z = match (data, exec) {
            (None, _) => z.dir(path),
            (Some(d), true) => z.executable(path, d),
            (Some(d), false) => z.file(path, d),
        };
    }
    z.build()
}

impl Produced {
    /// `artifetch manifest DIR` as the producer job runs it: (stdout, files-digest output).
    fn manifest(&self, w: &World) -> (String, String) {
        let out = w.run_args(&["manifest", self.dir.path().to_str().unwrap()], &[], &[]);
        out.ok();
        let digest = out.outputs["files-digest"].clone();
        assert!(
            out.stderr.contains(&format!("files-digest: {digest}")),
            "{}",
            out.stderr
        );
        (out.stdout, digest)
    }
}

#[test]
fn the_producers_manifest_matches_what_the_consumer_extracted() {
    let w = World::new();
    let produced = produce(DIST);
    let (listing_text, files_digest) = produced.manifest(&w);
    // The printed manifest is exactly the hashed text: `| sha256sum` gives the digest too.
    assert_eq!(
        files_digest,
        format!("sha256:{}", sha256(listing_text.as_bytes()))
    );
    assert!(
        listing_text.contains(" .config/settings.json\n"),
        "{listing_text}"
    );
    assert!(listing_text.contains("d - 0 - cache\n"), "{listing_text}");
    if cfg!(unix) {
        assert!(listing_text.contains("f x 18 "), "{listing_text}");
    }

    w.add("dist", zip_of(DIST));
    let out = w.run(
        &[
            ("name", "dist"),
            ("expected-files-digest", &files_digest),
            ("expected-files", &listing_text),
        ],
        &[],
    );
    out.ok();
    assert_eq!(out.outputs["files-digest"], files_digest);
    let arts = out.artifacts_json();
    assert_eq!(arts[0]["files_digest"], files_digest.as_str());
    assert_eq!(
        arts[0]["pinned"],
        serde_json::json!({"digest": false, "files": 4})
    );
    assert!(
        out.summary
            .contains("- `dist`: 4 files match the producer's manifest ✅"),
        "{}",
        out.summary
    );
    assert!(
        out.stdout
            .contains("4 files match the producer's manifest ✅")
    );

    // The manifest files: JSON with every entry, and sha256sum lines relative to download-path.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.outputs["manifest"]).unwrap()).unwrap();
    let art = &json["artifacts"][0];
    assert_eq!(art["name"], "dist");
    assert_eq!(art["files_digest"], files_digest.as_str());
    assert_eq!(art["files"], 4);
    let entries = art["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["path"], ".config/settings.json");
    assert_eq!(entries[1]["path"], "bin/tool.sh");
    assert_eq!(entries[1]["executable"], cfg!(unix));
    assert_eq!(
        entries[2],
        serde_json::json!({"path": "cache", "type": "dir"})
    );
    assert_eq!(entries[4]["sha256"], sha256(b"hello\n"));
    let sums = std::fs::read_to_string(&out.outputs["manifest-sha256sum"]).unwrap();
    assert_eq!(
        sums.lines().nth(3).unwrap(),
        format!("{}  readme.txt", sha256(b"hello\n"))
    );
    // Next to the $GITHUB_OUTPUT file (RUNNER_TEMP/_runner_file_commands on a runner).
    let next_to_outputs = w.root.path().display().to_string();
    for o in ["manifest", "manifest-sha256sum"] {
        let p = std::path::Path::new(&out.outputs[o]);
        assert_eq!(p.parent().unwrap().display().to_string(), next_to_outputs);
    }
}

#[test]
fn several_artifacts_get_one_files_digest_each() {
    let w = World::new();
    let a: Files = &[("a.txt", Some(b"A"), false)];
    let b: Files = &[("b.txt", Some(b"B"), false), (".hidden", Some(b"h"), false)];
    let (_, a_digest) = produce(a).manifest(&w);
    let (_, b_digest) = produce(b).manifest(&w);
    w.add("a", zip_of(a));
    w.add("b", zip_of(b));
    let pins = format!("a={a_digest}\nb={b_digest}");
    let out = w.run(&[("expected-files-digest", &pins)], &[]);
    out.ok();
    assert_eq!(out.outputs["files-digest"], pins);
    assert!(
        out.summary
            .contains("- `b`: 2 files match the producer's manifest ✅")
    );
    let sums = std::fs::read_to_string(&out.outputs["manifest-sha256sum"]).unwrap();
    assert!(
        sums.contains(&format!("{}  b/.hidden\n", sha256(b"h"))),
        "{sums}"
    );
}

/// Serves `served` where the producer made DIST, pinned by its manifest; the fetch must fail
/// with `needles` and leave the workspace as it was.
fn refused(served: Files, with_list: bool, needles: &[&str]) {
    let w = World::new();
    let (listing_text, files_digest) = produce(DIST).manifest(&w);
    // The server's digest of what it serves is correct: only the pins can tell.
    w.add("dist", zip_of(served));
    std::fs::write(w.workspace().join("keep.txt"), b"mine").unwrap();
    let before = listing(&w.workspace());
    let mut inputs = vec![
        ("name", "dist"),
        ("expected-files-digest", files_digest.as_str()),
    ];
    if with_list {
        inputs.push(("expected-files", &listing_text));
    }
    let out = w.run(&inputs, &[]);
    let mut all = vec!["artifact 'dist': its files are not the ones the producer made"];
    all.extend(needles);
    all.push("nothing was moved into the destination");
    out.failed().one_error(&all);
    assert_eq!(listing(&w.workspace()), before);
    w.assert_temp_clean();
}

#[test]
fn an_extra_dotfile_fails_the_artifact() {
    let mut served = DIST.to_vec();
    served.push((".npmrc", Some(b"//registry/:_authToken=x\n"), false));
    refused(
        &served,
        true,
        &["1 difference from expected-files: extra .npmrc"],
    );
}

#[test]
fn a_missing_file_fails_the_artifact() {
    let served: Vec<_> = DIST
        .iter()
        .copied()
        .filter(|(p, _, _)| *p != "lib/core.txt")
        .collect();
    refused(&served, true, &["missing lib/core.txt"]);
}

#[cfg(unix)]
#[test]
fn a_changed_exec_bit_fails_the_artifact() {
    let served: Vec<_> = DIST
        .iter()
        .map(|&(p, d, x)| (p, d, if p == "bin/tool.sh" { false } else { x }))
        .collect();
    refused(
        &served,
        true,
        &["mode (executable expected, not executable found): bin/tool.sh"],
    );
}

#[test]
fn changed_content_with_only_the_digest_pinned_shows_both_digests() {
    let served: Vec<_> = DIST
        .iter()
        .map(|&(p, d, x)| {
            let d = if p == "readme.txt" {
                Some(&b"hellO\n"[..])
            } else {
                d
            };
            (p, d, x)
        })
        .collect();
    refused(
        &served,
        false,
        &[
            "expected-files-digest pins sha256:",
            "the extracted files give sha256:",
            "pass the producer's manifest as expected-files",
        ],
    );
}

#[test]
fn many_differences_are_listed_up_to_twenty_then_counted() {
    let mut served = DIST.to_vec();
    let names: Vec<String> = (0..25).map(|i| format!("extra/{i:02}.txt")).collect();
    for n in &names {
        served.push((n.as_str(), Some(b"x"), false));
    }
    refused(
        &served,
        true,
        &[
            "25 differences from expected-files: extra extra/00.txt; ",
            "extra extra/19.txt; and 5 more",
        ],
    );
}

#[test]
fn expected_files_as_sha256sum_lines_from_a_workspace_file() {
    let w = World::new();
    let sums = format!(
        "{}  ./readme.txt\n{} *bin/tool.sh\n{}  lib/core.txt\n{}  .config/settings.json\n",
        sha256(b"hello\n"),
        sha256(b"#!/bin/sh\necho hi\n"),
        sha256(b"core library\n"),
        sha256(b"{}\n"),
    );
    std::fs::write(w.workspace().join("dist.sha256"), &sums).unwrap();
    w.add("dist", zip_of(DIST));
    let out = w.run(
        &[
            ("name", "dist"),
            ("path", "out"),
            ("expected-files", "@dist.sha256"),
        ],
        &[],
    );
    // sha256sum lines cannot describe empty directories or modes: those are not compared.
    out.ok();
    assert!(
        out.summary
            .contains("4 files match the producer's manifest ✅")
    );

    w.gh.clear_requests();
    let out = w.run(
        &[("name", "dist"), ("expected-files", "@missing.sha256")],
        &[],
    );
    out.failed()
        .one_error(&["expected-files: cannot read", "missing.sha256"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn files_pins_that_cannot_apply_are_bad_input() {
    let w = World::new();
    w.add("a", zip_of(DIST));
    w.add("b", zip_of(DIST));
    let digest = format!("sha256:{}", sha256(b""));
    let out = w.run(
        &[("expected-files", &format!("{}  a.txt", sha256(b"")))],
        &[],
    );
    out.failed().one_error(&[
        "expected-files: it lists one artifact's files but the selection has 2 artifacts (a, b)",
    ]);
    assert!(w.blob_requests().is_empty());
    w.gh.clear_requests();
    let out = w.run(
        &[
            ("name", "a"),
            ("skip-decompress", "true"),
            ("expected-files-digest", &digest),
        ],
        &[],
    );
    out.failed()
        .one_error(&["skip-decompress: nothing is extracted"]);
    let out = w.run(
        &[("name", "a"), ("expected-files", "f x 1 nothex a.txt")],
        &[],
    );
    out.failed()
        .one_error(&["expected-files: line 1 'f x 1 nothex a.txt' is neither a sha256sum line"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn the_manifest_subcommand_refuses_what_is_not_a_directory() {
    let w = World::new();
    let out = w.run_args(&["manifest", "/nonexistent/dir"], &[], &[]);
    out.failed()
        .one_error(&["manifest: cannot read /nonexistent/dir"]);
    let out = w.run_args(&["manifest"], &[], &[]);
    out.failed().one_error(&["usage: artifetch manifest DIR"]);
}
