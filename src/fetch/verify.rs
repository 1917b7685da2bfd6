//! Verify: the archive's SHA-256 against the API's `digest` and any `expected-digest` pin, then
//! its attestation (`verify-attestation`). The one place a [`Verified`] is made.
//!
//! Why nothing reaches `path` unverified, by type rather than by call order: the place stage
//! (`place.rs`) takes a [`Verified`] by value, and a `Verified` has private fields and no
//! constructor outside this file but [`attest`]. `attest` takes an [`Obtained`] archive, which
//! carries a [`Checked`] — again private fields, made only by [`archive`] (the digest and the
//! digest pin passed) or [`partial`] (a partial fetch, which obtain allows only when neither
//! a digest pin nor an attestation asks for the whole archive) — and runs the attestation
//! check before it hands the `Verified` on. So the compiler refuses any path to `place` that
//! skips one of them. The producer's file pins (`expected-files`, `expected-files-digest`)
//! describe the extracted tree, so the `Verified` carries them and [`Verified::check_files`]
//! compares them with the staged tree before the move.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::DigestCheck;
use super::config::VerifyConfig;
use super::obtain::{Download, Downloader, Obtained};
use crate::extract::Staged;
use crate::failure::{FailureKind, Kinded};
use crate::github::model::{Artifact, Published};
use crate::log::Log;
use crate::manifest::Manifest;
use crate::pin::Pins;
use crate::provenance::Proven;
use crate::settings::Severity;

/// The archive's digest checks passed (or were accepted with `digest-mismatch`). Neither `Clone`
/// nor `Copy`: one check, one archive.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Checked {
    digest: DigestCheck,
    /// The archive matched an `expected-digest` pin.
    pinned: bool,
}

impl Checked {
    /// Verified against the API's digest or a pin: only such an archive is kept in the cache (a
    /// mismatch accepted with `digest-mismatch: warn` is not "verified").
    pub(super) fn trusted(&self) -> bool {
        self.digest == DigestCheck::Verified || self.pinned
    }
}

/// The archive whose SHA-256 is `sha256`: checked against the API's `digest`, then against the
/// `expected-digest` pin.
pub(super) fn archive(
    cfg: &VerifyConfig,
    log: &Log,
    artifact: &Artifact,
    sha256: &str,
    lines: &mut Vec<String>,
) -> Result<Checked> {
    let digest = check_digest(cfg, log, artifact, sha256, lines)?;
    let pinned = check_pinned_digest(cfg, &artifact.name, sha256, lines)?;
    Ok(Checked { digest, pinned })
}

/// A partial fetch: no archive SHA-256 (it was never whole); each entry's CRC-32 is checked as
/// it is extracted, and its SHA-256 with `expected-files`.
pub(super) fn partial(cfg: &VerifyConfig, lines: &mut Vec<String>) -> Checked {
    if !cfg.pins.pins_files() {
        lines.push("CRC-32 only, archive digest not verified".into());
    }
    Checked {
        digest: DigestCheck::Partial,
        pinned: false,
    }
}

/// An archive whose digest, digest pin and attestation passed: the only thing `place` accepts.
pub(super) struct Verified {
    obtained: Obtained,
    attestation: Option<Proven>,
    /// The file pins, compared with the staged tree before the move.
    pins: Arc<Pins>,
}

/// What verification established, for the report (owned: it outlives the [`Verified`] that
/// `place` consumes).
pub(super) struct Proof {
    pub digest: DigestCheck,
    pub digest_pinned: bool,
    pub from_cache: bool,
    /// SHA-256 of the bytes obtained (hex); empty for a partial fetch.
    pub sha256: String,
    pub bytes: u64,
    pub is_zip: bool,
    pub attestation: Option<Proven>,
}

/// With `verify-attestation`, the archive's attestation (a refused one removes the download, so
/// nothing of it is extracted); then the archive is [`Verified`].
pub(super) async fn attest(
    cfg: &VerifyConfig,
    downloader: &Downloader,
    artifact: &Artifact,
    obtained: Obtained,
    lines: &mut Vec<String>,
) -> Result<Verified> {
    let attestation = match &cfg.attestation {
        None => None,
        Some(wanted) => crate::provenance::check(
            &downloader.github,
            &downloader.blob,
            &cfg.repo,
            wanted,
            artifact,
            &obtained.archive.sha256,
            lines,
        )
        .await
        .map(Some)
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&obtained.part);
        })?,
    };
    Ok(verified(cfg, obtained, attestation))
}

/// The one constructor: after [`attest`] (or, in unit tests, with no attestation asked for).
fn verified(cfg: &VerifyConfig, obtained: Obtained, attestation: Option<Proven>) -> Verified {
    Verified {
        obtained,
        attestation,
        pins: Arc::clone(&cfg.pins),
    }
}

