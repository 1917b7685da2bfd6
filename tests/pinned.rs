//! Pinned handoff: the consumer checks that it got exactly what the producer made (the archive
//! digest the producer handed over, and later its files), through the real binary against the
//! fake GitHub.

mod support;

use sha2::{Digest, Sha256};
use support::*;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
