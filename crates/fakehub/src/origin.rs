//! Which listener (or role) a request reached: the one value both the fault script and the
//! request log name, kept in a module of its own so that `faults` and `state` need not import
//! each other.

/// Which listener (or role) served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The REST API.
    Api,
    /// Blob downloads: the blob listener, and in GHES mode the
    /// `/_services/pipelines/...` path on the API listener.
    Blob,
}
