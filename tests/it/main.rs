//! Every integration test in one binary (issue 26): one module per former `tests/*.rs` file, so
//! the world (artifetch, fakehub, the test dependencies) is linked once instead of per file.
//! Run one module with `cargo nextest run --test it -E 'test(/^fetch::/)'`.

mod support;

mod fuzz_shapes;
#[cfg(unix)]
mod install_support;

mod action_yml;
mod architecture;
mod attestation_verify;
mod bad_input;
mod cache;
mod chosen_run;
mod cli_messages;
mod edges;
mod fallback;
mod fan_in;
mod fetch;
mod files;
mod fuzz;
mod help;
mod hostile;
mod hostile_server;
#[cfg(unix)]
mod install_script;
mod log_safety;
mod manifest;
mod messages;
mod overlap;
mod partial;
mod pasted_inputs;
mod pinned;
mod placement;
mod provenance;
mod ranges;
#[cfg(unix)]
mod release_e2e;
mod resilience;
mod run_search;
mod sigstore_conformance;
mod summary;
mod summary_rendered;
mod summary_snapshots;
mod tls_proxy;
mod versioning;
mod wait_for;
