//! `verify-attestation`: after the digest check and before extraction, accept an artifact only if
//! one of the attestations GitHub lists for its archive digest verifies completely against the
//! trusted root and the policy, and names the run the artifact came from (`attestation-from:
//! run`, the default: bytes another run attested are a replay). Otherwise the artifact fails with
//! the closest candidate's reason.

use anyhow::{Result, anyhow, bail};

use crate::attest::{
    self, AttestError, Binding, GITHUB_ACTIONS_ISSUER, Policy, RunRef, TrustedRoot, Verified,
};
use crate::github::{Artifact, Blob, GitHub};
use crate::settings::{Attestation, AttestationFrom};

/// An accepted attestation, and what tied it to the artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub verified: Verified,
    pub bound_to: BoundTo,
}

/// Which binding held (`attestation-from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundTo {
    /// The certificate names the run the artifact came from (this id).
    Run(u64),
    /// Only the signer workflow at its pinned ref: any run of it.
    Workflow,
}

/// The repository whose artifacts are checked, and its host: what an attestation is bound to.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    /// `GITHUB_SERVER_URL` (GHES too).
    pub server_url: String,
    pub owner: String,
    pub repo: String,
}

impl Repo {
    /// `owner/repo`.
    fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }
}

impl BoundTo {
    /// `run` or `workflow`, as `attestation-from` spells it.
    pub fn name(self) -> &'static str {
        match self {
            BoundTo::Run(_) => "run",
            BoundTo::Workflow => "workflow",
        }
    }
}

pub(crate) async fn check(
    github: &GitHub,
    blob: &Blob,
    repo: &Repo,
    wanted: &Attestation,
    artifact: &Artifact,
    sha256: &str,
    lines: &mut Vec<String>,
) -> Result<Proven> {
    let root = match &wanted.trusted_root {
        Some(text) => TrustedRoot::parse(text).map_err(|e| anyhow!("trusted-root: {e}"))?,
        None => TrustedRoot::embedded(),
    };
    let binding = binding(repo, wanted, artifact)?;
    let policy = policy(github, repo, wanted, artifact).await?;
    let bundles = github
        .attestations(blob, &repo.owner, &repo.repo, sha256)
        .await?;
    if bundles.is_empty() {
        bail!("provenance: no attestation for sha256:{}", sha256);
    }
    let mut closest: Option<AttestError> = None;
    for bundle in &bundles {
        let checked = attest::verify(bundle, sha256, &root, &policy)
            .and_then(|v| binding.check(&v.identity).map(|()| v));
        match checked {
            Ok(verified) => {
                let bound_to = match &binding.run {
                    Some(run) => BoundTo::Run(run.id),
                    None => BoundTo::Workflow,
                };
                lines.extend(log_lines(&verified, bound_to));
                return Ok(Proven { verified, bound_to });
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

/// Who must have signed: the given (or the run's) workflow of the given (or this) repository.
async fn policy(
    github: &GitHub,
    repo: &Repo,
    wanted: &Attestation,
    artifact: &Artifact,
) -> Result<Policy> {
    let signer_workflow = match &wanted.signer_workflow {
        Some(w) => w.clone(),
        None => run_workflow(github, repo, artifact).await?,
    };
    Ok(Policy {
        issuer: GITHUB_ACTIONS_ISSUER.into(),
        repository: wanted
            .repository
            .clone()
            .unwrap_or_else(|| repo.full_name()),
        signer_workflow: Some(signer_workflow),
        source_ref: wanted.source_ref.clone(),
        predicate_type: wanted.predicate_type.clone(),
    })
}

/// `attestation-from: run` binds to the artifact's run on this host; `workflow` to no run.
fn binding(repo: &Repo, wanted: &Attestation, artifact: &Artifact) -> Result<Binding> {
    let run = match wanted.from {
        AttestationFrom::Workflow => None,
        AttestationFrom::Run => Some(RunRef {
            server_url: repo.server_url.clone(),
            repository: repo.full_name(),
            id: artifact_run(artifact)?,
        }),
    };
    Ok(Binding {
        run,
        github_hosted_only: wanted.github_hosted_only,
    })
}

fn artifact_run(artifact: &Artifact) -> Result<u64> {
    artifact
        .workflow_run
        .as_ref()
        .and_then(|r| r.id)
        .ok_or_else(|| {
            anyhow!(
                "provenance: the artifact names no run to bind its attestation to; set attestation-from: workflow and attestation-signer-workflow"
            )
        })
}

/// The log's account of an accepted attestation: who signed when, and what bound it here.
fn log_lines(v: &Verified, bound_to: BoundTo) -> [String; 2] {
    let id = &v.identity;
    let signed = format!(
        "Provenance verified: signed by {} at {}{}",
        id.signer_uri.as_deref().unwrap_or("?"),
        crate::util::date::format(v.signed_at),
        v.log_index
            .map(|i| format!(", Rekor log index {i}"))
            .unwrap_or_default()
    );
    let run = id.run_url.as_deref().unwrap_or("(none)");
    let bound = match bound_to {
        BoundTo::Run(_) => format!("Provenance bound to the artifact's run: {run}"),
        BoundTo::Workflow => {
            format!(
                "Provenance bound to the signer workflow only (attestation-from: workflow); made by {run}"
            )
        }
    };
    let source = format!(
        "{bound}; commit {} of {}",
        id.commit.as_deref().unwrap_or("(none)"),
        id.source_ref.as_deref().unwrap_or("(none)")
    );
    [signed, source]
}

/// `owner/repo/.github/workflows/file.yml` of the run that uploaded the artifact.
async fn run_workflow(github: &GitHub, repo: &Repo, artifact: &Artifact) -> Result<String> {
    let run_id = artifact
        .workflow_run
        .as_ref()
        .and_then(|r| r.id)
        .ok_or_else(|| {
            anyhow!("provenance: the artifact names no run; set attestation-signer-workflow")
        })?;
    let run = github.get_run(&repo.owner, &repo.repo, run_id).await?;
    let path = run
        .path
        .as_deref()
        .map(without_ref)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "provenance: run {run_id} names no workflow file; set attestation-signer-workflow"
            )
        })?;
    Ok(format!("{}/{path}", repo.full_name()))
}

/// A run's `path` without a trailing `@refs/…`: a workflow file's own name may hold an `@`.
fn without_ref(path: &str) -> &str {
    match path.rsplit_once('@') {
        Some((file, r)) if r.starts_with("refs/") => file,
        _ => path,
    }
}
