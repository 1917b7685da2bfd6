//! A tiny HTTP/1.1 server-side codec on tokio: parses request heads (and
//! `Content-Length` bodies), writes responses with keep-alive, streams large
//! shared bodies in chunks, and can misbehave on the wire on purpose
//! (truncate, reset, stall, throttle) for fault injection.

use crate::tls::Stream;
use crate::util::http_date;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest accepted request head.
const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body.
const MAX_BODY: usize = 1024 * 1024;
/// Write granularity for bodies.
const CHUNK: usize = 64 * 1024;
/// Where an "endless" body ends after all: far above any bound a client should apply to the
/// small artifacts and pages of a test, far below what would fill a test machine's disk.
pub const ENDLESS_CAP: usize = 64 << 20;

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Raw (still percent-encoded) path, without the query.
    pub path: String,
    /// Raw query string without the `?` (empty if none).
    pub query: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the client allows the connection to stay open.
    pub keep_alive: bool,
}

impl Request {
    /// First header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::util::header(&self.headers, name)
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Malformed request: answer 400 and close.
    Bad(&'static str),
    /// Socket error or EOF mid-request: just close.
    Io,
}

/// A response body; `Shared` slices a stored blob without copying it.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Owned(Vec<u8>),
    Shared {
        data: Arc<Vec<u8>>,
        start: usize,
        end: usize,
    },
    /// `prefix`, then `repeat` over and over until the client hangs up; sent without
    /// `Content-Length` (unless a header says otherwise) and with `Connection: close`.
    Endless {
        prefix: Vec<u8>,
        repeat: Vec<u8>,
    },
}

impl Body {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Owned(v) => v,
            Body::Shared { data, start, end } => data.get(*start..*end).unwrap_or(&[]),
            Body::Endless { prefix, .. } => prefix,
        }
    }
}

/// A response to write. `Content-Length`, `Date` and `Connection` are added by the writer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = Body::Owned(body.into());
        self
    }
}

/// How the body goes out on the wire.
#[derive(Debug, Clone, Copy, Default)]
pub struct WireMode {
    /// Send the full head, then only this many body bytes, then FIN.
    pub truncate_after: Option<u64>,
    /// Send this many body bytes, then close with RST (SO_LINGER 0).
    pub reset_after: Option<u64>,
    /// After this many body bytes, go silent for the duration, then carry on.
    pub stall: Option<(u64, Duration)>,
    /// Cap the body rate at this many bytes per second.
    pub throttle: Option<u64>,
}

/// One client connection with a read buffer.
pub struct Conn {
    pub(crate) stream: Stream,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(stream: Stream) -> Conn {
        let _ = stream.tcp().set_nodelay(true);
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads the next request; `Ok(None)` on a clean EOF between requests.
    pub async fn read_request(&mut self) -> Result<Option<Request>, ReadError> {
        let head_end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad("request head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Io)
                };
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| ReadError::Bad("request head is not UTF-8"))?;
        let mut req = parse_head(head)?;
        self.buf.drain(..head_end + 4);
        let len = body_length(&req)?;
        while self.buf.len() < len {
            if self.fill().await? == 0 {
                return Err(ReadError::Io);
            }
        }
        req.body = self.buf.drain(..len).collect();
        Ok(Some(req))
    }

