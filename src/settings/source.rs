//! Whose artifacts, from which servers, with which token: `repository`, `github-token` and the
//! runner's `GITHUB_API_URL` / `GITHUB_SERVER_URL` (refusing a token sent in clear text through
//! a proxy), and the repositories and hosts a pasted URL names.

use std::path::PathBuf;

use crate::github::Url;
use anyhow::{Context, Result, bail};

use crate::inputs::{RawInputs, input};
use crate::pasted;

/// Whose artifacts, on which servers: what every stage that names the repository, asks the API
/// or links a run's page takes.
#[derive(Debug, Clone)]
pub struct Source {
    pub owner: String,
    pub repo: String,
    /// `GITHUB_API_URL`.
    pub api_url: Url,
    /// `GITHUB_SERVER_URL`, without a trailing slash: the web pages of runs.
    pub server_url: String,
}

impl Source {
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The web page of a run, built from `GITHUB_SERVER_URL` (GHES too).
    pub fn run_url(&self, run_id: u64) -> String {
        format!(
            "{}/{}/actions/runs/{run_id}",
            self.server_url,
            self.repository()
        )
    }

    /// GHES serves its API under `/api/v3`; github.com and GHE.com do not.
    pub fn is_ghes(&self) -> bool {
        self.api_url
            .path()
            .trim_end_matches('/')
            .ends_with("/api/v3")
    }
}

/// What the API client takes besides the source: the token, the budget, extra trusted roots.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    pub(crate) token: String,
    /// `max-api-requests`: the step sends no more API requests than this.
    pub(crate) max_api_requests: Option<u64>,
    /// `SSL_CERT_FILE`: extra trusted roots (a GHES internal CA), added to the system store.
    pub(crate) extra_ca: Option<PathBuf>,
}

/// The source, the token, and what is worth a warning about how the token travels.
pub(super) struct Sourced {
    pub(super) source: Source,
    pub(super) token: String,
    pub(super) warnings: Vec<String>,
}

/// Whose artifacts, with which credentials: the token, the repository, the servers, and a
/// pasted URL checked against them, in that order.
pub(super) fn source(raw: &RawInputs, var: &dyn Fn(&str) -> Option<String>) -> Result<Sourced> {
    let token = token(raw, var)?;
    let (owner, repo) = repository(raw, var)?;
    let Endpoints {
        api_url,
        server_url,
        warnings,
    } = endpoints(var)?;
    same_host_as_pasted(raw, &server_url)?;
    let source = Source {
        owner,
        repo,
        api_url,
        server_url,
    };
    Ok(Sourced {
        source,
        token,
        warnings,
    })
}

/// `github-token`, else `GITHUB_TOKEN`, else `GH_TOKEN` (what `gh` reads, set by people who
/// run the binary by hand after `gh auth login`).
pub(super) fn token(raw: &RawInputs, var: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let token = raw
        .get(input!("github-token"))
        .map(str::to_string)
        .or_else(|| set("GITHUB_TOKEN"))
        .or_else(|| set("GH_TOKEN"))
        .context("github-token: not set; expected a token (input github-token, GITHUB_TOKEN or GH_TOKEN)")?;
    // It goes into a header: a line break would only fail there, after five retries. The value
    // itself is never repeated.
    if token.chars().any(char::is_control) {
        bail!(
            "github-token: contains a line break or control character; expected a token on one line"
        );
    }
    Ok(token)
}

/// `repository` (or its pasted URL), else `GITHUB_REPOSITORY`, as `(owner, repo)`.
pub(super) fn repository(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, String)> {
    let repository = raw
        .get(input!("repository"))
        .map(str::to_string)
        .or_else(|| var("GITHUB_REPOSITORY"))
        .context(
            "repository: not set; expected owner/repo (input repository or GITHUB_REPOSITORY)",
        )?;
    let repository = pasted::repository_url(&repository).unwrap_or(repository);
    let parsed = parse_repository(&repository)?;
    same_repository_as_pasted(raw, &repository)?;
    Ok(parsed)
}

/// The API and the web server, from the runner's `GITHUB_API_URL` / `GITHUB_SERVER_URL`.
pub(super) struct Endpoints {
    pub(super) api_url: Url,
    /// Without a trailing slash.
    pub(super) server_url: String,
    pub(super) warnings: Vec<String>,
}

