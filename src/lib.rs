//! artifetch: fetch GitHub Actions workflow artifacts.
//!
//! The data flows one way: [`inputs`] and [`settings`] turn the environment and flags into a
//! validated [`settings::Settings`]; [`resolve`] picks the run (current, given, or searched);
//! [`plan`] asks the API which of its artifacts to fetch and where each goes; [`fetch`] runs
//! them concurrently, [`download`] bringing each to a verified temp file and [`extract`] unpacking
//! it safely; [`report`] writes step outputs, the job summary and log lines; [`run`] ties the
//! stages together. Only `github` speaks HTTP, only `extract` writes the user's files, only
//! `report` prints workflow commands. [`attest`] verifies an artifact's Sigstore attestation
//! offline, before extraction.

pub mod attest;
pub mod cache;
pub mod cancel;
pub mod download;
pub mod extract;
pub mod failure;
pub mod fetch;
pub mod fsx;
pub mod github;
pub mod handoff;
pub mod inputs;
pub mod log;
pub mod manifest;
pub mod partial;
pub mod pasted;
pub mod pattern;
pub mod pin;
pub mod plan;
pub mod provenance;
pub mod report;
pub mod resolve;
pub mod run;
pub mod settings;
pub mod util;
