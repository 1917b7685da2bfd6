//! How one input's value is read: booleans, choices, numbers, counts, sizes, paths; each error
//! names the input and says what was expected.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::inputs::choices::Choice;
use crate::inputs::{Input, Name, RawInputs, lookup};

/// Booleans exactly as `@actions/core` getBooleanInput accepts them.
pub(super) fn boolean(raw: &RawInputs, name: Name) -> Result<bool> {
    match raw.get(name) {
        None => Ok(false),
        Some("true" | "True" | "TRUE") => Ok(true),
        Some("false" | "False" | "FALSE") => Ok(false),
        Some(other) => bail!("{name}: '{other}' is not a boolean; expected true or false"),
    }
}

/// One of the input's choices (the words of its row in the table, each standing for a `T`);
/// when not given, the table's default. The error lists the default first.
pub(super) fn choice<T: Choice>(raw: &RawInputs, name: Name) -> Result<T> {
    let value = raw.value(name);
    T::CHOICES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(value))
        .map(|(_, v)| *v)
        .with_context(|| {
            let words = lookup(name.as_str()).map_or_else(Vec::new, Input::choices_default_first);
            format!("{name}: '{value}' is not one of {}", words.join(", "))
        })
}

pub(super) fn parse_size(value: &str) -> Result<u64> {
    parse_size_of("max-size", value)
}

/// A size input (`name`): a number with an optional unit.
pub(super) fn parse_size_of(name: &str, value: &str) -> Result<u64> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => 0,
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .with_context(|| format!("{name}: '{value}' is not a size; expected a number with an optional unit, e.g. 500MiB or 20GiB"))
}

/// A number of `unit` (fractions allowed) within `range`, or 0 when `zero_is_off`. Infinities,
/// NaN and values past the range are refused here: later they would overflow a `Duration`.
pub(super) fn number(
    raw: &RawInputs,
    name: Name,
    unit: &str,
    range: RangeInclusive<f64>,
    zero_is_off: bool,
) -> Result<f64> {
    let value = raw.value(name);
    value
        .parse::<f64>()
        .ok()
        .filter(|n| range.contains(n) || (zero_is_off && *n == 0.0))
        .with_context(|| {
            format!(
                "{name}: '{value}' is not a number of {unit} between {} and {}{}",
                range.start(),
                range.end(),
                if zero_is_off {
                    ", or 0 for no bound"
                } else {
                    ""
                }
            )
        })
}

/// The hidden `ARTIFETCH_TIME_SCALE` (tests shrink every wait with it): a positive factor in a
/// range where every scaled wait still fits a `Duration`.
pub(super) fn time_scale(value: Option<String>) -> Result<f64> {
    let Some(value) = value else {
        return Ok(1.0);
    };
    value
        .parse::<f64>()
        .ok()
        .filter(|n| (0.0001..=100.0).contains(n))
        .with_context(|| {
            format!(
                "ARTIFETCH_TIME_SCALE: '{value}' is not a time scale; expected a number from 0.0001 to 100 (1: real time)"
            )
        })
}

/// A whole number of at least 1 (`max-files`, `max-ratio`).
/// A whole number of at least 1; the table's default when not given.
pub(super) fn count(raw: &RawInputs, name: Name) -> Result<u64> {
    let value = raw.value(name);
    value
        .replace('_', "")
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= 1)
        .with_context(|| format!("{name}: '{value}' is not a whole number of at least 1"))
}

pub(super) fn parse_concurrency(value: &str) -> Result<usize> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=32).contains(n))
        .with_context(|| format!("concurrency: '{value}' is not between 1 and 32"))
}

/// `~` and `~/x` expand to the home directory; relative paths are taken from the current one.
pub(super) fn expand_path(
    value: &str,
    home: Option<&str>,
    cwd: &Path,
    name: &str,
) -> Result<PathBuf> {
    let expanded = if value == "~" || value.starts_with("~/") || value.starts_with("~\\") {
        let home =
            home.with_context(|| format!("{name}: '{value}' starts with ~ but HOME is not set"))?;
        PathBuf::from(home).join(value[1..].trim_start_matches(['/', '\\']))
    } else {
        PathBuf::from(value)
    };
    if value.contains('\0') {
        bail!("{name}: contains a NUL byte");
    }
    Ok(if expanded.is_absolute() {
        expanded
    } else {
        cwd.join(expanded)
    })
}
