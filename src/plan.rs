//! The plan's config + the API -> a [`Plan`]: which artifacts of the run to fetch and where each goes, and
//! what the run record needs from them ([`Head`]: the commit and branch they were built from).
//!
//! Selection happens here (exact name through the server-side filter, glob, or ids), with the
//! rules the official client follows: expired artifacts are skipped with a warning (or are an
//! error when asked for by name or id), and of several artifacts with one name (re-run attempts)
//! the newest, the highest id, wins. Layout follows the official action: one artifact goes
//! straight into `path`, several into `path/<name>/`, and `merge-multiple` puts all into `path`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::extract::{is_git_name, is_safe_component};
use crate::github::{Artifact, GitHub};
use crate::github::{Refusal, refusal};
use crate::log::Log;
use crate::resolve::{ChosenRun, Reason};
use crate::settings::{PlanConfig, Selection, Source};

/// The artifact asked for by name exists only expired: an error, or for a `fallback` chain a
/// level that did not match.
#[derive(Debug)]
pub(crate) struct Expired(pub String);

impl std::fmt::Display for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Expired {}

/// One artifact to fetch and the directory it lands in.
#[derive(Debug, Clone)]
pub struct Item {
    pub artifact: Artifact,
    /// Extraction target; with `skip-decompress`, the directory the `.zip` is written to.
    pub dest: PathBuf,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub items: Vec<Item>,
    /// Selected artifacts left to the other shards (`shard`).
    pub other_shards: usize,
    /// Artifacts of the run that are not fetched, and why, for the summary.
    pub skipped: Vec<Skipped>,
    /// What the run record needs from the artifacts: the commit and branch they were built from.
    pub head: Head,
}

/// The head commit and branch of the run, as its artifacts carry them (`workflow_run`): the
/// current run's come with its artifacts, no request needed. Read from the first item that has
/// them; none when nothing is planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub sha: Option<String>,
    pub branch: Option<String>,
}

impl Head {
    fn of(items: &[Item]) -> Head {
        let run = items.iter().find_map(|i| i.artifact.workflow_run.as_ref());
        Head {
            sha: run.and_then(|r| r.head_sha.clone()),
            branch: run.and_then(|r| r.head_branch.clone()),
        }
    }
}

/// An artifact of the run that the plan leaves out.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub artifact: Artifact,
    pub why: SkipReason,
}

/// Why an artifact of the run is not fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its retention ran out: the bytes are gone.
    Expired,
    /// The selection (a pattern, the ids) does not ask for it.
    NotSelected,
    /// A newer artifact of the same name (a re-run attempt) is fetched instead.
    Superseded,
    /// Selected, but another `shard` takes it.
    OtherShard,
}

pub(crate) async fn make(
    settings: &PlanConfig,
    github: &GitHub,
    log: &Log,
    run: &ChosenRun,
) -> Result<Plan> {
    let listed = match &run.artifacts {
        Some(listed) => listed.clone(),
        None => list(settings, github, run).await?,
    };
    let (chosen, skipped) = select(&settings.selection, listed, log)?;
    // Layout first, from the whole selection: every shard puts artifacts in the same places.
    let mut plan = layout(settings, chosen)?;
    plan.skipped = skipped;
    if let Some(shard) = settings.shard {
        let selected = plan.items.len();
        let (mine, others): (Vec<Item>, Vec<Item>) = std::mem::take(&mut plan.items)
            .into_iter()
            .partition(|i| shard.takes(&i.artifact.name));
        plan.items = mine;
        plan.skipped.extend(others.into_iter().map(|i| Skipped {
            artifact: i.artifact,
            why: SkipReason::OtherShard,
        }));
        plan.other_shards = selected - plan.items.len();
        log.info(&format!(
            "shard {}/{}: {} of the {selected} selected artifacts are this job's",
            shard.index,
            shard.count,
            plan.items.len()
        ));
    }
    plan.head = Head::of(&plan.items);
    Ok(plan)
}

