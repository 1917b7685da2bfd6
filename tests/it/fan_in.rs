//! Big fan-in: a run with thousands of artifacts split over `shard` jobs, the request budget
//! (`max-api-requests`, the rate limit), pacing and a secondary limit mid-way — through the real
//! binary against the fake GitHub, with request counts from its log.

use std::collections::BTreeMap;

use crate::support::*;

fn tiny_zip(name: &str) -> Vec<u8> {
    zipbuild::ZipBuilder::new()
        .file("name.txt", name.as_bytes())
        .build()
}

/// `count` artifacts `part-0000`... on the current run; returns their ids by name.
fn many(w: &World, count: usize) -> BTreeMap<String, u64> {
    (0..count)
        .map(|i| {
            let name = format!("part-{i:04}");
            let id = w.add(&name, tiny_zip(&name));
            (name, id)
        })
        .collect()
}

/// The artifact id in a `/repos/o/r/actions/artifacts/{id}/zip` or `/blob/{id}/...` path.
fn id_in(path: &str) -> u64 {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts
        .iter()
        .position(|p| *p == "artifacts" || *p == "blob")
        .unwrap();
    parts[at + 1].parse().unwrap()
}

fn statuses(reqs: &[fakehub::LoggedRequest]) -> Vec<u16> {
    reqs.iter().map(|r| r.status).collect()
}

#[test]
fn five_thousand_artifacts_over_three_shards_each_fetched_exactly_once_through_a_secondary_limit() {
    const N: usize = 5000;
    const SHARDS: u64 = 3;
    let w = World::with(Options {
        rate_limit: 15_000,
        ..Options::default()
    });
    let ids = many(&w, N);
    // Mid-way through shard 2's downloads: a secondary rate limit on one download URL.
    let shard2 = support_shard_of(2, SHARDS, &ids);
    let limited = shard2[shard2.len() / 2];
    w.gh.inject(Fault::new(
        Origin::Api,
        &format!("/artifacts/{limited}/zip"),
        FaultKind::SecondaryRateLimit {
            retry_after: Some(30),
        },
    ));

    let mut zips_seen: BTreeMap<u64, usize> = BTreeMap::new();
    let mut blobs_seen: BTreeMap<u64, usize> = BTreeMap::new();
    let mut taken = 0;
    let out_dir = w.workspace().join("out");
    for i in 1..=SHARDS {
        w.gh.clear_requests();
        let shard = format!("{i}/{SHARDS}");
        let out = w.run(
            &[
                ("pattern", "part-*"),
                ("path", out_dir.to_str().unwrap()),
                ("shard", &shard),
                ("concurrency", "16"),
                // No stall retries from a loaded test machine: the counts below are exact.
                ("stall-timeout", "1000"),
            ],
            &[],
        );
        out.ok();
        let mine = out.artifacts_json().len();
        assert_eq!(mine, support_shard_of(i, SHARDS, &ids).len());
        taken += mine;
        // The whole list once (50 pages of 100), then one download URL per artifact of the shard.
        let lists = w.api_requests("/runs/");
        assert_eq!(lists.len(), N / 100, "shard {shard}");
        assert!(lists.iter().all(|r| r.status == 200));
        let zips = w.api_requests("/zip");
        let limited_here = zips.iter().any(|r| id_in(&r.path) == limited);
        assert_eq!(
            zips.len(),
            mine + usize::from(limited_here),
            "shard {shard}: one request per artifact, plus the one answered with the limit\n{:#?}",
            out.warnings()
        );
        for r in zips.iter().filter(|r| r.status == 302) {
            *zips_seen.entry(id_in(&r.path)).or_default() += 1;
        }
        for r in w.blob_requests() {
            *blobs_seen.entry(id_in(&r.path)).or_default() += 1;
        }
        assert!(
            out.stdout.contains(&format!(
                "shard {shard}: {mine} of the {N} selected artifacts"
            )),
            "{}",
            out.stdout
        );
        let used = N / 100 + mine + usize::from(limited_here);
        assert!(
            out.summary
                .contains(&format!(" · {used} API requests; rate limit: ")),
            "{}",
            out.summary
        );
        if limited_here {
            assert_eq!(
                statuses(
                    &zips
                        .iter()
                        .filter(|r| id_in(&r.path) == limited)
                        .cloned()
                        .collect::<Vec<_>>()
                ),
                vec![403, 302]
            );
            assert!(
                out.warnings()
                    .iter()
                    .any(|l| l.contains("secondary rate limit")),
                "{}",
                out.stdout
            );
            // The whole process held off, blob downloads too: besides what was already in
            // flight (at most `concurrency`) and one more request from each worker that finished
            // before the 403 reached the client's gate, nothing was answered during the 0.3 s
            // hold (without the hold, hundreds would be). A bound of one `concurrency` alone was
            // met with 7-16 on an idle machine and broken with 18 under the suite's load, by the
            // builds before and after the architecture step alike.
            let hit = zips.iter().find(|r| r.status == 403).unwrap().at;
            let hold = std::time::Duration::from_millis(250);
            let during =
                w.gh.requests()
                    .into_iter()
                    .filter(|r| r.at > hit && r.at < hit + hold)
                    .count();
            assert!(
                during <= 2 * 16,
                "{during} requests answered during the hold"
            );
        }
    }
    assert_eq!(taken, N);
    assert!(w.gh.pending_faults().is_empty(), "the limit was met");
    let all: Vec<u64> = ids.values().copied().collect();
    assert_eq!(zips_seen.keys().copied().collect::<Vec<_>>(), all);
    assert!(zips_seen.values().all(|n| *n == 1), "a URL asked twice");
    assert_eq!(blobs_seen.keys().copied().collect::<Vec<_>>(), all);
    assert!(blobs_seen.values().all(|n| *n == 1), "a blob fetched twice");
    // Every artifact in its own directory, as one unsharded step would have laid them out.
    let dirs = entries(&out_dir);
    assert_eq!(dirs.len(), N);
    assert!(dirs == ids.keys().cloned().collect::<Vec<_>>());
    for name in ["part-0000", "part-2500", "part-4999"] {
        assert_eq!(
            std::fs::read_to_string(out_dir.join(name).join("name.txt")).unwrap(),
            name
        );
    }
}

