//! The leaves every artifetch crate may use and none of which knows a stage: the step log
//! ([`log`]), cancellation and the temp paths it cleans ([`cancel`]), dates ([`date`]), hex,
//! randomness without a dependency, human sizes and the nearest name for typos. It depends on no
//! other crate of the workspace, so nothing here can reach up.
//!
//! # Threat model and contract
//!
//! Every log line may carry text from a server, an archive or an input. [`log::Log`] is the one
//! place that prints, so it is where that text is made harmless: a line break in it can never
//! start a line the runner reads as a workflow command, and every secret it was told of (the
//! token, signed-URL query values) is redacted from every line, whichever crate logs it
//! (`tests/it/log_safety.rs`). [`date`] refuses an impossible date rather than rolling it over.
//! [`cancel`] lets SIGTERM remove every temp path still registered, so a killed step leaves no
//! half-written file behind (`tests/it/resilience.rs`). Randomness here is for names and jitter,
//! never for keys.

pub mod cancel;
pub mod date;
pub mod log;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `n` random hex characters. std's `RandomState` is seeded from the OS per process; mixing in
/// a counter and the clock makes successive calls differ. Good for delimiters, temp names and
/// jitter, not for keys.
pub fn random_hex(n: usize) -> String {
    let mut out = String::with_capacity(n + 16);
    while out.len() < n {
        out.push_str(&format!("{:016x}", random_u64()));
    }
    out.truncate(n);
    out
}

fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// A random fraction in [0, 1), for backoff jitter.
pub fn random_unit() -> f64 {
    // The top 53 bits: every such value is exact in an f64.
    (random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `1.5 MiB`-style sizes for logs and the summary.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Throughput as `12.3 MiB/s`.
pub fn rate(bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-6);
    format!("{}/s", human_bytes((bytes as f64 / secs) as u64))
}

/// The name closest to `wanted` by edit distance, if it is close enough to be a typo.
pub fn nearest<'a>(wanted: &str, names: &[&'a str]) -> Option<&'a str> {
    let bound = (wanted.chars().count() / 3).max(2);
    names
        .iter()
        .map(|n| (edit_distance(wanted, n), *n))
        .filter(|(d, _)| *d <= bound)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Lower-case hex of `bytes`, two digits a byte (a digest as `sha256:<hex>` writes it): the
/// workspace's one hex encoder.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_writes_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn hex_is_random_and_sized() {
        let a = random_hex(32);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, random_hex(32));
        let u = random_unit();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
    }
}
