//! The process's one rate-limit gate, shared by the API client and the blob client.
//!
//! GitHub's limits are per token (primary) and per client (secondary), not per task: one limit
//! answer holds every task, and a secondary limit holds the blob downloads too (they are part
//! of the same burst of content requests). Every API answer's `x-ratelimit-*` headers are kept
//! here; when few requests remain before the reset, requests are spaced evenly up to it instead
//! of spending the rest at once and then failing (shards of one big fan-in share one budget).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// Below this share of the limit (and at most this many), requests are paced.
const PACE_BELOW_SHARE: u64 = 10;
const PACE_BELOW_MAX: u64 = 100;

/// What the last API answer said about the primary rate limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// Unix time the window resets.
    pub reset: Option<u64>,
}

#[derive(Debug)]
pub struct Gate {
    /// No request (API or blob) is sent before this instant (set by rate-limit answers).
    not_before: Mutex<Option<Instant>>,
    /// The next paced request's turn.
    next_paced: Mutex<Option<Instant>>,
    rate: Mutex<Rate>,
    /// Seconds of real waiting per second GitHub asks for (tests shrink it).
    scale: f64,
}

impl Gate {
    pub fn new(scale: f64) -> Gate {
        Gate {
            not_before: Mutex::new(None),
            next_paced: Mutex::new(None),
            rate: Mutex::new(Rate::default()),
            scale,
        }
    }

    /// Waits until no rate-limit wait is pending. Loops: another task may extend the wait
    /// (a second limit answer) while this one sleeps.
    pub async fn wait(&self) {
        loop {
            let until = *lock(&self.not_before);
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    /// Holds every request for `wait` (already scaled).
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut gate = lock(&self.not_before);
        if gate.is_none_or(|g| g < until) {
            *gate = Some(until);
        }
    }

    /// How much holding for `wait` (already scaled) from now would add to the hold already in
    /// place: several tasks told of one limit at once wait once, and count it once.
    pub fn extension(&self, wait: Duration) -> Duration {
        let now = Instant::now();
        match *lock(&self.not_before) {
            Some(held) if held > now => (now + wait).saturating_duration_since(held),
            _ => wait,
        }
    }

    /// GitHub's seconds as waited here.
    pub fn scaled(&self, wait: Duration) -> Duration {
        Duration::from_secs_f64(wait.as_secs_f64() * self.scale)
    }

    /// Keeps the `x-ratelimit-*` values of an API answer (GHES without limits sends none).
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let Some(remaining) = get("x-ratelimit-remaining") else {
            return;
        };
        *lock(&self.rate) = Rate {
            limit: get("x-ratelimit-limit"),
            remaining: Some(remaining),
            reset: get("x-ratelimit-reset"),
        };
    }

    pub fn rate(&self) -> Rate {
        *lock(&self.rate)
    }

    /// When few requests remain before the reset, this request's turn: requests are spaced
    /// evenly over the time left. `None`: send now. Never paces beyond `max_wait` in total.
    pub fn pace(&self, max_wait: Duration) -> Option<Duration> {
        let spacing = spacing(self.rate(), unix_now())?;
        if spacing * 2 > max_wait {
            // One request left and a far reset: the server's own answer says what to do.
            return None;
        }
        let spacing = self.scaled(spacing);
        let now = Instant::now();
        let mut next = lock(&self.next_paced);
        let turn = next.filter(|n| *n > now).unwrap_or(now);
        *next = Some(turn + spacing);
        Some(turn - now)
    }
}

/// The gap between requests that spreads what remains of the limit up to its reset; `None`
/// while plenty remains.
pub fn spacing(rate: Rate, now: u64) -> Option<Duration> {
    let (Some(remaining), Some(reset)) = (rate.remaining, rate.reset) else {
        return None;
    };
    let limit = rate.limit.unwrap_or(5000);
    let low = (limit / PACE_BELOW_SHARE).min(PACE_BELOW_MAX);
    if remaining > low || reset <= now {
        return None;
    }
    let left = Duration::from_secs(reset - now);
    Some(left / u32::try_from(remaining.max(1)).unwrap_or(u32::MAX))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(limit: u64, remaining: u64, reset: u64) -> Rate {
        Rate {
            limit: Some(limit),
            remaining: Some(remaining),
            reset: Some(reset),
        }
    }

    #[test]
    fn paces_only_when_little_is_left() {
        assert_eq!(spacing(rate(1000, 500, 1600), 1000), None);
        assert_eq!(spacing(rate(1000, 101, 1600), 1000), None);
        assert_eq!(
            spacing(rate(1000, 100, 1600), 1000),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            spacing(rate(60, 6, 1060), 1000),
            Some(Duration::from_secs(10))
        );
        // Reset passed, or no headers (GHES without limits): no pacing.
        assert_eq!(spacing(rate(1000, 5, 900), 1000), None);
        assert_eq!(spacing(Rate::default(), 1000), None);
    }

    #[tokio::test]
    async fn paced_requests_take_turns() {
        let gate = Gate::new(0.001);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", "100".parse().unwrap());
        h.insert("x-ratelimit-remaining", "2".parse().unwrap());
        h.insert(
            "x-ratelimit-reset",
            (unix_now() + 100).to_string().parse().unwrap(),
        );
        gate.observe(&h);
        let first = gate.pace(Duration::from_secs(900)).unwrap();
        let second = gate.pace(Duration::from_secs(900)).unwrap();
        assert!(second > first, "{first:?} {second:?}");
        assert_eq!(gate.rate().remaining, Some(2));
    }
}
