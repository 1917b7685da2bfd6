//! The blob origin: short-lived signed download URLs (Azure-SAS-like on the
//! separate blob listener; pipelines-service-like on the API host in GHES
//! mode) and the handler that serves artifact bytes with `Range` support.
//! Like Azure, it refuses any request that carries `Authorization`.

use crate::http::{Body, Request, Response};
use crate::shared::Shared;
use crate::state::{State, StoredArtifact};
use crate::util::{Query, base64, iso_7frac, now_unix, parse_rfc3339, pct_encode, sha256_hex};
use sha2::{Digest, Sha256};

/// Prefix of GHES pipelines download paths (served by the API listener).
pub(crate) const PIPELINES_PREFIX: &str = "/_services/pipelines/";

/// A fresh signed URL for downloading `a` (dotcom: blob origin; GHES: API host).
pub(crate) fn signed_url(sh: &Shared, a: &StoredArtifact) -> String {
    let expires = now_unix() + sh.opts.sas_ttl_secs;
    if sh.opts.ghes && !sh.opts.ghes_external_storage {
        return pipelines_url(sh, a, expires);
    }
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let random = &sha256_hex(format!("{}{}{nonce}", sh.secret, a.id).as_bytes())[..32];
    let ext = if is_zip_type(&a.content_type) {
        ".zip"
    } else {
        ""
    };
    let path = format!("/blob/{}/{random}{ext}", a.id);
    let sig = sas_signature(sh, &path, expires);
    format!("{}{path}?se={expires}&sp=r&sig={sig}", sh.blob_origin)
}

fn is_zip_type(ct: &str) -> bool {
    matches!(
        ct,
        "application/zip" | "application/x-zip-compressed" | "application/zip-compressed"
    )
}

fn sas_signature(sh: &Shared, path: &str, expires: i64) -> String {
    sha256_hex(format!("{}\n{path}\n{expires}", sh.secret).as_bytes())
}

fn pipelines_signature(sh: &Shared, path: &str, name: &str, expires: &str) -> String {
    let mac = Sha256::digest(format!("{}\n{path}\n{name}\n{expires}", sh.secret).as_bytes());
    base64(&mac)
}

fn pipelines_url(sh: &Shared, a: &StoredArtifact, expires: i64) -> String {
    let path = format!(
        "{PIPELINES_PREFIX}{}/_apis/pipelines/1/runs/{}/signedartifactscontent",
        sh.pipelines_token, a.run_id
    );
    let exp = iso_7frac(expires);
    let sig = pipelines_signature(sh, &path, &a.spec_name, &exp);
    format!(
        "{}{path}?artifactName={}&urlExpires={}&urlSigningMethod=HMACV1&urlSignature={}",
        sh.server_url,
        pct_encode(&a.spec_name),
        pct_encode(&exp),
        pct_encode(&sig)
    )
}

/// Azure-style XML error.
fn azure_error(status: u16, code: &str, message: &str, detail: Option<&str>) -> Response {
    let detail = detail
        .map(|d| format!("<AuthenticationErrorDetail>{d}</AuthenticationErrorDetail>"))
        .unwrap_or_default();
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:{}</Message>{detail}</Error>",
        crate::util::rfc3339(now_unix())
    );
    Response::new(status)
        .header("Content-Type", "application/xml")
        .header("Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0")
        .header("x-ms-error-code", code)
        .body(body)
}

const AUTH_FAILED: &str = "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.";

/// Serves a blob request (either URL form).
pub(crate) fn handle(sh: &Shared, st: &State, req: &Request) -> Response {
    if req.header("authorization").is_some() {
        return azure_error(403, "AuthenticationFailed", AUTH_FAILED, None);
    }
    if req.method != "GET" && req.method != "HEAD" {
        return azure_error(
            405,
            "UnsupportedHttpVerb",
            "The resource doesn't support specified Http Verb.",
            None,
        );
    }
    if let Some(n) = req.path.strip_prefix(ATTESTATIONS_PREFIX) {
        let bundle = n
            .strip_suffix(".json.sn")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| st.attestations.get(n))
            .filter(|a| a.by_url);
        return match bundle {
            Some(a) => Response::new(200)
                .header("Content-Type", "application/octet-stream")
                .body(snappy_literals(a.bundle.as_bytes())),
            None => blob_not_found(),
        };
    }
    let q = Query::parse(&req.query);
    let found = if req.path.starts_with(PIPELINES_PREFIX) {
        authorize_pipelines(sh, st, &req.path, &q)
    } else {
        authorize_sas(sh, st, &req.path, &q)
    };
    match found {
        Ok(a) => serve(sh, a, req.header("range")),
        Err(resp) => resp,
    }
}

fn auth_error(detail: &str) -> Response {
    azure_error(403, "AuthenticationFailed", AUTH_FAILED, Some(detail))
}

fn blob_not_found() -> Response {
    azure_error(
        404,
        "BlobNotFound",
        "The specified blob does not exist.",
        None,
    )
}

fn check_expiry(expires: i64) -> Result<(), Response> {
    let now = now_unix();
    if expires < now {
        return Err(auth_error(&format!(
            "Signature not valid in the specified time frame: Start [] - Expiry [{}] - Current [{}]",
            crate::util::rfc3339(expires),
            crate::util::rfc3339(now)
        )));
    }
    Ok(())
}

