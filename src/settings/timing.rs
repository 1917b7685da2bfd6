//! The waits: retries, stalls, progress lines, the step's own `timeout`, and the API budget.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::inputs::{RawInputs, input};

use super::values::number;

/// Waits that tests shrink through the hidden `ARTIFETCH_TIME_SCALE` variable.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    /// First retry backoff; doubles per attempt, with jitter.
    pub(crate) backoff: Duration,
    /// A blob download with no bytes for this long is retried.
    pub(crate) stall: Duration,
    /// How often a long download logs its progress.
    pub(crate) progress: Duration,
    pub(crate) attempts: u32,
    /// Bound on the whole step (`timeout` input, minutes); not scaled.
    pub(crate) overall: Option<Duration>,
}

impl Timing {
    /// What the API client keeps of these (crates/github knows nothing of settings).
    pub(crate) fn github(&self) -> crate::github::Timing {
        crate::github::Timing {
            backoff: self.backoff,
            stall: self.stall,
            attempts: self.attempts,
            overall: self.overall,
        }
    }
}

/// The waits: retries, stalls, progress lines, and the step's own `timeout`.
pub(super) fn timing(raw: &RawInputs, scaled: &dyn Fn(f64) -> Duration) -> Result<Timing> {
    Ok(Timing {
        backoff: scaled(1.0),
        stall: scaled(number(
            raw,
            input!("stall-timeout"),
            "seconds",
            1.0..=86_400.0,
            false,
        )?),
        progress: scaled(5.0),
        attempts: 5,
        overall: match number(raw, input!("timeout"), "minutes", 0.01..=7_200.0, true)? {
            m if m > 0.0 => Some(Duration::from_secs_f64(m * 60.0)),
            _ => None,
        },
    })
}

pub(super) fn max_api_requests(raw: &RawInputs) -> Result<Option<u64>> {
    raw.get(input!("max-api-requests"))
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("max-api-requests: '{v}' is not a positive integer; expected the most API requests this step may send"))
        })
        .transpose()
}
