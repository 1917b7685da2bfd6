//! End-to-end tests over real sockets using only std::net.

mod common;

use common::*;
use fakehub::{
    ArtifactSpec, DigestMode, FakeGitHub, Fault, FaultKind, Options, Origin, Run, zipbuild,
};
use sha2::{Digest, Sha256};
use std::io::Write;
use util::hex;

/// A server with one run holding `n` small artifacts named a0..a{n-1}.
fn seeded(opts: Options, n: usize) -> (FakeGitHub, u64, Vec<u64>) {
    let gh = FakeGitHub::start(opts);
    let run = gh.add_run(Run::new("octo/hello"));
    let ids = (0..n)
        .map(|i| {
            gh.add_artifact(
                run,
                ArtifactSpec::new(&format!("a{i}"), zipbuild::sample_zip()),
            )
        })
        .collect();
    (gh, run, ids)
}

#[test]
fn pagination_and_link_headers() {
    let (gh, run, ids) = seeded(Options::default(), 5);
    let tok = gh.token();
    let base = format!(
        "{}/repos/octo/hello/actions/runs/{run}/artifacts",
        gh.api_url()
    );

    let r = api_get(&format!("{base}?per_page=2"), &tok);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["total_count"], 5);
    let got: Vec<u64> = j["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, vec![ids[4], ids[3]], "newest first");
    assert_eq!(
        link(&r, "next").unwrap(),
        format!("{base}?per_page=2&page=2")
    );
    assert_eq!(
        link(&r, "last").unwrap(),
        format!("{base}?per_page=2&page=3")
    );
    assert!(link(&r, "prev").is_none());
    assert!(r.header("x-github-request-id").is_some());
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some("1000"));

    // Follow next links to the end.
    let mut url = Some(format!("{base}?per_page=2"));
    let mut seen = Vec::new();
    while let Some(u) = url {
        let r = api_get(&u, &tok);
        seen.extend(
            r.json()["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_u64().unwrap()),
        );
        url = link(&r, "next");
    }
    seen.reverse();
    assert_eq!(seen, ids);

    let last = api_get(&format!("{base}?per_page=2&page=3"), &tok);
    assert_eq!(last.json()["artifacts"].as_array().unwrap().len(), 1);
    assert!(link(&last, "prev").is_some() && link(&last, "first").is_some());
    let past = api_get(&format!("{base}?per_page=2&page=9"), &tok);
    assert_eq!(past.json()["artifacts"].as_array().unwrap().len(), 0);
    assert_eq!(past.json()["total_count"], 5);

    // Single page: no Link. per_page clamp. name filter. direction.
    assert!(api_get(&base, &tok).header("link").is_none());
    assert_eq!(
        api_get(&format!("{base}?per_page=500"), &tok).json()["artifacts"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let named = api_get(&format!("{base}?name=a2"), &tok).json();
    assert_eq!(named["total_count"], 1);
    assert_eq!(named["artifacts"][0]["name"], "a2");
    let asc = api_get(&format!("{base}?direction=asc&per_page=1&name=a1"), &tok);
    assert_eq!(asc.json()["artifacts"][0]["id"], ids[1]);
    let asc = api_get(&format!("{base}?direction=asc"), &tok).json();
    assert_eq!(asc["artifacts"][0]["id"], ids[0]);

    // Other params are carried into links.
    let r = api_get(&format!("{base}?per_page=1&direction=asc"), &tok);
    assert_eq!(
        link(&r, "next").unwrap(),
        format!("{base}?per_page=1&direction=asc&page=2")
    );
}

#[test]
fn repositories_style_links_are_served() {
    let opts = Options {
        link_style_repositories: true,
        per_page_default: 2,
        ..Options::default()
    };
    let (gh, run, _) = seeded(opts, 3);
    let tok = gh.token();
    let r = api_get(
        &format!(
            "{}/repos/OCTO/Hello/actions/runs/{run}/artifacts",
            gh.api_url()
        ),
        &tok,
    );
    let next = link(&r, "next").unwrap();
    let repo_id = gh.repo_id("octo/hello").unwrap();
    assert_eq!(
        next,
        format!(
            "{}/repositories/{repo_id}/actions/runs/{run}/artifacts?per_page=2&page=2",
            gh.api_url()
        )
    );
    let r2 = api_get(&next, &tok);
    assert_eq!(r2.status, 200);
    assert_eq!(r2.json()["artifacts"].as_array().unwrap().len(), 1);
}

#[test]
fn auth_and_header_checks() {
    let (gh, run, _) = seeded(Options::default(), 1);
    let url = format!(
        "{}/repos/octo/hello/actions/runs/{run}/artifacts",
        gh.api_url()
    );
    let r = get(&url, &[UA]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "Bad credentials");
    assert_eq!(r.json()["status"], "401");
    assert!(r.header("x-github-request-id").is_some());
    assert_eq!(
        get(&url, &[UA, ("Authorization", "Bearer nope")]).status,
        401
    );
    assert_eq!(
        get(&url, &[UA, ("Authorization", "token test-token")]).status,
        200
    );
    assert_eq!(
        get(&url, &[("Authorization", "token test-token")]).status,
        403
    );
    let bad = get(
        &url,
        &[
            UA,
            ("Authorization", "token test-token"),
            ("X-GitHub-Api-Version", "v3"),
        ],
    );
    assert_eq!(bad.status, 400);
    assert!(
        bad.json()["message"]
            .as_str()
            .unwrap()
            .contains("\"v3\", is not a supported version")
    );
    let v2026 = get(
        &url,
        &[
            UA,
            ("Authorization", "token test-token"),
            ("X-GitHub-Api-Version", "2026-03-10"),
        ],
    );
    assert_eq!(v2026.status, 200);
    let missing = api_get(
        &format!("{}/repos/octo/nope/actions/artifacts", gh.api_url()),
        "test-token",
    );
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "Not Found");
}

#[test]
fn redirect_then_blob_fetch_without_auth() {
    let gh = FakeGitHub::start(Options::default());
    let run = gh.add_run(Run::new("octo/hello"));
    let body = zipbuild::sample_zip();
    let id = gh.add_artifact(run, ArtifactSpec::new("dist", body.clone()));
    let tok = gh.token();

    let meta = api_get(
        &format!("{}/repos/octo/hello/actions/artifacts/{id}", gh.api_url()),
        &tok,
    )
    .json();
    assert_eq!(
        meta["digest"],
        format!("sha256:{}", hex(&Sha256::digest(&body)))
    );
    assert_eq!(meta["size_in_bytes"], body.len());
    assert_eq!(meta["workflow_run"]["id"], run);
    let dl = meta["archive_download_url"].as_str().unwrap().to_string();
    assert_eq!(
        dl,
        format!(
            "{}/repos/octo/hello/actions/artifacts/{id}/zip",
            gh.api_url()
        )
    );

    let r = api_get(&dl, &tok);
    assert_eq!(r.status, 302);
    assert!(r.body.is_empty());
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.starts_with(&format!("{}/blob/{id}/", gh.blob_origin())));
    assert!(loc.contains("se=") && loc.contains("sig="));
    assert_ne!(
        split_url(&loc).0,
        split_url(&gh.api_url()).0,
        "different origin"
    );

    let b = get(&loc, &[]);
    assert_eq!(b.status, 200);
    assert_eq!(b.body, body);
    assert_eq!(b.header("content-type"), Some("application/zip"));
    assert_eq!(
        b.header("content-disposition"),
        Some("attachment; filename=\"dist.zip\"")
    );
    assert_eq!(b.header("accept-ranges"), Some("bytes"));

    // Tampered signature, and the request log.
    let bad = get(&loc.replace("sig=", "sig=0"), &[]);
    assert_eq!(bad.status, 403);
    let log = gh.requests();
    let blob_reqs: Vec<_> = log.iter().filter(|l| l.origin == Origin::Blob).collect();
    assert_eq!(blob_reqs.len(), 2);
    assert!(blob_reqs[0].header("authorization").is_none());
    assert_eq!(blob_reqs[0].status, 200);
    gh.clear_requests();
    assert!(gh.requests().is_empty());
}

