//! The REST API origin: header checks (User-Agent, API version, token),
//! routing under `/` or `/api/v3`, JSON for artifacts, workflow runs and pull
//! requests, pagination with `Link`, and the 302 download redirect.

use crate::blob;
use crate::http::{Body, Request, Response};
use crate::shared::Shared;
use crate::state::{DigestMode, State, StoredArtifact, StoredRun};
use crate::util::{Query, base64, pct_decode, pct_encode, rfc3339};
use crate::zipbuild::declared_total_size;
use serde_json::{Value, json};

const DOCS: &str = "https://docs.github.com/rest";
const JSON_CT: &str = "application/json; charset=utf-8";
/// Filters after which run searches are capped at 1000 results.
const CAPPED_FILTERS: [&str; 7] = [
    "actor",
    "branch",
    "check_suite_id",
    "created",
    "event",
    "head_sha",
    "status",
];

/// A GitHub-style JSON error.
pub(crate) fn error(code: u16, message: &str) -> Response {
    let body = json!({"message": message, "documentation_url": DOCS, "status": code.to_string()});
    json_response(code, &body)
}

fn json_response(code: u16, body: &Value) -> Response {
    Response::new(code)
        .header("Content-Type", JSON_CT)
        .body(body.to_string())
}

fn not_found() -> Response {
    error(404, "Not Found")
}

/// Handles one API request, including the common response headers.
pub(crate) fn handle(sh: &Shared, st: &mut State, req: &Request) -> Response {
    st.api_requests += 1;
    let resp = check_headers(sh, req).unwrap_or_else(|| route(sh, st, req));
    let resp = conditional(req, resp);
    add_common_headers(sh, st, resp)
}

/// A weak `ETag` on every 200 `GET`, and 304 with no body when `If-None-Match` has it.
fn conditional(req: &Request, resp: Response) -> Response {
    if req.method != "GET" || resp.status != 200 {
        return resp;
    }
    let Body::Owned(body) = &resp.body else {
        return resp;
    };
    let etag = format!("W/\"{}\"", &crate::util::sha256_hex(body)[..32]);
    let matches = req
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if matches {
        return Response::new(304).header("ETag", etag);
    }
    resp.header("ETag", etag)
}

/// Adds `X-GitHub-Request-Id` (always) and, off GHES, the rate-limit headers.
pub(crate) fn add_common_headers(sh: &Shared, st: &mut State, mut resp: Response) -> Response {
    let has = |r: &Response, n: &str| r.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has(&resp, "x-github-request-id") {
        resp = resp.header("X-GitHub-Request-Id", st.request_id());
    }
    if !has(&resp, "content-type") {
        resp = resp.header("Content-Type", JSON_CT);
    }
    resp = resp.header("X-GitHub-Media-Type", "github.v3; format=json");
    if sh.opts.ghes {
        return resp.header("X-GitHub-Enterprise-Version", "3.14.0");
    }
    if has(&resp, "x-ratelimit-remaining") {
        return resp;
    }
    let (limit, window) = (sh.opts.rate_limit, sh.opts.rate_window_secs.max(1) as i64);
    // Fixed windows from the start: the count starts again once a reset has passed.
    let elapsed = (crate::util::now_unix() - sh.started_at).max(0);
    let reset = sh.started_at + (elapsed / window + 1) * window;
    if reset != st.rate_reset {
        st.rate_reset = reset;
        st.rate_used = 0;
    }
    // As on GitHub, a 304 answer to a conditional request is free.
    if resp.status != 304 {
        st.rate_used += 1;
    }
    let used = st.rate_used.min(limit);
    resp.header("x-ratelimit-limit", limit.to_string())
        .header("x-ratelimit-remaining", (limit - used).to_string())
        .header("x-ratelimit-reset", reset.to_string())
        .header("x-ratelimit-used", used.to_string())
        .header("x-ratelimit-resource", "core")
}

fn check_headers(sh: &Shared, req: &Request) -> Option<Response> {
    if req.header("user-agent").is_none_or(str::is_empty) {
        return Some(error(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.",
        ));
    }
    if let Some(v) = req.header("x-github-api-version") {
        let supported: &[&str] = if sh.opts.ghes {
            &["2022-11-28"]
        } else {
            &["2026-03-10", "2022-11-28"]
        };
        if !supported.contains(&v) {
            return Some(error(400, &version_message(v, supported)));
        }
    }
    let token = req.header("authorization").and_then(bearer_token);
    if token != Some(sh.opts.token.as_str()) {
        return Some(error(401, "Bad credentials"));
    }
    None
}