/// The ids of shard `i` of `n`, computed the way the README documents: FNV-1a 64 of the name,
/// mod n, plus one.
fn support_shard_of(i: u64, n: u64, ids: &BTreeMap<String, u64>) -> Vec<u64> {
    ids.iter()
        .filter(|(name, _)| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in name.as_bytes() {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            h % n + 1 == i
        })
        .map(|(_, id)| *id)
        .collect()
}

#[test]
fn a_list_longer_than_a_hundred_pages_is_an_error_that_says_so_not_a_truncation() {
    let w = World::new();
    let body = tiny_zip("x");
    for i in 0..10_001 {
        w.gh.add_artifact(w.run, ArtifactSpec::new(&format!("a{i:05}"), body.clone()));
    }
    w.gh.clear_requests();
    let out = w.run(&[("dry-run", "true")], &[]);
    out.failed().one_error(&["lists more than 10000 artifacts"]);
    assert_eq!(w.api_requests("/artifacts").len(), 100);
}

#[test]
fn exactly_a_hundred_pages_are_read_to_the_end() {
    let w = World::new();
    let body = tiny_zip("x");
    for i in 0..10_000 {
        w.gh.add_artifact(w.run, ArtifactSpec::new(&format!("a{i:05}"), body.clone()));
    }
    w.gh.clear_requests();
    let out = w.run(&[("dry-run", "true")], &[]);
    out.ok();
    assert_eq!(out.artifacts_json().len(), 10_000);
    assert_eq!(w.api_requests("/artifacts").len(), 100);
}

