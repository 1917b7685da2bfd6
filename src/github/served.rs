//! What a blob server's answer says, read from its status and headers: the whole body or the
//! range asked for (and where that range starts, of how many bytes), the length it announces, and
//! what it calls itself. The download branches on these values; only `github/` reads HTTP.

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Response, StatusCode};

use super::{content_disposition, content_range};

/// How a blob GET was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    /// 200: the whole body, from byte 0 (what a server that ignores `Range` sends too).
    Whole,
    /// 206: a range; `start` and `total` from its `Content-Range`, when that can be read.
    Part {
        start: Option<u64>,
        total: Option<u64>,
    },
    /// 416: the range asked for starts past the end (an empty body has no byte 0).
    NotSatisfiable,
    /// Anything else: an error to report, or to retry.
    Other(StatusCode),
}

impl Served {
    pub(crate) fn of(response: &Response) -> Served {
        match response.status() {
            StatusCode::OK => Served::Whole,
            StatusCode::PARTIAL_CONTENT => {
                let range = header(response, CONTENT_RANGE)
                    .as_deref()
                    .and_then(content_range::parse);
                Served::Part {
                    start: range.map(|r| r.start),
                    total: range.and_then(|r| r.total),
                }
            }
            StatusCode::RANGE_NOT_SATISFIABLE => Served::NotSatisfiable,
            other => Served::Other(other),
        }
    }

    /// A 206 whose range starts at `start`.
    pub(crate) fn is_part_from(self, start: u64) -> bool {
        matches!(self, Served::Part { start: Some(s), .. } if s == start)
    }

    /// A 206's total length, when it says one.
    pub(crate) fn total(self) -> Option<u64> {
        match self {
            Served::Part { total, .. } => total,
            _ => None,
        }
    }
}

/// `Content-Length`, when it is a number.
pub(crate) fn content_length(response: &Response) -> Option<u64> {
    header(response, CONTENT_LENGTH)?.parse().ok()
}

/// `Content-Type`, as sent.
pub(crate) fn content_type(response: &Response) -> Option<String> {
    header(response, CONTENT_TYPE)
}

/// The file name `Content-Disposition` gives, not yet checked as a path component.
pub(crate) fn file_name(response: &Response) -> Option<String> {
    content_disposition::file_name(&header(response, CONTENT_DISPOSITION)?)
}

fn header(response: &Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
