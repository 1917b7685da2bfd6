//! The `manifest` input (issue 25): per-file SHA-256s are paid for only when something needs them.
//! By default the `manifest`, `manifest-sha256sum` and `files-digest` outputs are empty (and the
//! `artifacts` output's `files_digest` is null); `manifest: true`, `expected-files` or
//! `expected-files-digest` turn them on. Through the real binary against the fake GitHub, on each
//! path an archive takes: held in memory, a temp file, a warm cache, and `skip-decompress`.

use std::path::{Path, PathBuf};

use crate::support::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

/// A small artifact (held in memory) when `len` is small, one with a temp file past 1 MiB.
fn dist(len: usize) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("readme.txt", b"hello\n")
        .stored("lib/data.bin", &zipbuild::random_payload(len, 3))
        .build()
}

const OUTPUTS: [&str; 3] = ["files-digest", "manifest", "manifest-sha256sum"];

/// The manifest files artifetch wrote next to `$GITHUB_OUTPUT`.
fn manifest_files(w: &World) -> Vec<String> {
    entries(w.root.path())
        .into_iter()
        .filter(|n| n.starts_with("artifetch-manifest-"))
        .collect()
}

/// What `artifetch manifest DIR` (the producer's side) says of `dir`: its files-digest.
fn producer_digest(w: &World, dir: &Path) -> String {
    let out = w.run_args(&["manifest", dir.to_str().unwrap()], &[], &[]);
    out.ok();
    out.outputs["files-digest"].clone()
}

#[track_caller]
fn assert_no_manifest(w: &World, out: &Outcome) {
    for o in OUTPUTS {
        assert_eq!(out.outputs.get(o).map(String::as_str), Some(""), "{o}");
    }
    for a in out.artifacts_json() {
        assert!(a["files_digest"].is_null(), "{a}");
        assert!(a["sha256"].is_string(), "the archive digest stays on: {a}");
    }
    assert_eq!(manifest_files(w), Vec::<String>::new());
}

/// The outputs of a run that described the one artifact extracted into `dir`.
#[track_caller]
fn assert_manifest_of(w: &World, out: &Outcome, dir: &Path) {
    let digest = producer_digest(w, dir);
    assert_eq!(out.outputs["files-digest"], digest);
    assert_eq!(out.artifacts_json()[0]["files_digest"], digest.as_str());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.outputs["manifest"]).unwrap()).unwrap();
    assert_eq!(json["artifacts"][0]["files_digest"], digest.as_str());
    let sums = std::fs::read_to_string(&out.outputs["manifest-sha256sum"]).unwrap();
    assert!(
        sums.contains(&format!("{}  readme.txt\n", sha256(b"hello\n"))),
        "{sums}"
    );
}

fn home(w: &World, dir: &str) -> PathBuf {
    w.root.path().join("home").join(dir)
}

#[test]
fn by_default_the_manifest_outputs_are_empty_and_the_files_are_all_there() {
    let w = World::new();
    w.add("small", dist(1000));
    w.add("large", dist(3 << 20));
    let out = w.run(&[("path", "out")], &[]);
    out.ok();
    assert_no_manifest(&w, &out);
    for name in ["small", "large"] {
        let got = tree(&home(&w, "out").join(name));
        assert_eq!(got["readme.txt"], b"hello\n");
        assert_eq!(
            got["lib/data.bin"].len(),
            if name == "small" { 1000 } else { 3 << 20 }
        );
    }
    w.assert_temp_clean();
}

#[test]
fn manifest_true_sets_the_outputs_for_a_small_and_a_large_archive() {
    for len in [1000, 3 << 20] {
        let w = World::new();
        w.add("dist", dist(len));
        let out = w.run(
            &[("name", "dist"), ("path", "out"), ("manifest", "true")],
            &[],
        );
        out.ok();
        assert_manifest_of(&w, &out, &home(&w, "out"));
        assert_eq!(manifest_files(&w).len(), 2);

        // `false` is the default, said out loud.
        let out = w.run(
            &[("name", "dist"), ("path", "again"), ("manifest", "false")],
            &[],
        );
        out.ok();
        assert_eq!(out.outputs["files-digest"], "");
    }
}

#[test]
fn either_files_pin_turns_the_manifest_on_even_against_manifest_false() {
    let w = World::new();
    w.add("dist", dist(2000));
    let first = w.run(
        &[("name", "dist"), ("path", "first"), ("manifest", "true")],
        &[],
    );
    first.ok();
    let digest = first.outputs["files-digest"].clone();
    let sums = std::fs::read_to_string(&first.outputs["manifest-sha256sum"]).unwrap();

    let pins: [(&str, &str); 2] = [
        ("expected-files-digest", &digest),
        ("expected-files", &sums),
    ];
    for (i, (pin, value)) in pins.into_iter().enumerate() {
        let path = format!("pinned{i}");
        let out = w.run(
            &[
                ("name", "dist"),
                ("path", &path),
                (pin, value),
                ("manifest", "false"),
            ],
            &[],
        );
        out.ok();
        assert!(
            out.summary
                .contains("2 files match the producer's manifest ✅"),
            "{pin}: {}",
            out.summary
        );
        assert_manifest_of(&w, &out, &home(&w, &path));
    }
}

#[test]
fn a_warm_cache_hit_describes_the_files_only_when_asked() {
    let w = World::new();
    w.add("dist", dist(3 << 20));
    let cache = w.root.path().join("runner-cache").display().to_string();
    let env = [("ARTIFETCH_CACHE_DIR", cache.as_str())];
    let first = w.run(&[("name", "dist"), ("path", "one")], &env);
    first.ok();
    assert_no_manifest(&w, &first);

    w.gh.clear_requests();
    let hit = w.run(&[("name", "dist"), ("path", "two")], &env);
    hit.ok();
    assert_eq!(hit.outputs["cache-hits"], "1");
    assert_no_manifest(&w, &hit);

    let described = w.run(
        &[("name", "dist"), ("path", "three"), ("manifest", "true")],
        &env,
    );
    described.ok();
    assert_eq!(described.outputs["cache-hits"], "1");
    assert!(w.blob_requests().is_empty());
    assert_manifest_of(&w, &described, &home(&w, "three"));
}

#[test]
fn skip_decompress_describes_the_saved_zip_only_when_asked() {
    let w = World::new();
    let zip = dist(1000);
    w.add("dist", zip.clone());
    let out = w.run(
        &[
            ("name", "dist"),
            ("path", "raw"),
            ("skip-decompress", "true"),
        ],
        &[],
    );
    out.ok();
    assert_no_manifest(&w, &out);

    let inputs = [
        ("name", "dist"),
        ("path", "raw2"),
        ("skip-decompress", "true"),
        ("manifest", "true"),
    ];
    let out = w.run(&inputs, &[]);
    out.ok();
    // The saved zip is the one file: its hash is the download's, nothing is read again.
    let sums = std::fs::read_to_string(&out.outputs["manifest-sha256sum"]).unwrap();
    assert_eq!(sums, format!("{}  dist.zip\n", sha256(&zip)));
    assert_eq!(
        out.outputs["files-digest"],
        producer_digest(&w, &home(&w, "raw2"))
    );
}

#[test]
fn a_manifest_value_that_is_not_a_boolean_is_bad_input() {
    let w = World::new();
    w.add("dist", dist(100));
    let out = w.run(&[("name", "dist"), ("manifest", "yes please")], &[]);
    out.failed().one_error(&["manifest", "yes please"]);
    assert!(w.gh.requests().is_empty());
}
