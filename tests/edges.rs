//! Issue 24's bugs outside the cache, each through the real binary against the fake GitHub: a
//! file name that is a legacy workflow command, a proxy password, a pin file outside the
//! checkout, endless error bodies, an ambiguous archive fetched in part, and a run still in
//! progress named by `run-id`. (The cache's are in `tests/cache.rs`.)

mod support;

use support::proxy::Proxy;
use support::*;

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
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
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
