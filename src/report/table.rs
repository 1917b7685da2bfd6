//! The summary's artifact table: one row per artifact with its status, and the failures' reasons
//! and next steps below it. Long tables fold into `<details>` and stop at [`MAX_ROWS`], so that
//! 10,000 artifacts stay far below the runner's 1 MiB summary limit.

use std::path::Path;

use super::RunReport;
use super::rows::{Row, Status};
use crate::failure::FailureKind;
use crate::fetch::{DigestCheck, Done};
use crate::plan::SkipReason;
use crate::util::human_bytes;

/// Rows above this fold into `<details>`.
const FOLD_ABOVE: usize = 20;
/// Rows shown at most; the rest are counted (the `artifacts` output lists every one).
pub(super) const MAX_ROWS: usize = 500;
/// Artifacts the selection did not ask for are listed only when this few.
const NOT_SELECTED_SHOWN: usize = 10;
/// Failures explained below the table at most.
const MAX_NOTES: usize = 20;

/// `2.9&nbsp;MiB`: a size that never wraps inside its cell.
pub(super) fn size(bytes: u64) -> String {
    human_bytes(bytes).replace(' ', "&nbsp;")
}

/// `sha256:1111…1111`: enough to compare by eye, short enough for a cell.
pub(super) fn short_hash(hex: &str) -> String {
    match (hex.get(..4), hex.get(hex.len().saturating_sub(4)..)) {
        (Some(head), Some(tail)) if hex.len() > 8 => format!("sha256:{head}…{tail}"),
        _ => format!("sha256:{hex}"),
    }
}

/// `1 artifact`, `2 artifacts`.
pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

/// `10,000`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A destination as the workflow's author wrote it: relative to the workspace when inside it.
pub(super) fn relative(dest: &Path, workspace: &Path) -> String {
    match dest.strip_prefix(workspace) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => dest.display().to_string(),
    }
}

impl RunReport<'_> {
    /// The table (folded when long) and the failures' notes; empty when there are no rows.
    pub(super) fn table(&self) -> String {
        let not_selected = self.rows.iter().filter(|r| is_not_selected(r)).count();
        // What was taken, in plan order; then what was not, by name (then id).
        let (mut shown, mut left): (Vec<&Row>, Vec<&Row>) = self
            .rows
            .iter()
            .filter(|r| not_selected <= NOT_SELECTED_SHOWN || !is_not_selected(r))
            .partition(|r| r.taken());
        left.sort_by(|a, b| {
            (&a.artifact.name, a.artifact.id).cmp(&(&b.artifact.name, b.artifact.id))
        });
        shown.append(&mut left);
        let mut md = String::new();
        if !shown.is_empty() {
            let mut table = String::from(
                "| Artifact | Status | Size | Files | SHA-256 | Destination |\n|---|---|--:|--:|---|---|\n",
            );
            for row in shown.iter().take(MAX_ROWS) {
                table.push_str(&self.row(row));
            }
            if shown.len() > MAX_ROWS {
                table.push_str(&format!(
                    "\n_… and {}, not shown (the `artifacts` output lists every one)._\n",
                    plural(shown.len() - MAX_ROWS, "more row", "more rows")
                ));
            }
            if shown.len() > FOLD_ABOVE {
                md.push_str(&format!(
                    "<details><summary>{}</summary>\n\n{table}\n</details>\n\n",
                    plural(shown.len(), "artifact", "artifacts")
                ));
            } else {
                md.push_str(&table);
                md.push('\n');
            }
        }
        if not_selected > NOT_SELECTED_SHOWN {
            md.push_str(&format!(
                "Not listed: {} of the run that {} does not select, older attempts of a name, or other shards' artifacts.\n\n",
                plural(not_selected, "other artifact", "other artifacts"),
                self.cell(&self.settings.selection.describe())
            ));
        }
        md.push_str(&self.failure_notes());
        md
    }

    fn row(&self, row: &Row) -> String {
        let a = &row.artifact;
        let dest = || self.cell(&relative(&row.dest, &self.settings.workspace));
        let (status, bytes, files, hash, dest) = match &row.status {
            Status::Fetched(done) => (
                if done.from_cache {
                    "✅ fetched from cache".to_string()
                } else {
                    "✅ fetched".to_string()
                },
                done.downloaded,
                // With `files`: what was taken, and what was left in the archive.
                match done.files_left {
                    Some(left) => {
                        format!("{} taken, {} left", thousands(done.files), thousands(left))
                    }
                    None => thousands(done.files),
                },
                self.checks(done),
                self.cell(&relative(&done.path, &self.settings.workspace)),
            ),
            Status::WouldFetch => (
                "➡️ would fetch".to_string(),
                a.size_in_bytes,
                "–".into(),
                match a.published_digest() {
                    crate::github::model::Published::Sha256(hex) => {
                        format!("{} (published)", short_hash(&hex.to_ascii_lowercase()))
                    }
                    _ => "none published".into(),
                },
                dest(),
            ),
            Status::Skipped(why) => (
                skipped(*why, a.expired).to_string(),
                a.size_in_bytes,
                "–".into(),
                "–".into(),
                "–".into(),
            ),
            Status::Failed(f) => (
                format!("❌ {}", failed(f.kind)),
                a.size_in_bytes,
                "–".into(),
                "–".into(),
                "nothing written".into(),
            ),
        };
        format!(
            "| {} | {status} | {} | {files} | {hash} | {dest} |\n",
            self.cell(&a.name),
            size(bytes)
        )
    }

    /// The SHA-256 cell of a fetched artifact: the hash and what it was checked against.
    fn checks(&self, done: &Done) -> String {
        let mut cell = match done.digest {
            DigestCheck::Verified => format!("{} ✅ verified", short_hash(&done.sha256)),
            DigestCheck::Mismatch => format!("{} ⚠️ mismatch accepted", short_hash(&done.sha256)),
            DigestCheck::Missing => format!("{} (none published)", short_hash(&done.sha256)),
            // Partial fetch: the entries' CRC-32s, and the files' own SHA-256s when
            // `expected-files` pins them; the whole archive was never there to hash.
            DigestCheck::Partial if done.files_pinned.is_some() => {
                "partial fetch: CRC-32 and each file's pinned SHA-256 ✅, archive digest not verified"
                    .to_string()
            }
            DigestCheck::Partial => {
                "⚠️ partial fetch: CRC-32 only, archive digest not verified".to_string()
            }
        };
        if done.digest_pinned {
            cell.push_str(", pinned ✅");
        }
        if let Some(p) = &done.attestation {
            cell.push_str(&format!(", provenance ✅ {}", self.cell(&provenance(p))));
        }
        cell
    }

    /// Each failure's reason in words and its next step, then the log's own message.
    fn failure_notes(&self) -> String {
        let failed: Vec<&Row> = self.rows.iter().filter(|r| r.failure().is_some()).collect();
        if failed.is_empty() {
            return String::new();
        }
        let mut md = String::from("**What failed and what to do:**\n\n");
        for row in failed.iter().take(MAX_NOTES) {
            let f = row.failure().expect("filtered on failures");
            md.push_str(&format!(
                "- **{}**: {}. Next: {}.  \n  <sub>{}</sub>\n",
                self.cell(&row.artifact.name),
                f.kind.reason(),
                f.kind.next_step(),
                self.cell(&f.message)
            ));
        }
        if failed.len() > MAX_NOTES {
            md.push_str(&format!(
                "- … and {} more: see the log.\n",
                plural(failed.len() - MAX_NOTES, "failure", "failures")
            ));
        }
        md.push('\n');
        md
    }
}

