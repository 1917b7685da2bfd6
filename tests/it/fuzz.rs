//! Fuzz targets for everything that parses server or archive data. Under `cargo test` (and so in
//! `.ci/run`) each target replays its committed corpus
//! (`tests/it/__fuzz__/fuzz__<target without fuzz_>/corpus`), then runs random inputs for a few
//! seconds; `cargo bolero test fuzz_zip_extraction` (cargo-bolero, with AFL or libFuzzer) runs
//! the same target coverage-guided for as long as you like.
//!
//! bolero is a dev-dependency only: it adds nothing to the binary. Most targets are
//! structure-aware (`tests/it/fuzz_shapes`): bolero generates a typed value, the target renders it
//! into what a server or an archive sends, and compares the parser's answer with the value (a
//! round trip), so every input reaches the deep checks and a wrong answer fails, not only a panic.

use std::path::Path;
use std::time::Duration;

use crate::fuzz_shapes::*;
use artifetch::attest::{self, SLSA_PROVENANCE_V1, TrustedRoot, cms, tsa};
use artifetch::extract::central::{find_eocd, parse_central, selected_spans};
// The symlink oracle extract's property tests use too (its `testkit` feature).
use artifetch::extract::oracle::links_stay_inside;
use artifetch::extract::{Limits, extract_zip};
use artifetch::github::model::{ArtifactList, Published};
use artifetch::github::{content_disposition, content_range, pages};
use artifetch::pattern::PathGlobs;

/// Random inputs per target after the corpus: a time box, so CI stays fast on 2 cores.
const TIME_BOX: Duration = Duration::from_secs(3);

/// A renamed target replays an empty corpus without a word: every `fn fuzz_NAME` here must have
/// a committed `tests/it/__fuzz__/fuzz__NAME/corpus` holding at least one input.
#[test]
fn every_fuzz_target_replays_a_committed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let source = std::fs::read_to_string(root.join("fuzz.rs")).unwrap();
    let targets: Vec<&str> = source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn fuzz_"))
        .filter_map(|l| l.split('(').next())
        .collect();
    assert!(targets.len() >= 8, "{targets:?}");
    for target in targets {
        // bolero names the directory after the test's module path: `fuzz::fuzz_x` → `fuzz__x`.
        let corpus = root
            .join("__fuzz__")
            .join(format!("fuzz__{target}"))
            .join("corpus");
        let inputs = std::fs::read_dir(&corpus).map_or(0, |d| d.count());
        assert!(
            inputs > 0,
            "fuzz_{target}: no committed corpus at {} (a target without one replays nothing)",
            corpus.display()
        );
    }
}

/// A file name in each form a blob host may send it: the answer is the name's last path
/// component (a server does not choose our directories), exactly, or nothing when that is empty.
#[test]
fn fuzz_content_disposition() {
    bolero::check!()
        .with_type::<DispositionShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let header = shape.render();
            assert_eq!(
                content_disposition::file_name(&header),
                shape.expected(),
                "{header:?}"
            );
        });
}

/// A `Content-Range` built from numbers: parsed back to exactly those numbers when it is
/// well-formed and consistent (start <= end < total), refused otherwise.
#[test]
fn fuzz_content_range() {
    bolero::check!()
        .with_type::<RangeShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let value = shape.render();
            let parsed = content_range::parse(&value).map(|r| (r.start, r.end, r.total));
            assert_eq!(parsed, shape.expected(), "{value:?}");
        });
}

/// A `Link` header built from pages: the next page is the first one marked `next`, whatever
/// else surrounds it, and there is none without one.
#[test]
fn fuzz_link_header() {
    bolero::check!()
        .with_type::<LinkShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let header = shape.render();
            assert_eq!(pages::next_link(&header), shape.expected(), "{header:?}");
        });
}

/// An artifact list built from artifacts with every optional field in each of its forms: read
/// back field for field, and the digest classified as it was written.
#[test]
fn fuzz_artifact_list_json() {
    bolero::check!()
        .with_type::<Vec<ArtifactShape>>()
        .with_test_time(TIME_BOX)
        .for_each(|shapes| {
            let body = serde_json::json!({
                "total_count": shapes.len(),
                "artifacts": shapes.iter().map(ArtifactShape::json).collect::<Vec<_>>(),
            })
            .to_string();
            let list: ArtifactList = serde_json::from_str(&body).unwrap();
            assert_eq!(list.artifacts.len(), shapes.len());
            for (a, shape) in list.artifacts.iter().zip(shapes) {
                assert_eq!((a.id, &a.name), (shape.id, &shape.name));
                assert_eq!((a.size_in_bytes, a.expired), (shape.size, shape.expired));
                let digest = match a.published_digest() {
                    Published::None => ("none", String::new()),
                    Published::Sha256(h) => ("sha256", h.to_string()),
                    Published::Other(alg) => ("other", alg.to_string()),
                };
                assert_eq!(digest, shape.digest.expected(), "{body}");
                let run = a.workflow_run.as_ref();
                assert_eq!(run.is_some(), shape.run.is_some());
                if let (Some(run), Some(want)) = (run, &shape.run) {
                    assert_eq!(run.id, want.id);
                    assert_eq!(run.head_sha, want.head_sha.map(|s| hex(&s)));
                    assert_eq!(run.head_branch, want.head_branch);
                }
            }
        });
}

