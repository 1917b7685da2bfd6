//! What the producer pinned, parsed from the inputs and compared: the archive digests
//! (`expected-digest`), and the extracted files (`expected-files-digest`, `expected-files`).
//!
//! The server's `digest` only says the bytes arrived as stored; a re-upload under the same name
//! or a poisoned run changes it too. A pin comes from the producing job itself (upload-artifact's
//! `artifact-digest` output, `artifetch manifest` over the uploaded directory), so a difference
//! means the artifact is not the one it made. Files are compared in staging, before anything
//! moves into the destination.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::inputs::{Name, RawInputs, input};
use crate::manifest::{Kind, Manifest, unescape_path};
use crate::util::hex;

/// Everything the consumer was told to expect, parsed from the inputs.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    /// `expected-digest`: the archives' SHA-256.
    pub digest: Option<PerArtifact>,
    /// `expected-files-digest`: the `files-digest` of each artifact's extracted files.
    pub files_digest: Option<PerArtifact>,
    /// `expected-files`: one artifact's file list.
    pub files: Option<ExpectedFiles>,
}

impl Pins {
    /// The pin inputs; `@path` values of `expected-files` are read relative to `workspace`.
    pub fn parse(raw: &RawInputs, workspace: &Path) -> Result<Pins> {
        let per_artifact = |input: Name| {
            raw.get(input)
                .map(|v| PerArtifact::parse(input.as_str(), v))
                .transpose()
        };
        let files = match raw.get(input!("expected-files")) {
            None => None,
            Some(v) => {
                match v.strip_prefix('@') {
                    Some(file) => {
                        let file = file.trim();
                        let text = crate::extract::user_file::confined(workspace, file)
                            .and_then(|path| crate::extract::user_file::read_user_file(&path))
                            .with_context(|| format!("expected-files: cannot read @{file}"))?;
                        // Its text is never echoed: a file may hold what was never meant
                        // for the log.
                        let input = format!("expected-files: @{file}");
                        Some(ExpectedFiles::parse_quiet(&input, &text)?)
                    }
                    None => Some(ExpectedFiles::parse("expected-files", v)?),
                }
            }
        };
        Ok(Pins {
            digest: per_artifact(input!("expected-digest"))?,
            files_digest: per_artifact(input!("expected-files-digest"))?,
            files,
        })
    }

    /// Whether the extracted files are pinned (and so must be extracted to be compared).
    pub fn pins_files(&self) -> bool {
        self.files_digest.is_some() || self.files.is_some()
    }