    async fn fill(&mut self) -> Result<usize, ReadError> {
        let mut tmp = [0u8; 8192];
        let n = self
            .stream
            .read(&mut tmp)
            .await
            .map_err(|_| ReadError::Io)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Writes `resp`; returns whether the connection may be reused.
    /// `head_only` suppresses the body (HEAD requests).
    pub async fn write_response(
        &mut self,
        resp: &Response,
        keep_alive: bool,
        head_only: bool,
        wire: WireMode,
    ) -> std::io::Result<bool> {
        let endless = matches!(resp.body, Body::Endless { .. });
        let breaks = wire.truncate_after.is_some() || wire.reset_after.is_some() || endless;
        let keep = keep_alive && !breaks;
        let head = render_head(resp, keep);
        self.stream.write_all(head.as_bytes()).await?;
        if head_only {
            self.stream.flush().await?;
            return Ok(keep);
        }
        if let Body::Endless { prefix, repeat } = &resp.body {
            write_body(&mut self.stream, prefix, wire).await?;
            let mut block = Vec::with_capacity(CHUNK + repeat.len());
            while block.len() < CHUNK && !repeat.is_empty() {
                block.extend_from_slice(repeat);
            }
            // Ends when the client closes the connection (the write fails), or at a cap that
            // keeps a test run against a client without bounds from filling the disk.
            let mut sent = prefix.len();
            while sent < ENDLESS_CAP && !block.is_empty() {
                write_body(&mut self.stream, &block, wire).await?;
                sent += block.len();
            }
            let _ = self.stream.shutdown().await;
            return Ok(false);
        }
        let body = resp.body.as_slice();
        let limit = wire
            .truncate_after
            .or(wire.reset_after)
            .map_or(body.len(), |n| (n as usize).min(body.len()));
        write_body(&mut self.stream, &body[..limit], wire).await?;
        self.stream.flush().await?;
        if wire.reset_after.is_some() {
            let _ = self.stream.tcp().set_zero_linger();
            return Ok(false);
        }
        if wire.truncate_after.is_some() {
            let _ = self.stream.shutdown().await;
            return Ok(false);
        }
        Ok(keep)
    }
}

/// Writes body bytes in chunks, honouring stall and throttle.
async fn write_body(stream: &mut Stream, body: &[u8], wire: WireMode) -> std::io::Result<()> {
    let started = Instant::now();
    let mut sent = 0usize;
    let mut stalled = false;
    let chunk = match wire.throttle {
        Some(rate) => ((rate / 20) as usize).clamp(1, CHUNK),
        None => CHUNK,
    };
    while sent < body.len() {
        let mut end = (sent + chunk).min(body.len());
        if let Some((at, dur)) = wire.stall.filter(|_| !stalled) {
            let at = (at as usize).min(body.len());
            if sent >= at {
                stream.flush().await?;
                tokio::time::sleep(dur).await;
                stalled = true;
            } else {
                end = end.min(at);
            }
        }
        stream.write_all(&body[sent..end]).await?;
        sent = end;
        if let Some(rate) = wire.throttle.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    if let Some((at, dur)) = wire.stall.filter(|_| !stalled)
        && at as usize >= body.len()
    {
        stream.flush().await?;
        tokio::time::sleep(dur).await;
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &str) -> Result<Request, ReadError> {
    let mut lines = head.split("\r\n");
    let line = lines.next().ok_or(ReadError::Bad("empty request"))?;
    let mut parts = line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && t.starts_with('/') => (m, t, v),
        _ => return Err(ReadError::Bad("malformed request line")),
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(ReadError::Bad("unsupported HTTP version"));
    }
    let mut headers = Vec::new();
    for l in lines {
        let (k, v) = l
            .split_once(':')
            .ok_or(ReadError::Bad("malformed header"))?;
        if k.is_empty() || k.contains(' ') {
            return Err(ReadError::Bad("malformed header name"));
        }
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
        keep_alive: true,
    };
    let conn = req.header("connection").map(str::to_ascii_lowercase);
    req.keep_alive = match version {
        "HTTP/1.0" => conn.as_deref() == Some("keep-alive"),
        _ => conn.as_deref() != Some("close"),
    };
    Ok(req)
}

fn body_length(req: &Request) -> Result<usize, ReadError> {
    if req.header("transfer-encoding").is_some() {
        return Err(ReadError::Bad("chunked request bodies are not supported"));
    }
    let len = match req.header("content-length") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ReadError::Bad("bad Content-Length"))?,
        None => 0,
    };
    if len > MAX_BODY {
        return Err(ReadError::Bad("request body too large"));
    }
    Ok(len)
}

/// Reason phrase for the status codes this server uses.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        416 => "Range Not Satisfiable",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn render_head(resp: &Response, keep: bool) -> String {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    let has = |n: &str| resp.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has("content-length") && !matches!(resp.body, Body::Endless { .. }) {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    head.push_str(&format!("Date: {}\r\n", http_date(crate::util::now_unix())));
    head.push_str(if keep {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_heads() {
        let r =
            parse_head("GET /a/b?x=1&y HTTP/1.1\r\nUser-Agent: t\r\nConnection: close").unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("GET", "/a/b", "x=1&y")
        );
        assert_eq!(r.header("USER-AGENT"), Some("t"));
        assert!(!r.keep_alive);
        assert!(
            parse_head("GET /x HTTP/1.0")
                .map(|r| !r.keep_alive)
                .unwrap()
        );
        assert!(matches!(parse_head("garbage"), Err(ReadError::Bad(_))));
        assert!(matches!(
            parse_head("GET /x HTTP/1.1\r\nnocolon"),
            Err(ReadError::Bad(_))
        ));
        assert!(matches!(
            parse_head("GET /x HTTP/2"),
            Err(ReadError::Bad(_))
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
