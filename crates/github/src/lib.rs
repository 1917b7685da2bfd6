//! The GitHub REST API and the blob origin it redirects downloads to: the only HTTP in artifetch.
//!
//! # Contract
//!
//! Two clients, built from what the binary hands in and nothing else: [`GitHub`] (the REST API,
//! from an [`ApiConfig`]: base URL, token, [`Timing`], request budget, polling) and [`Blob`]
//! (signed download URLs), both trusting the system store plus [`tls::Roots`] (the binary reads
//! `SSL_CERT_FILE`; this crate parses the PEM it is given). It knows nothing of inputs,
//! settings, stages or the user's files; the step log, dates and randomness come from `util`.
//! What leaves it is named: serde types ([`model`]), a [`Target`] for a download, a
//! [`served::Reply`] whose [`served::Served`] says whole body / the range asked / range not
//! satisfiable / other and whose body is read only through [`body::BodyReader`], and typed errors
//! ([`HttpError`], [`error::BudgetSpent`]). No HTTP response, status type or header map is
//! handed out.
//!
//! # Threat model: the server is hostile
//!
//! Every answer may be wrong on purpose, and each case has an integration test
//! (`tests/it/hostile_server.rs` unless named):
//! - *Endless bodies*: every body is read through one bounded reader ([`body`]); JSON answers
//!   stop at [`body::MAX_JSON`] (`an_endless_json_answer_is_refused_not_buffered`), error answers
//!   at a snippet (`edges.rs`: `an_endless_error_body_from_the_blob_host_is_not_read_whole`), a
//!   download at the bound its caller gives (`an_endless_blob_body_is_cut_at_size_in_bytes`).
//! - *Trickled bodies*: an API answer has a deadline and a call a budget
//!   (`a_trickled_api_answer_hits_the_deadline_and_is_retried`,
//!   `a_trickled_api_answer_is_given_up_within_the_request_budget`); a blob body that stalls
//!   fails the read (`resilience.rs`: `stall_longer_than_stall_timeout_is_retried`).
//! - *Lying answers*: a `Content-Range` or a page link is checked, not trusted
//!   (`a_lying_content_range_total_is_refused`, `a_looping_link_is_an_error_saying_the_server_repeats_a_page`);
//!   JSON that is not what was asked for is named (`an_html_answer_on_a_list_says_what_came`).
//! - *Echoing bodies*: an error body is summed up, never dumped
//!   (`a_binary_error_body_is_summed_up_not_dumped`); a signed URL is shown without its query
//!   ([`without_query`]); a token or signature a server echoes back is redacted by the step log
//!   (`log_safety.rs`: `a_token_or_signature_echoed_by_a_server_is_redacted_everywhere`).
//! - *Redirects*: the API client follows only a move back to the API's own origin, with a
//!   warning, and names any other (`a_moved_repository_is_followed_on_the_api_with_a_warning`,
//!   `a_redirect_to_another_host_or_of_another_kind_is_an_error_naming_it`).
//! - *Secrets never reach another host*: the token goes only to the API's origin (a `Link`,
//!   redirect or download `Location` elsewhere is refused or gets none:
//!   `a_download_location_back_at_the_api_is_named_and_gets_no_token`), the blob client carries
//!   no credential at all (`fetch.rs`: `token_goes_to_the_api_only_with_the_expected_headers`;
//!   `provenance.rs`: `a_bundle_url_is_fetched_without_the_token`), a proxy only tunnels it
//!   (`tls_proxy.rs`: `https_through_a_proxy_is_tunnelled_and_the_proxy_never_sees_the_token`),
//!   and a token with a line break is refused before any request
//!   (`a_token_with_a_line_break_is_refused_at_once`).
//! - *Rate limits*: one [`gate`] holds every task, API and blob alike
//!   (`resilience.rs`: `concurrent_downloads_share_the_rate_limit_gate`); waits are bounded by a
//!   budget and by the step's timeout (`rate_limit_waits_are_bounded_by_the_steps_budget`,
//!   `a_rate_limit_wait_past_the_steps_timeout_is_an_error_at_once`).
//!
//! # Layout
//!
//! One concern per file. The two clients: [`api`] (the REST API; carries the token, only to its
//! own origin) and [`blob`] (signed download URLs; never a credential), built alike by `http`
//! and trusting [`tls`]'s roots. What they share: [`backoff`] (the one schedule of waits),
//! [`gate`] (the rate-limit gate), [`rate_limit`] (reading a limit from an answer), [`body`]
//! (bounded bodies and JSON), [`error`] (what went wrong, in words), [`timing`] (the waits the
//! binary hands in). Every endpoint's path and query in `endpoints`, every serde type in
//! [`model`]; the calls: the artifact list and download on [`GitHub`] in [`api`], runs, jobs,
//! pulls and deletion in [`runs`], [`attestations`]. What a blob answer says, in [`served`];
//! headers in [`pages`] (`Link`), [`content_range`] and [`content_disposition`].

#![warn(unreachable_pub)]

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
pub mod timing;
pub mod tls;

pub use api::{ApiConfig, GitHub, Target};
pub use blob::{Blob, without_query};
pub use error::{HttpError, Refusal, refusal};
pub use model::{Artifact, WorkflowRun};
pub use timing::Timing;
// The one URL type, so no caller needs the HTTP client's crate for it.
pub use reqwest::Url;
