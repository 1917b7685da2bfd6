//! Offline verification of a Sigstore bundle (a GitHub artifact attestation) against a trusted
//! root and a policy: which workflow of which repository must have signed which digest.
//!
//! No Sigstore crate does this here: see the design notes in docs/ARCHITECTURE.md. The checks
//! run in the order below, and a failure names the first check that failed, so among several candidates the one
//! that got furthest ([`AttestError::stage`]) explains best why none was accepted.

mod b64;
mod body;
pub mod bundle;
mod cert;
pub mod cms;
mod crypto;
mod policy;
mod rekor;
mod sct;
pub mod shape;
pub mod time;
pub mod trusted_root;
pub mod tsa;
mod usage;
mod verify;

pub use cert::Identity;
pub use policy::{Binding, RunRef, run_id_of};
pub use trusted_root::TrustedRoot;
pub use verify::{verify, verify_unbound};

/// Whose signature is acceptable, and for what.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The OIDC issuer, `https://token.actions.githubusercontent.com` for GitHub Actions.
    pub issuer: String,
    /// `owner/repo` whose run built the artifact (the certificate's source repository).
    pub repository: String,
    /// `owner/repo/.github/workflows/file.yml`, optionally `@ref`: the workflow that signed.
    pub signer_workflow: Option<String>,
    /// The source ref (`refs/heads/main`), if it must match.
    pub source_ref: Option<String>,
    pub predicate_type: String,
}

pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// What an accepted attestation proved, for outputs and the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    /// Signing time (Unix seconds), as proven by the log or the timestamp authority.
    pub signed_at: i64,
    /// The Rekor log index, when a log entry proved the time.
    pub log_index: Option<i64>,
}

/// Why a bundle was not accepted, in check order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestError {
    Malformed(String),
    /// No log entry or timestamp proves when the certificate was used.
    SigningTime(String),
    CertificateNotTrusted(String),
    CertificateExpired {
        signed_at: i64,
        not_before: i64,
        not_after: i64,
    },
    Signature(String),
    SubjectDigest {
        expected: String,
        found: Vec<String>,
    },
    PredicateType {
        expected: String,
        found: String,
    },
    Issuer {
        expected: String,
        found: String,
    },
    Repository {
        expected: String,
        found: String,
    },
    SignerWorkflow {
        expected: String,
        found: String,
    },
    SourceRef {
        expected: String,
        found: String,
    },
    /// A pull request's ref, with no `attestation-source-ref` naming it.
    PullRequestRef {
        found: String,
    },
    /// `attestation-runner: github-hosted`, and the certificate names another runner.
    Runner {
        found: String,
    },
    /// The certificate's Run Invocation URI does not name the run the artifact came from.
    RunBinding {
        expected: RunRef,
        found: String,
    },
}

impl AttestError {
    /// How far verification got: the candidate with the highest stage is the closest.
    pub fn stage(&self) -> u8 {
        match self {
            AttestError::Malformed(_) => 0,
            AttestError::SigningTime(_) => 1,
            AttestError::CertificateNotTrusted(_) => 2,
            AttestError::CertificateExpired { .. } => 3,
            AttestError::Signature(_) => 4,
            AttestError::SubjectDigest { .. } => 5,
            AttestError::PredicateType { .. } => 6,
            AttestError::Issuer { .. } => 7,
            AttestError::Repository { .. } => 8,
            AttestError::SignerWorkflow { .. } => 9,
            AttestError::SourceRef { .. } => 10,
            AttestError::PullRequestRef { .. } => 11,
            AttestError::Runner { .. } => 12,
            AttestError::RunBinding { .. } => 13,
        }
    }
}

impl std::fmt::Display for AttestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttestError::Malformed(why) => write!(f, "malformed attestation bundle: {why}"),
            AttestError::SigningTime(why) => write!(f, "signing time not proven: {why}"),
            AttestError::CertificateNotTrusted(why) => f.write_str(why),
            AttestError::CertificateExpired {
                signed_at,
                not_before,
                not_after,
            } => write!(
                f,
                "certificate not valid at the signing time {} (valid {} to {})",
                time::format(*signed_at),
                time::format(*not_before),
                time::format(*not_after)
            ),
            AttestError::Signature(why) => write!(f, "signature invalid: {why}"),
            AttestError::SubjectDigest { expected, found } => write!(
                f,
                "attestation is for {}, not sha256:{expected}",
                if found.is_empty() {
                    "no sha256 subject".to_string()
                } else {
                    found.join(", ")
                }
            ),
            AttestError::PredicateType { expected, found } => {
                write!(f, "predicate type is {found}, expected {expected}")
            }
            AttestError::Issuer { expected, found } => {
                write!(f, "certificate issued for {found}, expected {expected}")
            }
            AttestError::Repository { expected, found } => {
                write!(f, "built from repository {found}, expected {expected}")
            }
            AttestError::SignerWorkflow { expected, found } => {
                write!(f, "signed by {found}, expected {expected}")
            }
            AttestError::SourceRef { expected, found } => {
                write!(f, "built from ref {found}, expected {expected}")
            }
            AttestError::PullRequestRef { found } => write!(
                f,
                "pull-request ref: built from {found}, a pull request's code; to accept it, set attestation-source-ref: {found}"
            ),
            AttestError::Runner { found } => {
                write!(
                    f,
                    "runner: signed on a {found} runner, expected github-hosted"
                )
            }
            AttestError::RunBinding { expected, found } => write!(
                f,
                "run binding: the attestation was made by run {found}, not by run {} the artifact came from ({}); for an artifact another run re-uploaded, set attestation-from: workflow",
                expected.id,
                expected.url()
            ),
        }
    }
}

impl std::error::Error for AttestError {}

#[cfg(test)]
mod conformance_log_tests;
#[cfg(test)]
mod fake_tests;
#[cfg(test)]
mod real_tests;
#[cfg(test)]
mod real_tsa_tests;
