//! The shape of `src/`: data flows one way, so every `crate::` import points to a lower layer.
//!
//! The layers are written once, below; a module may use only modules of a strictly lower layer.
//! That forbids cycles and upward imports alike (a low stage reaching for the report, say). A new
//! module must be placed in a layer here, or this test names it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first. Modules on one line are peers and may not import each other.
const LAYERS: &[&[&str]] = &[
    // Leaves: no knowledge of any stage.
    &["pasted", "failure"],
    // inputs -> settings; pin parses what the producer pinned (and compares it after download).
    &["inputs"],
    &["pin"],
    &["settings"],
    // The stages, in the order data flows through them.
    &["resolve"],
    &["plan"],
    // The run and its plan, through the `wait-timeout` polls and the `fallback` levels.
    &["find"],
    // The attestations of one artifact, fetched and verified (HTTP is crates/github, the
    // verifier crates/attest: see [`CRATES`]).
    &["provenance"],
    // `artifetch attestation verify`: the attestation verifier, offline, on one bundle.
    &["offline"],
    // One artifact's walk: obtain (cache, download, partial) -> verify -> stage -> place.
    &["fetch"],
    &["report"],
    // The pinned handoff's manifest files, outputs and summary lines, next to the report's.
    &["handoff"],
    &["run"],
];

/// Workspace library crates re-exported at the root (`pub use github;`) and placed in no layer:
/// any module may use them, and the compiler keeps them from reaching up (they cannot name the
/// binary). Which of them may speak HTTP is [`crate_rule_breaks`]' check.
const CRATES: &[&str] = &[
    "attest", "github", "extract", "util",
    // Modules of those crates re-exported under their own names: `crate::log`, `crate::cancel`
    // (util), `crate::manifest`, `crate::pattern` (extract).
    "log", "cancel", "manifest", "pattern",
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `.rs` file under `src`, at any depth.
fn rust_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().and_then(|e| e.to_str()) == Some("rs") {
                files.push(path);
            }
        }
    }
    files
}

/// `(from, to)` module pairs for every `crate::to` path written in `from`'s files.
fn imports(src: &Path) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for path in rust_files(src) {
        let rel = path.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let from = first.trim_end_matches(".rs").to_string();
        if from == "lib" || from == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap();
            for written in use_paths(code) {
                if written.anchor != Anchor::Crate {
                    continue;
                }
                let to = &written.segments[0];
                if *to != from {
                    edges.insert((from.clone(), to.clone()));
                }
            }
        }
    }
    edges
}

/// Where a written module path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// `crate::`
    Crate,
    /// `super::`, this many times.
    Super(usize),
    /// `self::`
    SelfModule,
}

/// One module path written in code: `super::figures::Row` is `Super(1)`, `[figures, Row]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UsePath {
    anchor: Anchor,
    segments: Vec<String>,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `crate::`, `super::` and `self::` path in one line of code (its comment cut off);
/// a group is one path per entry: `crate::{log::Log, report}` is `[log, Log]` and `[report]`.
fn use_paths(code: &str) -> Vec<UsePath> {
    let mut found = Vec::new();
    for (prefix, anchor) in [
        ("crate::", Anchor::Crate),
        ("super::", Anchor::Super(1)),
        ("self::", Anchor::SelfModule),
    ] {
        for (i, _) in code.match_indices(prefix) {
            let before = &code[..i];
            // `$crate::` is a macro's; a `super::` after another is counted with the first.
            if before.ends_with(is_ident) || before.ends_with('$') || before.ends_with("super::") {
                continue;
            }
            let mut rest = &code[i + prefix.len()..];
            let mut anchor = anchor;
            while let (Anchor::Super(n), Some(r)) = (anchor, rest.strip_prefix("super::")) {
                anchor = Anchor::Super(n + 1);
                rest = r;
            }
            for segments in path_tree(rest) {
                found.push(UsePath { anchor, segments });
            }
        }
    }
    found
}