fn version_message(v: &str, supported: &[&str]) -> String {
    let list: Vec<String> = supported
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                format!("\"{s}\" (most recent)")
            } else {
                format!("\"{s}\"")
            }
        })
        .collect();
    format!(
        "Bad Request: The version you specified in the \"X-GitHub-API-Version\" request header, \"{v}\", is not a supported version. The following versions are currently supported: {}.",
        list.join(", ")
    )
}

/// The token from `Bearer <t>` or `token <t>` (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    let ok = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    ok.then(|| rest.trim())
}

/// The request path below the API base, split and decoded; `None` if outside the base.
fn segments(sh: &Shared, path: &str) -> Option<Vec<String>> {
    let rest = if sh.opts.ghes {
        path.strip_prefix("/api/v3")?
    } else {
        path
    };
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    rest.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| pct_decode(s, false))
        .collect()
}

/// Per-request context once the repository is known.
struct Ctx<'a> {
    sh: &'a Shared,
    q: Query,
    repo_id: u64,
    /// The route below the repo prefix, e.g. `["actions", "artifacts"]`.
    rest: Vec<String>,
}

fn route(sh: &Shared, st: &mut State, req: &Request) -> Response {
    let Some(segs) = segments(sh, &req.path) else {
        return not_found();
    };
    let method = if req.method == "HEAD" {
        "GET"
    } else {
        req.method.as_str()
    };
    if method == "GET" && segs.len() == 1 && segs[0] == "meta" {
        return meta(sh);
    }
    let Some((repo_id, rest)) = resolve_repo(st, &segs) else {
        return not_found();
    };
    let cx = Ctx {
        sh,
        q: Query::parse(&req.query),
        repo_id,
        rest: rest.to_vec(),
    };
    let parts: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (method, parts.as_slice()) {
        ("GET", ["actions", "runs"]) => list_runs(&cx, st, None),
        ("GET", ["actions", "runs", id]) => get_run(&cx, st, id),
        ("GET", ["actions", "runs", id, "artifacts"]) => list_run_artifacts(&cx, st, id),
        ("GET", ["actions", "runs", id, "jobs"]) => list_jobs(&cx, st, id),
        ("GET", ["actions", "artifacts"]) => list_repo_artifacts(&cx, st),
        ("GET", ["actions", "artifacts", id]) => get_artifact(&cx, st, id),
        ("DELETE", ["actions", "artifacts", id]) => delete_artifact(&cx, st, id),
        ("GET", ["actions", "artifacts", id, fmt]) => download(&cx, st, id, fmt),
        ("GET", ["actions", "workflows", wf, "runs"]) => list_runs(&cx, st, Some(wf)),
        ("GET", ["pulls", n]) => get_pull(&cx, st, n),
        ("GET", ["attestations", digest]) => list_attestations(&cx, st, digest),
        _ => not_found(),
    }
}

fn meta(sh: &Shared) -> Response {
    if sh.opts.ghes {
        json_response(
            200,
            &json!({"verifiable_password_authentication": true, "installed_version": "3.14.0"}),
        )
    } else {
        json_response(200, &json!({"verifiable_password_authentication": true}))
    }
}

/// `/repos/{o}/{r}/...` or `/repositories/{id}/...` to (repo id, rest).
fn resolve_repo<'s>(st: &State, segs: &'s [String]) -> Option<(u64, &'s [String])> {
    match segs {
        [kind, owner, repo, rest @ ..] if kind == "repos" => {
            let r = st.repo_by_name(&format!("{owner}/{repo}"))?;
            Some((r.id, rest))
        }
        [kind, id, rest @ ..] if kind == "repositories" => {
            let r = st.repo_by_id(id.parse().ok()?)?;
            Some((r.id, rest))
        }
        _ => None,
    }
}

fn repo_name(st: &State, id: u64) -> String {
    st.repo_by_id(id)
        .map(|r| r.full_name.clone())
        .unwrap_or_default()
}

fn repo_url(sh: &Shared, st: &State, id: u64) -> String {
    format!("{}/repos/{}", sh.api_url, repo_name(st, id))
}

