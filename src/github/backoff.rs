//! The one retry schedule: exponential backoff with jitter, for API calls, downloads and
//! attestation fetches alike.

use std::time::Duration;

use crate::util::random_unit;

/// `base * 2^(n-1) * [0.5, 1.5)`, capped at `30 * base`. The base is the tests' scaled second.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    base: Duration,
}

impl Backoff {
    pub fn new(base: Duration) -> Backoff {
        Backoff { base }
    }

    /// How long to wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.base.as_secs_f64();
        let exp = base * f64::from(1u32 << attempt.saturating_sub(1).min(6));
        Duration::from_secs_f64((exp * (0.5 + random_unit())).min(base * 30.0))
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
}
