//! Fuzz targets for everything that parses server or archive data. Under `cargo test` (and so in
//! `.ci/run`) each target replays its committed corpus (`tests/__fuzz__/<target without fuzz_>/corpus`), then
//! runs random inputs for a few seconds; `cargo bolero test fuzz_zip_extraction` (cargo-bolero,
//! with AFL or libFuzzer) runs the same target coverage-guided for as long as you like.
//!
//! bolero is a dev-dependency only: it adds nothing to the binary. Each target states what must
//! hold for every input, not only "no panic".

use std::path::Path;
use std::time::Duration;

use artifetch::attest::{self, SLSA_PROVENANCE_V1, TrustedRoot, cms, tsa};
use artifetch::extract::central::{find_eocd, parse_central, selected_spans};
use artifetch::extract::{Limits, extract_zip};
use artifetch::github::model::ArtifactList;
use artifetch::github::{content_disposition, content_range, pages};
use artifetch::pattern::PathGlobs;

/// Random inputs per target after the corpus: a time box, so CI stays fast on 2 cores.
const TIME_BOX: Duration = Duration::from_secs(3);

#[test]
fn fuzz_content_disposition() {
    bolero::check!()
        .with_test_time(TIME_BOX)
        .for_each(|bytes: &[u8]| {
            let header = String::from_utf8_lossy(bytes);
            if let Some(name) = content_disposition::file_name(&header) {
                assert!(!name.is_empty());
                assert!(!name.contains(['/', '\\']), "{name:?} from {header:?}");
            }
        });
}

#[test]
fn fuzz_content_range() {
    bolero::check!()
        .with_test_time(TIME_BOX)
        .for_each(|bytes: &[u8]| {
            let value = String::from_utf8_lossy(bytes);
            if let Some(r) = content_range::parse(&value) {
                assert!(r.start <= r.end, "{r:?} from {value:?}");
                assert!(r.total.is_none_or(|t| r.end < t), "{r:?} from {value:?}");
            }
        });
}

#[test]
fn fuzz_link_header() {
    bolero::check!()
        .with_test_time(TIME_BOX)
        .for_each(|bytes: &[u8]| {
            let header = String::from_utf8_lossy(bytes);
            if let Some(next) = pages::next_link(&header) {
                assert!(
                    header.contains(&format!("<{next}>")),
                    "{next:?} from {header:?}"
                );
            }
        });
}

#[test]
fn fuzz_artifact_list_json() {
    bolero::check!()
        .with_test_time(TIME_BOX)
        .for_each(|bytes: &[u8]| {
            if let Ok(list) = serde_json::from_slice::<ArtifactList>(bytes) {
                for a in &list.artifacts {
                    // Reading the digest of any artifact the server describes never panics.
                    let _ = a.published_digest();
                }
            }
        });
}

/// Any bytes as an RFC 3161 timestamp (a bundle's `signedTimestamp`): the parser returns only
/// slices of its input, and no bytes prove a time against the embedded roots without a real
/// authority's signature (the corpus holds real tokens from GitHub and Sigstore staging).
#[test]
fn fuzz_timestamp_token() {
    let root = TrustedRoot::embedded();
    let within = |part: &[u8], whole: &[u8]| {
        let (p, w) = (part.as_ptr() as usize, whole.as_ptr() as usize);
        w <= p && p + part.len() <= w + whole.len()
    };
    bolero::check!()
        .with_test_time(TIME_BOX)
        .for_each(|bytes: &[u8]| {
            if let Ok(token) = cms::parse(bytes) {
                assert!(within(token.tst_info_der, bytes));
                assert!(within(token.imprint, bytes));
                assert!(within(token.signer.signature, bytes));
                assert!(token.certificates.iter().all(|c| within(c, bytes)));
                assert_eq!(token.signer.signed_attrs.first(), Some(&0x31));
            }
            let github = root.github.as_deref().unwrap();
            assert!(tsa::verify(bytes, b"a fuzzed signature", github).is_err());
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

/// Any bytes as an archive: extraction either refuses or writes only inside staging, and never
/// panics. The parent directory holds a marker that must be all it ever holds beside staging.
#[test]
fn fuzz_zip_extraction() {
    let limits = Limits {
        max_total_bytes: 1 << 20,
        max_files: 1_000,
        max_ratio: 500,
        allow_git_paths: false,
    };
    bolero::check!()
        .with_test_time(TIME_BOX)
        .with_max_len(64 * 1024)
        .for_each(|bytes: &[u8]| {
            let dir = tempfile::tempdir().unwrap();
            let archive = dir.path().join("a.zip");
            std::fs::write(&archive, bytes).unwrap();
            let staging = dir.path().join("staging");
            std::fs::create_dir(&staging).unwrap();
            let _ = extract_zip(&archive, &staging, &limits);
            let mut beside: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            beside.sort();
            assert_eq!(beside, ["a.zip", "staging"], "written outside staging");
            assert_no_link_out(&staging, &staging);
        });
}

/// Any bytes as a whole archive, parsed the way a partial fetch parses what it fetched by range:
/// whatever is accepted points only inside the archive, before its central directory, with no
/// two entries' records overlapping, and every span to fetch lies within it.
#[test]
fn fuzz_central_directory() {
    let select = PathGlobs::parse("**").unwrap().unwrap();
    bolero::check!()
        .with_test_time(TIME_BOX)
        .with_max_len(64 * 1024)
        .for_each(|bytes: &[u8]| {
            let total = bytes.len() as u64;
            let Ok(eocd) = find_eocd(bytes, total) else {
                return;
            };
            let end = eocd.cd_offset + eocd.cd_size;
            assert!(end <= total, "{eocd:?} past {total}");
            let cd = &bytes[eocd.cd_offset as usize..end as usize];
            let Ok(entries) = parse_central(cd, &eocd) else {
                return;
            };
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

/// Every symlink extraction left resolves inside `root`.
fn assert_no_link_out(root: &Path, dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            assert!(
                target.is_relative(),
                "{} -> {}",
                path.display(),
                target.display()
            );
            let mut depth = path
                .parent()
                .unwrap()
                .strip_prefix(root)
                .unwrap()
                .components()
                .count() as i64;
            for c in target.components() {
                match c {
                    std::path::Component::ParentDir => depth -= 1,
                    std::path::Component::Normal(_) => depth += 1,
                    _ => {}
                }
                assert!(
                    depth >= 0,
                    "{} -> {} leaves staging",
                    path.display(),
                    target.display()
                );
            }
        } else if meta.is_dir() {
            assert_no_link_out(root, &path);
        }
    }
}