fn find_run<'s>(cx: &Ctx, st: &'s State, id: &str) -> Option<&'s StoredRun> {
    let run = st.run(id.parse().ok()?)?;
    (run.repo_id == cx.repo_id).then_some(run)
}

fn find_artifact<'s>(cx: &Ctx, st: &'s State, id: &str) -> Option<&'s StoredArtifact> {
    let a = st.artifact(id.parse().ok()?)?;
    let run = st.run(a.run_id)?;
    (run.repo_id == cx.repo_id).then_some(a)
}

// ---------------------------------------------------------------- pagination

struct Paging {
    per_page: usize,
    page: usize,
}

fn paging(q: &Query, default: usize) -> Paging {
    let per_page = q
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
        .min(100);
    let page = q
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    Paging { per_page, page }
}

impl Paging {
    fn slice<T: Clone>(&self, items: &[T]) -> Vec<T> {
        let start = (self.page - 1).saturating_mul(self.per_page);
        items
            .iter()
            .skip(start)
            .take(self.per_page)
            .cloned()
            .collect()
    }
}

/// `Link` header for a list of `total` items, or `None` when it fits one page.
fn link_header(cx: &Ctx, st: &State, p: &Paging, total: usize) -> Option<String> {
    let last = total.div_ceil(p.per_page);
    if last <= 1 {
        return None;
    }
    let rest: Vec<String> = cx.rest.iter().map(|s| pct_encode(s)).collect();
    let base = if cx.sh.opts.link_style_repositories {
        format!(
            "{}/repositories/{}/{}",
            cx.sh.api_url,
            cx.repo_id,
            rest.join("/")
        )
    } else {
        format!("{}/{}", repo_url(cx.sh, st, cx.repo_id), rest.join("/"))
    };
    let others: Vec<String> =
        cx.q.pairs
            .iter()
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
    let url = |page: usize| {
        let mut params = vec![format!("per_page={}", p.per_page)];
        params.extend(others.iter().cloned());
        params.push(format!("page={page}"));
        format!("<{base}?{}>", params.join("&"))
    };
    let mut links = Vec::new();
    if p.page > 1 {
        links.push(format!("{}; rel=\"prev\"", url((p.page - 1).min(last))));
    }
    if p.page < last {
        links.push(format!("{}; rel=\"next\"", url(p.page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if p.page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    Some(links.join(", "))
}

/// One page of `items` as JSON (only the page is serialized: runs with thousands of artifacts).
fn list_response<T: Clone>(
    cx: &Ctx,
    st: &State,
    key: &str,
    items: &[T],
    to_json: impl Fn(&T) -> Value,
) -> Response {
    let p = paging(&cx.q, cx.sh.opts.per_page_default);
    let page: Vec<Value> = p.slice(items).iter().map(to_json).collect();
    let mut r = json_response(200, &json!({"total_count": items.len(), key: page}));
    if let Some(link) = link_header(cx, st, &p, items.len()) {
        r = r.header("Link", link);
    }
    r
}

// ---------------------------------------------------------------- artifacts

fn artifact_size(sh: &Shared, a: &StoredArtifact) -> u64 {
    if let Some(s) = a.size_override {
        return s;
    }
    let len = a.body.len() as u64;
    if sh.opts.ghes {
        // v3 semantics: the raw total of the files, never the zip length.
        declared_total_size(&a.body)
            .filter(|n| *n != len)
            .unwrap_or(len * 2 + 1)
    } else {
        len
    }
}

fn artifact_json(sh: &Shared, st: &State, a: &StoredArtifact) -> Value {
    let run = st.run(a.run_id);
    let repo_id = run.map_or(0, |r| r.repo_id);
    let url = format!("{}/actions/artifacts/{}", repo_url(sh, st, repo_id), a.id);
    let expires = if a.expired {
        crate::util::now_unix() - 86_400
    } else {
        a.created_at + 90 * 86_400
    };
    let mut v = json!({
        "id": a.id,
        "node_id": base64(format!("08:Artifact{}", a.id).as_bytes()),
        "name": a.spec_name,
        "size_in_bytes": artifact_size(sh, a),
        "url": url,
        "archive_download_url": format!("{url}/zip"),
        "expired": a.expired,
        "created_at": rfc3339(a.created_at),
        "expires_at": rfc3339(expires),
        "updated_at": rfc3339(a.created_at),
        "workflow_run": run.map(|r| json!({
            "id": r.id,
            "repository_id": r.repo_id,
            "head_repository_id": r.head_repo_id,
            "head_branch": r.run.head_branch,
            "head_sha": r.run.head_sha,
        })),
    });
    if !sh.opts.ghes {
        let digest = match &a.digest {
            DigestMode::Correct => Some(json!(format!("sha256:{}", a.sha256))),
            DigestMode::Wrong => Some(json!(format!(
                "sha256:{}",
                crate::util::sha256_hex(b"wrong")
            ))),
            DigestMode::Null => Some(Value::Null),
            DigestMode::Missing => None,
            DigestMode::Raw(s) => Some(json!(s)),
        };
        if let (Some(d), Some(obj)) = (digest, v.as_object_mut()) {
            obj.insert("digest".into(), d);
        }
    }
    v
}

/// Artifacts of this repo visible in lists (GHES hides those of unfinished runs).
fn visible_artifacts<'s>(cx: &Ctx, st: &'s State) -> Vec<&'s StoredArtifact> {
    let name = cx.q.get("name");
    st.artifacts
        .iter()
        .filter(|a| !a.deleted)
        .filter(|a| name.as_deref().is_none_or(|n| a.spec_name == n))
        .filter(|a| {
            st.run(a.run_id).is_some_and(|r| {
                r.repo_id == cx.repo_id && (!cx.sh.opts.ghes || r.run.status == "completed")
            })
        })
        .collect()
}

fn list_run_artifacts(cx: &Ctx, st: &State, run_id: &str) -> Response {
    let Some(run) = find_run(cx, st, run_id) else {
        return not_found();
    };
    let mut arts: Vec<&StoredArtifact> = visible_artifacts(cx, st)
        .into_iter()
        .filter(|a| a.run_id == run.id)
        .collect();
    // Newest first by default; GHES ignores `direction` and keeps creation order.
    let asc = cx.sh.opts.ghes || cx.q.get("direction").as_deref() == Some("asc");
    arts.sort_by_key(|a| a.id);
    if !asc {
        arts.reverse();
    }
    list_response(cx, st, "artifacts", &arts, |a| artifact_json(cx.sh, st, a))
}

fn list_repo_artifacts(cx: &Ctx, st: &State) -> Response {
    let mut arts = visible_artifacts(cx, st);
    arts.sort_by_key(|a| std::cmp::Reverse(a.id));
    list_response(cx, st, "artifacts", &arts, |a| artifact_json(cx.sh, st, a))
}

fn get_artifact(cx: &Ctx, st: &State, id: &str) -> Response {
    match find_artifact(cx, st, id) {
        Some(a) => json_response(200, &artifact_json(cx.sh, st, a)),
        None => not_found(),
    }
}

fn delete_artifact(cx: &Ctx, st: &mut State, id: &str) -> Response {
    let Some(id) = find_artifact(cx, st, id).map(|a| a.id) else {
        return not_found();
    };
    if let Some(a) = st.artifact_mut(id) {
        a.deleted = true;
    }
    Response::new(204)
}

fn download(cx: &Ctx, st: &State, id: &str, fmt: &str) -> Response {
    let Some(a) = find_artifact(cx, st, id) else {
        return not_found();
    };
    if fmt != "zip" {
        return not_found();
    }
    if a.expired {
        return error(410, "Artifact has expired");
    }
    Response::new(302)
        .header("Location", blob::signed_url(cx.sh, a))
        .header("Content-Type", "text/html;charset=utf-8")
}

// ---------------------------------------------------------------- runs

fn run_matches_workflow(r: &StoredRun, wf: &str) -> bool {
    if let Ok(id) = wf.parse::<u64>() {
        return r.run.workflow_id == id;
    }
    let path = r.run.workflow_path.split('@').next().unwrap_or_default();
    path == wf || path.rsplit('/').next() == Some(wf)
}

fn run_matches_filters(r: &StoredRun, q: &Query) -> bool {
    let eq = |key: &str, val: &str| q.get(key).is_none_or(|v| v == val);
    let status_ok = q
        .get("status")
        .is_none_or(|s| r.run.status == s || r.run.conclusion.as_deref() == Some(s.as_str()));
    status_ok
        && eq("branch", &r.run.head_branch)
        && eq("event", &r.run.event)
        && eq("head_sha", &r.run.head_sha)
        && eq("actor", &r.run.actor)
}

fn list_runs(cx: &Ctx, st: &State, workflow: Option<&str>) -> Response {
    let in_repo = st.runs.iter().filter(|r| r.repo_id == cx.repo_id);
    let of_workflow: Vec<&StoredRun> = in_repo
        .filter(|r| workflow.is_none_or(|wf| run_matches_workflow(r, wf)))
        .collect();
    if workflow.is_some() && of_workflow.is_empty() {
        return not_found();
    }
    let mut runs: Vec<&StoredRun> = of_workflow
        .into_iter()
        .filter(|r| run_matches_filters(r, &cx.q))
        .collect();
    runs.sort_by(|a, b| (b.run.created_at.as_str(), b.id).cmp(&(a.run.created_at.as_str(), a.id)));
    let capped = CAPPED_FILTERS.iter().any(|k| cx.q.get(k).is_some());
    if capped {
        runs.truncate(1000);
    }
    let exclude_prs = cx.q.get("exclude_pull_requests").as_deref() == Some("true");
    list_response(cx, st, "workflow_runs", &runs, |r| {
        run_json(cx.sh, st, r, exclude_prs)
    })
}

fn list_jobs(cx: &Ctx, st: &State, run_id: &str) -> Response {
    let Some(run) = find_run(cx, st, run_id) else {
        return not_found();
    };
    let run_url = format!(
        "{}/actions/runs/{}",
        repo_url(cx.sh, st, cx.repo_id),
        run.id
    );
    list_response(cx, st, "jobs", &run.jobs, |j| {
        json!({
            "id": j.id,
            "run_id": run.id,
            "run_url": run_url,
            "run_attempt": run.run.run_attempt,
            "head_sha": run.run.head_sha,
            "name": j.name,
            "status": j.status,
            "conclusion": j.conclusion,
            "workflow_name": run.run.name,
            "head_branch": run.run.head_branch,
        })
    })
}

fn get_run(cx: &Ctx, st: &State, id: &str) -> Response {
    let exclude_prs = cx.q.get("exclude_pull_requests").as_deref() == Some("true");
    match find_run(cx, st, id) {
        Some(r) => json_response(200, &run_json(cx.sh, st, r, exclude_prs)),
        None => not_found(),
    }
}

fn minimal_repo(sh: &Shared, st: &State, id: u64) -> Value {
    let full = repo_name(st, id);
    let (owner, name) = full.split_once('/').unwrap_or((&full, &full));
    json!({
        "id": id,
        "node_id": base64(format!("010:Repository{id}").as_bytes()),
        "name": name,
        "full_name": full,
        "owner": {"login": owner, "id": 1, "type": "Organization"},
        "private": false,
        "fork": false,
        "html_url": format!("{}/{full}", sh.server_url),
        "url": repo_url(sh, st, id),
    })
}

fn pull_minimal(sh: &Shared, st: &State, r: &StoredRun, number: u64) -> Value {
    let pull = st
        .pulls
        .iter()
        .find(|p| p.repo_id == r.repo_id && p.number == number);
    let (sha, head_ref, head_repo) = match pull {
        Some(p) => (p.head_sha.as_str(), p.head_ref.as_str(), p.head_repo_id),
        None => (
            r.run.head_sha.as_str(),
            r.run.head_branch.as_str(),
            r.head_repo_id,
        ),
    };
    let repo_ref =
        |id: u64| json!({"id": id, "url": repo_url(sh, st, id), "name": repo_name(st, id)});
    json!({
        "id": number + 1_000_000,
        "number": number,
        "url": format!("{}/pulls/{number}", repo_url(sh, st, r.repo_id)),
        "head": {"ref": head_ref, "sha": sha, "repo": repo_ref(head_repo)},
        "base": {"ref": "main", "sha": "0000000000000000000000000000000000000000", "repo": repo_ref(r.repo_id)},
    })
}

fn run_json(sh: &Shared, st: &State, r: &StoredRun, exclude_prs: bool) -> Value {
    let repo_url = repo_url(sh, st, r.repo_id);
    let run_url = format!("{repo_url}/actions/runs/{}", r.id);
    let prs: Vec<Value> = if exclude_prs {
        Vec::new()
    } else {
        r.run
            .pull_requests
            .iter()
            .map(|n| pull_minimal(sh, st, r, *n))
            .collect()
    };
    let actor = json!({"login": r.run.actor, "id": 583_231, "type": "User"});
    json!({
        "id": r.id,
        "name": r.run.name,
        "node_id": base64(format!("011:WorkflowRun{}", r.id).as_bytes()),
        "head_branch": r.run.head_branch,
        "head_sha": r.run.head_sha,
        "path": r.run.workflow_path,
        "display_title": format!("{} #{}", r.run.name, r.run.run_number),
        "run_number": r.run.run_number,
        "run_attempt": r.run.run_attempt,
        "event": r.run.event,
        "status": r.run.status,
        "conclusion": r.run.conclusion,
        "workflow_id": r.run.workflow_id,
        "check_suite_id": r.id + 10_000_000,
        "url": run_url,
        "html_url": format!("{}/{}/actions/runs/{}", sh.server_url, repo_name(st, r.repo_id), r.id),
        "pull_requests": prs,
        "created_at": r.run.created_at,
        "updated_at": r.run.created_at,
        "run_started_at": r.run.created_at,
        "actor": actor,
        "triggering_actor": actor,
        "jobs_url": format!("{run_url}/jobs"),
        "logs_url": format!("{run_url}/logs"),
        "check_suite_url": format!("{repo_url}/check-suites/{}", r.id + 10_000_000),
        "artifacts_url": format!("{run_url}/artifacts"),
        "cancel_url": format!("{run_url}/cancel"),
        "rerun_url": format!("{run_url}/rerun"),
        "previous_attempt_url": Value::Null,
        "workflow_url": format!("{repo_url}/actions/workflows/{}", r.run.workflow_id),
        "head_commit": {
            "id": r.run.head_sha,
            "tree_id": r.run.head_sha,
            "message": "Commit",
            "timestamp": r.run.created_at,
            "author": {"name": "Mona", "email": "mona@example.com"},
            "committer": {"name": "Mona", "email": "mona@example.com"},
        },
        "referenced_workflows": [],
        "repository": minimal_repo(sh, st, r.repo_id),
        "head_repository": minimal_repo(sh, st, r.head_repo_id),
        "head_repository_id": r.head_repo_id,
    })
}

// ---------------------------------------------------------------- pulls

fn get_pull(cx: &Ctx, st: &State, n: &str) -> Response {
    let Ok(number) = n.parse::<u64>() else {
        return not_found();
    };
    let Some(p) = st
        .pulls
        .iter()
        .find(|p| p.repo_id == cx.repo_id && p.number == number)
    else {
        return not_found();
    };
    let head_full = repo_name(st, p.head_repo_id);
    let body = json!({
        "id": number + 1_000_000,
        "number": number,
        "state": "open",
        "url": format!("{}/pulls/{number}", repo_url(cx.sh, st, cx.repo_id)),
        "head": {
            "sha": p.head_sha,
            "ref": p.head_ref,
            "label": format!("{}:{}", head_full.split('/').next().unwrap_or_default(), p.head_ref),
            "repo": {"id": p.head_repo_id, "full_name": head_full},
        },
        "base": {
            "ref": "main",
            "repo": {"id": cx.repo_id, "full_name": repo_name(st, cx.repo_id)},
        },
    });
    json_response(200, &body)
}

// ---------------------------------------------------------------- attestations

/// `GET /repos/{o}/{r}/attestations/sha256:{hex}`: 404 when there is none, as GitHub answers.
fn list_attestations(cx: &Ctx, st: &State, digest: &str) -> Response {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return error(422, "digest must be sha256:<hex>");
    };
    let items: Vec<Value> = st
        .attestations
        .iter()
        .enumerate()
        .filter(|(_, a)| a.repo_id == cx.repo_id && a.sha256.eq_ignore_ascii_case(hex))
        .map(|(i, a)| {
            if a.by_url {
                json!({"bundle": null, "repository_id": a.repo_id,
                       "bundle_url": format!("{}{}{i}.json.sn", cx.sh.blob_origin, blob::ATTESTATIONS_PREFIX)})
            } else {
                let bundle: Value = serde_json::from_str(&a.bundle).unwrap_or(Value::Null);
                json!({"bundle": bundle, "repository_id": a.repo_id, "bundle_url": null})
            }
        })
        .collect();
    if items.is_empty() {
        return not_found();
    }
    list_response(cx, st, "attestations", &items, Value::clone)
}
