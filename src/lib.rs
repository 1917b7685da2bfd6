//! artifetch: fetch GitHub Actions workflow artifacts.
//!
//! The data flows one way: [`inputs`] and [`settings`] turn the environment and flags into a
//! validated [`settings::Settings`]; [`resolve`] picks the run (current, given, or searched);
//! [`plan`] asks the API which of its artifacts to fetch and where each goes (and reads the run's
//! commit and branch from them); [`fetch`] runs them concurrently, its obtain stage bringing each to
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
// The zip and filesystem safety core lives in crates/extract, with the manifest of what it wrote
// and the `files` globs; re-exported so `crate::extract`, `crate::manifest`, `crate::pattern` read
// as before.
pub use extract;
use extract::manifest;
pub use extract::pattern;
// The Sigstore verifier lives in crates/attest; re-exported so `crate::attest` reads as before.
pub use attest;
// The REST and blob clients live in crates/github; re-exported so `crate::github` reads as before.
pub use github;
mod failure;
mod fetch;
mod find;
mod handoff;
pub mod inputs;
mod offline;
mod pasted;
mod pin;
mod plan;
mod provenance;
pub mod report;
mod resolve;
pub mod run;
mod settings;

#[cfg(test)]
mod extract_limits_tests {
    // extract's `Limits::default()` (its tests' limits) must stay the inputs table's defaults.
    use crate::extract::Limits;
    use crate::inputs::{Command, parse};

    #[test]
    fn the_default_limits_are_the_inputs_tables() {
        let env = |k: &str| match k {
            "GITHUB_TOKEN" => Some("t".to_string()),
            "GITHUB_REPOSITORY" => Some("octo/hello".to_string()),
            "GITHUB_RUN_ID" => Some("5".to_string()),
            _ => None,
        };
        let Command::Run(raw) = parse(&[], &env).unwrap() else {
            panic!("no inputs is a run");
        };
        let settings = crate::settings::resolve(&raw, &env).unwrap();
        let limits = Limits::default();
        assert_eq!(limits.max_total_bytes, settings.fetch.max_size);
        assert_eq!(limits.max_files, settings.fetch.max_files);
        assert_eq!(limits.max_ratio, settings.fetch.max_ratio);
        assert_eq!(limits.allow_git_paths, settings.fetch.allow_git_paths);
    }
}
