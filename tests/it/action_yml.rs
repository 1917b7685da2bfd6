//! action.yml against the binary's own tables: `artifetch::inputs::INPUTS` and
//! `artifetch::report::OUTPUTS`. Add an input to the table and this test names what action.yml
//! (and the README) still lacks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use artifetch::inputs::{INPUTS, LEGACY};
use artifetch::report::OUTPUTS;
use serde_yaml_ng::{Mapping, Value};

/// Inputs the install step reads; the binary does not.
const INSTALL_ONLY: &[&str] = &["binary-url"];
/// Steps that run the binary (one per shell); each must map every input of the binary.
const RUN_STEPS: &[&str] = &["run", "run-windows"];
/// Steps that install the binary; each must map every install-only input.
const INSTALL_STEPS: &[&str] = &["install", "install-windows"];

/// Defaults the action computes from the `github` context; the binary reads the same values
/// from `GITHUB_*` when the input is empty.
fn context_default(name: &str) -> Option<&'static str> {
    match name {
        "github-token" => Some("${{ github.token }}"),
        "repository" => Some("${{ github.repository }}"),
        "run-id" => Some("${{ github.run_id }}"),
        _ => None,
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn action() -> Value {
    load(&root().join("action.yml"))
}

fn map<'a>(v: &'a Value, key: &str) -> &'a Mapping {
    v.get(key)
        .and_then(Value::as_mapping)
        .unwrap_or_else(|| panic!("action.yml: `{key}` is missing or not a mapping"))
}

/// A scalar as the runner sees it (YAML `false` and `'false'` are both the string "false").
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn str_map(m: &Mapping) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (scalar(k), scalar(v))).collect()
}

fn steps(action: &Value) -> Vec<&Mapping> {
    action
        .get("runs")
        .and_then(|r| r.get("steps"))
        .and_then(Value::as_sequence)
        .expect("action.yml: runs.steps")
        .iter()
        .map(|s| s.as_mapping().expect("a step is a mapping"))
        .collect()
}

fn step<'a>(action: &'a Value, id: &str) -> &'a Mapping {
    steps(action)
        .into_iter()
        .find(|s| s.get("id").map(scalar).as_deref() == Some(id))
        .unwrap_or_else(|| panic!("action.yml: no step with id `{id}`"))
}

fn env_of(step: &Mapping) -> BTreeMap<String, String> {
    step.get("env")
        .and_then(Value::as_mapping)
        .map(str_map)
        .unwrap_or_default()
}

/// The env keys the binary accepts for an input (see `inputs::parse`).
fn env_keys(name: &str) -> [String; 2] {
    let upper = name.to_uppercase();
    [
        format!("INPUT_{upper}"),
        format!("INPUT_{}", upper.replace('-', "_")),
    ]
}

fn mapped(env: &BTreeMap<String, String>, name: &str) -> bool {
    let want = format!("${{{{ inputs.{name} }}}}");
    env_keys(name)
        .iter()
        .any(|k| env.get(k).map(String::as_str) == Some(want.as_str()))
}

#[test]
fn metadata_is_complete_and_composite() {
    let a = action();
    for key in ["name", "description", "author"] {
        let v = a.get(key).map(scalar).unwrap_or_default();
        assert!(!v.trim().is_empty(), "action.yml: `{key}` is empty");
    }
    let branding = map(&a, "branding");
    assert!(branding.get("icon").is_some() && branding.get("color").is_some());
    assert_eq!(
        a.get("runs").and_then(|r| r.get("using")).map(scalar),
        Some("composite".to_string())
    );
}

#[test]
fn declares_exactly_the_binary_inputs_plus_install_only_ones() {
    let a = action();
    let declared: BTreeSet<String> = map(&a, "inputs").keys().map(scalar).collect();
    let mut expected: BTreeSet<String> = INPUTS.iter().map(|i| i.name.to_string()).collect();
    expected.extend(INSTALL_ONLY.iter().map(|s| s.to_string()));
    expected.extend(LEGACY.iter().map(|(old, _)| old.to_string()));
    let missing: Vec<_> = expected.difference(&declared).collect();
    let unread: Vec<_> = declared.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "inputs in src/inputs/table.rs INPUTS but not declared in action.yml: {missing:?}"
    );
    assert!(
        unread.is_empty(),
        "inputs declared in action.yml that the binary does not read (not in INPUTS): {unread:?}"
    );
}

