//! Large archives over several connections: the first request probes with a `Range`, a 206
//! tells the size, and the rest comes as parallel range requests written in place and hashed in
//! order. Checked through the real binary against the fake blob origin.

use crate::support::*;

const MIB: usize = 1 << 20;

/// A ~20 MiB archive (three 8 MiB segments): mostly incompressible so its size is predictable.
fn large(seed: u64) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .stored("blob.bin", &zipbuild::random_payload(20 * MIB, seed))
        .file("notes.txt", &zipbuild::text_payload(MIB, seed))
        .build()
}

fn ranges(w: &World) -> Vec<(String, u16)> {
    w.blob_requests()
        .iter()
        .map(|r| (r.header("range").unwrap_or("").to_string(), r.status))
        .collect()
}

fn assert_large_extracted(w: &World, seed: u64) {
    let files = tree(&w.workspace());
    assert_eq!(files["blob.bin"], zipbuild::random_payload(20 * MIB, seed));
    assert_eq!(files["notes.txt"], zipbuild::text_payload(MIB, seed));
}

#[test]
fn a_large_archive_comes_in_parallel_ranges_and_verifies() {
    let w = World::new();
    let zip = large(1);
    let total = zip.len() as u64;
    w.add("big", zip);
    // A generous stall bound: the time scale shrinks 30 s to 0.3 s, too tight for 20 MiB
    // through a debug-built fake on a busy machine.
    let out = w.run(&[("name", "big"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert_large_extracted(&w, 1);
    let mut seen = ranges(&w);
    seen.sort();
    let seg = 8 * MIB as u64;
    let want: Vec<(String, u16)> = vec![
        (format!("bytes=0-{}", seg - 1), 206),
        (format!("bytes={}-{}", 2 * seg, total - 1), 206),
        (format!("bytes={}-{}", seg, 2 * seg - 1), 206),
    ];
    let mut want = want;
    want.sort();
    assert_eq!(seen, want, "{}", out.stdout);
    assert!(out.stdout.contains("Digest verified"), "{}", out.stdout);
    assert!(out.stdout.contains("in 3 ranges"), "{}", out.stdout);
    assert_eq!(
        w.api_requests("/zip").len(),
        1,
        "one signed URL serves every range"
    );
    w.assert_temp_clean();
}

#[test]
fn without_range_support_the_body_streams_whole() {
    let w = World::with(Options {
        range_support: false,
        ..Options::default()
    });
    w.add("big", large(2));
    w.run(&[("name", "big"), ("stall-timeout", "1000")], &[])
        .ok();
    assert_large_extracted(&w, 2);
    let seen = ranges(&w);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].1, 200, "the server ignored the probe's Range");
}

#[test]
fn a_cut_range_resumes_and_a_refused_one_gets_a_fresh_url() {
    let w = World::new();
    w.add("big", large(3));
    // The probe (first segment) is cut after 1 MiB; the next request is refused as if its
    // signed URL had expired.
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::TruncateBody {
            after_bytes: MIB as u64,
        },
    ));
    w.gh.inject(Fault::status(
        Origin::Blob,
        "/blob/",
        403,
        "<Error><Code>AuthenticationFailed</Code></Error>",
    ));
    let out = w.run(&[("name", "big"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert_large_extracted(&w, 3);
    let seen = ranges(&w);
    assert!(seen.iter().any(|(_, s)| *s == 403), "{seen:?}");
    let resumed = seen.iter().find(|(r, s)| {
        *s == 206 && r.starts_with("bytes=") && !r.starts_with("bytes=0-") && {
            let start: u64 = r["bytes=".len()..]
                .split('-')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            start > 0 && start < 8 * MIB as u64
        }
    });
    assert!(
        resumed.is_some(),
        "the cut first segment resumed mid-way: {seen:?}"
    );
    assert!(
        w.api_requests("/zip").len() >= 2,
        "a fresh signed URL was asked for"
    );
    assert!(
        out.warnings().iter().any(|l| l.contains("retrying")),
        "{}",
        out.stdout
    );
}

#[test]
fn an_empty_body_is_fetched_whole_after_the_range_probe() {
    let w = World::new();
    w.gh.add_artifact(
        w.run,
        ArtifactSpec::raw_file("empty.txt", Vec::new(), "text/plain"),
    );
    w.run(&[("name", "empty.txt")], &[]).ok();
    assert_eq!(tree(&w.workspace())["empty.txt"], b"");
    let statuses: Vec<u16> = ranges(&w).iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, vec![416, 200]);
}