/// Rows listed only when few: what the selection did not ask for, older attempts of a name,
/// and other shards' artifacts.
fn is_not_selected(row: &Row) -> bool {
    matches!(
        row.status,
        Status::Skipped(SkipReason::NotSelected | SkipReason::Superseded | SkipReason::OtherShard)
    )
}

fn skipped(why: SkipReason, expired: bool) -> &'static str {
    match why {
        SkipReason::Expired => "⏭️ skipped: expired",
        SkipReason::OtherShard => "⏭️ skipped: another shard's",
        SkipReason::Superseded if expired => "➖ older attempt, expired",
        SkipReason::Superseded => "➖ older attempt",
        SkipReason::NotSelected if expired => "➖ not selected, expired",
        SkipReason::NotSelected => "➖ not selected",
    }
}

/// The status cell of a failure: its kind in two or three words.
fn failed(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::DigestMismatch => "digest mismatch",
        FailureKind::PinMismatch => "not as pinned",
        FailureKind::Expired => "expired",
        FailureKind::Permission => "no permission",
        FailureKind::Budget => "API budget spent",
        FailureKind::Refused => "archive refused",
        FailureKind::Provenance => "not attested",
        FailureKind::Local => "write failed",
        FailureKind::Network => "download failed",
        FailureKind::OverSent => "server sent too much",
    }
}

/// `verify-attestation`: who signed (`build.yml@refs/heads/main`, split at the signer URI's last
/// `@`: a file name may hold one), which binding held, and the signed commit and ref.
fn provenance(p: &crate::provenance::Proven) -> String {
    use crate::provenance::BoundTo;
    let id = &p.verified.identity;
    let signer = id.signer_uri.as_deref().unwrap_or("?");
    let (path, git_ref) = signer.rsplit_once('@').unwrap_or((signer, ""));
    let file = path.rsplit('/').next().unwrap_or(path);
    let made_by = id.run_url.as_deref().and_then(crate::attest::run_id_of);
    let binding = match (p.bound_to, made_by) {
        (BoundTo::Run(run), _) => format!("run binding: run {run}"),
        (BoundTo::Workflow, Some(run)) => format!("workflow binding: made by run {run}"),
        (BoundTo::Workflow, None) => "workflow binding".to_string(),
    };
    let mut text = format!("{file}@{git_ref}, {binding}");
    if let Some(commit) = &id.commit {
        let short = commit.get(..12).unwrap_or(commit);
        let of = id.source_ref.as_deref().unwrap_or("(no ref)");
        text.push_str(&format!(", commit {short} of {of}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_formats() {
        assert_eq!(short_hash(&"1".repeat(64)), "sha256:1111…1111");
        assert_eq!(size(3_040_870), "2.9&nbsp;MiB");
        assert_eq!(plural(1, "file", "files"), "1 file");
        assert_eq!(plural(10_000, "file", "files"), "10,000 files");
        assert_eq!(thousands(999), "999");
        let ws = Path::new("/w/r");
        assert_eq!(relative(Path::new("/w/r/out/dist"), ws), "out/dist");
        assert_eq!(relative(Path::new("/w/r"), ws), ".");
        assert_eq!(relative(Path::new("/tmp/x"), ws), "/tmp/x");
    }
}
