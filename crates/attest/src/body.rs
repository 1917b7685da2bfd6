//! What a transparency-log entry logged, parsed by its kind and compared field by field with the
//! envelope being verified: the payload (or PAE) hash, the signature and the certificate. A
//! body that merely *contains* the right strings somewhere proves nothing.
//!
//! The kinds a DSSE bundle is logged as: Rekor v1's `dsse` 0.0.1 and `intoto` 0.0.2, and Rekor
//! v2's `hashedrekord` 0.0.2 over the envelope's PAE (rekor-v2 spec §6.1.4).

use serde::Deserialize;

use super::b64;
use super::bundle::{Envelope, KindVersion};
use super::crypto::sha256;
use util::hex;

/// What the envelope under verification is: the log body must name exactly this.
pub(super) struct Logged<'a> {
    pub envelope: &'a Envelope,
    /// The DSSE pre-authentication encoding (what the signature covers).
    pub pae: &'a [u8],
    pub signature: &'a [u8],
    pub certificate_der: &'a [u8],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    kind: String,
    api_version: String,
}

#[derive(Deserialize)]
struct Hash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
struct DsseBody {
    spec: DsseSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DsseSpec {
    payload_hash: Hash,
    signatures: Vec<DsseSignature>,
}

#[derive(Deserialize)]
struct DsseSignature {
    signature: String,
    verifier: String,
}

#[derive(Deserialize)]
struct IntotoBody {
    spec: IntotoSpec,
}

#[derive(Deserialize)]
struct IntotoSpec {
    content: IntotoContent,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoContent {
    envelope: IntotoEnvelope,
    payload_hash: Hash,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoEnvelope {
    payload_type: String,
    signatures: Vec<IntotoSignature>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntotoSignature {
    /// The envelope's base64 signature, base64-encoded once more.
    sig: String,
    public_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordBody {
    spec: HashedRekordSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordSpec {
    hashed_rekord_v002: HashedRekordV002,
}

#[derive(Deserialize)]
struct HashedRekordV002 {
    data: HashedRekordData,
    signature: HashedRekordSignature,
}

#[derive(Deserialize)]
struct HashedRekordData {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
struct HashedRekordSignature {
    content: String,
    verifier: HashedRekordVerifier,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HashedRekordVerifier {
    x509_certificate: super::bundle::RawBytes,
}

/// The body's kind and version must be the entry's, and its fields this envelope's.
pub(super) fn check(
    body: &[u8],
    kind_version: Option<&KindVersion>,
    env: &Logged<'_>,
) -> Result<(), String> {
    let kv = kind_version.ok_or("the log entry names no kind and version")?;
    let header: Header =
        serde_json::from_slice(body).map_err(|e| format!("the log entry's body: {e}"))?;
    if header.kind != kv.kind || header.api_version != kv.version {
        return Err(format!(
            "the log entry says {} {} but its body is {} {} (kind mismatch)",
            kv.kind, kv.version, header.kind, header.api_version
        ));
    }
    let parsed = |e: serde_json::Error| format!("the log entry's {} body: {e}", kv.kind);
    match (kv.kind.as_str(), kv.version.as_str()) {
        ("dsse", "0.0.1") => dsse(serde_json::from_slice(body).map_err(parsed)?, env),
        ("intoto", "0.0.2") => intoto(serde_json::from_slice(body).map_err(parsed)?, env),
        ("hashedrekord", "0.0.2") => {
            hashed_rekord(serde_json::from_slice(body).map_err(parsed)?, env)
        }
        (kind, version) => Err(format!(
            "a log entry of kind {kind} {version} does not log a DSSE envelope"
        )),
    }
}

const ABOUT_ANOTHER: &str = "the log entry is about another envelope";

fn sha256_hex_is(hash: &Hash, data: &[u8]) -> Result<(), String> {
    if hash.algorithm != "sha256" {
        return Err(format!("the log entry hashes with {}", hash.algorithm));
    }
    if !hash.value.eq_ignore_ascii_case(&hex(&sha256(data))) {
        return Err(format!("{ABOUT_ANOTHER} (payload hash)"));
    }
    Ok(())
}

fn dsse(body: DsseBody, env: &Logged<'_>) -> Result<(), String> {
    sha256_hex_is(&body.spec.payload_hash, &env.envelope.payload)?;
    let [logged] = body.spec.signatures.as_slice() else {
        return Err(format!(
            "the log entry holds {} signatures, the envelope one",
            body.spec.signatures.len()
        ));
    };
    same_signature(b64::decode(&logged.signature).ok(), env)?;
    same_certificate(pem_or_der(&logged.verifier), env)
}

fn intoto(body: IntotoBody, env: &Logged<'_>) -> Result<(), String> {
    let content = body.spec.content;
    sha256_hex_is(&content.payload_hash, &env.envelope.payload)?;
    if content.envelope.payload_type != env.envelope.payload_type {
        return Err(format!("{ABOUT_ANOTHER} (payload type)"));
    }
    let [logged] = content.envelope.signatures.as_slice() else {
        return Err(format!(
            "the log entry holds {} signatures, the envelope one",
            content.envelope.signatures.len()
        ));
    };
    let sig = b64::decode(&logged.sig)
        .ok()
        .and_then(|inner| b64::decode(std::str::from_utf8(&inner).ok()?).ok());
    same_signature(sig, env)?;
    same_certificate(pem_or_der(&logged.public_key), env)
}

fn hashed_rekord(body: HashedRekordBody, env: &Logged<'_>) -> Result<(), String> {
    let v2 = body.spec.hashed_rekord_v002;
    if v2.data.algorithm != "SHA2_256" {
        return Err(format!("the log entry hashes with {}", v2.data.algorithm));
    }
    if b64::decode(&v2.data.digest).ok().as_deref() != Some(&sha256(env.pae)[..]) {
        return Err(format!("{ABOUT_ANOTHER} (PAE digest)"));
    }
    same_signature(b64::decode(&v2.signature.content).ok(), env)?;
    same_certificate(Some(v2.signature.verifier.x509_certificate.raw_bytes), env)
}

fn same_signature(logged: Option<Vec<u8>>, env: &Logged<'_>) -> Result<(), String> {
    if logged.as_deref() == Some(env.signature) {
        Ok(())
    } else {
        Err(format!("{ABOUT_ANOTHER} (signature)"))
    }
}

fn same_certificate(logged: Option<Vec<u8>>, env: &Logged<'_>) -> Result<(), String> {
    if logged.as_deref() == Some(env.certificate_der) {
        Ok(())
    } else {
        Err(format!("{ABOUT_ANOTHER} (certificate)"))
    }
}

/// Rekor v1 logs the verifier as base64 of a PEM certificate.
fn pem_or_der(b64_text: &str) -> Option<Vec<u8>> {
    let bytes = b64::decode(b64_text).ok()?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Some(bytes);
    };
    let inner = text
        .trim()
        .strip_prefix("-----BEGIN CERTIFICATE-----")?
        .strip_suffix("-----END CERTIFICATE-----")?;
    let joined: String = inner.split_whitespace().collect();
    b64::decode(&joined).ok()
}