pub(super) fn endpoints(var: &dyn Fn(&str) -> Option<String>) -> Result<Endpoints> {
    let api_url = var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
    let api_url = parse_base_url(&api_url, "GITHUB_API_URL")?;
    if let Some(proxy) = clear_text_proxy(&api_url, var) {
        bail!(
            "GITHUB_API_URL: {} is plain http and the proxy {proxy} would see the token in the clear; use https, or list the host in NO_PROXY",
            api_url.as_str().trim_end_matches('/')
        );
    }
    let mut warnings = Vec::new();
    // Decision: warn, not refuse. Plain http is what a GHES without TLS or a local fake speaks;
    // on loopback the token never leaves the machine, elsewhere anyone on the path can read it.
    if api_url.scheme() == "http" && !is_loopback(&api_url) {
        warnings.push(format!(
            "GITHUB_API_URL: {} is plain http: the token crosses the network in clear text; use https",
            api_url.as_str().trim_end_matches('/')
        ));
    }
    let server_url = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
    let server_url = parse_base_url(&server_url, "GITHUB_SERVER_URL")?
        .as_str()
        .trim_end_matches('/')
        .to_string();
    Ok(Endpoints {
        api_url,
        server_url,
        warnings,
    })
}

pub(super) fn parse_repository(value: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [owner, repo] if valid_segment(owner) && valid_segment(repo) => {
            Ok((owner.to_string(), repo.to_string()))
        }
        _ => bail!(
            "repository: '{value}' is not owner/repo; expected exactly two non-empty segments like octo/hello"
        ),
    }
}

pub(super) fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A run URL in `run-id` or a `workflow_ref` in `workflow` names a repository too: it must be
/// the one the step reads, or the id would be looked up in the wrong place.
pub(super) fn same_repository_as_pasted(raw: &RawInputs, repository: &str) -> Result<()> {
    let pasted = [
        (
            "run-id",
            raw.get(input!("run-id"))
                .and_then(pasted::run_url)
                .map(|(r, _)| r),
        ),
        (
            "workflow",
            raw.get(input!("workflow"))
                .and_then(pasted::workflow_ref)
                .map(|(r, _)| r),
        ),
    ];
    for (input, named) in pasted {
        if let Some(named) = named
            && !named.eq_ignore_ascii_case(repository)
        {
            bail!(
                "{input}: names a run or workflow of {named}, but repository is {repository}; set repository: {named}"
            );
        }
    }
    Ok(())
}

/// A run or repository URL pasted into `run-id` or `repository` must be on the server the step
/// talks to (`GITHUB_SERVER_URL`): its id or name would otherwise be looked up on this one.
pub(super) fn same_host_as_pasted(raw: &RawInputs, server_url: &str) -> Result<()> {
    let ours = Url::parse(server_url).ok();
    let ours = ours.as_ref().and_then(|u| {
        let host = u.host_str()?;
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    });
    for input in [input!("run-id"), input!("repository")] {
        let Some(theirs) = raw.get(input).and_then(pasted::url_host) else {
            continue;
        };
        if ours
            .as_deref()
            .is_none_or(|ours| !theirs.eq_ignore_ascii_case(ours))
        {
            bail!(
                "{input}: the URL is on {theirs}, but this step talks to {server_url} (GITHUB_SERVER_URL); give the run id or owner/repo, or run the step against {theirs}",
            );
        }
    }
    Ok(())
}

pub(super) fn parse_base_url(value: &str, name: &str) -> Result<Url> {
    let url = Url::parse(value.trim_end_matches('/'))
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .with_context(|| format!("{name}: '{value}' is not an http(s) URL"))?;
    Ok(url)
}

/// The proxy a plain-http API request would go through, if any (`HTTP_PROXY`/`ALL_PROXY`, less
/// `NO_PROXY`). Through a proxy, https is tunnelled and stays private; http is not.
pub(super) fn clear_text_proxy(api: &Url, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if api.scheme() != "http" {
        return None;
    }
    let proxy = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .find_map(|k| var(k))?;
    let host = api
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let no_proxy = var("no_proxy")
        .or_else(|| var("NO_PROXY"))
        .unwrap_or_default();
    let bypassed = no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .any(|entry| {
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            let entry = entry.split(':').next().unwrap_or("");
            !entry.is_empty()
                && (entry == "*" || host == entry || host.ends_with(&format!(".{entry}")))
        });
    (!bypassed).then_some(proxy)
}

/// `localhost` or a loopback address: traffic that never leaves the machine.
pub(super) fn is_loopback(url: &Url) -> bool {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}
