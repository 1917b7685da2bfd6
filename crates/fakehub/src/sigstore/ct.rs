//! A fake Certificate Transparency log: the embedded SCT list (RFC 6962 §3.3) a Fulcio leaf
//! carries, signed over the precertificate (the leaf's TBS without this extension).

use rcgen::{KeyPair, SigningKey};

use super::tsa::tlv;

/// The OID of the embedded SCT list extension.
pub const SCT_LIST_OID: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// The TBSCertificate inside a certificate's DER (its first element).
pub fn tbs_of(cert_der: &[u8]) -> Vec<u8> {
    let (_, inner) = header(cert_der);
    let (len, body) = header(inner);
    inner[..inner.len() - body.len() + len].to_vec()
}

/// Skips a DER header; returns the content length and what follows the header.
fn header(der: &[u8]) -> (usize, &[u8]) {
    let first = der[1];
    if first < 0x80 {
        return (first as usize, &der[2..]);
    }
    let k = (first & 0x7f) as usize;
    let len = der[2..2 + k]
        .iter()
        .fold(0usize, |n, &b| (n << 8) | b as usize);
    (len, &der[2 + k..])
}

/// The extension's value: an OCTET STRING around a one-SCT list signed by `key`.
pub fn sct_extension(
    key: &KeyPair,
    log_id: &[u8; 32],
    issuer_key_hash: &[u8; 32],
    precert_tbs: &[u8],
    timestamp_ms: u64,
) -> Vec<u8> {
    let mut signed = vec![0u8, 0u8];
    signed.extend_from_slice(&timestamp_ms.to_be_bytes());
    signed.extend_from_slice(&[0, 1]);
    signed.extend_from_slice(issuer_key_hash);
    signed.extend_from_slice(&(precert_tbs.len() as u32).to_be_bytes()[1..]);
    signed.extend_from_slice(precert_tbs);
    signed.extend_from_slice(&[0, 0]); // no extensions
    let sig = key.sign(&signed).expect("sign SCT");
    let mut sct = vec![0u8];
    sct.extend_from_slice(log_id);
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&[0, 0]);
    sct.extend_from_slice(&[4, 3]); // SHA-256, ECDSA
    sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
    sct.extend_from_slice(&sig);
    let mut item = (sct.len() as u16).to_be_bytes().to_vec();
    item.extend_from_slice(&sct);
    let mut list = (item.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&item);
    tlv(0x04, &list)
}
