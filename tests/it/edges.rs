//! Issue 24's bugs outside the cache, each through the real binary against the fake GitHub: a
//! file name that is a legacy workflow command, a proxy password, a pin file outside the
//! checkout, endless error bodies, an ambiguous archive fetched in part, and a run still in
//! progress named by `run-id`. (The cache's are in `tests/it/cache.rs`.)

use crate::support::proxy::Proxy;
use crate::support::*;
use sha2::Digest as _;

/// The runner reads `##[error]…` anywhere in a line as a (legacy) command: a produced file's
/// name must not become one when `artifetch manifest` prints the manifest into the log, while
/// the `files-digest` output stays the digest of the true canonical text.
#[test]
fn manifest_defuses_file_names_that_are_legacy_workflow_commands() {
    let w = World::new();
    let dir = w.root.path().join("produced");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["##[error]planted", "##[add-mask]x", "ok.txt"] {
        std::fs::write(dir.join(name), b"x").unwrap();
    }
    let out = w.run_args(&["manifest", dir.to_str().unwrap()], &[], &[]);
    out.ok();
    for line in out.stdout.lines() {
        assert!(!line.contains("##["), "undefused: {line:?}\n{}", out.stdout);
    }
    // The names are still shown (defused), not dropped.
    assert!(out.stdout.contains("##\\[error]planted"), "{}", out.stdout);
    assert!(out.stdout.contains(" ok.txt\n"), "{}", out.stdout);
    assert_eq!(out.stdout.lines().count(), 3, "{}", out.stdout);

    // Into a file (`> manifest.txt`: not the log) the text is exactly the hashed one.
    let file = w.root.path().join("manifest.txt");
    let status = w
        .command(&[], &[])
        .args(["manifest", dir.to_str().unwrap()])
        .stdout(std::fs::File::create(&file).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read(&file).unwrap();
    assert!(String::from_utf8_lossy(&text).contains(" ##[error]planted\n"));
    let digest = parse_outputs(&w.root.path().join("output"))["files-digest"].clone();
    assert_eq!(digest, out.outputs["files-digest"]);
    let hex: String = artifetch::util::hex(&sha2::Sha256::digest(&text));
    assert_eq!(digest, format!("sha256:{hex}"));
}

/// `HTTP_PROXY=http://user:password@host` is named in the plain-http refusal without its
/// credentials, and nowhere else in what the step leaves either.
#[test]
fn a_proxy_password_is_never_printed() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let proxy = Proxy::start();
    let with_password = proxy
        .url
        .replacen("http://", "http://builder:pr0xy-s3cret@", 1);
    let out = w.run(&[("name", "dist")], &[("HTTP_PROXY", &with_password)]);
    out.failed()
        .one_error(&["GITHUB_API_URL", "proxy", "in the clear", "***@127.0.0.1"]);
    for text in [&out.stdout, &out.stderr, &out.summary] {
        assert!(!text.contains("pr0xy-s3cret"), "{text}");
        assert!(!text.contains("builder:"), "{text}");
    }
    assert!(w.gh.requests().is_empty());
}

/// A FIFO at `path` (opening one for reading blocks until a writer comes).
#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success(), "mkfifo {}", path.display());
}

/// Issue 24, bug 5: `expected-files: @path` reads only a regular file inside the checkout
/// (after resolving symlinks), at most 64 MiB, and no error echoes what the file holds. Each
/// refusal is one error naming the input, before any request; a FIFO does not block the step.
#[cfg(unix)]
#[test]
fn expected_files_at_path_reads_only_a_bounded_regular_file_inside_the_workspace() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let outside = w.root.path().join("outside.sha256");
    std::fs::write(&outside, "AWS_SECRET_ACCESS_KEY=wJalr-outside-secret\n").unwrap();
    let ws = w.workspace();
    std::os::unix::fs::symlink(&outside, ws.join("link.sha256")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", ws.join("zero.sha256")).unwrap();
    mkfifo(&ws.join("fifo.sha256"));
    std::fs::File::create(ws.join("huge.sha256"))
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    std::fs::write(
        ws.join("secret.sha256"),
        "password=hunter2-inside-secret\nmore\n",
    )
    .unwrap();
    let refused = |value: &str, needles: &[&str]| {
        let out = w.run(&[("name", "dist"), ("expected-files", value)], &[]);
        out.failed()
            .one_error(&[&["expected-files", value.trim_start_matches('@')], needles].concat());
        for secret in ["outside-secret", "inside-secret", "AWS_SECRET", "password="] {
            assert!(!out.stdout.contains(secret), "{value}: {}", out.stdout);
            assert!(!out.stderr.contains(secret), "{value}: {}", out.stderr);
        }
        assert!(w.gh.requests().is_empty(), "{value}");
    };
    let outside_at = format!("@{}", outside.display());
    refused("@../outside.sha256", &["outside the workspace"]);
    refused(&outside_at, &["outside the workspace"]);
    refused("@/proc/self/environ", &["outside the workspace"]);
    refused("@/dev/zero", &["outside the workspace"]);
    refused("@link.sha256", &["outside the workspace"]);
    refused("@zero.sha256", &["outside the workspace"]);
    refused("@fifo.sha256", &["not a regular file"]);
    refused("@huge.sha256", &["larger than 64 MiB"]);
    refused("@secret.sha256", &["line 1", "neither"]);
}

