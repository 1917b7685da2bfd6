//! A hostile or broken server, through the real binary: every answer that breaks a bound or a
//! promise is refused with one clear error (or retried when another attempt can help), nothing
//! large is written to RUNNER_TEMP, and the token goes nowhere but the API.

use crate::support::*;
use sha2::{Digest, Sha256};
use zipbuild::ZipBuilder;

fn small_zip() -> Vec<u8> {
    ZipBuilder::new().file("a.txt", b"hello").build()
}

fn sha256_hex(data: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(data))
}

fn header(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Bytes of every file left under `dir`.
fn bytes_under(dir: &std::path::Path) -> u64 {
    tree(dir).values().map(|v| v.len() as u64).sum()
}

// ------------------------------------------------------------------ blob bodies (bug 2)

#[test]
fn an_endless_blob_body_is_cut_at_size_in_bytes() {
    let w = World::new();
    let zip = small_zip();
    let size = zip.len().to_string();
    w.add("dist", zip);
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Endless {
            code: 200,
            headers: vec![header("Content-Type", "application/zip")],
            prefix: "PK\u{3}\u{4}".into(),
            repeat: "x".repeat(1000),
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "size_in_bytes", &size, "refusing"]);
    // The server's fault, not a limit to raise: the summary's next step says so.
    assert!(!out.summary.contains("raise `max-size`"), "{}", out.summary);
    assert!(
        out.summary
            .contains("the server sent more than the artifact holds"),
        "{}",
        out.summary
    );
    // Refused at once, not retried: another attempt would only write as much again.
    assert_eq!(w.blob_requests().len(), 1);
    w.assert_temp_clean();
    assert!(entries(&w.workspace()).is_empty());
}

#[test]
fn an_endless_blob_body_without_a_digest_is_cut_at_the_v3_margin() {
    let w = World::new();
    let zip = small_zip();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", zip).digest(DigestMode::Null),
    );
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Endless {
            code: 200,
            headers: vec![header("Content-Type", "application/zip")],
            prefix: "PK\u{3}\u{4}".into(),
            repeat: "x".repeat(1000),
        },
    ));
    // 17 MiB to hash in a debug build on a busy machine: a stall timer of 10 s, as in ranges.rs.
    let out = w.run(&[("name", "dist"), ("stall-timeout", "1000")], &[]);
    out.failed()
        .one_error(&["'dist'", "size_in_bytes", "refusing"]);
    assert_eq!(w.blob_requests().len(), 1);
    w.assert_temp_clean();
}

#[test]
fn a_content_length_above_the_bound_is_refused_before_reading() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Endless {
            code: 200,
            headers: vec![
                header("Content-Type", "application/zip"),
                header("Content-Length", "107374182400"),
            ],
            prefix: "PK\u{3}\u{4}".into(),
            repeat: "x".repeat(1000),
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "announces 107374182400 bytes", "size_in_bytes"]);
    w.assert_temp_clean();
}

#[test]
fn a_max_size_below_the_artifact_bounds_the_download() {
    let w = World::new();
    let body = zipbuild::random_payload(4 << 20, 7);
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("big.bin", body, "application/octet-stream"),
    );
    let out = w.run(&[("name", "big.bin"), ("max-size", "1MiB")], &[]);
    out.failed().one_error(&["'big.bin'", "max-size (1.0 MiB)"]);
    w.assert_temp_clean();
}

#[test]
fn a_lying_content_range_total_is_refused() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Status {
            code: 206,
            body: "PK\u{3}\u{4}".into(),
            headers: vec![
                header("Content-Type", "application/zip"),
                header("Content-Range", "bytes 0-8388607/107374182400"),
            ],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "claims 107374182400 bytes", "Content-Range"]);
    assert_eq!(w.blob_requests().len(), 1, "one request, not 12,800 ranges");
    w.assert_temp_clean();
}

// ------------------------------------------------------------------ size, type and digest

#[test]
fn a_web_page_in_place_of_an_artifact_without_digest_is_refused() {
    let w = World::new();
    let zip = small_zip();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", zip).digest(DigestMode::Null),
    );
    w.gh.inject(
        Fault::new(
            Origin::Blob,
            "/blob/",
            FaultKind::Status {
                code: 200,
                body: "<html>please log in</html>"[..24].into(),
                headers: vec![header("Content-Type", "text/html; charset=utf-8")],
            },
        )
        .times(usize::MAX),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "24 bytes of text/html", "zip archive"]);
    assert!(entries(&w.workspace()).is_empty(), "nothing saved");
    w.assert_temp_clean();
}