#[test]
fn max_api_requests_stops_before_the_downloads_and_the_summary_says_what_is_left() {
    let w = World::new();
    many(&w, 250);
    w.gh.clear_requests();
    let out = w.run(&[("max-api-requests", "100")], &[]);
    out.failed()
        .one_error(&["max-api-requests", "250 artifacts", "97 of 100 are left"]);
    // Three list pages, nothing else; nothing written.
    assert_eq!(w.gh.requests().len(), 3);
    assert!(entries(&w.workspace()).is_empty());
    assert!(
        out.summary
            .replace('\\', "")
            .contains(" · 3 API requests (max-api-requests 100, 97 left); rate limit: "),
        "{}",
        out.summary
    );
    w.assert_temp_clean();
}

#[test]
fn max_api_requests_is_never_exceeded_even_while_listing() {
    let w = World::new();
    many(&w, 250);
    w.gh.clear_requests();
    let out = w.run(&[("max-api-requests", "2")], &[]);
    out.failed()
        .one_error(&["max-api-requests", "sent all 2 API requests"]);
    assert_eq!(w.gh.requests().len(), 2);
}

#[test]
fn a_shard_with_nothing_of_its_own_succeeds_with_nothing_to_do() {
    let w = World::new();
    w.add("only", tiny_zip("only"));
    let mine = (1..=4)
        .find(|i| !support_shard_of(*i, 4, &BTreeMap::from([("only".to_string(), 0)])).is_empty())
        .unwrap();
    let other = if mine == 1 { 2 } else { 1 };
    let out = w.run(&[("shard", &format!("{other}/4"))], &[]);
    out.ok();
    assert_eq!(out.outputs["found-artifact"], "false");
    assert!(entries(&w.workspace()).is_empty());
    let out = w.run(&[("shard", &format!("{mine}/4"))], &[]);
    out.ok();
    // Laid out as the whole selection would be: one artifact goes straight into `path`.
    assert_eq!(entries(&w.workspace()), vec!["name.txt"]);
}

#[test]
fn requests_are_paced_when_little_of_the_rate_limit_is_left() {
    let w = World::with(Options {
        rate_limit: 40,
        rate_window_secs: 60,
        ..Options::default()
    });
    many(&w, 38);
    // One request at a time: each one is sent after the previous answer's remaining is known.
    // The count below is exact: no stall retry (each asks for a fresh signed URL, one request
    // more) from a blob answer late past the test scale's 0.3 s default on a loaded machine.
    let out = w.run(&[("concurrency", "1"), ("stall-timeout", "1000")], &[]);
    out.ok();
    assert_eq!(out.artifacts_json().len(), 38);
    assert!(
        out.stdout.contains("Pacing API requests: ") && out.stdout.contains(" of 40 left until "),
        "{}",
        out.stdout
    );
    assert_eq!(w.api_requests("").len(), 39);
}

#[test]
fn bad_shard_and_budget_inputs_are_named() {
    let w = World::new();
    for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
        let out = w.run(&[("shard", bad)], &[]);
        out.failed().one_error(&["shard", bad, "like 2/4"]);
    }
    let out = w.run(&[("max-api-requests", "0")], &[]);
    out.failed()
        .one_error(&["max-api-requests", "positive integer"]);
    assert!(w.gh.requests().is_empty());
}

#[test]
fn a_blob_answer_asking_to_slow_down_holds_the_api_requests_too() {
    let w = World::new();
    w.add("only", tiny_zip("only"));
    w.gh.inject(Fault::new(
        Origin::Blob,
        "/blob/",
        FaultKind::Status {
            code: 503,
            body: "<Error><Code>ServerBusy</Code></Error>".into(),
            headers: vec![("Retry-After".into(), "40".into())],
        },
    ));
    let out = w.run(&[], &[]);
    out.ok();
    let blobs = w.blob_requests();
    assert_eq!(statuses(&blobs), vec![503, 206]);
    let zips = w.api_requests("/zip");
    assert_eq!(statuses(&zips), vec![302, 302]);
    // Retry-After 40 s at the tests' time scale (0.01) is 0.4 s: the next API request waited.
    assert!(
        zips[1].at >= blobs[0].at + std::time::Duration::from_millis(400),
        "{:?} after the 503",
        zips[1].at - blobs[0].at
    );
}
