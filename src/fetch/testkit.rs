//! Test support for the fetch stages' unit tests: real zip bytes, an artifact as the API lists
//! it, each stage's config, and an obtained archive in a temp directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::config::{PlaceConfig, StageConfig, VerifyConfig};
use super::obtain::{Download, Obtained};
use super::stage::StageJob;
use super::verify::Checked;
use crate::github::model::Artifact;
use crate::pin::{ExpectedFiles, PerArtifact, Pins};
use crate::provenance::Repo;
use crate::settings::{NotFound, Severity};

/// A zip holding these files, deflated (fakehub's builder, which the integration tests serve).
pub(super) fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    files
        .iter()
        .fold(fakehub::zipbuild::ZipBuilder::new(), |z, (name, data)| {
            z.file(name, data)
        })
        .build()
}

pub(super) fn sha256(bytes: &[u8]) -> String {
    crate::util::hex(&Sha256::digest(bytes))
}

/// An artifact as the API lists it, with this `digest` field.
pub(super) fn artifact(name: &str, digest: Option<&str>, size: u64) -> Artifact {
    let mut a: Artifact = serde_json::from_str(r#"{"id":7,"name":"x"}"#).unwrap();
    a.name = name.into();
    a.digest = digest.map(str::to_string);
    a.size_in_bytes = size;
    a
}

/// `expected-digest` (one for every artifact) and `expected-files` (`sha256sum` lines).
pub(super) fn pins(digest: Option<&str>, files: Option<&str>) -> Pins {
    Pins {
        digest: digest.map(|d| PerArtifact::parse("expected-digest", d).unwrap()),
        files_digest: None,
        files: files.map(|f| ExpectedFiles::parse("expected-files", f).unwrap()),
    }
}

pub(super) fn verify_config(digest_mismatch: Severity, pins: Pins) -> VerifyConfig {
    VerifyConfig {
        digest_mismatch,
        pins: Arc::new(pins),
        attestation: None,
        repo: Repo {
            server_url: "https://github.com".into(),
            owner: "o".into(),
            repo: "r".into(),
        },
    }
}

pub(super) fn stage_config(root: &Path, manifest: bool) -> StageConfig {
    StageConfig {
        path: root.to_path_buf(),
        max_size: 1 << 30,
        max_files: 1000,
        max_ratio: 1000,
        allow_git_paths: false,
        files: None,
        manifest,
        skip_decompress: false,
    }
}

pub(super) fn place_config(manifest: bool) -> PlaceConfig {
    PlaceConfig {
        files: None,
        if_no_artifact_found: NotFound::Fail,
        manifest,
        allow_git_paths: false,
        skip_decompress: false,
    }
}

/// Where an artifact `name` goes under `root` (`path`), staged through `root/../work`.
pub(super) fn stage_job(root: &Path, name: &str, config: StageConfig) -> StageJob {
    let workdir = root.parent().unwrap().join("work");
    std::fs::create_dir_all(&workdir).unwrap();
    StageJob {
        config: Arc::new(config),
        dest: root.join(name),
        name: name.into(),
        id: 7,
        workdir,
        sparse: false,
    }
}

/// An archive obtained into `part` (written there: a download too large to keep in memory).
pub(super) fn obtained(part: PathBuf, bytes: &[u8], is_zip: bool, checked: Checked) -> Obtained {
    std::fs::write(&part, bytes).unwrap();
    let mut archive = Download::known_zip(bytes.len() as u64, sha256(bytes), 1);
    archive.is_zip = is_zip;
    Obtained {
        archive,
        part,
        checked,
        from_cache: false,
        early: None,
        early_failed: None,
    }
}
