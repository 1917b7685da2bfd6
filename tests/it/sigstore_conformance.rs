//! The Sigstore conformance suite's DSSE bundle-verification cases (tests/data/sigstore-conformance,
//! vendored with its licence and commit), each run through the real binary's
//! `artifetch attestation verify` as the suite's harness runs a client's `verify-bundle`: the
//! artifact file, the certificate identity and issuer, and the case's trusted root when it has one.
//! A case named `_fail` must be refused, any other must verify.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The suite's default identity and issuer (its README), used by every DSSE case.
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases whose answer is still wrong here, each with why. The test checks they are still wrong,
/// so fixing one fails it until it is taken off this list.
const KNOWN_FAILURES: &[(&str, &str)] = &[];

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sigstore-conformance");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    cases.sort();
    cases
}

struct Answer {
    verified: bool,
    output: String,
}

fn verify(case: &Path) -> Answer {
    let artifact = case.join("artifact");
    let artifact = if artifact.is_file() {
        artifact
    } else {
        case.parent().unwrap().join("a.txt")
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_artifetch"));
    cmd.env_clear()
        .args(["attestation", "verify", "--bundle"])
        .arg(case.join("bundle.sigstore.json"))
        .arg("--file")
        .arg(&artifact)
        .args(["--certificate-identity", IDENTITY])
        .args(["--certificate-oidc-issuer", ISSUER]);
    let root = case.join("trusted_root.json");
    if root.is_file() {
        cmd.arg("--trusted-root").arg(root);
    }
    let out = cmd.output().expect("run artifetch");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}: exit {:?} (a crash, not an answer)\n{output}",
        case.display(),
        out.status.code()
    );
    Answer {
        verified: out.status.success(),
        output,
    }
}

#[test]
fn every_dsse_case_gives_the_suites_answer() {
    let cases = cases();
    assert!(
        cases.len() >= 14,
        "the vendored cases are missing: {cases:?}"
    );
    let mut wrong = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap();
        let want_verified = !name.ends_with("_fail");
        let answer = verify(case);
        let right = answer.verified == want_verified;
        let known = KNOWN_FAILURES.iter().any(|(n, _)| *n == name);
        if right == known {
            wrong.push(format!(
                "{name}: verified={} (expected {want_verified}{})\n  {}",
                answer.verified,
                if known {
                    ", listed as a known failure: take it off the list"
                } else {
                    ""
                },
                answer.output.trim()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_fail_case_is_refused_with_one_line_naming_the_check() {
    for case in cases()
        .iter()
        .filter(|c| c.to_str().unwrap().ends_with("_fail"))
    {
        let answer = verify(case);
        if answer.verified {
            continue; // reported by the test above (a known failure, or a wrong answer)
        }
        let lines: Vec<&str> = answer.output.lines().collect();
        assert_eq!(lines.len(), 1, "{}: {lines:#?}", case.display());
        assert!(
            lines[0].starts_with("error: attestation not verified: "),
            "{}: {}",
            case.display(),
            lines[0]
        );
    }
}
