//! `--help` from the real binary: the inputs by group, two examples that work (run here against
//! the fake GitHub), the exit codes the binary really uses, and the environment variables the
//! code really reads.

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::*;
use artifetch::inputs::{ENVIRONMENT, EXAMPLES, EXIT_CODES, Group, INPUTS};

fn help(w: &World) -> String {
    let out = w.run_args(&["--help"], &[], &[]);
    out.ok();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    out.stdout
}

/// The Rust sources of `src/`, as (path relative to `src/`, text).
/// The binary's sources: `src/` (paths relative to it) and the library crates it is built from
/// (`crates/<name>/src/...`; fakehub is a test server, not part of the binary).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![(String::new(), root.join("src"))];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "fakehub" {
            roots.push((
                format!("crates/{name}/src/"),
                root.join("crates").join(&name).join("src"),
            ));
        }
    }
    let mut files = Vec::new();
    for (prefix, dir) in roots {
        for (rel, found) in walk(&dir) {
            if let Found::File(data) = found
                && rel.ends_with(".rs")
            {
                files.push((format!("{prefix}{rel}"), String::from_utf8(data).unwrap()));
            }
        }
    }
    files
}

#[test]
fn help_groups_the_inputs_and_shows_examples_exit_codes_and_environment() {
    let h = help(&World::new());
    // Every group's heading, in order, with its inputs (placeholders and all) after it.
    let mut at = 0;
    for group in Group::ALL {
        let pos = h[at..]
            .find(&format!("\n{}\n", group.heading()))
            .unwrap_or_else(|| panic!("{group:?} heading missing or out of order:\n{h}"))
            + at;
        for input in INPUTS.iter().filter(|i| i.group == group) {
            let line = format!("\n  --{} {}", input.name, input.placeholder());
            let found = h[pos..].find(line.trim_end()).map(|p| p + pos);
            assert!(
                found.is_some(),
                "--{} not under {group:?}:\n{h}",
                input.name
            );
        }
        at = pos + 1;
    }
    for needle in [
        "--name <NAME>",
        "--pattern <GLOB>",
        "--repository <OWNER/REPO|URL>",
        "--run-id <ID|URL>",
        "--path <PATH>",
        "--max-size <SIZE>\n      Bound on uncompressed bytes per artifact (e.g. 500MiB, 20GiB). [default: 20GiB]",
        "--wait-timeout <SECONDS>\n",
        "--artifact-ids <ID,...>",
        "--pr <N>",
    ] {
        assert!(h.contains(needle), "{needle:?} missing:\n{h}");
    }
    assert!(!h.contains("<value>\n"), "untyped placeholder left:\n{h}");

    let examples = section(&h, "EXAMPLES");
    assert_eq!(EXAMPLES.len(), 2);
    for (what, command) in EXAMPLES {
        assert!(
            examples.contains(&format!("  # {what}\n  {command}\n")),
            "{h}"
        );
    }
    let codes = section(&h, "EXIT CODES");
    assert!(codes.contains("\n  0  done: "), "{codes}");
    assert!(codes.contains("\n  1  failed: "), "{codes}");
    let environment = section(&h, "ENVIRONMENT");
    for (names, _) in ENVIRONMENT {
        for name in *names {
            assert!(environment.contains(name), "{name} missing:\n{environment}");
        }
    }
}

/// The whole text, so a change to it is seen in review (`.config/insta.yaml`: never written on
/// its own; accept on purpose with
/// `INSTA_UPDATE=always cargo nextest run --test it -E 'test(/^help::/)'`).
#[test]
fn help_snapshot() {
    let h = help(&World::new());
    insta::with_settings!({
        filters => vec![(r"^artifetch \d+\.\d+\.\d+\S*", "artifetch [version]")],
        // Not in tests/snapshots: those are job summaries (`cargo xtask summaries` renders them).
        snapshot_path => "../help_snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("help", h);
    });
}

/// From `heading` to the next heading (a line that does not start with a space).
fn section<'a>(h: &'a str, heading: &str) -> &'a str {
    let start = h
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} section:\n{h}"));
    let body = &h[start + 1..];
    let end = body
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .find(|&i| i < body.len() && !body[i..].starts_with(' ') && !body[i..].starts_with('\n'))
        .unwrap_or(body.len());
    &body[..end]
}