#[test]
fn blob_rejects_authorization_and_expired_sas() {
    let (gh, _, ids) = seeded(Options::default(), 1);
    let loc = api_get(
        &format!(
            "{}/repos/octo/hello/actions/artifacts/{}/zip",
            gh.api_url(),
            ids[0]
        ),
        "test-token",
    )
    .header("location")
    .unwrap()
    .to_string();
    let r = get(&loc, &[("Authorization", "Bearer test-token")]);
    assert_eq!(r.status, 403);
    assert!(r.text().contains("<Code>AuthenticationFailed</Code>"));
    assert!(
        r.text()
            .contains("Server failed to authenticate the request")
    );

    let gh2 = FakeGitHub::start(Options {
        sas_ttl_secs: -5,
        ..Options::default()
    });
    let run = gh2.add_run(Run::new("octo/hello"));
    let id = gh2.add_artifact(run, ArtifactSpec::new("x", vec![1, 2, 3]));
    let loc = api_get(
        &format!(
            "{}/repos/octo/hello/actions/artifacts/{id}/zip",
            gh2.api_url()
        ),
        "test-token",
    )
    .header("location")
    .unwrap()
    .to_string();
    let r = get(&loc, &[]);
    assert_eq!(r.status, 403);
    assert!(
        r.text()
            .contains("Signature not valid in the specified time frame")
    );
}

