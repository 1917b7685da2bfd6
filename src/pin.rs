//! What the producer pinned: the archive digests (`expected-digest`) it handed over, parsed and
//! checked against the selection.
//!
//! The server's `digest` only says the bytes arrived as stored; a re-upload under the same name
//! or a poisoned run changes it too. A pin comes from the producing job itself (upload-artifact's
//! `artifact-digest` output), so a difference means the artifact is not the one it made.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

/// Everything the consumer was told to expect, parsed from the inputs.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    /// `expected-digest`: the archives' SHA-256.
    pub digest: Option<PerArtifact>,
}

impl Pins {
    /// `get` gives an input's value (trimmed, `None` when blank).
    pub fn parse<'a>(get: &dyn Fn(&str) -> Option<&'a str>) -> Result<Pins> {
        Ok(Pins {
            digest: get("expected-digest")
                .map(|v| PerArtifact::parse("expected-digest", v))
                .transpose()?,
        })
    }

    /// Checks the pins against the planned artifacts before anything is downloaded; returns
    /// warnings for pins naming no selected artifact.
    pub fn check_selection(&self, selected: &[&str]) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        if let Some(d) = &self.digest {
            for name in d.check_covers("expected-digest", selected)? {
                warnings.push(format!(
                    "expected-digest: '{name}' is pinned but not selected; its line is unused"
                ));
            }
        }
        Ok(warnings)
    }
}

/// A SHA-256 as 64 lowercase hex digits, from `<hex>` or `sha256:<hex>` in any case.
pub fn parse_sha256(value: &str) -> Option<String> {
    let v = value.trim();
    let hex = match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("sha256:") => &v[7..],
        _ => v,
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// `sha256:1a2b3c4d5e6f…9a0b`: enough to tell two digests apart in an error line.
pub fn short(hex: &str) -> String {
    if hex.len() <= 16 {
        return format!("sha256:{hex}");
    }
    format!("sha256:{}…{}", &hex[..12], &hex[hex.len() - 4..])
}

/// One digest for a single-artifact selection, or one per artifact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerArtifact {
    One(String),
    Named(BTreeMap<String, String>),
}

