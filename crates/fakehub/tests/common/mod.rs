//! A minimal blocking HTTP/1.1 client over std::net::TcpStream for the tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub const UA: (&str, &str) = ("User-Agent", "fakehub-tests");

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body was shorter than Content-Length (connection closed early).
    pub short: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Splits `http://host:port/path?query` into (`host:port`, `/path?query`).
pub fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    match rest.find('/') {
        Some(i) => (rest[..i].to_string(), rest[i..].to_string()),
        None => (rest.to_string(), "/".to_string()),
    }
}

pub fn raw_request(method: &str, url: &str, headers: &[(&str, &str)]) -> String {
    let (host, target) = split_url(url);
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req
}

pub fn connect(url: &str) -> TcpStream {
    let (host, _) = split_url(url);
    let s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Reads one response from the stream (Content-Length framed; EOF tolerated).
pub fn read_response(s: &mut TcpStream, head_only: bool) -> Resp {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = s.read(&mut byte).expect("read head");
        assert!(
            n > 0,
            "EOF before end of head: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).expect("utf8 head");
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(0);
    let len = if head_only { 0 } else { len };
    let mut body = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match s.read(&mut body[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    body.truncate(got);
    Resp {
        status,
        headers,
        body,
        short: got < len,
    }
}

pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut s = connect(url);
    s.write_all(raw_request(method, url, headers).as_bytes())
        .unwrap();
    read_response(&mut s, method == "HEAD")
}

pub fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    request("GET", url, headers)
}

/// GET on the API with User-Agent and token.
pub fn api_get(url: &str, token: &str) -> Resp {
    let auth = format!("Bearer {token}");
    get(
        url,
        &[
            UA,
            ("Authorization", &auth),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ],
    )
}

/// Parses a Link header into (rel, url) pairs.
pub fn links(link: &str) -> Vec<(String, String)> {
    link.split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            let url = url
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string();
            let rel = rel
                .trim_start_matches("rel=\"")
                .trim_end_matches('"')
                .to_string();
            (rel, url)
        })
        .collect()
}

pub fn link(resp: &Resp, rel: &str) -> Option<String> {
    links(resp.header("link")?)
        .into_iter()
        .find(|(r, _)| r == rel)
        .map(|(_, u)| u)
}
