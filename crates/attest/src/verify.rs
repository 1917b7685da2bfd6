//! The checks, in order: the signing time is proven (log entries and RFC 3161 timestamps), the certificate chains to a trusted Fulcio CA
//! and was valid then, the DSSE signature verifies, the in-toto statement is about this digest and
//! predicate, and the certificate's identity matches the policy.

use serde::Deserialize;

use super::bundle::{Bundle, Envelope};
use super::cert::{self, Leaf};
use super::crypto::PublicKey;
use super::policy::check_identity;
use super::rekor;
use super::trusted_root::TrustedRoot;
use super::tsa;
use super::{AttestError, Policy, Verified};
use super::{body, sct, shape, usage};

const IN_TOTO: &str = "application/vnd.in-toto+json";

/// Verifies one bundle (its JSON) for the artifact whose SHA-256 is `sha256_hex`.
pub fn verify(
    bundle_json: &[u8],
    sha256_hex: &str,
    root: &TrustedRoot,
    policy: &Policy,
) -> Result<Verified, AttestError> {
    let verified = verify_unbound(bundle_json, sha256_hex, root, &policy.predicate_type)?;
    check_identity(&verified.identity, policy)?;
    Ok(verified)
}

/// Every check but the identity policy: the bundle is sound, trusted, signed and about this
/// digest and predicate. Its identity is for the caller to judge (the offline subcommand
/// compares a certificate identity given on the command line).
pub fn verify_unbound(
    bundle_json: &[u8],
    sha256_hex: &str,
    root: &TrustedRoot,
    predicate_type: &str,
) -> Result<Verified, AttestError> {
    let malformed = |why: String| AttestError::Malformed(why);
    let bundle = Bundle::parse(bundle_json).map_err(|e| malformed(e.to_string()))?;
    shape::check(&bundle).map_err(malformed)?;
    let env = bundle.dsse_envelope.as_ref().ok_or_else(|| {
        malformed("no DSSE envelope (a bare message signature attests nothing)".into())
    })?;
    let [signature] = env.signatures.as_slice() else {
        return Err(malformed(format!(
            "{} DSSE signatures, expected one",
            env.signatures.len()
        )));
    };
    let leaf_der = bundle
        .leaf_certificate()
        .ok_or_else(|| malformed("no signing certificate".into()))?;
    let leaf = cert::parse_leaf(leaf_der).map_err(malformed)?;
    usage::check_leaf(&leaf.cert).map_err(AttestError::CertificateNotTrusted)?;
    let root = root.for_certificate(&leaf.cert);

    let pae = pae(&env.payload_type, &env.payload);
    let logged = body::Logged {
        envelope: env,
        pae: &pae,
        signature: &signature.sig,
        certificate_der: leaf_der,
    };
    let proofs = signing_times(&bundle, &logged, root)?;
    proofs.meet(usage::instance(&leaf.cert))?;
    let mut issuer = None;
    for &(t, _) in &proofs.times {
        check_validity(&leaf, t)?;
        let ca =
            cert::chain_to_ca(leaf_der, root, t).map_err(AttestError::CertificateNotTrusted)?;
        issuer = cert::parse_chain(&ca.cert_chain)
            .and_then(|chain| Some(cert::issuing_path(&leaf.cert, &chain)?.first()?.clone()));
    }
    let issuer = issuer.ok_or_else(|| {
        AttestError::CertificateNotTrusted("certificate not trusted: no issuing CA".into())
    })?;
    sct::check(&leaf.cert, &issuer, root).map_err(|why| {
        AttestError::CertificateNotTrusted(format!("certificate not trusted: {why}"))
    })?;
    if !leaf.key.verify(&pae, &signature.sig) {
        return Err(AttestError::Signature(
            "the DSSE envelope's signature does not verify with the certificate's key".into(),
        ));
    }
    check_statement(env, sha256_hex, predicate_type)?;
    let (signed_at, log_index) = proofs.times[0];
    Ok(Verified {
        identity: cert::identity(&leaf.cert),
        signed_at,
        log_index,
    })
}

/// DSSE's pre-authentication encoding: what the signature covers.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// What the bundle's time proofs established.
struct Proofs {
    /// Each proven time, with the log index that proved it (none for a timestamp).
    times: Vec<(i64, Option<i64>)>,
    /// Log entries whose inclusion proof and checkpoint verified.
    included: usize,
    /// RFC 3161 timestamps that verified.
    stamped: usize,
}

