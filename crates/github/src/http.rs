//! What both HTTP clients are built with: the crypto provider and the user agent.

use reqwest::header::HeaderValue;

pub(crate) fn user_agent() -> HeaderValue {
    HeaderValue::from_static(concat!(
        "artifetch/",
        env!("CARGO_PKG_VERSION"),
        " (+https://github.com/artifetch/artifetch)"
    ))
}

pub(crate) fn install_crypto() {
    // rustls on ring: pure Rust + asm, no cmake/aws-lc build. Installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
