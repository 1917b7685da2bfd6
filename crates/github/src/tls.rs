//! Trust: the system's root store plus the certificates in `SSL_CERT_FILE`, on every platform.
//!
//! Self-hosted GHES often uses an internal CA, handed to tools through `SSL_CERT_FILE`. On Linux
//! the platform verifier would read that file *instead of* the system store, and on macOS and
//! Windows not at all; so `main` takes the variable out of the process environment before any
//! thread starts, and its certificates are merged here on top of the system store. The binary
//! reads the file (it owns reading user-named files); this crate only parses what it was given.

use std::path::Path;

use anyhow::{Context, Result};
use reqwest::Certificate;

/// Extra trusted roots, merged on top of the system store by both clients.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    pub(crate) certs: Vec<Certificate>,
}

impl Roots {
    /// No extra roots: the system store alone.
    pub fn none() -> Roots {
        Roots::default()
    }

    /// The certificates of a PEM bundle, `pem`, read from `path` (named in messages only).
    pub fn from_pem(pem: &str, path: &Path) -> Result<Roots> {
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
        Ok(Roots { certs })
    }
}