/// For the other stages' unit tests: [`attest`] when `verify-attestation` is off, without the
/// clients it would need (the attestation is covered by tests/it/provenance.rs).
#[cfg(test)]
pub(super) fn unattested(cfg: &VerifyConfig, obtained: Obtained) -> Verified {
    assert!(cfg.attestation.is_none(), "an attestation is asked for");
    verified(cfg, obtained, None)
}

impl Verified {
    pub(super) fn archive(&self) -> &Download {
        &self.obtained.archive
    }

    /// Where the archive is (or, held in memory, would be written).
    pub(super) fn part(&self) -> &Path {
        &self.obtained.part
    }

    pub(super) fn digest(&self) -> DigestCheck {
        self.obtained.checked.digest
    }

    /// The tree extracted while the archive landed, if it was kept; taken once.
    pub(super) fn take_early(&mut self) -> Option<Staged> {
        self.obtained.early.take()
    }

    /// Why the extraction while the archive landed failed, if it did; taken once.
    pub(super) fn take_early_failure(&mut self) -> Option<anyhow::Error> {
        self.obtained.early_failed.take()
    }

    pub(super) fn proof(&self) -> Proof {
        let o = &self.obtained;
        Proof {
            digest: o.checked.digest,
            digest_pinned: o.checked.pinned,
            from_cache: o.from_cache,
            sha256: o.archive.sha256.clone(),
            bytes: o.archive.bytes,
            is_zip: o.archive.is_zip,
            attestation: self.attestation.clone(),
        }
    }

    /// `expected-files-digest` / `expected-files`: the files about to be placed compared with
    /// the producer's; how many matched, if pinned.
    pub(super) fn check_files(&self, name: &str, manifest: &Manifest) -> Result<Option<usize>> {
        self.pins.check_files(name, manifest).map_err(pin_mismatch)
    }
}

/// The extracted files differ from the producer's pins.
fn pin_mismatch(e: anyhow::Error) -> anyhow::Error {
    Kinded::error(FailureKind::PinMismatch, format!("{e:#}"))
}

/// `expected-digest`: the producer's own digest of the archive, compared with the bytes
/// downloaded whatever the API says and whatever `digest-mismatch` is. Returns whether one
/// was pinned.
fn check_pinned_digest(
    cfg: &VerifyConfig,
    name: &str,
    actual: &str,
    lines: &mut Vec<String>,
) -> Result<bool> {
    let Some(pinned) = cfg.pins.digest.as_ref().and_then(|p| p.for_artifact(name)) else {
        return Ok(false);
    };
    if !pinned.eq_ignore_ascii_case(actual) {
        return Err(Kinded::error(
            FailureKind::PinMismatch,
            format!(
                "artifact '{name}' is not the one the producer made: expected-digest pins {}, the bytes downloaded hash to {}; nothing of it was placed",
                crate::pin::short(pinned),
                crate::pin::short(actual)
            ),
        ));
    }
    lines.push(format!(
        "Digest pinned: matches expected-digest sha256:{actual} ✅"
    ));
    Ok(true)
}

