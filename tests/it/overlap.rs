//! Extraction that overlaps the download: an archive that comes in ranges is extracted into
//! staging while its segments land (the last one, holding the central directory, is fetched
//! right after the first), and the staged tree reaches `path` only after the whole archive's
//! SHA-256 matched. Checked through the real binary against the fake blob origin, on observable
//! state: what is in staging while a segment is still trickling, and what is left afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const MIB: usize = 1 << 20;
const SEGMENT: usize = 8 * MIB;

/// Three segments: a small text file at the front (in the first segment), 20 MiB of random bytes
/// across all three, and a small file at the end. `names` are the three names (equal lengths
/// give archives of equal layout).
fn archive(names: [&str; 3], seed: u64) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file(names[0], &zipbuild::text_payload(100 << 10, seed))
        .stored(names[1], &zipbuild::random_payload(20 * MIB, seed))
        .file(names[2], b"the end\n")
        .build()
}

const NAMES: [&str; 3] = ["first.txt", "blob.bin", "last.txt"];

/// The middle segment comes at `bytes_per_sec`: the first and the last have landed long before.
fn trickle_middle(w: &World, bytes_per_sec: u64) {
    w.gh.inject(
        Fault::new(Origin::Blob, "/blob/", FaultKind::Trickle { bytes_per_sec })
            .range(&format!("bytes={SEGMENT}-")),
    );
}

/// The first segment (the probe's) comes at `bytes_per_sec`: the ranges after it arrive ahead
/// of the hash.
fn trickle_first(w: &World, bytes_per_sec: u64) {
    w.gh.inject(
        Fault::new(Origin::Blob, "/blob/", FaultKind::Trickle { bytes_per_sec }).range("bytes=0-"),
    );
}

/// Every file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if e.file_name() == name {
                found.push(path);
            }
        }
    }
    found
}

/// Waits until `first.txt` has been extracted, whole, somewhere under RUNNER_TEMP (the staging
/// tree) while nothing is in the workspace yet; panics if it does not happen while the middle
/// segment is still on its way.
fn wait_for_staged_first_file(w: &World, child: &mut Child, seed: u64) {
    let want = zipbuild::text_payload(100 << 10, seed);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let staged = find(&w.temp(), "first.txt");
        if staged
            .iter()
            .any(|p| std::fs::read(p).is_ok_and(|b| b == want))
        {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before anything was staged"
        );
        assert!(Instant::now() < deadline, "nothing extracted into staging");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        tree(&w.workspace()).is_empty(),
        "nothing reaches the workspace before the digest is checked"
    );
}

/// The download temp files (`<id>.download`) under RUNNER_TEMP.
fn archive_files(w: &World) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![w.temp()];
    while let Some(at) = stack.pop() {
        for e in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "download") {
                found.push(path);
            }
        }
    }
    found
}

/// The `Range` headers of the blob requests so far.
fn ranges_asked(w: &World) -> Vec<String> {
    w.blob_requests()
        .iter()
        .filter_map(|r| r.header("range").map(str::to_string))
        .collect()
}

fn spawn(w: &World, inputs: &[(&str, &str)]) -> Child {
    w.command(inputs, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Extraction starts while the download is still running (a file of the first segment is in
/// staging while the middle one trickles); a signal then leaves nothing behind.
#[cfg(unix)]
fn cancel_mid_stream(signal: &str) {
    let w = World::new();
    w.add("dist", archive(NAMES, 1));
    // 8 MiB at 64 KiB/s: the download cannot finish during the test.
    trickle_middle(&w, 64 << 10);
    let mut child = spawn(&w, &[("name", "dist"), ("stall-timeout", "1000")]);
    wait_for_staged_first_file(&w, &mut child, 1);
    let ranges = ranges_asked(&w);
    assert!(
        ranges
            .iter()
            .any(|r| r.starts_with(&format!("bytes={SEGMENT}-"))),
        "the middle segment was asked for: {ranges:?}"
    );
    assert_eq!(
        archive_files(&w),
        Vec::<PathBuf>::new(),
        "streamed through memory: no archive file while it downloads"
    );
    let stdout = signal_and_wait_failed(child, signal);
    assert!(stdout.contains("cancelled by"), "{stdout}");
    w.assert_temp_clean();
    assert!(tree(&w.workspace()).is_empty());
}

#[cfg(unix)]
#[test]
fn extraction_starts_before_the_download_ends_and_sigterm_leaves_nothing() {
    cancel_mid_stream("-TERM");
}

#[cfg(unix)]
#[test]
fn extraction_starts_before_the_download_ends_and_sigint_leaves_nothing() {
    cancel_mid_stream("-INT");
}

/// A digest mismatch is only known at the last byte, after extraction into staging ran: the
/// staged tree goes, `path` is exactly as it was.
#[test]
fn a_digest_mismatch_at_the_last_byte_leaves_path_untouched_and_no_staging() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::new("dist", archive(NAMES, 2)).digest(DigestMode::Wrong),
    );
    let dest = w.workspace().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("first.txt"), b"mine").unwrap();
    std::fs::write(dest.join("keep.txt"), b"keep").unwrap();
    let before = listing(&dest);
    let contents = tree(&dest);
    // Slow enough to see staging at work, fast enough to finish (2 s).
    trickle_middle(&w, 4 << 20);
    let mut child = spawn(
        &w,
        &[
            ("name", "dist"),
            ("path", dest.to_str().unwrap()),
            ("stall-timeout", "1000"),
        ],
    );
    let want = zipbuild::text_payload(100 << 10, 2);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !find(&w.temp(), "first.txt")
        .iter()
        .any(|p| std::fs::read(p).is_ok_and(|b| b == want))
    {
        assert!(child.try_wait().unwrap().is_none(), "ended before staging");
        assert!(Instant::now() < deadline, "nothing extracted into staging");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(tree(&dest), contents, "staging is not the destination");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("digest mismatch"), "{stdout}");
    assert_eq!(listing(&dest), before);
    assert_eq!(tree(&dest), contents);
    w.assert_temp_clean();
}