async fn list(settings: &PlanConfig, github: &GitHub, chosen: &ChosenRun) -> Result<Vec<Artifact>> {
    let run = chosen.id;
    let (owner, repo) = (&settings.source.owner, &settings.source.repo);
    let server_filter = match &settings.selection {
        Selection::Name(name) => Some(name.as_str()),
        _ => None,
    };
    github
        .list_run_artifacts(owner, repo, run, server_filter)
        .await
        .map_err(|e| {
            if refusal(&e) == Some(Refusal::NotFound) {
                e.context(missing_run(&settings.source, chosen))
            } else {
                e.context(format!(
                    "cannot list the artifacts of run {run} in {owner}/{repo}"
                ))
            }
        })
}

/// A 404 on the run's artifacts. With `run-id` left at its default (this step's own run), the
/// likelier mistake is `repository`: the default run belongs to the workflow's repository.
fn missing_run(source: &Source, chosen: &ChosenRun) -> String {
    let (repository, run) = (source.repository(), chosen.id);
    match chosen.reason {
        // The 404 itself adds the token caveat: it is said once.
        Reason::Current | Reason::CurrentIdElsewhere { .. } => format!(
            "repository: {repository} has no run {run}, this workflow's own run (run-id defaults to it); to read another repository, set run-id or a search input such as workflow"
        ),
        _ => {
            format!("run-id: run {run} was not found in {repository}: check run-id and repository")
        }
    }
}

/// What the run holds, when `name` matched nothing.
pub(crate) struct NameMiss {
    /// `; run 7 has 'a', 'b'; did you mean 'a'?`, to append to the message.
    pub hint: String,
    /// Every artifact of the run, expired ones too (the summary lists them).
    pub listed: Vec<Artifact>,
}

/// On a `name` that matched nothing: what the run does hold (the first 20 names) and the nearest
/// name, from one more request. Only asked for when the step is about to report the miss, so a
/// search or a fallback chain pays nothing for it; a failed request just gives no hint.
pub(crate) async fn name_miss_hint(
    source: &Source,
    github: &GitHub,
    run: u64,
    name: &str,
) -> Option<NameMiss> {
    let listed = github
        .list_run_artifacts(&source.owner, &source.repo, run, None)
        .await
        .ok()?;
    let hint = name_hint(&listed, run, name);
    Some(NameMiss { hint, listed })
}

