//! Real bundles whose signing time is proven by an RFC 3161 timestamp, not a log entry
//! (tests/data/sigstore/README.md says where each comes from): GitHub's own Sigstore instance,
//! its staging twin, and Rekor v2 on public-good. They prove the TimeStampToken parser and the
//! timestamp checks against what real authorities emit.

use super::*;

const GITHUB_RELEASE: &[u8] =
    include_bytes!("../../../tests/data/sigstore/github-release-attestation.sigstore.json");
/// One of the archives the release attestation names.
const GITHUB_RELEASE_SUBJECT: &str =
    "76f1fe8593bf227cca2c089e3c16dc95014a8d3e89c5dd220530469ca043c428";
const RELEASE_PREDICATE: &str = "https://in-toto.io/attestation/release/v0.2";
const STAGING_BUNDLE: &[u8] =
    include_bytes!("../../../tests/data/sigstore/github-staging-bundle.sigstore.json");
const STAGING_ROOT: &str =
    include_str!("../../../tests/data/sigstore/github-staging.trusted_root.json");
const REKOR_V2: &[u8] = include_bytes!("../../../tests/data/sigstore/conda-rekor2.sigstore.json");
const SIGSTAGE_ROOT: &str = include_str!("../../../tests/data/sigstore/sigstage.trusted_root.json");