fn blob_url(gh: &FakeGitHub, id: u64) -> String {
    let r = api_get(
        &format!(
            "{}/repos/octo/hello/actions/artifacts/{id}/zip",
            gh.api_url()
        ),
        &gh.token(),
    );
    r.header("location").unwrap().to_string()
}

#[test]
fn range_requests_and_keep_alive() {
    let gh = FakeGitHub::start(Options::default());
    let run = gh.add_run(Run::new("octo/hello"));
    let body = zipbuild::random_payload(300_000, 9);
    let id = gh.add_artifact(run, ArtifactSpec::new("big", body.clone()));
    let loc = blob_url(&gh, id);

    let r = get(&loc, &[("Range", "bytes=1000-")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("bytes 1000-299999/300000"));
    assert_eq!(r.body, &body[1000..]);
    let r = get(&loc, &[("Range", "bytes=10-19")]);
    assert_eq!((r.status, r.body.as_slice()), (206, &body[10..20]));
    assert_eq!(get(&loc, &[("Range", "bytes=300000-")]).status, 416);

    // Two requests on one connection.
    let mut s = connect(&loc);
    for _ in 0..2 {
        s.write_all(raw_request("GET", &loc, &[("Range", "bytes=0-9")]).as_bytes())
            .unwrap();
        let r = read_response(&mut s, false);
        assert_eq!((r.status, r.body.as_slice()), (206, &body[..10]));
    }

    let gh2 = FakeGitHub::start(Options {
        range_support: false,
        ..Options::default()
    });
    let run = gh2.add_run(Run::new("octo/hello"));
    let id = gh2.add_artifact(run, ArtifactSpec::new("big", body.clone()));
    let r = get(&blob_url(&gh2, id), &[("Range", "bytes=1000-")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), body.len());
    assert!(r.header("accept-ranges").is_none());
}

#[test]
fn truncate_reset_and_status_faults() {
    let gh = FakeGitHub::start(Options::default());
    let run = gh.add_run(Run::new("octo/hello"));
    let body = zipbuild::random_payload(200_000, 4);
    let id = gh.add_artifact(run, ArtifactSpec::new("big", body.clone()));
    let loc = blob_url(&gh, id);

    gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::TruncateBody { after_bytes: 1234 },
    ));
    let r = get(&loc, &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("200000"));
    assert!(r.short);
    assert_eq!(r.body, &body[..1234]);
    // Used up: next request is whole.
    assert_eq!(get(&loc, &[]).body.len(), body.len());

    gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::ResetAfter { after_bytes: 10 },
    ));
    let r = get(&loc, &[]);
    assert!(r.short && r.body.len() <= 10);

    gh.inject(
        Fault::status(
            Origin::Blob,
            "/blob/",
            503,
            "<Error><Code>ServerBusy</Code></Error>",
        )
        .times(2),
    );
    assert_eq!(get(&loc, &[]).status, 503);
    assert_eq!(get(&loc, &[]).status, 503);
    assert_eq!(get(&loc, &[]).status, 200);

    let list = format!("{}/repos/octo/hello/actions/artifacts", gh.api_url());
    gh.inject(
        Fault::status(
            Origin::Api,
            "/actions/artifacts",
            502,
            "{\"message\":\"Server Error\"}",
        )
        .method("GET"),
    );
    let r = api_get(&list, "test-token");
    assert_eq!(r.status, 502);
    assert!(r.header("x-github-request-id").is_some());
    assert_eq!(api_get(&list, "test-token").status, 200);

    gh.inject(Fault::new(
        Origin::Api,
        "",
        FaultKind::RateLimitPrimary { reset_in_secs: 30 },
    ));
    let r = api_get(&list, "test-token");
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("API rate limit exceeded")
    );

    gh.inject(Fault::new(
        Origin::Api,
        "",
        FaultKind::SecondaryRateLimit {
            retry_after: Some(7),
        },
    ));
    let r = api_get(&list, "test-token");
    assert_eq!((r.status, r.header("retry-after")), (403, Some("7")));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );

    gh.inject(Fault::new(
        Origin::Blob,
        "",
        FaultKind::Stall {
            after_bytes: 100,
            secs: 1,
        },
    ));
    let t = std::time::Instant::now();
    assert_eq!(get(&loc, &[]).body, body);
    assert!(t.elapsed() >= std::time::Duration::from_millis(900));
    assert!(gh.pending_faults().is_empty());
}

