//! The shape of `src/`: data flows one way, so every `crate::` import points to a lower layer.
//!
//! The layers are written once, below; a module may use only modules of a strictly lower layer.
//! That forbids cycles and upward imports alike (a low stage reaching for the report, say). A new
//! module must be placed in a layer here, or this test names it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Lowest first. Modules on one line are peers and may not import each other.
const LAYERS: &[&[&str]] = &[
    // crates/util (the log, cancellation, dates, hex), re-exported at the root: its own crate,
    // so the compiler already keeps it from reaching up.
    &["util", "log", "cancel"],
    // crates/extract (the zip and filesystem safety core, with the manifest of what it wrote and
    // the `files` globs), re-exported at the root: its own crate, on util alone.
    &["extract", "manifest", "pattern"],
    // Leaves: no knowledge of any stage.
    &["pasted", "failure"],
    // inputs -> settings; pin parses what the producer pinned (and compares it after download).
    &["inputs"],
    &["pin"],
    &["settings"],
    // The libraries the stages use: HTTP, writing the user's files, verifying attestations,
    // the verified-archive cache.
    &["github", "attest", "cache"],
    // The stages, in the order data flows through them.
    &["resolve"],
    &["plan"],
    // The run and its plan, through the `wait-timeout` polls and the `fallback` levels.
    &["find"],
    &["download", "provenance"],
    // `artifetch attestation verify`: the attestation verifier, offline, on one bundle.
    &["offline"],
    // Partial fetch: the selected entries' bytes by range, over the download's machinery.
    &["partial"],
    &["fetch"],
    &["report"],
    // The pinned handoff's manifest files, outputs and summary lines, next to the report's.
    &["handoff"],
    &["run"],
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
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let mut names: Vec<String> = Vec::new();
                if let Some(group) = rest.strip_prefix('{') {
                    // `use crate::{a, b::c}`
                    let group = group.split('}').next().unwrap_or("");
                    names.extend(
                        group
                            .split(',')
                            .map(|p| p.trim().split("::").next().unwrap().trim().to_string()),
                    );
                } else {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.push(name);
                }
                for to in names.into_iter().filter(|n| !n.is_empty()) {
                    if to != from {
                        edges.insert((from.clone(), to));
                    }
                }
            }
        }
    }
    edges
}

/// Every edge that breaks the layering, as readable lines.
fn violations(edges: &BTreeSet<(String, String)>) -> Vec<String> {
    let mut bad = Vec::new();
    for (from, to) in edges {
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
        ("github", "report"),
        ("fetch", "download"),
        ("download", "fetch"),
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
        bad.iter().any(|l| *l == edge("download", "fetch")),
        "{bad:?}"
    );
    assert!(
        bad.iter().any(|l| *l == edge("github", "report")),
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

/// Longest a function in `src/` may be. A longer one must read as a list of phases: its body
/// carries at least [`PHASES`] comment lines at its own top level, each heading a phase.
const MAX_LINES: usize = 70;
const PHASES: usize = 3;

/// `(file:line name, lines)` of every function in `src/` over [`MAX_LINES`] without phases.
fn long_functions(src: &Path) -> Vec<String> {
    let mut long = Vec::new();
    for path in rust_files(src) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (line, name, lines) in functions(&text) {
            long.push((path.display().to_string(), line, name, lines));
        }
    }
    long.sort();
    long.into_iter()
        .map(|(file, line, name, lines)| format!("{file}:{line} {name} ({lines} lines)"))
        .collect()
}

/// Functions of one file that are too long: `(first line, name, lines)`. A function is the text
/// from its `fn` line to the first line that closes it at the same indentation.
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let head = line.trim_start();
        let after_qualifiers = head
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .trim_start_matches("const ")
            .trim_start_matches("async ");
        let Some(rest) = after_qualifiers.strip_prefix("fn ") else {
            i += 1;
            continue;
        };
        if head.ends_with(';') {
            i += 1;
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].starts_with(&close))
            .unwrap_or(lines.len() - 1);
        let length = end - i + 1;
        let body_indent = " ".repeat(indent + 4);
        let phases = lines[i..end]
            .iter()
            .filter(|l| {
                l.starts_with(&format!("{body_indent}//"))
                    && !l.starts_with(&format!("{body_indent}///"))
            })
            .count();
        if length > MAX_LINES && phases < PHASES {
            found.push((i + 1, name, length));
        }
        i = end + 1;
    }
    found
}

#[test]
fn no_function_in_src_is_long_unless_it_reads_as_phases() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long = long_functions(&src);
    assert!(
        long.is_empty(),
        "split these by what they do (or, if linear, head each phase with a comment):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_measures_and_accepts_phases() {
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
    let phased = body("    // One.\n    // Two.\n    // Three.\n");
    assert!(functions(&phased).is_empty());
    assert!(functions("fn short() {\n    x();\n}\n").is_empty());
}

