//! The Markdown report: machine, date, commit, and one table row per workload and tool.

use super::Config;
use super::figures::{Row, Spread, TlsRow, mbps, secs, spread};
use super::limits::Downloader;
use super::machine::cores;
use crate::util::human;
use std::fmt::Write as _;
use std::time::Duration;

pub(super) struct Header {
    pub(super) machine: String,
    pub(super) load_start: String,
    pub(super) load_end: String,
    pub(super) commit: String,
    pub(super) downloader: Downloader,
    pub(super) unzip: Option<String>,
    pub(super) gh: Option<String>,
    pub(super) gh_problem: Option<String>,
    pub(super) total: Duration,
    /// Milliseconds from spawn to the first byte sent to the API host.
    pub(super) first_request: Spread,
    pub(super) date: String,
}

pub(super) fn render(cfg: &Config, rows: &[Row], tls: &[TlsRow], h: &Header) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n## artifetch benchmark ({})\n", h.date);
    let _ = writeln!(o, "- machine: {}", h.machine);
    let _ = writeln!(
        o,
        "- load average (1/5/15 min): {} at start, {} at end; total {:.0}s",
        h.load_start,
        h.load_end,
        h.total.as_secs_f64()
    );
    let _ = writeln!(
        o,
        "- artifetch commit {}; median of {} run(s){}; peak RSS = max `ru_maxrss` over the runs (wait4)",
        h.commit,
        cfg.runs,
        if cfg.quick { "; --quick sizes" } else { "" }
    );
    let dl = match h.downloader {
        Downloader::Curl => "curl to /dev/null",
        Downloader::RawReader => "a Rust raw HTTP reader (curl not found)",
    };
    let _ = writeln!(
        o,
        "- download limit: {dl}, one connection per artifact, up to 8 at once; extraction limit: the faster of {} and the zip crate with {} threads",
        h.unzip
            .as_ref()
            .map_or("(unzip not found)".to_string(), |_| format!(
                "`unzip -q` ({} at once)",
                cores()
            )),
        cores()
    );
    let _ = writeln!(
        o,
        "- every tool runs round by round (interleaved); ratio = artifetch time / max(download limit, extraction limit) of the same round, median (min–max) over the rounds; 1.00 is the machine's limit"
    );
    let _ = writeln!(
        o,
        "- time to the first API request (spawn to the first byte at the API host): {} ms\n",
        spread(&h.first_request, 1)
    );
    let _ = writeln!(
        o,
        "| workload | archive | extracted | files | artifetch | MB/s archive | MB/s extracted | peak RSS | API / blob requests | download limit | extract limit (unzip / zip-rs) | ratio to limit |"
    );
    let _ = writeln!(
        o,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let w = r.artifetch.wall;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {}s | {} | {} | {} | {} / {} | {} | {} / {} | {} |",
            r.name,
            human(r.archive),
            human(r.extracted),
            r.files,
            spread(&r.wall_spread, 2),
            mbps(r.archive, w),
            mbps(r.extracted, w),
            human(r.artifetch.rss_kib * 1024),
            r.api,
            r.blob,
            secs(r.limits.download),
            r.limits.unzip.map_or("-".into(), secs),
            secs(r.limits.ziprs),
            spread(&r.ratio, 2)
        );
    }
    let throttled: Vec<&Row> = rows.iter().filter(|r| r.throttle.is_some()).collect();
    if !throttled.is_empty() {
        let _ = writeln!(o);
        for r in throttled {
            let rate = r.throttle.unwrap_or(1) as f64;
            let got = r.archive as f64 / r.artifetch.wall.as_secs_f64().max(1e-9);
            let _ = writeln!(
                o,
                "- {}: artifetch moved {:.0} MB/s = {:.2}x one throttled connection ({:.0} MB/s)",
                r.name,
                got / 1e6,
                got / rate,
                rate / 1e6
            );
        }
    }
    if !tls.is_empty() {
        let _ = writeln!(
            o,
            "\n### Over HTTPS (fakehub TLS with a generated CA, GHES mode `/api/v3`, blob on another port)\n"
        );
        let _ = writeln!(
            o,
            "gh: {}\n",
            h.gh.as_deref()
                .unwrap_or("not installed or --no-gh: artifetch vs gh not measured")
        );
        let _ = writeln!(
            o,
            "| workload | artifetch | gh run download | artifetch / gh | artifetch RSS | gh RSS | API requests (artifetch / gh) |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for r in tls {
            let (g, ratio, grss) = match &r.gh {
                Some(Ok(g)) => (
                    secs(g.wall),
                    format!(
                        "{:.2}",
                        r.artifetch.wall.as_secs_f64() / g.wall.as_secs_f64().max(1e-9)
                    ),
                    human(g.rss_kib * 1024),
                ),
                Some(Err(_)) => ("failed".into(), "-".into(), "-".into()),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} / {} |",
                r.name,
                secs(r.artifetch.wall),
                g,
                ratio,
                human(r.artifetch.rss_kib * 1024),
                grss,
                r.api,
                r.gh_api.map_or("-".into(), |n| n.to_string())
            );
        }
        if let Some(e) = &h.gh_problem {
            let _ = writeln!(o, "\ngh could not be run against the fake server: {e}");
        }
    }
    o
}