/// The names the run holds (the first 20) and the nearest to `name`.
fn name_hint(listed: &[Artifact], run: u64, name: &str) -> String {
    let mut names: Vec<&str> = listed
        .iter()
        .filter(|a| !a.expired)
        .map(|a| a.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    if names.is_empty() {
        return format!("; run {run} has no unexpired artifacts");
    }
    let shown: Vec<String> = names.iter().take(20).map(|n| format!("'{n}'")).collect();
    let more = match names.len() {
        n if n > 20 => format!(" and {} more", n - 20),
        _ => String::new(),
    };
    let mut hint = format!("; run {run} has {}{more}", shown.join(", "));
    if let Some(near) = crate::util::nearest(name, &names) {
        hint.push_str(&format!("; did you mean '{near}'?"));
    }
    hint
}

/// Picks the artifacts the selection asks for, newest per name, skipping expired ones; also
/// what it left out and why.
fn select(
    selection: &Selection,
    listed: Vec<Artifact>,
    log: &Log,
) -> Result<(Vec<Artifact>, Vec<Skipped>)> {
    let skip = |artifact: &Artifact, why| Skipped {
        artifact: artifact.clone(),
        why,
    };
    match selection {
        Selection::Ids(ids) => {
            let mut out = Vec::new();
            for id in ids {
                let artifact = listed.iter().find(|a| a.id == *id).with_context(|| {
                    format!("artifact-ids: artifact {id} is not an artifact of this run")
                })?;
                if artifact.expired {
                    bail!(
                        "artifact-ids: artifact {id} ('{}') has expired{}; {EXPIRED_NEXT_STEP}",
                        artifact.name,
                        expired_on(artifact)
                    );
                }
                out.push(artifact.clone());
            }
            let others = listed.iter().filter(|a| !ids.contains(&a.id));
            let skipped = others.map(|a| skip(a, SkipReason::NotSelected)).collect();
            Ok((out, skipped))
        }
        Selection::Name(name) => {
            let same: Vec<Artifact> = listed
                .into_iter()
                .filter(|a| selection.matches(&a.name, a.id))
                .collect();
            if !same.is_empty() && same.iter().all(|a| a.expired) {
                let newest = same.iter().max_by_key(|a| a.id).expect("non-empty");
                return Err(Expired(format!(
                    "name: artifact '{name}' has expired{}; {EXPIRED_NEXT_STEP}",
                    expired_on(newest)
                ))
                .into());
            }
            let live = newest_per_name(same.iter().filter(|a| !a.expired).cloned());
            Ok((live.clone(), left_out(&same, &live)))
        }
        Selection::Pattern(_) | Selection::All => {
            let (matching, unmatched): (Vec<Artifact>, Vec<Artifact>) = listed
                .into_iter()
                .partition(|a| selection.matches(&a.name, a.id));
            let live = newest_per_name(matching.iter().filter(|a| !a.expired).cloned());
            let mut skipped = left_out(&matching, &live);
            for s in skipped.iter().filter(|s| s.why == SkipReason::Expired) {
                let a = &s.artifact;
                log.warning(&format!(
                    "Skipping artifact '{}' (id {}): it has expired{}",
                    a.name,
                    a.id,
                    expired_on(a)
                ));
            }
            skipped.extend(unmatched.iter().map(|a| skip(a, SkipReason::NotSelected)));
            Ok((live, skipped))
        }
    }
}

/// Of the matching artifacts, those not taken: older attempts of a name taken, and expired ones
/// (an expired older attempt of a name taken is only superseded). Sorted by name, then id.
fn left_out(matching: &[Artifact], taken: &[Artifact]) -> Vec<Skipped> {
    let mut out: Vec<Skipped> = matching
        .iter()
        .filter(|a| !taken.iter().any(|t| t.id == a.id))
        .map(|a| {
            let superseded = taken.iter().any(|t| t.name == a.name);
            Skipped {
                artifact: a.clone(),
                why: if superseded {
                    SkipReason::Superseded
                } else {
                    SkipReason::Expired
                },
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.artifact.name, a.artifact.id).cmp(&(&b.artifact.name, b.artifact.id)));
    out
}

fn expired_on(a: &Artifact) -> String {
    a.expires_at
        .as_deref()
        .map(|t| format!(" (on {t})"))
        .unwrap_or_default()
}

/// The next step for an expired artifact (its bytes are gone), shared with the download's 410.
pub(crate) const EXPIRED_NEXT_STEP: &str = "re-run the job that uploaded it to make it again (artifacts are kept for the retention-days the upload or the repository set)";

/// Of several artifacts with one name (re-run attempts), the highest id; sorted by name.
fn newest_per_name(artifacts: impl Iterator<Item = Artifact>) -> Vec<Artifact> {
    let mut by_name: BTreeMap<String, Artifact> = BTreeMap::new();
    for a in artifacts {
        match by_name.get(&a.name) {
            Some(kept) if kept.id >= a.id => {}
            _ => {
                by_name.insert(a.name.clone(), a);
            }
        }
    }
    by_name.into_values().collect()
}

fn layout(settings: &PlanConfig, chosen: Vec<Artifact>) -> Result<Plan> {
    for a in &chosen {
        if !is_safe_component(&a.name) {
            bail!(
                "artifact name {:?} (id {}) is not a safe directory name; refusing to write it",
                a.name,
                a.id
            );
        }
        if !settings.allow_git_paths && is_git_name(&a.name) {
            bail!(
                "artifact name {:?} (id {}) names a git metadata directory (.git, or a name Windows or macOS treat as '.git'); refusing to write it (set allow-git-paths: true to allow it)",
                a.name,
                a.id
            );
        }
    }
    let straight = settings.merge_multiple
        || settings.skip_decompress
        || matches!(settings.selection, Selection::Name(_))
        || chosen.len() == 1;
    let mut chosen = chosen;
    if settings.merge_multiple {
        // The placing order when several artifacts hold the same file: the last one wins.
        chosen.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    }
    let items = chosen
        .into_iter()
        .map(|artifact| {
            let dest = if straight {
                settings.path.clone()
            } else {
                settings.path.join(&artifact.name)
            };
            Item { artifact, dest }
        })
        .collect();
    Ok(Plan {
        items,
        ..Plan::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;

    fn art(id: u64, name: &str, expired: bool) -> Artifact {
        serde_json::from_value(serde_json::json!({"id": id, "name": name, "expired": expired}))
            .unwrap()
    }

    fn names(v: &[Artifact]) -> Vec<(u64, &str)> {
        v.iter().map(|a| (a.id, a.name.as_str())).collect()
    }

    #[test]
    fn newest_of_duplicates_and_expired_skipped() {
        let listed = vec![
            art(1, "a", false),
            art(3, "a", false),
            art(2, "b", true),
            art(4, "c", false),
        ];
        let (got, skipped) = select(&Selection::All, listed, &Log::new(false, false)).unwrap();
        assert_eq!(names(&got), vec![(3, "a"), (4, "c")]);
        let why: Vec<(u64, SkipReason)> = skipped.iter().map(|s| (s.artifact.id, s.why)).collect();
        assert_eq!(
            why,
            vec![(1, SkipReason::Superseded), (2, SkipReason::Expired)]
        );
    }

    #[test]
    fn pattern_and_ids() {
        let listed = vec![art(1, "build-x", false), art(2, "logs", false)];
        let p = Selection::Pattern(Pattern::new("build-*").unwrap());
        let (got, skipped) = select(&p, listed.clone(), &Log::new(false, false)).unwrap();
        assert_eq!(names(&got), vec![(1, "build-x")]);
        assert_eq!(skipped[0].why, SkipReason::NotSelected);
        let e = select(&Selection::Ids(vec![9]), listed, &Log::new(false, false)).unwrap_err();
        assert!(e.to_string().contains("artifact 9"), "{e}");
    }

    #[test]
    fn expired_by_name_is_an_error() {
        let e = select(
            &Selection::Name("a".into()),
            vec![art(1, "a", true)],
            &Log::new(false, false),
        )
        .unwrap_err();
        assert!(e.to_string().contains("expired"), "{e}");
    }

    #[test]
    fn the_head_comes_from_the_first_item_that_carries_it() {
        let item = |json: serde_json::Value| Item {
            artifact: serde_json::from_value(json).unwrap(),
            dest: PathBuf::from("out"),
        };
        assert_eq!(Head::of(&[]), Head::default());
        let items = [
            item(serde_json::json!({"id": 1, "name": "a"})),
            item(serde_json::json!({"id": 2, "name": "b",
                "workflow_run": {"id": 9, "head_sha": "abc", "head_branch": null}})),
            item(serde_json::json!({"id": 3, "name": "c",
                "workflow_run": {"id": 9, "head_sha": "def", "head_branch": "main"}})),
        ];
        let head = Head::of(&items);
        assert_eq!((head.sha.as_deref(), head.branch), (Some("abc"), None));
    }

    #[test]
    fn the_nearest_name_is_a_likely_typo_or_none() {
        use crate::util::{edit_distance, nearest};
        assert_eq!(edit_distance("pkg-linx", "pkg-linux"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        let names = ["pkg-linux", "pkg-macos", "docs"];
        assert_eq!(nearest("pkg-linx", &names), Some("pkg-linux"));
        assert_eq!(nearest("completely-else", &names), None);
    }
}
