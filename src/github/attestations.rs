//! The Sigstore bundles attesting a digest ([`Endpoint::attestations`]). A bundle comes inline,
//! or behind a `bundle_url` on a storage host, fetched without the token and
//! raw-snappy-compressed there (`.json.sn`).

use anyhow::{Context, Result, bail};
use reqwest::Method;
use reqwest::Url;

use super::body::{Capped, MAX_JSON, read_capped};
use super::endpoints::Endpoint;
use super::model::AttestationPage;
use super::{Blob, GitHub, http_status, without_query};

/// Most pages of attestations read for one digest (100 a page).
const MAX_PAGES: usize = 10;
/// A bundle is a few KiB; anything far larger is not one.
const MAX_BUNDLE: usize = 4 << 20;

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
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let (page, link): (AttestationPage, Option<Url>) = match self.get_page(url).await {
                Ok(p) => p,
                Err(e) if http_status(&e) == Some(404) => break,
                Err(e) => return Err(e),
            };
            for entry in page.attestations {
                match (entry.bundle, entry.bundle_url) {
                    (Some(b), _) if !b.is_null() => bundles.push(serde_json::to_vec(&b)?),
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
                blob.get(&url, 0, None).await?
            };
            let status = response.status();
            if status.is_success() {
                // A bundle is a few KiB; an endless answer is cut at the JSON bound.
                let bytes = match read_capped(response, MAX_JSON)
                    .await
                    .with_context(|| format!("reading {shown}"))?
                {
                    Capped::All(bytes) => bytes,
                    Capped::Over => bail!(
                        "the attestation bundle at {shown} is larger than {} MiB; refusing it",
                        MAX_JSON >> 20
                    ),
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

/// Plain JSON, or raw snappy around it.
fn decode_bundle(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.first() == Some(&b'{') {
        return Ok(bytes.to_vec());
    }
    snappy_decode(bytes).context("neither JSON nor raw snappy")
}

/// The snappy block format (literals and back-references), bounded by [`MAX_BUNDLE`].
fn snappy_decode(src: &[u8]) -> Result<Vec<u8>> {
    let (mut len, mut shift, mut i) = (0usize, 0u32, 0usize);
    loop {
        let b = *src.get(i).context("truncated length")?;
        i += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            bail!("length too long");
        }
    }
    if len > MAX_BUNDLE {
        bail!("{len} bytes, more than a bundle can be");
    }
    let mut out = Vec::with_capacity(len);
    let byte = |i: usize| src.get(i).copied().context("truncated");
    while i < src.len() {
        let tag = src[i];
        i += 1;
        let (offset, n) = match tag & 3 {
            0 => {
                let mut n = usize::from(tag >> 2);
                if n >= 60 {
                    let extra = n - 59;
                    n = 0;
                    for k in 0..extra {
                        n |= usize::from(byte(i + k)?) << (8 * k);
                    }
                    i += extra;
                }
                let n = n + 1;
                let lit = src.get(i..i + n).context("truncated literal")?;
                out.extend_from_slice(lit);
                i += n;
                continue;
            }
            1 => {
                let off = (usize::from(tag >> 5) << 8) | usize::from(byte(i)?);
                i += 1;
                (off, usize::from((tag >> 2) & 7) + 4)
            }
            2 => {
                let off = usize::from(u16::from_le_bytes([byte(i)?, byte(i + 1)?]));
                i += 2;
                (off, usize::from(tag >> 2) + 1)
            }
            _ => {
                let off = u32::from_le_bytes([byte(i)?, byte(i + 1)?, byte(i + 2)?, byte(i + 3)?]);
                i += 4;
                (off as usize, usize::from(tag >> 2) + 1)
            }
        };
        if offset == 0 || offset > out.len() {
            bail!("bad back-reference");
        }
        for _ in 0..n {
            out.push(out[out.len() - offset]);
        }
        if out.len() > len {
            bail!("longer than declared");
        }
    }
    if out.len() != len {
        bail!("{} bytes, {len} declared", out.len());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snappy_literals_and_copies_decode() {
        // "abcabcabc": literal "abc", then a 1-byte-offset copy of 6 bytes at offset 3.
        let src = [9u8, 2 << 2, b'a', b'b', b'c', ((6 - 4) << 2) | 1, 3];
        assert_eq!(snappy_decode(&src).unwrap(), b"abcabcabc");
        assert!(snappy_decode(&[9u8, 2 << 2, b'a']).is_err());
        assert_eq!(decode_bundle(b"{}").unwrap(), b"{}");
    }
}
