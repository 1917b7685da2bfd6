//! `verify-attestation` end to end: the real binary lists the archive digest's attestations on
//! the fake GitHub, verifies fakehub's fake-Sigstore bundles offline against the given trusted
//! root, and extracts only what verified.

use crate::support::*;
use fakehub::sigstore::{Attestation, FakeSigstore, Flaw, Signer};
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

struct Setup {
    w: World,
    sigstore: FakeSigstore,
    zip: Vec<u8>,
    digest: String,
    root_file: String,
}

fn setup() -> Setup {
    setup_with(Options::default())
}

fn setup_with(opts: Options) -> Setup {
    let w = World::with(opts);
    let zip = zipbuild::ZipBuilder::new()
        .file("app.txt", b"built\n")
        .build();
    let digest = sha256(&zip);
    w.add("dist", zip.clone());
    let sigstore = FakeSigstore::new();
    let root_file = w.root.path().join("trusted_root.json");
    std::fs::write(&root_file, sigstore.trusted_root()).unwrap();
    Setup {
        w,
        sigstore,
        zip,
        digest,
        root_file: root_file.display().to_string(),
    }
}

impl Setup {
    /// `octo/hello`'s `.github/workflows/{file}` on `refs/heads/main`, signing in the run the
    /// artifact came from, as a real certificate says.
    fn signer(&self, file: &str) -> Signer {
        Signer::new("octo/hello", file).in_run(&self.w.gh.server_url(), self.w.run)
    }

    fn build(&self) -> Signer {
        self.signer("build.yml")
    }

    /// A run `shape` of octo/hello that uploads the very bytes of `dist` as its own `dist`
    /// (attested, if at all, by another run): returns its id.
    fn reupload(&self, shape: impl FnOnce(Run) -> Run) -> u64 {
        let run = self.w.gh.add_run(shape(Run::new("octo/hello")));
        self.w
            .gh
            .add_artifact(run, ArtifactSpec::new("dist", self.zip.clone()));
        run
    }

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
        let mut a = Attestation::new(&self.digest, self.build());
        a.timestamped = true;
        a.flaw = flaw;
        self.w
            .gh
            .add_attestation("octo/hello", &self.digest, self.sigstore.bundle(&a), false);
    }

    /// Runs with `extra`: the artifact fails with one error holding `needles`, and nothing of it
    /// reached `path` or stayed in the temp directory.
    fn refused(&self, extra: &[(&str, &str)], needles: &[&str]) -> Outcome {
        let out = self.run(extra);
        out.failed().one_error(needles);
        assert!(tree(&self.w.workspace()).is_empty());
        self.w.assert_temp_clean();
        out
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

#[test]
fn a_verified_attestation_lets_the_artifact_through_and_is_reported() {
    let s = setup();
    s.attest(s.build(), None, false);
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
        out.summary.contains(&format!(
            // cells break @-mentions
            "provenance ✅ build.yml@\u{2060}refs/heads/main, run binding: run {}, commit 0123456789ab of refs/heads/main",
            s.w.run
        )),
        "{}",
        out.summary
    );
    assert_eq!(att["dist"]["binding"], "run");
    assert_eq!(att["dist"]["runner"], "github-hosted");
    assert!(out.stdout.contains("Provenance verified: signed by https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main"));
    let bound = format!(
        "Provenance bound to the artifact's run: {}/octo/hello/actions/runs/{}/attempts/1; commit 0123456789abcdef0123456789abcdef01234567 of refs/heads/main\n",
        s.w.gh.server_url(),
        s.w.run
    );
    assert!(out.stdout.contains(&bound), "{}", out.stdout);
}