/// Issue 24, bug 5's bound for `trusted-root` (which may live anywhere, e.g. under /etc): a
/// regular file of at most 64 MiB; a FIFO or /dev/zero is refused at once.
#[cfg(unix)]
#[test]
fn trusted_root_reads_only_a_bounded_regular_file() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    let fifo = w.root.path().join("root.fifo");
    mkfifo(&fifo);
    let huge = w.root.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    for (path, why) in [
        (fifo.to_str().unwrap(), "not a regular file"),
        ("/dev/zero", "not a regular file"),
        (huge.to_str().unwrap(), "larger than 64 MiB"),
    ] {
        let out = w.run(
            &[
                ("name", "dist"),
                ("verify-attestation", "true"),
                ("trusted-root", path),
            ],
            &[],
        );
        out.failed().one_error(&["trusted-root", path, why]);
        assert!(w.gh.requests().is_empty());
    }
}

/// Issue 24, bug 8: `wait-for: run` (the default) with `run-id` naming a run still in progress
/// waits for it to complete, polling it conditionally (304s are free), and only then lists its
/// artifacts; `workflow-conclusion` holds the conclusion, never a status.
#[test]
fn a_run_id_still_in_progress_is_waited_for_and_its_conclusion_is_a_conclusion() {
    let w = World::with_current(Options::default(), |run| {
        run.workflow(".github/workflows/deploy.yml", 99)
    });
    let producer =
        w.gh.add_run(Run::new(&w.gh.repo()).status("in_progress", None));
    w.gh.add_artifact(producer, ArtifactSpec::new("dist", marker_zip("producer")));
    let id = producer.to_string();
    let run_path = format!("/runs/{producer}");
    let out = run_while(
        &w,
        &[("run-id", &id), ("name", "dist"), ("wait-timeout", "3000")],
        after_first(&w, &run_path, || {
            w.gh.set_run_status(producer, "completed", Some("success"))
        }),
    );
    out.ok();
    assert_eq!(marker(&w), "producer");
    assert_eq!(out.outputs["workflow-conclusion"], "success");
    assert!(
        out.stdout
            .contains(&format!("run {producer} is in_progress")),
        "{}",
        out.stdout
    );
    // Polled until it completed: the first answer 200, unchanged ones 304, the last 200; the
    // artifacts were listed only after that.
    let polls: Vec<u16> = w
        .api_requests(&run_path)
        .iter()
        .filter(|r| r.path.ends_with(&run_path))
        .map(|r| r.status)
        .collect();
    assert!(polls.len() >= 2, "{polls:?}");
    assert_eq!((polls[0], polls[polls.len() - 1]), (200, 200), "{polls:?}");
    assert!(polls[1..polls.len() - 1].iter().all(|s| *s == 304));
    let order: Vec<String> = w
        .api_requests(&run_path)
        .iter()
        .map(|r| r.path.clone())
        .collect();
    let first_listing = order.iter().position(|p| p.contains("/artifacts")).unwrap();
    assert!(
        order[first_listing..]
            .iter()
            .all(|p| !p.ends_with(&run_path))
    );

    // Not waiting: taken at once, as asked; the run has no conclusion yet, and says so.
    let running =
        w.gh.add_run(Run::new(&w.gh.repo()).status("in_progress", None));
    w.gh.add_artifact(running, ArtifactSpec::new("dist", marker_zip("running")));
    let out = w.run(&[("run-id", &running.to_string()), ("name", "dist")], &[]);
    out.ok();
    assert_eq!(marker(&w), "running");
    assert_eq!(out.outputs["workflow-conclusion"], "");
    assert!(out.summary.contains("in progress"), "{}", out.summary);

    // Waiting past wait-timeout for a run that never completes: nothing taken.
    std::fs::remove_dir_all(w.workspace()).unwrap();
    std::fs::create_dir(w.workspace()).unwrap();
    let out = w.run(
        &[
            ("run-id", &running.to_string()),
            ("name", "dist"),
            ("wait-timeout", "1"),
        ],
        &[],
    );
    out.failed()
        .one_error(&[&format!("run {running} is in_progress")]);
    assert!(tree(&w.workspace()).is_empty());
}

