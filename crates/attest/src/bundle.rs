//! The Sigstore bundle JSON (media types v0.1 to v0.3), as far as verification reads it.
//!
//! Protobuf JSON spells 64-bit integers as strings and bytes as base64; both are decoded here so
//! the checks work on plain values.

use serde::Deserialize;

use super::b64;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: VerificationMaterial,
    pub dsse_envelope: Option<Envelope>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    pub certificate: Option<RawBytes>,
    pub x509_certificate_chain: Option<CertChain>,
    #[serde(default)]
    pub tlog_entries: Vec<TlogEntry>,
    pub timestamp_verification_data: Option<TimestampData>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    #[serde(with = "b64::bytes")]
    pub raw_bytes: Vec<u8>,
}

#[derive(Debug, Deserialize)]
pub struct CertChain {
    pub certificates: Vec<RawBytes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlogEntry {
    #[serde(with = "b64::int")]
    pub log_index: i64,
    pub log_id: LogId,
    pub kind_version: Option<KindVersion>,
    #[serde(default, with = "b64::int")]
    pub integrated_time: i64,
    pub inclusion_promise: Option<InclusionPromise>,
    pub inclusion_proof: Option<InclusionProof>,
    #[serde(with = "b64::bytes")]
    pub canonicalized_body: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    #[serde(with = "b64::bytes")]
    pub key_id: Vec<u8>,
}

#[derive(Debug, Deserialize)]
pub struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionPromise {
    #[serde(with = "b64::bytes")]
    pub signed_entry_timestamp: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    #[serde(with = "b64::int")]
    pub log_index: i64,
    #[serde(with = "b64::bytes")]
    pub root_hash: Vec<u8>,
    #[serde(with = "b64::int")]
    pub tree_size: i64,
    #[serde(with = "b64::list")]
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Deserialize)]
pub struct Checkpoint {
    pub envelope: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimestampData {
    #[serde(default)]
    pub rfc3161_timestamps: Vec<Rfc3161>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rfc3161 {
    #[serde(with = "b64::bytes")]
    pub signed_timestamp: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(with = "b64::bytes")]
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Deserialize)]
pub struct Signature {
    #[serde(with = "b64::bytes")]
    pub sig: Vec<u8>,
}

impl Bundle {
    pub fn parse(json: &[u8]) -> Result<Bundle, serde_json::Error> {
        serde_json::from_slice(json)
    }

    /// The signing certificate: v0.3 carries the leaf alone, older versions a chain leaf first.
    pub fn leaf_certificate(&self) -> Option<&[u8]> {
        let vm = &self.verification_material;
        if let Some(cert) = &vm.certificate {
            return Some(&cert.raw_bytes);
        }
        vm.x509_certificate_chain
            .as_ref()
            .and_then(|c| c.certificates.first())
            .map(|c| c.raw_bytes.as_slice())
    }
}
