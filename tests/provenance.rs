//! `verify-attestation` end to end: the real binary lists the archive digest's attestations on
//! the fake GitHub, verifies fakehub's fake-Sigstore bundles offline against the given trusted
//! root, and extracts only what verified.

mod support;

use fakehub::sigstore::{Attestation, FakeSigstore, Flaw, Signer};
use sha2::{Digest, Sha256};
use support::*;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Setup {
    w: World,
    sigstore: FakeSigstore,
    digest: String,
    root_file: String,
}

fn setup() -> Setup {
    let w = World::new();
    let zip = zipbuild::ZipBuilder::new()
        .file("app.txt", b"built\n")
        .build();
    let digest = sha256(&zip);
    w.add("dist", zip);
    let sigstore = FakeSigstore::new();
    let root_file = w.root.path().join("trusted_root.json");
    std::fs::write(&root_file, sigstore.trusted_root()).unwrap();
    Setup {
        w,
        sigstore,
        digest,
        root_file: root_file.display().to_string(),
    }
}

impl Setup {
    fn attest(&self, signer: Signer, flaw: Option<Flaw>, by_url: bool) {
        let mut a = Attestation::new(&self.digest, signer);
        a.flaw = flaw;
        self.w
            .gh
            .add_attestation("octo/hello", &self.digest, self.sigstore.bundle(&a), by_url);
    }

    /// As GitHub's own instance signs for private repositories: no log entry, an RFC 3161
    /// timestamp from fakehub's timestamp authority.
    fn attest_timestamped(&self, flaw: Option<Flaw>) {
        let mut a = Attestation::new(&self.digest, build());
        a.timestamped = true;
        a.flaw = flaw;
        self.w
            .gh
            .add_attestation("octo/hello", &self.digest, self.sigstore.bundle(&a), false);
    }

    fn run(&self, extra: &[(&str, &str)]) -> Outcome {
        let mut inputs = vec![
            ("name", "dist"),
            ("verify-attestation", "true"),
            ("trusted-root", self.root_file.as_str()),
        ];
        inputs.extend_from_slice(extra);
        self.w.run(&inputs, &[])
    }
}

fn build() -> Signer {
    Signer::new("octo/hello", "build.yml")
}

#[test]
fn a_verified_attestation_lets_the_artifact_through_and_is_reported() {
    let s = setup();
    s.attest(build(), None, false);
    let out = s.run(&[]);
    out.ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
    let att: serde_json::Value = serde_json::from_str(&out.outputs["attestations"]).unwrap();
    assert_eq!(
        att["dist"]["signer_workflow"],
        "https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main"
    );
    assert_eq!(att["dist"]["log_index"], 4242);
    assert!(
        out.summary
            .contains("provenance ✅ build.yml@\u{2060}refs/heads/main"), // cells break @-mentions
        "{}",
        out.summary
    );
    assert!(out.stdout.contains("Provenance verified: signed by https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main"));
}

#[test]
fn a_bundle_url_on_page_two_is_fetched_without_the_token() {
    let s = setup();
    // 100 candidates signed by another workflow fill the first page; the good one is behind a
    // bundle_url on the blob host, which refuses any Authorization header.
    for _ in 0..100 {
        s.attest(Signer::new("octo/hello", "other.yml"), None, false);
    }
    s.attest(build(), None, true);
    s.run(&[]).ok();
    let pages = s.w.api_requests("/attestations/");
    assert_eq!(pages.len(), 2, "{pages:#?}");
    assert!(
        s.w.blob_requests()
            .iter()
            .any(|r| r.path.starts_with("/attestations/") && r.status == 200)
    );
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
}

#[test]
fn another_signer_fails_the_artifact_and_nothing_reaches_path() {
    let s = setup();
    s.attest(Signer::new("octo/hello", "other.yml"), None, true);
    let out = s.run(&[]);
    out.failed().one_error(&[
        "signed by octo/hello/.github/workflows/other.yml@refs/heads/main, expected octo/hello/.github/workflows/build.yml",
    ]);
    assert!(tree(&s.w.workspace()).is_empty());
    s.w.assert_temp_clean();
}

#[test]
fn the_given_signer_workflow_and_repository_are_the_policy() {
    let s = setup();
    s.attest(Signer::new("octo/hello", "release.yml"), None, false);
    s.run(&[(
        "attestation-signer-workflow",
        "octo/hello/.github/workflows/release.yml@main",
    )])
    .ok();
    let out = s.run(&[
        (
            "attestation-signer-workflow",
            "octo/hello/.github/workflows/release.yml",
        ),
        ("attestation-repository", "octo/other"),
    ]);
    out.failed()
        .one_error(&["built from repository octo/hello, expected octo/other"]);
}

#[test]
fn the_closest_candidate_explains_the_failure() {
    let s = setup();
    s.attest(build(), Some(Flaw::UnknownCa), false);
    s.attest(build(), Some(Flaw::ForgedSet), false);
    let mut wrong = Attestation::new(&s.digest, build());
    wrong.predicate_type = "https://spdx.dev/Document".into();
    s.w.gh
        .add_attestation("octo/hello", &s.digest, s.sigstore.bundle(&wrong), false);
    let out = s.run(&[]);
    out.failed().one_error(&[
        "predicate type is https://spdx.dev/Document, expected https://slsa.dev/provenance/v1",
        "3 attestations",
    ]);
    assert!(tree(&s.w.workspace()).is_empty());
}

