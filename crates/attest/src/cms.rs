//! The RFC 3161 TimeStampToken (a CMS SignedData over a TSTInfo), parsed as far as verification
//! reads it. Sigstore bundles carry either the token or the whole TimeStampResp around it.
//!
//! A small walker over `der`'s reader rather than the `cms` crate: verification reads eight fields
//! and needs the exact bytes of two of them (the signed attributes and the TSTInfo), which a
//! typed decoder would re-encode; `der` reads each element's header strictly and keeps its bytes.

use der::{Decode as _, Header, Reader as _, SliceReader};
use x509_cert::spki::ObjectIdentifier;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` constructed, as CMS tags eContent, certificates and signedAttrs.
const CONTEXT_0: u8 = 0xa0;

pub const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// One parsed token: what the TSA signed and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'a> {
    /// The TSTInfo's DER (the eContent octets): what the message-digest attribute hashes.
    pub tst_info_der: &'a [u8],
    pub imprint_alg: ObjectIdentifier,
    pub imprint: &'a [u8],
    /// genTime, Unix seconds (fractions dropped).
    pub gen_time: i64,
    /// DER certificates the token carries (often none: the trusted root names the TSA).
    pub certificates: Vec<&'a [u8]>,
    pub signer: Signer<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer<'a> {
    pub digest_alg: ObjectIdentifier,
    /// The signed attributes re-tagged as the SET OF that the signature covers (RFC 5652 §5.4).
    pub signed_attrs: Vec<u8>,
    pub content_type: Option<ObjectIdentifier>,
    pub message_digest: Option<&'a [u8]>,
    pub signature_alg: ObjectIdentifier,
    pub signature: &'a [u8],
}

/// A DER element: its tag, its content, and the whole encoding.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    raw: &'a [u8],
}

/// Reads one element off the front of `input` through `der`'s reader, which keeps the exact bytes
/// and refuses what DER forbids (indefinite or non-minimal lengths, truncation).
fn next(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), String> {
    let fail = |e: der::Error| format!("DER: {e}");
    let (&tag, _) = input.split_first().ok_or("truncated DER")?;
    if tag & 0x1f == 0x1f {
        return Err("multi-byte DER tags are not used here".into());
    }
    let raw = SliceReader::new(input)
        .and_then(|mut r| r.tlv_bytes())
        .map_err(fail)?;
    let mut reader = SliceReader::new(raw).map_err(fail)?;
    let header = Header::decode(&mut reader).map_err(fail)?;
    let content = reader.read_slice(header.length()).map_err(fail)?;
    Ok((Tlv { tag, content, raw }, &input[raw.len()..]))
}

/// Reads an element that must carry `tag`, naming `what` otherwise.
fn expect<'a>(input: &'a [u8], tag: u8, what: &str) -> Result<(Tlv<'a>, &'a [u8]), String> {
    let (tlv, rest) = next(input).map_err(|e| format!("{what}: {e}"))?;
    if tlv.tag != tag {
        return Err(format!(
            "{what}: expected tag {tag:#04x}, found {:#04x}",
            tlv.tag
        ));
    }
    Ok((tlv, rest))
}

/// The elements of a SEQUENCE's or SET's content, in order.
fn children(mut content: &[u8]) -> Result<Vec<Tlv<'_>>, String> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tlv, rest) = next(content)?;
        out.push(tlv);
        content = rest;
    }
    Ok(out)
}

fn oid(tlv: &Tlv<'_>, what: &str) -> Result<ObjectIdentifier, String> {
    if tlv.tag != OID {
        return Err(format!("{what}: not an object identifier"));
    }
    ObjectIdentifier::from_bytes(tlv.content).map_err(|e| format!("{what}: {e}"))
}

/// An AlgorithmIdentifier's OID (parameters ignored: the hashes and signatures used here take none
/// or NULL).
fn algorithm(tlv: &Tlv<'_>, what: &str) -> Result<ObjectIdentifier, String> {
    if tlv.tag != SEQUENCE {
        return Err(format!("{what}: not an AlgorithmIdentifier"));
    }
    let (first, _) = next(tlv.content).map_err(|e| format!("{what}: {e}"))?;
    oid(&first, what)
}

/// A TimeStampResp (status granted) or a bare TimeStampToken.
pub fn parse(der: &[u8]) -> Result<Token<'_>, String> {
    let (outer, trailing) = expect(der, SEQUENCE, "timestamp")?;
    if !trailing.is_empty() {
        return Err("timestamp: trailing bytes after the DER".into());
    }
    let parts = children(outer.content).map_err(|e| format!("timestamp: {e}"))?;
    let content_info = match parts.as_slice() {
        [status, token, ..] if status.tag == SEQUENCE => {
            check_status(status)?;
            *token
        }
        [status] if status.tag == SEQUENCE => {
            return Err("timestamp: the response carries no token".into());
        }
        _ => outer,
    };
    parse_content_info(&content_info)
}

/// PKIStatusInfo: granted (0) or grantedWithMods (1).
fn check_status(status: &Tlv<'_>) -> Result<(), String> {
    let (value, _) = expect(status.content, INTEGER, "timestamp status")?;
    match value.content {
        [0] | [1] => Ok(()),
        other => Err(format!(
            "timestamp: the authority refused the request (status {other:02x?})"
        )),
    }
}

fn parse_content_info<'a>(ci: &Tlv<'a>) -> Result<Token<'a>, String> {
    if ci.tag != SEQUENCE {
        return Err("timestamp token: not a ContentInfo".into());
    }
    let (kind, rest) = next(ci.content)?;
    if oid(&kind, "timestamp token content type")? != SIGNED_DATA {
        return Err("timestamp token: not CMS SignedData".into());
    }
    let (explicit, _) = expect(rest, CONTEXT_0, "timestamp token content")?;
    let (signed_data, _) = expect(explicit.content, SEQUENCE, "SignedData")?;
    parse_signed_data(signed_data.content)
}

fn parse_signed_data(content: &[u8]) -> Result<Token<'_>, String> {
    let (_version, rest) = expect(content, INTEGER, "SignedData version")?;
    let (_digest_algs, rest) = expect(rest, SET, "SignedData digestAlgorithms")?;
    let (encap, mut rest) = expect(rest, SEQUENCE, "SignedData encapContentInfo")?;
    let tst_info_der = encapsulated_tst_info(encap.content)?;
    let mut certificates = Vec::new();
    let mut signer_infos = None;
    while !rest.is_empty() {
        let (tlv, after) = next(rest)?;
        match tlv.tag {
            CONTEXT_0 => certificates = children(tlv.content)?.iter().map(|c| c.raw).collect(),
            SET => signer_infos = Some(tlv),
            _ => {} // crls [1]
        }
        rest = after;
    }
    let infos = children(signer_infos.ok_or("SignedData: no signerInfos")?.content)?;
    let [info] = infos.as_slice() else {
        return Err(format!("SignedData: {} signers, expected one", infos.len()));
    };
    let signer = parse_signer_info(info)?;
    let (imprint_alg, imprint, gen_time) = parse_tst_info(tst_info_der)?;
    Ok(Token {
        tst_info_der,
        imprint_alg,
        imprint,
        gen_time,
        certificates,
        signer,
    })
}

/// EncapsulatedContentInfo: must be a TSTInfo; returns its DER.
fn encapsulated_tst_info(content: &[u8]) -> Result<&[u8], String> {
    let (kind, rest) = next(content)?;
    if oid(&kind, "eContentType")? != TST_INFO {
        return Err("timestamp token: the signed content is not a TSTInfo".into());
    }
    let (explicit, _) = expect(rest, CONTEXT_0, "eContent")?;
    let (octets, _) = expect(explicit.content, OCTET_STRING, "eContent")?;
    Ok(octets.content)
}

fn parse_signer_info<'a>(info: &Tlv<'a>) -> Result<Signer<'a>, String> {
    if info.tag != SEQUENCE {
        return Err("SignerInfo: not a SEQUENCE".into());
    }
    let fields = children(info.content)?;
    // version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature, [1]?
    let [_version, _sid, digest, attrs, sig_alg, signature, ..] = fields.as_slice() else {
        return Err("SignerInfo: missing fields (signed attributes are required)".into());
    };
    if attrs.tag != CONTEXT_0 {
        return Err("SignerInfo: no signed attributes".into());
    }
    if signature.tag != OCTET_STRING {
        return Err("SignerInfo: signature is not an OCTET STRING".into());
    }
    let mut signed_attrs = attrs.raw.to_vec();
    signed_attrs[0] = SET;
    let (content_type, message_digest) = signed_attributes(attrs.content)?;
    Ok(Signer {
        digest_alg: algorithm(digest, "SignerInfo digestAlgorithm")?,
        signed_attrs,
        content_type,
        message_digest,
        signature_alg: algorithm(sig_alg, "SignerInfo signatureAlgorithm")?,
        signature: signature.content,
    })
}

type Attributes<'a> = (Option<ObjectIdentifier>, Option<&'a [u8]>);

/// The content-type and message-digest attributes; a repeated one is refused (RFC 5652 §11).
fn signed_attributes(content: &[u8]) -> Result<Attributes<'_>, String> {
    let (mut content_type, mut digest) = (None, None);
    for attr in children(content)? {
        let (kind, rest) = next(attr.content)?;
        let (values, _) = expect(rest, SET, "attribute values")?;
        let values = children(values.content)?;
        let [value] = values.as_slice() else {
            continue;
        };
        match oid(&kind, "attribute type")? {
            CONTENT_TYPE if content_type.is_none() => {
                content_type = Some(oid(value, "content-type attribute")?)
            }
            MESSAGE_DIGEST if digest.is_none() && value.tag == OCTET_STRING => {
                digest = Some(value.content)
            }
            CONTENT_TYPE | MESSAGE_DIGEST => {
                return Err("SignerInfo: a repeated or malformed signed attribute".into());
            }
            _ => {}
        }
    }
    Ok((content_type, digest))
}

/// TSTInfo: version, policy, messageImprint, serialNumber, genTime, ...
fn parse_tst_info(der: &[u8]) -> Result<(ObjectIdentifier, &[u8], i64), String> {
    let (tst, _) = expect(der, SEQUENCE, "TSTInfo")?;
    let fields = children(tst.content)?;
    let [_version, _policy, imprint, _serial, gen_time, ..] = fields.as_slice() else {
        return Err("TSTInfo: missing fields".into());
    };
    if imprint.tag != SEQUENCE {
        return Err("TSTInfo: messageImprint is not a SEQUENCE".into());
    }
    let (alg, rest) = next(imprint.content)?;
    let (hashed, _) = expect(rest, OCTET_STRING, "messageImprint hashedMessage")?;
    if gen_time.tag != GENERALIZED_TIME {
        return Err("TSTInfo: genTime is not a GeneralizedTime".into());
    }
    let when = generalized_time(gen_time.content)
        .ok_or_else(|| "TSTInfo: genTime is not YYYYMMDDHHMMSS[.f]Z".to_string())?;
    Ok((algorithm(&alg, "messageImprint")?, hashed.content, when))
}

/// `YYYYMMDDHHMMSS[.fff]Z` to Unix seconds (the crate's date module reads it).
fn generalized_time(text: &[u8]) -> Option<i64> {
    util::date::parse_generalized_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_time_takes_fractions_and_refuses_local_times() {
        assert_eq!(generalized_time(b"19700101000001Z"), Some(1));
        assert_eq!(generalized_time(b"20260302095215.123Z"), Some(1772445135));
        assert_eq!(generalized_time(b"20260302095215"), None);
        assert_eq!(generalized_time(b"2026030209521Z"), None);
    }

    #[test]
    fn non_minimal_lengths_are_refused() {
        // 0x81 0x03: a long-form length for a value that fits the short form.
        assert!(next(&[0x02, 0x81, 0x01, 0x05]).is_err());
        assert!(next(&[0x02, 0x82, 0x00, 0x01, 0x05]).is_err());
        assert!(next(&[0x02, 0x01, 0x05]).is_ok());
    }

    #[test]
    fn garbage_and_truncation_are_refused_not_panicked_on() {
        assert!(parse(b"").is_err());
        assert!(parse(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(parse(&[0x30, 0x80, 0, 0]).is_err());
        assert!(parse(&[0x30, 0x03, 0x02, 0x01, 0x02]).is_err());
    }
}
