//! Every check against bundles from fakehub's fake Sigstore: one good bundle verifies, and a
//! bundle with one thing wrong fails with the reason naming that thing.

use fakehub::sigstore::{Attestation, FakeSigstore, Flaw, Signer};

use super::*;

const DIGEST: &str = "3f1b2c0000000000000000000000000000000000000000000000000000000abc";

fn policy() -> Policy {
    Policy {
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        repository: "octo/hello".into(),
        signer_workflow: Some("octo/hello/.github/workflows/build.yml".into()),
        source_ref: None,
        predicate_type: SLSA_PROVENANCE_V1.into(),
    }
}

fn attestation() -> Attestation {
    Attestation::new(DIGEST, Signer::new("octo/hello", "build.yml"))
}

fn check(sigstore: &FakeSigstore, a: &Attestation, p: &Policy) -> Result<Verified, AttestError> {
    let root = TrustedRoot::parse(&sigstore.trusted_root()).unwrap();
    verify(sigstore.bundle(a).as_bytes(), DIGEST, &root, p)
}

fn flawed(flaw: Flaw) -> AttestError {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.flaw = Some(flaw);
    check(&s, &a, &policy()).unwrap_err()
}

#[test]
fn a_good_fake_bundle_verifies() {
    let s = FakeSigstore::new();
    let v = check(&s, &attestation(), &policy()).unwrap();
    assert_eq!(v.log_index, Some(4242));
    assert_eq!(
        v.identity.signer_uri.as_deref(),
        Some("https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main")
    );
    let mut p = policy();
    p.signer_workflow = Some("octo/hello/.github/workflows/build.yml@refs/heads/main".into());
    p.source_ref = Some("refs/heads/main".into());
    check(&s, &attestation(), &p).unwrap();
}

#[test]
fn wrong_signer_workflow_is_named() {
    let s = FakeSigstore::new();
    let a = Attestation::new(DIGEST, Signer::new("octo/hello", "other.yml"));
    let err = check(&s, &a, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signed by octo/hello/.github/workflows/other.yml@refs/heads/main, expected octo/hello/.github/workflows/build.yml"
    );
}

#[test]
fn wrong_ref_is_named() {
    let s = FakeSigstore::new();
    let mut p = policy();
    p.signer_workflow = Some("octo/hello/.github/workflows/build.yml@refs/tags/v1".into());
    let err = check(&s, &attestation(), &p).unwrap_err();
    assert!(matches!(err, AttestError::SignerWorkflow { .. }), "{err}");
    let mut p = policy();
    p.source_ref = Some("refs/heads/release".into());
    let err = check(&s, &attestation(), &p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "built from ref refs/heads/main, expected refs/heads/release"
    );
}

#[test]
fn wrong_repository_is_named() {
    let s = FakeSigstore::new();
    let a = Attestation::new(DIGEST, Signer::new("fork/hello", "build.yml"));
    let err = check(&s, &a, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "built from repository fork/hello, expected octo/hello"
    );
}

#[test]
fn wrong_issuer_is_named() {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.signer.issuer = "https://accounts.example.com".into();
    let err = check(&s, &a, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate issued for https://accounts.example.com, expected https://token.actions.githubusercontent.com"
    );
}

#[test]
fn wrong_subject_digest_is_named() {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.sha256 = "ab12".repeat(16);
    let err = check(&s, &a, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "attestation is for sha256:{}, not sha256:{DIGEST}",
            "ab12".repeat(16)
        )
    );
}

#[test]
fn wrong_predicate_type_is_named() {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.predicate_type = "https://spdx.dev/Document".into();
    let err = check(&s, &a, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "predicate type is https://spdx.dev/Document, expected https://slsa.dev/provenance/v1"
    );
}

#[test]
fn tampered_envelope_is_rejected() {
    let err = flawed(Flaw::TamperedPayload);
    assert_eq!(
        err.to_string(),
        "signing time not proven: the log entry is about another envelope (payload hash)"
    );
    let err = flawed(Flaw::BadSignature);
    assert_eq!(
        err.to_string(),
        "signature invalid: the DSSE envelope's signature does not verify with the certificate's key"
    );
}