/// The paths a `use` tree spells, from just after its anchor: `a::{b, c::d}` is `[a, b]`,
/// `[a, c, d]` and `[a]`; nested groups are read to their matching brace.
fn path_tree(mut rest: &str) -> Vec<Vec<String>> {
    let mut head: Vec<String> = Vec::new();
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut entries = vec![String::new()];
            for c in group.chars() {
                match c {
                    '}' if depth == 0 => break,
                    ',' if depth == 0 => entries.push(String::new()),
                    _ => {
                        depth += usize::from(c == '{');
                        depth -= usize::from(c == '}');
                        entries.last_mut().unwrap().push(c);
                    }
                }
            }
            // The group's head counts too: a group whose entries run on to the next lines
            // still names its module.
            let mut paths: Vec<Vec<String>> = entries
                .iter()
                .flat_map(|entry| path_tree(entry.trim()))
                .map(|tail| [head.clone(), tail].concat())
                .collect();
            if !head.is_empty() {
                paths.push(head);
            }
            return paths;
        }
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        head.push(name);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    if head.is_empty() {
        Vec::new()
    } else {
        vec![head]
    }
}

/// Every edge that breaks the layering, as readable lines.
fn violations(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, to) in edges {
        if CRATES.contains(&to.as_str()) {
            continue;
        }
        match (layer(from), layer(to)) {
            (None, _) => bad.push(format!("{from}: not placed in LAYERS")),
            (_, None) => bad.push(format!("{to}: not placed in LAYERS (used by {from})")),
            (Some(f), Some(t)) if t >= f => {
                bad.push(format!("{from} (layer {f}) imports {to} (layer {t})"))
            }
            _ => {}
        }
    }
    bad
}

#[test]
fn src_imports_point_down_the_stage_order() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = imports(&src);
    assert!(
        edges.len() > 20,
        "the import scan found too little: {edges:?}"
    );
    let bad = violations(&edges);
    assert!(
        bad.is_empty(),
        "imports against the stage order:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_module_file_is_placed_in_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let module = name.trim_end_matches(".rs");
        if module == "lib" || module == "main" {
            continue;
        }
        assert!(
            layer(module).is_some(),
            "src/{name} is not placed in LAYERS"
        );
    }
}

#[test]
fn the_check_catches_a_cycle_and_an_upward_import() {
    // The shape this test was written against: `Log` lived in `report`, which the low stages
    // imported while `report` imported them.
    let old: BTreeSet<(String, String)> = [
        ("fetch", "report"),
        ("report", "fetch"),
        ("settings", "report"),
        ("fetch", "provenance"),
        ("provenance", "fetch"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let bad = violations(&old);
    let edge = |from: &str, to: &str| {
        format!(
            "{from} (layer {}) imports {to} (layer {})",
            layer(from).unwrap(),
            layer(to).unwrap()
        )
    };
    assert!(bad.iter().any(|l| *l == edge("fetch", "report")), "{bad:?}");
    assert!(
        bad.iter().any(|l| *l == edge("provenance", "fetch")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|l| *l == edge("settings", "report")),
        "{bad:?}"
    );
    assert_eq!(bad.len(), 3, "{bad:?}");
}

#[test]
fn the_scan_reads_grouped_and_inline_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fetch")).unwrap();
    std::fs::write(
        dir.path().join("fetch/mod.rs"),
        "use crate::{log::Log, report};\nfn f() { crate::run::go(); } // crate::ignored\n",
    )
    .unwrap();
    let edges = imports(dir.path());
    let want: BTreeSet<(String, String)> =
        [("fetch", "log"), ("fetch", "report"), ("fetch", "run")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(edges, want);
}

/// Longest a function may be, anywhere in `src/` or `crates/*/src` (tests included): a longer one
/// is split into named steps. No exception, not even for a body headed by phase comments.
const MAX_LINES: usize = 70;

/// Most lines of code (not blank, not comments) a source file may hold before its in-file tests
/// (`#[cfg(test)] mod ... {` at the top level and everything after it).
const MAX_FILE_CODE: usize = 700;

/// `src` and every `crates/<name>/src`, fakehub's included: the code the size rules cover.
fn workspace_sources(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            dirs.push(src);
        }
    }
    dirs
}

/// `file:line name (lines)` of every function over [`MAX_LINES`] under `dirs`.
fn long_functions(dirs: &[PathBuf]) -> Vec<String> {
    let mut long = Vec::new();
    for path in dirs.iter().flat_map(|d| rust_files(d)) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, name, lines) in functions(&text) {
            long.push(format!("{}:{line} {name} ({lines} lines)", path.display()));
        }
    }
    long.sort();
    long
}

