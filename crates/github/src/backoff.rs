//! The one schedule of waits: exponential backoff, for API calls, downloads and attestation
//! fetches alike (with jitter), and for the `wait-timeout` polls (without: the log says when the
//! next check comes, and it comes then).

use std::time::Duration;

use util::random_unit;

/// Wait `n` (1-based) is `first * 2^(n-1)`, capped at `cap`; with jitter, times `[0.5, 1.5)`
/// before the cap. The base of both is the tests' scaled second.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    jitter: bool,
}

impl Backoff {
    /// Retries: `base * 2^(n-1) * [0.5, 1.5)`, capped at `30 * base`.
    pub fn new(base: Duration) -> Backoff {
        Backoff {
            first: base,
            cap: base * 30,
            jitter: true,
        }
    }

    /// Polls while waiting for an artifact: 5, 10, 20, 40, then 60 times `base`, no jitter.
    pub fn polling(base: Duration) -> Backoff {
        Backoff {
            first: base * 5,
            cap: base * 60,
            jitter: false,
        }
    }

    /// How long to wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = 1u32 << attempt.saturating_sub(1).min(6);
        if !self.jitter {
            return (self.first * doubled).min(self.cap);
        }
        let exp = self.first.as_secs_f64() * f64::from(doubled);
        Duration::from_secs_f64((exp * (0.5 + random_unit())).min(self.cap.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_is_capped() {
        let b = Backoff::new(Duration::from_secs(1));
        for _ in 0..100 {
            let first = b.delay(1).as_secs_f64();
            assert!((0.5..1.5).contains(&first), "{first}");
            let third = b.delay(3).as_secs_f64();
            assert!((2.0..6.0).contains(&third), "{third}");
            assert!(b.delay(30).as_secs_f64() <= 30.0);
        }
        // Attempt 0 (a caller that counts from zero) waits like the first, never panics.
        assert!(b.delay(0) < Duration::from_secs(2));
    }

    #[test]
    fn polling_doubles_from_five_to_sixty_without_jitter() {
        let b = Backoff::polling(Duration::from_millis(10));
        let ms: Vec<u128> = (1..=8).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(ms, [50, 100, 200, 400, 600, 600, 600, 600]);
        // The same every time, and exact at a scaled second that is not a round number.
        let b = Backoff::polling(Duration::from_nanos(1_000_000_007));
        for _ in 0..10 {
            assert_eq!(b.delay(2), Duration::from_nanos(10_000_000_070));
            assert_eq!(b.delay(99), Duration::from_nanos(60_000_000_420));
        }
    }
}
