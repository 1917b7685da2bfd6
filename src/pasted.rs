//! Values people paste into inputs, read where they are unambiguous: a run (or job) URL in
//! `run-id`, a repository URL in `repository`, and `${{ github.workflow_ref }}` in `workflow`.
//!
//! Each function answers `None` for anything that is not that form, so the caller's own check
//! (and its error message) still applies to everything else.

/// `https://HOST/OWNER/REPO/actions/runs/ID[/job/N][/attempts/N]` (also a job URL's run):
/// the repository and the run id.
pub(crate) fn run_url(value: &str) -> Option<(String, u64)> {
    let path = after_host(value)?;
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        [owner, repo, "actions", "runs", id, ..] => {
            let id = id.parse::<u64>().ok().filter(|n| *n > 0)?;
            Some((format!("{owner}/{repo}"), id))
        }
        _ => None,
    }
}

/// `https://HOST/OWNER/REPO` with an optional `.git` or trailing slash: `OWNER/REPO`.
pub(crate) fn repository_url(value: &str) -> Option<String> {
    let path = after_host(value)?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    match path.split('/').collect::<Vec<_>>().as_slice() {
        [owner, repo] if !owner.is_empty() && !repo.is_empty() => Some(format!("{owner}/{repo}")),
        _ => None,
    }
}

/// `OWNER/REPO/.github/workflows/FILE@REF` (what `github.workflow_ref` holds): the repository
/// and the workflow file name. The ref is the calling run's, not a filter the user chose, so it
/// is not used.
pub(crate) fn workflow_ref(value: &str) -> Option<(String, String)> {
    let (path, _ref) = value.split_once('@')?;
    let (repository, file) = path.split_once("/.github/workflows/")?;
    let valid = repository.split('/').count() == 2 && !file.is_empty() && !file.contains('/');
    valid.then(|| (repository.to_string(), file.to_string()))
}

/// The host (with its port, if any) of a run or repository URL `value`: the caller checks it is
/// the server the step talks to, since the id or name would otherwise be read on the wrong one.
pub(crate) fn url_host(value: &str) -> Option<&str> {
    (run_url(value).is_some() || repository_url(value).is_some())
        .then(|| split_url(value).map(|(host, _)| host))
        .flatten()
}

/// The path after `https://host` (or `http://host`), or `None` when `value` is no such URL.
fn after_host(value: &str) -> Option<&str> {
    split_url(value).map(|(_, path)| path)
}

/// `https://host/path?query` as `host` and `path`.
fn split_url(value: &str) -> Option<(&str, &str)> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    (!host.is_empty()).then_some((host, path.split(['?', '#']).next().unwrap_or(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_and_job_urls() {
        let want = Some(("octo/hello".to_string(), 42));
        assert_eq!(
            run_url("https://github.com/octo/hello/actions/runs/42"),
            want
        );
        assert_eq!(
            run_url("https://github.com/octo/hello/actions/runs/42/job/7?pr=3"),
            want
        );
        assert_eq!(
            run_url("https://ghes.example/octo/hello/actions/runs/42/attempts/2"),
            want
        );
        assert_eq!(run_url("42"), None);
        assert_eq!(
            run_url("https://github.com/octo/hello/actions/runs/x"),
            None
        );
        assert_eq!(run_url("https://github.com/octo/hello/pull/42"), None);
    }

    #[test]
    fn repository_urls() {
        for v in [
            "https://github.com/octo/hello",
            "https://github.com/octo/hello.git",
            "https://github.com/octo/hello/",
        ] {
            assert_eq!(repository_url(v).as_deref(), Some("octo/hello"), "{v}");
        }
        assert_eq!(repository_url("octo/hello"), None);
        assert_eq!(repository_url("https://github.com/octo"), None);
        assert_eq!(
            repository_url("https://github.com/octo/hello/tree/main"),
            None
        );
    }

    #[test]
    fn the_host_of_a_pasted_url() {
        assert_eq!(
            url_host("https://ghes.example:8443/octo/hello/actions/runs/42"),
            Some("ghes.example:8443")
        );
        assert_eq!(
            url_host("https://github.com/octo/hello"),
            Some("github.com")
        );
        assert_eq!(url_host("https://github.com/octo/hello/pull/42"), None);
        assert_eq!(url_host("octo/hello"), None);
    }

    #[test]
    fn workflow_refs() {
        assert_eq!(
            workflow_ref("octo/hello/.github/workflows/build.yml@refs/heads/main"),
            Some(("octo/hello".to_string(), "build.yml".to_string()))
        );
        assert_eq!(workflow_ref("build.yml"), None);
        assert_eq!(workflow_ref(".github/workflows/build.yml@main"), None);
    }
}