#[test]
fn no_attestation_fails_the_artifact() {
    let s = setup();
    let out = s.run(&[]);
    out.failed()
        .one_error(&[&format!("no attestation for sha256:{}", s.digest)]);
    assert!(tree(&s.w.workspace()).is_empty());
}

#[test]
fn the_embedded_root_does_not_trust_a_fake_sigstore() {
    let s = setup();
    s.attest(build(), None, false);
    let out =
        s.w.run(&[("name", "dist"), ("verify-attestation", "true")], &[]);
    out.failed()
        .one_error(&["from a log the trusted root does not name"]);
}

#[test]
fn bad_attestation_inputs_name_themselves() {
    let s = setup();
    s.run(&[("attestation-signer-workflow", "build.yml")])
        .failed()
        .one_error(&[
            "attestation-signer-workflow: 'build.yml' is not owner/repo/.github/workflows/file.yml",
        ]);
    s.w.run(
        &[
            ("name", "dist"),
            ("verify-attestation", "true"),
            ("trusted-root", "/nonexistent/root.json"),
        ],
        &[],
    )
    .failed()
    .one_error(&["trusted-root: cannot read '/nonexistent/root.json'"]);
}

#[test]
fn a_timestamped_attestation_lets_the_artifact_through_with_the_timestamps_time() {
    let s = setup();
    s.attest_timestamped(None);
    let out = s.run(&[]);
    out.ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
    let att: serde_json::Value = serde_json::from_str(&out.outputs["attestations"]).unwrap();
    assert_eq!(att["dist"]["log_index"], serde_json::Value::Null);
    let signed_at = att["dist"]["signed_at"].as_str().unwrap();
    assert!(
        out.stdout.contains(&format!(
            "Provenance verified: signed by https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main at {signed_at}\n"
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn a_timestamp_about_other_bytes_fails_the_artifact_and_nothing_reaches_path() {
    let s = setup();
    s.attest_timestamped(Some(Flaw::TimestampImprint));
    let out = s.run(&[]);
    out.failed().one_error(&[
        "provenance: signing time not proven: the RFC 3161 timestamp is about other bytes than the bundle's signature (message imprint mismatch)",
    ]);
    assert!(tree(&s.w.workspace()).is_empty());
    s.w.assert_temp_clean();
}

#[test]
fn the_embedded_roots_do_not_trust_a_fake_timestamp_authority() {
    let s = setup();
    s.attest_timestamped(None);
    let out =
        s.w.run(&[("name", "dist"), ("verify-attestation", "true")], &[]);
    out.failed().one_error(&[
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root",
    ]);
    assert!(tree(&s.w.workspace()).is_empty());
}

/// `scripts/refresh-trusted-root` (run by release.yml before the build) with a stand-in `gh`
/// printing `lines` as `gh attestation trusted-root` does; returns the script's outcome and the
/// directory it wrote to, which starts with both roots holding "old".
#[cfg(unix)]
fn refresh_roots(lines: &str) -> (std::process::Output, tempfile::TempDir) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::write(dir.path().join("lines"), lines).unwrap();
    let gh = bin.join("gh");
    let stub = format!("#!/bin/sh\ncat '{}'\n", dir.path().join("lines").display());
    std::fs::write(&gh, stub).unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    for name in ["public-good", "github"] {
        std::fs::write(out_dir.join(format!("{name}.trusted_root.json")), "old").unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let output = std::process::Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/refresh-trusted-root"
    ))
    .arg(&out_dir)
    .env("PATH", path)
    .output()
    .unwrap();
    (output, dir)
}

#[cfg(unix)]
fn embedded_root_line(name: &str) -> String {
    let path = format!(
        "{}/src/attest/{name}.trusted_root.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    value.to_string()
}

#[cfg(unix)]
#[test]
fn refresh_trusted_root_replaces_both_embedded_roots() {
    let lines = format!(
        "{}\n{}\n",
        embedded_root_line("public-good"),
        embedded_root_line("github")
    );
    let (out, dir) = refresh_roots(&lines);
    assert!(out.status.success(), "{out:?}");
    for name in ["public-good", "github"] {
        let written =
            std::fs::read_to_string(dir.path().join(format!("out/{name}.trusted_root.json")))
                .unwrap();
        let written: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(written.to_string(), embedded_root_line(name), "{name}");
    }
}

#[cfg(unix)]
#[test]
fn refresh_trusted_root_without_githubs_root_changes_nothing() {
    let (out, dir) = refresh_roots(&format!("{}\n", embedded_root_line("public-good")));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "no usable github.trusted_root.json in the output of gh attestation trusted-root"
        ),
        "{out:?}"
    );
    for name in ["public-good", "github"] {
        let kept =
            std::fs::read_to_string(dir.path().join(format!("out/{name}.trusted_root.json")))
                .unwrap();
        assert_eq!(kept, "old", "{name}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        2
    );
}

/// A `bundle_url` whose answer never ends is cut at the JSON bound (8 MiB), not read whole:
/// attestation bundles go through the same bounded reader as every other body.
#[test]
fn an_endless_bundle_is_cut_at_the_bound() {
    let s = setup();
    s.attest(build(), None, true);
    s.w.gh.inject(Fault::new(
        Origin::Blob,
        "/attestations/",
        FaultKind::Endless {
            code: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            prefix: "{\"mediaType\":\"".into(),
            repeat: "x".repeat(4096),
        },
    ));
    let out = s.run(&[]);
    out.failed()
        .one_error(&["attestation bundle", "larger than 8 MiB"]);
    assert!(tree(&s.w.workspace()).is_empty());
    s.w.assert_temp_clean();
}
