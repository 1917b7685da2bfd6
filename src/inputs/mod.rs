//! The one table of inputs ([`INPUTS`], in `table.rs`): every option artifetch reads, with its
//! group, placeholder or choices, default and help text; what `--help` says besides (`help.rs`:
//! examples, exit codes, environment); the names it refuses or warns about (`legacy.rs`); and
//! the words of the inputs that take one of a few, beside their values (`choices.rs`).
//!
//! The same table drives the `INPUT_<NAME>` environment lookup, the command-line flags, `--help`,
//! and the check that `action.yml` declares exactly these inputs. Add an input here and nowhere
//! else needs a list of names.

use std::collections::BTreeMap;
use std::ffi::OsString;

use anyhow::{Context, Result, bail};

pub mod choices;
mod help;
mod legacy;
mod table;

pub use help::{ENVIRONMENT, EXAMPLES, EXIT_CODES, help};
pub use legacy::{LEGACY, check_input_variables};
pub use table::INPUTS;

/// What kind of value an input takes; booleans may be given as a bare flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
}

/// Where an input is listed in `--help`: what it is about. Every row of [`INPUTS`] names its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Selection,
    Source,
    Search,
    Destination,
    Safety,
    Timing,
    Step,
}

use Group::{Destination, Safety, Search, Selection, Source, Step, Timing};

impl Group {
    /// The groups in the order `--help` lists them.
    pub const ALL: [Group; 7] = [Selection, Source, Search, Destination, Safety, Timing, Step];

    /// The heading `--help` gives the group.
    pub fn heading(self) -> &'static str {
        match self {
            Selection => "SELECTION: which artifacts (default: every artifact of the run)",
            Source => "SOURCE: which repository and run, with which token",
            Search => "RUN SEARCH: find the run instead of naming it",
            Destination => "DESTINATION: where and how the files land",
            Safety => "SAFETY: digests, pins, attestations and bounds",
            Timing => "TIMING: waiting, stalls, parallelism and the API budget",
            Step => "STEP: dry run, job summary, clean-up",
        }
    }
}

/// One input of the action (and flag of the binary): the row owns its name, kind, `--help`
/// group and placeholder (or the words it accepts), default and help text.
#[derive(Debug)]
pub struct Input {
    pub name: &'static str,
    pub kind: Kind,
    pub group: Group,
    /// What the value looks like in `--help` (`<N>`, `<GLOB>`, ...); empty for a flag and for
    /// an input of [`Input::choices`] (its placeholder lists them).
    shape: &'static str,
    /// The words the input accepts, when it takes one of a few (`digest-mismatch`): written once,
    /// in [`choices`], beside the values they stand for.
    pub choices: &'static [&'static str],
    /// The default as the action declares it (empty: none, or computed at run time).
    pub default: &'static str,
    pub help: &'static str,
}

impl Input {
    /// What the value looks like in `--help`: `<N>`, or the choices, `<error|warn|info|ignore>`.
    pub fn placeholder(&self) -> String {
        match self.choices {
            [] => self.shape.to_string(),
            words => format!("<{}>", words.join("|")),
        }
    }

    /// The choices as an error lists them: the default first, then the others in order.
    pub fn choices_default_first(&self) -> Vec<&'static str> {
        let default = self.choices.iter().filter(|w| **w == self.default);
        let others = self.choices.iter().filter(|w| **w != self.default);
        default.chain(others).copied().collect()
    }
}

const fn text(
    group: Group,
    name: &'static str,
    placeholder: &'static str,
    default: &'static str,
    help: &'static str,
) -> Input {
    Input {
        name,
        kind: Kind::Text,
        group,
        shape: placeholder,
        choices: &[],
        default,
        help,
    }
}

/// An input that takes one of `choices` (the words of a [`choices::Choice`]).
const fn choice(
    group: Group,
    name: &'static str,
    choices: &'static [&'static str],
    default: &'static str,
    help: &'static str,
) -> Input {
    Input {
        choices,
        ..text(group, name, "", default, help)
    }
}

const fn flag(group: Group, name: &'static str, help: &'static str) -> Input {
    Input {
        kind: Kind::Bool,
        ..text(group, name, "", "false", help)
    }
}

/// An input's name, checked against [`INPUTS`] when the program is compiled: made only by
/// [`input!`], so a misspelt name is a compile error, not an input silently never read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Name(&'static str);

