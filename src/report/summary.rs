//! The job summary, written for the question "what did I get, from where, and what now": the
//! status in the heading, the run and why it was chosen, one row per artifact, what failed and
//! what to do, and a small footer with the time and the API requests.

use super::rows::{Problem, Tally, Verdict};
use super::table::{plural, size, thousands};
use super::{RunReport, Stop, cell};
use crate::resolve::ChosenRun;

impl RunReport<'_> {
    /// The Markdown job summary.
    pub fn summary(&self) -> String {
        let tally = Tally::of(self.rows);
        let mut md = self.heading(&tally);
        if let Some(run) = self.run {
            md.push_str(&self.run_block(run));
        }
        md.push_str(&self.search_section());
        if let Some(stop) = &self.stopped {
            md.push_str(&format!("{}\n\n", self.prose(&stop.message)));
            if let Some(next) = stop.next_step(self) {
                md.push_str(&format!("Next: {next}.\n\n"));
            }
        }
        md.push_str(&self.table());
        md.push_str(&self.footer());
        md
    }

    /// `### ❌ artifetch: 2 of 3 artifacts fetched, 1 failed`.
    fn heading(&self, t: &Tally) -> String {
        let verdict = self.verdict();
        let mut what = match &self.stopped {
            Some(stop) => match stop.what {
                Stop::NoRun => format!(
                    "no run of {} matched",
                    self.cell(&self.settings.source.repository())
                ),
                Stop::NoArtifact => format!(
                    "no artifact matched {}",
                    self.cell(&self.settings.selection.describe())
                ),
                Stop::Error => format!(
                    "stopped: {}",
                    self.cell(stop.cause.as_deref().unwrap_or("nothing fetched"))
                ),
            },
            None if t.would_fetch > 0 || self.settings.dry_run => format!(
                "dry run: would fetch {}",
                plural(t.would_fetch, "artifact", "artifacts")
            ),
            None if t.failed == 0 => {
                format!("{} fetched", plural(t.fetched, "artifact", "artifacts"))
            }
            None if t.fetched == 0 => {
                format!("{} failed", plural(t.failed, "artifact", "artifacts"))
            }
            None => format!(
                "{} of {} fetched, {} failed",
                thousands(t.fetched as u64),
                plural(t.taken(), "artifact", "artifacts"),
                thousands(t.failed as u64)
            ),
        };
        if t.skipped > 0 {
            what.push_str(&format!(", {} skipped", thousands(t.skipped as u64)));
        }
        if t.other_shards > 0 {
            what.push_str(&format!(
                ", {} for other shards",
                thousands(t.other_shards as u64)
            ));
        }
        format!("### {} artifetch: {what}\n\n", verdict.icon())
    }

    /// `From [octo/hello #42](url) · Build · branch main · commit 328faa0 · success · 3 hours ago`
    /// and how the run was chosen.
    fn run_block(&self, run: &ChosenRun) -> String {
        let repository = self.cell(&self.settings.source.repository());
        let title = match run.number {
            Some(n) => format!("{repository} #{n}"),
            None => format!("{repository} run {}", run.id),
        };
        let mut parts = vec![format!("[{title}]({})", run.url)];
        if let Some(w) = &run.workflow {
            parts.push(self.cell(w));
        }
        if let Some(b) = self.head_branch() {
            parts.push(format!("branch {}", self.cell(b)));
        }
        if let Some(sha) = self.head_sha() {
            parts.push(format!("commit {}", self.cell(sha.get(..7).unwrap_or(sha))));
        }
        parts.push(match &run.conclusion {
            Some(c) => self.cell(c),
            None => "in progress".into(),
        });
        if let Some(age) = run.created_at.as_deref().and_then(|t| age(t, self.now)) {
            parts.push(age);
        }
        let mut chosen = run.why();
        if let Some(level) = self.trace.matched.filter(|i| *i > 0) {
            chosen.push_str(&format!(
                "; found by {} after {} found nothing",
                self.trace.levels[level].label,
                plural(level, "level", "levels")
            ));
        }
        format!(
            "From {}.  \nChosen: {}.\n\n",
            parts.join(" · "),
            self.cell(&chosen)
        )
    }

    /// The run search level by level, when there was more than one level to try; the wait.
    fn search_section(&self) -> String {
        let t = self.trace;
        let mut md = String::new();
        if let Some(w) = &t.wait {
            md.push_str(&format!("**Wait:** {}.\n\n", cell(&w.describe())));
        }
        if t.levels.len() < 2 && !self.settings.chained {
            return md;
        }
        md.push_str(&format!(
            "**Run search:** matched {}.\n\n| Level | Filters | Result | API requests |\n|---|---|---|--:|\n",
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

    /// `<sub>1.23 s · 2.9 MiB downloaded · 12 files · 7 API requests</sub>`.
    fn footer(&self) -> String {
        let mut parts = vec![format!("{:.2}&nbsp;s", self.elapsed.as_secs_f64())];
        let done: Vec<_> = self.rows.iter().filter_map(|r| r.done()).collect();
        if !done.is_empty() {
            let downloaded = done.iter().filter(|d| !d.from_cache);
            let bytes: u64 = downloaded.map(|d| d.downloaded).sum();
            let files: u64 = done.iter().map(|d| d.files).sum();
            parts.push(format!("{} downloaded", size(bytes)));
            let hits = self.cache_hits();
            if hits > 0 {
                parts.push(format!(
                    "{} from cache",
                    plural(hits, "artifact", "artifacts")
                ));
            }
            parts.push(plural(files as usize, "file", "files"));
        }
        if !self.api_budget.is_empty() {
            parts.push(cell(&self.api_budget));
        }
        format!("<sub>{}</sub>\n", parts.join(" · "))
    }

    /// The verdict the rows (and any stop) add up to: the heading's icon and the exit code.
    pub fn verdict(&self) -> Verdict {
        Verdict::of(
            &Tally::of(self.rows),
            self.stopped.as_ref().map(|s| s.severity),
        )
    }
}

impl super::Stopped {
    /// What to do about a stop that the message itself may not say.
    fn next_step(&self, report: &RunReport) -> Option<String> {
        let s = report.settings;
        match (self.what, self.severity) {
            (Stop::Error, _) => self.next.clone(),
            (_, Problem::Error) => Some(format!(
                "check {} and the run chosen; `if-no-artifact-found: warn` or `ignore` lets the step pass without it",
                match s.selection {
                    crate::settings::Selection::All => "the run's artifacts",
                    crate::settings::Selection::Name(_) => "`name`",
                    crate::settings::Selection::Pattern(_) => "`pattern`",
                    crate::settings::Selection::Ids(_) => "`artifact-ids`",
                }
            )),
            _ => None,
        }
    }
}

/// `3 hours ago`, from an RFC 3339 time and now (Unix seconds); `None` if unreadable.
pub(super) fn age(created: &str, now: i64) -> Option<String> {
    let then = crate::util::date::parse_rfc3339(created)?;
    let secs = (now - then).max(0) as usize;
    Some(match secs {
        0..60 => "just now".into(),
        60..3_600 => format!("{} ago", plural(secs / 60, "minute", "minutes")),
        3_600..86_400 => format!("{} ago", plural(secs / 3_600, "hour", "hours")),
        _ => format!("{} ago", plural(secs / 86_400, "day", "days")),
    })
}

#[cfg(test)]
mod tests {
    use super::age;

    #[test]
    fn ages_read_as_words() {
        let t = "2026-01-02T03:04:05Z";
        let then = crate::util::date::parse_rfc3339(t).unwrap();
        assert_eq!(age(t, then + 5).unwrap(), "just now");
        assert_eq!(age(t, then + 60).unwrap(), "1 minute ago");
        assert_eq!(age(t, then + 7_300).unwrap(), "2 hours ago");
        assert_eq!(age(t, then + 86_400 * 3).unwrap(), "3 days ago");
        assert!(age("yesterday", then).is_none());
    }
}