/// A real RFC 3161 token (GitHub's timestamp authority, tests/data/sigstore) with bytes changed:
/// the message imprint still matches the signature it stamps, so every input reaches the
/// authority's signature. The parser returns only slices of its input, and whatever still
/// verifies carries exactly the signed content of the original (same TSTInfo, same signed
/// attributes, same signature, same time): a change to what the authority signed never passes.
#[test]
fn fuzz_timestamp_token() {
    let (token, signature) = real_timestamp();
    let root = *TrustedRoot::embedded().github.unwrap();
    let original = cms::parse(&token).unwrap();
    let time = tsa::verify(&token, &signature, &root).expect("the real token verifies");
    let within = |part: &[u8], whole: &[u8]| {
        let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
        w <= p && p + part.len() <= w + whole.len()
    };
    bolero::check!()
        .with_type::<Vec<(u16, u8)>>()
        .with_test_time(TIME_BOX)
        .for_each(|changes| {
            let mut bytes = token.clone();
            for &(at, xor) in changes.iter().take(4) {
                let i = at as usize % bytes.len();
                bytes[i] ^= xor;
            }
            if let Ok(t) = cms::parse(&bytes) {
                assert!(within(t.tst_info_der, &bytes));
                assert!(within(t.imprint, &bytes));
                assert!(within(t.signer.signature, &bytes));
                assert!(t.certificates.iter().all(|c| within(c, &bytes)));
            }
            if let Ok(verified) = tsa::verify(&bytes, &signature, &root) {
                let t = cms::parse(&bytes).unwrap();
                assert_eq!(verified, time);
                assert_eq!(t.tst_info_der, original.tst_info_der);
                assert_eq!(t.signer.signed_attrs, original.signer.signed_attrs);
                assert_eq!(t.signer.signature, original.signer.signature);
            }
        });
}

/// Any bytes as a Sigstore bundle, through the whole verifier (JSON, shape, log bodies, proofs,
/// timestamps, certificates, SCTs, statement), never panic: against the embedded roots nothing
/// verifies (no bytes carry a real signature over this digest); spliced into a good fake bundle at
/// a fuzzed offset, whatever still verifies is still the fake signer's (the corpus holds real
/// bundles: public-good v0.1 and v0.3, GitHub's instance, Rekor v2).
#[test]
fn fuzz_bundle_verification() {
    use fakehub::sigstore::{Attestation, FakeSigstore, Signer};
    let embedded = TrustedRoot::embedded();
    let sigstore = FakeSigstore::new();
    let fake_root = TrustedRoot::parse(&sigstore.trusted_root()).unwrap();
    let digest = "3f1b2c0000000000000000000000000000000000000000000000000000000abc";
    let good = sigstore.bundle(&Attestation::new(
        digest,
        Signer::new("octo/hello", "build.yml"),
    ));
    bolero::check!()
        .with_test_time(TIME_BOX)
        .with_max_len(64 * 1024)
        .for_each(|bytes: &[u8]| {
            let any = attest::verify_unbound(bytes, digest, &embedded, SLSA_PROVENANCE_V1);
            assert!(any.is_err(), "{any:?}");
            let Some((&at, patch)) = bytes.split_first() else {
                return;
            };
            let mut spliced = good.clone().into_bytes();
            let start = (at as usize * spliced.len() / 256).min(spliced.len());
            let end = (start + patch.len()).min(spliced.len());
            spliced.splice(start..end, patch.iter().copied());
            if let Ok(v) = attest::verify_unbound(&spliced, digest, &fake_root, SLSA_PROVENANCE_V1)
            {
                assert_eq!(
                    v.identity.signer_uri.as_deref(),
                    Some(
                        "https://github.com/octo/hello/.github/workflows/build.yml@refs/heads/main"
                    )
                );
            }
        });
}

/// The first RFC 3161 token of GitHub's release attestation, and the DSSE signature it stamps.
fn real_timestamp() -> (Vec<u8>, Vec<u8>) {
    use base64::Engine;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/sigstore/github-release-attestation.sigstore.json"
    );
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    };
    let stamp = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        [0]["signedTimestamp"];
    (
        b64(stamp),
        b64(&bundle["dsseEnvelope"]["signatures"][0]["sig"]),
    )
}

