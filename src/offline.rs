//! `artifetch attestation verify`: one Sigstore bundle checked offline against a file or digest,
//! the way `gh attestation verify --bundle` is used. The same verifier as `verify-attestation`;
//! exit 0 when it verifies, 1 with one line naming the check that failed otherwise.

use std::ffi::OsString;
use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

use crate::attest::{
    self, GITHUB_ACTIONS_ISSUER, Policy, SLSA_PROVENANCE_V1, TrustedRoot, Verified,
};

const USAGE: &str = "usage: artifetch attestation verify --bundle FILE (--file FILE | --digest sha256:HEX) \
[--repository OWNER/REPO] [--signer-workflow OWNER/REPO/.github/workflows/FILE.yml[@REF]] \
[--certificate-identity URI] [--certificate-oidc-issuer URL] [--predicate-type URI] [--trusted-root FILE]";

/// Largest bundle or trusted root read: the same bound as a downloaded bundle.
const MAX_FILE: u64 = crate::github::attestations::MAX_BUNDLE as u64;

/// What the command line asked to verify, and against what.
#[derive(Debug, Default)]
struct Request {
    bundle: Option<PathBuf>,
    file: Option<PathBuf>,
    digest: Option<String>,
    repository: Option<String>,
    signer_workflow: Option<String>,
    identity: Option<String>,
    issuer: Option<String>,
    predicate_type: Option<String>,
    trusted_root: Option<PathBuf>,
}

/// Runs `artifetch attestation ARGS...`; returns the line to print on success.
pub(crate) fn run(args: &[OsString]) -> Result<String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(USAGE.to_string());
    }
    let request = parse(args)?;
    let bundle_path = request
        .bundle
        .as_ref()
        .ok_or_else(|| anyhow!("--bundle is required; {USAGE}"))?;
    let bundle = read_capped(bundle_path, "--bundle")?;
    let sha256 = subject_digest(&request)?;
    let root = match &request.trusted_root {
        Some(path) => {
            let text = String::from_utf8(read_capped(path, "--trusted-root")?)
                .context("--trusted-root is not UTF-8")?;
            TrustedRoot::parse(&text).map_err(|e| anyhow!("--trusted-root: {e}"))?
        }
        None => TrustedRoot::embedded(),
    };
    let verified = verify(&request, &bundle, &sha256, &root)?;
    check_certificate(&request, &verified)?;
    Ok(format!(
        "Verified: sha256:{sha256} signed by {} at {}{}",
        verified.identity.signer_uri.as_deref().unwrap_or("?"),
        crate::util::date::format(verified.signed_at),
        verified
            .log_index
            .map(|i| format!(", log index {i}"))
            .unwrap_or_default()
    ))
}

fn parse(args: &[OsString]) -> Result<Request> {
    let mut args = args.iter();
    if args.next().and_then(|a| a.to_str()) != Some("verify") {
        bail!("{USAGE}");
    }
    let mut r = Request::default();
    while let Some(arg) = args.next() {
        let arg = arg
            .to_str()
            .with_context(|| format!("argument {arg:?} is not valid UTF-8"))?;
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg, None),
        };
        let mut value = || -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .and_then(|v| v.to_str())
                    .map(str::to_string)
                    .with_context(|| format!("{flag} needs a value; {USAGE}")),
            }
        };
        match flag {
            "--bundle" => r.bundle = Some(value()?.into()),
            "--file" => r.file = Some(value()?.into()),
            "--digest" => r.digest = Some(value()?),
            "--repository" | "--repo" => r.repository = Some(value()?),
            "--signer-workflow" => r.signer_workflow = Some(value()?),
            "--certificate-identity" => r.identity = Some(value()?),
            "--certificate-oidc-issuer" => r.issuer = Some(value()?),
            "--predicate-type" => r.predicate_type = Some(value()?),
            "--trusted-root" => r.trusted_root = Some(value()?.into()),
            _ => bail!("unexpected argument '{arg}'; {USAGE}"),
        }
    }
    Ok(r)
}

/// A file read whole, refused past [`MAX_FILE`] (a bundle is a few KiB).
fn read_capped(path: &PathBuf, flag: &str) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("{flag} {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{flag} {}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE {
        bail!(
            "{flag} {}: larger than {} MiB",
            path.display(),
            MAX_FILE >> 20
        );
    }
    Ok(bytes)
}

/// The SHA-256 (lowercase hex) the attestation must name: of `--file`, or `--digest`.
fn subject_digest(r: &Request) -> Result<String> {
    match (&r.file, &r.digest) {
        (Some(path), None) => crate::manifest::hash_file(path)
            .map(|(_, hex)| hex)
            .with_context(|| format!("--file {}", path.display())),
        (None, Some(digest)) => {
            let hex = digest.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("--digest: '{digest}' is not sha256:<64 hex digits>");
            }
            Ok(hex.to_ascii_lowercase())
        }
        _ => bail!("give exactly one of --file and --digest; {USAGE}"),
    }
}

/// With a repository (given, or the signer workflow's), the same policy as
/// `verify-attestation`; with only a certificate identity, every check but that policy.
fn verify(r: &Request, bundle: &[u8], sha256: &str, root: &TrustedRoot) -> Result<Verified> {
    let predicate_type = r
        .predicate_type
        .clone()
        .unwrap_or(SLSA_PROVENANCE_V1.into());
    let repository = r.repository.clone().or_else(|| {
        let w = r.signer_workflow.as_deref()?;
        let mut parts = w.splitn(3, '/');
        Some(format!("{}/{}", parts.next()?, parts.next()?))
    });
    let verified = match repository {
        Some(repository) => {
            let policy = Policy {
                issuer: r.issuer.clone().unwrap_or(GITHUB_ACTIONS_ISSUER.into()),
                repository,
                signer_workflow: r.signer_workflow.clone(),
                source_ref: None,
                predicate_type,
            };
            attest::verify(bundle, sha256, root, &policy)
        }
        None if r.identity.is_some() => {
            attest::verify_unbound(bundle, sha256, root, &predicate_type)
        }
        None => bail!(
            "say whose signature to accept: --repository, --signer-workflow or --certificate-identity; {USAGE}"
        ),
    };
    verified.map_err(|e| anyhow!("attestation not verified: {e}"))
}

/// `--certificate-identity` (the certificate's signer URI, exactly) and its issuer.
fn check_certificate(r: &Request, v: &Verified) -> Result<()> {
    let issuer = r.issuer.as_deref().unwrap_or(GITHUB_ACTIONS_ISSUER);
    let found = v.identity.issuer.as_deref().unwrap_or("(none)");
    if found != issuer {
        bail!("attestation not verified: certificate issued for {found}, expected {issuer}");
    }
    if let Some(want) = &r.identity {
        let found = v.identity.signer_uri.as_deref().unwrap_or("(none)");
        if found != want {
            bail!("attestation not verified: certificate identity is {found}, expected {want}");
        }
    }
    Ok(())
}
