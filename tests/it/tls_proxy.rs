//! HTTPS with an internal CA handed over in `SSL_CERT_FILE` (self-hosted GHES), and proxies:
//! HTTPS through `HTTPS_PROXY` is tunnelled, so the proxy never sees the token; a plain-http
//! API behind a proxy is refused.

use crate::support::proxy::Proxy;
use crate::support::*;

fn tls_world(ghes: bool) -> World {
    let w = World::with(Options {
        tls: true,
        ghes,
        ..Options::default()
    });
    if ghes {
        w.gh.set_run_status(w.run, "completed", Some("success"));
    }
    w.add("dist", zipbuild::sample_zip());
    w
}

fn ca(w: &World) -> String {
    w.gh.ca_file()
        .expect("tls world has a CA file")
        .display()
        .to_string()
}

#[test]
fn https_with_the_ca_from_ssl_cert_file() {
    let w = tls_world(false);
    assert!(w.gh.api_url().starts_with("https://"));
    let out = w.run(&[("name", "dist")], &[("SSL_CERT_FILE", &ca(&w))]);
    out.ok();
    assert!(!tree(&w.workspace()).is_empty());
    let blob = w.blob_requests();
    assert!(!blob.is_empty() && blob.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn an_unknown_ca_is_a_clear_error() {
    let w = tls_world(false);
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{}", out.stdout);
    assert!(
        errors[0].to_lowercase().contains("certificate"),
        "{}",
        errors[0]
    );
    assert!(tree(&w.workspace()).is_empty());
}

#[test]
fn a_bad_ssl_cert_file_is_named() {
    let w = tls_world(false);
    let bogus = w.root.path().join("bogus.pem");
    std::fs::write(&bogus, "not a certificate").unwrap();
    let out = w.run(
        &[("name", "dist")],
        &[("SSL_CERT_FILE", bogus.to_str().unwrap())],
    );
    out.failed().one_error(&["SSL_CERT_FILE", "bogus.pem"]);
}

#[test]
fn ghes_over_https_with_run_search() {
    let w = tls_world(true);
    let out = w.run(
        &[
            ("workflow", "build.yml"),
            ("branch", "main"),
            ("name", "dist"),
            ("search-artifacts", "true"),
        ],
        &[("SSL_CERT_FILE", &ca(&w))],
    );
    out.ok();
    assert!(w.gh.api_url().ends_with("/api/v3") && w.gh.api_url().starts_with("https://"));
    assert!(!tree(&w.workspace()).is_empty());
}

#[test]
fn https_through_a_proxy_is_tunnelled_and_the_proxy_never_sees_the_token() {
    let w = tls_world(false);
    let proxy = Proxy::start();
    let out = w.run(
        &[("name", "dist")],
        &[("SSL_CERT_FILE", &ca(&w)), ("HTTPS_PROXY", &proxy.url)],
    );
    out.ok();
    assert!(!tree(&w.workspace()).is_empty());
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the proxy was used");
    assert!(
        seen.iter().all(|s| s.request_line.starts_with("CONNECT ")),
        "{seen:#?}"
    );
    assert!(seen.iter().all(|s| !s.saw_authorization), "{seen:#?}");
    let api_host =
        w.gh.api_url()
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
    assert!(
        seen.iter().any(|s| s.request_line.contains(&api_host)),
        "{seen:#?}"
    );
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let w = tls_world(false);
    let proxy = Proxy::start();
    let out = w.run(
        &[("name", "dist")],
        &[
            ("SSL_CERT_FILE", &ca(&w)),
            ("HTTPS_PROXY", &proxy.url),
            ("NO_PROXY", "127.0.0.1,localhost"),
        ],
    );
    out.ok();
    assert!(proxy.seen().is_empty(), "{:#?}", proxy.seen());
}

#[test]
fn a_plain_http_api_behind_a_proxy_is_refused() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let proxy = Proxy::start();
    let out = w.run(&[("name", "dist")], &[("HTTP_PROXY", &proxy.url)]);
    out.failed()
        .one_error(&["GITHUB_API_URL", "proxy", "in the clear", "NO_PROXY"]);
    assert!(proxy.seen().is_empty());
    assert!(w.gh.requests().is_empty());
}
