//! The benchmark itself: every workload, every tool, runs interleaved, into table rows.

use super::Config;
use super::limits::{Downloader, Limits, download_limit, unzip_limit, ziprs_limit};
use super::machine::{cores, load_average, machine, tool_version};
use super::measure::{Stat, fresh_dir, median, stat};
use super::render::{Header, render};
use super::server::{Paths, artifetch_cmd, gh_cmd, repeat, serve};
use super::targeted::{partial_huge, warm_cache_big};
use super::workload::Kind;
use super::workload::{Data, generate};
use crate::util::{Scratch, human, release_binary};
use anyhow::{Context, Result};
use fakehub::Options;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One fake server serves every run of a workload, so the 1,000 requests an hour of a
/// `GITHUB_TOKEN` would run out after three runs of `many` and artifetch would (rightly) pace
/// itself to the reset: the benchmark measures transfer, not waiting, so its limit is generous.
const BENCH_RATE_LIMIT: u64 = 1_000_000;

/// One row of the loopback table.
pub(super) struct Row {
    pub(super) name: String,
    pub(super) archive: u64,
    pub(super) extracted: u64,
    pub(super) files: u64,
    pub(super) artifetch: Stat,
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

pub(super) fn run(cfg: &Config) -> Result<()> {
    let bin = match &cfg.bin {
        Some(b) => std::path::absolute(b)?,
        None => release_binary()?,
    };
    let mut scratch = Scratch::new("bench")?;
    scratch.keep = cfg.keep;
    let p = Paths {
        root: scratch.path.clone(),
        out: scratch.join("out"),
        temp: scratch.join("temp"),
        home: scratch.join("home"),
        logs: scratch.join("logs"),
        zips: scratch.join("zips"),
    };
    for d in [&p.home, &p.logs, &p.zips] {
        std::fs::create_dir_all(d)?;
    }
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
    let mut targeted: Vec<String> = Vec::new();
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

        let ext = measure_extraction(cfg, &zips, &p, unzip.is_some())?;
        let mut variants: Vec<Option<u64>> = vec![None];
        if kind.throttled_variant() {
            variants.push(Some(cfg.throttle));
        }
        for throttle in variants {
            let name = match throttle {
                None => kind.name().to_string(),
                Some(t) => format!("{}@{}MB/s", kind.name(), t / 1_000_000),
            };
            let s = serve(
                &data,
                Options {
                    throttle_bytes_per_sec: throttle,
                    rate_limit: BENCH_RATE_LIMIT,
                    ..Options::default()
                },
            );
            let parallel = data.artifacts.len().min(8);
            let mut dl = Vec::new();
            for _ in 0..cfg.runs {
                dl.push(download_limit(&s, downloader, parallel)?);
            }
            let limits = Limits {
                download: median(dl),
                ..ext
            };
            eprintln!(
                "    {name} limits: download {}, unzip {}, zip-rs x{} {}",
                secs(limits.download),
                limits.unzip.map_or("-".into(), secs),
                cores(),
                secs(limits.ziprs)
            );
            let samples = repeat(
                &name,
                cfg.runs,
                &p,
                data.files,
                || Ok(artifetch_cmd(&bin, &s, &p, None)),
                || s.gh.clear_requests(),
            )?;
            let (api, blob) = s.requests();
            let full = stat(&samples);
            if throttle.is_none() {
                match kind {
                    Kind::Huge => targeted.push(partial_huge(&bin, &s, &p, &data, cfg.runs, full)?),
                    Kind::Big => {
                        targeted.push(warm_cache_big(&bin, &s, &p, &data, cfg.runs, &limits)?)
                    }
                    _ => {}
                }
            }
            rows.push(Row {
                name,
                archive: data.archive(),
                extracted: data.extracted,
                files: data.files,
                artifetch: stat(&samples),
                api,
                blob,
                limits,
                throttle,
            });
        }
        if cfg.https {
            let row = https_compare(cfg, &bin, &data, &p, &mut gh_problem)?;
            tls_rows.push(row);
        }
        drop(data);
        fresh_dir(&p.out)?;
    }

    let report = render(
        cfg,
        &rows,
        &tls_rows,
        &Header {
            machine: machine(),
            load_start,
            load_end: load_average(),
            commit,
            downloader,
            unzip,
            gh: gh_version,
            gh_problem,
            total: started.elapsed(),
        },
    );
    println!("{report}");
    if !targeted.is_empty() {
        println!(
            "\n### Taking less than everything\n\n{}",
            targeted.join("\n")
        );
    }
    if cfg.keep {
        eprintln!("scratch kept at {}", p.root.display());
    }
    Ok(())
}

pub(super) fn measure_extraction(
    cfg: &Config,
    zips: &[PathBuf],
    p: &Paths,
    unzip: bool,
) -> Result<Limits> {
    let dest = p.root.join("limit-out");
    let mut u = Vec::new();
    let mut z = Vec::new();
    for _ in 0..cfg.runs {
        if unzip {
            u.push(unzip_limit(zips, &dest, cores())?);
        }
        z.push(ziprs_limit(zips, &dest, cores())?);
    }
    let _ = std::fs::remove_dir_all(&dest);
    Ok(Limits {
        download: Duration::ZERO,
        unzip: unzip.then(|| median(u)),
        ziprs: median(z),
    })
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
