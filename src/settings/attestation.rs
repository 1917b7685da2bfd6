//! `verify-attestation` and the policy inputs: what an artifact's attestation must say.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::inputs::choices::{AttestationFrom, Runner};
use crate::inputs::{RawInputs, input};

use super::values::{boolean, choice};

/// What an artifact's attestation must say (`verify-attestation` and its inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attestation {
    /// `owner/repo/.github/workflows/file.yml[@ref]`; none: the workflow of the artifact's run.
    pub(crate) signer_workflow: Option<String>,
    /// `owner/repo`; none: the artifact's repository.
    pub(crate) repository: Option<String>,
    pub(crate) predicate_type: String,
    /// The `trusted-root` file's text; none: the roots embedded in the binary.
    pub(crate) trusted_root: Option<String>,
    /// `attestation-from`: what ties the attestation to this artifact.
    pub(crate) from: AttestationFrom,
    /// `attestation-source-ref`: the full ref the attested build must come from.
    pub(crate) source_ref: Option<String>,
    /// `attestation-runner: github-hosted`: refuse a self-hosted runner's attestation.
    pub(crate) github_hosted_only: bool,
}

pub(super) fn attestation(raw: &RawInputs) -> Result<Option<Attestation>> {
    if !boolean(raw, input!("verify-attestation"))? {
        return Ok(None);
    }
    let signer_workflow = raw
        .get(input!("attestation-signer-workflow"))
        .map(str::to_string);
    if let Some(w) = &signer_workflow {
        check_signer_workflow(w)?;
    }
    let from = attestation_from(raw, signer_workflow.as_deref())?;
    let source_ref = attestation_source_ref(raw)?;
    let github_hosted_only =
        choice::<Runner>(raw, input!("attestation-runner"))? == Runner::GithubHosted;
    let repository = raw
        .get(input!("attestation-repository"))
        .map(str::to_string);
    if let Some(r) = &repository
        && !matches!(r.split('/').collect::<Vec<_>>().as_slice(), [o, n] if !o.is_empty() && !n.is_empty())
    {
        bail!("attestation-repository: '{r}' is not owner/repo");
    }
    let trusted_root = match raw.get(input!("trusted-root")) {
        None => None,
        Some(path) => {
            // Bounded, and a regular file only, as every file a user names.
            let text = crate::extract::user_file::read_user_file(Path::new(path))
                .with_context(|| format!("trusted-root: cannot read '{path}'"))?;
            if !text.contains("certificateAuthorities") {
                bail!(
                    "trusted-root: '{path}' is not a Sigstore trusted_root.json (no certificateAuthorities)"
                );
            }
            Some(text)
        }
    };
    Ok(Some(Attestation {
        signer_workflow,
        repository,
        predicate_type: raw.value(input!("attestation-predicate-type")).to_string(),
        trusted_root,
        from,
        source_ref,
        github_hosted_only,
    }))
}

/// `attestation-from`; `workflow` drops the run binding, so the signer workflow's ref is then
/// what ties the signature to reviewed code: it must be given.
pub(super) fn attestation_from(
    raw: &RawInputs,
    signer_workflow: Option<&str>,
) -> Result<AttestationFrom> {
    let from = choice(raw, input!("attestation-from"))?;
    if from == AttestationFrom::Workflow && !signer_workflow.is_some_and(|w| w.contains('@')) {
        bail!(
            "attestation-from: workflow needs attestation-signer-workflow with a full ref (owner/repo/.github/workflows/file.yml@refs/heads/main): without the run binding, the ref is what ties the signature to reviewed code"
        );
    }
    Ok(from)
}

/// `attestation-source-ref`: a full ref, compared exactly.
pub(super) fn attestation_source_ref(raw: &RawInputs) -> Result<Option<String>> {
    let Some(r) = raw.get(input!("attestation-source-ref")) else {
        return Ok(None);
    };
    if !r.starts_with("refs/") {
        bail!(
            "attestation-source-ref: '{r}' is not a full ref; expected refs/heads/{r} or refs/tags/{r}"
        );
    }
    Ok(Some(r.to_string()))
}

/// `owner/repo/.github/workflows/file.yml`, optionally `@` and a full ref. The ref follows the
/// LAST `@` (a file name may hold one), and is full: a short `@v1` would also match a branch
/// named v1 that anyone who can push creates.
pub(super) fn check_signer_workflow(w: &str) -> Result<()> {
    let (path, git_ref) = match w.rsplit_once('@') {
        Some((path, r)) => (path, Some(r)),
        None => (w, None),
    };
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    let ok = matches!(parts.as_slice(), [o, r, rest] if !o.is_empty() && !r.is_empty()
        && rest.starts_with(".github/workflows/") && (rest.ends_with(".yml") || rest.ends_with(".yaml")));
    if !ok {
        bail!(
            "attestation-signer-workflow: '{w}' is not owner/repo/.github/workflows/file.yml (optionally @ref)"
        );
    }
    if let Some(r) = git_ref
        && !r.starts_with("refs/")
    {
        bail!(
            "attestation-signer-workflow: '@{r}' is not a full ref; expected {path}@refs/heads/{r} (a branch) or {path}@refs/tags/{r} (a tag)"
        );
    }
    Ok(())
}