/// Functions of one file that are too long: `(first line, name, lines)`. A function is the text
/// from its `fn` line to the first line that closes it at the same indentation.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(name) = fn_name(lines[i]) else {
            i += 1;
            continue;
        };
        let indent = lines[i].len() - lines[i].trim_start().len();
        let close = format!("{}}}", " ".repeat(indent));
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].starts_with(&close))
            .unwrap_or(lines.len() - 1);
        let length = end - i + 1;
        if length > MAX_LINES {
            found.push((i + 1, name, length));
        }
        i = end + 1;
    }
    found
}

/// The name of the function a line opens (`pub(crate) async fn name(...) {`), if it opens one
/// with a body.
fn fn_name(line: &str) -> Option<String> {
    let head = line.trim_start();
    let rest = head
        .trim_start_matches("pub(crate) ")
        .trim_start_matches("pub(super) ")
        .trim_start_matches("pub ")
        .trim_start_matches("const ")
        .trim_start_matches("async ")
        .trim_start_matches("unsafe ")
        .strip_prefix("fn ")?;
    if head.ends_with(';') {
        return None;
    }
    Some(
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// Lines of code of a file before its in-file tests: not blank, not a comment.
fn code_lines(text: &str) -> usize {
    let mut lines = text.lines().peekable();
    let mut count = 0;
    while let Some(line) = lines.next() {
        let opens_tests = line == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.starts_with("mod ") && next.ends_with('{'));
        if opens_tests {
            break;
        }
        let code = line.trim();
        if !code.is_empty() && !code.starts_with("//") {
            count += 1;
        }
    }
    count
}

/// `file (lines)` of every file under `dirs` over [`MAX_FILE_CODE`] lines of code, test-only
/// files (unit tests declared `#[cfg(test)] mod x;`) aside.
fn long_files(dirs: &[PathBuf]) -> Vec<String> {
    let mut long = Vec::new();
    for dir in dirs {
        let tests = test_only_files(dir);
        for path in rust_files(dir).into_iter().filter(|p| !tests.contains(p)) {
            let lines = code_lines(&std::fs::read_to_string(&path).unwrap());
            if lines > MAX_FILE_CODE {
                long.push(format!("{} ({lines} lines of code)", path.display()));
            }
        }
    }
    long.sort();
    long
}

#[test]
fn no_function_is_over_70_lines_and_no_file_over_700_lines_of_code() {
    let dirs = workspace_sources(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(dirs.len() >= 6, "the scan found too few crates: {dirs:?}");
    let long = long_functions(&dirs);
    assert!(
        long.is_empty(),
        "split these into named steps:\n{}",
        long.join("\n")
    );
    let long = long_files(&dirs);
    assert!(
        long.is_empty(),
        "split these by what they do:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_checks_measure_functions_and_code_without_exception() {
    let body = |comments: &str| {
        let mut f = String::from("pub async fn f() {\n");
        f.push_str(comments);
        for _ in 0..80 {
            f.push_str("    x();\n");
        }
        f.push_str("}\n");
        f
    };
    assert_eq!(functions(&body("")), vec![(1, "f".to_string(), 82)]);
    // Phase comments no longer excuse a long function.
    let phased = body("    // One.\n    // Two.\n    // Three.\n");
    assert_eq!(functions(&phased), vec![(1, "f".to_string(), 85)]);
    assert!(functions("fn short() {\n    x();\n}\n").is_empty());
    assert!(functions("    fn declared(&self);\n").is_empty());
    // Comments and blank lines are not code; in-file tests are not counted.
    let file =
        "//! Doc.\nuse a;\n\n// why\nfn f() {}\n#[cfg(test)]\nmod tests {\n    fn t() {}\n}\n";
    assert_eq!(code_lines(file), 2);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("big.rs"), "x();\n".repeat(MAX_FILE_CODE + 1)).unwrap();
    std::fs::write(src.join("ok.rs"), "x();\n".repeat(MAX_FILE_CODE)).unwrap();
    let found = long_files(&[src]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("big.rs (701 lines of code)"),
        "{found:?}"
    );
}

/// Lines of crates/github code outside `endpoints.rs` that spell a REST path: every endpoint is built
/// in one file. Comments and unit tests (which quote paths in messages) do not count.
fn paths_outside_endpoints(github: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in rust_files(github) {
        if path.file_name().and_then(|n| n.to_str()) == Some("endpoints.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (i, line) in code.lines().enumerate() {
            if !line.trim_start().starts_with("//") && line.contains("/repos/") {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn only_endpoints_rs_spells_a_rest_path() {
    let github = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/github/src");
    assert!(github.join("endpoints.rs").is_file());
    let found = paths_outside_endpoints(&github);
    assert!(
        found.is_empty(),
        "build these with github::endpoints::Endpoint:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_path_check_finds_a_path_in_code_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("runs.rs"),
        "//! GET /repos/{o}/{r}/x\nfn f() { get(\"/repos/o/r\") }\n#[cfg(test)]\nmod t { \"/repos/\" }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("endpoints.rs"), "fn p() { \"/repos/\" }\n").unwrap();
    let found = paths_outside_endpoints(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("runs.rs:2: fn f() { get(\"/repos/o/r\") }"),
        "{found:?}"
    );
}

/// The HTTP clients of the ecosystem (and the protocol crates under them), by package name: a
/// crate that links one of these can speak HTTP.
const HTTP_CLIENTS: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "ureq",
    "curl",
    "isahc",
];

/// The library crates of the workspace that ship in the binary; the binary is `artifetch`.
const LIBRARIES: &[&str] = &[
    "artifetch-util",
    "artifetch-github",
    "artifetch-extract",
    "artifetch-attest",
];

/// Package name -> the packages it links (normal dependencies, any target; not dev or build
/// ones), from `cargo metadata`'s resolved graph: what Cargo builds, not what a manifest's text
/// seems to say (renames, inline tables and `[dependencies.x]` tables are Cargo's business).
fn linked_packages(metadata: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let mut links = BTreeMap::new();
    for node in metadata["resolve"]["nodes"].as_array().unwrap() {
        let normal = node["deps"].as_array().unwrap().iter().filter(|d| {
            d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null())
        });
        let deps = normal
            .map(|d| name_of[d["pkg"].as_str().unwrap()].to_string())
            .collect();
        links.insert(name_of[node["id"].as_str().unwrap()].to_string(), deps);
    }
    links
}

/// Everything `from` links, at any depth.
fn closure(links: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = links[from].iter().map(String::as_str).collect();
    while let Some(name) = todo.pop() {
        if seen.insert(name.to_string()) {
            todo.extend(links.get(name).into_iter().flatten().map(String::as_str));
        }
    }
    seen
}

/// What the compiler cannot see in the crate graph, as readable lines: only `artifetch-github`
/// links an HTTP client (the binary reaches the network through it); the other library crates
/// link none at any depth; and a library crate links no workspace crate but `artifetch-util`
/// (util itself none), so none can reach a stage, the GitHub client, or each other.
fn crate_rule_breaks(links: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut bad = Vec::new();
    for direct in &links["artifetch"] {
        if HTTP_CLIENTS.contains(&direct.as_str()) {
            bad.push(format!(
                "artifetch links {direct}: call crates/github instead"
            ));
        }
    }
    for library in LIBRARIES.iter().filter(|l| **l != "artifetch-github") {
        for http in closure(links, library).intersection(&http_clients()) {
            bad.push(format!(
                "{library} links {http}: only artifetch-github speaks HTTP"
            ));
        }
    }
    for library in LIBRARIES {
        let allowed = if *library == "artifetch-util" {
            None
        } else {
            Some("artifetch-util")
        };
        for direct in &links[*library] {
            let ours = direct == "artifetch" || LIBRARIES.contains(&direct.as_str());
            if ours && Some(direct.as_str()) != allowed {
                bad.push(format!(
                    "{library} links {direct}: a library may use util alone"
                ));
            }
        }
    }
    bad
}

fn http_clients() -> BTreeSet<String> {
    HTTP_CLIENTS.iter().map(|c| c.to_string()).collect()
}

#[test]
fn only_crates_github_speaks_http_and_the_library_crates_use_util_alone() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links = linked_packages(&serde_json::from_slice(&out.stdout).unwrap());
    // The graph is the real one: the client is where it belongs, the verifier's crates are there.
    assert!(links["artifetch-github"].contains("reqwest"), "{links:?}");
    assert!(links["artifetch-attest"].contains("x509-cert"), "{links:?}");
    assert!(links["artifetch-extract"].contains("zip"), "{links:?}");
    let bad = crate_rule_breaks(&links);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_crate_rules_catch_a_planted_client_and_a_sideways_crate() {
    let package = |name: &str| serde_json::json!({ "id": format!("id-{name}"), "name": name });
    let node = |name: &str, deps: &[(&str, Option<&str>)]| {
        let deps: Vec<_> = deps
            .iter()
            .map(|(d, kind)| {
                serde_json::json!({ "pkg": format!("id-{d}"), "dep_kinds": [{ "kind": kind }] })
            })
            .collect();
        serde_json::json!({ "id": format!("id-{name}"), "deps": deps })
    };
    let names = [
        "artifetch",
        "artifetch-util",
        "artifetch-github",
        "artifetch-extract",
        "artifetch-attest",
        "reqwest",
        "zip",
        "sneaky",
        "hyper",
        "ureq",
    ];
    let metadata = serde_json::json!({
        "packages": names.iter().map(|n| package(n)).collect::<Vec<_>>(),
        "resolve": { "nodes": [
            // A client the binary links itself (a dev-dependency is no link).
            node("artifetch", &[("artifetch-github", None), ("ureq", None), ("reqwest", Some("dev"))]),
            node("artifetch-util", &[]),
            node("artifetch-github", &[("artifetch-util", None), ("reqwest", None)]),
            // A client two steps down, through a crate that looks harmless.
            node("artifetch-extract", &[("artifetch-util", None), ("zip", None)]),
            node("zip", &[("sneaky", None)]),
            node("sneaky", &[("hyper", None)]),
            // A library reaching sideways, into the GitHub client.
            node("artifetch-attest", &[("artifetch-github", None)]),
            node("reqwest", &[("hyper", None)]),
            node("hyper", &[]),
            node("ureq", &[]),
        ]},
    });
    let bad = crate_rule_breaks(&linked_packages(&metadata));
    assert_eq!(
        bad,
        [
            "artifetch links ureq: call crates/github instead",
            "artifetch-extract links hyper: only artifetch-github speaks HTTP",
            "artifetch-attest links hyper: only artifetch-github speaks HTTP",
            "artifetch-attest links reqwest: only artifetch-github speaks HTTP",
            "artifetch-attest links artifetch-github: a library may use util alone",
        ],
        "{bad:?}"
    );
}
/// What consumes a `reqwest` body, in code with its whitespace removed (a chain may span lines).
const BODY_READS: &[&str] = &[
    ".chunk().await",
    ".bytes().await",
    ".text().await",
    ".text_with_charset(",
    ".json().await",
    ".json::<",
    "bytes_stream(",
];

/// Files of crates/github (`src`) that consume a network body anywhere but `body.rs`, the one
/// bounded reader, with what they call. Comments and unit tests do not count. (No other crate has
/// an HTTP client to read a body from: [`crate_rule_breaks`].)
fn bodies_read_outside_the_reader(src: &Path) -> Vec<String> {
    let reader = src.join("body.rs");
    let mut found = Vec::new();
    for path in rust_files(src) {
        if path == reader {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect();
        for read in BODY_READS.iter().filter(|r| code.contains(*r)) {
            found.push(format!("{}: {read}", path.display()));
        }
    }
    found.sort();
    found
}

#[test]
fn only_the_bounded_reader_consumes_a_network_body() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/github/src");
    assert!(src.join("body.rs").is_file());
    let found = bodies_read_outside_the_reader(&src);
    assert!(
        found.is_empty(),
        "read these through github::body (BodyReader, read_capped, snippet), which bounds every body:\n{}",
        found.join("\n")
    );
    // The check itself sees a read split over lines, and not one in a comment or a unit test.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("body.rs"),
        "async fn a(r: R) { r.chunk().await }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("blob.rs"),
        "// r.text().await\nasync fn b(r: R) { r\n    .bytes()\n    .await }\n#[cfg(test)]\nmod t { r.json::<T>() }\n",
    )
    .unwrap();
    let found = bodies_read_outside_the_reader(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("blob.rs: .bytes().await"), "{found:?}");
}

/// The files that may read a file's content with `std::fs::read*` (or `fs_err::read*`), and
/// why: `crates/extract/src/user_file.rs` holds the one reader of files a user names
/// (`read_user_file`: regular files only, at most 64 MiB, never echoed; `confined` keeps
/// `expected-files: @path` inside the workspace), which `pin.rs`, `settings.rs` (`trusted-root`),
/// `run.rs` (`SSL_CERT_FILE`) and the offline verifier call; nowhere else may start
/// reading files unseen.
const FILE_READERS: &[&str] = &["crates/extract/src/user_file.rs"];

/// The source directories of the binary and its library crates, relative to the workspace:
/// `src` and every `crates/<name>/src` but fakehub's (a test double reading its own fixtures).
fn library_sources(root: &Path) -> Vec<String> {
    let mut dirs = vec!["src".to_string()];
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        for entry in crates {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name != "fakehub" && root.join("crates").join(&name).join("src").is_dir() {
                dirs.push(format!("crates/{name}/src"));
            }
        }
    }
    dirs
}

/// How a library crate declares test support that the root crate's tests reach too.
const TEST_SUPPORT_CFG: &str = "#[cfg(any(test, feature = \"testkit\"))]";

/// The files of modules declared under `#[cfg(test)]` (`mod props;`), or under
/// [`TEST_SUPPORT_CFG`]: unit tests and their support, whole.
fn test_only_files(src: &Path) -> BTreeSet<PathBuf> {
    let mut files = BTreeSet::new();
    for path in rust_files(src) {
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = path.parent().unwrap();
        // Test support a feature also exposes (`oracle`, for the fuzz targets) is test code too.
        let text = text.replace(TEST_SUPPORT_CFG, "#[cfg(test)]");
        for after in text.split("#[cfg(test)]").skip(1) {
            let after = after.trim_start();
            let declared = after
                .strip_prefix("mod ")
                .or(after.strip_prefix("pub mod "));
            if let Some((name, _)) = declared.and_then(|d| d.split_once(';')) {
                files.insert(dir.join(format!("{}.rs", name.trim())));
            }
        }
    }
    files
}

/// Lines of code in the workspace's library sources outside [`FILE_READERS`] that read a whole
/// file with `std::fs` or `fs_err`. Comments and unit tests do not count.
fn file_reads_outside_the_readers(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for dir in library_sources(root) {
        let src = root.join(&dir);
        let tests = test_only_files(&src);
        for path in rust_files(&src) {
            if tests.contains(&path) {
                continue;
            }
            let module = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if FILE_READERS.contains(&module.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (i, line) in code.lines().enumerate() {
                let calls = ["fs::read(", "fs::read_to_string(", "fs_err::read("];
                let reads = calls.iter().any(|call| line.contains(call))
                    || line.contains("fs_err::read_to_string(");
                if !line.trim_start().starts_with("//") && reads {
                    found.push(format!("{module}:{}: {}", i + 1, line.trim()));
                }
            }
        }
    }
    found.sort();
    found
}

#[test]
fn only_the_named_modules_read_files_with_std_fs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = file_reads_outside_the_readers(root);
    assert!(
        found.is_empty(),
        "a file a user names is read by one confined, bounded reader; read these there (or add the module to FILE_READERS with its reason):\n{}",
        found.join("\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let reader = dir.path().join("crates/extract/src");
    std::fs::create_dir_all(&reader).unwrap();
    std::fs::write(reader.join("user_file.rs"), "fn a() { std::fs::read(p) }\n").unwrap();
    std::fs::write(reader.join("place.rs"), "fn d() { fs_err::read(p) }\n").unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/fetch.rs"),
        "// fs::read(p)\nfn b() { std::fs::read_to_string(p) }\n#[cfg(test)]\nmod props;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/props.rs"), "fn c() { fs::read(p) }\n").unwrap();
    let found = file_reads_outside_the_readers(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("crates/extract/src/place.rs:1:"),
        "{found:?}"
    );
    assert!(found[1].starts_with("src/fetch.rs:2:"), "{found:?}");
}

/// A file's text without its in-file test module (a top-level `#[cfg(test)]` before a `mod`):
/// tests reach into their parent by design, which is no import of the module's own.
fn without_tests(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let end = (0..lines.len())
        .find(|&i| {
            lines[i] == "#[cfg(test)]"
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.starts_with("mod ") || l.starts_with("pub mod "))
        })
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// A module's name from its file below `src`: `bench/run.rs` is `bench::run`, `bench/mod.rs` is
/// `bench`, the crate root (`lib.rs`, `main.rs`) is the empty name.
fn module_name(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_str().unwrap().to_string())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The module graph of the crate whose sources are under `src`: `(from, to)` for every
/// `crate::`, `super::` and `self::` path, `to` the deepest module of that path that has a file.
/// A module's use of its own submodules is left out: a parent declares and drives its children
/// while they use its items, which is nesting, not a circle.
fn module_graph(src: &Path) -> BTreeSet<(String, String)> {
    let files = rust_files(src);
    let known: BTreeSet<String> = files.iter().map(|f| module_name(src, f)).collect();
    let mut edges = BTreeSet::new();
    for file in &files {
        let from = module_name(src, file);
        let own: Vec<&str> = from.split("::").filter(|s| !s.is_empty()).collect();
        let text = without_tests(&std::fs::read_to_string(file).unwrap());
        for line in text.lines() {
            let code = line.split("//").next().unwrap();
            for written in use_paths(code) {
                let base = match written.anchor {
                    Anchor::Crate => &own[..0],
                    Anchor::SelfModule => &own[..],
                    Anchor::Super(n) if n <= own.len() => &own[..own.len() - n],
                    Anchor::Super(_) => continue,
                };
                let full: Vec<&str> = base
                    .iter()
                    .copied()
                    .chain(written.segments.iter().map(String::as_str))
                    .collect();
                let to = (0..=full.len())
                    .rev()
                    .map(|n| full[..n].join("::"))
                    .find(|m| known.contains(m))
                    .unwrap_or_default();
                let inside = from.is_empty() || to.starts_with(&format!("{from}::"));
                if to != from && !inside {
                    edges.insert((from.clone(), to));
                }
            }
        }
    }
    edges
}

/// Every import circle in `edges`: each group of modules that reach one another, sorted.
fn circles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let reach = |start: &str| {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut todo = vec![start];
        while let Some(at) = todo.pop() {
            for (_, to) in edges.iter().filter(|(from, _)| from == at) {
                if seen.insert(to) {
                    todo.push(to);
                }
            }
        }
        seen
    };
    let mut found: BTreeSet<Vec<String>> = BTreeSet::new();
    for (module, _) in edges {
        let ahead = reach(module);
        let circle: Vec<String> = ahead
            .iter()
            .filter(|other| reach(other).contains(module.as_str()))
            .map(|m| m.to_string())
            .collect();
        if circle.len() > 1 {
            found.insert(circle);
        }
    }
    found.into_iter().collect()
}

/// The crates outside `src/` whose module imports must run one way (`src/` has its layers).
fn other_crate_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![root.join("xtask/src")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        roots.push(entry.unwrap().path().join("src"));
    }
    roots.sort();
    roots
}

#[test]
fn fakehub_xtask_and_the_library_crates_have_no_import_circle() {
    for src in other_crate_sources() {
        let edges = module_graph(&src);
        let name = src.display();
        if src.ends_with("crates/fakehub/src") || src.ends_with("xtask/src") {
            assert!(
                edges.len() > 10,
                "{name}: the scan found too little: {edges:?}"
            );
        }
        let found = circles(&edges);
        assert!(
            found.is_empty(),
            "{name}: modules that import one another (move what they share below both):\n{}",
            found
                .iter()
                .map(|c| c.join(" <-> "))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn the_circle_check_catches_a_planted_circle_and_passes_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "main.rs",
        "mod bench;\nmod util;\nfn main() { bench::go() }\n",
    );
    write(
        "util.rs",
        "pub fn human() {}\n#[cfg(test)]\nmod tests {\n    use crate::bench::run;\n}\n",
    );
    // bench drives its children, which use its Config: nesting, no circle.
    write(
        "bench/mod.rs",
        "mod run;\nmod render;\nuse self::run::run;\npub struct Config;\n",
    );
    write("bench/figures.rs", "use crate::util::human;\n");
    write(
        "bench/render.rs",
        "use super::Config;\nuse super::figures::Row;\n",
    );
    write(
        "bench/run.rs",
        "use super::Config;\nuse super::render::{\n    render,\n};\n",
    );
    let edges = module_graph(dir.path());
    assert!(circles(&edges).is_empty(), "{edges:?}");
    assert!(
        edges.contains(&("bench::run".into(), "bench::render".into())),
        "{edges:?}"
    );
    assert!(
        edges.contains(&("bench::figures".into(), "util".into())),
        "{edges:?}"
    );
    // figures reaches back to run, which uses render, which uses figures: a circle of three.
    write(
        "bench/figures.rs",
        "fn f() { crate::bench::run::secs(); }\n",
    );
    let found = circles(&module_graph(dir.path()));
    assert_eq!(
        found,
        vec![vec!["bench::figures", "bench::render", "bench::run"]],
        "{found:?}"
    );
}
