//! The Fulcio certificate: its chain to a CA of the trusted root, its validity, and the identity
//! GitHub Actions put into it (Fulcio's extensions under 1.3.6.1.4.1.57264.1).

use der::{Decode as _, Encode as _};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::ObjectIdentifier;

use super::crypto::PublicKey;
use super::trusted_root::{CertificateAuthority, TrustedRoot};

const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

/// Fulcio's OIDs (<https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md>). The first four
/// hold raw UTF-8, the later ones a DER UTF8String.
mod oid {
    use super::ObjectIdentifier;
    pub(super) const ISSUER_V1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
    pub(super) const WORKFLOW_SHA_V1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.3");
    pub(super) const REPOSITORY_V1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.5");
    pub(super) const REF_V1: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.6");
    pub(super) const ISSUER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
    pub(super) const BUILD_SIGNER_URI: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.9");
    pub(super) const RUNNER_ENVIRONMENT: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.11");
    pub(super) const SOURCE_REPOSITORY_URI: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.12");
    pub(super) const SOURCE_REPOSITORY_DIGEST: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.13");
    pub(super) const SOURCE_REPOSITORY_REF: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.14");
    pub(super) const RUN_INVOCATION_URI: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.21");
}

/// What the certificate says about who signed: each field as the certificate spells it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub issuer: Option<String>,
    /// Build Signer URI, else the SAN URI: `https://github.com/o/r/.github/workflows/f.yml@ref`.
    pub signer_uri: Option<String>,
    /// `https://github.com/owner/repo`, else `owner/repo` (the older extension).
    pub repository: Option<String>,
    pub source_ref: Option<String>,
    pub commit: Option<String>,
    /// Run Invocation URI: `https://github.com/owner/repo/actions/runs/ID/attempts/N`.
    pub run_url: Option<String>,
    /// Runner Environment: `github-hosted` or `self-hosted`.
    pub runner: Option<String>,
}

pub(super) struct Leaf {
    pub cert: Certificate,
    pub key: PublicKey,
    pub not_before: i64,
    pub not_after: i64,
}

pub(super) fn parse_leaf(der: &[u8]) -> Result<Leaf, String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("signing certificate: {e}"))?;
    let tbs = cert.tbs_certificate();
    let spki = der_spki(tbs)?;
    let key = PublicKey::from_spki_der(&spki)?;
    let validity = tbs.validity();
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    Ok(Leaf {
        not_before: secs(validity.not_before),
        not_after: secs(validity.not_after),
        cert,
        key,
    })
}

fn der_spki(tbs: &x509_cert::TbsCertificate) -> Result<Vec<u8>, String> {
    tbs.subject_public_key_info()
        .to_der()
        .map_err(|e| format!("public key: {e}"))
}

/// A trusted root's certificate chain, parsed; `None` if any certificate is not DER X.509 (such
/// an authority is skipped, never half-trusted).
pub(super) fn parse_chain(chain: &super::bundle::CertChain) -> Option<Vec<Certificate>> {
    chain
        .certificates
        .iter()
        .map(|c| Certificate::from_der(&c.raw_bytes).ok())
        .collect()
}

/// The CA of the trusted root whose chain issued `leaf`, checked at signing time `t`: path
/// validation by rustls-webpki (signatures, validity of each certificate at `t`, CA basic
/// constraints, name constraints, extended key usage codeSigning where present), with
/// the chain's last certificate as the anchor, which must itself be valid then, as must the CA's
/// `validFor` in the trusted root.
pub(super) fn chain_to_ca<'r>(
    leaf_der: &[u8],
    root: &'r TrustedRoot,
    t: i64,
) -> Result<&'r CertificateAuthority, String> {
    let mut outside_validity = None;
    let mut refused = None;
    for ca in &root.certificate_authorities {
        match webpki_path(leaf_der, &ca.cert_chain, t) {
            Ok(()) if ca.valid_for.contains(t) => return Ok(ca),
            Ok(()) => outside_validity = Some(ca.uri.clone()),
            Err(PathError::NotIssued) => {}
            Err(PathError::Refused(why)) => refused = Some(why),
        }
    }
    Err(match (outside_validity, refused) {
        (Some(uri), _) => {
            format!("certificate not trusted: its CA ({uri}) was not valid at the signing time")
        }
        (None, Some(why)) => format!("certificate not trusted: path validation failed: {why}"),
        (None, None) => {
            "certificate not trusted: it does not chain to a Fulcio CA of the trusted root".into()
        }
    })
}

enum PathError {
    /// No certificate of this chain issued the leaf (another CA's).
    NotIssued,
    /// This chain issued it, but the path is not valid.
    Refused(String),
}

/// Code signing, 1.3.6.1.5.5.7.3.3, as the OID's value bytes.
const EKU_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

