//! GitHub's rate limits, read from an answer: how long a 403/429 asks us to wait, if it is a
//! rate limit at all (the shared pacing itself lives in [`super::gate`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Result;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// The reset time as the messages spell it (the crate's date module).
pub(crate) use util::date::utc;

/// A primary rate limit that resets further away than this is an error, not a wait.
pub(crate) const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(15 * 60);

/// How long a 403/429 asks us to wait, if it is a rate limit at all.
/// `Some(Err)` means a primary limit that resets too far away to wait for.
pub(crate) fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    seen: u32,
) -> Option<Result<Duration>> {
    if !matches!(status.as_u16(), 403 | 429) {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    // A server asking for a longer wait than a primary limit may take gets an error, not a wait.
    if let Some(after) = retry_after.filter(|s| Duration::from_secs(*s) > MAX_RATE_LIMIT_WAIT) {
        return Some(Err(anyhow::anyhow!(
            "GitHub asks to wait {} minutes before the next request (retry-after: {after}; {message}); not waiting that long",
            after / 60
        )));
    }
    if message.to_ascii_lowercase().contains("secondary rate") {
        let base = retry_after.unwrap_or(60);
        // GitHub: if it keeps happening, wait exponentially longer (within the same bound).
        return Some(Ok(Duration::from_secs(
            base.saturating_mul(1 << seen.min(4)),
        )
        .min(MAX_RATE_LIMIT_WAIT)));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let reset = header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(now + 60);
        let wait = Duration::from_secs(reset.saturating_sub(now) + 1);
        if wait > MAX_RATE_LIMIT_WAIT {
            return Some(Err(anyhow::anyhow!(
                "GitHub API rate limit exhausted ({message}); it resets in {} minutes, at {}; not waiting that long",
                wait.as_secs() / 60,
                utc(reset)
            )));
        }
        return Some(Ok(wait));
    }
    if let Some(after) = retry_after {
        return Some(Ok(Duration::from_secs(after)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn secondary_limit_waits_retry_after_then_backs_off() {
        let h = headers(&[("retry-after", "3")]);
        let msg = "You have exceeded a secondary rate limit.";
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 0)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(3));
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 2)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(12));
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), msg, 0)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(60));
    }

    #[test]
    fn primary_limit_waits_until_reset_or_refuses() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &(now + 5).to_string()),
        ]);
        let w = rate_limit_wait(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            "API rate limit exceeded",
            0,
        )
        .unwrap()
        .unwrap();
        assert!(
            w >= Duration::from_secs(5) && w <= Duration::from_secs(7),
            "{w:?}"
        );
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &(now + 3600).to_string()),
        ]);
        let e = rate_limit_wait(StatusCode::FORBIDDEN, &h, "API rate limit exceeded", 0)
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("resets in"), "{e}");
    }

    #[test]
    fn retry_after_beyond_the_bound_is_refused() {
        let h = headers(&[("retry-after", "86400")]);
        for (status, msg) in [
            (
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit.",
            ),
            (StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
        ] {
            let e = rate_limit_wait(status, &h, msg, 0).unwrap().unwrap_err();
            assert!(e.to_string().contains("not waiting that long"), "{e}");
        }
        let msg = "You have exceeded a secondary rate limit.";
        let h = headers(&[("retry-after", "600")]);
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 4)
            .unwrap()
            .unwrap();
        assert_eq!(w, MAX_RATE_LIMIT_WAIT);
    }

    #[test]
    fn plain_403_is_not_a_rate_limit() {
        assert!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "Resource not accessible by integration",
                0
            )
            .is_none()
        );
        assert!(
            rate_limit_wait(
                StatusCode::NOT_FOUND,
                &HeaderMap::new(),
                "secondary rate",
                0
            )
            .is_none()
        );
    }

    #[test]
    fn utc_times_read_well() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_704_110_400), "2024-01-01 12:00:00 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }
}
