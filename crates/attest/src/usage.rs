//! What the signing certificate may be used for, and which Sigstore instance issued it.
//!
//! A Fulcio leaf is a code-signing end-entity certificate: a chain that verifies proves only
//! who issued it, so a TLS server certificate or a CA certificate from the same CA must not
//! pass as a signer.

use der::Decode as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::spki::ObjectIdentifier;

const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");

/// Key usage digitalSignature, extended key usage codeSigning, and not a CA.
pub(super) fn check_leaf(cert: &Certificate) -> Result<(), String> {
    let ext = |oid| {
        cert.tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id == oid)
            .map(|e| e.extn_value.as_bytes())
    };
    let ku = ext(KEY_USAGE).and_then(|v| KeyUsage::from_der(v).ok());
    if !ku.is_some_and(|ku| ku.0.contains(KeyUsages::DigitalSignature)) {
        return Err("the signing certificate's key usage lacks digitalSignature".into());
    }
    let eku = ext(EXTENDED_KEY_USAGE).and_then(|v| ExtendedKeyUsage::from_der(v).ok());
    if !eku.is_some_and(|eku| eku.0.contains(&CODE_SIGNING)) {
        return Err("the signing certificate is not for code signing (extended key usage)".into());
    }
    match ext(BASIC_CONSTRAINTS).map(BasicConstraints::from_der) {
        Some(Ok(bc)) if bc.ca => Err("the signing certificate is a CA certificate".into()),
        Some(Err(_)) => Err("the signing certificate's basic constraints are malformed".into()),
        _ => Ok(()),
    }
}

/// Which instance's rules apply, by the organization that issued the leaf (as `gh attestation
/// verify` tells them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Instance {
    /// Sigstore's public-good (or staging) Fulcio: `O=sigstore.dev`.
    PublicGood,
    /// GitHub's own Fulcio (private repositories): `O=GitHub, Inc.`.
    GitHub,
    /// Any other CA of a custom trusted root.
    Other,
}

pub(super) fn instance(leaf: &Certificate) -> Instance {
    let org = leaf
        .tbs_certificate()
        .issuer()
        .organization()
        .ok()
        .flatten()
        .map(String::from);
    match org.as_deref() {
        Some("sigstore.dev") => Instance::PublicGood,
        Some("GitHub, Inc.") => Instance::GitHub,
        _ => Instance::Other,
    }
}
