//! `artifetch attestation verify`: one bundle, offline, through the real binary — exit 0 and a
//! "Verified" line, or exit 1 and one line naming the check that failed.

use std::path::Path;
use std::process::{Command, Output};

use artifetch::util::hex;
use fakehub::sigstore::{Attestation, FakeSigstore, Flaw, Signer};
use sha2::{Digest, Sha256};

const ARTIFACT: &[u8] = b"the artifact's bytes\n";

/// A directory with the artifact, the fake's trusted root, and one bundle (with `flaw`).
fn setup(flaw: Option<Flaw>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sigstore = FakeSigstore::new();
    let mut a = Attestation::new(
        &hex(&Sha256::digest(ARTIFACT)),
        Signer::new("octo/hello", "build.yml"),
    );
    a.flaw = flaw;
    std::fs::write(dir.path().join("artifact"), ARTIFACT).unwrap();
    std::fs::write(dir.path().join("root.json"), sigstore.trusted_root()).unwrap();
    std::fs::write(dir.path().join("bundle.json"), sigstore.bundle(&a)).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_artifetch"))
        .env_clear()
        .current_dir(dir)
        .args(["attestation", "verify"])
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const GOOD: &[&str] = &[
    "--bundle",
    "bundle.json",
    "--trusted-root",
    "root.json",
    "--signer-workflow",
    "octo/hello/.github/workflows/build.yml",
];

#[test]
fn a_good_bundle_verifies_for_the_file_and_for_its_digest() {
    let dir = setup(None);
    let out = run(dir.path(), &[GOOD, &["--file", "artifact"]].concat());
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let digest = hex(&Sha256::digest(ARTIFACT));
    let line = stdout.trim();
    let signed = format!(
        "Verified: sha256:{digest} signed by https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main at "
    );
    assert!(line.starts_with(&signed), "{line}");
    assert!(line.ends_with("Z, log index 4242"), "{line}");
    let by_digest = run(
        dir.path(),
        &[GOOD, &["--digest", &format!("sha256:{digest}")]].concat(),
    );
    assert!(by_digest.status.success(), "{:?}", text(&by_digest));
}

#[test]
fn a_refused_bundle_exits_1_with_one_line_naming_the_check() {
    let dir = setup(Some(Flaw::NoSct));
    let out = run(dir.path(), &[GOOD, &["--file", "artifact"]].concat());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.trim(),
        "error: attestation not verified: certificate not trusted: the certificate carries no signed certificate timestamp (SCT) from a CT log of the trusted root"
    );
}

#[test]
fn another_signer_or_identity_is_refused() {
    let dir = setup(None);
    let mut args = GOOD.to_vec();
    args[5] = "octo/hello/.github/workflows/release.yml";
    let out = run(dir.path(), &[&args[..], &["--file", "artifact"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("signed by octo/hello/.github/workflows/build.yml@refs/heads/main, expected octo/hello/.github/workflows/release.yml"), "{:?}", text(&out));
    let out = run(
        dir.path(),
        &[
            "--bundle",
            "bundle.json",
            "--trusted-root",
            "root.json",
            "--file",
            "artifact",
            "--certificate-identity",
            "https://github.com/octo/hello/.github/workflows/release.yml@refs/heads/main",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out).1.trim(),
        "error: attestation not verified: certificate identity is https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main, expected https://github.com/octo/hello/.github/workflows/release.yml@refs/heads/main"
    );
}

#[test]
fn bad_arguments_name_what_was_expected() {
    let dir = setup(None);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--bundle", "bundle.json"],
            "give exactly one of --file and --digest",
        ),
        (
            &["--bundle", "bundle.json", "--digest", "sha256:abc"],
            "--digest: 'sha256:abc' is not sha256:<64 hex digits>",
        ),
        (&["--file", "artifact"], "--bundle is required"),
        (
            &["--bundle", "bundle.json", "--file", "artifact"],
            "say whose signature to accept",
        ),
        (
            &["--bundle", "bundle.json", "--colour", "red"],
            "unexpected argument '--colour'",
        ),
    ];
    for (args, want) in cases {
        let out = run(dir.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let (stdout, stderr) = text(&out);
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn help_prints_the_flags() {
    let out = run(Path::new("."), &["--help"]);
    assert!(out.status.success());
    assert!(
        text(&out)
            .0
            .starts_with("usage: artifetch attestation verify --bundle FILE"),
        "{:?}",
        text(&out)
    );
}