fn release_policy() -> Policy {
    Policy {
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        repository: "jdx/communique".into(),
        signer_workflow: None,
        source_ref: None,
        predicate_type: RELEASE_PREDICATE.into(),
    }
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The bundle's first RFC 3161 token and its DSSE signature.
fn token_and_signature(bundle: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let j = json(bundle);
    let vm = &j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0];
    let token = b64::decode(vm["signedTimestamp"].as_str().unwrap()).unwrap();
    let sig = b64::decode(j["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap()).unwrap();
    (token, sig)
}

fn github_root() -> TrustedRoot {
    *TrustedRoot::embedded().github.unwrap()
}

#[test]
fn embedded_github_root_names_githubs_fulcio_and_timestamp_authority() {
    let root = github_root();
    assert!(
        root.certificate_authorities
            .iter()
            .any(|c| c.uri == "fulcio.githubapp.com")
    );
    assert!(
        root.timestamp_authorities
            .iter()
            .any(|t| t.uri == "timestamp.githubapp.com")
    );
    assert!(
        root.tlogs.is_empty(),
        "GitHub's instance keeps no public log"
    );
}

#[test]
fn real_github_timestamp_proves_its_gen_time() {
    let (token, sig) = token_and_signature(GITHUB_RELEASE);
    let t = tsa::verify(&token, &sig, &github_root()).unwrap();
    assert_eq!(util::date::format(t), "2026-03-02T09:52:15Z");
}

/// GitHub's release attestation (SAN `https://dotcom.releases.github.com`, issued by GitHub's
/// Fulcio, timestamped by timestamp.githubapp.com, no log entry), through the embedded roots:
/// the GitHub root is chosen for it, and every check up to the identity passes. It was made by
/// GitHub itself, not by an Actions workflow, so the OIDC issuer check is the first to fail.
#[test]
fn real_github_instance_bundle_verifies_offline_up_to_the_identity() {
    let err = verify(
        GITHUB_RELEASE,
        GITHUB_RELEASE_SUBJECT,
        &TrustedRoot::embedded(),
        &release_policy(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AttestError::Issuer {
            expected: GITHUB_ACTIONS_ISSUER.into(),
            found: "(none)".into()
        }
    );
    // The public-good root alone has neither GitHub's CA nor its timestamp authority.
    let mut public_good = TrustedRoot::embedded();
    public_good.github = None;
    let err = verify(
        GITHUB_RELEASE,
        GITHUB_RELEASE_SUBJECT,
        &public_good,
        &release_policy(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root"
    );
}

/// sigstore-go's GitHub-staging example (2023): another authority and a bare-ECDSA signer; the
/// statement names its npm package by SHA-512 only, so the subject check is the first to fail.
#[test]
fn real_github_staging_bundle_passes_the_timestamp_and_crypto_checks() {
    let root = TrustedRoot::parse(STAGING_ROOT).unwrap();
    let (token, sig) = token_and_signature(STAGING_BUNDLE);
    let t = tsa::verify(&token, &sig, &root).unwrap();
    assert_eq!(util::date::format(t), "2023-05-16T19:58:49Z");
    let err = verify(STAGING_BUNDLE, &"00".repeat(32), &root, &release_policy()).unwrap_err();
    assert!(
        matches!(err, AttestError::SubjectDigest { ref found, .. } if found.is_empty()),
        "{err}"
    );
}

/// A Rekor v2 bundle from Sigstore's staging instance: its time comes from its timestamp
/// authority, whose token carries the signing certificate (the root names only the CA).
#[test]
fn real_sigstage_timestamp_with_a_carried_certificate_proves_its_gen_time() {
    let (token, sig) = token_and_signature(REKOR_V2);
    let root = TrustedRoot::parse(SIGSTAGE_ROOT).unwrap();
    let t = tsa::verify(&token, &sig, &root).unwrap();
    assert_eq!(util::date::format(t), "2026-05-26T07:42:21Z");
    // Not public-good's authority.
    assert_eq!(
        refused(&token, &sig, &TrustedRoot::embedded()),
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root"
    );
}

fn refused(token: &[u8], sig: &[u8], root: &TrustedRoot) -> String {
    tsa::verify(token, sig, root).unwrap_err()
}

#[test]
fn a_real_timestamp_for_another_signature_is_refused() {
    let (token, mut sig) = token_and_signature(GITHUB_RELEASE);
    sig[10] ^= 1;
    assert_eq!(
        refused(&token, &sig, &github_root()),
        "the RFC 3161 timestamp is about other bytes than the bundle's signature (message imprint mismatch)"
    );
}

#[test]
fn a_real_timestamp_with_an_edited_tst_info_is_refused() {
    let (mut token, sig) = token_and_signature(GITHUB_RELEASE);
    // The genTime's last digit, inside the signed TSTInfo: 2026-03-02T09:52:15Z becomes ...16Z.
    let at = token
        .windows(15)
        .position(|w| w == b"20260302095215Z")
        .unwrap();
    token[at + 13] = b'6';
    assert_eq!(
        refused(&token, &sig, &github_root()),
        "the timestamp's message-digest attribute does not match its TSTInfo (tampered token)"
    );
}

#[test]
fn a_real_timestamp_with_a_forged_signature_is_refused() {
    let (mut token, sig) = token_and_signature(GITHUB_RELEASE);
    let n = token.len();
    token[n - 5] ^= 1; // inside the SignerInfo's ECDSA signature, the token's last field
    assert_eq!(
        refused(&token, &sig, &github_root()),
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root"
    );
}

#[test]
fn a_real_timestamp_outside_its_authoritys_validity_is_refused() {
    let (token, sig) = token_and_signature(GITHUB_RELEASE);
    let mut root = github_root();
    for tsa in &mut root.timestamp_authorities {
        tsa.valid_for.end = util::date::parse_rfc3339("2026-03-01T00:00:00Z");
    }
    assert_eq!(
        refused(&token, &sig, &root),
        "the timestamp authority was not valid at the timestamp's genTime"
    );
}

#[test]
fn garbage_instead_of_a_timestamp_is_refused_with_a_clear_error() {
    let mut j = json(GITHUB_RELEASE);
    j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"] =
        b64::encode(b"not DER at all").into();
    let err = verify(
        &serde_json::to_vec(&j).unwrap(),
        GITHUB_RELEASE_SUBJECT,
        &TrustedRoot::embedded(),
        &release_policy(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("signing time not proven: RFC 3161 timestamp is malformed: timestamp:"),
        "{err}"
    );
}

/// A Rekor v2 entry (`hashedrekord` 0.0.2 over the PAE, a checkpoint signed with the log's
/// Ed25519 key, no signed entry timestamp) and the RFC 3161 time: everything verifies up to the
/// identity, which is a person's (GitHub OAuth), not a workflow's.
#[test]
fn a_real_rekor_v2_bundle_verifies_up_to_the_identity() {
    let root = TrustedRoot::parse(SIGSTAGE_ROOT).unwrap();
    let policy = Policy {
        predicate_type: "https://schemas.conda.org/attestations-publish-1.schema.json".into(),
        ..release_policy()
    };
    let digest = "54303491a8418fbed24344b513546182c29b43bf282ceb433af65e2299f9271f";
    let err = verify(REKOR_V2, digest, &root, &policy).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate issued for https://github.com/login/oauth, expected https://token.actions.githubusercontent.com"
    );
}
