//! Input names artifetch does not read: dawidd6/action-download-artifact's (refused, naming
//! what to write instead) and any other `INPUT_*` variable (a warning naming the nearest input).

use anyhow::{Result, bail};

use super::{INPUTS, Input};

/// dawidd6/action-download-artifact's underscore input names. The runner silently drops an
/// input an action does not declare, so a step copied from there would quietly fetch from the
/// current run; `action.yml` declares these (deprecated) and passes them as `LEGACY_INPUT_<NAME>`,
/// and a given one is refused with the name artifetch reads (their meanings differ in places:
/// `name_is_regexp` takes a regex where `pattern` takes a glob).
pub const LEGACY: &[(&str, &str)] = &[
    ("github_token", "github-token"),
    ("repo", "repository"),
    ("run_id", "run-id"),
    ("run_number", "run-number"),
    ("workflow_conclusion", "workflow-conclusion"),
    ("workflow_search", ""),
    ("name_is_regexp", "pattern"),
    ("search_artifacts", "search-artifacts"),
    ("check_artifacts", "search-artifacts"),
    ("skip_unpack", "skip-decompress"),
    ("if_no_artifact_found", "if-no-artifact-found"),
    ("allow_forks", "allow-forks"),
    ("dry_run", "dry-run"),
    ("merge_multiple", "merge-multiple"),
    ("use_unzip", ""),
];

/// What to write instead of a dawidd6 input: `repo: artifetch reads `repository``.
fn legacy_advice(old: &str, new: &str) -> String {
    match new {
        "" => format!("{old}: artifetch has no use for it; remove it"),
        new => format!("{old}: artifetch reads `{new}`"),
    }
}

/// The dawidd6-style inputs that were given (through action.yml's `LEGACY_INPUT_*`), all in one
/// error naming what to write instead.
pub(super) fn refuse_legacy(env: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let given: Vec<String> = LEGACY
        .iter()
        .filter(|(old, _)| {
            env(&format!("LEGACY_INPUT_{}", old.to_uppercase()))
                .is_some_and(|v| !v.trim().is_empty())
        })
        .map(|(old, new)| legacy_advice(old, new))
        .collect();
    refuse_dawidd6(&given)
}

/// One error naming every dawidd6 input given (`advice`: what to write instead of each).
fn refuse_dawidd6(advice: &[String]) -> Result<()> {
    if advice.is_empty() {
        return Ok(());
    }
    bail!(
        "dawidd6/action-download-artifact's input names, which artifetch does not read (see README, migrating from dawidd6): {}",
        advice.join("; ")
    )
}

/// The input an `INPUT_<NAME>` variable names, in either spelling (`RUN-ID`, `RUN_ID`).
fn input_of_variable(suffix: &str) -> Option<&'static Input> {
    let wanted = suffix.to_lowercase().replace('_', "-");
    INPUTS.iter().find(|i| i.name == wanted)
}

/// Inputs `action.yml` reads for the install step only; the binary leaves them alone.
const INSTALL_ONLY: &[&str] = &["BINARY_URL", "BINARY-URL"];

/// The `INPUT_*` variables set (`names`, values read from `env`) that no input reads: a warning
/// each naming the nearest input, or, for dawidd6's names (`INPUT_REPO`), one error naming every
/// one and what artifetch reads instead, since the step would otherwise quietly fetch from the
/// defaults. Empty variables are ignored (the runner sets declared, unset inputs empty).
pub fn check_input_variables(
    names: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    let mut legacy = Vec::new();
    let mut warnings = Vec::new();
    for name in names {
        let Some(suffix) = name.strip_prefix("INPUT_") else {
            continue;
        };
        let given = env(name).is_some_and(|v| !v.trim().is_empty());
        if !given || input_of_variable(suffix).is_some() || INSTALL_ONLY.contains(&suffix) {
            continue;
        }
        let lower = suffix.to_lowercase();
        if let Some((old, new)) = LEGACY.iter().find(|(old, _)| *old == lower) {
            legacy.push(format!("{name} ({})", legacy_advice(old, new)));
            continue;
        }
        let names: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
        let near = crate::util::nearest(&lower.replace('_', "-"), &names)
            .map(|n| format!("; did you mean {n} (INPUT_{})?", n.to_uppercase()))
            .unwrap_or_else(|| " (see --help for the inputs)".into());
        warnings.push(format!(
            "{name} is set, but no input of that name exists: ignored{near}"
        ));
    }
    refuse_dawidd6(&legacy)?;
    Ok(warnings)
}
