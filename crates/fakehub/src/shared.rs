//! What the handle and every connection share: the options, the URLs, the signing secret and the
//! locked [`State`]. The request handlers (`api`, `blob`) and the listeners (`server`) all take
//! it, so it lives below them and the imports run one way: server → api → blob → shared.

use crate::Options;
use crate::state::State;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Configuration and state shared by the handle and all connections.
pub(crate) struct Shared {
    pub opts: Options,
    pub api_url: String,
    pub server_url: String,
    pub blob_origin: String,
    /// Signs download URLs.
    pub secret: String,
    /// Opaque first path segment of GHES pipelines URLs.
    pub pipelines_token: String,
    pub started_at: i64,
    pub state: Mutex<State>,
    /// With [`Options::tls`]: the acceptor for both listeners.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// With [`Options::tls`]: the test CA (PEM) and the file holding it.
    pub ca_pem: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// Endless bodies written all the way to [`crate::http::ENDLESS_CAP`]: the client read on
    /// instead of hanging up (a reader without a bound).
    pub endless_to_the_cap: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// Locks the state, ignoring poisoning (a panicked test thread must not wedge the server).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
