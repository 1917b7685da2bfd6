//! The figures a benchmark run measures and the report prints: the table rows, the spread of
//! a figure over the rounds, and how a duration or a rate is written. `run` and `targeted`
//! produce them and `render` prints them; they live here so the imports run one way
//! (run → targeted → figures, run → render → figures).

use super::limits::Limits;
use super::measure::Stat;
use std::time::Duration;

/// One row of the loopback table.
pub(super) struct Row {
    pub(super) name: String,
    pub(super) archive: u64,
    pub(super) extracted: u64,
    pub(super) files: u64,
    pub(super) artifetch: Stat,
    /// artifetch's wall times (seconds) over the runs.
    pub(super) wall_spread: Spread,
    /// artifetch time / max(download limit, extraction limit), round by round.
    pub(super) ratio: Spread,
    pub(super) api: usize,
    pub(super) blob: usize,
    pub(super) limits: Limits,
    pub(super) throttle: Option<u64>,
}

/// One row of the HTTPS table.
pub(super) struct TlsRow {
    pub(super) name: String,
    pub(super) artifetch: Stat,
    pub(super) gh: Option<Result<Stat, String>>,
    pub(super) api: usize,
    pub(super) gh_api: Option<usize>,
}

pub(super) fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

pub(super) fn mbps(bytes: u64, d: Duration) -> String {
    format!("{:.0}", bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9))
}

/// The median of some figures, and their range.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Spread {
    pub(super) median: f64,
    pub(super) min: f64,
    pub(super) max: f64,
}

impl Spread {
    pub(super) fn of(mut v: Vec<f64>) -> Spread {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            return Spread::default();
        }
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }
}

/// `1.10 (1.02–1.25)`.
pub(super) fn spread(s: &Spread, digits: usize) -> String {
    format!(
        "{:.digits$} ({:.digits$}–{:.digits$})",
        s.median, s.min, s.max
    )
}
