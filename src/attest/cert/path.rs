//! Certificate path validation on `rustls-webpki`: the reviewed path builder rustls itself uses
//! for TLS, already in the tree on ring, here with the code-signing purpose instead of a server
//! name. Certificates arrive as DER, so nothing is re-encoded.

use rustls::pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), DER content octets as webpki takes them.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// Why a chain did not validate, as far as the caller's message tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// A path exists but a certificate on it was not valid at the time.
    OutsideValidity,
    /// No path: another issuer, a bad signature, a constraint or usage broken, bad DER.
    NoPath,
}

/// `leaf` is an end-entity certificate, not for another purpose than code signing, issued through `chain` (issuing certificates
/// first, the anchor last; a lower intermediate the leaf skips may be listed), all of it valid
/// at `t` (Unix seconds) except the anchor, which webpki takes as timeless.
pub(super) fn validate(leaf: &[u8], chain: &[&[u8]], t: i64) -> Result<(), Failure> {
    let Some((anchor, intermediates)) = chain.split_last() else {
        return Err(Failure::NoPath);
    };
    let anchor = CertificateDer::from(*anchor);
    let anchor = webpki::anchor_from_trusted_cert(&anchor).map_err(|_| Failure::NoPath)?;
    let intermediates: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|d| CertificateDer::from(*d))
        .collect();
    let leaf = CertificateDer::from(leaf);
    let leaf = EndEntityCert::try_from(&leaf).map_err(|_| Failure::NoPath)?;
    let Ok(secs) = u64::try_from(t) else {
        return Err(Failure::OutsideValidity);
    };
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
    leaf.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &intermediates,
        time,
        // Required-if-present: webpki applies one EKU rule to every certificate of the path,
        // and GitHub's intermediate lists no EKU (none means any). The leaf's EKU must be
        // present: `usage::check_leaf` demands it, before this runs.
        KeyUsage::required_if_present(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| match e {
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
            Failure::OutsideValidity
        }
        _ => Failure::NoPath,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::TrustedRoot;
    use crate::attest::bundle::Bundle;

    const BUNDLE: &[u8] =
        include_bytes!("../../../tests/data/sigstore/reusable-workflow-attestation.sigstore.json");

    /// A CA of the embedded roots: its URI and its chain as DER.
    type Chain = (String, Vec<Vec<u8>>);

    /// The real public-good leaf, and each CA chain of the embedded roots.
    fn leaf_and_chains() -> (Vec<u8>, Vec<Chain>) {
        let bundle = Bundle::parse(BUNDLE).unwrap();
        let leaf = bundle.leaf_certificate().unwrap().to_vec();
        let chains = TrustedRoot::embedded()
            .certificate_authorities
            .iter()
            .map(|ca| {
                let ders = ca.cert_chain.certificates.iter();
                (ca.uri.clone(), ders.map(|c| c.raw_bytes.clone()).collect())
            })
            .collect();
        (leaf, chains)
    }

    fn validity(leaf: &[u8]) -> (i64, i64) {
        let leaf = super::super::parse_leaf(leaf).unwrap();
        (leaf.not_before, leaf.not_after)
    }

    #[test]
    fn webpki_builds_the_real_leafs_path_only_through_its_own_ca_and_within_its_time() {
        let (leaf, chains) = leaf_and_chains();
        let (not_before, not_after) = validity(&leaf);
        let results: Vec<(String, Result<(), Failure>)> = chains
            .iter()
            .map(|(uri, chain)| {
                let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
                (uri.clone(), validate(&leaf, &chain, not_before + 60))
            })
            .collect();
        let trusted: Vec<&str> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(uri, _)| uri.as_str())
            .collect();
        assert_eq!(trusted, ["https://fulcio.sigstore.dev"], "{results:?}");
        assert!(results.iter().any(|(_, r)| *r == Err(Failure::NoPath)));

        let (_, chain) = &chains
            .iter()
            .find(|(uri, _)| uri == "https://fulcio.sigstore.dev")
            .unwrap();
        let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        assert_eq!(
            validate(&leaf, &chain, not_after + 1),
            Err(Failure::OutsideValidity)
        );
        assert_eq!(
            validate(&leaf, &chain, not_before - 1),
            Err(Failure::OutsideValidity)
        );
        assert_eq!(
            validate(&leaf, &chain[..0], not_before),
            Err(Failure::NoPath)
        );
        assert_eq!(
            validate(b"not DER", &chain, not_before),
            Err(Failure::NoPath)
        );
    }
}