impl Name {
    /// `name` if the table has it; evaluated in a `const` (by [`input!`]), a miss fails the build.
    pub const fn checked(name: &'static str) -> Name {
        let mut i = 0;
        while i < INPUTS.len() {
            if same(INPUTS[i].name, name) {
                return Name(name);
            }
            i += 1;
        }
        panic!("not an input of the table in src/inputs/table.rs");
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `input!("max-size")`: the [`Name`] of an input of the table; a typo does not compile.
macro_rules! input {
    ($name:literal) => {{
        const NAME: $crate::inputs::Name = $crate::inputs::Name::checked($name);
        NAME
    }};
}
pub(crate) use input;

/// Raw input values by name: trimmed, empty ones dropped. Flags win over the environment.
#[derive(Debug, Default)]
pub struct RawInputs {
    values: BTreeMap<&'static str, String>,
    /// Inputs given with a blank value (most treat that as unset).
    empty: Vec<&'static str>,
}

/// What the command line asked for besides inputs.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(RawInputs),
    /// `artifetch manifest DIR`: print DIR's canonical manifest (the producer's side).
    Manifest(std::path::PathBuf),
    /// `artifetch attestation verify ...`: one bundle, offline (the arguments after `attestation`).
    Attestation(Vec<OsString>),
    Help,
    Version,
}

impl PartialEq for RawInputs {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}
impl Eq for RawInputs {}

impl RawInputs {
    /// Given, but blank: for inputs where an empty value means "off" rather than "default".
    pub fn given_empty(&self, name: Name) -> bool {
        self.empty.contains(&name.0)
    }

    /// The input's value, if it was given and is not blank.
    pub fn get(&self, name: Name) -> Option<&str> {
        self.values.get(name.0).map(String::as_str)
    }

    /// The input's value, else its default from [`INPUTS`] (the one place defaults are written;
    /// empty when the input has none).
    pub fn value(&self, name: Name) -> &str {
        self.get(name)
            .unwrap_or_else(|| lookup(name.0).map_or("", |i| i.default))
    }

    fn set(&mut self, input: &'static Input, value: &str) {
        let value = value.trim();
        self.empty.retain(|n| *n != input.name);
        if value.is_empty() {
            self.values.remove(input.name);
            self.empty.push(input.name);
        } else {
            self.values.insert(input.name, value.to_string());
        }
    }
}

pub(crate) fn lookup(name: &str) -> Option<&'static Input> {
    INPUTS.iter().find(|i| i.name == name)
}

/// Reads the command line (without the program name) and the `INPUT_*` variables from `env`.
pub fn parse(args: &[OsString], env: &dyn Fn(&str) -> Option<String>) -> Result<Command> {
    legacy::refuse_legacy(env)?;
    let mut raw = RawInputs::default();
    // Environment first (the Actions way), flags after so a person's flag overrides.
    for input in INPUTS {
        let upper = input.name.to_uppercase();
        let value = env(&format!("INPUT_{upper}"))
            .or_else(|| env(&format!("INPUT_{}", upper.replace('-', "_"))));
        if let Some(value) = value {
            raw.set(input, &value);
        }
    }

    if args.first().is_some_and(|a| a == "attestation") {
        return Ok(Command::Attestation(args[1..].to_vec()));
    }
    if args.first().is_some_and(|a| a == "manifest") {
        return match &args[1..] {
            [dir] if dir != "--help" && dir != "-h" => Ok(Command::Manifest(dir.into())),
            _ => bail!(
                "usage: artifetch manifest DIR (prints DIR's canonical manifest; its files-digest goes to stderr and the files-digest output)"
            ),
        };
    }
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .to_str()
            .with_context(|| format!("argument {arg:?} is not valid UTF-8"))?;
        match arg {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let Some(flag) = arg.strip_prefix("--") else {
            bail!("unexpected argument '{arg}'; expected --<input> <value> (see --help)");
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (flag, None),
        };
        let input = lookup(name).with_context(|| unknown_flag(name))?;
        let value = match (inline, input.kind) {
            (Some(value), _) => value.to_string(),
            (None, Kind::Bool) => {
                // Nothing but flags is read: a word after a switch is meant as its value.
                if let Some(word) = args.clone().next().and_then(|a| a.to_str())
                    && !word.starts_with("--")
                {
                    bail!(
                        "'--{name}' is a switch and takes no separate value, so '{word}' is not read as one: write --{name} or --{name}=true to turn it on, --{name}=false to turn it off"
                    );
                }
                "true".to_string()
            }
            (None, Kind::Text) => args
                .next()
                .and_then(|v| v.to_str())
                .with_context(|| format!("flag '--{name}' needs a value"))?
                .to_string(),
        };
        raw.set(input, &value);
    }
    Ok(Command::Run(raw))
}

