//! `cache-dir`: verified archives kept across jobs on a persistent runner, through the real
//! binary against the fake GitHub (its request log shows what was, and was not, downloaded).

use std::path::{Path, PathBuf};

use crate::support::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

fn dist(seed: u64, len: usize) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("readme.txt", format!("hello {seed}\n").as_bytes())
        .stored("data.bin", &zipbuild::random_payload(len, seed))
        .build()
}

/// The cache directory of this world (outside the workspace, as on a runner).
fn cache_dir(w: &World) -> PathBuf {
    w.root.path().join("runner-cache")
}

/// The names in the cache directory, sorted.
fn cached(w: &World) -> Vec<String> {
    entries(&cache_dir(w))
}

fn dest(w: &World, name: &str) -> String {
    w.root.path().join(name).display().to_string()
}

#[test]
fn a_warm_cache_serves_the_archive_without_any_blob_request() {
    let w = World::new();
    let zip = dist(1, 200_000);
    let hex = sha256(&zip);
    w.add("dist", zip);
    let env = [("ARTIFETCH_CACHE_DIR", cache_dir(&w).display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let first = w.run(&[("name", "dist"), ("path", &dest(&w, "one"))], &env);
    first.ok();
    assert!(!w.blob_requests().is_empty());
    assert_eq!(first.outputs["cache-hits"], "0");
    assert!(
        first.stdout.contains("Stored in the cache"),
        "{}",
        first.stdout
    );
    // Content-addressed: the entry is named by the archive's SHA-256, nothing else is left.
    assert_eq!(cached(&w), std::slice::from_ref(&hex));

    w.gh.clear_requests();
    let second = w.run(&[("name", "dist"), ("path", &dest(&w, "two"))], &env);
    second.ok();
    assert!(w.blob_requests().is_empty(), "{:?}", w.blob_requests());
    // Not even a signed URL is asked for: only the listing.
    assert!(w.api_requests("/zip").is_empty());
    assert_eq!(second.outputs["cache-hits"], "1");
    assert!(second.summary.contains("from cache"), "{}", second.summary);
    assert!(
        second.summary.contains("1 artifact from cache"),
        "{}",
        second.summary
    );
    assert!(
        second
            .stdout
            .contains(&format!("From the cache: sha256:{hex}"))
    );
    // Extracted while the private copy was made (the end first), not after it.
    assert!(
        second
            .stdout
            .contains("Extracted into staging while copied from the cache and hashed"),
        "{}",
        second.stdout
    );
    assert_eq!(
        tree(&w.root.path().join("one")),
        tree(&w.root.path().join("two"))
    );
    assert_eq!(
        second.outputs["digests"],
        format!("{{\"dist\":\"sha256:{hex}\"}}")
    );
    w.assert_temp_clean();

    // `cache-dir: off` turns the runner's cache off for one step.
    w.gh.clear_requests();
    let off = w.run(
        &[
            ("name", "dist"),
            ("path", &dest(&w, "three")),
            ("cache-dir", "off"),
        ],
        &env,
    );
    off.ok();
    assert!(!w.blob_requests().is_empty());
    assert_eq!(off.outputs["cache-hits"], "0");
}

#[test]
fn two_jobs_storing_the_same_archive_at_once_both_succeed_and_leave_one_entry() {
    let w = World::new();
    let zip = dist(2, 4 << 20);
    let hex = sha256(&zip);
    w.add("dist", zip);
    let dir = cache_dir(&w).display().to_string();
    // Neither download is answered until both have asked: the two jobs are in flight together,
    // not one after the other, and both reach the store with the same archive.
    w.gh.inject(Fault::new(Origin::Blob, "/blob/", FaultKind::Barrier { parties: 2 }).times(2));
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|d| {
            w.command(
                &[
                    ("name", "dist"),
                    ("path", &dest(&w, d)),
                    ("cache-dir", &dir),
                ],
                &[],
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert_eq!(w.gh.barriers_missed(), 0, "the two jobs did not overlap");
    // Both wrote under a temp name and renamed: one entry, no temp file, the right bytes.
    assert_eq!(cached(&w), std::slice::from_ref(&hex));
    assert_eq!(
        sha256(&std::fs::read(cache_dir(&w).join(&hex)).unwrap()),
        hex
    );
    assert_eq!(
        tree(&w.root.path().join("a")),
        tree(&w.root.path().join("b"))
    );
    w.gh.clear_requests();
    let out = w.run(
        &[
            ("name", "dist"),
            ("path", &dest(&w, "c")),
            ("cache-dir", &dir),
        ],
        &[],
    );
    out.ok();
    assert_eq!(out.outputs["cache-hits"], "1");
    assert!(w.blob_requests().is_empty());
}

#[test]
fn a_corrupt_cache_entry_is_removed_and_the_archive_downloaded_never_used() {
    let w = World::new();
    let zip = dist(3, 10_000);
    let hex = sha256(&zip);
    w.add("dist", zip.clone());
    let dir = cache_dir(&w).display().to_string();
    let run_to = |to: &str| {
        w.run(
            &[
                ("name", "dist"),
                ("path", &dest(&w, to)),
                ("cache-dir", &dir),
            ],
            &[],
        )
    };
    run_to("one").ok();
    // Another archive under this archive's name: bit rot, or a tampered runner.
    let entry = cache_dir(&w).join(&hex);
    std::fs::remove_file(&entry).unwrap();
    std::fs::write(&entry, dist(4, 10_000)).unwrap();

    w.gh.clear_requests();
    let out = run_to("two");
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("is corrupt") && l.contains("downloading instead")),
        "{}",
        out.stdout
    );
    assert!(!w.blob_requests().is_empty());
    assert_eq!(out.outputs["cache-hits"], "0");
    // What was extracted is the real artifact, and the entry holds the right bytes again.
    assert_eq!(
        tree(&w.root.path().join("one")),
        tree(&w.root.path().join("two"))
    );
    assert_eq!(std::fs::read(&entry).unwrap(), zip);

    // A symlink planted under an entry's name is not followed: removed, downloaded.
    std::fs::remove_file(&entry).unwrap();
    let elsewhere = w.root.path().join("elsewhere.zip");
    std::fs::write(&elsewhere, &zip).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&elsewhere, &entry).unwrap();
        w.gh.clear_requests();
        let out = run_to("three");
        out.ok();
        assert_eq!(out.outputs["cache-hits"], "0");
        assert!(!w.blob_requests().is_empty());
        assert!(!std::fs::symlink_metadata(&entry).unwrap().is_symlink());
    }
}