#[test]
fn a_bundle_url_is_fetched_without_the_token() {
    let s = setup();
    // 99 candidates signed by another workflow, then the good one, the 100th, behind a
    // bundle_url on the blob host, which refuses any Authorization header.
    for _ in 0..99 {
        s.attest(s.signer("other.yml"), None, false);
    }
    s.attest(s.build(), None, true);
    s.run(&[]).ok();
    let pages = s.w.api_requests("/attestations/");
    assert_eq!(pages.len(), 1, "{pages:#?}");
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
    s.attest(s.signer("other.yml"), None, true);
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
    s.attest(s.signer("release.yml"), None, false);
    s.run(&[(
        "attestation-signer-workflow",
        "octo/hello/.github/workflows/release.yml@refs/heads/main",
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
    s.attest(s.build(), Some(Flaw::UnknownCa), false);
    s.attest(s.build(), Some(Flaw::ForgedSet), false);
    let mut wrong = Attestation::new(&s.digest, s.build());
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
    s.attest(s.build(), None, false);
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

/// The replay: `build.yml` attested these bytes in its run on main; a pull-request run of a
/// same-repository branch uploads the same bytes. Its attestation names the other run.
#[test]
fn bytes_attested_in_another_run_and_uploaded_by_a_branch_run_are_refused() {
    let s = setup();
    s.attest(s.build(), None, false);
    let pr = s.reupload(|r| r.branch("feature").event("pull_request"));
    let pr_id = pr.to_string();
    let signed_by = format!(
        "{}/octo/hello/actions/runs/{}/attempts/1",
        s.w.gh.server_url(),
        s.w.run
    );
    for pinned in [
        None,
        Some("octo/hello/.github/workflows/build.yml@refs/heads/main"),
    ] {
        let mut inputs = vec![("run-id", pr_id.as_str())];
        inputs.extend(pinned.map(|w| ("attestation-signer-workflow", w)));
        let out = s.refused(&inputs, &[&format!(
            "run binding: the attestation was made by run {signed_by}, not by run {pr} the artifact came from"
        )]);
        assert!(
            out.summary.contains("`attestation-from`"),
            "{}",
            out.summary
        );
    }
}

#[test]
fn bytes_attested_in_another_run_and_uploaded_by_a_fork_run_are_refused() {
    let s = setup();
    s.attest(s.build(), None, false);
    let fork = s.reupload(|r| r.head_repo("evil/hello").event("pull_request"));
    s.refused(
        &[("run-id", &fork.to_string()), ("allow-forks", "true")],
        &[
            "run binding: the attestation was made by run ",
            &format!("not by run {fork} the artifact came from"),
        ],
    );
}

/// Run ids are per host: run N on github.com is not run N on this server.
#[test]
fn the_same_run_id_on_another_host_is_another_run() {
    let s = setup();
    let mut signer = s.build();
    signer.run_url = format!(
        "https://github.com/octo/hello/actions/runs/{}/attempts/1",
        s.w.run
    );
    s.attest(signer, None, false);
    s.refused(
        &[],
        &["run binding: the attestation was made by run https://github.com/octo/hello/actions/runs/"],
    );
}

#[test]
fn on_ghes_the_run_is_named_by_the_enterprise_server() {
    let s = setup_with(Options {
        ghes: true,
        ..Options::default()
    });
    s.attest(s.build(), None, false);
    let out = s.run(&[]);
    out.ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
}

/// `attestation-from: workflow`: an artifact another run re-uploaded passes on the signer
/// workflow (with its ref) alone, and the summary says so.
#[test]
fn attestation_from_workflow_accepts_a_reupload_by_another_run() {
    let s = setup();
    s.attest(s.build(), None, false);
    let other = s.reupload(|r| r.workflow(".github/workflows/publish.yml", 7));
    let out = s.run(&[
        ("run-id", &other.to_string()),
        ("attestation-from", "workflow"),
        (
            "attestation-signer-workflow",
            "octo/hello/.github/workflows/build.yml@refs/heads/main",
        ),
    ]);
    out.ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
    assert!(
        out.summary.contains(&format!(
            "provenance ✅ build.yml@\u{2060}refs/heads/main, workflow binding: made by run {}, commit 0123456789ab of refs/heads/main",
            s.w.run
        )),
        "{}",
        out.summary
    );
    let att: serde_json::Value = serde_json::from_str(&out.outputs["attestations"]).unwrap();
    assert_eq!(att["dist"]["binding"], "workflow");
}

#[test]
fn attestation_from_workflow_needs_the_signer_workflow_with_its_ref() {
    let s = setup();
    for given in [None, Some("octo/hello/.github/workflows/build.yml")] {
        let mut inputs = vec![("attestation-from", "workflow")];
        inputs.extend(given.map(|w| ("attestation-signer-workflow", w)));
        s.run(&inputs).failed().one_error(&[
            "attestation-from: workflow needs attestation-signer-workflow with a full ref",
        ]);
    }
    s.run(&[("attestation-from", "any")])
        .failed()
        .one_error(&["attestation-from: 'any' is not one of run, workflow"]);
}

/// A short ref in the policy would match a branch and a tag alike: anyone who can push makes a
/// branch `v1` or a tag `main`. Only full refs are accepted, and they compare exactly.
#[test]
fn a_short_ref_is_refused_and_a_full_one_tells_branch_from_tag() {
    let s = setup();
    s.attest(s.build().on_ref("refs/heads/v1"), None, false);
    s.attest(s.build().on_ref("refs/tags/main"), None, false);
    let wf = "octo/hello/.github/workflows/build.yml";
    for (short, branch, tag) in [
        ("v1", "refs/heads/v1", "refs/tags/v1"),
        ("main", "refs/heads/main", "refs/tags/main"),
    ] {
        s.refused(
            &[("attestation-signer-workflow", &format!("{wf}@{short}"))],
            &[&format!(
                "attestation-signer-workflow: '@{short}' is not a full ref; expected {wf}@{branch} (a branch) or {wf}@{tag} (a tag)"
            )],
        );
    }
    // The branch v1 is not the tag v1; the tag main is not the branch main.
    for full in ["refs/tags/v1", "refs/heads/main"] {
        s.refused(
            &[("attestation-signer-workflow", &format!("{wf}@{full}"))],
            &[&format!("expected {wf}@{full}")],
        );
    }
    s.run(&[(
        "attestation-signer-workflow",
        &format!("{wf}@refs/heads/v1"),
    )])
    .ok();
}

/// What a pinned ref is for: a branch's run signs with its own (possibly modified) copy of the
/// workflow. Bound to its own run it passes when no ref is pinned; `@refs/heads/main` refuses it.
#[test]
fn a_branch_runs_own_attestation_passes_only_when_no_ref_is_pinned() {
    let s = setup();
    let feature = s.reupload(|r| r.branch("feature"));
    let signer = Signer::new("octo/hello", "build.yml")
        .in_run(&s.w.gh.server_url(), feature)
        .on_ref("refs/heads/feature");
    s.attest(signer, None, false);
    let run_id = feature.to_string();
    s.refused(
        &[
            ("run-id", &run_id),
            (
                "attestation-signer-workflow",
                "octo/hello/.github/workflows/build.yml@refs/heads/main",
            ),
        ],
        &["signed by octo/hello/.github/workflows/build.yml@refs/heads/feature, expected octo/hello/.github/workflows/build.yml@refs/heads/main"],
    );
    s.run(&[("run-id", &run_id)]).ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
}

/// The Build Signer URI splits at its LAST `@`: a workflow file named `build.yml@evil.yml` is not
/// `build.yml`.
#[test]
fn a_workflow_file_with_an_at_in_its_name_is_not_the_policys_workflow() {
    let s = setup();
    s.attest(s.signer("build.yml@evil.yml"), None, false);
    s.refused(
        &[(
            "attestation-signer-workflow",
            "octo/hello/.github/workflows/build.yml",
        )],
        &[
            "signed by octo/hello/.github/workflows/build.yml@evil.yml@refs/heads/main, expected octo/hello/.github/workflows/build.yml",
        ],
    );
}

/// A pull request's merge ref is its author's code: with no ref pinned, such an attestation
/// proves only that the pull request built it. Refused unless `attestation-source-ref` names it.
#[test]
fn a_pull_request_ref_is_refused_unless_pinned() {
    let s = setup();
    s.attest(s.build().on_ref("refs/pull/7/merge"), None, false);
    for from in ["run", "workflow"] {
        s.refused(
            &[
                ("attestation-from", from),
                (
                    "attestation-signer-workflow",
                    "octo/hello/.github/workflows/build.yml@refs/pull/7/merge",
                ),
            ],
            &[
                "pull-request ref: built from refs/pull/7/merge, a pull request's code; to accept it, set attestation-source-ref: refs/pull/7/merge",
            ],
        );
    }
    s.refused(&[], &["pull-request ref: built from refs/pull/7/merge"]);
    s.run(&[("attestation-source-ref", "refs/pull/7/merge")])
        .ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
}

#[test]
fn attestation_source_ref_is_the_certificates_source_ref() {
    let s = setup();
    s.attest(s.build().on_ref("refs/heads/dev"), None, false);
    s.refused(
        &[("attestation-source-ref", "refs/heads/main")],
        &["built from ref refs/heads/dev, expected refs/heads/main"],
    );
    s.run(&[("attestation-source-ref", "dev")])
        .failed()
        .one_error(&[
            "attestation-source-ref: 'dev' is not a full ref; expected refs/heads/dev or refs/tags/dev",
        ]);
    s.run(&[("attestation-source-ref", "refs/heads/dev")]).ok();
}

#[test]
fn attestation_runner_github_hosted_refuses_a_self_hosted_runner() {
    let s = setup();
    let mut signer = s.build();
    signer.runner = "self-hosted".into();
    s.attest(signer, None, false);
    s.refused(
        &[("attestation-runner", "github-hosted")],
        &["runner: signed on a self-hosted runner, expected github-hosted"],
    );
    s.run(&[("attestation-runner", "any")]).ok();
    s.run(&[("attestation-runner", "hosted")])
        .failed()
        .one_error(&["attestation-runner: 'hosted' is not one of any, github-hosted"]);
}

#[test]
fn attestation_runner_github_hosted_accepts_a_github_hosted_runner() {
    let s = setup();
    s.attest(s.build(), None, false);
    let out = s.run(&[("attestation-runner", "github-hosted")]);
    out.ok();
    assert_eq!(names(&tree(&s.w.workspace())), vec!["app.txt"]);
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
        "{}/crates/attest/src/{name}.trusted_root.json",
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

#[test]
fn no_more_than_100_attestations_are_considered_for_a_digest() {
    let s = setup();
    for _ in 0..100 {
        s.attest(s.signer("other.yml"), None, false);
    }
    s.attest(s.build(), None, false);
    s.run(&[]).failed().one_error(&[
        "signed by octo/hello/.github/workflows/other.yml@refs/heads/main",
        "(100 attestations for sha256:",
    ]);
    assert_eq!(s.w.api_requests("/attestations/").len(), 1);
    assert!(tree(&s.w.workspace()).is_empty());
}

#[test]
fn a_40_mib_bundle_behind_bundle_url_is_not_read_whole() {
    let s = setup();
    let huge = format!(r#"{{"pad":"{}"}}"#, "a".repeat(40 << 20));
    s.w.gh.add_attestation("octo/hello", &s.digest, huge, true);
    s.run(&[])
        .failed()
        .one_error(&["larger than 8 MiB, more than a bundle can be"]);
    assert!(tree(&s.w.workspace()).is_empty());
}

#[test]
fn a_timestamp_with_a_multibyte_gen_time_fails_the_artifact_not_the_process() {
    let s = setup();
    s.attest_timestamped(Some(Flaw::MultibyteGenTime));
    s.run(&[])
        .failed()
        .one_error(&["TSTInfo: genTime is not YYYYMMDDHHMMSS[.f]Z"]);
    assert!(tree(&s.w.workspace()).is_empty());
}

/// A `bundle_url` whose answer never ends is cut at the JSON bound (8 MiB), not read whole:
/// attestation bundles go through the same bounded reader as every other body.
#[test]
fn an_endless_bundle_is_cut_at_the_bound() {
    let s = setup();
    s.attest(s.build(), None, true);
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
