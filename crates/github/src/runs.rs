//! Workflow runs, their jobs, pull requests, repository-wide artifact lists and deletion: what
//! the run search, `wait-for` and `delete-after` ask of the API client ([`super::api`]).

use anyhow::Result;
use reqwest::{Method, Url};

use super::GitHub;
use super::endpoints::Endpoint;
use super::model::{Artifact, ArtifactList, Job, JobList, Pull, WorkflowRun};

impl GitHub {
    pub async fn get_run(&self, owner: &str, repo: &str, run_id: u64) -> Result<WorkflowRun> {
        let url = self.url(&Endpoint::run(owner, repo, run_id))?;
        Ok(self.get_json(url).await?.0)
    }

    /// The jobs of a run (its latest attempt), following pages.
    pub async fn list_jobs(&self, owner: &str, repo: &str, run_id: u64) -> Result<Vec<Job>> {
        let url = self.url(&Endpoint::run_jobs(owner, repo, run_id))?;
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
        let url = self.url(&Endpoint::pull(owner, repo, number))?;
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
        self.url(&Endpoint::runs(owner, repo, workflow, filters))
    }

    /// The first page URL of the repository-wide artifact list for one name (newest first).
    pub fn repo_artifacts_url(&self, owner: &str, repo: &str, name: &str) -> Result<Url> {
        self.url(&Endpoint::repo_artifacts(owner, repo, name))
    }

    pub async fn repo_artifacts_page(&self, url: Url) -> Result<(Vec<Artifact>, Option<Url>)> {
        let (page, next): (ArtifactList, _) = self.get_page(url).await?;
        Ok((page.artifacts, next))
    }

    /// "Delete an artifact": 204 on success.
    pub async fn delete_artifact(&self, owner: &str, repo: &str, id: u64) -> Result<()> {
        let url = self.url(&Endpoint::artifact(owner, repo, id))?;
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
