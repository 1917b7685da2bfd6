//! Why one artifact failed, as a kind the report branches on for the reason in words and the
//! next step. The message stays what the log says; the kind only adds what to do about it.

/// What went wrong with one artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The bytes served do not hash to the artifact's published `digest`.
    DigestMismatch,
    /// The bytes do not match what the producer pinned (`expected-digest`, `expected-files`).
    PinMismatch,
    /// The artifact expired between listing and download (410 Gone).
    Expired,
    /// The token may not download it (401/403).
    Permission,
    /// `max-api-requests` was spent before its download URL was asked for.
    Budget,
    /// The archive was refused as unsafe or over a bound (`max-size`, `max-files`, ...).
    Refused,
    /// `verify-attestation` found no attestation it accepts.
    Provenance,
    /// A local write failed (disk full, permissions, a file where a directory belongs).
    Local,
    /// The download failed after its retries (server errors, dropped connections).
    Network,
    /// The server sent more bytes than the artifact's own size: not a limit to raise.
    OverSent,
}

impl FailureKind {
    /// The reason in words, for a person who has not read the log.
    pub fn reason(self) -> &'static str {
        match self {
            FailureKind::DigestMismatch => {
                "digest mismatch: the bytes served are not the ones that were uploaded"
            }
            FailureKind::PinMismatch => "not the artifact the producer pinned",
            FailureKind::Expired => "expired before it could be downloaded",
            FailureKind::Permission => "the token may not download it",
            FailureKind::Budget => "max-api-requests was spent before its turn",
            FailureKind::Refused => "the archive was refused as unsafe or over a limit",
            FailureKind::Provenance => "no accepted attestation",
            FailureKind::Local => "could not be written on the runner",
            FailureKind::Network => "the download failed after its retries",
            FailureKind::OverSent => "the server sent more than the artifact holds",
        }
    }

    /// What to do next.
    pub fn next_step(self) -> &'static str {
        match self {
            FailureKind::DigestMismatch => {
                "re-run this job (a damaged transfer does not repeat); if it persists, re-run the job that uploaded it; `digest-mismatch: warn` accepts the bytes anyway"
            }
            FailureKind::PinMismatch => {
                "check that the producer's pins and the chosen run belong together"
            }
            FailureKind::Expired => {
                "re-run the job that uploaded it (artifacts are kept for `retention-days`)"
            }
            FailureKind::Permission => {
                "give the job `permissions: actions: read`, or a `github-token` that can read the repository"
            }
            FailureKind::Budget => "raise `max-api-requests`, or split the work with `shard`",
            FailureKind::Refused => {
                "read the artifact's log group; if the archive is legitimate, raise `max-size`, `max-files` or `max-ratio`"
            }
            FailureKind::Provenance => {
                "check `attestation-signer-workflow`, `attestation-repository` and `attestation-from` against the run and workflow that built it"
            }
            FailureKind::Local => {
                "check `path`, the disk space and what already is at the destination"
            }
            FailureKind::Network => "re-run the job; the log group says what the server answered",
            FailureKind::OverSent => {
                "re-run the job; if it persists, something between artifetch and GitHub (a proxy, a mirror, the GHES storage) serves other bytes: raising `max-size` does not help"
            }
        }
    }
}

/// An error that already knows its kind (raised where the kind is certain, such as the digest
/// check). Displays as its message alone, so logs read as before.
#[derive(Debug)]
pub(crate) struct Kinded {
    pub kind: FailureKind,
    pub message: String,
}

impl Kinded {
    pub(crate) fn error(kind: FailureKind, message: String) -> anyhow::Error {
        anyhow::Error::new(Kinded { kind, message })
    }
}

impl std::fmt::Display for Kinded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Kinded {}

/// The kind an error was raised with, if it was.
pub(crate) fn kind_of(e: &anyhow::Error) -> Option<FailureKind> {
    e.chain()
        .find_map(|c| c.downcast_ref::<Kinded>().map(|k| k.kind))
}
