//! The GitHub REST API and the blob origin it redirects downloads to: the only HTTP in artifetch.
//!
//! One module per concern: [`model`] holds the serde types, [`pages`] the `Link` header,
//! [`content_range`] and [`content_disposition`] the blob answer's headers,
//! [`client`] the two HTTP clients (the API one carries the token; the blob one never does) with
//! retries, backoff and the shared rate-limit gate.

pub mod attestations;
pub mod client;
pub mod content_disposition;
pub mod content_range;
pub mod model;
pub mod pages;
pub mod runs;
pub mod tls;

pub use client::{Blob, GitHub, HttpError};
pub use model::Artifact;
pub use runs::WorkflowRun;
