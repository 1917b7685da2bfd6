//! What reaches the step log from a server, an archive or an input cannot become a workflow
//! command: every line carrying such text has its control characters escaped, so a `\n` in a
//! server's answer never starts a new line the runner would execute (`::error::`,
//! `::add-mask::`, `::stop-commands::`).

use crate::support::*;

/// The command a hostile server tries to smuggle into the log.
const INJECTED: &str = "::warning::PWNED";

/// No line of stdout or stderr, as the runner reads lines (split at `\n` and `\r`, leading
/// whitespace ignored), starts with the injected command.
fn assert_no_injection(out: &Outcome) {
    for text in [&out.stdout, &out.stderr] {
        for line in text.split(['\n', '\r']) {
            assert!(
                !line.trim_start().starts_with(INJECTED),
                "server text became a workflow command: {line:?}\nstdout:\n{}\nstderr:\n{}",
                out.stdout,
                out.stderr
            );
        }
    }
}

/// The server's text reached the log, defused: one line holds both `prefix` and the injected
/// command (its line breaks escaped), so a test cannot pass by never logging the text at all.
#[track_caller]
fn assert_shown_defused(out: &Outcome, prefix: &str) {
    assert_no_injection(out);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains(prefix) && l.contains(INJECTED)),
        "the server's text {prefix:?} was not shown (escaped) in the log:\n{}",
        out.stdout
    );
}

fn hostile(prefix: &str) -> String {
    format!("{prefix}\n{INJECTED}\r{INJECTED}\u{85}x")
}

#[test]
fn an_api_error_message_cannot_start_a_workflow_command() {
    let w = World::new();
    let id = w.add("dist", zipbuild::sample_zip());
    let body = serde_json::json!({ "message": hostile("Not Found") }).to_string();
    w.gh.inject(Fault::status(
        Origin::Api,
        &format!("/artifacts/{id}/zip"),
        404,
        &body,
    ));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    assert_no_injection(&out);
    // The text is still there, escaped, for a person to read.
    assert!(out.stdout.contains("Not Found"), "{}", out.stdout);
}

#[test]
fn a_blob_error_body_cannot_start_a_workflow_command() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    w.gh.inject(Fault::status(Origin::Blob, "", 404, &hostile("gone")).times(20));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed();
    assert_shown_defused(&out, "gone");
}

#[test]
fn a_digest_field_cannot_start_a_workflow_command() {
    let w = World::new();
    let zip = zipbuild::sample_zip();
    let size = zip.len();
    let id = w.add("dist", zip);
    let list = serde_json::json!({
        "total_count": 1,
        "artifacts": [{
            "id": id, "name": "dist", "size_in_bytes": size, "expired": false,
            "digest": hostile("sha256:00"),
            "archive_download_url": format!("{}/repos/{}/actions/artifacts/{id}/zip", w.gh.api_url(), w.gh.repo()),
        }]
    })
    .to_string();
    w.gh.inject(
        Fault::status(
            Origin::Api,
            &format!("/runs/{}/artifacts", w.run),
            200,
            &list,
        )
        .times(5),
    );
    for severity in ["error", "warn", "info"] {
        let out = w.run(&[("name", "dist"), ("digest-mismatch", severity)], &[]);
        assert_ne!(out.code, 101, "{}", out.stderr);
        assert!(out.stdout.contains("sha256:00"), "{}", out.stdout);
        assert_no_injection(&out);
    }
}

#[test]
fn a_fork_name_logged_by_the_run_search_cannot_start_a_workflow_command() {
    let w = World::with_current(Options::default(), |run| {
        run.workflow(".github/workflows/deploy.yml", 99)
            .status("in_progress", None)
    });
    let good =
        w.gh.add_run(Run::new(&w.gh.repo()).created_at("2026-11-20T10:01:00Z"));
    w.gh.add_artifact(good, ArtifactSpec::new("dist", zipbuild::sample_zip()));
    let fork = w.gh.add_run(
        Run::new(&w.gh.repo())
            .created_at("2026-11-20T10:02:00Z")
            .head_repo(&hostile("evil/hello")),
    );
    w.gh.add_artifact(fork, ArtifactSpec::new("dist", zipbuild::sample_zip()));
    let out = w.run(&[("workflow", "build.yml"), ("name", "dist")], &[]);
    out.ok();
    assert!(out.stdout.contains("evil/hello"), "{}", out.stdout);
    assert_no_injection(&out);
}

#[test]
fn injection_is_neutralised_outside_actions_too() {
    let w = World::new();
    let id = w.add("dist", zipbuild::sample_zip());
    let body = serde_json::json!({ "message": hostile("Not Found") }).to_string();
    w.gh.inject(Fault::status(
        Origin::Api,
        &format!("/artifacts/{id}/zip"),
        404,
        &body,
    ));
    let out = w.run(&[("name", "dist")], &[("GITHUB_ACTIONS", "")]);
    out.failed();
    assert_shown_defused(&out, "Not Found");
}

