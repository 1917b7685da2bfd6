//! Trust: the system's root store plus the certificates in `SSL_CERT_FILE`, on every platform.
//!
//! Self-hosted GHES often uses an internal CA, handed to tools through `SSL_CERT_FILE`. On Linux
//! the platform verifier would read that file *instead of* the system store, and on macOS and
//! Windows not at all; so `main` takes the variable out of the process environment before any
//! thread starts, and its certificates are merged here on top of the system store.

use std::path::Path;

use anyhow::{Context, Result};
use reqwest::Certificate;

/// The certificates of `SSL_CERT_FILE` (`extra_ca`), none without it.
pub fn extra_roots(extra_ca: Option<&Path>) -> Result<Vec<Certificate>> {
    let Some(path) = extra_ca else {
        return Ok(Vec::new());
    };
    // The one reader of user-named files: a regular file only, bounded, never echoed.
    let pem = crate::extract::user_file::read_user_file(path).context("SSL_CERT_FILE")?;
    let certs = Certificate::from_pem_bundle(pem.as_bytes()).with_context(|| {
        format!(
            "SSL_CERT_FILE: {} is not a PEM certificate bundle",
            path.display()
        )
    })?;
    anyhow::ensure!(
        !certs.is_empty(),
        "SSL_CERT_FILE: {} holds no PEM certificate",
        path.display()
    );
    Ok(certs)
}