/// The API's `digest` compared with the bytes; what a mismatch does is `digest-mismatch`'s.
fn check_digest(
    cfg: &VerifyConfig,
    log: &Log,
    a: &Artifact,
    actual: &str,
    lines: &mut Vec<String>,
) -> Result<DigestCheck> {
    let expected = a.digest.as_deref().unwrap_or("").trim();
    let msg = match a.published_digest() {
        Published::None => {
            lines.push("No digest published for this artifact (GHES or upload-artifact < v4); integrity not checked".into());
            return Ok(DigestCheck::Missing);
        }
        Published::Sha256(hex) if hex.eq_ignore_ascii_case(actual) => {
            lines.push(format!("Digest verified: sha256:{actual}"));
            return Ok(DigestCheck::Verified);
        }
        Published::Sha256(_) => format!(
            "artifact '{}': digest mismatch: expected {expected}, downloaded sha256:{actual}: the bytes served are not the ones that were uploaded (damaged in storage or in transit, or replaced)",
            a.name
        ),
        Published::Other(algorithm) => format!(
            "artifact '{}': the digest uses algorithm '{algorithm}', which artifetch cannot check (it checks sha256); integrity not verified",
            a.name
        ),
    };
    match cfg.digest_mismatch {
        Severity::Error => {
            return Err(Kinded::error(
                FailureKind::DigestMismatch,
                format!("{msg}; digest-mismatch: warn accepts it anyway"),
            ));
        }
        Severity::Warn => log.warning(&msg),
        Severity::Info => lines.push(msg),
        Severity::Ignore => {}
    }
    Ok(DigestCheck::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::kind_of;
    use crate::fetch::testkit::{artifact, obtained, pins, sha256, verify_config};

    const BYTES: &[u8] = b"the archive";

    fn check(cfg: &VerifyConfig, digest: Option<&str>) -> (Result<Checked>, Vec<String>) {
        let a = artifact("dist", digest, BYTES.len() as u64);
        let mut lines = Vec::new();
        let checked = archive(cfg, &Log::new(false, false), &a, &sha256(BYTES), &mut lines);
        (checked, lines)
    }

    #[test]
    fn a_matching_digest_is_verified_and_trusted() {
        let cfg = verify_config(Severity::Error, Pins::default());
        let published = format!("sha256:{}", sha256(BYTES).to_uppercase());
        let (checked, lines) = check(&cfg, Some(&published));
        let checked = checked.unwrap();
        assert_eq!(checked.digest, DigestCheck::Verified);
        assert!(checked.trusted());
        assert_eq!(
            lines,
            [format!("Digest verified: sha256:{}", sha256(BYTES))]
        );
    }

    #[test]
    fn a_digest_mismatch_is_refused_unless_accepted_and_then_not_trusted() {
        let other = format!("sha256:{}", sha256(b"other bytes"));
        let refused = check(
            &verify_config(Severity::Error, Pins::default()),
            Some(&other),
        )
        .0;
        let e = refused.unwrap_err();
        assert_eq!(kind_of(&e), Some(FailureKind::DigestMismatch));
        assert!(format!("{e:#}").contains("digest mismatch"), "{e:#}");
        let (accepted, lines) = check(
            &verify_config(Severity::Info, Pins::default()),
            Some(&other),
        );
        let accepted = accepted.unwrap();
        assert_eq!(accepted.digest, DigestCheck::Mismatch);
        assert!(!accepted.trusted());
        assert!(lines[0].contains("digest mismatch"), "{lines:?}");
    }

    #[test]
    fn a_pin_mismatch_is_refused_whatever_digest_mismatch_says() {
        let pinned = pins(Some(&sha256(b"what the producer made")), None);
        let e = check(&verify_config(Severity::Ignore, pinned), None)
            .0
            .unwrap_err();
        assert_eq!(kind_of(&e), Some(FailureKind::PinMismatch));
        assert!(format!("{e:#}").contains("expected-digest pins"), "{e:#}");
    }

    #[test]
    fn a_matching_pin_is_trusted_without_a_published_digest() {
        let cfg = verify_config(Severity::Error, pins(Some(&sha256(BYTES)), None));
        let (checked, lines) = check(&cfg, None);
        let checked = checked.unwrap();
        assert_eq!(
            (checked.digest, checked.pinned),
            (DigestCheck::Missing, true)
        );
        assert!(checked.trusted());
        assert!(
            lines[1].starts_with("Digest pinned: matches expected-digest"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_partial_fetch_says_crc_only_unless_the_files_are_pinned() {
        let mut lines = Vec::new();
        let checked = partial(&verify_config(Severity::Warn, Pins::default()), &mut lines);
        assert_eq!(checked.digest, DigestCheck::Partial);
        assert!(!checked.trusted());
        assert_eq!(lines, ["CRC-32 only, archive digest not verified"]);
        let files = format!("{}  a.txt", sha256(b"a"));
        let mut lines = Vec::new();
        partial(
            &verify_config(Severity::Warn, pins(None, Some(&files))),
            &mut lines,
        );
        assert!(lines.is_empty());
    }

    #[test]
    fn the_verified_value_carries_its_checks_and_compares_the_file_pins() {
        let dir = tempfile::tempdir().unwrap();
        let files = format!("{}  a.txt", sha256(b"a"));
        let cfg = verify_config(Severity::Error, pins(Some(&sha256(BYTES)), Some(&files)));
        let checked = check(&cfg, None).0.unwrap();
        let v = unattested(&cfg, obtained(dir.path().join("p"), BYTES, true, checked));
        let proof = v.proof();
        assert_eq!(
            (proof.digest, proof.digest_pinned),
            (DigestCheck::Missing, true)
        );
        assert_eq!(
            (proof.sha256, proof.bytes),
            (sha256(BYTES), BYTES.len() as u64)
        );
        let entry = |data: &[u8]| {
            Manifest::new(vec![crate::manifest::Entry {
                path: b"a.txt".to_vec(),
                kind: crate::manifest::Kind::File {
                    size: data.len() as u64,
                    sha256: sha256(data),
                    executable: false,
                },
            }])
        };
        assert_eq!(v.check_files("dist", &entry(b"a")).unwrap(), Some(1));
        let e = v.check_files("dist", &entry(b"b")).unwrap_err();
        assert_eq!(kind_of(&e), Some(FailureKind::PinMismatch));
    }
}