#[test]
fn a_body_cut_short_is_retried_not_called_a_digest_mismatch() {
    let w = World::new();
    let zip = small_zip();
    let first: String = zip[..24].iter().map(|b| char::from(*b)).collect();
    assert!(first.is_ascii());
    w.add("dist", zip);
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Status {
            code: 200,
            body: first,
            headers: vec![header("Content-Type", "application/zip")],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("body cut short: 24 of")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("digest mismatch"), "{}", out.stdout);
    assert_eq!(
        std::fs::read(w.workspace().join("a.txt")).unwrap(),
        b"hello"
    );
}

#[test]
fn a_digest_label_in_capitals_is_accepted() {
    let w = World::new();
    let zip = small_zip();
    let digest = format!("SHA256:{}", sha256_hex(&zip).to_uppercase());
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", zip).digest(DigestMode::Raw(digest)),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    assert!(out.stdout.contains("Digest verified"), "{}", out.stdout);
}

#[test]
fn an_unknown_digest_algorithm_has_its_own_message() {
    let w = World::new();
    let zip = small_zip();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", zip)
            .digest(DigestMode::Raw(format!("sha512:{}", "ab".repeat(64)))),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "algorithm 'sha512'", "cannot check"]);
    assert!(!out.stdout.contains("digest mismatch"), "{}", out.stdout);
}

// ------------------------------------------------------------------ local faults, slow bodies

/// The binary under `sh` with a file-size limit, so writing the download fails with EFBIG (a
/// local fault, like ENOSPC) once past 1 MiB. SIGXFSZ is ignored so the write fails instead.
#[test]
#[cfg(unix)]
fn a_local_write_error_is_not_retried() {
    let w = World::new();
    let body = zipbuild::random_payload(4 << 20, 3);
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("big.bin", body, "application/octet-stream"),
    );
    let out = w.run_with_file_size_limit(&[("name", "big.bin")], 2048);
    out.failed().one_error(&["not retried"]);
    assert!(!out.stdout.contains("retrying"), "{}", out.stdout);
    assert_eq!(w.api_requests("/zip").len(), 1, "{}", out.stdout);
    w.assert_temp_clean();
}

#[test]
fn a_trickled_blob_body_is_cut_and_retried() {
    let w = World::new();
    w.add("dist", small_zip());
    // 20 bytes a second: never silent long enough for the stall timer, yet it would take
    // seconds for a few hundred bytes (hours for a real artifact).
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Trickle { bytes_per_sec: 20 },
    ));
    let out = w.run(&[("name", "dist"), ("stall-timeout", "30")], &[]);
    out.ok();
    assert!(
        out.warnings().iter().any(|l| l.contains("too slow")),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read(w.workspace().join("a.txt")).unwrap(),
        b"hello"
    );
    assert!(bytes_under(&w.temp()) == 0);
}

// ------------------------------------------------------------------ API answers (bugs 3, 4, 5)

/// The run-artifacts list URL exactly as artifetch asks for it, with `name`.
fn list_url(w: &World, name: &str) -> String {
    format!(
        "{}/repos/{}/actions/runs/{}/artifacts?per_page=100&name={name}",
        w.gh.api_url(),
        w.gh.repo(),
        w.run
    )
}

#[test]
fn an_endless_json_answer_is_refused_not_buffered() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Endless {
            code: 200,
            headers: vec![header("Content-Type", "application/json; charset=utf-8")],
            prefix: r#"{"total_count":1,"artifacts":["#.into(),
            repeat: r#"{"id":1,"name":"x","size_in_bytes":1},"#.into(),
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&["/artifacts", "larger than 8 MiB"]);
    assert_eq!(
        w.api_requests("/artifacts").len(),
        1,
        "refused, not retried"
    );
}

