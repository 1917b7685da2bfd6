//! What a download may hold and how slowly it may come: the bounds, and the failures no retry fixes.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use super::{MIN_BYTES_PER_WINDOW, V3_MARGIN, seconds};
use crate::failure::{FailureKind, Kinded};
use crate::github::model::{Artifact, Published};
use crate::util::human_bytes;

/// The most bytes a download may hold, and the bound it comes from (for the message).
#[derive(Debug, Clone)]
pub(crate) struct Limit {
    pub bytes: u64,
    pub why: String,
    /// The bound is the artifact's own size: more is the server's fault, and raising
    /// `max-size` would not help (the failure says so).
    pub by_size: bool,
}

impl Limit {
    /// `size_in_bytes` exactly when a digest says the artifact is v4, with [`V3_MARGIN`] when
    /// not; and never much past `max-size` (room for the headers of a zip holding that much).
    pub(crate) fn of(a: &Artifact, max_size: u64) -> Limit {
        let size = a.size_in_bytes;
        let by_size = match a.published_digest() {
            Published::None => size.saturating_add(size / 8).saturating_add(V3_MARGIN),
            _ => size,
        };
        // A zip holding max-size bytes is larger by its headers: an eighth and 1 MiB of room.
        let by_max = max_size
            .saturating_add(max_size / 8)
            .saturating_add(1 << 20);
        if by_size <= by_max {
            Limit {
                bytes: by_size,
                why: format!("its size_in_bytes ({size} bytes)"),
                by_size: true,
            }
        } else {
            Limit {
                bytes: by_max,
                why: format!("max-size ({})", human_bytes(max_size)),
                by_size: false,
            }
        }
    }

    pub(super) fn refuse(&self, what: String) -> anyhow::Error {
        let message = format!(
            "{what}, more than {} allows (at most {} bytes accepted); refusing the download",
            self.why, self.bytes
        );
        if self.by_size {
            Kinded::error(FailureKind::OverSent, message)
        } else {
            anyhow::Error::new(Final(message))
        }
    }
}

/// A failure another attempt cannot fix: an answer that breaks a bound, or a local disk error
/// (ENOSPC, EACCES, EFBIG in RUNNER_TEMP). Never retried.
#[derive(Debug)]
pub(crate) struct Final(pub String);

impl std::fmt::Display for Final {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Final {}

/// Is this failure one that retrying cannot fix?
pub(crate) fn is_final(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Final>())
        || matches!(
            crate::failure::kind_of(e),
            Some(FailureKind::Local | FailureKind::OverSent)
        )
}

/// A local I/O failure on `path`: final (the disk does not heal between attempts).
pub(crate) fn local(e: std::io::Error, doing: &str, path: &Path) -> anyhow::Error {
    Kinded::error(
        FailureKind::Local,
        format!(
            "cannot {doing} {}: {e} (a local disk error in RUNNER_TEMP; not retried)",
            path.display()
        ),
    )
}

/// The minimum-throughput rule: in every window of twice the stall timeout at least
/// [`MIN_BYTES_PER_WINDOW`] must arrive (the stall timer alone lets a trickle run forever); two
/// slow windows in a row fail the read. Twice and two, so that a process paused by a busy machine
/// (whose backlog then arrives at once) is not mistaken for a slow server.
pub(super) struct Window {
    length: Duration,
    started: Instant,
    bytes: u64,
    /// The previous window was slow too: two in a row fail (one may be our own pause).
    slow: bool,
}

impl Window {
    pub(super) fn new(length: Duration) -> Window {
        Window {
            length,
            started: Instant::now(),
            bytes: 0,
            slow: false,
        }
    }

    pub(super) fn check(&mut self, got: usize) -> Result<()> {
        self.bytes += got as u64;
        if self.started.elapsed() < self.length {
            return Ok(());
        }
        let slow = self.bytes < MIN_BYTES_PER_WINDOW;
        if slow && self.slow {
            bail!(
                "too slow: {} bytes in {}, below the minimum of {} bytes per twice the stall-timeout",
                self.bytes,
                seconds(self.started.elapsed()),
                MIN_BYTES_PER_WINDOW
            );
        }
        *self = Window {
            slow,
            ..Window::new(self.length)
        };
        Ok(())
    }
}