fn webpki_path(leaf_der: &[u8], chain: &super::bundle::CertChain, t: i64) -> Result<(), PathError> {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let ders: Vec<CertificateDer<'_>> = chain
        .certificates
        .iter()
        .map(|c| CertificateDer::from(c.raw_bytes.as_slice()))
        .collect();
    let Some((anchor_der, intermediates)) = ders.split_last() else {
        return Err(PathError::NotIssued);
    };
    let leaf_der = CertificateDer::from(leaf_der);
    let refused = |e: webpki::Error| PathError::Refused(format!("{e:?}"));
    let leaf = webpki::EndEntityCert::try_from(&leaf_der).map_err(refused)?;
    let anchors = [webpki::anchor_from_trusted_cert(anchor_der).map_err(refused)?];
    let anchor_cert = Certificate::from_der(anchor_der).map_err(|_| PathError::NotIssued)?;
    let secs = u64::try_from(t).map_err(|_| PathError::Refused("a time before 1970".into()))?;
    let verified = leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        intermediates,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
        // If present: a CA without the extension may issue (the leaf's own is required by usage.rs).
        webpki::KeyUsage::required_if_present(EKU_CODE_SIGNING),
        None,
        None,
    );
    match verified {
        Ok(_) if valid_at(&anchor_cert, t) => Ok(()),
        Ok(_) => Err(PathError::Refused(
            "the root certificate was not valid then".into(),
        )),
        // No certificate of this chain, or one of its name but another key: not this CA's.
        Err(webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey) => {
            Err(PathError::NotIssued)
        }
        Err(e) => Err(refused(e)),
    }
}

/// `cert`'s validity period contains `t` (Unix seconds).
pub(super) fn valid_at(cert: &Certificate, t: i64) -> bool {
    let v = cert.tbs_certificate().validity();
    let secs = |t: x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    secs(v.not_before) <= t && t <= secs(v.not_after)
}

/// The key `cert` certifies.
pub(super) fn public_key(cert: &Certificate) -> Result<PublicKey, String> {
    der_spki(cert.tbs_certificate()).and_then(|d| PublicKey::from_spki_der(&d))
}

/// The tail of `chain` (issuing certificate first, anchor last) that issued `leaf`: it starts at
/// the certificate named as `leaf`'s issuer, since a chain may list a lower intermediate that
/// `leaf` skips (GitHub's release attestations are issued by the intermediate above the one its
/// Actions certificates come from). Each certificate of the tail must have signed the one before.
pub(super) fn issuing_path<'c>(
    leaf: &Certificate,
    chain: &'c [Certificate],
) -> Option<&'c [Certificate]> {
    let issuer = leaf.tbs_certificate().issuer();
    let start = chain
        .iter()
        .position(|c| c.tbs_certificate().subject() == issuer)?;
    let path = &chain[start..];
    signed_in_turn(leaf, path).then_some(path)
}

fn signed_in_turn(leaf: &Certificate, chain: &[Certificate]) -> bool {
    let mut child = leaf;
    for issuer in chain {
        if child.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
            return false;
        }
        let Ok(key) = public_key(issuer) else {
            return false;
        };
        let Ok(tbs) = child.tbs_certificate().to_der() else {
            return false;
        };
        let Some(sig) = child.signature().as_bytes() else {
            return false;
        };
        if !key.verify_alg(&child.signature_algorithm().oid, &tbs, sig) {
            return false;
        }
        child = issuer;
    }
    !chain.is_empty()
}

pub(super) fn identity(cert: &Certificate) -> Identity {
    let mut id = Identity::default();
    let (mut repo_v1, mut ref_v1, mut issuer_v1, mut sha_v1, mut san) =
        (None, None, None, None, None);
    for ext in cert.tbs_certificate().extensions().into_iter().flatten() {
        let raw = ext.extn_value.as_bytes();
        let text = || utf8_string(raw);
        let raw_text = || String::from_utf8(raw.to_vec()).ok();
        match ext.extn_id {
            oid::ISSUER => id.issuer = text(),
            oid::BUILD_SIGNER_URI => id.signer_uri = text(),
            oid::SOURCE_REPOSITORY_URI => id.repository = text(),
            oid::SOURCE_REPOSITORY_REF => id.source_ref = text(),
            oid::SOURCE_REPOSITORY_DIGEST => id.commit = text(),
            oid::RUN_INVOCATION_URI => id.run_url = text(),
            oid::RUNNER_ENVIRONMENT => id.runner = text(),
            oid::ISSUER_V1 => issuer_v1 = raw_text(),
            oid::REPOSITORY_V1 => repo_v1 = raw_text(),
            oid::REF_V1 => ref_v1 = raw_text(),
            oid::WORKFLOW_SHA_V1 => sha_v1 = raw_text(),
            SAN => {
                san = SubjectAltName::from_der(raw).ok().and_then(|names| {
                    names.0.into_iter().find_map(|n| match n {
                        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                        _ => None,
                    })
                })
            }
            _ => {}
        }
    }
    id.issuer = id.issuer.or(issuer_v1);
    id.signer_uri = id.signer_uri.or(san);
    id.repository = id.repository.or(repo_v1);
    id.source_ref = id.source_ref.or(ref_v1);
    id.commit = id.commit.or(sha_v1);
    id
}

fn utf8_string(der: &[u8]) -> Option<String> {
    der::asn1::Utf8StringRef::from_der(der)
        .ok()
        .map(|s| s.as_str().to_string())
        .or_else(|| String::from_utf8(der.to_vec()).ok())
}
