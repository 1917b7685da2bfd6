//! `cargo xtask demo`: the fake GitHub with a few sample artifacts, the release binary run
//! against it as a person would run it (no `GITHUB_ACTIONS`, so plain lines), then the files it
//! fetched and the job summary it wrote. Needs no network.

use crate::util::{Flags, Scratch, human, list_files, release_binary};
use anyhow::{Context, Result, bail};
use fakehub::zipbuild::{ZipBuilder, random_payload, text_payload};
use fakehub::{ArtifactSpec, FakeGitHub, Options, Run, zipbuild};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn main(args: &[String]) -> Result<()> {
    let flags = Flags::parse(args, &["path"], &["help"])?;
    if flags.has("help") {
        println!(
            "usage: cargo xtask demo [--path DIR]   (default: a temp dir, removed afterwards)"
        );
        return Ok(());
    }
    let bin = release_binary()?;
    let scratch = Scratch::new("demo")?;
    for d in ["temp", "home"] {
        std::fs::create_dir_all(scratch.join(d))?;
    }
    let dest = match flags.value("path") {
        Some(p) => std::path::absolute(PathBuf::from(p))?,
        None => scratch.join("artifacts"),
    };

    let gh = FakeGitHub::start(Options::default());
    let run = gh.add_run(Run::new(&gh.repo()));
    let add = |spec: ArtifactSpec| gh.add_artifact(run, spec);
    add(ArtifactSpec::new("dist", zipbuild::sample_zip()));
    add(ArtifactSpec::new(
        "docs",
        ZipBuilder::new()
            .file("index.html", b"<!doctype html><h1>artifetch demo</h1>\n")
            .dir("api")
            .file("api/fetch.html", &text_payload(20_000, 3))
            .file("api/extract/safety.html", &text_payload(6_000, 4))
            .stored("img/logo.png", &random_payload(2_048, 5))
            .build(),
    ));
    add(ArtifactSpec::raw_file(
        "coverage.json",
        br#"{"lines": 93.4, "branches": 88.1}"#.to_vec(),
        "application/json",
    ));
    add(ArtifactSpec::new("old-logs", zipbuild::sample_zip()).expired(true));

    println!(
        "fake GitHub: API {} (blob origin {})",
        gh.api_url(),
        gh.blob_origin()
    );
    println!(
        "artifacts in run {run} of {}: dist, docs, coverage.json (archive: false), old-logs (expired)",
        gh.repo()
    );
    println!("$ {} --path {}\n", bin.display(), dest.display());

    let summary = scratch.join("summary.md");
    let status = step_command(&bin, &gh, run, &scratch, &summary, "output")
        .args(["--path".as_ref(), dest.as_os_str()])
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !status.success() {
        bail!("artifetch failed ({status})");
    }

    println!("\nFiles fetched into {}:", dest.display());
    for (rel, size) in list_files(&dest) {
        println!("  {rel:<40} {:>10}", human(size));
    }
    let api = gh
        .requests()
        .iter()
        .filter(|r| r.origin == fakehub::Origin::Api)
        .count();
    println!("\n(the fake server saw {api} API requests)");
    println!("\nJob summary ({}):\n", summary.display());
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("artifetch wrote no summary at {}", summary.display()))?;
    println!("{text}");
    pinned(&bin, &gh, run, &scratch)?;
    if flags.value("path").is_none() {
        println!(
            "(temporary directory {} removed; pass --path DIR to keep the files)",
            scratch.path.display()
        );
    }
    Ok(())
}

/// The pinned handoff: the producer describes the directory it uploads with `artifetch manifest`
/// and passes on upload-artifact's `artifact-id` / `artifact-digest` with that `files-digest`; the
/// consumer fetches by id, pinned to both digests.
fn pinned(bin: &Path, gh: &FakeGitHub, run: u64, scratch: &Scratch) -> Result<()> {
    let producer = scratch.join("producer/app");
    let files: &[(&str, &[u8], bool)] = &[
        (
            "app.js",
            b"console.log('hello from the producer');\n",
            false,
        ),
        (".env.example", b"PORT=8080\n", false),
        ("bin/start", b"#!/bin/sh\nexec node app.js\n", true),
    ];
    let mut zip = ZipBuilder::new();
    for &(path, data, exec) in files {
        let p = producer.join(path);
        std::fs::create_dir_all(p.parent().context("a file has a parent")?)?;
        std::fs::write(&p, data)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if exec { 0o755 } else { 0o644 };
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))?;
        }
        zip = if exec {
            zip.executable(path, data)
        } else {
            zip.file(path, data)
        };
    }
    println!("\n--- Pinned handoff ---\n\nProducer job: $ artifetch manifest producer/app");
    let out = Command::new(bin)
        .arg("manifest")
        .arg(&producer)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!("artifetch manifest failed ({})", out.status);
    }
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stderr}");
    let files_digest = stderr
        .lines()
        .find_map(|l| l.strip_prefix("files-digest: "))
        .and_then(|l| l.split_whitespace().next())
        .context("artifetch manifest printed no files-digest")?
        .to_string();
    let id = gh.add_artifact(run, ArtifactSpec::new("app", zip.build()));
    // upload-artifact's `artifact-digest` output: bare hex of the archive it uploaded.
    let digest = gh
        .artifacts()
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| a.sha256.trim_start_matches("sha256:").to_string())
        .context("the fake server lost the artifact")?;
    println!("Producer uploads 'app': artifact-id {id}, artifact-digest {digest}\n");

    let dest = scratch.join("consumer");
    let summary = scratch.join("pinned-summary.md");
    let args = [
        "--artifact-ids",
        &id.to_string(),
        "--expected-digest",
        &digest,
        "--expected-files-digest",
        &files_digest,
        "--path",
        &dest.display().to_string(),
    ]
    .map(str::to_string);
    println!("Consumer job: $ artifetch {}\n", args.join(" "));
    let status = step_command(bin, gh, run, scratch, &summary, "pinned-output")
        .args(&args)
        .status()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !status.success() {
        bail!("the pinned fetch failed ({status})");
    }
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("artifetch wrote no summary at {}", summary.display()))?;
    println!("\nJob summary of the pinned fetch:\n\n{text}");
    Ok(())
}

/// The binary with a step's environment, as the runner gives it: the fake GitHub's URLs, the
/// run, the token, and the step's summary and output files under `scratch`.
fn step_command(
    bin: &Path,
    gh: &FakeGitHub,
    run: u64,
    scratch: &Scratch,
    summary: &Path,
    output: &str,
) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GITHUB_API_URL", gh.api_url())
        .env("GITHUB_SERVER_URL", gh.server_url())
        .env("GITHUB_REPOSITORY", gh.repo())
        .env("GITHUB_RUN_ID", run.to_string())
        .env("GITHUB_TOKEN", gh.token())
        .env("GITHUB_STEP_SUMMARY", summary)
        .env("GITHUB_OUTPUT", scratch.join(output))
        .env("RUNNER_TEMP", scratch.join("temp"))
        .env("HOME", scratch.join("home"))
        .current_dir(scratch.join("home"));
    cmd
}