/// `unknown flag '--nmae'; did you mean '--name'?`
fn unknown_flag(name: &str) -> String {
    let names: Vec<&str> = INPUTS.iter().map(|i| i.name).collect();
    match crate::util::nearest(&name.replace('_', "-"), &names) {
        Some(near) => format!("unknown flag '--{name}'; did you mean '--{near}'? (see --help)"),
        None => format!("unknown flag '--{name}' (see --help for the inputs)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Command> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&args, &|k| env.get(k).cloned())
    }

    fn raw(cmd: Command) -> RawInputs {
        match cmd {
            Command::Run(raw) => raw,
            other => panic!("expected Run, got {other:?}"),
        }
    }

    #[test]
    fn env_hyphen_and_underscore_spellings_are_read_and_trimmed() {
        let r = raw(parse_with(
            &[],
            &[("INPUT_RUN-ID", " 42 "), ("INPUT_GITHUB_TOKEN", "t")],
        )
        .unwrap());
        assert_eq!(r.get(input!("run-id")), Some("42"));
        assert_eq!(r.get(input!("github-token")), Some("t"));
    }

    #[test]
    fn blank_means_unset_and_flags_override_env() {
        let r = raw(parse_with(
            &["--name=b", "--dry-run"],
            &[("INPUT_NAME", "a"), ("INPUT_PATTERN", "  ")],
        )
        .unwrap());
        assert_eq!(r.get(input!("name")), Some("b"));
        assert_eq!(r.get(input!("pattern")), None);
        assert_eq!(r.get(input!("dry-run")), Some("true"));
    }

    #[test]
    fn text_flag_takes_next_argument() {
        let r = raw(parse_with(&["--run-id", "7", "--merge-multiple=false"], &[]).unwrap());
        assert_eq!(r.get(input!("run-id")), Some("7"));
        assert_eq!(r.get(input!("merge-multiple")), Some("false"));
    }

    #[test]
    fn unknown_flag_and_missing_value_are_errors() {
        let e = parse_with(&["--nope"], &[]).unwrap_err().to_string();
        assert!(e.contains("--nope"), "{e}");
        let e = parse_with(&["--run-id"], &[]).unwrap_err().to_string();
        assert!(e.contains("needs a value"), "{e}");
    }

    /// The `--<name>` lines of `--help`, by the group heading they stand under.
    fn help_sections() -> Vec<(String, Vec<String>)> {
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in help().lines() {
            if !line.is_empty() && !line.starts_with(' ') {
                sections.push((line.to_string(), Vec::new()));
            } else if let (Some(flag), Some(last)) =
                (line.strip_prefix("  --"), sections.last_mut())
            {
                last.1.push(flag.split(' ').next().unwrap().to_string());
            }
        }
        sections
    }

    #[test]
    fn help_lists_every_input_exactly_once_under_its_group() {
        assert_eq!(parse_with(&["--help"], &[]).unwrap(), Command::Help);
        let sections = help_sections();
        for input in INPUTS {
            let under: Vec<&str> = sections
                .iter()
                .filter(|(_, flags)| flags.iter().any(|f| f == input.name))
                .map(|(heading, _)| heading.as_str())
                .collect();
            assert_eq!(
                under,
                [input.group.heading()],
                "--{} must be listed once, under its group",
                input.name
            );
            let count: usize = sections
                .iter()
                .map(|(_, f)| f.iter().filter(|f| *f == input.name).count())
                .sum();
            assert_eq!(count, 1, "--{}", input.name);
        }
        for group in Group::ALL {
            assert!(
                INPUTS.iter().any(|i| i.group == group),
                "{group:?} has no input: its heading would stand alone"
            );
        }
    }

    #[test]
    fn every_text_input_has_a_typed_placeholder_and_flags_have_none() {
        for input in INPUTS {
            match input.kind {
                Kind::Text => {
                    let p = input.placeholder();
                    assert!(
                        p.starts_with('<') && p.ends_with('>') && p != "<value>" && p.len() > 2,
                        "--{}: placeholder {p:?}",
                        input.name
                    );
                    assert!(
                        help().contains(&format!("  --{} {p}\n", input.name)),
                        "--{}",
                        input.name
                    );
                }
                Kind::Bool => assert_eq!(input.placeholder(), "", "--{}", input.name),
            }
        }
        assert!(!help().contains("<value>\n"));
    }

    #[test]
    fn every_name_of_the_table_is_a_name() {
        for i in INPUTS {
            assert_eq!(Name::checked(i.name).as_str(), i.name);
        }
        assert_eq!(input!("max-size").to_string(), "max-size");
    }

    /// What `input!("max-sise")` evaluates in a `const`: there the panic fails the build.
    #[test]
    #[should_panic(expected = "not an input of the table")]
    fn a_misspelt_name_is_refused() {
        Name::checked("max-sise");
    }

    #[test]
    fn dawidd6_names_are_refused_only_when_given() {
        // The action declares them with an empty default, so empty means "not used".
        assert!(parse_with(&[], &[("LEGACY_INPUT_RUN_ID", " ")]).is_ok());
        let e = parse_with(&[], &[("LEGACY_INPUT_NAME_IS_REGEXP", "true")]).unwrap_err();
        assert!(format!("{e}").contains("artifetch reads `pattern`"), "{e}");
    }
}
