//! artifetch: fetch GitHub Actions workflow artifacts.
//!
//! The data flows one way: [`inputs`] and [`settings`] turn the environment and flags into a
//! validated [`settings::Settings`]; [`resolve`] picks the run (current, given, or searched);
//! [`plan`] asks the API which of its artifacts to fetch and where each goes (and reads the run's
//! commit and branch from them); [`fetch`] runs them concurrently, [`download`] bringing each to
//! a verified temp file and [`extract`] unpacking it safely; [`report`] writes step outputs and
//! the job summary; [`run`] ties the stages together. Only `github` sends HTTP requests, only
//! [`log`] prints log lines and workflow commands. [`attest`] verifies an artifact's Sigstore
//! attestation offline, before extraction. docs/ARCHITECTURE.md draws the stages and says which
//! module owns what.
//!
//! Public are only the modules the tests and the binary reach (`run`, the parsers the fuzz
//! targets call, the tables `action.yml` is checked against); everything else is crate-private,
//! and `unreachable_pub` keeps `pub` from claiming more than that.

#![warn(unreachable_pub)]

// The leaves live in crates/util; re-exported so `crate::log`, `crate::cancel` read as before.
pub use util;
pub use util::{cancel, log};
pub mod attest;
mod cache;
mod download;
pub mod extract;
mod failure;
mod fetch;
mod find;
mod fsx;
pub mod github;
mod handoff;
pub mod inputs;
mod manifest;
mod offline;
mod partial;
mod pasted;
pub mod pattern;
mod pin;
mod plan;
mod provenance;
pub mod report;
mod resolve;
pub mod run;
mod settings;
