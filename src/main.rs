//! The `artifetch` binary: a thin shell over the library (see `lib.rs` for the map).

use std::process::ExitCode;

fn main() -> ExitCode {
    // SSL_CERT_FILE adds to the system's roots rather than replacing them (see github/tls.rs):
    // keep its value for the settings and take it out of the environment the TLS stack reads.
    let ssl_cert_file = std::env::var("SSL_CERT_FILE").ok();
    if ssl_cert_file.is_some() {
        // SAFETY: no other thread exists yet; the async runtime starts later in `main_with`.
        unsafe { std::env::remove_var("SSL_CERT_FILE") };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // The names of the INPUT_* variables, so that one no input reads is said (not ignored).
    let input_vars: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("INPUT_"))
        .collect();
    let env = |key: &str| match key {
        "SSL_CERT_FILE" => ssl_cert_file.clone(),
        _ => std::env::var(key).ok(),
    };
    artifetch::run::main_with(&args, &env, &input_vars)
}
