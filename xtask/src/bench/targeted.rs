//! Fetches that take less than everything (issue 18): `files` of one 64 MiB entry out of `huge`
//! (a partial fetch by range), a second fetch of `big` from a warm `cache-dir`, and the sweep
//! that sets `partial-download: auto`'s threshold. Each prints
//! one line for the report: what was transferred and how long it took, against its target.

use super::figures::{Row, Spread, spread};
use super::limits::extract_limits;
use super::measure::{Stat, fresh_dir, stat};
use super::server::{BENCH_RATE_LIMIT, Paths, Server, artifetch_cmd, repeat, serve};
use super::workload::{Data, Kind};
use crate::util::human;
use anyhow::{Context, Result};
use fakehub::{Options, Origin, zipbuild};
use std::path::{Path, PathBuf};

/// The entry `files` takes out of `huge`: 64 MiB of random bytes (deflate cannot shrink it).
pub(super) const HUGE_ENTRY: &str = "huge/file-07.bin";

/// The lines for `data`'s workload (huge: `files`; big: a warm cache), on a fresh unthrottled
/// server; `plain` is its unthrottled row (the full fetch and the limits).
#[allow(clippy::too_many_arguments)] // one call site, each argument a different thing
pub(super) fn targeted(
    runs: usize,
    bin: &Path,
    data: &Data,
    zips: &[PathBuf],
    unzip: bool,
    p: &Paths,
    plain: &Row,
    throttle: u64,
) -> Result<Vec<String>> {
    let s = serve(
        data,
        Options {
            rate_limit: BENCH_RATE_LIMIT,
            ..Options::default()
        },
    );
    Ok(match data.kind {
        Kind::Huge => vec![partial_huge(bin, &s, p, data, runs, plain.artifetch)?],
        Kind::Big => {
            let mut lines = vec![warm_cache_big(bin, &s, p, data, zips, unzip, runs)?];
            lines.extend(auto_threshold(bin, p, runs, throttle)?);
            lines
        }
        _ => Vec::new(),
    })
}

/// Archive sizes of the `partial-download: auto` sweep, MiB.
const SWEEP_MIB: [usize; 5] = [2, 8, 32, 64, 128];

/// What `partial-download: auto` should decide: `files` of one 64 KiB entry at the front of
/// archives of growing size (the rest random, stored), fetched by range (`true`) and whole
/// (`false`), runs interleaved; unthrottled and with the blob server capped at `throttle` bytes/s
/// per connection, as a real network is. One line per size.
fn auto_threshold(bin: &Path, p: &Paths, runs: usize, throttle: u64) -> Result<Vec<String>> {
    let mut lines = vec![format!(
        "- `partial-download: auto` threshold, `files` of a 64 KiB entry (median of {runs}; partial / whole):"
    )];
    for mib in SWEEP_MIB {
        let zip = zipbuild::ZipBuilder::new()
            .file("small.txt", &zipbuild::text_payload(64 << 10, 1))
            .stored("bulk.bin", &zipbuild::random_payload(mib << 20, 2))
            .build();
        let data = Data {
            kind: Kind::Big,
            artifacts: vec![("sweep".into(), zip)],
            extracted: (mib as u64) << 20,
            files: 1,
        };
        let mut cells = Vec::new();
        for cap in [None, Some(throttle)] {
            let s = serve(
                &data,
                Options {
                    rate_limit: BENCH_RATE_LIMIT,
                    throttle_bytes_per_sec: cap,
                    ..Options::default()
                },
            );
            let (mut partial, mut whole) = (Vec::new(), Vec::new());
            for _ in 0..runs {
                for (mode, into) in [("true", &mut partial), ("false", &mut whole)] {
                    let make = || {
                        let mut c = artifetch_cmd(bin, &s, p, None);
                        c.args(["--files", "small.txt", "--digest-mismatch", "warn"]);
                        c.args(["--partial-download", mode]);
                        Ok::<_, anyhow::Error>(c)
                    };
                    into.extend(repeat(
                        &format!("sweep-{mib}-{mode}"),
                        1,
                        p,
                        1,
                        make,
                        || {},
                    )?);
                }
            }
            let (a, b) = (stat(&partial).wall, stat(&whole).wall);
            let label = cap.map_or("unthrottled".to_string(), |c| {
                format!("{} MB/s", c / 1_000_000)
            });
            cells.push(format!(
                "{label} {:.3}s / {:.3}s = {:.2}x",
                a.as_secs_f64(),
                b.as_secs_f64(),
                a.as_secs_f64() / b.as_secs_f64()
            ));
        }
        lines.push(format!("  - {mib} MiB archive: {}", cells.join("; ")));
    }
    Ok(lines)
}

