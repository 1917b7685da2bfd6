//! What a blob server's answer says, read from its status and headers: the whole body or the
//! range asked for (and where that range starts, of how many bytes), the length it announces, and
//! what it calls itself. [`Reply`] is such an answer as the rest of artifetch holds it: callers
//! branch on [`Served`] and read the body through [`BodyReader`]; only `github/` reads HTTP.

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Response, StatusCode};

use super::body::{self, BodyReader};
use super::{content_disposition, content_range};

/// How a blob GET was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// 200: the whole body, from byte 0 (what a server that ignores `Range` sends too).
    Whole,
    /// 206: a range; `start` and `total` from its `Content-Range`, when that can be read.
    Part {
        start: Option<u64>,
        total: Option<u64>,
    },
    /// 416: the range asked for starts past the end (an empty body has no byte 0).
    NotSatisfiable,
    /// Anything else: an error to report ([`Reply::answered`] says which), or to retry.
    Other,
}

impl Served {
    /// A 206 whose range starts at `start`.
    pub fn is_part_from(self, start: u64) -> bool {
        matches!(self, Served::Part { start: Some(s), .. } if s == start)
    }

    /// A 206's total length, when it says one.
    pub fn total(self) -> Option<u64> {
        match self {
            Served::Part { total, .. } => total,
            _ => None,
        }
    }
}

/// An answer whose body is an artifact's bytes (a blob server's, or the API's own when it serves
/// the archive itself), its body not yet read.
#[derive(Debug)]
pub struct Reply {
    response: Response,
}

impl Reply {
    pub(crate) fn new(response: Response) -> Reply {
        Reply { response }
    }

    /// What the status (and a 206's `Content-Range`) says was served.
    pub fn served(&self) -> Served {
        match self.response.status() {
            StatusCode::OK => Served::Whole,
            StatusCode::PARTIAL_CONTENT => {
                let range = self.header(CONTENT_RANGE);
                let range = range.as_deref().and_then(content_range::parse);
                Served::Part {
                    start: range.map(|r| r.start),
                    total: range.and_then(|r| r.total),
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE => Served::NotSatisfiable,
            _ => Served::Other,
        }
    }

    /// `Content-Length`, when it is a number.
    pub fn content_length(&self) -> Option<u64> {
        self.header(CONTENT_LENGTH)?.parse().ok()
    }

    /// `Content-Type`, as sent.
    pub fn content_type(&self) -> Option<String> {
        self.header(CONTENT_TYPE)
    }

    /// The file name `Content-Disposition` gives, not yet checked as a path component.
    pub fn file_name(&self) -> Option<String> {
        content_disposition::file_name(&self.header(CONTENT_DISPOSITION)?)
    }

    /// The path of the URL that answered, for messages (never its signed query).
    pub fn path(&self) -> &str {
        self.response.url().path()
    }

    /// The response itself, for the API client's own reading (never handed out of `github/`).
    pub(crate) fn into_response(self) -> Response {
        self.response
    }

    /// The body, streamed, never past `cap` bytes.
    pub fn body(self, cap: u64) -> BodyReader {
        BodyReader::new(self.response, cap)
    }

    /// What an unwanted answer was, for a message: its status and the start of its body
    /// (`404 Not Found: BlobNotFound`), the body read within a bound.
    pub async fn answered(self) -> String {
        let status = self.response.status();
        let snippet = body::snippet(self.response).await;
        if snippet.is_empty() {
            format!("{status}")
        } else {
            format!("{status}: {snippet}")
        }
    }

    fn header(&self, name: reqwest::header::HeaderName) -> Option<String> {
        self.response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}
