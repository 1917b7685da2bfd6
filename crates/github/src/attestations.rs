//! The Sigstore bundles attesting a digest ([`Endpoint::attestations`]). A bundle comes inline,
//! or behind a `bundle_url` on a storage host, fetched without the token and
//! raw-snappy-compressed there (`.json.sn`).

use anyhow::{Context, Result, bail};
use reqwest::Method;
use reqwest::Url;

use super::body::{Capped, read_capped};
use super::endpoints::Endpoint;
use super::error::http_status;
use super::model::AttestationPage;
use super::{Blob, GitHub, without_query};

/// Most attestations considered for one digest: each costs signature checks, and a digest with
/// more is not one a build made (one page of 100).
pub const MAX_ATTESTATIONS: usize = 100;
/// A bundle is a few KiB; anything larger than this, inline or behind `bundle_url` (plain or
/// once decompressed), is not one and is not read further.
pub const MAX_BUNDLE: usize = 8 << 20;

impl GitHub {
    /// Every bundle (JSON bytes) listed for `sha256`; none when the API answers 404.
    pub async fn attestations(
        &self,
        blob: &Blob,
        owner: &str,
        repo: &str,
        sha256: &str,
    ) -> Result<Vec<Vec<u8>>> {
        let url = self.url(&Endpoint::attestations(owner, repo, sha256))?;
        let mut bundles = Vec::new();
        let mut next = Some(url);
        while bundles.len() < MAX_ATTESTATIONS {
            let Some(url) = next.take() else { break };
            let (page, link): (AttestationPage, Option<Url>) = match self.get_page(url).await {
                Ok(p) => p,
                Err(e) if http_status(&e) == Some(404) => break,
                Err(e) => return Err(e),
            };
            for entry in page.attestations {
                if bundles.len() == MAX_ATTESTATIONS {
                    break;
                }
                match (entry.bundle, entry.bundle_url) {
                    (Some(b), _) if !b.is_null() => bundles.push(inline_bundle(&b)?),
                    (_, Some(u)) => bundles.push(self.fetch_bundle(blob, &u).await?),
                    _ => {}
                }
            }
            next = link;
        }
        Ok(bundles)
    }

    /// A `bundle_url`: with the token on the API's own origin, without it anywhere else.
    async fn fetch_bundle(&self, blob: &Blob, url: &str) -> Result<Vec<u8>> {
        let url = Url::parse(url).with_context(|| format!("malformed bundle_url {url:?}"))?;
        let shown = without_query(&url);
        let mut last = None;
        for attempt in 0..3 {
            if attempt > 0 {
                tokio::time::sleep(self.backoff().delay(attempt)).await;
            }
            let response = if self.same_origin(&url) {
                self.send(Method::GET, url.clone()).await?
            } else {
                blob.get(&url, 0, None).await?.into_response()
            };
            let status = response.status();
            if status.is_success() {
                let read = read_capped(response, MAX_BUNDLE)
                    .await
                    .with_context(|| format!("reading {shown}"))?;
                let Capped::All(bytes) = read else {
                    bail!("attestation bundle at {shown}: {}", too_large());
                };
                return decode_bundle(&bytes)
                    .with_context(|| format!("attestation bundle at {shown}"));
            }
            last = Some(status.as_u16());
            if !status.is_server_error() && status.as_u16() != 429 {
                break;
            }
        }
        bail!("GET {shown}: HTTP {}", last.unwrap_or(0))
    }
}

fn too_large() -> String {
    format!(
        "larger than {} MiB, more than a bundle can be",
        MAX_BUNDLE >> 20
    )
}

/// An inline bundle, as the JSON the verifier reads, within the same bound as a fetched one.
fn inline_bundle(bundle: &serde_json::Value) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(bundle)?;
    if json.len() > MAX_BUNDLE {
        bail!("an inline attestation bundle is {}", too_large());
    }
    Ok(json)
}

/// Plain JSON, or raw snappy around it. The declared length is checked before decompressing, so
/// a few bytes cannot claim gigabytes. `snap` (the Rust port of Google's snappy, no dependencies)
/// rather than a hand-written decoder: these are foreign bytes.
fn decode_bundle(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.first() == Some(&b'{') {
        return Ok(bytes.to_vec());
    }
    let len = snap::raw::decompress_len(bytes).context("neither JSON nor raw snappy")?;
    if len > MAX_BUNDLE {
        bail!("{len} bytes once decompressed: {}", too_large());
    }
    snap::raw::Decoder::new()
        .decompress_vec(bytes)
        .context("neither JSON nor raw snappy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snappy_literals_and_copies_decode() {
        // "abcabcabc": literal "abc", then a 1-byte-offset copy of 6 bytes at offset 3.
        let src = [9u8, 2 << 2, b'a', b'b', b'c', ((6 - 4) << 2) | 1, 3];
        assert_eq!(decode_bundle(&src).unwrap(), b"abcabcabc");
        assert!(decode_bundle(&[9u8, 2 << 2, b'a']).is_err());
        assert_eq!(decode_bundle(b"{}").unwrap(), b"{}");
    }

    #[test]
    fn a_snappy_length_past_the_bound_is_refused_before_decompressing() {
        // Varint 9 MiB, then nothing: the declared length alone is refused.
        let mut src = Vec::new();
        let mut n = 9usize << 20;
        while n >= 0x80 {
            src.push((n as u8) | 0x80);
            n >>= 7;
        }
        src.push(n as u8);
        let err = decode_bundle(&src).unwrap_err().to_string();
        assert!(err.contains("larger than 8 MiB"), "{err}");
    }

    /// Any bytes behind `bundle_url`: `decode_bundle` never panics, and what it returns is the
    /// JSON as given or exactly the declared length of snappy, within the bundle bound.
    #[test]
    fn fuzz_decode_bundle_stays_within_the_bound() {
        bolero::check!()
            .with_test_time(std::time::Duration::from_secs(2))
            .for_each(|bytes: &[u8]| match decode_bundle(bytes) {
                Ok(out) if bytes.first() == Some(&b'{') => assert_eq!(out, bytes),
                Ok(out) => {
                    assert!(out.len() <= MAX_BUNDLE);
                    assert_eq!(Some(out.len()), snap::raw::decompress_len(bytes).ok());
                }
                Err(_) => {}
            });
    }

    /// Whatever snappy compresses comes back as it was. Compressed data of exactly 123 bytes
    /// starts with the varint 0x7b, `{`, and is taken as JSON: no real bundle is that short.
    #[test]
    fn fuzz_snappy_round_trips() {
        bolero::check!()
            .with_test_time(std::time::Duration::from_secs(2))
            .for_each(|data: &[u8]| {
                let packed = snap::raw::Encoder::new().compress_vec(data).unwrap();
                if data.len() != 123 {
                    assert_eq!(decode_bundle(&packed).unwrap(), data);
                }
            });
    }
}