fn endless(code: u16, content_type: &str) -> FaultKind {
    FaultKind::Endless {
        code,
        headers: vec![("Content-Type".into(), content_type.into())],
        prefix: "<Error><Code>InternalError</Code><Message>".into(),
        repeat: "x".repeat(1000),
    }
}

/// Issue 24, bug 4: an error answer from the blob host with an endless body is read only as far
/// as its message needs (then the connection is dropped), on every attempt; the fake GitHub
/// counts a body read on to its 64 MiB cap, which an unbounded reader would do.
#[test]
fn an_endless_error_body_from_the_blob_host_is_not_read_whole() {
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    w.gh.inject(Fault::new(Origin::Blob, "/blob/", endless(500, "application/xml")).times(100));
    let out = w.run(&[("name", "dist")], &[]);
    out.failed().one_error(&["'dist'", "500", "InternalError"]);
    assert!(w.blob_requests().len() > 1, "retried");
    assert_eq!(w.gh.endless_bodies_read_to_the_cap(), 0);
    w.assert_temp_clean();
}

/// Issue 24, bug 4: a 200 with an endless body where a range was asked for (a segment of a
/// large archive) is refused after reading only the start of it; the download then recovers.
#[test]
fn an_endless_200_to_a_range_request_is_not_read_whole() {
    let w = World::new();
    let zip = zipbuild::ZipBuilder::new()
        .stored("blob.bin", &zipbuild::random_payload(20 << 20, 4))
        .build();
    w.add("big", zip);
    let second = format!("bytes={}-", 8 << 20);
    w.gh.inject(
        Fault::new(Origin::Blob, "/blob/", endless(200, "application/zip"))
            .range(&second)
            .times(2),
    );
    let out = w.run(&[("name", "big"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert!(
        out.stdout.contains("range request answered 200"),
        "{}",
        out.stdout
    );
    assert_eq!(w.gh.endless_bodies_read_to_the_cap(), 0);
    assert_eq!(
        tree(&w.workspace())["blob.bin"],
        zipbuild::random_payload(20 << 20, 4)
    );
}

/// A valid zip whose end record's comment hides a second end record (its central directory
/// said to be 1 MiB into `big.bin`, bytes a partial fetch of `small.txt` never asks for), with
/// two bytes after it, so a reader that accepts a comment ending before the file's end takes the
/// hidden one, and one that wants it to reach the end takes the real one.
fn two_end_records(small: &[u8]) -> Vec<u8> {
    let mut zip = zipbuild::ZipBuilder::new()
        .stored("big.bin", &zipbuild::random_payload(12 << 20, 5))
        .file("small.txt", small)
        .build();
    let eocd = zip.len() - 22;
    assert_eq!(&zip[eocd..eocd + 4], b"PK\x05\x06");
    let mut hidden = b"PK\x05\x06".to_vec();
    hidden.extend_from_slice(&[0, 0, 0, 0]); // disk numbers
    hidden.extend_from_slice(&1u16.to_le_bytes()); // entries on this disk
    hidden.extend_from_slice(&1u16.to_le_bytes()); // entries
    hidden.extend_from_slice(&100u32.to_le_bytes()); // central directory size
    hidden.extend_from_slice(&(1u32 << 20).to_le_bytes()); // central directory offset
    hidden.extend_from_slice(&0u16.to_le_bytes()); // comment length
    hidden.extend_from_slice(b"zz");
    zip.truncate(zip.len() - 2);
    zip.extend_from_slice(&(hidden.len() as u16).to_le_bytes());
    zip.extend_from_slice(&hidden);
    zip
}

/// Issue 24, bug 3: the README's recommended setup (`partial-download: auto`, `files`,
/// `expected-files`) against an archive with two end records: refused at once, naming the
/// artifact, instead of an extractor waiting for ever on bytes nobody fetches.
#[test]
fn a_partial_fetch_of_an_archive_with_two_end_records_is_refused_not_hung() {
    let w = World::new();
    let small = b"the selected file\n";
    w.add("dist", two_end_records(small));
    let pin = format!(
        "{}  small.txt",
        artifetch::util::hex(&sha2::Sha256::digest(small))
    );
    let out = w.run(
        &[
            ("name", "dist"),
            ("files", "small.txt"),
            ("expected-files", &pin),
        ],
        &[],
    );
    out.failed()
        .one_error(&["'dist'", "two end of central directory records"]);
    assert!(tree(&w.workspace()).is_empty());
    w.assert_temp_clean();
    // Fetched whole, the extractor refuses it the same way: one parse of the end record.
    let out = w.run(&[("name", "dist"), ("stall-timeout", "1000")], &[]);
    out.failed()
        .one_error(&["'dist'", "two end of central directory records"]);
    assert!(tree(&w.workspace()).is_empty());
    w.assert_temp_clean();
}