#[test]
fn descriptions_and_defaults_match_the_binary() {
    let a = action();
    let inputs = map(&a, "inputs");
    let mut problems = Vec::new();
    for input in INPUTS {
        let Some(decl) = inputs.get(input.name) else {
            continue; // reported by declares_exactly_the_binary_inputs_plus_install_only_ones
        };
        let description = decl.get("description").map(scalar).unwrap_or_default();
        if description.trim() != input.help {
            problems.push(format!(
                "{}: description {description:?} differs from INPUTS help {:?}",
                input.name, input.help
            ));
        }
        let default = decl.get("default").map(scalar).unwrap_or_default();
        let want = context_default(input.name).unwrap_or(input.default);
        if default != want {
            problems.push(format!(
                "{}: default {default:?}, but the binary's default is {want:?}",
                input.name
            ));
        }
        if decl.get("required").map(scalar).as_deref() == Some("true") {
            problems.push(format!(
                "{}: required, but the binary has a default",
                input.name
            ));
        }
    }
    for name in INSTALL_ONLY {
        let decl = inputs.get(*name).expect("install-only input declared");
        let description = decl.get("description").map(scalar).unwrap_or_default();
        if description.trim().is_empty() {
            problems.push(format!("{name}: no description"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_input_is_mapped_into_env() {
    let a = action();
    let mut problems = Vec::new();
    for id in RUN_STEPS {
        let env = env_of(step(&a, id));
        for input in INPUTS {
            if !mapped(&env, input.name) {
                problems.push(format!(
                    "step `{id}`: input `{}` not mapped (want {}: ${{{{ inputs.{} }}}})",
                    input.name,
                    env_keys(input.name)[1],
                    input.name
                ));
            }
        }
    }
    for id in RUN_STEPS {
        let env = env_of(step(&a, id));
        for (old, _) in LEGACY {
            let key = format!("LEGACY_INPUT_{}", old.to_uppercase());
            if env.get(&key).map(String::as_str)
                != Some(format!("${{{{ inputs.{old} }}}}").as_str())
            {
                problems.push(format!(
                    "step `{id}`: legacy input `{old}` not mapped as {key}"
                ));
            }
        }
    }
    for id in INSTALL_STEPS {
        let env = env_of(step(&a, id));
        for name in INSTALL_ONLY {
            if !mapped(&env, name) {
                problems.push(format!("step `{id}`: input `{name}` not mapped"));
            }
        }
    }
    // And nothing maps an input that is not declared.
    let declared: BTreeSet<String> = map(&a, "inputs").keys().map(scalar).collect();
    for s in steps(&a) {
        for value in env_of(s).values() {
            for name in referenced(value, "inputs.") {
                if !declared.contains(&name) {
                    problems.push(format!("env refers to undeclared input `{name}`"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Names after `prefix` inside `${{ ... }}` expressions of `text`.
fn referenced(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").unwrap_or(after.len());
        let expr = &after[..end];
        let mut e = expr;
        while let Some(at) = e.find(prefix) {
            let boundary = at == 0
                || !e[..at]
                    .ends_with(|c: char| c.is_alphanumeric() || c == '.' || c == '_' || c == '-');
            let tail = &e[at + prefix.len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            if boundary && !name.is_empty() {
                out.push(name);
            }
            e = tail;
        }
        rest = &after[end..];
    }
    out
}

#[test]
fn no_input_is_interpolated_into_run_text() {
    let a = action();
    for s in steps(&a) {
        let Some(run) = s.get("run").map(scalar) else {
            continue;
        };
        let id = s.get("id").map(scalar).unwrap_or_default();
        assert!(
            referenced(&run, "inputs.").is_empty(),
            "step `{id}`: `${{{{ inputs.* }}}}` inside `run:` (script injection); pass it via env:\n{run}"
        );
        assert!(
            !run.contains("${{"),
            "step `{id}`: an expression inside `run:`; pass values via env:\n{run}"
        );
    }
}

#[test]
fn every_output_is_declared_and_wired_to_the_run_steps() {
    let a = action();
    let outputs = map(&a, "outputs");
    let declared: BTreeSet<String> = outputs.keys().map(scalar).collect();
    let expected: BTreeSet<String> = OUTPUTS.iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = expected.difference(&declared).collect();
    let extra: Vec<_> = declared.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "outputs of report::OUTPUTS not in action.yml: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "outputs in action.yml the binary never writes: {extra:?}"
    );
    let mut problems = Vec::new();
    for (name, help) in OUTPUTS {
        let decl = outputs.get(*name).expect("declared");
        let description = decl.get("description").map(scalar).unwrap_or_default();
        if description.trim() != *help {
            problems.push(format!(
                "{name}: description {description:?} differs from {help:?}"
            ));
        }
        let value = decl.get("value").map(scalar).unwrap_or_default();
        for id in RUN_STEPS {
            step(&a, id); // the step exists
            let wired = referenced(&value, "steps.")
                .iter()
                .any(|s| s == id) // the step id is the first segment after `steps.`
                && value.contains(&format!("steps.{id}.outputs.{name}"));
            if !wired {
                problems.push(format!(
                    "{name}: value {value:?} is not wired to steps.{id}.outputs.{name}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn install_steps_run_scripts_that_exist_and_feed_the_run_steps() {
    let a = action();
    for (install, run, script) in [
        ("install", "run", "scripts/install.sh"),
        ("install-windows", "run-windows", "scripts/install.ps1"),
    ] {
        let text = step(&a, install).get("run").map(scalar).unwrap_or_default();
        assert!(
            text.contains(script),
            "step `{install}` does not run {script}"
        );
        assert!(root().join(script).is_file(), "{script} is missing");
        let env = env_of(step(&a, run));
        assert_eq!(
            env.get("ARTIFETCH_BIN").map(String::as_str),
            Some(format!("${{{{ steps.{install}.outputs.path }}}}").as_str()),
            "step `{run}` must take the binary from step `{install}`"
        );
    }
}

#[test]
fn readme_tables_list_every_input_and_output() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut missing = Vec::new();
    let names = INPUTS
        .iter()
        .map(|i| i.name)
        .chain(INSTALL_ONLY.iter().copied())
        .chain(OUTPUTS.iter().map(|(n, _)| *n));
    for name in names {
        if !readme.contains(&format!("| `{name}` |")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "README.md has no table row for {missing:?}"
    );
}

#[test]
fn expression_scanner_finds_inputs() {
    assert_eq!(
        referenced("${{ inputs.run-id }}", "inputs."),
        vec!["run-id"]
    );
    assert_eq!(referenced("a ${{inputs.x}} b", "inputs."), vec!["x"]);
    assert!(referenced("echo $INPUTS.x ${{ github.inputs_x }}", "inputs.").is_empty());
}

#[test]
fn workflows_interpolate_no_input_into_run_text() {
    let dir = root().join(".github/workflows");
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let wf = load(&path);
        let Some(jobs) = wf.get("jobs").and_then(Value::as_mapping) else {
            problems.push(format!("{}: no jobs", path.display()));
            continue;
        };
        for (job, body) in jobs {
            let steps = body.get("steps").and_then(Value::as_sequence);
            for s in steps.into_iter().flatten() {
                let Some(run) = s.get("run").map(scalar) else {
                    continue;
                };
                if !referenced(&run, "inputs.").is_empty() {
                    problems.push(format!(
                        "{} job {}: `${{{{ inputs.* }}}}` inside `run:`",
                        path.display(),
                        scalar(job)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn dawidd6_spellings_are_declared_deprecated_with_the_name_to_use() {
    let a = action();
    let inputs = map(&a, "inputs");
    for (old, new) in LEGACY {
        let decl = inputs
            .get(*old)
            .unwrap_or_else(|| panic!("action.yml does not declare `{old}`"));
        let message = decl
            .get("deprecationMessage")
            .map(scalar)
            .unwrap_or_default();
        assert!(message.contains(old), "{old}: {message:?}");
        if !new.is_empty() {
            assert!(
                message.contains(new),
                "{old}: {message:?} should name {new}"
            );
            assert!(INPUTS.iter().any(|i| i.name == *new), "{new} is no input");
        }
    }
}
