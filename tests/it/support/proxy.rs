//! A minimal forward proxy for tests: `CONNECT host:port` tunnels (what HTTPS through a proxy
//! uses) and absolute-form plain-HTTP requests. It records each request line and whether an
//! `Authorization` header crossed it in the clear.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Debug, Clone)]
pub struct Seen {
    /// `CONNECT 127.0.0.1:443 HTTP/1.1` or `GET http://... HTTP/1.1`.
    pub request_line: String,
    /// An Authorization header visible to the proxy (never acceptable).
    pub saw_authorization: bool,
}

pub struct Proxy {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    let _ = serve(client, &log);
                });
            }
        });
        Proxy { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(client: TcpStream, log: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        headers.push(h);
    }
    let saw_authorization = headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("authorization:"));
    log.lock().unwrap().push(Seen {
        request_line: line.trim_end().to_string(),
        saw_authorization,
    });
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (upstream_addr, preface) = if method == "CONNECT" {
        (target.to_string(), None)
    } else {
        // Absolute form: GET http://host:port/path HTTP/1.1 -> origin form upstream.
        let rest = target.strip_prefix("http://").unwrap_or(target);
        let (host, path) = rest
            .split_once('/')
            .map(|(h, p)| (h, format!("/{p}")))
            .unwrap_or((rest, "/".into()));
        let mut req = format!("{method} {path} HTTP/1.1\r\n");
        for h in &headers {
            if !h.to_ascii_lowercase().starts_with("proxy-") {
                req.push_str(h);
            }
        }
        req.push_str("\r\n");
        (host.to_string(), Some(req))
    };
    let mut upstream = TcpStream::connect(&upstream_addr)?;
    let mut client = client;
    match preface {
        None => client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?,
        Some(req) => upstream.write_all(req.as_bytes())?,
    }
    // Whatever the reader buffered beyond the headers belongs upstream.
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let mut up_read = upstream.try_clone()?;
    let mut client_write = client.try_clone()?;
    let down = thread::spawn(move || {
        let _ = std::io::copy(&mut up_read, &mut client_write);
        let _ = client_write.shutdown(Shutdown::Write);
    });
    let mut client_read = reader.into_inner();
    let mut buf = [0u8; 16384];
    loop {
        let n = client_read.read(&mut buf)?;
        if n == 0 {
            break;
        }
        upstream.write_all(&buf[..n])?;
    }
    let _ = upstream.shutdown(Shutdown::Write);
    let _ = down.join();
    Ok(())
}