#[test]
fn expired_deleted_and_digest_modes() {
    let gh = FakeGitHub::start(Options::default());
    let run = gh.add_run(Run::new("octo/hello"));
    let a = gh.add_artifact(run, ArtifactSpec::new("old", vec![1]).expired(true));
    let b = gh.add_artifact(
        run,
        ArtifactSpec::new("nul", vec![2]).digest(DigestMode::Null),
    );
    let c = gh.add_artifact(
        run,
        ArtifactSpec::new("none", vec![3]).digest(DigestMode::Missing),
    );
    let d = gh.add_artifact(
        run,
        ArtifactSpec::new("bad", vec![4]).digest(DigestMode::Wrong),
    );
    let api = format!("{}/repos/octo/hello/actions/artifacts", gh.api_url());
    let r = api_get(&format!("{api}/{a}/zip"), "test-token");
    assert_eq!(r.status, 410);
    assert_eq!(r.json()["message"], "Artifact has expired");
    assert_eq!(
        api_get(&format!("{api}/{a}"), "test-token").json()["expired"],
        true
    );
    assert!(api_get(&format!("{api}/{b}"), "test-token").json()["digest"].is_null());
    assert!(
        api_get(&format!("{api}/{c}"), "test-token")
            .json()
            .get("digest")
            .is_none()
    );
    let wrong = api_get(&format!("{api}/{d}"), "test-token").json();
    assert!(wrong["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_ne!(wrong["digest"].as_str().unwrap(), gh.artifacts()[3].sha256);

    let del = request(
        "DELETE",
        &format!("{api}/{b}"),
        &[UA, ("Authorization", "Bearer test-token")],
    );
    assert_eq!(del.status, 204);
    assert!(del.body.is_empty());
    assert_eq!(api_get(&format!("{api}/{b}"), "test-token").status, 404);
    assert!(gh.artifacts().iter().any(|x| x.id == b && x.deleted));
    assert_eq!(api_get(&api, "test-token").json()["total_count"], 3);
    gh.expire_artifact(d);
    assert_eq!(api_get(&format!("{api}/{d}/zip"), "test-token").status, 410);
}

#[test]
fn workflow_runs_filters() {
    let gh = FakeGitHub::start(Options::default());
    let r1 = gh.add_run(Run::new("octo/hello").created_at("2026-01-01T00:00:00Z"));
    let r2 = gh.add_run(
        Run::new("octo/hello")
            .branch("dev")
            .created_at("2026-01-02T00:00:00Z"),
    );
    let r3 = gh.add_run(
        Run::new("octo/hello")
            .status("completed", Some("failure"))
            .created_at("2026-01-03T00:00:00Z")
            .head_repo("fork/hello"),
    );
    let r4 = gh.add_run(
        Run::new("octo/hello")
            .workflow(".github/workflows/other.yml", 9)
            .event("pull_request"),
    );
    let base = format!("{}/repos/octo/hello/actions", gh.api_url());
    let ids = |url: &str| -> Vec<u64> {
        api_get(url, "test-token").json()["workflow_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&format!("{base}/runs")), vec![r4, r3, r2, r1]);
    assert_eq!(ids(&format!("{base}/runs?branch=dev")), vec![r2]);
    assert_eq!(
        ids(&format!("{base}/runs?status=success")),
        vec![r4, r2, r1]
    );
    assert_eq!(
        ids(&format!("{base}/runs?status=completed&event=pull_request")),
        vec![r4]
    );
    assert_eq!(
        ids(&format!("{base}/workflows/build.yml/runs")),
        vec![r3, r2, r1]
    );
    assert_eq!(ids(&format!("{base}/workflows/9/runs")), vec![r4]);
    assert_eq!(
        api_get(&format!("{base}/workflows/nope.yml/runs"), "test-token").status,
        404
    );
    let run = api_get(&format!("{base}/runs/{r3}"), "test-token").json();
    assert_eq!(run["head_repository"]["full_name"], "fork/hello");
    assert_eq!(run["repository"]["full_name"], "octo/hello");
    assert_eq!(run["conclusion"], "failure");
    assert_eq!(
        run["html_url"],
        format!("{}/octo/hello/actions/runs/{r3}", gh.server_url())
    );

    gh.add_pull(7, "abc123", "feature");
    let pr = api_get(
        &format!("{}/repos/octo/hello/pulls/7", gh.api_url()),
        "test-token",
    )
    .json();
    assert_eq!(
        (pr["head"]["sha"].as_str(), pr["head"]["ref"].as_str()),
        (Some("abc123"), Some("feature"))
    );
    assert_eq!(pr["head"]["repo"]["full_name"], "octo/hello");
}

#[test]
fn filtered_run_search_caps_at_1000() {
    let gh = FakeGitHub::start(Options::default());
    for _ in 0..1005 {
        gh.add_run(Run::new("octo/hello"));
    }
    let base = format!("{}/repos/octo/hello/actions/runs", gh.api_url());
    assert_eq!(api_get(&base, "test-token").json()["total_count"], 1005);
    let r = api_get(
        &format!("{base}?branch=main&per_page=100&page=10"),
        "test-token",
    );
    assert_eq!(r.json()["total_count"], 1000);
    assert_eq!(r.json()["workflow_runs"].as_array().unwrap().len(), 100);
    assert!(link(&r, "next").is_none());
    let r = api_get(
        &format!("{base}?branch=main&per_page=100&page=11"),
        "test-token",
    );
    assert_eq!(r.json()["workflow_runs"].as_array().unwrap().len(), 0);
}

#[test]
fn ghes_mode() {
    let gh = FakeGitHub::start(Options {
        ghes: true,
        ..Options::default()
    });
    assert_eq!(gh.api_url(), format!("{}/api/v3", gh.server_url()));
    let done = gh.add_run(Run::new("octo/hello"));
    let busy = gh.add_run(Run::new("octo/hello").status("in_progress", None));
    let body = zipbuild::ZipBuilder::new()
        .file("a.txt", &zipbuild::text_payload(5000, 1))
        .build();
    let a1 = gh.add_artifact(done, ArtifactSpec::new("dist", body.clone()));
    let a2 = gh.add_artifact(done, ArtifactSpec::new("dist2", body.clone()));
    gh.add_artifact(busy, ArtifactSpec::new("wip", body.clone()));
    let api = gh.api_url();
    let tok = gh.token();

    // Not served at the root; no rate-limit headers; 2026-03-10 rejected.
    assert_eq!(
        api_get(
            &format!("{}/repos/octo/hello/actions/artifacts", gh.server_url()),
            &tok
        )
        .status,
        404
    );
    let list = api_get(&format!("{api}/repos/octo/hello/actions/artifacts"), &tok);
    assert_eq!(list.status, 200);
    assert!(list.header("x-ratelimit-limit").is_none());
    assert!(list.header("x-github-request-id").is_some());
    assert_eq!(
        list.json()["total_count"],
        2,
        "artifacts of unfinished runs are hidden"
    );
    let v = get(
        &format!("{api}/repos/octo/hello/actions/artifacts"),
        &[
            UA,
            ("Authorization", "token test-token"),
            ("X-GitHub-Api-Version", "2026-03-10"),
        ],
    );
    assert_eq!(v.status, 400);

    let run_list = api_get(
        &format!("{api}/repos/octo/hello/actions/runs/{done}/artifacts?direction=desc"),
        &tok,
    )
    .json();
    assert_eq!(run_list["artifacts"][0]["id"], a1, "direction ignored");
    let a = &run_list["artifacts"][0];
    assert!(a.get("digest").is_none());
    assert_eq!(a["size_in_bytes"], 5000);
    assert_ne!(a["size_in_bytes"], body.len());
    assert_eq!(
        api_get(
            &format!("{api}/repos/octo/hello/actions/runs/{busy}/artifacts"),
            &tok
        )
        .json()["total_count"],
        0
    );

    let r = api_get(
        &format!("{api}/repos/octo/hello/actions/artifacts/{a2}/zip"),
        &tok,
    );
    assert_eq!(r.status, 302);
    let loc = r.header("location").unwrap().to_string();
    assert!(
        loc.starts_with(&format!("{}/_services/pipelines/", gh.server_url())),
        "{loc}"
    );
    assert!(loc.contains(&format!(
        "/_apis/pipelines/1/runs/{done}/signedartifactscontent?artifactName=dist2&urlExpires="
    )));
    assert!(loc.contains("urlSigningMethod=HMACV1&urlSignature="));
    let b = get(&loc, &[]);
    assert_eq!(b.status, 200);
    assert_eq!(b.body, body);
    assert_eq!(
        b.header("content-disposition"),
        Some("attachment; filename=\"dist2.zip\"")
    );
    assert_eq!(
        get(&loc, &[("Authorization", "token test-token")]).status,
        403
    );
    assert_eq!(
        get(&loc.replace("urlSignature=", "urlSignature=x"), &[]).status,
        403
    );
    assert!(
        gh.requests()
            .iter()
            .any(|l| l.origin == Origin::Blob && l.status == 200)
    );

    gh.set_run_status(busy, "completed", Some("success"));
    assert_eq!(
        api_get(&format!("{api}/repos/octo/hello/actions/artifacts"), &tok).json()["total_count"],
        3
    );
}

#[test]
fn malformed_requests_get_400_not_a_panic() {
    let gh = FakeGitHub::start(Options::default());
    for raw in [
        "GARBAGE\r\n\r\n",
        "GET /x HTTP/9\r\n\r\n",
        "GET /x HTTP/1.1\r\nbad header\r\n\r\n",
    ] {
        let mut s = connect(&gh.api_url());
        s.write_all(raw.as_bytes()).unwrap();
        assert_eq!(read_response(&mut s, false).status, 400);
    }
    let mut s = connect(&gh.blob_origin());
    s.write_all(b"GET /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s, false).status, 400);
    // Still alive.
    assert_eq!(
        api_get(
            &format!("{}/repos/octo/hello/actions/artifacts/%zz", gh.api_url()),
            "test-token"
        )
        .status,
        404
    );
    assert_eq!(
        get(
            &format!("{}/blob/1/x.zip?se=abc&sig=1", gh.blob_origin()),
            &[]
        )
        .status,
        403
    );
    assert_eq!(
        get(&format!("{}/nothing", gh.blob_origin()), &[]).status,
        404
    );
}

#[test]
fn throttle_limits_blob_rate() {
    let gh = FakeGitHub::start(Options {
        throttle_bytes_per_sec: Some(200_000),
        ..Options::default()
    });
    let run = gh.add_run(Run::new("octo/hello"));
    let id = gh.add_artifact(
        run,
        ArtifactSpec::new("x", zipbuild::random_payload(100_000, 1)),
    );
    let loc = blob_url(&gh, id);
    let t = std::time::Instant::now();
    assert_eq!(get(&loc, &[]).body.len(), 100_000);
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn delay_disconnect_and_head() {
    let (gh, _, ids) = seeded(Options::default(), 1);
    let url = format!(
        "{}/repos/octo/hello/actions/artifacts/{}",
        gh.api_url(),
        ids[0]
    );
    gh.inject(Fault::new(
        Origin::Api,
        "/actions/artifacts/",
        FaultKind::Delay { ms: 300 },
    ));
    let t = std::time::Instant::now();
    assert_eq!(api_get(&url, "test-token").status, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(290));

    gh.inject(Fault::new(Origin::Api, "", FaultKind::Disconnect));
    let mut s = connect(&url);
    s.write_all(raw_request("GET", &url, &[UA]).as_bytes())
        .unwrap();
    let mut buf = Vec::new();
    use std::io::Read;
    let n = s.read_to_end(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "no bytes before the hang-up");
    assert_eq!(gh.requests().last().unwrap().status, 0);

    let loc = blob_url(&gh, ids[0]);
    let h = request("HEAD", &loc, &[]);
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
    assert_eq!(
        h.header("content-length").unwrap(),
        zipbuild::sample_zip().len().to_string()
    );
}

#[test]
fn jobs_list_and_conditional_requests_free_of_the_rate_limit() {
    let gh = FakeGitHub::start(Options {
        rate_limit: 50,
        ..Options::default()
    });
    let run = gh.add_run(Run::new("octo/hello").status("in_progress", None));
    let build = gh.add_job(run, "build");
    gh.add_job(run, "lint");
    let url = format!("{}/repos/octo/hello/actions/runs/{run}/jobs", gh.api_url());
    let auth = format!("Bearer {}", gh.token());
    let get = |etag: Option<&str>| {
        let mut h = vec![UA, ("Authorization", auth.as_str())];
        if let Some(e) = etag {
            h.push(("If-None-Match", e));
        }
        common::get(&url, &h)
    };

    let first = get(None);
    assert_eq!(first.status, 200);
    let jobs = first.json()["jobs"].as_array().unwrap().clone();
    let names: Vec<&str> = jobs.iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "lint"]);
    assert_eq!(jobs[0]["status"], "queued");
    assert_eq!(jobs[0]["conclusion"], serde_json::Value::Null);
    assert_eq!(jobs[0]["run_id"], run);
    let etag = first.header("etag").unwrap().to_string();
    assert!(etag.starts_with("W/\""), "{etag}");
    let remaining = |r: &Resp| r.header("x-ratelimit-remaining").unwrap().to_string();
    assert_eq!(remaining(&first), "49");

    // Unchanged: 304, no body, and the rate limit is not charged.
    let same = get(Some(&etag));
    assert_eq!(same.status, 304);
    assert!(same.body.is_empty());
    assert_eq!(same.header("etag"), Some(etag.as_str()));
    assert_eq!(remaining(&same), "49");

    // Changed: 200 with a new ETag, charged.
    gh.set_job_status(build, "completed", Some("failure"));
    let changed = get(Some(&etag));
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    assert_eq!(changed.json()["jobs"][0]["conclusion"], "failure");
    assert_eq!(remaining(&changed), "48");

    // Unknown run: 404.
    let missing = format!("{}/repos/octo/hello/actions/runs/1/jobs", gh.api_url());
    assert_eq!(api_get(&missing, &gh.token()).status, 404);
}
