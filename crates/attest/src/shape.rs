//! Bundle-level rules, checked before any cryptography: which media-type version, what each
//! version must carry, and how much a bundle may hold (every entry and token costs signature
//! checks, so a hostile bundle must not buy thousands of them).

use std::collections::HashSet;

use super::bundle::Bundle;

pub const MAX_TLOG_ENTRIES: usize = 32;
pub const MAX_TIMESTAMPS: usize = 32;
pub const MAX_SUBJECTS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Version {
    V0_1,
    V0_2,
    V0_3,
}

/// The media types of bundle versions 0.1 to 0.3, both spellings; 0.4 and later are refused
/// (their rules are not known here).
fn version(media_type: &str) -> Option<Version> {
    match media_type {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(Version::V0_1),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(Version::V0_2),
        "application/vnd.dev.sigstore.bundle+json;version=0.3"
        | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some(Version::V0_3),
        _ => None,
    }
}

/// The bundle's version, once its shape satisfies that version's rules and the limits.
pub(super) fn check(bundle: &Bundle) -> Result<Version, String> {
    let v = version(&bundle.media_type)
        .ok_or_else(|| format!("unsupported media type {:?}", bundle.media_type))?;
    let vm = &bundle.verification_material;
    let stamps = vm
        .timestamp_verification_data
        .as_ref()
        .map_or(0, |t| t.rfc3161_timestamps.len());
    if vm.tlog_entries.len() > MAX_TLOG_ENTRIES {
        return Err(format!(
            "{} transparency-log entries, more than the limit of {MAX_TLOG_ENTRIES}",
            vm.tlog_entries.len()
        ));
    }
    if stamps > MAX_TIMESTAMPS {
        return Err(format!(
            "{stamps} RFC 3161 timestamps, more than the limit of {MAX_TIMESTAMPS}"
        ));
    }
    let mut seen = HashSet::new();
    for entry in &vm.tlog_entries {
        if !seen.insert((&entry.log_id.key_id, entry.log_index)) {
            return Err(format!(
                "the log entry at index {} appears twice (duplicate entry)",
                entry.log_index
            ));
        }
        if v == Version::V0_1 && entry.inclusion_promise.is_none() {
            return Err("a v0.1 bundle's log entry needs a signed entry timestamp".into());
        }
        if v >= Version::V0_2 && entry.inclusion_proof.is_none() {
            return Err(
                "a v0.2 or later bundle's log entry needs an inclusion proof (a signed entry timestamp alone is not enough)"
                    .into(),
            );
        }
    }
    if v == Version::V0_3 && vm.x509_certificate_chain.is_some() {
        return Err("a v0.3 bundle carries one certificate, not a certificate chain".into());
    }
    Ok(v)
}