    /// Checks the pins against the planned artifacts before anything is downloaded; returns
    /// warnings for pins naming no selected artifact.
    pub fn check_selection(&self, selected: &[&str]) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        for (input, pin) in [
            ("expected-digest", &self.digest),
            ("expected-files-digest", &self.files_digest),
        ] {
            if let Some(pin) = pin {
                for name in pin.check_covers(input, selected)? {
                    warnings.push(format!(
                        "{input}: '{name}' is pinned but not selected; its line is unused"
                    ));
                }
            }
        }
        if self.files.is_some() && selected.len() != 1 {
            bail!(
                "expected-files: it lists one artifact's files but the selection has {} artifacts ({}); pin several with expected-files-digest NAME=DIGEST lines",
                selected.len(),
                selected.join(", ")
            );
        }
        Ok(warnings)
    }

    /// Compares an artifact's extracted files (still in staging) with its pins. Returns how many
    /// files were checked, `None` when nothing pins them.
    pub fn check_files(&self, name: &str, actual: &Manifest) -> Result<Option<usize>> {
        let digest = self
            .files_digest
            .as_ref()
            .and_then(|p| p.for_artifact(name));
        if digest.is_none() && self.files.is_none() {
            return Ok(None);
        }
        let found = actual.files_digest();
        let digest_differs = digest.is_some_and(|d| format!("sha256:{d}") != found);
        let listed = self
            .files
            .as_ref()
            .map(|f| f.differences(actual))
            .unwrap_or_default();
        if !digest_differs && listed.is_empty() {
            return Ok(Some(actual.file_count()));
        }
        let mut msg = format!("artifact '{name}': its files are not the ones the producer made");
        if let Some(d) = digest.filter(|_| digest_differs) {
            msg.push_str(&format!(
                "; expected-files-digest pins {}, the extracted files give {}",
                short(d),
                short(found.trim_start_matches("sha256:"))
            ));
        }
        if listed.is_empty() {
            if self.files.is_none() {
                msg.push_str(
                    " (pass the producer's manifest as expected-files to list the differences)",
                );
            }
        } else {
            msg.push_str(&format!(
                "; {} {} from expected-files: {}",
                listed.len(),
                if listed.len() == 1 {
                    "difference"
                } else {
                    "differences"
                },
                listed
                    .iter()
                    .take(LISTED)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            if listed.len() > LISTED {
                msg.push_str(&format!("; and {} more", listed.len() - LISTED));
            }
        }
        msg.push_str("; nothing was moved into the destination");
        bail!("{msg}")
    }
}

/// A SHA-256 as 64 lowercase hex digits, from `<hex>` or `sha256:<hex>` in any case.
pub(crate) fn parse_sha256(value: &str) -> Option<String> {
    let v = value.trim();
    let hex = match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("sha256:") => &v[7..],
        _ => v,
    };
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// `sha256:1a2b3c4d5e6f…9a0b`: enough to tell two digests apart in an error line.
pub(crate) fn short(hex: &str) -> String {
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

/// What `expected-files` says about one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A regular file; a `sha256sum` line gives no size or mode.
    File {
        size: Option<u64>,
        sha256: String,
        executable: Option<bool>,
    },
    /// A symlink, by the length and SHA-256 of its target.
    Symlink {
        size: u64,
        sha256: String,
    },
    Dir,
}

/// The producer's file list (`expected-files`): manifest lines as `artifetch manifest` prints
/// them, or `sha256sum` lines (which cannot describe empty directories or modes, so those are
/// then not compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFiles {
    pub entries: BTreeMap<Vec<u8>, Expected>,
    /// Only `sha256sum` lines were given.
    pub files_only: bool,
}

/// How many differences an error lists before giving only a count.
const LISTED: usize = 20;

impl ExpectedFiles {
    pub fn parse(input: &str, text: &str) -> Result<ExpectedFiles> {
        Self::parse_showing(input, text, true)
    }

    /// [`Self::parse`], its errors naming lines by number only, never by their text.
    pub fn parse_quiet(input: &str, text: &str) -> Result<ExpectedFiles> {
        Self::parse_showing(input, text, false)
    }

    fn parse_showing(input: &str, text: &str, show: bool) -> Result<ExpectedFiles> {
        let mut entries = BTreeMap::new();
        let mut files_only = true;
        for (i, line) in text.lines().enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = match line.as_bytes() {
                [b'f' | b'l' | b'd', b' ', ..] => {
                    files_only = false;
                    manifest_line(line)
                }
                _ => sha256sum_line(line),
            };
            let shown = if show {
                format!(" '{line}'")
            } else {
                String::new()
            };
            let Some((path, expected)) = parsed else {
                bail!(
                    "{input}: line {}{shown} is neither a sha256sum line ('<64 hex digits>  <path>') nor a manifest line as `artifetch manifest` prints it ('f x <size> <sha256> <path>')",
                    i + 1
                );
            };
            if entries.insert(path.clone(), expected).is_some() {
                if !show {
                    bail!("{input}: line {} lists a path listed before", i + 1);
                }
                bail!(
                    "{input}: '{}' is listed twice",
                    crate::manifest::escape_path(&path)
                );
            }
        }
        if entries.is_empty() {
            bail!("{input}: no files listed; expected sha256sum or manifest lines");
        }
        Ok(ExpectedFiles {
            entries,
            files_only,
        })
    }

    /// Every way `actual` differs from the list, in path order.
    pub fn differences(&self, actual: &Manifest) -> Vec<String> {
        let have: BTreeMap<&[u8], &Kind> = actual
            .entries
            .iter()
            .map(|e| (e.path.as_slice(), &e.kind))
            .collect();
        let mut paths: Vec<&[u8]> = self.entries.keys().map(Vec::as_slice).collect();
        paths.extend(have.keys().copied());
        paths.sort();
        paths.dedup();
        let mut out = Vec::new();
        for path in paths {
            let shown = crate::manifest::escape_path(path);
            match (self.entries.get(path), have.get(path)) {
                (Some(want), None) => out.push(format!("missing {shown}{}", what(want))),
                (None, Some(Kind::Dir)) if self.files_only => {}
                (None, Some(kind)) => out.push(format!("extra {shown}{}", found(kind))),
                (Some(want), Some(kind)) => {
                    if let Some(d) = compare(want, kind) {
                        out.push(format!("{d} {shown}"));
                    }
                }
                (None, None) => {}
            }
        }
        out
    }
}