/// A warm cache hashes the entry again as it copies it: a corrupt entry (here a valid zip with
/// other files) is thrown away, and the destination, which already held a file, gets only the
/// real artifact.
#[test]
fn an_entry_reaches_the_destination_only_when_its_hash_matched() {
    let w = World::new();
    let zip = dist(5, 300_000);
    let hex = sha256(&zip);
    w.add("dist", zip.clone());
    let dir = cache_dir(&w).display().to_string();
    let inputs = |to: &str| -> Vec<(&'static str, String)> {
        vec![
            ("name", "dist".into()),
            ("path", dest(&w, to)),
            ("cache-dir", dir.clone()),
        ]
    };
    let run = |to: &str| {
        let i = inputs(to);
        let i: Vec<(&str, &str)> = i.iter().map(|(k, v)| (*k, v.as_str())).collect();
        w.run(&i, &[])
    };
    run("first").ok();
    let planted = zipbuild::ZipBuilder::new()
        .file("planted.txt", b"not the artifact")
        .file("readme.txt", b"tampered")
        .stored("data.bin", &zipbuild::random_payload(300_000, 99))
        .build();
    let entry = cache_dir(&w).join(&hex);
    std::fs::remove_file(&entry).unwrap();
    std::fs::write(&entry, &planted).unwrap();
    let second = w.root.path().join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(second.join("kept.txt"), b"mine").unwrap();

    let out = run("second");
    out.ok();
    assert!(!w.blob_requests().is_empty());
    let mut want = tree(&w.root.path().join("first"));
    want.insert("kept.txt".into(), b"mine".to_vec());
    assert_eq!(tree(&second), want);
    w.assert_temp_clean();

    // Now the entry is sound again: taken, hashed while extracting, placed.
    w.gh.clear_requests();
    let third = run("third");
    third.ok();
    assert_eq!(third.outputs["cache-hits"], "1");
    assert!(w.blob_requests().is_empty());
    assert_eq!(
        tree(&w.root.path().join("third")),
        tree(&w.root.path().join("first"))
    );
    w.assert_temp_clean();
}

#[test]
fn the_least_recently_used_archives_are_evicted_past_cache_max_size() {
    let w = World::new();
    let zips: Vec<Vec<u8>> = (0..3).map(|i| dist(10 + i, 100_000)).collect();
    let hexes: Vec<String> = zips.iter().map(|z| sha256(z)).collect();
    for (i, zip) in zips.iter().enumerate() {
        w.add(&format!("a{i}"), zip.clone());
    }
    let dir = cache_dir(&w).display().to_string();
    // Room for two archives, not three.
    let fetch = |name: &str| {
        let out = w.run(
            &[
                ("name", name),
                ("path", &dest(&w, name)),
                ("cache-dir", &dir),
                ("cache-max-size", "250KiB"),
            ],
            &[],
        );
        out.ok();
        out.outputs["cache-hits"].clone()
    };
    assert_eq!(fetch("a0"), "0");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(fetch("a1"), "0");
    std::thread::sleep(std::time::Duration::from_millis(20));
    // A hit makes a0 the most recently used, so a1 goes when a2 arrives.
    assert_eq!(fetch("a0"), "1");
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(fetch("a2"), "0");
    let mut want = vec![hexes[0].clone(), hexes[2].clone()];
    want.sort();
    assert_eq!(cached(&w), want);
}

