//! Real public-good bundles (tests/data/sigstore/README.md says where they come from), checked
//! against the embedded trusted root: the parser and the checks against reality, not our fake.

use super::*;

const BUNDLE: &[u8] =
    include_bytes!("../../../tests/data/sigstore/reusable-workflow-attestation.sigstore.json");
const ARTIFACT: &[u8] = include_bytes!("../../../tests/data/sigstore/reusable-workflow-artifact");
const BUNDLE_V01: &[u8] =
    include_bytes!("../../../tests/data/sigstore/sigstore-js-2.1.0-bundle-v0.1.json");

fn artifact_sha256() -> String {
    util::hex(&crypto::sha256(ARTIFACT))
}

/// The identity the real bundle carries: a reusable workflow of github/artifact-attestations-
/// workflows, called from malancas/attest-demo.
fn policy() -> Policy {
    Policy {
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        repository: "malancas/attest-demo".into(),
        signer_workflow: Some(
            "github/artifact-attestations-workflows/.github/workflows/attest.yml".into(),
        ),
        source_ref: Some("refs/heads/main".into()),
        predicate_type: SLSA_PROVENANCE_V1.into(),
    }
}

#[test]
fn embedded_trusted_root_names_public_good_fulcio_and_rekor() {
    let root = TrustedRoot::embedded();
    assert!(
        root.certificate_authorities
            .iter()
            .any(|c| c.uri == "https://fulcio.sigstore.dev")
    );
    assert!(
        root.tlogs
            .iter()
            .any(|l| l.base_url == "https://rekor.sigstore.dev")
    );
}

#[test]
fn real_public_good_bundle_verifies_against_the_real_trusted_root() {
    let verified = verify(
        BUNDLE,
        &artifact_sha256(),
        &TrustedRoot::embedded(),
        &policy(),
    )
    .unwrap();
    assert_eq!(verified.signed_at, 1716578064);
    assert_eq!(verified.log_index, Some(96764485));
    let id = &verified.identity;
    assert_eq!(id.issuer.as_deref(), Some(GITHUB_ACTIONS_ISSUER));
    assert_eq!(
        id.repository.as_deref(),
        Some("https://github.com/malancas/attest-demo")
    );
    assert_eq!(
        id.commit.as_deref(),
        Some("95baf27389e83e6a5c48f42e190d48d7abcea19e")
    );
    assert_eq!(
        id.run_url.as_deref(),
        Some("https://github.com/malancas/attest-demo/actions/runs/9228858953/attempts/1")
    );
}

#[test]
fn real_bundle_rejects_another_signer_workflow() {
    let mut p = policy();
    p.signer_workflow = Some("malancas/attest-demo/.github/workflows/shared.yml".into());
    let err = verify(BUNDLE, &artifact_sha256(), &TrustedRoot::embedded(), &p).unwrap_err();
    assert!(matches!(err, AttestError::SignerWorkflow { .. }), "{err}");
    assert!(
        err.to_string().starts_with(
            "signed by github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3"
        ),
        "{err}"
    );
}

#[test]
fn real_bundle_rejects_another_repository_and_digest() {
    let mut p = policy();
    p.repository = "other/repo".into();
    let err = verify(BUNDLE, &artifact_sha256(), &TrustedRoot::embedded(), &p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "built from repository malancas/attest-demo, expected other/repo"
    );
    let err = verify(
        BUNDLE,
        &"ab".repeat(32),
        &TrustedRoot::embedded(),
        &policy(),
    )
    .unwrap_err();
    assert!(matches!(err, AttestError::SubjectDigest { .. }), "{err}");
}

#[test]
fn real_bundle_is_untrusted_without_its_ca() {
    let mut root = TrustedRoot::embedded();
    root.certificate_authorities.clear();
    let err = verify(BUNDLE, &artifact_sha256(), &root, &policy()).unwrap_err();
    assert!(
        matches!(err, AttestError::CertificateNotTrusted(_)),
        "{err}"
    );
}

#[test]
fn real_bundle_needs_its_log_in_the_trusted_root() {
    let mut root = TrustedRoot::embedded();
    root.tlogs.clear();
    let err = verify(BUNDLE, &artifact_sha256(), &root, &policy()).unwrap_err();
    assert!(matches!(err, AttestError::SigningTime(_)), "{err}");
}

/// A v0.1 bundle (certificate chain, `intoto` log entry) of sigstore-js's npm release: every
/// cryptographic check passes; its statement names the package by SHA-512 only, so the subject
/// check is the first to fail.
#[test]
fn real_v01_bundle_passes_the_crypto_checks() {
    let err = verify(
        BUNDLE_V01,
        &"00".repeat(32),
        &TrustedRoot::embedded(),
        &policy(),
    )
    .unwrap_err();
    assert!(
        matches!(err, AttestError::SubjectDigest { ref found, .. } if found.is_empty()),
        "{err}"
    );
}

/// The real bundle with one field changed by `edit`, verified with the real policy.
fn tampered(edit: impl FnOnce(&mut serde_json::Value)) -> AttestError {
    let mut json: serde_json::Value = serde_json::from_slice(BUNDLE).unwrap();
    edit(&mut json);
    let bytes = serde_json::to_vec(&json).unwrap();
    verify(
        &bytes,
        &artifact_sha256(),
        &TrustedRoot::embedded(),
        &policy(),
    )
    .unwrap_err()
}

fn entry(json: &mut serde_json::Value) -> &mut serde_json::Value {
    &mut json["verificationMaterial"]["tlogEntries"][0]
}

#[test]
fn real_bundle_with_a_forged_log_proof_is_rejected() {
    let err = tampered(|j| entry(j)["integratedTime"] = "1716578000".into());
    assert_eq!(
        err.to_string(),
        "signing time not proven: the signed entry timestamp does not verify with the log's key"
    );
    let err = tampered(|j| {
        entry(j)["inclusionProof"]["hashes"][0] = b64::encode(&[7u8; 32]).into();
    });
    assert_eq!(
        err.to_string(),
        "signing time not proven: the inclusion proof does not match its root hash"
    );
    let err = tampered(|j| {
        let cp = entry(j)["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap();
        let forged = cp.replacen("\n\n", "\nextra line\n\n", 1);
        entry(j)["inclusionProof"]["checkpoint"]["envelope"] = forged.into();
    });
    assert!(
        err.to_string()
            .contains("the checkpoint has no signature by the log rekor.sigstore.dev with its key"),
        "{err}"
    );
}

#[test]
fn real_bundle_without_a_time_proof_is_rejected() {
    let err = tampered(|j| {
        entry(j).as_object_mut().unwrap().remove("inclusionPromise");
    });
    assert!(matches!(err, AttestError::SigningTime(_)), "{err}");
    let err = tampered(|j| j["verificationMaterial"]["tlogEntries"] = serde_json::json!([]));
    assert_eq!(
        err.to_string(),
        "signing time not proven: a public-good signature needs a transparency-log entry with a verified inclusion proof"
    );
}

#[test]
fn real_bundle_with_a_tampered_envelope_is_rejected() {
    // Another payload: the log entry no longer matches it.
    let err = tampered(|j| {
        let payload = b64::decode(j["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
        let mut text = String::from_utf8(payload).unwrap();
        text = text.replace("attest-demo", "attest-dem0");
        j["dsseEnvelope"]["payload"] = b64::encode(text.as_bytes()).into();
    });
    assert_eq!(
        err.to_string(),
        "signing time not proven: the log entry is about another envelope (payload hash)"
    );
}
