//! One row per artifact of the run, whatever became of it, and the verdict the rows add up to:
//! the summary's heading and the step's exit both come from here.

use std::path::PathBuf;

use crate::fetch::{Done, Failure, Fetched};
use crate::github::Artifact;
use crate::plan::{Item, Plan, SkipReason, Skipped};

/// An artifact of the run and what became of it.
#[derive(Debug, Clone)]
pub struct Row {
    pub artifact: Artifact,
    /// Where it goes (or went); empty for a skipped artifact.
    pub dest: PathBuf,
    pub status: Status,
}

#[derive(Debug, Clone)]
pub enum Status {
    Fetched(Box<Done>),
    /// `dry-run`: it would have been fetched.
    WouldFetch,
    Skipped(SkipReason),
    Failed(Failure),
}

impl Row {
    pub fn fetched(f: Fetched) -> Row {
        let status = match f.result {
            Ok(done) => Status::Fetched(Box::new(done)),
            Err(failure) => Status::Failed(failure),
        };
        Row {
            artifact: f.item.artifact,
            dest: f.item.dest,
            status,
        }
    }

    pub fn would_fetch(item: &Item) -> Row {
        Row {
            artifact: item.artifact.clone(),
            dest: item.dest.clone(),
            status: Status::WouldFetch,
        }
    }

    pub fn skipped(s: &Skipped) -> Row {
        Row {
            artifact: s.artifact.clone(),
            dest: PathBuf::new(),
            status: Status::Skipped(s.why),
        }
    }

    pub fn done(&self) -> Option<&Done> {
        match &self.status {
            Status::Fetched(d) => Some(d),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<&Failure> {
        match &self.status {
            Status::Failed(f) => Some(f),
            _ => None,
        }
    }

    /// Fetched, failed or (dry run) would be fetched: the selection asked for it.
    pub fn taken(&self) -> bool {
        !matches!(self.status, Status::Skipped(_))
    }
}

/// The rows of a fetch (or a dry run): the plan's items in plan order, then what it skipped.
pub fn rows(plan: &Plan, fetched: Vec<Fetched>, dry_run: bool) -> Vec<Row> {
    let mut rows: Vec<Row> = if dry_run {
        plan.items.iter().map(Row::would_fetch).collect()
    } else {
        fetched.into_iter().map(Row::fetched).collect()
    };
    rows.extend(plan.skipped.iter().map(Row::skipped));
    rows
}

/// Counts of the rows by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub fetched: usize,
    pub would_fetch: usize,
    pub failed: usize,
    /// Expired artifacts (the selection asked for them, their bytes are gone).
    pub skipped: usize,
    /// Selected, but left to other shards.
    pub other_shards: usize,
    /// Not asked for by the selection (a pattern, the ids) or older attempts of a name.
    pub not_selected: usize,
}

impl Tally {
    pub fn of(rows: &[Row]) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            match &r.status {
                Status::Fetched(_) => t.fetched += 1,
                Status::WouldFetch => t.would_fetch += 1,
                Status::Failed(_) => t.failed += 1,
                Status::Skipped(SkipReason::Expired) => t.skipped += 1,
                Status::Skipped(SkipReason::OtherShard) => t.other_shards += 1,
                Status::Skipped(SkipReason::NotSelected | SkipReason::Superseded) => {
                    t.not_selected += 1
                }
            }
        }
        t
    }

    /// Artifacts the step set out to fetch.
    pub fn taken(&self) -> usize {
        self.fetched + self.would_fetch + self.failed
    }
}

/// What the step's outcome adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything taken was fetched (or would be), or nothing was to be.
    Success,
    /// Some fetched, some failed: the step fails, the good ones are in place.
    Partial,
    /// Nothing fetched: every artifact failed, or the step stopped with an error.
    Failed,
    /// Nothing matched, and `if-no-artifact-found: warn` lets the step pass.
    Warned,
}

impl Verdict {
    /// From the rows, and how bad a stop before any download was, if there was one.
    pub fn of(tally: &Tally, problem: Option<Problem>) -> Verdict {
        match problem {
            Some(Problem::Error) => Verdict::Failed,
            Some(Problem::Warning) => Verdict::Warned,
            Some(Problem::Accepted) => Verdict::Success,
            None if tally.failed == 0 => Verdict::Success,
            None if tally.fetched > 0 => Verdict::Partial,
            None => Verdict::Failed,
        }
    }

    pub fn icon(self) -> &'static str {
        match self {
            Verdict::Success => "✅",
            Verdict::Warned => "⚠️",
            // Whenever the step fails, even with some artifacts in place.
            Verdict::Partial | Verdict::Failed => "❌",
        }
    }

    /// The step exits non-zero.
    pub fn fails_the_step(self) -> bool {
        matches!(self, Verdict::Partial | Verdict::Failed)
    }
}

/// How bad a step-level stop is (nothing fetched, an error before any download).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The step fails.
    Error,
    /// `if-no-artifact-found: warn`.
    Warning,
    /// `if-no-artifact-found: ignore`.
    Accepted,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::FailureKind;

    fn row(status: Status) -> Row {
        Row {
            artifact: serde_json::from_value(serde_json::json!({"id": 1, "name": "a"})).unwrap(),
            dest: PathBuf::new(),
            status,
        }
    }

    fn failed() -> Status {
        Status::Failed(Failure {
            kind: FailureKind::Network,
            message: "x".into(),
        })
    }

    #[test]
    fn the_verdict_comes_from_the_rows() {
        let verdict = |rows: &[Row]| Verdict::of(&Tally::of(rows), None);
        assert_eq!(verdict(&[row(Status::WouldFetch)]), Verdict::Success);
        assert_eq!(verdict(&[row(failed())]), Verdict::Failed);
        assert_eq!(
            verdict(&[row(failed()), row(Status::Skipped(SkipReason::Expired))]),
            Verdict::Failed
        );
        assert_eq!(verdict(&[]), Verdict::Success);
        assert!(Verdict::Partial.fails_the_step() && !Verdict::Warned.fails_the_step());
        let t = Tally::of(&[
            row(Status::Skipped(SkipReason::Expired)),
            row(Status::Skipped(SkipReason::NotSelected)),
        ]);
        assert_eq!((t.skipped, t.not_selected, t.taken()), (1, 1, 0));
    }
}
