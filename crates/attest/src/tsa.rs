//! RFC 3161 signed timestamps: GitHub's own Sigstore instance (private repositories) and Rekor v2
//! prove the signing time with a timestamp authority's token instead of a log's signed entry
//! timestamp. A token proves its genTime only if it is about the bundle's signature, is signed
//! over its own TSTInfo, and its signer chains to a `timestampAuthorities` entry of the trusted
//! root valid at that time.

use der::Decode as _;
use der::Encode as _;
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::spki::ObjectIdentifier;

use super::cert;
use super::cms::{self, Token};
use super::crypto::{Hash, PublicKey};
use super::trusted_root::TrustedRoot;

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
/// Key algorithms some TSAs put where the signature algorithm belongs (the hash is then the
/// SignerInfo's digest algorithm).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// Verifies one token (DER) for the bundle signature `signature`; returns its genTime.
pub fn verify(der: &[u8], signature: &[u8], root: &TrustedRoot) -> Result<i64, String> {
    let token = cms::parse(der).map_err(|e| format!("RFC 3161 timestamp is malformed: {e}"))?;
    let imprint = digest(&token.imprint_alg, signature)
        .ok_or_else(|| format!("timestamp hashes with {}, unsupported", token.imprint_alg))?;
    if imprint != token.imprint {
        return Err(
            "the RFC 3161 timestamp is about other bytes than the bundle's signature (message imprint mismatch)"
                .into(),
        );
    }
    check_signed_attributes(&token)?;
    authority(&token, root)?;
    Ok(token.gen_time)
}

fn digest(alg: &ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    Some(match *alg {
        SHA256 => sha2::Sha256::digest(data).to_vec(),
        SHA384 => sha2::Sha384::digest(data).to_vec(),
        SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

/// The signed attributes bind the signature to this TSTInfo (RFC 5652 §5.4).
fn check_signed_attributes(token: &Token<'_>) -> Result<(), String> {
    let signer = &token.signer;
    if signer.content_type != Some(cms::TST_INFO) {
        return Err("the timestamp's signed content-type attribute is not TSTInfo".into());
    }
    let expected = digest(&signer.digest_alg, token.tst_info_der);
    match (expected, signer.message_digest) {
        (Some(want), Some(found)) if want == found => Ok(()),
        (None, _) => Err(format!(
            "timestamp digest algorithm {} unsupported",
            signer.digest_alg
        )),
        _ => Err(
            "the timestamp's message-digest attribute does not match its TSTInfo (tampered token)"
                .into(),
        ),
    }
}

/// Whether `key` made the token's SignerInfo signature over its signed attributes.
fn signs(key: &PublicKey, token: &Token<'_>) -> bool {
    let s = &token.signer;
    let hash = match s.digest_alg {
        SHA256 => Hash::Sha256,
        SHA384 => Hash::Sha384,
        SHA512 => Hash::Sha512,
        _ => return false,
    };
    match s.signature_alg {
        RSA_ENCRYPTION => key.is_rsa() && key.verify_with(hash, &s.signed_attrs, s.signature),
        EC_PUBLIC_KEY => key.is_ec() && key.verify_with(hash, &s.signed_attrs, s.signature),
        alg => key.verify_alg(&alg, &s.signed_attrs, s.signature),
    }
}

fn for_time_stamping(c: &Certificate) -> bool {
    c.tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == EXTENDED_KEY_USAGE)
        .filter_map(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .any(|eku| eku.0.contains(&TIME_STAMPING))
}

/// The token's signer is the first certificate of a `timestampAuthorities` chain (or a
/// certificate the token carries that the chain issued), for time stamping, and the authority,
/// that certificate and its chain were all valid at genTime.
fn authority(token: &Token<'_>, root: &TrustedRoot) -> Result<(), String> {
    let t = token.gen_time;
    let carried: Vec<Certificate> = token
        .certificates
        .iter()
        .filter_map(|d| Certificate::from_der(d).ok())
        .collect();
    let mut why =
        "the RFC 3161 timestamp is not signed by a timestamp authority of the trusted root";
    for tsa in &root.timestamp_authorities {
        let Some(chain) = cert::parse_chain(&tsa.cert_chain) else {
            continue;
        };
        let Some(first) = chain.first() else { continue };
        for signer in std::iter::once(first).chain(&carried) {
            if !cert::public_key(signer).is_ok_and(|k| signs(&k, token)) {
                continue;
            }
            let pinned = signer.to_der().ok() == first.to_der().ok();
            let path = match cert::issuing_path(signer, &chain) {
                Some(path) => path,
                // The authority's own first certificate, its issuer not listed: pinned as is.
                None if pinned && chain.len() == 1 => &[][..],
                None => continue,
            };
            if !for_time_stamping(signer) {
                why = "the timestamp's signing certificate is not for time stamping";
                continue;
            }
            let valid = tsa.valid_for.contains(t)
                && cert::valid_at(signer, t)
                && path.iter().all(|c| cert::valid_at(c, t));
            if valid {
                return Ok(());
            }
            why = "the timestamp authority was not valid at the timestamp's genTime";
        }
    }
    Err(why.into())
}
