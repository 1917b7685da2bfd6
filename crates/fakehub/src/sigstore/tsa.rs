//! A fake RFC 3161 timestamp authority: DER TimeStampResp tokens over a bundle's signature, as
//! GitHub's `timestamp.githubapp.com` emits them (granted status, SHA-256, ECDSA, no certificates
//! in the token), built by hand from a few DER helpers.

use rcgen::{KeyPair, SigningKey};
use sha2::{Digest, Sha256};

const SIGNED_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 2];
const TST_INFO: &[u64] = &[1, 2, 840, 113549, 1, 9, 16, 1, 4];
const CONTENT_TYPE: &[u64] = &[1, 2, 840, 113549, 1, 9, 3];
const MESSAGE_DIGEST: &[u64] = &[1, 2, 840, 113549, 1, 9, 4];
const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const POLICY: &[u64] = &[1, 3, 6, 1, 4, 1, 57264, 2];

/// One DER element.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    match n {
        0..=127 => out.push(n as u8),
        128..=255 => out.extend([0x81, n as u8]),
        _ => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn cons(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    cons(0x30, parts)
}

fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    cons(0x31, parts)
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        body.extend(groups.iter().rev());
    }
    tlv(0x06, &body)
}

fn int(n: u8) -> Vec<u8> {
    tlv(0x02, &[n])
}

fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

fn algorithm(arcs: &[u64]) -> Vec<u8> {
    seq(&[oid(arcs)])
}

/// `YYYYMMDDHHMMSSZ` for Unix seconds `t`.
fn generalized_time(t: i64) -> Vec<u8> {
    let d = time::OffsetDateTime::from_unix_timestamp(t).expect("time");
    let text = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    );
    tlv(0x18, text.as_bytes())
}

/// What to stamp, and how.
pub struct Stamp<'a> {
    /// The bytes the token is about (a bundle's signature).
    pub message: &'a [u8],
    pub gen_time: i64,
    pub key: &'a KeyPair,
    /// Certificates (DER) the token carries.
    pub certificates: &'a [Vec<u8>],
}

/// A TimeStampResp (status granted) holding a token for `s`.
pub fn response(s: &Stamp<'_>) -> Vec<u8> {
    let imprint = seq(&[algorithm(SHA256), octets(&Sha256::digest(s.message))]);
    let tst_info = seq(&[
        int(1),
        oid(POLICY),
        imprint,
        int(42),
        generalized_time(s.gen_time),
    ]);
    let encap = seq(&[oid(TST_INFO), cons(0xa0, &[octets(&tst_info)])]);
    let attrs = [
        seq(&[oid(CONTENT_TYPE), set(&[oid(TST_INFO)])]),
        seq(&[
            oid(MESSAGE_DIGEST),
            set(&[octets(&Sha256::digest(&tst_info))]),
        ]),
    ];
    let signature = s.key.sign(&set(&attrs)).expect("sign");
    let signer_info = seq(&[
        int(3),
        tlv(0x80, b"fakehub tsa"), // [0] subjectKeyIdentifier
        algorithm(SHA256),
        cons(0xa0, &attrs),
        algorithm(ECDSA_SHA256),
        octets(&signature),
    ]);
    let mut signed_data = vec![int(3), set(&[algorithm(SHA256)]), encap];
    if !s.certificates.is_empty() {
        signed_data.push(tlv(0xa0, &s.certificates.concat()));
    }
    signed_data.push(set(&[signer_info]));
    let content_info = seq(&[oid(SIGNED_DATA), cons(0xa0, &[seq(&signed_data)])]);
    seq(&[seq(&[int(0)]), content_info])
}