#[test]
fn a_trickled_api_answer_hits_the_deadline_and_is_retried() {
    let w = World::new();
    w.add("dist", small_zip());
    // 20 bytes a second: the stall timer never fires, and the page would take half a minute.
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Trickle { bytes_per_sec: 20 },
    ));
    let out = w.run(&[("name", "dist"), ("stall-timeout", "30")], &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("/artifacts") && l.contains("not complete within")),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read(w.workspace().join("a.txt")).unwrap(),
        b"hello"
    );
}

#[test]
fn a_moved_repository_is_followed_on_the_api_with_a_warning() {
    let w = World::new();
    w.add("dist", small_zip());
    let repo_id = w.gh.repo_id(&w.gh.repo()).unwrap();
    let moved = format!(
        "{}/repositories/{repo_id}/actions/runs/{}/artifacts?per_page=100&name=dist",
        w.gh.api_url(),
        w.run
    );
    w.gh.inject(Fault::new(
        Origin::Api,
        &format!("/repos/{}/actions/runs/{}/artifacts", w.gh.repo(), w.run),
        FaultKind::Status {
            code: 301,
            body: format!(r#"{{"message":"Moved Permanently","url":"{moved}"}}"#),
            headers: vec![header("Location", &moved)],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("301 Moved Permanently") && l.contains("has moved")),
        "{}",
        out.stdout
    );
    // The moved list was read with the token (the fake API answers 401 without it).
    let followed = w.api_requests(&format!("/repositories/{repo_id}/"));
    assert_eq!(followed.len(), 1);
    assert_eq!(followed[0].status, 200);
    assert_eq!(
        std::fs::read(w.workspace().join("a.txt")).unwrap(),
        b"hello"
    );
}

#[test]
fn a_redirect_to_another_host_or_of_another_kind_is_an_error_naming_it() {
    let w = World::new();
    w.add("dist", small_zip());
    let elsewhere = format!("{}/steal", w.gh.blob_origin());
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Status {
            code: 301,
            body: "{}".into(),
            headers: vec![header("Location", &elsewhere)],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["301 Moved Permanently", "another host", "token stays"]);
    assert!(
        w.blob_requests().is_empty(),
        "nothing sent to the other host"
    );

    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Status {
            code: 303,
            body: "{}".into(),
            headers: vec![header("Location", &list_url(&w, "dist"))],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["303 See Other", "does not follow"]);

    // The run lookup (`run-id`): a 301 elsewhere is named, not "missing field `id`".
    w.gh.inject(Fault::new(
        Origin::Api,
        &format!("/actions/runs/{}", w.run),
        FaultKind::Status {
            code: 301,
            body: r#"{"message":"Moved Permanently"}"#.into(),
            headers: vec![header("Location", &elsewhere)],
        },
    ));
    let run = w.run.to_string();
    let out = w.run(&[("name", "dist"), ("run-id", &run)], &[]);
    out.failed()
        .one_error(&["301 Moved Permanently", "another host"]);
}

#[test]
fn a_json_body_without_its_list_is_an_error_not_an_empty_list() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::status(
        Origin::Api,
        "/artifacts",
        200,
        r#"{"total_count":1}"#,
    ));
    let out = w.run(&[("name", "dist"), ("if-no-artifact-found", "ignore")], &[]);
    out.failed()
        .one_error(&["not the JSON expected", "missing field `artifacts`"]);
}

#[test]
fn an_html_answer_on_a_list_says_what_came() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Status {
            code: 200,
            body: "<!DOCTYPE html><html><body>Sign in</body></html>".into(),
            headers: vec![header("Content-Type", "text/html; charset=utf-8")],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["expected JSON, got text/html", "<!DOCTYPE html>"]);
}

#[test]
fn a_looping_link_is_an_error_saying_the_server_repeats_a_page() {
    let w = World::new();
    w.add("dist", small_zip());
    let link = format!("<{}>; rel=\"next\"", list_url(&w, "dist"));
    w.gh.inject(
        Fault::new(
            Origin::Api,
            "/artifacts",
            FaultKind::Status {
                code: 200,
                body: r#"{"total_count":1,"artifacts":[]}"#.into(),
                headers: vec![header("Link", &link)],
            },
        )
        .times(usize::MAX),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&["repeats a page"]);
    assert_eq!(w.api_requests("/artifacts").len(), 1);
}