/// The same figures as JSON (hand-written: the xtask has no JSON dependency).
pub(super) fn render_json(cfg: &Config, rows: &[Row], tls: &[TlsRow], h: &Header) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let sp = |s: &Spread| {
        format!(
            "{{\"median\": {:.4}, \"min\": {:.4}, \"max\": {:.4}}}",
            s.median, s.min, s.max
        )
    };
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e3);
    let mut workloads = Vec::new();
    for r in rows {
        workloads.push(format!(
            "    {{\"name\": {}, \"archive_bytes\": {}, \"extracted_bytes\": {}, \"files\": {}, \"seconds\": {}, \"ratio_to_limit\": {}, \"peak_rss_bytes\": {}, \"api_requests\": {}, \"blob_requests\": {}, \"download_limit_ms\": {}, \"unzip_limit_ms\": {}, \"ziprs_limit_ms\": {}, \"throttle_bytes_per_sec\": {}}}",
            q(&r.name),
            r.archive,
            r.extracted,
            r.files,
            sp(&r.wall_spread),
            sp(&r.ratio),
            r.artifetch.rss_kib * 1024,
            r.api,
            r.blob,
            ms(r.limits.download),
            r.limits.unzip.map_or("null".into(), ms),
            ms(r.limits.ziprs),
            r.throttle.map_or("null".into(), |t| t.to_string())
        ));
    }
    let mut https = Vec::new();
    for r in tls {
        let gh = match &r.gh {
            Some(Ok(g)) => ms(g.wall),
            _ => "null".into(),
        };
        https.push(format!(
            "    {{\"name\": {}, \"artifetch_ms\": {}, \"gh_ms\": {gh}, \"artifetch_rss_bytes\": {}}}",
            q(&r.name),
            ms(r.artifetch.wall),
            r.artifetch.rss_kib * 1024
        ));
    }
    format!(
        "{{\n  \"date\": {},\n  \"commit\": {},\n  \"machine\": {},\n  \"load_start\": {},\n  \"load_end\": {},\n  \"runs\": {},\n  \"quick\": {},\n  \"first_request_ms\": {},\n  \"gh\": {},\n  \"workloads\": [\n{}\n  ],\n  \"https\": [\n{}\n  ]\n}}\n",
        q(&h.date),
        q(&h.commit),
        q(&h.machine),
        q(&h.load_start),
        q(&h.load_end),
        cfg.runs,
        cfg.quick,
        sp(&h.first_request),
        h.gh.as_deref().map_or("null".into(), q),
        workloads.join(",\n"),
        https.join(",\n")
    )
}
