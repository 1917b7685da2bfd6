//! Rekor transparency-log proofs: the signed entry timestamp (SET, a promise of inclusion at
//! `integratedTime`), the Merkle inclusion proof (RFC 9162) and its signed checkpoint, and the
//! binding of the logged body to the envelope being verified.

use super::b64;
use super::bundle::{InclusionProof, TlogEntry};
use super::crypto::{PublicKey, sha256};
use util::hex;

/// Verifies the SET: the log's signature over the canonical JSON of body, time, log id and index.
pub(super) fn verify_set(entry: &TlogEntry, key: &PublicKey) -> Result<(), String> {
    let promise = entry
        .inclusion_promise
        .as_ref()
        .ok_or("the log entry has no signed entry timestamp")?;
    // Canonical JSON (RFC 8785): keys sorted, no spaces; every value here is a string or integer.
    let canonical = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        b64::encode(&entry.canonicalized_body),
        entry.integrated_time,
        hex(&entry.log_id.key_id),
        entry.log_index
    );
    if key.verify(canonical.as_bytes(), &promise.signed_entry_timestamp) {
        Ok(())
    } else {
        Err("the signed entry timestamp does not verify with the log's key".into())
    }
}

/// Verifies the Merkle inclusion proof of the entry's body and the checkpoint that signs its root.
pub(super) fn verify_inclusion(
    entry: &TlogEntry,
    key: &PublicKey,
    base_url: &str,
) -> Result<(), String> {
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or("the log entry has no inclusion proof")?;
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&entry.canonicalized_body);
    let root = root_from_proof(proof, sha256(&leaf))
        .ok_or("the inclusion proof does not lead to a root (bad index, size or path)")?;
    if root.as_slice() != proof.root_hash {
        return Err("the inclusion proof does not match its root hash".into());
    }
    let checkpoint = proof
        .checkpoint
        .as_ref()
        .ok_or("the inclusion proof has no signed checkpoint")?;
    verify_checkpoint(
        &checkpoint.envelope,
        key,
        proof,
        &entry.log_id.key_id,
        base_url,
    )
}

/// RFC 9162 section 2.1.3.2.
fn root_from_proof(proof: &InclusionProof, leaf_hash: [u8; 32]) -> Option<[u8; 32]> {
    let (index, size) = (
        u64::try_from(proof.log_index).ok()?,
        u64::try_from(proof.tree_size).ok()?,
    );
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf_hash;
    let node = |l: &[u8], r: &[u8]| {
        let mut buf = Vec::with_capacity(65);
        buf.push(1u8);
        buf.extend_from_slice(l);
        buf.extend_from_slice(r);
        sha256(&buf)
    };
    for p in &proof.hashes {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// A checkpoint is a signed note: `origin\nsize\nbase64 root\n[other lines]\n\n— name sig\n`.
/// The log's own line must be there: signed by its name (Rekor v1: the origin before ` - treeID`;
/// Rekor v2: the origin, which is the log's host), with its key hint (the log id's first four
/// bytes) and its key. Witnesses' cosignatures may follow in any order and are not needed.
fn verify_checkpoint(
    note: &str,
    key: &PublicKey,
    proof: &InclusionProof,
    log_id: &[u8],
    base_url: &str,
) -> Result<(), String> {
    let (text, sigs) = note
        .split_once("\n\n")
        .ok_or("the checkpoint is not a signed note")?;
    let origin = text.lines().next().unwrap_or_default();
    let name = log_name(origin, base_url)?;
    let hint = log_id.get(..4).ok_or("the log id is too short")?;
    let signed = format!("{text}\n");
    let verified = sigs
        .lines()
        .filter_map(|l| l.strip_prefix("\u{2014} "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(signer, _)| *signer == name)
        .filter_map(|(_, sig)| b64::decode(sig).ok())
        .any(|s| s.len() > 4 && &s[..4] == hint && key.verify(signed.as_bytes(), &s[4..]));
    if !verified {
        return Err(format!(
            "the checkpoint has no signature by the log {name} with its key"
        ));
    }
    let mut lines = text.lines().skip(1);
    let size = lines.next().and_then(|l| l.parse::<i64>().ok());
    let root = lines.next().and_then(|l| b64::decode(l).ok());
    if size != Some(proof.tree_size) || root.as_deref() != Some(&proof.root_hash[..]) {
        return Err("the checkpoint names another tree than the inclusion proof".into());
    }
    Ok(())
}

/// The name the log signs its checkpoints with: Rekor v1's origin is `name - treeID`; Rekor v2's
/// is the host of the log's URL in the trusted root, as sigstore-go requires.
fn log_name<'a>(origin: &'a str, base_url: &str) -> Result<&'a str, String> {
    if let Some((name, tree)) = origin.split_once(" - ")
        && !tree.is_empty()
        && tree.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(name);
    }
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    if origin.is_empty() || origin != host {
        return Err(format!(
            "the checkpoint's origin {origin:?} is not the log's host {host:?}"
        ));
    }
    Ok(origin)
}