fn authorize_sas<'s>(
    sh: &Shared,
    st: &'s State,
    path: &str,
    q: &Query,
) -> Result<&'s StoredArtifact, Response> {
    let segs: Vec<&str> = path.split('/').collect();
    let id = match segs.as_slice() {
        ["", "blob", id, _file] => id.parse::<u64>().map_err(|_| blob_not_found())?,
        _ => return Err(blob_not_found()),
    };
    let (Some(se), Some(sig)) = (q.get("se"), q.get("sig")) else {
        return Err(auth_error("Signature fields not well formed."));
    };
    let expires = se
        .parse::<i64>()
        .map_err(|_| auth_error("Signed expiry time is not well formed."))?;
    if sig != sas_signature(sh, path, expires) {
        return Err(auth_error("Signature did not match."));
    }
    check_expiry(expires)?;
    st.artifact(id).ok_or_else(blob_not_found)
}

fn authorize_pipelines<'s>(
    sh: &Shared,
    st: &'s State,
    path: &str,
    q: &Query,
) -> Result<&'s StoredArtifact, Response> {
    let run_id = path
        .strip_suffix("/signedartifactscontent")
        .and_then(|p| p.rsplit('/').next())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(blob_not_found)?;
    let (Some(name), Some(exp), Some(sig)) = (
        q.get("artifactName"),
        q.get("urlExpires"),
        q.get("urlSignature"),
    ) else {
        return Err(auth_error("Signature fields not well formed."));
    };
    if q.get("urlSigningMethod").as_deref() != Some("HMACV1")
        || sig != pipelines_signature(sh, path, &name, &exp)
    {
        return Err(auth_error("Signature did not match."));
    }
    let expires =
        parse_rfc3339(&exp).ok_or_else(|| auth_error("urlExpires is not well formed."))?;
    check_expiry(expires)?;
    st.artifacts
        .iter()
        .filter(|a| !a.deleted && a.run_id == run_id && a.spec_name == name)
        .max_by_key(|a| a.id)
        .ok_or_else(blob_not_found)
}

/// A parsed `Range` header against a body length.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeReq {
    Full,
    /// Inclusive byte range.
    Part(usize, usize),
    Unsatisfiable,
}

/// Single `bytes=` ranges only (`N-`, `N-M`, `-S`); anything else means "whole body".
pub(crate) fn parse_range(header: Option<&str>, len: usize) -> RangeReq {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeReq::Full;
    };
    if spec.contains(',') {
        return RangeReq::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeReq::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return match b.parse::<usize>() {
            Ok(0) => RangeReq::Unsatisfiable,
            Ok(_) if len == 0 => RangeReq::Unsatisfiable,
            Ok(s) => RangeReq::Part(len.saturating_sub(s), len - 1),
            Err(_) => RangeReq::Full,
        };
    }
    let Ok(start) = a.parse::<usize>() else {
        return RangeReq::Full;
    };
    let end = match b {
        "" => usize::MAX,
        _ => match b.parse::<usize>() {
            Ok(e) if e >= start => e,
            _ => return RangeReq::Full,
        },
    };
    if start >= len {
        return RangeReq::Unsatisfiable;
    }
    RangeReq::Part(start, end.min(len - 1))
}

fn serve(sh: &Shared, a: &StoredArtifact, range: Option<&str>) -> Response {
    let len = a.body.len();
    let range = if sh.opts.range_support {
        parse_range(range, len)
    } else {
        RangeReq::Full
    };
    let mut r = match range {
        RangeReq::Full => Response::new(200),
        RangeReq::Part(s, e) => {
            Response::new(206).header("Content-Range", format!("bytes {s}-{e}/{len}"))
        }
        RangeReq::Unsatisfiable => {
            return azure_error(
                416,
                "InvalidRange",
                "The range specified is invalid for the current size of the resource.",
                None,
            )
            .header("Content-Range", format!("bytes */{len}"));
        }
    };
    let (start, end) = match range {
        RangeReq::Part(s, e) => (s, e + 1),
        _ => (0, len),
    };
    r = r
        .header("Content-Type", a.content_type.clone())
        .header("Content-Disposition", a.disposition.clone())
        .header("ETag", format!("\"0x8DC{:012X}\"", a.id))
        .header("Last-Modified", "Mon, 01 Jan 2024 12:00:00 GMT")
        .header("Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0")
        .header("x-ms-version", "2024-05-04")
        .header("x-ms-blob-type", "BlockBlob");
    if sh.opts.range_support {
        r = r.header("Accept-Ranges", "bytes");
    }
    r.body = Body::Shared {
        data: a.body.clone(),
        start,
        end,
    };
    r
}

/// Where `bundle_url`s point on the blob origin.
pub(crate) const ATTESTATIONS_PREFIX: &str = "/attestations/";

/// Raw snappy (the block format, as GitHub's `.json.sn` bundles): the length as a varint, then
/// literal runs of at most 65536 bytes. Valid snappy, just not compressed.
pub(crate) fn snappy_literals(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    let mut n = data.len() as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    for chunk in data.chunks(65536) {
        let len = chunk.len() - 1;
        out.push(61 << 2);
        out.extend_from_slice(&(len as u16).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=2-"), 10), RangeReq::Part(2, 9));
        assert_eq!(parse_range(Some("bytes=2-4"), 10), RangeReq::Part(2, 4));
        assert_eq!(parse_range(Some("bytes=2-400"), 10), RangeReq::Part(2, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeReq::Part(7, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeReq::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeReq::Full);
        assert_eq!(parse_range(Some("bytes=x-"), 10), RangeReq::Full);
    }
}
