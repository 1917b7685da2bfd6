//! `partial-download`: with `files`, only the selected entries' bytes are fetched by range,
//! through the real binary against the fake GitHub (its request log shows every range asked).

use crate::support::zipbuild::{Entry, ZipBuilder};
use crate::support::*;
use sha2::{Digest, Sha256};

fn sha256(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

const TOOL: &[u8] = b"#!/bin/sh\necho the tool\n";

/// Two incompressible 3 MiB entries around a small tool.
fn build() -> Vec<u8> {
    ZipBuilder::new()
        .stored("data/a.bin", &zipbuild::random_payload(3 << 20, 1))
        .executable("bin/tool", TOOL)
        .stored("data/b.bin", &zipbuild::random_payload(3 << 20, 2))
        .build()
}

/// The bytes the blob origin was asked for, summed over its `Range` headers (a request without
/// one counts as the whole archive).
fn asked(w: &World, whole: u64) -> u64 {
    w.blob_requests()
        .iter()
        .map(|r| match r.header("range") {
            Some(range) => {
                let (s, e) = range.trim_start_matches("bytes=").split_once('-').unwrap();
                let start = s.parse::<u64>().unwrap();
                // `N-` (a resume after a stall on a loaded machine): to the end.
                e.parse::<u64>()
                    .map_or(whole.saturating_sub(start), |e| e - start + 1)
            }
            None => whole,
        })
        .sum()
}

fn dest(w: &World) -> std::path::PathBuf {
    w.root.path().join("out")
}

#[test]
fn only_the_selected_entries_bytes_are_fetched_and_crc_checked() {
    let w = World::new();
    let zip = build();
    let len = zip.len() as u64;
    w.add("build", zip);
    let cache = w.root.path().join("runner-cache");
    let out = w.run(
        &[
            ("name", "build"),
            ("path", &dest(&w).display().to_string()),
            ("files", "bin/*"),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
            ("cache-dir", &cache.display().to_string()),
        ],
        &[],
    );
    out.ok();
    // Never whole, never verified as an archive: nothing for the cache to keep.
    assert_eq!(entries(&cache), Vec::<String>::new());
    assert_eq!(out.outputs["cache-hits"], "0");
    assert_eq!(
        tree(&dest(&w)),
        [("bin/tool".to_string(), TOOL.to_vec())].into()
    );
    // The tail (end record and central directory), then the tool's record: well under 1% of
    // the 6 MiB archive, and every request a range.
    let asked = asked(&w, len);
    assert!(asked < 100_000, "asked for {asked} of {len} bytes");
    assert!(
        w.blob_requests()
            .iter()
            .all(|r| r.header("range").is_some())
    );
    assert!(
        out.stdout.contains("Partial fetch: 1 selected entries"),
        "{}",
        out.stdout
    );
    assert!(
        out.summary
            .contains("CRC-32 only, archive digest not verified"),
        "{}",
        out.summary
    );
    // No archive digest to give: it was never whole.
    assert_eq!(out.outputs["digests"], "{}");
    assert_eq!(out.artifacts_json()[0]["files_left"], 2);
    w.assert_temp_clean();
}

#[test]
fn with_the_selected_files_pinned_partial_fetch_needs_no_digest_mismatch_setting() {
    let w = World::new();
    w.add("build", build());
    let run = |pin: &str| {
        w.gh.clear_requests();
        w.run(
            &[
                ("name", "build"),
                ("path", &dest(&w).display().to_string()),
                ("files", "bin/tool"),
                ("partial-download", "true"),
                ("expected-files", &format!("{pin}  bin/tool\n")),
            ],
            &[],
        )
    };
    let out = run(&sha256(TOOL));
    out.ok();
    assert!(
        out.summary.contains("each file's pinned SHA-256 ✅"),
        "{}",
        out.summary
    );
    assert!(asked(&w, 0) < 100_000);
    // A pin the fetched file does not match: refused, nothing placed. (The first run's tree is
    // removed, or the identical file it left would pass for one placed now.)
    std::fs::remove_dir_all(dest(&w)).unwrap();
    let out = run(&sha256(b"another tool"));
    out.failed().one_error(&["not the ones the producer made"]);
    assert!(!dest(&w).exists(), "{:?}", tree(&dest(&w)));
    w.assert_temp_clean();
}

#[test]
fn without_pins_or_a_relaxed_digest_check_the_archive_is_fetched_whole_and_the_log_says_why() {
    let w = World::new();
    let zip = build();
    let len = zip.len() as u64;
    w.add("build", zip);
    let out = w.run(
        &[
            ("name", "build"),
            ("path", &dest(&w).display().to_string()),
            ("files", "bin/tool"),
            ("partial-download", "true"),
        ],
        &[],
    );
    out.ok();
    assert!(
        out.stdout.contains(
            "Partial fetch not used: only the whole archive's SHA-256 verifies it; pin the selected files with expected-files"
        ),
        "{}",
        out.stdout
    );
    assert!(asked(&w, len) >= len);
    assert!(out.summary.contains("✅ verified"), "{}", out.summary);
    assert_eq!(tree(&dest(&w)).len(), 1);
}

/// `partial-download: auto` (the default): a partial fetch for an archive of at least 8 MiB whose
/// selected records are at most a quarter of it; the whole archive for a smaller archive, or when
/// the selection is most of it (the log says why).
#[test]
fn auto_fetches_in_part_only_a_small_share_of_a_large_enough_archive() {
    let w = World::new();
    let large = ZipBuilder::new()
        .stored("data/a.bin", &zipbuild::random_payload(5 << 20, 1))
        .executable("bin/tool", TOOL)
        .stored("data/b.bin", &zipbuild::random_payload(5 << 20, 2))
        .build();
    let (large_len, small_len) = (large.len() as u64, build().len() as u64);
    w.add("large", large);
    w.add("small", build());
    let run = |name: &str, files: &str| {
        w.gh.clear_requests();
        w.run(
            &[
                ("name", name),
                ("path", &dest(&w).display().to_string()),
                ("files", files),
                ("digest-mismatch", "warn"),
            ],
            &[],
        )
    };
    // 10 MiB, the tool alone: by range.
    let out = run("large", "bin/tool");
    out.ok();
    assert!(
        out.stdout.contains("Partial fetch: 1 selected entries"),
        "{}",
        out.stdout
    );
    assert!(asked(&w, large_len) < 100_000);
    // 6 MiB: under the threshold, whole, nothing to say.
    let out = run("small", "bin/tool");
    out.ok();
    assert!(!out.stdout.contains("Partial fetch"), "{}", out.stdout);
    assert!(asked(&w, small_len) >= small_len);
    // 10 MiB, but half of it selected: whole, and the log says why.
    let out = run("large", "data/a.bin");
    out.ok();
    assert!(
        out.stdout
            .contains("partial-download: auto: the selected entries need"),
        "{}",
        out.stdout
    );
    assert!(asked(&w, large_len) >= large_len);
}

#[test]
fn a_blob_server_that_ignores_range_is_read_whole_once() {
    let w = World::with(Options {
        range_support: false,
        ..Options::default()
    });
    w.add("build", build());
    let out = w.run(
        &[
            ("name", "build"),
            ("path", &dest(&w).display().to_string()),
            ("files", "bin/tool"),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
            // Counting requests: no stall retry on a loaded machine (the test scale makes the
            // default 0.3 s).
            ("stall-timeout", "1000"),
        ],
        &[],
    );
    out.ok();
    // The 200 to the first range request is the download: one blob request in all.
    assert_eq!(w.blob_requests().len(), 1, "{:?}", w.blob_requests());
    assert!(
        out.stdout.contains("the blob server ignores Range"),
        "{}",
        out.stdout
    );
    assert!(out.summary.contains("✅ verified"), "{}", out.summary);
    assert_eq!(tree(&dest(&w)).len(), 1);
}

#[test]
fn an_expired_signed_url_is_renewed() {
    let w = World::new();
    w.add("build", build());
    // The first range request finds its signed URL expired.
    w.gh.inject(Fault::status(
        Origin::Blob,
        "/blob/",
        403,
        "<Error><Code>AuthenticationFailed</Code><Message>Signed expiry time has passed</Message></Error>",
    ));
    let out = w.run(
        &[
            ("name", "build"),
            ("path", &dest(&w).display().to_string()),
            ("files", "bin/tool"),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
        ],
        &[],
    );
    out.ok();
    assert!(
        w.api_requests("/zip").len() >= 2,
        "a fresh URL was asked for"
    );
    assert!(
        out.stdout.contains("Partial fetch: 1 selected entries"),
        "{}",
        out.stdout
    );
    assert_eq!(tree(&dest(&w))["bin/tool"], TOOL);
}

/// Runs a partial fetch of `files` from `zip` and expects a refusal naming `needles`, with
/// nothing written.
fn refused(zip: Vec<u8>, files: &str, needles: &[&str]) {
    let w = World::new();
    w.add("evil", zip);
    let out = w.run(
        &[
            ("name", "evil"),
            ("path", &dest(&w).display().to_string()),
            ("files", files),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
        ],
        &[],
    );
    out.failed().one_error(needles);
    assert!(!dest(&w).exists(), "nothing written");
    w.assert_temp_clean();
}

#[test]
fn a_hostile_central_directory_is_refused_and_nothing_is_written() {
    // Central entries sharing one local record.
    let z = zipbuild::sharing_one_record(Entry::new("zeros", &[0u8; 65536]), &["copy-1", "copy-2"])
        .unwrap();
    refused(z, "copy-*", &["overlaps"]);

    // A local offset past the central directory's start.
    let mut z = ZipBuilder::new()
        .file("fine.txt", b"fine")
        .file("far.txt", b"far away")
        .build();
    let cd = z.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let second = cd
        + 1
        + z[cd + 1..]
            .windows(4)
            .position(|w| w == b"PK\x01\x02")
            .unwrap();
    let past = (z.len() as u32).to_le_bytes();
    z[second + 42..second + 46].copy_from_slice(&past);
    refused(z, "far.txt", &["far.txt", "past the central directory"]);

    // The local header names another file than the central directory.
    let mut z = ZipBuilder::new()
        .file("fine.txt", b"fine")
        .file("shown.txt", b"evil")
        .build();
    let at = z.windows(9).position(|w| w == b"shown.txt").unwrap();
    z[at..at + 9].copy_from_slice(b"other.txt");
    refused(
        z,
        "shown.txt",
        &["\"shown.txt\"", "\"other.txt\"", "local header"],
    );

    // Data that does not match its CRC-32.
    let mut z = ZipBuilder::new().stored("bin/tool", TOOL).build();
    let at = z.windows(8).position(|w| w == b"the tool").unwrap();
    z[at] ^= 0x20;
    refused(z, "bin/tool", &["\"bin/tool\""]);
}

/// The central directory declares each entry's size: a selection larger than `max-size` is
/// refused before its bytes are fetched, not after.
#[test]
fn a_selection_over_max_size_is_refused_before_its_bytes_are_fetched() {
    let w = World::new();
    let zip = build();
    let len = zip.len() as u64;
    w.add("build", zip);
    let out = w.run(
        &[
            ("name", "build"),
            ("path", &dest(&w).display().to_string()),
            ("files", "data/a.bin"),
            ("partial-download", "true"),
            ("digest-mismatch", "warn"),
            ("max-size", "1m"),
        ],
        &[],
    );
    out.failed()
        .one_error(&["max-size", "data/a.bin", "before fetching"]);
    // The tail and the central directory only: not the 3 MiB entry.
    let asked = asked(&w, len);
    assert!(asked < 100_000, "asked for {asked} of {len} bytes");
    assert!(!dest(&w).exists());
    w.assert_temp_clean();
}
