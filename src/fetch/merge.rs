//! The merge order: with `merge-multiple`, artifacts are placed into one directory one at a
//! time in plan order (name, then id), so a file in more than one of them ends up the same on
//! every run; and the one warning that says which files were replaced.

use std::sync::Arc;

/// The order in which artifacts merged into one directory are placed, and which artifact placed
/// each file so far.
pub(super) struct MergeOrder {
    /// Index of the first artifact whose turn is not over; `done` marks those over out of order.
    next: tokio::sync::watch::Sender<usize>,
    done: std::sync::Mutex<Vec<bool>>,
    owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Files placed over an earlier artifact's: (artifact, file, the earlier artifact).
    clashes: std::sync::Mutex<Vec<Clash>>,
}

/// A file one artifact placed over an earlier artifact's, under `merge-multiple`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Clash {
    by: String,
    file: String,
    over: String,
}

/// One artifact's place in a [`MergeOrder`]; dropping it ends the turn.
pub(super) struct Turn {
    pub(super) order: Arc<MergeOrder>,
    index: usize,
}

/// Collisions listed in one warning, at most.
const COLLISIONS_SHOWN: usize = 20;

impl MergeOrder {
    pub(super) fn new(len: usize) -> Self {
        Self {
            next: tokio::sync::watch::Sender::new(0),
            done: std::sync::Mutex::new(vec![false; len]),
            owners: std::sync::Mutex::new(std::collections::HashMap::new()),
            clashes: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(super) fn turn(self: &Arc<Self>, index: usize) -> Turn {
        Turn {
            order: Arc::clone(self),
            index,
        }
    }

    /// Records the files `name` placed (relative paths), and those an earlier artifact placed too.
    pub(super) fn record(&self, name: &str, files: Vec<String>) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let mut clashes = self.clashes.lock().unwrap_or_else(|e| e.into_inner());
        for file in files {
            if let Some(over) = owners.insert(file.clone(), name.to_owned()) {
                clashes.push(Clash {
                    by: name.to_owned(),
                    file,
                    over,
                });
            }
        }
    }

    /// The step's one warning about files in several artifacts: how many, what each artifact
    /// replaced, and the first few files; `None` when no file was in two.
    pub(super) fn warning(&self) -> Option<String> {
        // In placing order (turns are taken one at a time), so a file's first clash names the
        // artifact that placed it first.
        let placed = self
            .clashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if placed.is_empty() {
            return None;
        }
        let mut clashes = placed.clone();
        clashes.sort();
        let mut files: Vec<&str> = clashes.iter().map(|c| c.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        let mut per_artifact: Vec<(&str, usize)> = Vec::new();
        for c in &clashes {
            match per_artifact.last_mut() {
                Some((by, n)) if *by == c.by => *n += 1,
                _ => per_artifact.push((&c.by, 1)),
            }
        }
        let counts: Vec<String> = per_artifact
            .iter()
            .map(|(by, n)| format!("'{by}' replaced {n}"))
            .collect();
        let mut first_owner: std::collections::BTreeMap<&str, &str> = Default::default();
        for c in &placed {
            first_owner.entry(&c.file).or_insert(&c.over);
        }
        let examples: Vec<String> = first_owner
            .iter()
            .take(COLLISIONS_SHOWN)
            .map(|(file, over)| format!("{file} (from '{over}')"))
            .collect();
        let more = match files.len() {
            n if n > COLLISIONS_SHOWN => format!(" and {} more", n - COLLISIONS_SHOWN),
            _ => String::new(),
        };
        Some(format!(
            "merge-multiple: {} file(s) in more than one artifact, {} replaced (artifacts are placed in name order, then id; the last wins): {}; {}{more}",
            files.len(),
            clashes.len(),
            counts.join(", "),
            examples.join(", ")
        ))
    }
}

impl Turn {
    /// Waits until every artifact before this one has been placed (or has failed).
    pub(super) async fn wait(&self) {
        let mut rx = self.order.next.subscribe();
        let _ = rx.wait_for(|&next| next >= self.index).await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut done = self.order.done.lock().unwrap_or_else(|e| e.into_inner());
        done[self.index] = true;
        let next = done.iter().position(|d| !d).unwrap_or(done.len());
        self.order.next.send_replace(next);
    }
}

/// Where one artifact records the files it placed: the order, and the artifact's name.
pub(super) struct MergeSlot {
    pub order: Arc<MergeOrder>,
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_end_in_plan_order_whatever_order_artifacts_finish_in() {
        let order = Arc::new(MergeOrder::new(3));
        let turns: Vec<Turn> = (0..3).map(|i| order.turn(i)).collect();
        let mut turns = turns.into_iter();
        let (first, second, third) = (turns.next(), turns.next(), turns.next());
        drop(third);
        assert_eq!(
            *order.next.borrow(),
            0,
            "the last finished first: the first still goes first"
        );
        drop(first);
        assert_eq!(*order.next.borrow(), 1);
        drop(second);
        assert_eq!(*order.next.borrow(), 3, "all done");
    }

    #[tokio::test]
    async fn a_turn_waits_only_for_the_ones_before_it() {
        let order = Arc::new(MergeOrder::new(2));
        let first = order.turn(0);
        first.wait().await;
        let second = order.turn(1);
        drop(first);
        second.wait().await;
    }

    #[test]
    fn a_file_in_several_artifacts_is_one_warning_naming_who_replaced_what() {
        let order = MergeOrder::new(3);
        assert_eq!(order.warning(), None);
        order.record("a", vec!["x".into(), "y".into(), "only-a".into()]);
        order.record("b", vec!["x".into()]);
        order.record("c", vec!["x".into(), "y".into()]);
        assert_eq!(
            order.warning().unwrap(),
            "merge-multiple: 2 file(s) in more than one artifact, 3 replaced (artifacts are placed in name order, then id; the last wins): 'b' replaced 1, 'c' replaced 2; x (from 'a'), y (from 'a')"
        );
    }

    #[test]
    fn the_warning_lists_the_first_files_and_counts_the_rest() {
        let order = MergeOrder::new(2);
        let files: Vec<String> = (0..COLLISIONS_SHOWN + 5)
            .map(|i| format!("f{i:02}"))
            .collect();
        order.record("a", files.clone());
        order.record("b", files);
        let warning = order.warning().unwrap();
        assert!(warning.ends_with(" and 5 more"), "{warning}");
        assert_eq!(warning.matches(" (from 'a')").count(), COLLISIONS_SHOWN);
    }
}
