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