#[test]
fn version_and_help_print_only_what_they_are_for() {
    let w = World::new();
    let version = w.run_args(&["--version"], &[("github-token", "ghs_input")], &[]);
    version.ok();
    assert_eq!(
        version.stdout,
        format!("artifetch {}\n", env!("CARGO_PKG_VERSION"))
    );
    for flag in ["--help", "-h", "-V"] {
        let out = w.run_args(&[flag], &[("github-token", "ghs_input")], &[]);
        out.ok();
        assert!(
            out.stdout.starts_with("artifetch ")
                && !out.stdout.contains("::")
                && !out.stdout.contains(&w.gh.token())
                && !out.stdout.contains("ghs_input"),
            "{flag}:\n{}",
            out.stdout
        );
    }
    assert!(w.gh.requests().is_empty());
}

#[test]
fn the_token_is_still_masked_before_a_bad_input_is_reported() {
    let w = World::new();
    let out = w.run_args(&["--nope"], &[], &[]);
    out.failed();
    assert_eq!(
        out.stdout.lines().next(),
        Some(format!("::add-mask::{}", w.gh.token()).as_str())
    );
}

/// A signed blob URL as a storage host would echo it, with the values that grant access.
const SIGNED: &str = "https://blob.example/x.zip?sv=2025-01-05&se=2026-12-02T06%3A00%3A00Z&sr=b&sp=r&sig=SIGSECRET%2Bxyz&X-Amz-Signature=AMZSECRET";

fn assert_redacted(out: &Outcome, token: &str) {
    let mut places = vec![
        ("stdout", out.stdout.clone()),
        ("stderr", out.stderr.clone()),
        ("summary", out.summary.clone()),
    ];
    for (k, v) in &out.outputs {
        places.push(("output", format!("{k}={v}")));
    }
    for (place, text) in places {
        for line in text.lines().filter(|l| !l.starts_with("::add-mask::")) {
            for secret in [token, "SIGSECRET", "AMZSECRET", "2025-01-05", "2026-12-02"] {
                assert!(!line.contains(secret), "{secret} shown in {place}: {line}");
            }
        }
    }
}

#[test]
fn a_token_or_signature_echoed_by_a_server_is_redacted_everywhere() {
    let w = World::new();
    let id = w.add("dist", zipbuild::sample_zip());
    let token = w.gh.token();
    let message = format!("Not Found: token {token} is not valid for {SIGNED}");
    let body = serde_json::json!({ "message": message }).to_string();
    for actions in ["true", ""] {
        w.gh.inject(Fault::status(
            Origin::Api,
            &format!("/artifacts/{id}/zip"),
            404,
            &body,
        ));
        let out = w.run(&[("name", "dist")], &[("GITHUB_ACTIONS", actions)]);
        out.failed();
        // What is left still reads: the message and where the secrets were.
        assert!(out.summary.contains("Not Found"), "{}", out.summary);
        assert!(
            out.stdout.contains("token *** is not valid")
                || out.stderr.contains("token *** is not valid"),
            "{}{}",
            out.stdout,
            out.stderr
        );
        assert!(
            out.artifacts_json()[0]["error"]
                .as_str()
                .unwrap()
                .contains("sig=***")
        );
        assert_redacted(&out, &token);
    }
}

#[test]
fn a_token_with_a_line_break_is_refused_at_once() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    for token in ["abc\ndef", "abc\rdef", "abc\u{7}def"] {
        for (inputs, env) in [
            (vec![("github-token", token)], vec![]),
            (vec![], vec![("GITHUB_TOKEN", token)]),
        ] {
            let out = w.run(&inputs, &env);
            out.failed()
                .one_error(&["github-token", "line break or control character"]);
            assert!(
                out.stdout
                    .lines()
                    .filter(|l| !l.starts_with("::add-mask::"))
                    .all(|l| !l.contains("def")),
                "the token was repeated:\n{}",
                out.stdout
            );
            assert!(w.gh.requests().is_empty(), "a request was sent");
        }
    }
}

#[test]
fn a_plain_http_api_off_this_machine_is_warned_about() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    // 0.0.0.0:9 is not loopback by address, and refuses at once: the warning comes first.
    let out = w.run(
        &[("name", "dist")],
        &[("GITHUB_API_URL", "http://0.0.0.0:9")],
    );
    assert_ne!(out.code, 101, "{}", out.stderr);
    let warnings = out.warnings();
    assert!(
        warnings
            .iter()
            .any(|l| l.contains("GITHUB_API_URL") && l.contains("clear text")),
        "{}",
        out.stdout
    );
    // On loopback (the fake server here) the token never leaves the machine: no warning.
    let out = w.run(&[("name", "dist")], &[]);
    out.ok();
    assert!(out.warnings().is_empty(), "{}", out.stdout);
}

#[test]
fn long_paths_are_cut_in_log_lines() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let long = w
        .workspace()
        .join(vec!["d".repeat(250); 18].join("/"))
        .join("TAIL");
    let out = w.run(&[("name", "dist"), ("path", long.to_str().unwrap())], &[]);
    out.failed();
    let error = out.errors()[0];
    assert!(error.contains("TAIL") && error.contains('…'), "{error}");
    for line in out.stdout.lines().chain(out.stderr.lines()) {
        assert!(line.len() < 1200, "a {} byte line: {line}", line.len());
    }
}
