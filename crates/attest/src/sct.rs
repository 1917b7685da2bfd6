//! Signed certificate timestamps (RFC 6962 §3): a Fulcio leaf carries a CT log's promise that
//! its precertificate was logged. When the trusted root names CT logs (public-good does), a leaf
//! needs at least one SCT that one of them signed, as `gh attestation verify` requires.
//!
//! The SCT signs the precertificate: the leaf's TBSCertificate without the SCT-list extension,
//! with the issuing CA's key hash. That TBS is re-encoded here from the parsed fields.

use der::Encode as _;
use x509_cert::Certificate;
use x509_cert::spki::ObjectIdentifier;

use super::crypto::{PublicKey, sha256};
use super::trusted_root::TrustedRoot;

const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// One SCT of the list, as far as verification reads it.
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

/// Ok when the root names no CT log, or when one SCT of `leaf` (issued by `issuer`) verifies
/// with a CT log of the root valid at its time.
pub(super) fn check(
    leaf: &Certificate,
    issuer: &Certificate,
    root: &TrustedRoot,
) -> Result<(), String> {
    if root.ctlogs.is_empty() {
        return Ok(());
    }
    let no_sct = "the certificate carries no signed certificate timestamp (SCT) from a CT log of the trusted root";
    let Some(list) = sct_list(leaf) else {
        return Err(no_sct.into());
    };
    let scts = parse_list(list).ok_or("the certificate's SCT list is malformed")?;
    let tbs = precert_tbs(leaf).ok_or("the certificate's TBS cannot be re-encoded")?;
    let issuer_key_hash = issuer
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map(|spki| sha256(&spki))
        .map_err(|e| format!("the issuer's key: {e}"))?;
    for sct in &scts {
        let Some(log) = root.ctlogs.iter().find(|l| l.log_id.key_id == sct.log_id) else {
            continue;
        };
        let Ok(key) = PublicKey::from_spki_der(&log.public_key.raw_bytes) else {
            continue;
        };
        let secs = i64::try_from(sct.timestamp_ms / 1000).unwrap_or(i64::MAX);
        let signed = signed_data(sct, &issuer_key_hash, &tbs);
        if log.public_key.valid_for.contains(secs) && key.verify(&signed, sct.signature) {
            return Ok(());
        }
    }
    Err(format!(
        "none of the certificate's {} SCTs verifies with a CT log of the trusted root",
        scts.len()
    ))
}

/// The extension's value: an OCTET STRING around the TLS-encoded list.
fn sct_list(leaf: &Certificate) -> Option<&[u8]> {
    let ext = leaf
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == SCT_LIST)?;
    let inner = ext.extn_value.as_bytes();
    let (&tag, rest) = inner.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (len, rest) = der_length(rest)?;
    (rest.len() == len).then_some(rest)
}

fn der_length(input: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = input.split_first()?;
    match first {
        n if n < 0x80 => Some((n as usize, rest)),
        0x81 => Some((*rest.first()? as usize, rest.get(1..)?)),
        0x82 => Some((
            u16::from_be_bytes([*rest.first()?, *rest.get(1)?]) as usize,
            rest.get(2..)?,
        )),
        _ => None,
    }
}

/// A TLS vector with a big-endian length prefix of `width` bytes.
fn vector(input: &[u8], width: usize) -> Option<(&[u8], &[u8])> {
    let len = input
        .get(..width)?
        .iter()
        .fold(0usize, |n, &b| (n << 8) | b as usize);
    let rest = &input[width..];
    Some((rest.get(..len)?, &rest[len..]))
}

fn parse_list(list: &[u8]) -> Option<Vec<Sct<'_>>> {
    let (mut items, trailing) = vector(list, 2)?;
    if !trailing.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    while !items.is_empty() {
        let (item, rest) = vector(items, 2)?;
        items = rest;
        out.push(parse_sct(item)?);
    }
    Some(out)
}

/// version(1) = v1, log id(32), timestamp(8), extensions<0..2^16-1>, then a DigitallySigned:
/// hash(1), signature algorithm(1), signature<0..2^16-1>.
fn parse_sct(item: &[u8]) -> Option<Sct<'_>> {
    let (&version, rest) = item.split_first()?;
    if version != 0 {
        return None;
    }
    let log_id = rest.get(..32)?;
    let timestamp_ms = u64::from_be_bytes(rest.get(32..40)?.try_into().ok()?);
    let (extensions, rest) = vector(rest.get(40..)?, 2)?;
    let (signature, trailing) = vector(rest.get(2..)?, 2)?;
    trailing.is_empty().then_some(Sct {
        log_id,
        timestamp_ms,
        extensions,
        signature,
    })
}

/// RFC 6962 §3.2 digitally-signed struct for a precert entry.
fn signed_data(sct: &Sct<'_>, issuer_key_hash: &[u8; 32], tbs: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8, 0u8]; // version v1, signature type certificate_timestamp
    out.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
    out.extend_from_slice(&[0, 1]); // entry type precert_entry
    out.extend_from_slice(issuer_key_hash);
    out.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(tbs);
    out.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
    out.extend_from_slice(sct.extensions);
    out
}

/// The leaf's TBSCertificate DER without the SCT-list extension.
fn precert_tbs(leaf: &Certificate) -> Option<Vec<u8>> {
    let tbs = leaf.tbs_certificate();
    if tbs.issuer_unique_id().is_some() || tbs.subject_unique_id().is_some() {
        return None;
    }
    let mut extensions = Vec::new();
    for ext in tbs.extensions()?.iter().filter(|e| e.extn_id != SCT_LIST) {
        extensions.extend(ext.to_der().ok()?);
    }
    let parts = [
        tlv(0xa0, &tbs.version().to_der().ok()?),
        tbs.serial_number().to_der().ok()?,
        tbs.signature().to_der().ok()?,
        tbs.issuer().to_der().ok()?,
        tbs.validity().to_der().ok()?,
        tbs.subject().to_der().ok()?,
        tbs.subject_public_key_info().to_der().ok()?,
        tlv(0xa3, &tlv(0x30, &extensions)),
    ];
    Some(tlv(0x30, &parts.concat()))
}

/// One DER element with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend([0x81, n as u8]),
        0x100..=0xffff => out.extend([0x82, (n >> 8) as u8, n as u8]),
        _ => out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_trailing_lists_are_refused() {
        assert!(parse_list(&[]).is_none());
        assert!(parse_list(&[0, 4, 0, 2, 0]).is_none());
        assert!(parse_list(&[0, 0, 1]).is_none());
        assert_eq!(parse_list(&[0, 0]).map(|l| l.len()), Some(0));
    }
}
