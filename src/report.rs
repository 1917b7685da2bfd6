//! What the step leaves behind: step outputs and the job summary (log lines are [`crate::log`]).
//!
//! Outputs go to
//! `$GITHUB_OUTPUT` in the `name<<DELIMITER` form with a random delimiter, as `@actions/core`
//! writes them; the summary is Markdown appended to `$GITHUB_STEP_SUMMARY`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::fetch::{DigestCheck, Fetched};
use crate::log::{Log, is_invisible_format};
use crate::plan::Item;
use crate::resolve::{ChosenRun, Trace};
use crate::settings::Settings;
use crate::util::{human_bytes, random_hex};

/// Every step output artifetch writes (action.yml must declare exactly these).
pub const OUTPUTS: &[(&str, &str)] = &[
    (
        "download-path",
        "Absolute path the artifacts were written to",
    ),
    (
        "artifacts",
        "JSON array of the artifacts: id, name, size_in_bytes, digest, run_id, path, files",
    ),
    ("found-artifact", "true when at least one artifact matched"),
    ("run-id", "The workflow run the artifacts came from"),
    ("run-url", "Web URL of that run"),
    ("head-sha", "Head commit SHA of that run"),
    ("head-branch", "Head branch of that run"),
    ("workflow-conclusion", "Conclusion (or status) of that run"),
    (
        "digests",
        "JSON object of each fetched artifact's archive SHA-256: {name: sha256:hex}",
    ),
    (
        "files-digest",
        "SHA-256 of the canonical manifest of the extracted files (several: NAME=DIGEST lines)",
    ),
    (
        "manifest",
        "Path of a JSON file listing every extracted file: path, size, SHA-256, mode",
    ),
    (
        "manifest-sha256sum",
        "Path of the same list as sha256sum -c lines, relative to download-path",
    ),
    (
        "attestations",
        "With verify-attestation, JSON object per artifact: signer workflow, ref, commit, run URL, log index, signing time",
    ),
    (
        "matched",
        "Which search level found the run: primary, fallback-1, ... or none",
    ),
    ("cache-hit", "true when the primary search matched"),
    (
        "cache-hits",
        "How many artifacts were taken from cache-dir (hashed again) instead of downloaded",
    ),
];

/// The step summary is refused by the runner above 1 MiB; stay well below.
const SUMMARY_BUDGET: usize = 900 * 1024;

/// Appends `name<<DELIM ... DELIM` blocks to the `$GITHUB_OUTPUT` file.
pub fn write_outputs(file: &Path, outputs: &[(&str, String)]) -> Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        let delimiter = format!("ghadelimiter_{}", random_hex(32));
        if value.contains(&delimiter) || name.contains(&delimiter) {
            bail!("output {name} contains its own delimiter");
        }
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    append(file, &text).with_context(|| format!("cannot write step outputs to {}", file.display()))
}

/// Appends Markdown to the `$GITHUB_STEP_SUMMARY` file, cut to stay under the runner's limit.
pub fn write_summary(file: &Path, markdown: &str) -> Result<()> {
    let existing = std::fs::metadata(file)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    let budget = SUMMARY_BUDGET.saturating_sub(existing);
    let text = if markdown.len() > budget {
        let mut cut = budget.saturating_sub(80);
        while !markdown.is_char_boundary(cut) {
            cut -= 1;
        }
        let head = &markdown[..cut];
        let head = &head[..head.rfind('\n').map_or(0, |i| i + 1)];
        format!("{head}\n_… summary cut to stay under the 1 MiB step-summary limit._\n")
    } else {
        markdown.to_string()
    };
    append(file, &text)
        .with_context(|| format!("cannot write the job summary to {}", file.display()))
}

fn append(file: &Path, text: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(file)?;
    f.write_all(text.as_bytes())
}

/// Where outputs and the summary go, from the runner's variables.
#[derive(Debug, Clone, Default)]
pub struct Sinks {
    pub output: Option<PathBuf>,
    pub summary: Option<PathBuf>,
}

impl Sinks {
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Sinks {
        let path = |k: &str| env(k).filter(|v| !v.trim().is_empty()).map(PathBuf::from);
        Sinks {
            output: path("GITHUB_OUTPUT"),
            summary: path("GITHUB_STEP_SUMMARY"),
        }
    }
}

