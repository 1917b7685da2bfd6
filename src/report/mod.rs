//! What the step leaves behind: step outputs and the job summary (log lines are [`crate::log`]).
//! [`rows`] holds one row per artifact and the verdict they add up to, `summary` and `table`
//! write the Markdown.
//!
//! Outputs go to
//! `$GITHUB_OUTPUT` in the `name<<DELIMITER` form with a random delimiter, as `@actions/core`
//! writes them; the summary is Markdown appended to `$GITHUB_STEP_SUMMARY`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::log::{Log, is_invisible_format};
use crate::plan::Head;
use crate::resolve::{ChosenRun, Trace};
use crate::settings::ReportConfig;
use crate::util::random_hex;

pub mod rows;
mod stop;
mod summary;
mod table;

pub use rows::{Problem, Row, Status, Verdict};

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
    (
        "workflow-conclusion",
        "Conclusion of that run (empty while it is still running)",
    ),
    (
        "digests",
        "JSON object of each fetched artifact's archive SHA-256: {name: sha256:hex}",
    ),
    (
        "files-digest",
        "With manifest (or a files pin): SHA-256 of the canonical manifest of the extracted files (several: NAME=DIGEST lines)",
    ),
    (
        "manifest",
        "With manifest (or a files pin): path of a JSON file listing every extracted file: path, size, SHA-256, mode",
    ),
    (
        "manifest-sha256sum",
        "With manifest (or a files pin): path of the same list as sha256sum -c lines, relative to download-path",
    ),
    (
        "attestations",
        "With verify-attestation, JSON object per artifact: signer workflow, ref, commit, run URL, log index, signing time, binding, runner",
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
/// characters (bidi overrides) are shown as `U+XXXX`. A bare `www.` or `http://`-style scheme
/// gets a word joiner before its `.` or `:`, so GFM's autolink extension (which links them
/// without brackets, at parse time and again after escapes are undone) sees no link.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '.' | ':' if starts_an_autolink(&out, c) => {
                out.push('\u{2060}');
                out.push(c);
            }
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

/// Does `c` after `before` complete what GFM autolinks: `www.` (any case), or the `:` after a
/// scheme it links (`http`, `https`, `ftp`, `mailto`, `xmpp`)? Over-matching (`xhttp:`) only
/// adds an invisible character.
fn starts_an_autolink(before: &str, c: char) -> bool {
    let tail = |n: usize| {
        before
            .len()
            .checked_sub(n)
            .and_then(|i| before.get(i..))
            .map(str::to_ascii_lowercase)
    };
    match c {
        '.' => tail(3).as_deref() == Some("www"),
        _ => ["http", "https", "ftp", "mailto", "xmpp"]
            .iter()
            .any(|scheme| tail(scheme.len()).as_deref() == Some(*scheme)),
    }
}

/// A line of the summary from text that names its fix in backticks (`permissions: actions:
/// read`): each backtick pair stays a code span, so the fix reads as code, and everything else
/// is escaped as [`cell`] escapes it. A code span shows its text as typed (no HTML, links or
/// mentions inside one); control and invisible characters are shown as `U+XXXX` there too. An
/// unpaired backtick, or a span across a line break, is escaped like any other character.
pub fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let last = parts.len() - 1;
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for (i, part) in parts.iter().enumerate() {
        let code = i % 2 == 1;
        // An odd part is code when its closing backtick exists (it is not the last part).
        if code && i < last && !part.trim().is_empty() && !part.contains(['\n', '\r']) {
            out.push('`');
            for c in part.chars() {
                match c {
                    c if c.is_control() || is_invisible_format(c) => {
                        out.push_str(&format!("U+{:04X}", c as u32));
                    }
                    c => out.push(c),
                }
            }
            out.push('`');
        } else {
            if code {
                out.push_str("\\`");
            }
            out.push_str(&cell(part));
            if code && i < last {
                out.push_str("\\`");
            }
        }
    }
    out
}

/// What one run did, for outputs and the summary.
pub struct RunReport<'a> {
    pub settings: &'a ReportConfig,
    /// Knows the secrets to redact from server text.
    pub log: &'a Log,
    /// `None` when no run matched the search.
    pub run: Option<&'a ChosenRun>,
    /// The run's commit and branch as the plan read them from its artifacts (`None` without a
    /// plan): the record shows them where the run itself did not say.
    pub head: Option<&'a Head>,
    /// One per artifact of the run: fetched, would fetch, skipped or failed.
    pub rows: &'a [Row],
    /// Why the step stopped without fetching, if it did.
    pub stopped: Option<Stopped>,
    pub elapsed: std::time::Duration,
    /// Requests used, `max-api-requests` and the rate limit left ([`crate::github::GitHub::budget_line`]).
    pub api_budget: String,
    /// The run search, level by level.
    pub trace: &'a Trace,
    /// Unix seconds, for the run's age.
    pub now: i64,
}

/// The step stopped before fetching anything: what happened, how bad it is, and the message.
#[derive(Debug, Clone)]
pub struct Stopped {
    pub what: Stop,
    pub severity: Problem,
    pub message: String,
    /// For an error: its cause in a few words, for the heading.
    pub cause: Option<String>,
    /// For an error: the fix, Markdown with `code` in backticks.
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The search found no run.
    NoRun,
    /// The run has no artifact the selection asks for.
    NoArtifact,
    /// An error before any download.
    Error,
}