impl PerArtifact {
    /// Parses `input`'s value: a lone digest, or lines `NAME=DIGEST` / `NAME: DIGEST`.
    ///
    /// A line is read from its end (the digest), since artifact names may contain `=` and a
    /// digest may start with `sha256:`; blank lines and `#` comments are skipped.
    pub fn parse(input: &str, value: &str) -> Result<PerArtifact> {
        if let Some(hex) = parse_sha256(value) {
            return Ok(PerArtifact::One(hex));
        }
        let mut named = BTreeMap::new();
        for (i, line) in value.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, hex)) = split_named(line) else {
                bail!(
                    "{input}: line {} '{line}' is not NAME=DIGEST; expected one digest (64 hex digits, optionally prefixed sha256:) or lines like dist=sha256:<64 hex digits>",
                    i + 1
                );
            };
            if named.insert(name.to_string(), hex).is_some() {
                bail!("{input}: artifact '{name}' is pinned twice");
            }
        }
        if named.is_empty() {
            bail!("{input}: no digest given; expected 64 hex digits or NAME=DIGEST lines");
        }
        Ok(PerArtifact::Named(named))
    }

    /// The pinned digest for `name` (valid once [`PerArtifact::check_covers`] passed).
    pub fn for_artifact(&self, name: &str) -> Option<&str> {
        match self {
            PerArtifact::One(hex) => Some(hex),
            PerArtifact::Named(map) => map.get(name).map(String::as_str),
        }
    }

    /// Every selected artifact has a pin: a lone digest needs a selection of exactly one
    /// artifact, named lines need a line for each. Lines for artifacts not selected are returned
    /// (the caller warns: harmless, but likely a typo or a renamed artifact).
    pub fn check_covers(&self, input: &str, selected: &[&str]) -> Result<Vec<String>> {
        match self {
            PerArtifact::One(_) if selected.len() == 1 => Ok(Vec::new()),
            PerArtifact::One(_) => bail!(
                "{input}: one digest was given but the selection has {} artifacts ({}); give one NAME=DIGEST line per artifact",
                selected.len(),
                selected.join(", ")
            ),
            PerArtifact::Named(map) => {
                let lacking: Vec<&str> = selected
                    .iter()
                    .copied()
                    .filter(|n| !map.contains_key(*n))
                    .collect();
                if !lacking.is_empty() {
                    bail!(
                        "{input}: no digest pinned for {} {}; every selected artifact needs a NAME=DIGEST line (selected: {})",
                        if lacking.len() == 1 {
                            "artifact"
                        } else {
                            "artifacts"
                        },
                        lacking
                            .iter()
                            .map(|n| format!("'{n}'"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        selected.join(", ")
                    );
                }
                Ok(map
                    .keys()
                    .filter(|k| !selected.contains(&k.as_str()))
                    .cloned()
                    .collect())
            }
        }
    }
}

/// `NAME=DIGEST` or `NAME: DIGEST` -> (name, lowercase hex).
fn split_named(line: &str) -> Option<(&str, String)> {
    let hex_start = line.len().checked_sub(64)?;
    if !line.is_char_boundary(hex_start) {
        return None;
    }
    let hex = parse_sha256(&line[hex_start..])?;
    let mut rest = line[..hex_start].trim_end();
    if rest.len() >= 7
        && rest.is_char_boundary(rest.len() - 7)
        && rest[rest.len() - 7..].eq_ignore_ascii_case("sha256:")
    {
        rest = rest[..rest.len() - 7].trim_end();
    }
    let name = rest
        .strip_suffix('=')
        .or_else(|| rest.strip_suffix(':'))?
        .trim();
    (!name.is_empty()).then_some((name, hex))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b";
    const B: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00";

    #[test]
    fn a_lone_digest_in_any_spelling() {
        for v in [
            A.to_string(),
            A.to_uppercase(),
            format!("sha256:{A}"),
            format!("SHA256:{}", A.to_uppercase()),
            format!("  sha256:{A}\n"),
        ] {
            assert_eq!(
                PerArtifact::parse("expected-digest", &v).unwrap(),
                PerArtifact::One(A.into()),
                "{v}"
            );
        }
    }

    #[test]
    fn named_lines_with_equals_or_colon() {
        let v = format!("# from the build job\ndist={A}\n\nweird=name: SHA256:{B}\nlogs : {A}\n");
        let p = PerArtifact::parse("expected-digest", &v).unwrap();
        assert_eq!(p.for_artifact("dist"), Some(A));
        assert_eq!(p.for_artifact("weird=name"), Some(B));
        assert_eq!(p.for_artifact("logs"), Some(A));
        assert_eq!(p.for_artifact("other"), None);
    }

    #[test]
    fn bad_values_name_the_input_and_line() {
        let e = |v: &str| {
            format!(
                "{:#}",
                PerArtifact::parse("expected-digest", v).unwrap_err()
            )
        };
        assert!(e("abc").starts_with("expected-digest: line 1 'abc' is not NAME=DIGEST"));
        assert!(e(&format!("dist={A}\nlogs=sha256:12")).contains("line 2"));
        assert!(e(&format!("={A}")).contains("line 1"));
        assert!(e(&format!("dist {A}")).contains("line 1"));
        assert!(e(&format!("dist={A}\ndist={B}")).contains("'dist' is pinned twice"));
        assert!(e(&format!("md5:{}", &A[..32])).contains("not NAME=DIGEST"));
    }

    #[test]
    fn coverage_of_the_selection() {
        let one = PerArtifact::One(A.into());
        assert!(one.check_covers("expected-digest", &["dist"]).is_ok());
        let e = one
            .check_covers("expected-digest", &["a", "b"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("one digest was given but the selection has 2 artifacts (a, b)"));
        let named = PerArtifact::parse("expected-digest", &format!("a={A}\nzz={B}")).unwrap();
        assert_eq!(
            named.check_covers("expected-digest", &["a"]).unwrap(),
            vec!["zz".to_string()]
        );
        let e = named
            .check_covers("expected-digest", &["a", "b"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("expected-digest: no digest pinned for artifact 'b';"),
            "{e}"
        );
    }

    #[test]
    fn short_keeps_both_ends() {
        assert_eq!(short(A), "sha256:1a2b3c4d5e6f…1a2b");
    }
}