#[test]
fn artifacts_without_a_digest_or_with_an_accepted_mismatch_are_never_cached() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("v3", dist(5, 1000)).digest(DigestMode::Missing),
    );
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("bad", dist(6, 1000)).digest(DigestMode::Wrong),
    );
    let dir = cache_dir(&w).display().to_string();
    for _ in 0..2 {
        let out = w.run(
            &[
                ("pattern", "*"),
                ("path", &dest(&w, "out")),
                ("cache-dir", &dir),
                ("digest-mismatch", "warn"),
            ],
            &[],
        );
        out.ok();
        assert_eq!(out.outputs["cache-hits"], "0");
    }
    assert!(cached(&w).is_empty(), "{:?}", cached(&w));

    // A pinned expected-digest is a digest: with it, the same v3 archive is cached and served.
    let zip = dist(5, 1000);
    let pin = sha256(&zip);
    for hits in ["0", "1"] {
        let out = w.run(
            &[
                ("name", "v3"),
                ("path", &dest(&w, "pinned")),
                ("cache-dir", &dir),
                ("expected-digest", &pin),
            ],
            &[],
        );
        out.ok();
        assert_eq!(out.outputs["cache-hits"], hits);
    }
    assert_eq!(cached(&w), [pin]);
}

#[test]
fn a_cache_dir_that_is_a_symlink_or_relative_is_refused() {
    let w = World::new();
    w.add("dist", dist(7, 100));
    let out = w.run(&[("name", "dist"), ("cache-dir", "cache")], &[]);
    out.failed().one_error(&["cache-dir", "relative"]);
    #[cfg(unix)]
    {
        let real = w.root.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = w.root.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let out = w.run(
            &[("name", "dist")],
            &[("ARTIFETCH_CACHE_DIR", &link.display().to_string())],
        );
        out.failed().one_error(&["cache-dir", "symlink"]);
        assert!(entries(&real).is_empty());
        assert!(!Path::new(&w.workspace().join("readme.txt")).exists());
    }
}

/// Waits (bounded by a count, not a clock) until `file` exists: the binary reached a barrier.
#[track_caller]
fn await_file(file: &Path) {
    for _ in 0..12_000 {
        if file.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("{} never appeared", file.display());
}

/// Issue 24, bug 1: the bytes extracted on a hit are the bytes hashed. The binary stops at a
/// test barrier once the entry's bytes are hashed; the entry is rewritten in place (the same
/// inode, as another local user with write access to the cache could) with a planted archive;
/// then the binary goes on. What reaches `path` is the real artifact, never the planted one.
#[test]
fn an_entry_rewritten_in_place_after_it_was_hashed_never_reaches_the_destination() {
    let w = World::new();
    let zip = dist(20, 300_000);
    let hex = sha256(&zip);
    w.add("dist", zip);
    let dir = cache_dir(&w).display().to_string();
    fn inputs<'a>(dir: &'a str, to: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![("name", "dist"), ("cache-dir", dir), ("path", to)]
    }
    let first = dest(&w, "first");
    w.run(&inputs(&dir, &first), &[]).ok();

    let barrier = w.root.path().join("barrier");
    std::fs::create_dir(&barrier).unwrap();
    let second = dest(&w, "second");
    let child = w
        .command(
            &inputs(&dir, &second),
            &[("ARTIFETCH_TEST_BARRIER_DIR", barrier.to_str().unwrap())],
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    await_file(&barrier.join("cache-hashed.reached"));
    let planted = zipbuild::ZipBuilder::new()
        .file("planted.txt", b"not the artifact")
        .stored("data.bin", &zipbuild::random_payload(300_000, 66))
        .build();
    // In place: truncate and write through the entry's own inode.
    std::fs::write(cache_dir(&w).join(&hex), &planted).unwrap();
    std::fs::write(barrier.join("cache-hashed.go"), b"").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let placed = tree(Path::new(&second));
    assert!(!placed.contains_key("planted.txt"), "{stdout}");
    assert!(placed == tree(Path::new(&first)), "{stdout}");
    w.assert_temp_clean();
}

/// Issue 24, bug 2: with `skip-decompress`, the archive handed to the user is never the cache's
/// own inode (neither when it is stored nor when it is taken): editing or `chmod`-ing it leaves
/// the cache entry as it was.
#[cfg(unix)]
#[test]
fn a_kept_zip_never_shares_an_inode_with_the_cache() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let w = World::new();
    let zip = dist(21, 50_000);
    let hex = sha256(&zip);
    w.add("dist", zip);
    let dir = cache_dir(&w).display().to_string();
    for (to, hits) in [("stored", "0"), ("taken", "1")] {
        let path = dest(&w, to);
        let out = w.run(
            &[
                ("name", "dist"),
                ("cache-dir", &dir),
                ("path", &path),
                ("skip-decompress", "true"),
            ],
            &[],
        );
        out.ok();
        assert_eq!(out.outputs["cache-hits"], hits);
        let kept = Path::new(&path).join("dist.zip");
        let entry = cache_dir(&w).join(&hex);
        let (k, e) = (kept.metadata().unwrap(), entry.metadata().unwrap());
        assert!(
            (k.dev(), k.ino()) != (e.dev(), e.ino()),
            "{to}: the user's dist.zip is the cache entry's inode"
        );
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::fs::write(&kept, b"edited by the user").unwrap();
        assert_eq!(sha256(&std::fs::read(&entry).unwrap()), hex, "{to}");
        assert_eq!(entry.metadata().unwrap().mode() & 0o777, e.mode() & 0o777);
    }
}