impl RunReport<'_> {
    /// The step outputs: `download-path`, `artifacts` (JSON), `found-artifact`, `run-id`, ...
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let s = self.settings;
        let run_id = self.run.map(|r| r.id);
        let taken: Vec<&Row> = self.rows.iter().filter(|r| r.taken()).collect();
        let list: Vec<serde_json::Value> = taken.iter().map(|r| artifact_json(r, run_id)).collect();
        let digests: serde_json::Map<String, serde_json::Value> = taken
            .iter()
            .filter_map(|r| Some((&r.artifact.name, r.done()?)))
            // A partial fetch never saw the whole archive: it has no digest to give.
            .filter(|(_, d)| !d.sha256.is_empty())
            .map(|(name, d)| (name.clone(), format!("sha256:{}", d.sha256).into()))
            .collect();
        let run = |f: fn(&ChosenRun) -> Option<String>| self.run.and_then(f).unwrap_or_default();
        vec![
            ("download-path", s.path.display().to_string()),
            ("artifacts", serde_json::Value::Array(list).to_string()),
            ("found-artifact", (!taken.is_empty()).to_string()),
            ("run-id", run(|r| Some(r.id.to_string()))),
            ("run-url", run(|r| Some(r.url.clone()))),
            ("head-sha", self.head_sha().unwrap_or_default().to_string()),
            (
                "head-branch",
                self.head_branch().unwrap_or_default().to_string(),
            ),
            ("workflow-conclusion", run(|r| r.conclusion.clone())),
            ("matched", self.trace.matched_label()),
            ("cache-hit", (self.trace.matched == Some(0)).to_string()),
            ("cache-hits", self.cache_hits().to_string()),
            ("digests", serde_json::Value::Object(digests).to_string()),
            ("attestations", attestations(self.rows)),
        ]
    }

    /// The run's head commit: as the run search read it, else as the plan read it from the
    /// artifacts. `None` without a run.
    fn head_sha(&self) -> Option<&str> {
        let run = self.run?;
        let planned = self.head.and_then(|h| h.sha.as_deref());
        run.head_sha.as_deref().or(planned)
    }

    /// The run's head branch, read like [`RunReport::head_sha`].
    fn head_branch(&self) -> Option<&str> {
        let run = self.run?;
        let planned = self.head.and_then(|h| h.branch.as_deref());
        run.head_branch.as_deref().or(planned)
    }

    /// Artifacts taken from `cache-dir` instead of downloaded.
    fn cache_hits(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.done().is_some_and(|d| d.from_cache))
            .count()
    }

    /// A summary cell: secrets redacted before escaping (escaping would hide them from
    /// redaction), then escaped for Markdown.
    fn cell(&self, s: &str) -> String {
        cell(&self.log.redact(s))
    }

    /// A summary line whose backtick spans stay code ([`prose`]), secrets redacted first.
    fn prose(&self, s: &str) -> String {
        prose(&self.log.redact(s))
    }
}

/// One entry of the `artifacts` output.
fn artifact_json(row: &Row, run_id: Option<u64>) -> serde_json::Value {
    let a = &row.artifact;
    let mut v = serde_json::json!({
        "id": a.id, "name": a.name, "size_in_bytes": a.size_in_bytes, "digest": a.digest,
        "run_id": run_id,
    });
    match &row.status {
        Status::Fetched(done) => {
            v["path"] = done.path.display().to_string().into();
            v["files"] = done.files.into();
            if let Some(left) = done.files_left {
                v["files_left"] = left.into();
            }
            if !done.sha256.is_empty() {
                v["sha256"] = format!("sha256:{}", done.sha256).into();
            }
            // Null unless a manifest was asked for (`manifest: true` or a files pin).
            v["files_digest"] = done.manifest.as_ref().map(|m| m.files_digest()).into();
            v["pinned"] = serde_json::json!({
                "digest": done.digest_pinned, "files": done.files_pinned,
            });
        }
        Status::Failed(e) => {
            v["path"] = serde_json::Value::Null;
            v["files"] = 0.into();
            v["error"] = e.message.clone().into();
        }
        Status::WouldFetch | Status::Skipped(_) => {
            v["path"] = row.dest.display().to_string().into();
            v["files"] = serde_json::Value::Null;
        }
    }
    v
}

/// `{name: {signer_workflow, ref, commit, run_url, log_index, signed_at, binding, runner}}` of
/// verified artifacts.
fn attestations(rows: &[Row]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = rows
        .iter()
        .filter_map(|r| Some((&r.artifact.name, r.done()?.attestation.as_ref()?)))
        .map(|(name, p)| {
            let (v, id) = (&p.verified, &p.verified.identity);
            let value = serde_json::json!({
                "signer_workflow": id.signer_uri, "ref": id.source_ref, "commit": id.commit,
                "run_url": id.run_url, "log_index": v.log_index,
                "signed_at": crate::util::date::format(v.signed_at),
                "binding": p.bound_to.name(), "runner": id.runner,
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
    fn prose_keeps_code_spans_and_escapes_the_rest() {
        assert_eq!(
            prose("add `permissions: actions: read` to <the> job"),
            "add `permissions: actions: read` to &lt;the&gt; job"
        );
        assert_eq!(prose("a ` b"), "a \\` b");
        assert_eq!(prose("`x\ny` *z*"), "\\`x y\\` \\*z\\*");
        assert_eq!(prose("`<b>` @me"), "`<b>` @\u{2060}me");
        assert_eq!(prose("``"), "\\`\\`");
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
