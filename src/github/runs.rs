//! Workflow runs, pull requests, repository-wide artifact lists and deletion: what the run search
//! and `delete-after` need from the API, on top of the client in [`super::client`].

use anyhow::Result;
use reqwest::{Method, Url};
use serde::Deserialize;

use super::GitHub;
use super::model::{Artifact, ArtifactList};

/// The fields of a workflow run that the search reads; everything optional but the id, since
/// older servers and odd runs leave some out.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub run_number: Option<u64>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub workflow_id: Option<u64>,
    /// `.github/workflows/build.yml` (sometimes with `@ref`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub repository: Option<RepoRef>,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct RepoRef {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub full_name: Option<String>,
}

impl WorkflowRun {
    /// The workflow's file name, without directory or `@ref`.
    pub fn workflow_file(&self) -> Option<&str> {
        let path = self.path.as_deref()?;
        let path = path.split('@').next().unwrap_or(path);
        Some(path.rsplit('/').next().unwrap_or(path))
    }

    /// The head repository's name when it differs from the repository's: a fork.
    pub fn fork_name(&self) -> Option<String> {
        let head = self.head_repository.as_ref()?;
        let base = self.repository.as_ref()?;
        let same_id = head.id.is_some() && head.id == base.id;
        let same_name = match (&head.full_name, &base.full_name) {
            (Some(h), Some(b)) => h.eq_ignore_ascii_case(b),
            _ => false,
        };
        (!same_id && !same_name).then(|| {
            head.full_name
                .clone()
                .unwrap_or_else(|| "another repository".into())
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct RunList {
    #[serde(default)]
    pub total_count: Option<u64>,
    /// Required: a body without it is not an empty list.
    pub workflow_runs: Vec<WorkflowRun>,
}

/// A job of a run, as the jobs list shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
}

#[derive(Debug, Deserialize)]
struct JobList {
    #[serde(default)]
    jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
pub struct Pull {
    pub head: PullHead,
}

#[derive(Debug, Deserialize)]
pub struct PullHead {
    pub sha: String,
}

impl GitHub {
    pub async fn get_run(&self, owner: &str, repo: &str, run_id: u64) -> Result<WorkflowRun> {
        let url = self.endpoint(&format!("/repos/{owner}/{repo}/actions/runs/{run_id}"))?;
        Ok(self.get_json(url).await?.0)
    }

    /// The jobs of a run (its latest attempt), following pages.
    pub async fn list_jobs(&self, owner: &str, repo: &str, run_id: u64) -> Result<Vec<Job>> {
        let mut url =
            self.endpoint(&format!("/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"))?;
        url.query_pairs_mut().append_pair("per_page", "100");
        let mut jobs = Vec::new();
        let mut next = Some(url);
        // A run has at most 256 jobs per matrix; ten pages is plenty.
        for _ in 0..10 {
            let Some(url) = next.take() else { break };
            let (page, link): (JobList, _) = self.get_page(url).await?;
            jobs.extend(page.jobs);
            next = link;
        }
        Ok(jobs)
    }

    pub async fn get_pull(&self, owner: &str, repo: &str, number: u64) -> Result<Pull> {
        let url = self.endpoint(&format!("/repos/{owner}/{repo}/pulls/{number}"))?;
        Ok(self.get_json(url).await?.0)
    }

    /// The first page URL of a run search, with the server-side filters set.
    pub fn runs_url(
        &self,
        owner: &str,
        repo: &str,
        workflow: Option<&str>,
        filters: &[(&str, &str)],
    ) -> Result<Url> {
        let path = match workflow {
            Some(w) => format!("/repos/{owner}/{repo}/actions/workflows/{w}/runs"),
            None => format!("/repos/{owner}/{repo}/actions/runs"),
        };
        let mut url = self.endpoint(&path)?;
        url.query_pairs_mut().append_pair("per_page", "100");
        for (k, v) in filters {
            url.query_pairs_mut().append_pair(k, v);
        }
        Ok(url)
    }

    /// The first page URL of the repository-wide artifact list for one name (newest first).
    pub fn repo_artifacts_url(&self, owner: &str, repo: &str, name: &str) -> Result<Url> {
        let mut url = self.endpoint(&format!("/repos/{owner}/{repo}/actions/artifacts"))?;
        url.query_pairs_mut()
            .append_pair("per_page", "100")
            .append_pair("name", name);
        Ok(url)
    }

    pub async fn repo_artifacts_page(&self, url: Url) -> Result<(Vec<Artifact>, Option<Url>)> {
        let (page, next): (ArtifactList, _) = self.get_page(url).await?;
        Ok((page.artifacts, next))
    }

    /// "Delete an artifact": 204 on success.
    pub async fn delete_artifact(&self, owner: &str, repo: &str, id: u64) -> Result<()> {
        let url = self.endpoint(&format!("/repos/{owner}/{repo}/actions/artifacts/{id}"))?;
        let response = self.send(Method::DELETE, url).await?;
        if response.status().is_redirection() {
            anyhow::bail!(
                "DELETE of artifact {id} answered {}; a deletion is not followed elsewhere",
                response.status()
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: serde_json::Value) -> WorkflowRun {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn workflow_file_and_fork() {
        let r = run(
            serde_json::json!({"id": 1, "path": ".github/workflows/build.yml@main",
            "repository": {"id": 5, "full_name": "octo/hello"}, "head_repository": {"id": 5, "full_name": "octo/hello"}}),
        );
        assert_eq!(r.workflow_file(), Some("build.yml"));
        assert_eq!(r.fork_name(), None);
        let r = run(
            serde_json::json!({"id": 1, "repository": {"id": 5, "full_name": "octo/hello"},
            "head_repository": {"id": 6, "full_name": "evil/hello"}}),
        );
        assert_eq!(r.fork_name().as_deref(), Some("evil/hello"));
        assert_eq!(run(serde_json::json!({"id": 1})).fork_name(), None);
    }
}