/// Escapes text for a GitHub-flavoured Markdown table cell so that it shows as typed: Markdown
/// punctuation is backslash-escaped (no code, links, images, emphasis or table breaks), `<` and
/// `&` become entities (no HTML, no entity smuggling a bidi override), `@` is followed by a word
/// joiner (no mention notifies anyone), and line breaks, control and invisible formatting
/// characters (bidi overrides) are shown as `U+XXXX`.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '@' => out.push_str("@\u{2060}"),
            '\n' | '\r' => out.push(' '),
            // What starts Markdown mid-line: code, emphasis, strikethrough, links and images,
            // escapes, table borders, math, headings and autolinked references. (`.`, `-`, `+`
            // matter only at the start of a line, which a cell never is.)
            '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '!' | '\\' | '|' | '$' | '#' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_invisible_format(c) => {
                out.push_str(&format!("U+{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// What one run did, for outputs and the summary.
pub struct RunReport<'a> {
    pub settings: &'a Settings,
    /// Knows the secrets to redact from server text.
    pub log: &'a Log,
    /// `None` when no run matched the search.
    pub run: Option<&'a ChosenRun>,
    pub fetched: &'a [Fetched],
    pub dry_run_items: &'a [Item],
    pub elapsed: std::time::Duration,
    pub api_requests: u64,
    /// Requests used, `max-api-requests` and the rate limit left ([`crate::github::GitHub::budget_line`]).
    pub api_budget: String,
    /// The run search, level by level.
    pub trace: &'a Trace,
}

impl RunReport<'_> {
    /// The step outputs: `download-path`, `artifacts` (JSON), `found-artifact`, `run-id`.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let s = self.settings;
        let run_id = self.run.map(|r| r.id);
        let mut list = Vec::new();
        for item in self.dry_run_items {
            let a = &item.artifact;
            list.push(serde_json::json!({
                "id": a.id, "name": a.name, "size_in_bytes": a.size_in_bytes, "digest": a.digest,
                "run_id": run_id, "path": item.dest.display().to_string(), "files": null,
            }));
        }
        for f in self.fetched {
            let a = &f.item.artifact;
            let mut v = serde_json::json!({
                "id": a.id, "name": a.name, "size_in_bytes": a.size_in_bytes, "digest": a.digest,
                "run_id": run_id,
            });
            match &f.result {
                Ok(done) => {
                    v["path"] = done.path.display().to_string().into();
                    v["files"] = done.files.into();
                    if let Some(left) = done.files_left {
                        v["files_left"] = left.into();
                    }
                    if !done.sha256.is_empty() {
                        v["sha256"] = format!("sha256:{}", done.sha256).into();
                    }
                    v["files_digest"] = done.manifest.files_digest().into();
                    v["pinned"] = serde_json::json!({
                        "digest": done.digest_pinned, "files": done.files_pinned,
                    });
                }
                Err(e) => {
                    v["path"] = serde_json::Value::Null;
                    v["files"] = 0.into();
                    v["error"] = e.clone().into();
                }
            }
            list.push(v);
        }
        let found = !self.dry_run_items.is_empty() || !self.fetched.is_empty();
        let digests: serde_json::Map<String, serde_json::Value> = self
            .fetched
            .iter()
            .filter_map(|f| Some((&f.item.artifact.name, f.result.as_ref().ok()?)))
            // A partial fetch never saw the whole archive: it has no digest to give.
            .filter(|(_, d)| !d.sha256.is_empty())
            .map(|(name, d)| (name.clone(), format!("sha256:{}", d.sha256).into()))
            .collect();
        let run = |f: fn(&ChosenRun) -> Option<String>| self.run.and_then(f).unwrap_or_default();
        vec![
            ("download-path", s.path.display().to_string()),
            ("artifacts", serde_json::Value::Array(list).to_string()),
            ("found-artifact", found.to_string()),
            ("run-id", run(|r| Some(r.id.to_string()))),
            ("run-url", run(|r| Some(r.url.clone()))),
            ("head-sha", run(|r| r.head_sha.clone())),
            ("head-branch", run(|r| r.head_branch.clone())),
            ("workflow-conclusion", run(|r| r.conclusion.clone())),
            ("matched", self.trace.matched_label()),
            ("cache-hit", (self.trace.matched == Some(0)).to_string()),
            ("cache-hits", self.cache_hits().to_string()),
            ("digests", serde_json::Value::Object(digests).to_string()),
            ("attestations", attestations(self.fetched)),
        ]
    }

    /// A summary cell: secrets redacted before escaping (escaping would hide them from
    /// redaction), then escaped for Markdown.
    fn cell(&self, s: &str) -> String {
        cell(&self.log.redact(s))
    }

    /// The Markdown job summary.
    pub fn summary(&self) -> String {
        let s = self.settings;
        let mut md = match self.run {
            Some(run) => format!(
                "### artifetch: artifacts of [{}, run {}]({})\n\nChosen: {}{}.\n\n",
                self.cell(&s.repository()),
                run.id,
                run.url,
                self.cell(&run.why),
                if run.examined > 1 {
                    format!(" ({} examined)", run.examined)
                } else {
                    String::new()
                }
            ),
            None => format!(
                "### artifetch: no run of {} matched\n\n",
                self.cell(&s.repository())
            ),
        };
        md.push_str(&self.search_section());
        if self.fetched.is_empty() && self.dry_run_items.is_empty() {
            md.push_str("No artifact matched.\n");
        } else {
            md.push_str(
                "| Artifact | Size | Files | Digest | Destination |\n|---|---:|---:|---|---|\n",
            );
        }
        for item in self.dry_run_items {
            let a = &item.artifact;
            md.push_str(&format!(
                "| {} | {} | – | {} | {} (dry run) |\n",
                self.cell(&a.name),
                human_bytes(a.size_in_bytes),
                if a.digest.is_some() {
                    "published"
                } else {
                    "none"
                },
                self.cell(&item.dest.display().to_string())
            ));
        }
        let (mut bytes, mut files, mut failed) = (0u64, 0u64, 0usize);
        for f in self.fetched {
            let a = &f.item.artifact;
            match &f.result {
                Ok(done) => {
                    if !done.from_cache {
                        bytes += done.downloaded;
                    }
                    files += done.files;
                    let digest = match done.digest {
                        DigestCheck::Verified => "✅ verified",
                        DigestCheck::Mismatch => "⚠️ mismatch",
                        DigestCheck::Missing => "– none published",
                        // Partial fetch: the entries' CRC-32s, and the files' own SHA-256s
                        // when `expected-files` pins them.
                        DigestCheck::Partial if done.files_pinned.is_some() => {
                            "partial fetch: CRC-32 and each file's pinned SHA-256 ✅, archive digest not verified"
                        }
                        DigestCheck::Partial => "⚠️ CRC-32 only, archive digest not verified",
                    };
                    let digest = if done.digest_pinned {
                        format!("{digest}, digest pinned ✅")
                    } else {
                        digest.to_string()
                    };
                    // `verify-attestation`: who signed, as `build.yml@refs/heads/main`.
                    let digest = match &done.attestation {
                        Some(v) => {
                            let signer = v.identity.signer_uri.as_deref().unwrap_or("?");
                            let (path, git_ref) = signer.split_once('@').unwrap_or((signer, ""));
                            let file = path.rsplit('/').next().unwrap_or(path);
                            format!(
                                "{digest}, provenance ✅ {}",
                                self.cell(&format!("{file}@{git_ref}"))
                            )
                        }
                        None => digest,
                    };
                    // With `files`: what was taken, and what was left in the archive.
                    let taken = match done.files_left {
                        Some(left) => format!("{} taken, {left} left", done.files),
                        None => done.files.to_string(),
                    };
                    let size = if done.from_cache {
                        format!("{} from cache", human_bytes(done.downloaded))
                    } else {
                        human_bytes(done.downloaded)
                    };
                    md.push_str(&format!(
                        "| {} | {size} | {taken} | {digest} | {} |\n",
                        self.cell(&a.name),
                        self.cell(&done.path.display().to_string())
                    ));
                }
                Err(e) => {
                    failed += 1;
                    md.push_str(&format!(
                        "| {} | {} | – | ❌ failed | {} |\n",
                        self.cell(&a.name),
                        human_bytes(a.size_in_bytes),
                        self.cell(e)
                    ));
                }
            }
        }
        let ok = self.fetched.len() - failed;
        let hits = self.cache_hits();
        md.push_str(&format!(
            "\n**Total:** {} fetched{}{}, {} downloaded, {files} files, in {:.2} s; {} API requests.\n",
            if self.dry_run_items.is_empty() { ok } else { self.dry_run_items.len() },
            if failed > 0 { format!(", {failed} failed") } else { String::new() },
            if hits > 0 { format!(" ({hits} from cache)") } else { String::new() },
            human_bytes(bytes),
            self.elapsed.as_secs_f64(),
            self.api_requests
        ));
        if !self.api_budget.is_empty() {
            md.push_str(&format!("\n**API budget:** {}.\n", cell(&self.api_budget)));
        }
        md
    }
}

