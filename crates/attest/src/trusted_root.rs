//! The Sigstore `trusted_root.json`: which Fulcio CAs, transparency logs and timestamp
//! authorities to trust, and when. `gh attestation trusted-root` prints several roots, one JSON
//! object a line; those are merged.

use serde::Deserialize;

use super::b64;
use util::date::rfc3339;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    #[serde(default)]
    pub tlogs: Vec<TransparencyLog>,
    /// Certificate Transparency logs: the keys that sign the SCTs in Fulcio leaves.
    #[serde(default)]
    pub ctlogs: Vec<TransparencyLog>,
    #[serde(default)]
    pub certificate_authorities: Vec<CertificateAuthority>,
    #[serde(default)]
    pub timestamp_authorities: Vec<CertificateAuthority>,
    /// The embedded roots only: GitHub's own instance, for certificates its Fulcio issued.
    #[serde(skip)]
    pub github: Option<Box<TrustedRoot>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLog {
    #[serde(default)]
    pub base_url: String,
    pub public_key: PublicKey,
    pub log_id: super::bundle::LogId,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    /// DER SubjectPublicKeyInfo.
    #[serde(with = "b64::bytes")]
    pub raw_bytes: Vec<u8>,
    #[serde(default)]
    pub valid_for: ValidFor,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    #[serde(default)]
    pub uri: String,
    /// Issuing certificate first, root last.
    pub cert_chain: super::bundle::CertChain,
    #[serde(default)]
    pub valid_for: ValidFor,
}

/// Unix seconds; an open end is unbounded.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
pub struct ValidFor {
    #[serde(default, deserialize_with = "rfc3339::option")]
    pub start: Option<i64>,
    #[serde(default, deserialize_with = "rfc3339::option")]
    pub end: Option<i64>,
}

impl ValidFor {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

impl TrustedRoot {
    /// One trusted root, or several as JSON lines (merged).
    pub fn parse(text: &str) -> Result<TrustedRoot, String> {
        if let Ok(root) = serde_json::from_str::<TrustedRoot>(text) {
            return Ok(root);
        }
        let mut merged = TrustedRoot::default();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let root: TrustedRoot = serde_json::from_str(line)
                .map_err(|e| format!("not a Sigstore trusted root (line {}): {e}", n + 1))?;
            merged.tlogs.extend(root.tlogs);
            merged.ctlogs.extend(root.ctlogs);
            merged
                .certificate_authorities
                .extend(root.certificate_authorities);
            merged
                .timestamp_authorities
                .extend(root.timestamp_authorities);
        }
        if merged.certificate_authorities.is_empty() {
            return Err("not a Sigstore trusted root: no certificateAuthorities".into());
        }
        Ok(merged)
    }

    /// The roots embedded in the binary: Sigstore public-good, and GitHub's own instance
    /// (private repositories) for the certificates its Fulcio issued. tests/data/sigstore/README.md
    /// says where they come from; `scripts/refresh-trusted-root` refreshes them.
    pub fn embedded() -> TrustedRoot {
        let parse = |text| TrustedRoot::parse(text).expect("embedded trusted roots parse (tested)");
        TrustedRoot {
            github: Some(Box::new(parse(EMBEDDED_GITHUB))),
            ..parse(EMBEDDED_PUBLIC_GOOD)
        }
    }

    /// The root that speaks for `leaf`: GitHub's when one of its Fulcio CAs issued it (by name;
    /// the chain is checked afterwards), else this one. Each instance's time proofs are then
    /// judged by its own logs and timestamp authorities, as `gh attestation verify` does.
    pub fn for_certificate(&self, leaf: &x509_cert::Certificate) -> &TrustedRoot {
        use der::Decode as _;
        let issuer = leaf.tbs_certificate().issuer();
        let issued_by = |root: &TrustedRoot| {
            root.certificate_authorities.iter().any(|ca| {
                ca.cert_chain.certificates.iter().any(|c| {
                    x509_cert::Certificate::from_der(&c.raw_bytes)
                        .is_ok_and(|c| c.tbs_certificate().subject() == issuer)
                })
            })
        };
        match &self.github {
            Some(github) if issued_by(github) => github,
            _ => self,
        }
    }

    pub fn log(&self, key_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id.key_id == key_id)
    }
}

const EMBEDDED_PUBLIC_GOOD: &str = include_str!("public-good.trusted_root.json");
const EMBEDDED_GITHUB: &str = include_str!("github.trusted_root.json");

#[cfg(test)]
mod tests {
    #[test]
    fn a_trusted_root_with_an_overflowing_offset_is_refused() {
        let root = concat!(
            r#"{"certificateAuthorities": [{"certChain": {"certificates": []}, "#,
            r#""validFor": {"start": "2020-01-01T00:00:00+9999999999999999:00"}}]}"#
        );
        let err = crate::TrustedRoot::parse(root).unwrap_err();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
    }
}