/// A server whose tail (the central directory, fetched early) belongs to another archive than
/// the body: whatever was staged from it is thrown away; the digest of what was served decides.
#[test]
fn a_tail_that_lies_about_the_body_is_caught_by_the_digest() {
    let w = World::new();
    let real = archive(NAMES, 3);
    let liar = archive(["frist.txt", "blub.bin", "lost.txt"], 3);
    assert_eq!(real.len(), liar.len());
    let len = real.len();
    let last = (len - 1) / SEGMENT * SEGMENT;
    w.add("dist", real);
    w.gh.inject(
        Fault::new(
            Origin::Blob,
            "/blob/",
            FaultKind::Bytes {
                code: 206,
                headers: vec![
                    (
                        "Content-Range".into(),
                        format!("bytes {last}-{}/{len}", len - 1),
                    ),
                    ("Content-Type".into(), "application/zip".into()),
                ],
                body: liar[last..].to_vec(),
            },
        )
        .range(&format!("bytes={last}-")),
    );
    let dest = w.workspace().join("out");
    let out = w.run(
        &[
            ("name", "dist"),
            ("path", dest.to_str().unwrap()),
            ("stall-timeout", "1000"),
        ],
        &[],
    );
    out.failed().one_error(&["'dist'", "digest mismatch"]);
    assert!(!dest.exists(), "{:?}", tree(&w.workspace()));
    assert!(find(w.root.path(), "frist.txt").is_empty());
    w.assert_temp_clean();
}