/// Blob bytes the server was asked for: the span of each `Range`, the whole archive for a
/// request without one.
fn blob_bytes(s: &Server, whole: u64) -> u64 {
    s.gh.requests()
        .iter()
        .filter(|r| r.origin == Origin::Blob)
        .map(|r| match r.header("range").and_then(span) {
            Some(n) => n,
            None => whole,
        })
        .sum()
}

fn span(range: &str) -> Option<u64> {
    let (start, end) = range.strip_prefix("bytes=")?.split_once('-')?;
    Some(end.parse::<u64>().ok()? - start.parse::<u64>().ok()? + 1)
}

/// The compressed size of `entry` and the central directory's size, read from the archive.
fn sizes(zip: &[u8], entry: &str) -> Result<(u64, u64)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip))?;
    let compressed = archive.by_name(entry)?.compressed_size();
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .context("no end of central directory")?;
    let cd = u32::from_le_bytes(zip[eocd + 12..eocd + 16].try_into()?);
    Ok((compressed, u64::from(cd)))
}

/// `files: HUGE_ENTRY` (partial-download auto, CRC-32 only) against the full fetch's `full`.
fn partial_huge(
    bin: &Path,
    s: &Server,
    p: &Paths,
    data: &Data,
    runs: usize,
    full: Stat,
) -> Result<String> {
    let zip = &data.artifacts[0].1;
    let (compressed, central) = sizes(zip, HUGE_ENTRY)?;
    let make = || {
        let mut c = artifetch_cmd(bin, s, p, None);
        c.args(["--files", HUGE_ENTRY, "--digest-mismatch", "warn"]);
        Ok::<_, anyhow::Error>(c)
    };
    s.gh.clear_requests();
    let samples = repeat("huge-files", runs, p, 1, make, || {})?;
    let got = stat(&samples);
    let asked = blob_bytes(s, zip.len() as u64) / runs as u64;
    let target = compressed + central;
    Ok(format!(
        "- `files: {HUGE_ENTRY}` out of huge ({}): {} transferred per run, {:.3}x the entry's {} compressed plus the {} central directory (target <= 1.1x); {:.2}s, {:.3}x the full fetch's {:.2}s (target <= 0.1x); peak RSS {}",
        human(zip.len() as u64),
        human(asked),
        asked as f64 / target as f64,
        human(compressed),
        human(central),
        got.wall.as_secs_f64(),
        got.wall.as_secs_f64() / full.wall.as_secs_f64(),
        full.wall.as_secs_f64(),
        human(got.rss_kib * 1024),
    ))
}

/// `big` fetched a second time from a warm `cache-dir`, against the extraction limit measured
/// in the same round (this VM's file system drifts from minute to minute; a limit from another
/// time would hand either side a different disk).
fn warm_cache_big(
    bin: &Path,
    s: &Server,
    p: &Paths,
    data: &Data,
    zips: &[PathBuf],
    unzip: bool,
    runs: usize,
) -> Result<String> {
    let cache = p.root.join("cache");
    fresh_dir(&cache)?;
    let make = || {
        let mut c = artifetch_cmd(bin, s, p, None);
        c.env("ARTIFETCH_CACHE_DIR", &cache);
        Ok::<_, anyhow::Error>(c)
    };
    // The first fetch fills the cache; it is not timed.
    repeat("big-cache-warm-fill", 1, p, data.files, make, || {})?;
    s.gh.clear_requests();
    let dest = p.root.join("limit-out");
    let (mut samples, mut limits, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..runs {
        let sample = repeat(
            &format!("big-cache-warm-{round}"),
            1,
            p,
            data.files,
            make,
            || {},
        )?;
        // The extraction limit: the faster of unzip and the zip crate, as in the main table.
        let (_, _, limit) = extract_limits(zips, &dest, unzip)?;
        ratios.push(sample[0].wall.as_secs_f64() / limit.as_secs_f64());
        limits.push(limit.as_secs_f64());
        samples.extend(sample);
    }
    let got = stat(&samples);
    let blob =
        s.gh.requests()
            .iter()
            .filter(|r| r.origin == Origin::Blob)
            .count();
    let _ = std::fs::remove_dir_all(&cache);
    Ok(format!(
        "- big from a warm cache-dir: {:.2}s; ratio to the extraction limit of the same round {} (limit median {:.2}s; target <= 1.2); {blob} blob requests over {runs} run(s) (target 0); peak RSS {}",
        got.wall.as_secs_f64(),
        spread(&Spread::of(ratios), 2),
        Spread::of(limits).median,
        human(got.rss_kib * 1024),
    ))
}
