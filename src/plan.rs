//! Settings + the API -> a [`Plan`]: which artifacts of the run to fetch and where each goes.
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
use crate::github::client::http_status;
use crate::github::{Artifact, GitHub};
use crate::log::Log;
use crate::resolve::ChosenRun;
use crate::settings::{Selection, Settings};

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
}

pub async fn make(
    settings: &Settings,
    github: &GitHub,
    log: &Log,
    run: &ChosenRun,
) -> Result<Plan> {
    let listed = match &run.artifacts {
        Some(listed) => listed.clone(),
        None => list(settings, github, run.id).await?,
    };
    let chosen = select(&settings.selection, listed, log)?;
    layout(settings, chosen)
}

async fn list(settings: &Settings, github: &GitHub, run: u64) -> Result<Vec<Artifact>> {
    let (owner, repo) = (&settings.owner, &settings.repo);
    let server_filter = match &settings.selection {
        Selection::Name(name) => Some(name.as_str()),
        _ => None,
    };
    github.list_run_artifacts(owner, repo, run, server_filter).await.map_err(|e| {
        if http_status(&e) == Some(404) {
            e.context(format!(
                "run-id: run {run} was not found in {owner}/{repo} (or the token cannot read its Actions data)"
            ))
        } else {
            e.context(format!("cannot list the artifacts of run {run} in {owner}/{repo}"))
        }
    })
}

/// Picks the artifacts the selection asks for, newest per name, skipping expired ones.
fn select(selection: &Selection, listed: Vec<Artifact>, log: &Log) -> Result<Vec<Artifact>> {
    match selection {
        Selection::Ids(ids) => {
            let mut out = Vec::new();
            for id in ids {
                let artifact = listed.iter().find(|a| a.id == *id).with_context(|| {
                    format!("artifact-ids: artifact {id} is not an artifact of this run")
                })?;
                if artifact.expired {
                    bail!(
                        "artifact-ids: artifact {id} ('{}') has expired{}",
                        artifact.name,
                        expired_on(artifact)
                    );
                }
                out.push(artifact.clone());
            }
            Ok(out)
        }
        Selection::Name(name) => {
            let same: Vec<Artifact> = listed.into_iter().filter(|a| &a.name == name).collect();
            if !same.is_empty() && same.iter().all(|a| a.expired) {
                let newest = same.iter().max_by_key(|a| a.id).expect("non-empty");
                bail!("name: artifact '{name}' has expired{}", expired_on(newest));
            }
            Ok(newest_per_name(same.into_iter().filter(|a| !a.expired)))
        }
        Selection::Pattern(_) | Selection::All => {
            let matching = listed.into_iter().filter(|a| match selection {
                Selection::Pattern(p) => p.matches(&a.name),
                _ => true,
            });
            let (expired, live): (Vec<Artifact>, Vec<Artifact>) = matching.partition(|a| a.expired);
            let live = newest_per_name(live.into_iter());
            for a in expired
                .iter()
                .filter(|a| !live.iter().any(|l| l.name == a.name))
            {
                log.warning(&format!(
                    "Skipping artifact '{}' (id {}): it has expired{}",
                    a.name,
                    a.id,
                    expired_on(a)
                ));
            }
            Ok(live)
        }
    }
}

fn expired_on(a: &Artifact) -> String {
    a.expires_at
        .as_deref()
        .map(|t| format!(" (on {t})"))
        .unwrap_or_default()
}

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

fn layout(settings: &Settings, chosen: Vec<Artifact>) -> Result<Plan> {
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
    Ok(Plan { items })
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
        let got = select(&Selection::All, listed, &Log::new(false, false)).unwrap();
        assert_eq!(names(&got), vec![(3, "a"), (4, "c")]);
    }

    #[test]
    fn pattern_and_ids() {
        let listed = vec![art(1, "build-x", false), art(2, "logs", false)];
        let p = Selection::Pattern(Pattern::new("build-*").unwrap());
        assert_eq!(
            names(&select(&p, listed.clone(), &Log::new(false, false)).unwrap()),
            vec![(1, "build-x")]
        );
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
}
