//! The Sigstore conformance suite's log-proof cases (tests/data/sigstore-conformance/log-proofs:
//! inclusion proofs and checkpoints, Rekor v1 and v2). Their bundles sign a bare message, which
//! an attestation is not, so the transparency-log entry alone is checked here: each must verify
//! (inclusion proof, checkpoint signed by the log that the root names) unless its name ends in
//! `_fail`.

use std::path::Path;

use super::bundle::Bundle;
use super::crypto::PublicKey;
use super::*;

fn check_entries(case: &Path) -> Result<(), String> {
    let bundle = Bundle::parse(&std::fs::read(case.join("bundle.sigstore.json")).unwrap())
        .map_err(|e| e.to_string())?;
    let root_file = case.join("trusted_root.json");
    let root = if root_file.is_file() {
        TrustedRoot::parse(&std::fs::read_to_string(root_file).unwrap()).unwrap()
    } else {
        TrustedRoot::embedded()
    };
    for entry in &bundle.verification_material.tlog_entries {
        let log = root
            .log(&entry.log_id.key_id)
            .ok_or("log not in the root")?;
        let key = PublicKey::from_spki_der(&log.public_key.raw_bytes)?;
        rekor::verify_inclusion(entry, &key, &log.base_url)?;
    }
    Ok(())
}

#[test]
fn every_log_proof_case_gives_the_suites_answer() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/sigstore-conformance/log-proofs");
    let mut cases: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 17, "{cases:?}");
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let name = case.file_name()?.to_str()?.to_string();
            let result = check_entries(case);
            (result.is_ok() == name.ends_with("_fail")).then(|| format!("{name}: {result:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