#[test]
fn certificate_outside_its_validity_at_signing_time_is_rejected() {
    let err = flawed(Flaw::ExpiredCertificate);
    assert!(
        matches!(err, AttestError::CertificateExpired { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("certificate not valid at the signing time"),
        "{err}"
    );
}

#[test]
fn unknown_ca_is_not_trusted() {
    let err = flawed(Flaw::UnknownCa);
    assert_eq!(
        err.to_string(),
        "certificate not trusted: it does not chain to a Fulcio CA of the trusted root"
    );
}

#[test]
fn missing_or_forged_log_proof_is_rejected() {
    assert_eq!(
        flawed(Flaw::NoLogEntry).to_string(),
        "signing time not proven: no transparency-log entry or RFC 3161 timestamp"
    );
    assert_eq!(
        flawed(Flaw::ForgedSet).to_string(),
        "signing time not proven: the signed entry timestamp does not verify with the log's key"
    );
    assert_eq!(
        flawed(Flaw::ForgedInclusion).to_string(),
        "signing time not proven: the inclusion proof does not match its root hash"
    );
}

#[test]
fn another_sigstores_bundle_is_not_trusted() {
    // Same shape, other keys: nothing of it is trusted by our root.
    let theirs = FakeSigstore::new();
    let ours = TrustedRoot::parse(&FakeSigstore::new().trusted_root()).unwrap();
    let err = verify(
        theirs.bundle(&attestation()).as_bytes(),
        DIGEST,
        &ours,
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: the log entry is from a log the trusted root does not name"
    );
}

#[test]
fn the_closest_candidate_is_the_one_that_got_furthest() {
    let untrusted = flawed(Flaw::UnknownCa);
    let other_signer = check(
        &FakeSigstore::new(),
        &Attestation::new(DIGEST, Signer::new("octo/hello", "x.yml")),
        &policy(),
    )
    .unwrap_err();
    assert!(other_signer.stage() > untrusted.stage());
}

/// GitHub's own instance: no log entry, the time from an RFC 3161 timestamp.
fn timestamped(flaw: Option<Flaw>) -> Result<Verified, AttestError> {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.timestamped = true;
    a.flaw = flaw;
    check(&s, &a, &policy())
}

#[test]
fn a_timestamped_bundle_verifies_with_the_timestamps_time() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let v = timestamped(None).unwrap();
    assert_eq!(v.log_index, None);
    assert!((before..before + 60).contains(&v.signed_at), "{v:?}");
}

#[test]
fn a_timestamp_about_other_bytes_is_refused() {
    assert_eq!(
        timestamped(Some(Flaw::TimestampImprint))
            .unwrap_err()
            .to_string(),
        "signing time not proven: the RFC 3161 timestamp is about other bytes than the bundle's signature (message imprint mismatch)"
    );
}

#[test]
fn a_timestamp_from_an_authority_outside_the_root_is_refused() {
    assert_eq!(
        timestamped(Some(Flaw::UnknownTsa)).unwrap_err().to_string(),
        "signing time not proven: the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root"
    );
}

#[test]
fn a_timestamp_before_its_authority_was_valid_is_refused() {
    assert_eq!(
        timestamped(Some(Flaw::TimestampOutsideValidity))
            .unwrap_err()
            .to_string(),
        "signing time not proven: the timestamp authority was not valid at the timestamp's genTime"
    );
}

#[test]
fn a_garbage_timestamp_is_refused_as_malformed() {
    let err = timestamped(Some(Flaw::GarbageTimestamp)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("signing time not proven: RFC 3161 timestamp is malformed"),
        "{err}"
    );
}

#[test]
fn a_multibyte_character_in_gen_time_is_refused_not_panicked_on() {
    let err = timestamped(Some(Flaw::MultibyteGenTime)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: RFC 3161 timestamp is malformed: TSTInfo: genTime is not YYYYMMDDHHMMSS[.f]Z"
    );
}

#[test]
fn a_certificate_expired_at_the_timestamps_time_is_refused() {
    let err = timestamped(Some(Flaw::ExpiredCertificate)).unwrap_err();
    assert!(
        matches!(err, AttestError::CertificateExpired { .. }),
        "{err}"
    );
}

#[test]
fn a_timestamp_needs_an_authority_in_the_trusted_root() {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.timestamped = true;
    let mut root = TrustedRoot::parse(&s.trusted_root()).unwrap();
    root.timestamp_authorities.clear();
    let err = verify(s.bundle(&a).as_bytes(), DIGEST, &root, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root"
    );
}

/// The fake's good bundle, edited as JSON, then verified.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Verified, AttestError> {
    let s = FakeSigstore::new();
    let mut json: serde_json::Value = serde_json::from_str(&s.bundle(&attestation())).unwrap();
    edit(&mut json);
    let root = TrustedRoot::parse(&s.trusted_root()).unwrap();
    verify(json.to_string().as_bytes(), DIGEST, &root, &policy())
}

fn entries(json: &mut serde_json::Value) -> &mut Vec<serde_json::Value> {
    json["verificationMaterial"]["tlogEntries"]
        .as_array_mut()
        .unwrap()
}

