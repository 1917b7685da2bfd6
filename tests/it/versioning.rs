//! The tag users copy from the docs is the tag a release moves: every `uses: <owner>/artifetch@vN`
//! snippet in README.md and docs/ names Cargo.toml's major version (scripts/release/check-version.sh
//! refuses to publish otherwise; this test catches the drift when the version or a snippet changes).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `N` of each `artifetch@vN` after a `uses:` in `text`, with its line number.
fn snippet_majors(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(after) = line.split_once("uses:").map(|(_, a)| a.trim()) else {
            continue;
        };
        let Some((action, tag)) = after.split_once('@') else {
            continue;
        };
        if action.rsplit('/').next() != Some("artifetch") {
            continue;
        }
        let tag: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
        if let Some(major) = tag.strip_prefix('v')
            && !major.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
        {
            found.push((i + 1, major.to_string()));
        }
    }
    found
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

fn cargo_major() -> String {
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let package = cargo.split("[package]").nth(1).unwrap();
    let version = package
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .unwrap();
    version.split('.').next().unwrap().to_string()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().display().to_string()
}

#[test]
fn readme_snippets_name_cargo_tomls_major_version() {
    let major = cargo_major();
    assert_ne!(
        major, "0",
        "a 0.x release would move v0, a tag no snippet names"
    );
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        !snippet_majors(&readme).is_empty(),
        "README.md has no `uses: <owner>/artifetch@vN` snippet"
    );
    let mut wrong = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, named) in snippet_majors(&text) {
            if named != major {
                wrong.push(format!("{}:{line}: @v{named}", relative(&file)));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "Cargo.toml's version moves v{major}, but these snippets name another tag:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn snippet_majors_reads_uses_lines_only() {
    let text = "- uses: artifetch/artifetch@v1\n  uses: OWNER/artifetch@v2 # c\nuses: a/other@v3\n\
                uses: artifetch/artifetch@0123abc\nartifetch@v4\n";
    assert_eq!(
        snippet_majors(text),
        [(1, "1".to_string()), (2, "2".to_string())]
    );
}