#[test]
fn a_download_location_back_at_the_api_is_named_and_gets_no_token() {
    let w = World::new();
    let id = w.add("dist", small_zip());
    let back = format!(
        "{}/repos/{}/actions/artifacts/{id}",
        w.gh.api_url(),
        w.gh.repo()
    );
    w.gh.inject(Fault::new(
        Origin::Api,
        "/zip",
        FaultKind::Status {
            code: 302,
            body: String::new(),
            headers: vec![header("Location", &back)],
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["'dist'", "points back at the GitHub API", "no token"]);
    // Nothing fetched the Location: neither with the token nor without it.
    assert!(
        w.api_requests(&format!("/actions/artifacts/{id}"))
            .iter()
            .all(|r| r.path.ends_with("/zip"))
    );
    assert!(w.blob_requests().is_empty());
}

#[test]
fn a_token_with_a_line_break_is_refused_at_once() {
    let w = World::new();
    w.add("dist", small_zip());
    let out = w.run(
        &[("name", "dist"), ("github-token", "test-token\nX-Evil: 1")],
        &[],
    );
    out.failed().one_error(&["github-token", "line break"]);
    assert!(w.gh.requests().is_empty(), "no request sent");
}

#[test]
fn a_retry_after_beyond_the_cap_is_an_error_not_a_wait() {
    let w = World::new();
    w.add("dist", small_zip());
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::SecondaryRateLimit {
            retry_after: Some(86_400),
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&[
        "1440 minutes",
        "retry-after: 86400",
        "not waiting that long",
    ]);
}

// ------------------------------------------------------- budgets, binary bodies (issue 24)

#[test]
fn a_trickled_api_answer_is_given_up_within_the_request_budget() {
    let w = World::new();
    w.add("dist", small_zip());
    // Every attempt trickles: each one runs into its own deadline (300 s, 3 s scaled). Five of
    // them held the step 25 minutes; the request's budget (600 s, 6 s scaled) ends it sooner.
    w.gh.inject(
        Fault::new(
            Origin::Api,
            "/artifacts",
            FaultKind::Trickle { bytes_per_sec: 20 },
        )
        .times(10),
    );
    let out = w.run(&[("name", "dist"), ("stall-timeout", "30")], &[]);
    out.failed()
        .one_error(&["/artifacts", "budget", "6.0s", "attempts"]);
    let tries = w.api_requests("/artifacts").len();
    assert!(tries < 5, "{tries} attempts: the budget did not end them");
}

#[test]
fn rate_limit_waits_are_bounded_by_the_steps_budget() {
    let w = World::new();
    w.add("dist", small_zip());
    // 900 s (9 s scaled) on every answer: honoured five times, the step waited 75 minutes. The
    // step's budget for rate-limit waits is 1800 s (18 s scaled).
    w.gh.inject(
        Fault::new(
            Origin::Api,
            "/artifacts",
            FaultKind::SecondaryRateLimit {
                retry_after: Some(900),
            },
        )
        .times(10),
    );
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&["rate limit", "budget", "18.0s"]);
    // Two waits of 900 s fill the 30 minutes; the third is not started.
    assert_eq!(w.api_requests("/artifacts").len(), 3);
}

#[test]
fn a_rate_limit_wait_past_the_steps_timeout_is_an_error_at_once() {
    let w = World::new();
    w.add("dist", small_zip());
    // 900 s scaled is 9 s; `timeout` (not scaled) is 6 s: the wait would outlast the step.
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::SecondaryRateLimit {
            retry_after: Some(900),
        },
    ));
    let out = w.run(&[("name", "dist"), ("timeout", "0.1")], &[]);
    out.failed()
        .one_error(&["rate limit", "timeout", "0.1 minutes"]);
    assert_eq!(w.api_requests("/artifacts").len(), 1);
}

#[test]
fn a_binary_error_body_is_summed_up_not_dumped() {
    let w = World::new();
    w.add("dist", small_zip());
    let body: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    w.gh.inject(Fault::new(
        Origin::Api,
        "/artifacts",
        FaultKind::Bytes {
            code: 404,
            headers: vec![header("Content-Type", "application/octet-stream")],
            body,
        },
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed()
        .one_error(&["404", "3000 bytes of binary data"]);
    assert!(!out.stdout.contains("U+0001"), "{}", out.stdout);
}