#[test]
fn a_v03_bundle_with_only_a_signed_entry_timestamp_is_refused() {
    let err = edited(|j| {
        entries(j)[0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionProof");
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: a v0.2 or later bundle's log entry needs an inclusion proof (a signed entry timestamp alone is not enough)"
    );
}

#[test]
fn a_v01_bundle_needs_the_signed_entry_timestamp() {
    let err = edited(|j| {
        j["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.1".into();
        entries(j)[0]
            .as_object_mut()
            .unwrap()
            .remove("inclusionPromise");
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: a v0.1 bundle's log entry needs a signed entry timestamp"
    );
}

#[test]
fn a_v04_bundle_is_refused() {
    let err = edited(|j| {
        j["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.4+json".into();
    })
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("malformed attestation bundle: unsupported media type"),
        "{err}"
    );
}

#[test]
fn a_certificate_chain_in_a_v03_bundle_is_refused() {
    let err = edited(|j| {
        let vm = j["verificationMaterial"].as_object_mut().unwrap();
        let leaf = vm.remove("certificate").unwrap();
        vm.insert(
            "x509CertificateChain".into(),
            serde_json::json!({"certificates": [leaf]}),
        );
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: a v0.3 bundle carries one certificate, not a certificate chain"
    );
}

#[test]
fn a_log_entry_whose_kind_disagrees_with_its_body_is_refused() {
    let err = edited(|j| {
        entries(j)[0]["kindVersion"] = serde_json::json!({"kind": "intoto", "version": "0.0.2"});
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: the log entry says intoto 0.0.2 but its body is dsse 0.0.1 (kind mismatch)"
    );
}

#[test]
fn the_same_log_entry_twice_is_refused() {
    let err = edited(|j| {
        let entry = entries(j)[0].clone();
        entries(j).push(entry);
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: the log entry at index 4242 appears twice (duplicate entry)"
    );
}

#[test]
fn ten_thousand_log_entries_are_refused_before_any_is_verified() {
    let err = edited(|j| {
        let entry = entries(j)[0].clone();
        *entries(j) = vec![entry; 10_000];
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: 10000 transparency-log entries, more than the limit of 32"
    );
}

#[test]
fn ten_thousand_timestamps_are_refused_before_any_is_verified() {
    let err = edited(|j| {
        let stamp = serde_json::json!({"signedTimestamp": "MAA="});
        j["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
            vec![stamp; 10_000].into();
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: 10000 RFC 3161 timestamps, more than the limit of 32"
    );
}

#[test]
fn a_log_body_with_the_right_strings_in_the_wrong_fields_is_refused() {
    assert_eq!(
        flawed(Flaw::StringMatchedBody).to_string(),
        "signing time not proven: the log entry is about another envelope (payload hash)"
    );
}

#[test]
fn a_leaf_that_is_not_a_code_signing_end_entity_is_refused() {
    assert_eq!(
        flawed(Flaw::ServerAuthLeaf).to_string(),
        "the signing certificate is not for code signing (extended key usage)"
    );
    assert_eq!(
        flawed(Flaw::CaLeaf).to_string(),
        "the signing certificate is a CA certificate"
    );
    assert_eq!(
        flawed(Flaw::NoDigitalSignature).to_string(),
        "the signing certificate's key usage lacks digitalSignature"
    );
}

#[test]
fn a_public_good_signature_with_only_a_timestamp_is_refused() {
    let s = FakeSigstore::of("sigstore.dev");
    let mut a = attestation();
    a.timestamped = true;
    let root = TrustedRoot::parse(&s.trusted_root()).unwrap();
    let err = verify(s.bundle(&a).as_bytes(), DIGEST, &root, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: a public-good signature needs a transparency-log entry with a verified inclusion proof"
    );
    a.timestamped = false;
    verify(s.bundle(&a).as_bytes(), DIGEST, &root, &policy()).unwrap();
}

#[test]
fn a_github_instance_signature_without_a_timestamp_is_refused() {
    let s = FakeSigstore::of("GitHub, Inc.");
    let root = TrustedRoot::parse(&s.trusted_root()).unwrap();
    let err = verify(
        s.bundle(&attestation()).as_bytes(),
        DIGEST,
        &root,
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "signing time not proven: a signature from GitHub's instance needs an RFC 3161 timestamp"
    );
    let mut a = attestation();
    a.timestamped = true;
    verify(s.bundle(&a).as_bytes(), DIGEST, &root, &policy()).unwrap();
}

#[test]
fn a_statement_with_more_than_1024_subjects_is_refused() {
    let s = FakeSigstore::new();
    let mut a = attestation();
    a.extra_subjects = 1024;
    let root = TrustedRoot::parse(&s.trusted_root()).unwrap();
    let err = verify(s.bundle(&a).as_bytes(), DIGEST, &root, &policy()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed attestation bundle: 1025 subjects in the statement, more than the limit of 1024"
    );
}

#[test]
fn a_leaf_without_an_sct_is_refused_when_the_root_names_ct_logs() {
    assert_eq!(
        flawed(Flaw::NoSct).to_string(),
        "certificate not trusted: the certificate carries no signed certificate timestamp (SCT) from a CT log of the trusted root"
    );
}

#[test]
fn an_sct_from_a_ct_log_outside_the_root_is_refused() {
    let s = FakeSigstore::new();
    let mut root: serde_json::Value = serde_json::from_str(&s.trusted_root()).unwrap();
    let other: serde_json::Value =
        serde_json::from_str(&FakeSigstore::new().trusted_root()).unwrap();
    root["ctlogs"] = other["ctlogs"].clone();
    let root = TrustedRoot::parse(&root.to_string()).unwrap();
    let err = verify(
        s.bundle(&attestation()).as_bytes(),
        DIGEST,
        &root,
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "certificate not trusted: none of the certificate's 1 SCTs verifies with a CT log of the trusted root"
    );
}
