//! The pinned handoff's part of what the step leaves behind: the manifest files, the outputs that
//! point to them (`manifest`, `manifest-sha256sum`) or summarise them (`files-digest`), and the
//! job summary's "Pinned" lines.
//!
//! Outputs are small, so per-file data goes to files, not to `$GITHUB_OUTPUT`: both are written
//! next to the `$GITHUB_OUTPUT` file (on a runner, `RUNNER_TEMP/_runner_file_commands`, emptied
//! after every job; our own temp files in `RUNNER_TEMP` stay gone), named
//! `artifetch-manifest-<random>.json` / `.sha256`, so several steps of a job never collide.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::log::Log;
use crate::manifest::Manifest;
use crate::report::{Row, RunReport, Sinks, write_outputs};
use crate::settings::ReportConfig;
use crate::util::random_hex;

/// The manifest files written for one step.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub json: PathBuf,
    pub sha256sum: PathBuf,
}

/// The fetched artifacts, with the manifest each was described by: none unless one was asked for
/// (`manifest: true` or a files pin).
fn described(rows: &[Row]) -> impl Iterator<Item = (&Row, &Manifest)> {
    rows.iter()
        .filter_map(|r| Some((r, r.done()?.manifest.as_ref()?)))
}

/// Writes the JSON manifest and the `sha256sum -c` file of every artifact fetched and described;
/// `None` when none was. `sha256sum` paths are relative to `download-path`, so `cd` there and check. Both are
/// streamed to their files, an entry at a time: an artifact of 20,000 files would otherwise hold
/// its whole JSON tree, and the text of it, in memory at once.
pub(crate) fn write_manifests(
    settings: &ReportConfig,
    rows: &[Row],
    dir: &Path,
) -> Result<Option<Written>> {
    if described(rows).next().is_none() {
        return Ok(None);
    }
    let artifacts: Vec<ArtifactDoc> = described(rows)
        .map(|(r, m)| ArtifactDoc {
            entries: Entries(m),
            files: m.file_count(),
            files_digest: m.files_digest(),
            id: r.artifact.id,
            name: &r.artifact.name,
            path: r.dest.display().to_string(),
            // A partial fetch never had the whole archive to hash.
            sha256: r
                .done()
                .filter(|d| !d.sha256.is_empty())
                .map(|d| format!("sha256:{}", d.sha256)),
        })
        .collect();
    let doc = Doc {
        artifacts,
        download_path: settings.path.display().to_string(),
        format: "artifetch-manifest-1",
    };
    let stem = dir.join(format!("artifetch-manifest-{}", random_hex(12)));
    let written = Written {
        json: stem.with_extension("json"),
        sha256sum: stem.with_extension("sha256"),
    };
    write_to(&written.json, |out| {
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        Ok(out.write_all(b"\n")?)
    })?;
    write_to(&written.sha256sum, |out| {
        for (r, m) in described(rows) {
            let prefix = relative_prefix(&settings.path, &r.dest);
            out.write_all(m.sha256sum(&prefix).as_bytes())?;
        }
        Ok(())
    })?;
    Ok(Some(written))
}

/// The manifest JSON document; fields in the order `serde_json`'s sorted maps gave them, so the
/// text is the same as it always was.
#[derive(Serialize)]
struct Doc<'a> {
    artifacts: Vec<ArtifactDoc<'a>>,
    download_path: String,
    format: &'static str,
}

#[derive(Serialize)]
struct ArtifactDoc<'a> {
    entries: Entries<'a>,
    files: usize,
    files_digest: String,
    id: u64,
    name: &'a str,
    path: String,
    sha256: Option<String>,
}

/// A manifest's entries, each turned into JSON only as it is written.
struct Entries<'a>(&'a Manifest);

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.entries.iter().map(|e| e.json()))
    }
}

/// Writes `path` through a buffer, naming it in any error.
fn write_to(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let context = || format!("cannot write the manifest {}", path.display());
    let mut out = BufWriter::new(File::create(path).with_context(context)?);
    write(&mut out).with_context(context)?;
    out.flush().with_context(context)
}

/// `name/` when the artifact went to `download-path/name`, `""` when into `download-path`.
fn relative_prefix(base: &Path, dest: &Path) -> String {
    match dest.strip_prefix(base) {
        Ok(rel) if rel.as_os_str().is_empty() => String::new(),
        Ok(rel) => format!("{}/", rel.to_string_lossy().replace('\\', "/")),
        Err(_) => format!("{}/", dest.display()),
    }
}

