//! The waits and bounds the clients keep, in the tests' scaled time: what the binary's settings
//! hand the API client (it knows nothing of inputs).

use std::time::Duration;

/// How long the API client waits, and how often it tries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// First retry backoff; doubles per attempt, with jitter. Also the unit of the request
    /// deadline, the call budget and the rate-limit wait budget.
    pub backoff: Duration,
    /// A body with no bytes for this long fails the read (and the deadline is never under twice
    /// this).
    pub stall: Duration,
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// Bound on the whole step, if any: a rate-limit wait that would outlast it is an error.
    pub overall: Option<Duration>,
}