/// Issue 24, weak spot: `cache-dir` on a shared self-hosted runner. Created owner-only, entries
/// owner-only; refused, with the reason, when another user could write into it or swap it: a
/// directory others can write, one owned by another uid, a symlinked parent, a parent owned by
/// another uid or writable by others (unless sticky, as `/tmp` is). "Another user" is made with
/// `chown` to an unused uid, which needs root: without it those two cases are skipped, and the
/// test says so on stderr.
#[cfg(unix)]
#[test]
fn a_cache_dir_another_user_could_write_or_swap_is_refused() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, lchown, symlink};
    let w = World::new();
    w.add("dist", dist(22, 1000));
    let out_dir = dest(&w, "out");
    let run_with = |dir: &Path| {
        w.run(
            &[
                ("name", "dist"),
                ("path", &out_dir),
                ("cache-dir", dir.to_str().unwrap()),
            ],
            &[],
        )
    };
    // Everything under the world but the step's output and summary files.
    let files = || {
        let mut all = listing(w.root.path());
        all.retain(|k, _| k != "output" && k != "summary");
        all
    };
    let mode = |p: &Path| p.symlink_metadata().unwrap().mode() & 0o7777;
    let set_mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    const OTHER: u32 = 4242;

    // Made by the step: 0700, its entry 0600.
    let fresh = w.root.path().join("fresh/cache");
    run_with(&fresh).ok();
    assert_eq!(mode(&fresh), 0o700);
    let stored = entries(&fresh);
    assert_eq!(stored.len(), 1);
    assert_eq!(mode(&fresh.join(&stored[0])), 0o600);

    let refused = |dir: &Path, needles: &[&str]| {
        std::fs::remove_dir_all(&out_dir).unwrap();
        let before = files();
        let out = run_with(dir);
        out.failed().one_error(&[&["cache-dir"], needles].concat());
        assert!(files() == before, "something was written");
        std::fs::create_dir(&out_dir).unwrap();
    };
    let shared = w.root.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    set_mode(&shared, 0o777);
    refused(&shared, &["written by other users", "777"]);
    set_mode(&shared, 0o700);
    // Only root can give a file away.
    let as_root = chown(&shared, Some(OTHER), None).is_ok();
    if as_root {
        refused(&shared, &["owned by uid 4242"]);
    } else {
        eprintln!("skipped: the two cases owned by another uid need root (chown)");
    }

    let parent = w.root.path().join("parent");
    std::fs::create_dir_all(parent.join("cache")).unwrap();
    set_mode(&parent.join("cache"), 0o700);
    set_mode(&parent, 0o757);
    refused(&parent.join("cache"), &["above", "written by other users"]);
    // Sticky, as /tmp is: others may not rename what is ours there.
    set_mode(&parent, 0o1777);
    run_with(&parent.join("cache")).ok();
    set_mode(&parent, 0o755);
    if as_root {
        chown(&parent, Some(OTHER), None).unwrap();
        refused(&parent.join("cache"), &["above", "owned by uid 4242"]);
    }

    // A symlink on the way that root did not make (as root, given away to another uid).
    let real = w.root.path().join("real");
    std::fs::create_dir_all(real.join("cache")).unwrap();
    set_mode(&real.join("cache"), 0o700);
    let link = w.root.path().join("link");
    symlink(&real, &link).unwrap();
    if as_root {
        lchown(&link, Some(OTHER), None).unwrap();
    }
    refused(&link.join("cache"), &["link", "symlink", "real path"]);
    // Root's own symlinks are the system's layout (macOS's /var): followed, the real path checked.
    if as_root {
        lchown(&link, Some(0), None).unwrap();
        run_with(&link.join("cache")).ok();
    }
}