/// `files-digest`, `manifest`, `manifest-sha256sum`; all empty unless a manifest was asked for.
/// With several artifacts, `files-digest` is `NAME=sha256:…` lines: the form
/// `expected-files-digest` takes.
pub(crate) fn outputs(rows: &[Row], written: Option<&Written>) -> Vec<(&'static str, String)> {
    let all: Vec<(&Row, &Manifest)> = described(rows).collect();
    let files_digest = match all.as_slice() {
        [(_, m)] if rows.iter().filter(|r| r.taken()).count() == 1 => m.files_digest(),
        _ => all
            .iter()
            .map(|(r, m)| format!("{}={}", r.artifact.name, m.files_digest()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let path = |p: Option<&PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_default();
    vec![
        ("files-digest", files_digest),
        ("manifest", path(written.map(|w| &w.json))),
        ("manifest-sha256sum", path(written.map(|w| &w.sha256sum))),
    ]
}

/// The summary's "Pinned" section: what each artifact was checked against; empty when nothing
/// was pinned.
pub(crate) fn summary(report: &RunReport) -> String {
    let p = &report.settings.pins;
    if p.digest.is_none() && !p.pins_files() {
        return String::new();
    }
    let mut md = String::from("\n**Pinned to what the producer made:**\n\n");
    for r in report
        .rows
        .iter()
        .filter(|r| r.done().is_some() || r.failure().is_some())
    {
        // Redacted before escaping, as the report's own cells are.
        let name = crate::report::cell(&report.log.redact(&r.artifact.name));
        let line = match r.done() {
            Some(d) => {
                let mut checks = Vec::new();
                if d.digest_pinned {
                    checks.push("digest pinned ✅".to_string());
                }
                if let Some(n) = d.files_pinned {
                    checks.push(format!("{n} files match the producer's manifest ✅"));
                }
                checks.join(", ")
            }
            None => "❌ failed (see the table above)".to_string(),
        };
        md.push_str(&format!("- `{name}`: {line}\n"));
    }
    md
}

/// `artifetch manifest DIR`, the producer's side: the canonical manifest on stdout (so
/// `artifetch manifest DIR | sha256sum` gives the digest too; in a step's log, lines defused as
/// every log line is), `files-digest` on stderr and, in a workflow step, as the step output
/// `files-digest`.
pub(crate) fn print_manifest(dir: &Path, sinks: &Sinks, log: &Log) -> Result<()> {
    let meta = std::fs::metadata(dir)
        .with_context(|| format!("manifest: cannot read {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("manifest: {} is not a directory", dir.display());
    }
    let manifest = Manifest::of_dir(dir).with_context(|| format!("manifest: {}", dir.display()))?;
    let digest = manifest.files_digest();
    if let Some(file) = &sinks.output {
        write_outputs(file, &[("files-digest", digest.clone())])?;
    }
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let text = crate::log::document_for_stdout(log, &manifest.canonical());
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("manifest: cannot write to stdout")?;
    eprintln!(
        "files-digest: {digest} ({} files, {} entries)",
        manifest.file_count(),
        manifest.entries.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Entry, Kind};

    /// The streamed document is the text the `serde_json::json!` tree gave before it.
    #[test]
    fn the_streamed_manifest_is_the_text_of_the_json_tree() {
        let manifest = Manifest::new(vec![
            Entry {
                path: b"bin/tool".to_vec(),
                kind: Kind::File {
                    size: 3,
                    sha256: "ab".repeat(32),
                    executable: true,
                },
            },
            Entry {
                path: b"link".to_vec(),
                kind: Kind::Symlink {
                    target: b"bin/tool".to_vec(),
                },
            },
            Entry {
                path: b"empty".to_vec(),
                kind: Kind::Dir,
            },
        ]);
        let doc = Doc {
            artifacts: vec![ArtifactDoc {
                entries: Entries(&manifest),
                files: manifest.file_count(),
                files_digest: manifest.files_digest(),
                id: 7,
                name: "dist",
                path: "/w/dist".into(),
                sha256: None,
            }],
            download_path: "/w".into(),
            format: "artifetch-manifest-1",
        };
        let tree = serde_json::json!({
            "format": "artifetch-manifest-1",
            "download_path": "/w",
            "artifacts": [{
                "name": "dist",
                "id": 7,
                "path": "/w/dist",
                "sha256": None::<String>,
                "files_digest": manifest.files_digest(),
                "files": 1,
                "entries": manifest.entries.iter().map(|e| e.json()).collect::<Vec<_>>(),
            }],
        });
        assert_eq!(
            serde_json::to_string_pretty(&doc).unwrap(),
            serde_json::to_string_pretty(&tree).unwrap()
        );
    }
}