fn what(e: &Expected) -> &'static str {
    match e {
        Expected::File { .. } => "",
        Expected::Symlink { .. } => " (a symlink)",
        Expected::Dir => " (an empty directory)",
    }
}

fn found(k: &Kind) -> &'static str {
    match k {
        Kind::File { .. } => "",
        Kind::Symlink { .. } => " (a symlink)",
        Kind::Dir => " (an empty directory)",
    }
}

/// How one entry differs, as the start of a difference line.
fn compare(want: &Expected, have: &Kind) -> Option<String> {
    match (want, have) {
        (
            Expected::File {
                size,
                sha256,
                executable,
            },
            Kind::File {
                size: s,
                sha256: h,
                executable: x,
            },
        ) => {
            if let Some(size) = size
                && size != s
            {
                return Some(format!("size ({size} bytes expected, {s} found):"));
            }
            if sha256 != h {
                return Some(format!(
                    "content ({} expected, {} found):",
                    short(sha256),
                    short(h)
                ));
            }
            if let Some(executable) = executable
                && executable != x
            {
                let says = |e: bool| if e { "executable" } else { "not executable" };
                return Some(format!(
                    "mode ({} expected, {} found):",
                    says(*executable),
                    says(*x)
                ));
            }
            None
        }
        (Expected::Symlink { size, sha256 }, Kind::Symlink { target }) => {
            let (s, h) = (target.len() as u64, hex(&Sha256::digest(target)));
            (*size != s || *sha256 != h).then(|| "symlink target:".to_string())
        }
        (Expected::Dir, Kind::Dir) => None,
        (want, have) => Some(format!(
            "type ({} expected, {} found):",
            match want {
                Expected::File { .. } => "file",
                Expected::Symlink { .. } => "symlink",
                Expected::Dir => "empty directory",
            },
            match have {
                Kind::File { .. } => "file",
                Kind::Symlink { .. } => "symlink",
                Kind::Dir => "empty directory",
            }
        )),
    }
}

/// `f x 12 <hex> path`, `l - 8 <hex> path`, `d - 0 - path`.
fn manifest_line(line: &str) -> Option<(Vec<u8>, Expected)> {
    let mut f = line.splitn(5, ' ');
    let (kind, mode, size, sha, path) = (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
    let path = clean_path(unescape_path(path)?)?;
    let size: u64 = size.parse().ok()?;
    let expected = match (kind, mode) {
        ("f", "x" | "-") => Expected::File {
            size: Some(size),
            sha256: hex64(sha)?,
            executable: Some(mode == "x"),
        },
        ("l", "-") => Expected::Symlink {
            size,
            sha256: hex64(sha)?,
        },
        ("d", "-") if size == 0 && sha == "-" => Expected::Dir,
        _ => return None,
    };
    Some((path, expected))
}

/// `<hex>  path` or `<hex> *path`; a leading `\` marks an escaped path (GNU coreutils).
fn sha256sum_line(line: &str) -> Option<(Vec<u8>, Expected)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let sha = hex64(line.get(..64)?)?;
    let rest = line.get(64..)?;
    let path = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    let path = if escaped {
        unescape_path(path)?
    } else {
        path.as_bytes().to_vec()
    };
    Some((
        clean_path(path)?,
        Expected::File {
            size: None,
            sha256: sha,
            executable: None,
        },
    ))
}

fn hex64(s: &str) -> Option<String> {
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// `./a/b` (as `find . | sha256sum` writes it) is `a/b`; empty, absolute or `..` paths are refused.
fn clean_path(mut path: Vec<u8>) -> Option<Vec<u8>> {
    while path.starts_with(b"./") {
        path.drain(..2);
    }
    let bad = path.is_empty()
        || path.starts_with(b"/")
        || path
            .split(|b| *b == b'/')
            .any(|c| c.is_empty() || c == b".." || c == b".");
    (!bad).then_some(path)
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