#[test]
fn the_exit_codes_listed_are_the_ones_the_binary_uses() {
    let listed: BTreeSet<u8> = EXIT_CODES.iter().map(|(c, _)| *c).collect();
    assert_eq!(listed, BTreeSet::from([0, 1]));
    // No other code is made anywhere: main_with returns SUCCESS or FAILURE only.
    for (file, text) in sources() {
        for made in ["ExitCode::from(", "process::exit(", "std::process::abort("] {
            assert!(
                !text.contains(made),
                "src/{file} uses {made}: list it in EXIT_CODES"
            );
        }
    }
    // 0 for help and a fetch, 1 for a bad input and for a failed fetch.
    let w = World::new();
    w.add("dist", zipbuild::sample_zip());
    assert_eq!(w.run_args(&["--version"], &[], &[]).code, 0);
    w.run(&[("name", "dist")], &[]).ok();
    w.run(&[("name", "dist"), ("if-no-artifact-found", "warn")], &[])
        .ok();
    w.run(&[("name", "nope"), ("if-no-artifact-found", "ignore")], &[])
        .ok();
    w.run(&[("name", "nope")], &[]).failed();
    w.run_args(&["--no-such-flag"], &[], &[]).failed();
    w.run(&[("max-size", "lots")], &[]).failed();
}

#[test]
fn every_environment_variable_listed_is_read_and_every_one_read_is_listed() {
    let sources = sources();
    let literal_in_src = |name: &str| {
        let quoted = format!("\"{name}\"");
        sources
            .iter()
            .any(|(file, text)| file != "inputs/help.rs" && text.contains(&quoted))
    };
    // The HTTP client reads the https proxy itself; tests/it/tls_proxy.rs runs the binary with it.
    let tls_proxy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/tls_proxy.rs"),
    )
    .unwrap();
    let listed: Vec<&str> = ENVIRONMENT
        .iter()
        .flat_map(|(n, _)| n.iter().copied())
        .collect();
    for name in &listed {
        let read = literal_in_src(name)
            || (*name == "HTTPS_PROXY" && tls_proxy.contains("(\"HTTPS_PROXY\""));
        assert!(read, "{name} is listed in --help but src/ never reads it");
    }
    // The other way: every runner or artifetch variable named in src/ is listed, except the
    // tests' own knobs.
    const TEST_ONLY: &[&str] = &[
        "ARTIFETCH_TIME_SCALE",
        "ARTIFETCH_PROP_CASES",
        "ARTIFETCH_TEST_BARRIER_DIR",
    ];
    let mut unlisted = BTreeSet::new();
    for (file, text) in &sources {
        for part in text.split('"').skip(1).step_by(2) {
            let named = ["GITHUB_", "RUNNER_", "ARTIFETCH_"]
                .iter()
                .any(|p| part.starts_with(p))
                && part.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            if named && !listed.contains(&part) && !TEST_ONLY.contains(&part) {
                unlisted.insert(format!("{part} (src/{file})"));
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "read but not listed in --help's ENVIRONMENT: {unlisted:?}"
    );
}

/// A command line of `--help`'s examples, as arguments (single quotes as a shell reads them).
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    for w in command.split(' ').skip(1) {
        words.push(w.trim_matches('\'').to_string());
    }
    words
}

#[test]
fn the_examples_work_as_written() {
    // A terminal, not a runner: only the token and the (fake) API come from the environment.
    let terminal: &[(&str, &str)] = &[
        ("GITHUB_ACTIONS", ""),
        ("GITHUB_REPOSITORY", ""),
        ("GITHUB_RUN_ID", ""),
        ("GITHUB_RUN_NUMBER", ""),
        ("GITHUB_WORKFLOW", ""),
        ("GITHUB_WORKSPACE", ""),
        ("GITHUB_OUTPUT", ""),
        ("GITHUB_STEP_SUMMARY", ""),
    ];
    let w = World::new();
    assert_eq!(w.gh.repo(), "octo/hello", "the examples' repository");
    w.add("dist", zipbuild::sample_zip());
    let searched = w.gh.add_run(Run::new(&w.gh.repo()));
    w.gh.add_artifact(
        searched,
        ArtifactSpec::new("pkg-linux", zipbuild::sample_zip()),
    );
    let args = |command: &str| -> Vec<String> {
        words(&command.replace("1234567890", &w.run.to_string()))
    };

    let (_, one_run) = EXAMPLES[0];
    let a = args(one_run);
    let out = w.run_args(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        terminal,
    );
    out.ok();
    assert!(
        out.stdout.contains(&format!("Using run {} ", w.run)),
        "{}",
        out.stdout
    );
    let out_dir = w.root.path().join("home/out");
    assert!(!tree(&out_dir).is_empty(), "nothing in ./out");

    let (_, search) = EXAMPLES[1];
    let a = args(search);
    let out = w.run_args(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
        terminal,
    );
    out.ok();
    assert!(
        out.stdout.contains("Would fetch 'pkg-linux' (id "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("Using run {searched} ")),
        "{}",
        out.stdout
    );
}