/// The overlap is on by default, and a good archive arrives whole; the log says extraction began
/// before the download ended.
#[test]
fn a_ranged_archive_is_extracted_while_it_downloads() {
    let w = World::new();
    w.add("dist", archive(NAMES, 4));
    trickle_middle(&w, 8 << 20);
    let out = w.run(&[("name", "dist"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert!(
        out.stdout
            .contains("Extracted into staging while downloading"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("streamed to extraction through memory (no archive file)"),
        "{}",
        out.stdout
    );
    let files = tree(&w.workspace());
    assert_eq!(files["first.txt"], zipbuild::text_payload(100 << 10, 4));
    assert_eq!(files["blob.bin"], zipbuild::random_payload(20 * MIB, 4));
    assert_eq!(files["last.txt"], b"the end\n");
    w.assert_temp_clean();
}

/// Issue 25: ranges that come while the first one still trickles wait for the hash, in memory
/// as far as the budget goes (24 MiB across all artifacts, part of it kept for the ranges
/// needed next); further ahead their connections wait for room, and after a time limit (2 s)
/// the ranges wait on disk. The archive still arrives whole and verified.
#[test]
fn ranges_ahead_of_the_hash_past_the_memory_budget_wait_on_disk() {
    let w = World::new();
    let zip = zipbuild::ZipBuilder::new()
        .file("first.txt", &zipbuild::text_payload(100 << 10, 9))
        .stored("blob.bin", &zipbuild::random_payload(44 * MIB, 9))
        .build();
    w.add("dist", zip);
    // The first segment (the probe's) takes about four seconds; the other five come at once.
    trickle_first(&w, 2 << 20);
    let out = w.run(&[("name", "dist"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert!(
        out.stdout.contains("waited on disk past the memory budget"),
        "{}",
        out.stdout
    );
    let files = tree(&w.workspace());
    assert_eq!(files["blob.bin"], zipbuild::random_payload(44 * MIB, 9));
    assert_eq!(files["first.txt"], zipbuild::text_payload(100 << 10, 9));
    w.assert_temp_clean();
}

/// A local fault on the streamed path (the spill file cannot grow past the file-size limit) is
/// not retried, as on the staged path (`hostile_server::a_local_write_error_is_not_retried`):
/// one error naming the spill, one download, nothing left behind.
#[cfg(unix)]
#[test]
fn a_spill_that_cannot_be_written_is_a_local_fault_not_retried() {
    let w = World::new();
    // Files of 512 KiB each (under the 2 MiB file-size limit set below), 40 MiB in all.
    let mut zip = zipbuild::ZipBuilder::new();
    for i in 0..80 {
        zip = zip.stored(
            &format!("part-{i:02}.bin"),
            &zipbuild::random_payload(512 << 10, i),
        );
    }
    w.add("dist", zip.build());
    // The first segment takes seconds: the ranges after it must wait on disk.
    trickle_first(&w, 2 << 20);
    let out = w.run_with_file_size_limit(&[("name", "dist"), ("stall-timeout", "1000")], 2048);
    out.failed().one_error(&["cannot spill", "not retried"]);
    assert!(!out.stdout.contains("retrying"), "{}", out.stdout);
    assert_eq!(w.api_requests("/zip").len(), 1, "{}", out.stdout);
    assert!(tree(&w.workspace()).is_empty());
    w.assert_temp_clean();
}

/// An archive whose second file is corrupt (a CRC that does not match), served with its true
/// digest: the streamed extraction has already dropped the first file's bytes when it fails, so
/// its own error is the one reported, as a whole archive's extraction reports it; nothing lands.
#[test]
fn a_corrupt_entry_past_bytes_already_dropped_fails_with_the_extractions_error() {
    let w = World::new();
    let mut zip = zipbuild::ZipBuilder::new()
        .stored("good.bin", &zipbuild::random_payload(20 * MIB, 10))
        .stored("bad.bin", &zipbuild::random_payload(MIB, 11))
        .build();
    let bad = zip
        .windows(4 + 26 + 7)
        .position(|h| h.starts_with(b"PK\x03\x04") && &h[30..] == b"bad.bin")
        .unwrap();
    // A byte in the middle of bad.bin's stored data: its CRC-32 no longer matches.
    zip[bad + 30 + 7 + 1000] ^= 0xff;
    w.add("dist", zip);
    let dest = w.workspace().join("out");
    let out = w.run(
        &[
            ("name", "dist"),
            ("path", dest.to_str().unwrap()),
            ("stall-timeout", "1000"),
        ],
        &[],
    );
    out.failed().one_error(&["'dist'", "bad.bin", "corrupt"]);
    assert!(!dest.exists(), "{:?}", tree(&w.workspace()));
    w.assert_temp_clean();
}

/// Without `Range` support the body streams whole, once, and is extracted after it landed.
#[test]
fn without_ranges_there_is_no_overlap_and_one_download() {
    let w = World::with(Options {
        range_support: false,
        ..Options::default()
    });
    w.add("dist", archive(NAMES, 5));
    let out = w.run(&[("name", "dist"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert!(!out.stdout.contains("while downloading"), "{}", out.stdout);
    assert_eq!(w.blob_requests().len(), 1);
    assert_eq!(
        tree(&w.workspace())["first.txt"],
        zipbuild::text_payload(100 << 10, 5)
    );
}

/// A partial fetch (`files`) extracts each selected entry as its ranges land: the small entry at
/// the front is in staging while a piece of the large one further on still trickles; the
/// workspace gets nothing before every piece is in, and a signal leaves nothing behind.
#[cfg(unix)]
#[test]
fn a_partial_fetch_extracts_the_selected_entries_as_their_ranges_land() {
    let w = World::new();
    let zip = zipbuild::ZipBuilder::new()
        .file("first.txt", &zipbuild::text_payload(100 << 10, 7))
        .stored("skipped.bin", &zipbuild::random_payload(40 * MIB, 7))
        .stored("later.bin", &zipbuild::random_payload(20 * MIB, 8))
        .build();
    // The second 8 MiB piece of later.bin's record: where its local header starts, plus one.
    let header = zip
        .windows(4 + 26 + 9)
        .position(|h| h.starts_with(b"PK\x03\x04") && &h[30..] == b"later.bin")
        .unwrap();
    w.add("dist", zip);
    w.gh.inject(
        Fault::new(
            Origin::Blob,
            "/blob/",
            FaultKind::Trickle {
                bytes_per_sec: 64 << 10,
            },
        )
        .range(&format!("bytes={}-", header + SEGMENT)),
    );
    let mut child = spawn(
        &w,
        &[
            ("name", "dist"),
            ("files", "first.txt\nlater.bin"),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
            ("stall-timeout", "1000"),
        ],
    );
    wait_for_staged_first_file(&w, &mut child, 7);
    let asked = ranges_asked(&w);
    assert!(
        !asked.iter().any(|r| r == "bytes=0-"),
        "only ranges were asked for: {asked:?}"
    );
    let stdout = signal_and_wait_failed(child, "-TERM");
    assert!(stdout.contains("cancelled by"), "{stdout}");
    w.assert_temp_clean();
    assert!(tree(&w.workspace()).is_empty());
}
