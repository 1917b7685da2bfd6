//! `verify-attestation`: after the digest check and before extraction, accept an artifact only if
//! one of the attestations GitHub lists for its archive digest verifies completely against the
//! trusted root and the policy. Otherwise the artifact fails with the closest candidate's reason.

use anyhow::{Result, anyhow, bail};

use crate::attest::{self, AttestError, GITHUB_ACTIONS_ISSUER, Policy, TrustedRoot, Verified};
use crate::github::{Artifact, Blob, GitHub};
use crate::settings::{Attestation, Settings};

pub(crate) async fn check(
    github: &GitHub,
    blob: &Blob,
    settings: &Settings,
    wanted: &Attestation,
    artifact: &Artifact,
    sha256: &str,
    lines: &mut Vec<String>,
) -> Result<Verified> {
    let root = match &wanted.trusted_root {
        Some(text) => TrustedRoot::parse(text).map_err(|e| anyhow!("trusted-root: {e}"))?,
        None => TrustedRoot::embedded(),
    };
    let signer_workflow = match &wanted.signer_workflow {
        Some(w) => w.clone(),
        None => run_workflow(github, settings, artifact).await?,
    };
    let policy = Policy {
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        repository: wanted
            .repository
            .clone()
            .unwrap_or_else(|| settings.repository()),
        signer_workflow: Some(signer_workflow),
        source_ref: None,
        predicate_type: wanted.predicate_type.clone(),
    };
    let bundles = github
        .attestations(blob, &settings.owner, &settings.repo, sha256)
        .await?;
    if bundles.is_empty() {
        bail!("provenance: no attestation for sha256:{}", sha256);
    }
    let mut closest: Option<AttestError> = None;
    for bundle in &bundles {
        match attest::verify(bundle, sha256, &root, &policy) {
            Ok(v) => {
                lines.push(format!(
                    "Provenance verified: signed by {} at {}{}",
                    v.identity.signer_uri.as_deref().unwrap_or("?"),
                    attest::time::format(v.signed_at),
                    v.log_index
                        .map(|i| format!(", Rekor log index {i}"))
                        .unwrap_or_default()
                ));
                return Ok(v);
            }
            Err(e) if closest.as_ref().is_none_or(|c| e.stage() > c.stage()) => closest = Some(e),
            Err(_) => {}
        }
    }
    let why = closest.map(|e| e.to_string()).unwrap_or_default();
    bail!(
        "provenance: {why} ({} attestation{} for sha256:{sha256}, none verified)",
        bundles.len(),
        if bundles.len() == 1 { "" } else { "s" }
    )
}

/// `owner/repo/.github/workflows/file.yml` of the run that uploaded the artifact.
async fn run_workflow(github: &GitHub, settings: &Settings, artifact: &Artifact) -> Result<String> {
    let run_id = artifact
        .workflow_run
        .as_ref()
        .and_then(|r| r.id)
        .ok_or_else(|| {
            anyhow!("provenance: the artifact names no run; set attestation-signer-workflow")
        })?;
    let run = github
        .get_run(&settings.owner, &settings.repo, run_id)
        .await?;
    let path = run
        .path
        .as_deref()
        .map(|p| p.split('@').next().unwrap_or(p))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "provenance: run {run_id} names no workflow file; set attestation-signer-workflow"
            )
        })?;
    Ok(format!("{}/{path}", settings.repository()))
}
