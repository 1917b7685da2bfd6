//! Offline verification of a Sigstore bundle (a GitHub artifact attestation) against a trusted
//! root and a policy: which workflow of which repository must have signed which digest.
//!
//! Bundle in, verdict out: [`verify`] takes the bundle's JSON bytes, the artifact's SHA-256, a
//! [`TrustedRoot`] and a [`Policy`], and returns [`Verified`] or the [`AttestError`] of the first
//! check that failed. The crate speaks no HTTP and touches no file (it depends on no HTTP crate;
//! `tests/it/architecture.rs` checks the crate graph): fetching bundles and reading roots is the
//! binary's `provenance` and `offline`. No Sigstore crate does this here: see the design notes in
//! docs/ARCHITECTURE.md.
//!
//! # What "verified" guarantees
//!
//! The checks run in this order, and a failure names the first check that failed, so among
//! several candidates the one that got furthest ([`AttestError::stage`]) explains best why none
//! was accepted (`fake_tests.rs`: `the_closest_candidate_is_the_one_that_got_furthest`):
//!
//! 1. the bundle's shape and bounds: media-type version 0.1 to 0.3 with what that version must
//!    carry (`shape.rs`), one DSSE envelope with one signature, and a leaf certificate for code
//!    signing that is no CA (`usage.rs`);
//! 2. the signing time is proven: every transparency-log entry (its body, parsed by kind, names
//!    this envelope's payload hash, signature and certificate; inclusion proof against the log's
//!    signed checkpoint, or a signed entry timestamp) and every RFC 3161 timestamp holds, from
//!    logs and authorities the root names (`rekor.rs`, `body.rs`, `tsa.rs`, `cms.rs`);
//! 3. per instance, as `gh attestation verify` applies it: a public-good signature needs a log
//!    entry with a verified inclusion proof, one from GitHub's instance an RFC 3161 timestamp
//!    (`verify.rs`);
//! 4. the leaf chains to a Fulcio CA of the root and was valid at every proven time (`cert.rs`),
//!    and carries an SCT from a CT log of the root when the root names CT logs (`sct.rs`);
//! 5. the DSSE signature verifies with the leaf's key;
//! 6. the in-toto statement names this SHA-256 among its subjects and the policy's predicate type;
//! 7. the certificate's identity matches the policy: issuer, source repository, signer workflow
//!    (and its ref when pinned), source ref, a pull request's ref only when named (`policy.rs`).
//!
//! [`verify_unbound`] stops before step 7, for a caller that judges the identity itself. What
//! ties an accepted attestation to the artifact's run and to a kind of runner,
//! [`Binding::check`], is a separate step the caller applies to [`Verified::identity`].
//!
//! Backed by `fake_tests.rs` (each check against fakehub's fake Sigstore, one test per rule),
//! `real_tests.rs` (real public-good bundles), `real_tsa_tests.rs` (real bundles from GitHub's
//! instance, timestamped), `conformance_log_tests.rs` (the Sigstore conformance suite's log
//! proofs).
//!
//! # Threat model
//!
//! The bundle is foreign input: the attestations API, a `bundle_url` host, or anyone able to
//! attest a digest supplies it.
//!
//! - **A replayed archive.** Attestations are found by digest, so bytes attested by one run can be
//!   uploaded by another. [`Binding`] with a [`RunRef`] refuses a certificate whose Run Invocation
//!   URI names another run (host, repository and id; any attempt) with
//!   [`AttestError::RunBinding`] (`policy.rs`: `a_run_invocation_uri_names_its_run_on_its_host`;
//!   end to end in the binary's `tests/it/provenance.rs`).
//! - **A forged bundle.** A tampered envelope, a forged or missing log proof, a timestamp about
//!   other bytes, a CA, log, CT log or authority outside the root, a log body with the right
//!   strings in the wrong fields, an expired certificate: each refused, naming its check
//!   (`fake_tests.rs`, `real_tests.rs`, `real_tsa_tests.rs`).
//! - **Oversize input.** At most 32 log entries, 32 timestamps and 1,024 subjects, checked
//!   before any signature (`shape.rs`; `ten_thousand_log_entries_are_refused_before_any_is_verified`),
//!   so no bundle buys thousands of signature checks. The bundle's byte size is bounded by the
//!   caller that reads it (8 MiB in the binary). Malformed bytes are refused, never panicked on
//!   (`a_multibyte_character_in_gen_time_is_refused_not_panicked_on`; the binary's
//!   `tests/it/fuzz.rs` runs whole bundles through [`verify_unbound`]).

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
                util::date::format(*signed_at),
                util::date::format(*not_before),
                util::date::format(*not_after)
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
