//! Which artifacts of the run: `name`, `pattern` or `artifact-ids` (else all), and `shard`.

use anyhow::{Context, Result, bail};

use crate::inputs::{RawInputs, input};
use crate::pattern::Pattern;

/// Which artifacts of the run to take.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Name(String),
    Pattern(Pattern),
    Ids(Vec<u64>),
}

impl Selection {
    /// `name 'dist'`, `pattern 'pkg-*'`, `artifact-ids 1,2`, `all artifacts`.
    pub fn describe(&self) -> String {
        match self {
            Selection::All => "all artifacts".into(),
            Selection::Name(n) => format!("name '{n}'"),
            Selection::Pattern(p) => format!("pattern '{}'", p.as_str()),
            Selection::Ids(ids) => format!(
                "artifact-ids {}",
                ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
            ),
        }
    }

    /// Does the selection want an artifact of this name and id (expiry aside)? The one place
    /// that says so, for the plan and for the run search alike.
    pub fn matches(&self, name: &str, id: u64) -> bool {
        match self {
            Selection::All => true,
            Selection::Name(n) => n == name,
            Selection::Pattern(p) => p.matches(name),
            Selection::Ids(ids) => ids.contains(&id),
        }
    }
}

/// `shard: i/n`. An artifact belongs to shard `fnv1a(name) % n + 1`: its shard depends on its
/// name alone, so jobs that list the run at different moments (an artifact expired or added in
/// between) still agree on every other artifact, which a round robin over the sorted list would
/// not. FNV-1a rather than the std hasher: the std hasher's output may change between Rust
/// releases, and shards must agree across versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shard {
    /// 1-based.
    pub(crate) index: u64,
    pub(crate) count: u64,
}

impl Shard {
    pub(crate) fn takes(&self, name: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % self.count + 1 == self.index
    }

    pub(super) fn parse(value: &str) -> Result<Shard> {
        let bad = || {
            format!(
                "shard: '{value}' is not i/n; expected this job's share as two positive integers with i at most n, like 2/4"
            )
        };
        let (i, n) = value.split_once('/').with_context(bad)?;
        let index = i.trim().parse::<u64>().ok().with_context(bad)?;
        let count = n.trim().parse::<u64>().ok().with_context(bad)?;
        if index == 0 || count == 0 || index > count {
            bail!("{}", bad());
        }
        Ok(Shard { index, count })
    }
}

pub(super) fn selection(raw: &RawInputs) -> Result<Selection> {
    let name = raw.get(input!("name"));
    let pattern = raw.get(input!("pattern"));
    let ids = raw.get(input!("artifact-ids"));
    if name.is_some() && ids.is_some() {
        bail!("name and artifact-ids: give one or the other, not both");
    }
    if let Some(ids) = ids {
        let mut out = Vec::new();
        for part in ids.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let id = part
                .parse::<u64>()
                .ok()
                .filter(|&id| id > 0)
                .with_context(|| format!("artifact-ids: '{part}' is not an artifact id; expected comma-separated positive integers"))?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        if out.is_empty() {
            bail!("artifact-ids: no ids in '{ids}'; expected comma-separated positive integers");
        }
        if pattern.is_some() {
            bail!("pattern and artifact-ids: give one or the other, not both");
        }
        return Ok(Selection::Ids(out));
    }
    if let Some(name) = name {
        // The official action lets a name silently win over a pattern; one of them was a mistake.
        if pattern.is_some() {
            bail!("name and pattern: give one or the other, not both");
        }
        return Ok(Selection::Name(name.to_string()));
    }
    if let Some(p) = pattern {
        return Ok(Selection::Pattern(Pattern::new(p)?));
    }
    Ok(Selection::All)
}