impl Proofs {
    /// The instance's requirements, as `gh attestation verify` applies them: public-good
    /// signatures must be in its log (not only timestamped), GitHub's are timestamped by its
    /// authority; every bundle needs a proven time.
    fn meet(&self, instance: usage::Instance) -> Result<(), AttestError> {
        let fail = |why: &str| Err(AttestError::SigningTime(why.into()));
        if instance == usage::Instance::PublicGood && self.included == 0 {
            return fail(
                "a public-good signature needs a transparency-log entry with a verified inclusion proof",
            );
        }
        if instance == usage::Instance::GitHub && self.stamped == 0 {
            return fail("a signature from GitHub's instance needs an RFC 3161 timestamp");
        }
        if self.times.is_empty() {
            return fail(if self.included > 0 {
                "the log entry proves inclusion but not a time (no signed entry timestamp or RFC 3161 timestamp)"
            } else {
                "no transparency-log entry or RFC 3161 timestamp"
            });
        }
        Ok(())
    }
}

/// Every time proof in the bundle must hold.
fn signing_times(
    bundle: &Bundle,
    logged: &body::Logged<'_>,
    root: &TrustedRoot,
) -> Result<Proofs, AttestError> {
    let fail = |why: String| AttestError::SigningTime(why);
    let mut proofs = Proofs {
        times: Vec::new(),
        included: 0,
        stamped: 0,
    };
    for entry in &bundle.verification_material.tlog_entries {
        let log = root.log(&entry.log_id.key_id).ok_or_else(|| {
            fail("the log entry is from a log the trusted root does not name".into())
        })?;
        let key = PublicKey::from_spki_der(&log.public_key.raw_bytes).map_err(fail)?;
        body::check(
            &entry.canonicalized_body,
            entry.kind_version.as_ref(),
            logged,
        )
        .map_err(fail)?;
        if entry.inclusion_proof.is_none() && entry.inclusion_promise.is_none() {
            return Err(fail(
                "the log entry has neither an inclusion proof nor a signed entry timestamp".into(),
            ));
        }
        if entry.inclusion_proof.is_some() {
            rekor::verify_inclusion(entry, &key, &log.base_url).map_err(fail)?;
            proofs.included += 1;
        }
        if entry.inclusion_promise.is_some() {
            rekor::verify_set(entry, &key).map_err(fail)?;
            if !log.public_key.valid_for.contains(entry.integrated_time) {
                return Err(fail(format!(
                    "the log {} was not valid at the entry's time",
                    log.base_url
                )));
            }
            proofs
                .times
                .push((entry.integrated_time, Some(entry.log_index)));
        }
    }
    let stamps = bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .map_or(&[][..], |t| t.rfc3161_timestamps.as_slice());
    for stamp in stamps {
        let t = tsa::verify(&stamp.signed_timestamp, logged.signature, root).map_err(fail)?;
        proofs.times.push((t, None));
        proofs.stamped += 1;
    }
    Ok(proofs)
}

fn check_validity(leaf: &Leaf, t: i64) -> Result<(), AttestError> {
    if leaf.not_before <= t && t <= leaf.not_after {
        Ok(())
    } else {
        Err(AttestError::CertificateExpired {
            signed_at: t,
            not_before: leaf.not_before,
            not_after: leaf.not_after,
        })
    }
}

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    #[serde(default)]
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

fn check_statement(
    env: &Envelope,
    sha256_hex: &str,
    predicate_type: &str,
) -> Result<(), AttestError> {
    if env.payload_type != IN_TOTO {
        return Err(AttestError::Malformed(format!(
            "payload type {:?}, expected {IN_TOTO}",
            env.payload_type
        )));
    }
    let statement: Statement = serde_json::from_slice(&env.payload)
        .map_err(|e| AttestError::Malformed(format!("in-toto statement: {e}")))?;
    if !statement.kind.starts_with("https://in-toto.io/Statement/") {
        return Err(AttestError::Malformed(format!(
            "not an in-toto statement: {}",
            statement.kind
        )));
    }
    if statement.subject.len() > shape::MAX_SUBJECTS {
        return Err(AttestError::Malformed(format!(
            "{} subjects in the statement, more than the limit of {}",
            statement.subject.len(),
            shape::MAX_SUBJECTS
        )));
    }
    let found: Vec<String> = statement
        .subject
        .iter()
        .filter_map(|s| s.digest.get("sha256"))
        .map(|d| format!("sha256:{d}"))
        .collect();
    let want = format!("sha256:{}", sha256_hex.to_ascii_lowercase());
    if !found.iter().any(|f| f.eq_ignore_ascii_case(&want)) {
        return Err(AttestError::SubjectDigest {
            expected: sha256_hex.to_string(),
            found,
        });
    }
    if statement.predicate_type != predicate_type {
        return Err(AttestError::PredicateType {
            expected: predicate_type.to_string(),
            found: statement.predicate_type,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_dsse_v1() {
        assert_eq!(pae("t", b"ab"), b"DSSEv1 1 t 2 ab".to_vec());
    }
}
