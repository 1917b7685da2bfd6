//! The GitHub REST API and the blob origin it redirects downloads to: the only HTTP in artifetch.
//!
//! One concern per file. The two clients: [`api`] (the REST API; carries the token, only to its
//! own origin) and [`blob`] (signed download URLs; never a credential), built alike by [`http`]
//! and trusting [`tls`]'s roots. What they share: [`backoff`] (the one schedule of waits),
//! [`gate`] (the rate-limit gate), [`rate_limit`] (reading a limit from an answer), [`body`]
//! (bounded bodies and JSON), [`error`] (what went wrong, in words). Every endpoint's path and
//! query in `endpoints`, every serde type in [`model`]; the calls: the artifact list and download
//! on [`GitHub`] in [`api`], runs, jobs, pulls and deletion in [`runs`], [`attestations`].
//! What a blob answer says, in [`served`]; headers in [`pages`] (`Link`), [`content_range`] and
//! [`content_disposition`].

pub mod api;
pub mod attestations;
pub mod backoff;
pub mod blob;
pub mod body;
pub mod content_disposition;
pub mod content_range;
mod endpoints;
pub mod error;
pub mod gate;
mod http;
pub mod model;
pub mod pages;
pub mod rate_limit;
pub mod runs;
pub mod served;
pub mod tls;

pub use api::{ApiConfig, GitHub, Target};
pub use blob::{Blob, without_query};
pub use error::{HttpError, http_status};
pub use model::{Artifact, WorkflowRun};
// The one URL type, so no caller needs the HTTP client's crate for it.
pub use reqwest::Url;