/// Archives built from entries whose names mix ordinary and hostile components (`..`, absolute,
/// `.git`, `.`, empty) and whose kinds mix files, directories and links: extraction writes only
/// inside staging, no link leads out, an archive with a hostile name is refused, and an accepted
/// one holds every plain file at its path with exactly its bytes.
#[test]
fn fuzz_zip_extraction() {
    let limits = Limits {
        max_total_bytes: 1 << 20,
        max_files: 1_000,
        max_ratio: 500,
        allow_git_paths: false,
    };
    bolero::check!()
        .with_type::<ArchiveShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let dir = tempfile::tempdir().unwrap();
            let archive = dir.path().join("a.zip");
            std::fs::write(&archive, shape.build()).unwrap();
            let staging = dir.path().join("staging");
            std::fs::create_dir(&staging).unwrap();
            let result = extract_zip(&archive, &staging, &limits);
            let mut beside: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            beside.sort();
            assert_eq!(beside, ["a.zip", "staging"], "written outside staging");
            links_stay_inside(&staging, &staging);
            if shape.has_hostile_name() {
                assert!(result.is_err(), "a hostile name was accepted: {shape:?}");
            }
            if result.is_ok() {
                for (path, data) in shape.entries.iter().filter_map(|e| e.plain_file()) {
                    let written = std::fs::read(staging.join(&path));
                    assert_eq!(written.ok().as_deref(), Some(data), "{path} of {shape:?}");
                }
            }
        });
}

/// Archives built from entries, their tails changed as a hostile server would (bytes flipped,
/// offsets and sizes set to extremes, bytes cut off), parsed the way a partial fetch parses what
/// it fetched by range. Unchanged, the central directory reads back as built (names, sizes,
/// CRCs, each offset at a local header). Changed, whatever is accepted points only inside the
/// archive, before its central directory, with no two entries' records overlapping, and every
/// span to fetch lies within it.
#[test]
fn fuzz_central_directory() {
    let select = PathGlobs::parse("**").unwrap().unwrap();
    bolero::check!()
        .with_type::<TailShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let (bytes, changed) = shape.bytes();
            let bytes = &bytes[..];
            let total = bytes.len() as u64;
            let parsed = find_eocd(bytes, total).and_then(|eocd| {
                let cd = bytes
                    .get(eocd.cd_offset as usize..(eocd.cd_offset + eocd.cd_size) as usize)
                    .ok_or_else(|| anyhow::anyhow!("the central directory is past the end"))?;
                Ok((eocd, parse_central(cd, &eocd)?))
            });
            if !changed {
                let (_, entries) = parsed.as_ref().expect("an archive as built is read");
                assert_reads_as_built(&shape.archive, entries, bytes);
            }
            let Ok((eocd, entries)) = parsed else {
                return;
            };
            assert!(
                eocd.cd_offset + eocd.cd_size <= total,
                "{eocd:?} past {total}"
            );
            assert_eq!(entries.len() as u64, eocd.entries);
            let mut spans: Vec<(u64, u64)> = entries
                .iter()
                .map(|e| {
                    let start = e.local_offset;
                    (start, start + 30 + e.name.len() as u64 + e.compressed)
                })
                .collect();
            spans.sort_unstable();
            for pair in spans.windows(2) {
                assert!(pair[0].1 <= pair[1].0, "overlap accepted: {pair:?}");
            }
            assert!(spans.last().is_none_or(|s| s.1 <= eocd.cd_offset));
            for (i, start, stop) in selected_spans(&entries, eocd.cd_offset, &select) {
                assert_eq!(start, entries[i].local_offset);
                assert!(start <= stop && stop <= eocd.cd_offset, "{start}..{stop}");
            }
        });
}

/// A partial fetch reads the archive's last bytes first and finds the end record there; the
/// extractor may read it from the whole archive. Both must find the same record: a tail window
/// that reads another end record than the whole archive is how a fetcher and an extractor come
/// to disagree about the central directory. Unchanged archives carry no comment, so a window of
/// 22 bytes or more always finds it.
#[test]
fn fuzz_partial_tail() {
    bolero::check!()
        .with_type::<TailShape>()
        .with_test_time(TIME_BOX)
        .for_each(|shape| {
            let (bytes, changed) = shape.bytes();
            let total = bytes.len() as u64;
            let from_tail = find_eocd(shape.tail(&bytes), total);
            let from_whole = find_eocd(&bytes, total);
            if !changed {
                assert!(from_tail.is_ok(), "{:?}", from_tail.err());
            }
            if let (Ok(tail), Ok(whole)) = (&from_tail, &from_whole) {
                assert_eq!(tail, whole, "the tail and the whole archive disagree");
            }
        });
}

/// The central directory of an unchanged archive says what was built.
#[track_caller]
fn assert_reads_as_built(
    archive: &ArchiveShape,
    entries: &[artifetch::extract::central::CentralEntry],
    bytes: &[u8],
) {
    assert_eq!(entries.len(), archive.entries.len());
    for (e, shape) in entries.iter().zip(&archive.entries) {
        let data = shape.data();
        let name = String::from_utf8_lossy(&e.name);
        assert_eq!(name, shape.stored_name(), "{e:?}");
        assert_eq!(e.uncompressed, data.len() as u64, "{name}");
        assert_eq!(e.crc32, crc32(&data), "{name}");
        let at = e.local_offset as usize;
        assert_eq!(bytes.get(at..at + 4), Some(&b"PK\x03\x04"[..]), "{name}");
    }
}
