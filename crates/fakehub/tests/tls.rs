//! HTTPS (`Options::tls`) over real sockets: a rustls client that trusts only the generated CA
//! lists artifacts on the API, follows the 302 to the blob origin on its own port and checks the
//! bytes; a client without the CA is refused; plain HTTP does not get an answer.

use fakehub::{ArtifactSpec, FakeGitHub, Options, Run, zipbuild};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

fn config(ca_pem: Option<&str>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// `https://host:port/path` -> (host, port, path).
fn split(url: &str) -> (String, u16, String) {
    let rest = url.strip_prefix("https://").expect("https URL");
    let (hostport, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = hostport.rsplit_once(':').unwrap();
    let path = if path.is_empty() { "/" } else { path };
    (host.to_string(), port.parse().unwrap(), path.to_string())
}

struct Resp {
    status: u16,
    head: String,
    body: Vec<u8>,
    alpn: Option<Vec<u8>>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One HTTPS GET, connecting to 127.0.0.1 and verifying the certificate for `sni`.
fn get(
    cfg: &Arc<rustls::ClientConfig>,
    url: &str,
    sni: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<Resp> {
    let (_, port, path) = split(url);
    let mut tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let mut conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {sni}:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The server closes without close_notify after `Connection: close`; fine once we have data.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    let alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
    let split_at = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let head = String::from_utf8(raw[..split_at].to_vec()).unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Ok(Resp {
        status,
        head,
        body: raw[split_at + 4..].to_vec(),
        alpn,
    })
}

fn api_headers(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("User-Agent", "fakehub-tls-test".to_string()),
        ("Authorization", format!("Bearer {token}")),
        ("X-GitHub-Api-Version", "2022-11-28".to_string()),
    ]
}

fn as_refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn https_api_and_blob_with_generated_ca() {
    let gh = FakeGitHub::start(Options {
        tls: true,
        ..Options::default()
    });
    assert!(
        gh.api_url().starts_with("https://127.0.0.1:"),
        "{}",
        gh.api_url()
    );
    assert!(gh.blob_origin().starts_with("https://127.0.0.1:"));
    assert_ne!(gh.api_url(), gh.blob_origin(), "blob is another origin");
    let pem = gh.ca_pem().expect("CA PEM with tls");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let file = gh.ca_file().expect("CA file with tls");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pem);

    let run = gh.add_run(Run::new(&gh.repo()));
    let body = zipbuild::sample_zip();
    let id = gh.add_artifact(run, ArtifactSpec::new("dist", body.clone()));
    let cfg = config(Some(&pem));
    let h = api_headers(&gh.token());

    // The API certificate is valid for 127.0.0.1 and for localhost; HTTP/1.1 is negotiated.
    let list_url = format!(
        "{}/repos/octo/hello/actions/runs/{run}/artifacts",
        gh.api_url()
    );
    for sni in ["127.0.0.1", "localhost"] {
        let r = get(&cfg, &list_url, sni, &as_refs(&h)).unwrap();
        assert_eq!(r.status, 200, "{}", r.head);
        assert_eq!(r.alpn.as_deref(), Some(&b"http/1.1"[..]));
        let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(j["artifacts"][0]["id"], id);
        assert!(
            j["artifacts"][0]["archive_download_url"]
                .as_str()
                .unwrap()
                .starts_with(&gh.api_url())
        );
    }

    // The 302 points at the HTTPS blob origin, which serves the exact bytes without credentials.
    let r = get(
        &cfg,
        &format!(
            "{}/repos/octo/hello/actions/artifacts/{id}/zip",
            gh.api_url()
        ),
        "127.0.0.1",
        &as_refs(&h),
    )
    .unwrap();
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with(&format!("{}/blob/", gh.blob_origin())),
        "{loc}"
    );
    let b = get(&cfg, &loc, "localhost", &[]).unwrap();
    assert_eq!(b.status, 200, "{}", b.head);
    assert_eq!(b.body, body);
    let ranged = get(&cfg, &loc, "127.0.0.1", &[("Range", "bytes=10-19")]).unwrap();
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.body, &body[10..20]);

    // A client that does not trust the test CA is refused during the handshake.
    let untrusted = get(&config(None), &list_url, "127.0.0.1", &as_refs(&h));
    let err = untrusted.err().expect("untrusted CA must fail");
    assert!(err.to_string().contains("certificate"), "{err}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let (_, port, _) = split(&gh.api_url());
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = tcp.read_to_end(&mut buf);
    assert!(
        !buf.starts_with(b"HTTP/"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );

    // The CA file goes away with the server.
    drop(gh);
    assert!(!file.exists());
}

#[test]
fn ghes_over_https_with_external_storage() {
    let gh = FakeGitHub::start(Options {
        tls: true,
        ghes: true,
        ghes_external_storage: true,
        ..Options::default()
    });
    assert_eq!(gh.api_url(), format!("{}/api/v3", gh.server_url()));
    assert_ne!(gh.blob_origin(), gh.server_url());
    let run = gh.add_run(Run::new(&gh.repo()));
    let body = zipbuild::sample_zip();
    let id = gh.add_artifact(run, ArtifactSpec::new("dist", body.clone()));
    let cfg = config(gh.ca_pem().as_deref());
    let h = api_headers(&gh.token());
    let r = get(
        &cfg,
        &format!(
            "{}/repos/octo/hello/actions/artifacts/{id}/zip",
            gh.api_url()
        ),
        "127.0.0.1",
        &as_refs(&h),
    )
    .unwrap();
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with(&format!("{}/blob/", gh.blob_origin())),
        "{loc}"
    );
    // The blob origin, like cloud storage, refuses a request that carries the token.
    let auth = format!("token {}", gh.token());
    let refused = get(&cfg, &loc, "127.0.0.1", &[("Authorization", &auth)]).unwrap();
    assert_eq!(refused.status, 403);
    let b = get(&cfg, &loc, "127.0.0.1", &[]).unwrap();
    assert_eq!((b.status, b.body), (200, body));
}

#[test]
fn plain_http_stays_the_default() {
    let gh = FakeGitHub::start(Options::default());
    assert!(gh.api_url().starts_with("http://127.0.0.1:"));
    assert!(gh.ca_pem().is_none() && gh.ca_file().is_none());
}
