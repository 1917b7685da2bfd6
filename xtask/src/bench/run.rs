//! The benchmark itself: every workload, every tool, runs interleaved, into table rows.

use super::Config;
use super::figures::{Row, Spread, TlsRow, secs};
use super::limits::{Downloader, Limits, download_limit, extract_limits};
use super::machine::{load_average, machine, tool_version};
use super::measure::{Sample, fresh_dir, median, stat};
use super::render::{Header, render, render_json};
use super::server::{
    BENCH_RATE_LIMIT, Paths, Server, artifetch_cmd, gh_cmd, repeat, scratch, serve,
};
use super::startup::first_request;
use super::targeted::targeted;
use super::workload::{Data, generate};
use crate::util::human;
use anyhow::{Context, Result};
use fakehub::Options;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub(super) fn run(cfg: &Config) -> Result<()> {
    let bin = cfg.current_binary()?;
    let (_scratch, p) = scratch(cfg.keep, cfg.fresh_fs)?;
    let downloader = if tool_version("curl", &["--version"]).is_some() {
        Downloader::Curl
    } else {
        Downloader::RawReader
    };
    let unzip = tool_version("unzip", &["-v"]);
    let gh_version = if cfg.gh {
        tool_version("gh", &["--version"])
    } else {
        None
    };
    let started = Instant::now();
    let load_start = load_average();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(crate::util::workspace_root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    eprintln!(
        "bench: {} runs each{}, binary {} (commit {commit}), scratch {}",
        cfg.runs,
        if cfg.quick { ", quick sizes" } else { "" },
        bin.display(),
        p.root.display()
    );

    let mut rows: Vec<Row> = Vec::new();
    // Fetches that take less than everything (`files`, `cache-dir`): one line each.
    let mut less: Vec<String> = Vec::new();
    let mut tls_rows: Vec<TlsRow> = Vec::new();
    let mut gh_problem: Option<String> = None;
    for &kind in &cfg.kinds {
        let t = Instant::now();
        let data = generate(kind, cfg.quick)?;
        eprintln!(
            "  {}: {} artifacts, {} archive, {} extracted, {} files (built in {:.1}s)",
            kind.name(),
            data.artifacts.len(),
            human(data.archive()),
            human(data.extracted),
            data.files,
            t.elapsed().as_secs_f64()
        );
        fresh_dir(&p.zips)?;
        let zips: Vec<PathBuf> = data
            .artifacts
            .iter()
            .map(|(name, body)| {
                let f = p.zips.join(format!("{name}.zip"));
                std::fs::write(&f, body).map(|_| f)
            })
            .collect::<std::io::Result<_>>()?;

        rows.extend(interleaved(
            cfg,
            &bin,
            &data,
            &zips,
            &p,
            downloader,
            unzip.is_some(),
        )?);
        let plain = rows.iter().rev().find(|r| r.throttle.is_none());
        if let Some(plain) = plain {
            less.extend(targeted(
                cfg.runs,
                &bin,
                &data,
                &zips,
                unzip.is_some(),
                &p,
                plain,
                cfg.throttle,
            )?);
        }
        if cfg.https {
            let row = https_compare(cfg, &bin, &data, &p, &mut gh_problem)?;
            tls_rows.push(row);
        }
        drop(data);
        fresh_dir(&p.out)?;
    }

    let first: Vec<f64> = first_request(&bin, &p, cfg.runs.max(5))?
        .iter()
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let header = Header {
        machine: machine(),
        load_start,
        load_end: load_average(),
        commit,
        downloader,
        unzip,
        gh: gh_version,
        gh_problem,
        total: started.elapsed(),
        first_request: Spread::of(first),
        date,
    };
    let mut report = render(cfg, &rows, &tls_rows, &header);
    if !less.is_empty() {
        report.push_str(&format!(
            "\n### Taking less than everything\n\n{}\n",
            less.join("\n")
        ));
    }
    println!("{report}");
    std::fs::create_dir_all(&cfg.out)?;
    std::fs::write(cfg.out.join("bench.md"), &report)?;
    std::fs::write(
        cfg.out.join("bench.json"),
        render_json(cfg, &rows, &tls_rows, &header),
    )?;
    eprintln!(
        "report written to {} and bench.json beside it",
        cfg.out.join("bench.md").display()
    );
    if cfg.keep {
        eprintln!("scratch kept at {}", p.root.display());
    }
    Ok(())
}

/// One variant of a workload (unthrottled, throttled) and what its runs measured.
struct Variant {
    name: String,
    throttle: Option<u64>,
    server: Server,
    download: Vec<Duration>,
    samples: Vec<Sample>,
    ratios: Vec<f64>,
    requests: (usize, usize),
}

/// Every tool run by run: in each round the local extraction limits (unzip, zip-rs), then per
/// variant the download limit and artifetch. This VM's file system slows as a workload churns
/// it, so measuring one tool's runs after another's would hand the later tool a slower disk;
/// interleaved, every round sees the same machine, and each round gives one ratio.
fn interleaved(
    cfg: &Config,
    bin: &Path,
    data: &Data,
    zips: &[PathBuf],
    p: &Paths,
    downloader: Downloader,
    unzip: bool,
) -> Result<Vec<Row>> {
    let kind = data.kind;
    let mut throttles = vec![None];
    if kind.throttled_variant() {
        throttles.push(Some(cfg.throttle));
    }
    let mut variants: Vec<Variant> = throttles
        .into_iter()
        .map(|throttle| Variant {
            name: match throttle {
                None => kind.name().to_string(),
                Some(t) => format!("{}@{}MB/s", kind.name(), t / 1_000_000),
            },
            throttle,
            server: serve(
                data,
                Options {
                    throttle_bytes_per_sec: throttle,
                    rate_limit: BENCH_RATE_LIMIT,
                    ..Options::default()
                },
            ),
            download: Vec::new(),
            samples: Vec::new(),
            ratios: Vec::new(),
            requests: (0, 0),
        })
        .collect();
    let parallel = data.artifacts.len().min(8);
    let dest = p.root.join("limit-out");
    let (mut u, mut z) = (Vec::new(), Vec::new());
    for round in 0..cfg.runs {
        let (unzip_took, ziprs_took, extract) = extract_limits(zips, &dest, unzip)?;
        u.extend(unzip_took);
        z.push(ziprs_took);
        for v in &mut variants {
            let dl = download_limit(&v.server, downloader, parallel)?;
            let label = format!("{}-{round}", v.name);
            let sample = repeat(
                &label,
                1,
                p,
                data.files,
                || Ok(artifetch_cmd(bin, &v.server, p, None)),
                || v.server.gh.clear_requests(),
            )?[0];
            v.requests = v.server.requests();
            let ratio = sample.wall.as_secs_f64() / dl.max(extract).as_secs_f64().max(1e-9);
            eprintln!(
                "    {} round {}: download limit {}, extract limit {}, ratio {ratio:.2}",
                v.name,
                round + 1,
                secs(dl),
                secs(extract)
            );
            v.download.push(dl);
            v.samples.push(sample);
            v.ratios.push(ratio);
        }
    }
    let (unzip_median, ziprs_median) = (unzip.then(|| median(u)), median(z));
    Ok(variants
        .into_iter()
        .map(|v| Row {
            name: v.name,
            archive: data.archive(),
            extracted: data.extracted,
            files: data.files,
            artifetch: stat(&v.samples),
            wall_spread: Spread::of(v.samples.iter().map(|s| s.wall.as_secs_f64()).collect()),
            ratio: Spread::of(v.ratios),
            api: v.requests.0,
            blob: v.requests.1,
            limits: Limits {
                download: median(v.download),
                unzip: unzip_median,
                ziprs: ziprs_median,
            },
            throttle: v.throttle,
        })
        .collect())
}

/// artifetch and `gh run download` over HTTPS (TLS, GHES mode), runs interleaved.
pub(super) fn https_compare(
    cfg: &Config,
    bin: &Path,
    data: &Data,
    p: &Paths,
    gh_problem: &mut Option<String>,
) -> Result<TlsRow> {
    let s = serve(
        data,
        Options {
            tls: true,
            ghes: true,
            ghes_external_storage: true,
            rate_limit: BENCH_RATE_LIMIT,
            ..Options::default()
        },
    );
    let ca = s.gh.ca_file().context("TLS server without a CA file")?;
    let name = data.kind.name().to_string();
    let mut a = Vec::new();
    let mut g = Vec::new();
    let mut api = 0;
    let mut gh_api = None;
    let mut gh_err: Option<String> = gh_problem.clone();
    for i in 0..cfg.runs {
        a.extend(repeat(
            &format!("{name}-https-{i}"),
            1,
            p,
            data.files,
            || Ok(artifetch_cmd(bin, &s, p, Some(&ca))),
            || s.gh.clear_requests(),
        )?);
        api = s.requests().0;
        if cfg.gh && gh_err.is_none() {
            match repeat(
                &format!("{name}-gh-{i}"),
                1,
                p,
                data.files,
                || gh_cmd(&s, p, &ca),
                || s.gh.clear_requests(),
            ) {
                Ok(v) => {
                    g.extend(v);
                    gh_api = Some(s.requests().0);
                }
                Err(e) => {
                    let msg = format!("{e:#}");
                    eprintln!("    gh failed: {msg}");
                    gh_err = Some(msg);
                }
            }
        }
    }
    if gh_err.is_some() && gh_problem.is_none() {
        gh_problem.clone_from(&gh_err);
    }
    let gh = if !cfg.gh {
        None
    } else if let Some(e) = gh_err {
        Some(Err(e))
    } else {
        Some(Ok(stat(&g)))
    };
    Ok(TlsRow {
        name,
        artifetch: stat(&a),
        gh,
        api,
        gh_api,
    })
}