impl RunReport<'_> {
    /// Artifacts taken from `cache-dir` instead of downloaded.
    fn cache_hits(&self) -> usize {
        self.fetched
            .iter()
            .filter(|f| f.result.as_ref().is_ok_and(|d| d.from_cache))
            .count()
    }

    /// The run search level by level, when there was more than one level to try.
    fn search_section(&self) -> String {
        let t = self.trace;
        let mut md = String::new();
        if let Some(w) = &t.wait {
            md.push_str(&format!("**Wait:** {}.\n\n", cell(&w.describe())));
        }
        if t.levels.len() < 2 && self.settings.fallback.is_empty() {
            return md;
        }
        md.push_str(&format!(
            "**Run search:** matched {}.\n\n| Level | Filters | Result | API requests |\n|---|---|---|---:|\n",
            t.matched_label()
        ));
        for (i, l) in t.levels.iter().enumerate() {
            let mark = if t.matched == Some(i) { "✅" } else { "–" };
            md.push_str(&format!(
                "| {} | {} | {mark} {} | {} |\n",
                cell(&l.label),
                cell(&l.filters),
                cell(&l.result),
                l.requests
            ));
        }
        md.push('\n');
        md
    }
}

/// `{name: {signer_workflow, ref, commit, run_url, log_index, signed_at}}` of verified artifacts.
fn attestations(fetched: &[crate::fetch::Fetched]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = fetched
        .iter()
        .filter_map(|f| {
            Some((
                &f.item.artifact.name,
                f.result.as_ref().ok()?.attestation.as_ref()?,
            ))
        })
        .map(|(name, v)| {
            let id = &v.identity;
            let value = serde_json::json!({
                "signer_workflow": id.signer_uri, "ref": id.source_ref, "commit": id.commit,
                "run_url": id.run_url, "log_index": v.log_index,
                "signed_at": crate::attest::time::format(v.signed_at),
            });
            (name.clone(), value)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_use_heredoc_with_random_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out");
        write_outputs(&f, &[("a", "1".into()), ("b", "x\ny".into())]).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("a<<ghadelimiter_"));
        let delim = lines[0].split("<<").nth(1).unwrap();
        assert_eq!(lines[1], "1");
        assert_eq!(lines[2], delim);
        assert!(lines[3].starts_with("b<<ghadelimiter_") && !lines[3].ends_with(delim));
        assert_eq!(&lines[4..6], &["x", "y"]);
    }

    #[test]
    fn summary_is_cut_under_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sum");
        let big = "| row |\n".repeat(200_000);
        write_summary(&f, &big).unwrap();
        let len = std::fs::metadata(&f).unwrap().len() as usize;
        assert!(len <= SUMMARY_BUDGET, "{len}");
        assert!(std::fs::read_to_string(&f).unwrap().contains("summary cut"));
    }

    #[test]
    fn escaping() {
        assert_eq!(cell("a|b<c"), "a\\|b&lt;c");
        assert_eq!(
            cell("`x` [a](b) @me **c** &#1;\u{202e}\nz"),
            "\\`x\\` \\[a\\]\\(b\\) @\u{2060}me \\*\\*c\\*\\* &amp;\\#1;U+202E z"
        );
    }
}