/// Lines of `github/` code outside `endpoints.rs` that spell a REST path: every endpoint is built
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
    let github = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/github");
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

/// Lines of code outside `src/github/` that read HTTP: a status code or a header map. The
/// download branches on `github::served::Served` instead. Comments and unit tests do not count.
fn http_outside_github(src: &Path) -> Vec<String> {
    let github = src.join("github");
    let mut found = Vec::new();
    for path in rust_files(src) {
        if path.starts_with(&github) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (i, line) in code.lines().enumerate() {
            let reads_http = line.contains("StatusCode") || line.contains(".headers()");
            if !line.trim_start().starts_with("//") && reads_http {
                found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn only_github_reads_http_statuses_and_headers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = http_outside_github(&src);
    assert!(
        found.is_empty(),
        "read these through github::served::Served (or another github/ type):\n{}",
        found.join("\n")
    );
    // The check itself sees such a line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("github")).unwrap();
    std::fs::write(
        dir.path().join("github/blob.rs"),
        "fn a() { StatusCode::OK }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("download.rs"),
        "// StatusCode in a comment\nfn b(r: R) { r.status() == StatusCode::OK }\n",
    )
    .unwrap();
    let found = http_outside_github(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("download.rs:2:"), "{found:?}");
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

/// Files of `src/` that consume a network body anywhere but `github/body.rs`, the one bounded
/// reader, with what they call. Comments and unit tests do not count.
fn bodies_read_outside_the_reader(src: &Path) -> Vec<String> {
    let reader = src.join("github").join("body.rs");
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    assert!(src.join("github/body.rs").is_file());
    let found = bodies_read_outside_the_reader(&src);
    assert!(
        found.is_empty(),
        "read these through github::body (BodyReader, read_capped, snippet), which bounds every body:\n{}",
        found.join("\n")
    );
    // The check itself sees a read split over lines, and not one in a comment or a unit test.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("github")).unwrap();
    std::fs::write(
        dir.path().join("github/body.rs"),
        "async fn a(r: R) { r.chunk().await }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("download.rs"),
        "// r.text().await\nasync fn b(r: R) { r\n    .bytes()\n    .await }\n#[cfg(test)]\nmod t { r.json::<T>() }\n",
    )
    .unwrap();
    let found = bodies_read_outside_the_reader(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].ends_with("download.rs: .bytes().await"),
        "{found:?}"
    );
}

/// The files that may read a file's content with `std::fs::read*` (or `fs_err::read*`), and
/// why: `crates/extract/src/user_file.rs` holds the one reader of files a user names
/// (`read_user_file`: regular files only, at most 64 MiB, never echoed; `confined` keeps
/// `expected-files: @path` inside the workspace), which `pin.rs`, `settings.rs` (`trusted-root`),
/// `github/tls.rs` (`SSL_CERT_FILE`) and the offline verifier call; nowhere else may start
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

/// The dependencies a crate's manifest declares for its library (not its tests): every
/// `name = ...` line of a `[dependencies]` or `[target.*.dependencies]` table.
fn library_dependencies(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]"
                || (line.starts_with("[target.") && line.ends_with(".dependencies]"));
        } else if in_deps && !line.starts_with('#') && line.contains('=') {
            deps.push(line.to_string());
        }
    }
    deps
}

/// What the compiler cannot see: which crate may call the network. The extraction core takes
/// bytes already on disk, so it links no HTTP client, and of the workspace only util (the log,
/// cancellation), so it cannot reach a stage or the GitHub client.
#[test]
fn the_extract_crate_links_no_http_client_and_no_workspace_crate_but_util() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/extract/Cargo.toml");
    let deps = library_dependencies(&std::fs::read_to_string(manifest).unwrap());
    assert!(
        deps.iter().any(|d| d.starts_with("zip ")),
        "the scan found too little: {deps:?}"
    );
    let http = ["reqwest", "hyper", "ureq", "h2", "rustls"];
    for dep in &deps {
        let name = dep.split([' ', '=']).next().unwrap();
        assert!(!http.contains(&name), "crates/extract depends on {dep}");
        if dep.contains("path =") {
            assert!(
                dep.contains("package = \"artifetch-util\""),
                "crates/extract depends on a workspace crate other than util: {dep}"
            );
        }
    }
    let found = library_dependencies(
        "[dependencies]\nreqwest = \"1\"\n[dev-dependencies]\nfakehub = { path = \"x\" }\n",
    );
    assert_eq!(found, ["reqwest = \"1\""]);
}
