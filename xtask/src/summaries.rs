//! `cargo xtask summaries`: every job-summary snapshot (`tests/snapshots/*.snap`, written by
//! `tests/it/summary_snapshots.rs`) rendered to one HTML page with GitHub-flavoured tables,
//! strikethrough and raw `<details>`, so a person can look at them without a workflow run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pulldown_cmark::{Options, Parser, html};

pub fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace")?
        .to_path_buf();
    let page = page(&snapshots(&root.join("tests/snapshots"))?);
    let out = root.join("target/summaries");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let file = out.join("index.html");
    std::fs::write(&file, page).with_context(|| format!("cannot write {}", file.display()))?;
    println!("{}", file.display());
    Ok(())
}

/// `(name, markdown)` of every snapshot, by name.
fn snapshots(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "snap"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let name = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Ok((name, body(&text).to_string()))
        })
        .collect()
}

/// A snapshot's content: what follows its `---`-fenced header.
fn body(snap: &str) -> &str {
    match snap
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
    {
        Some((_, body)) => body,
        None => snap,
    }
}

/// Markdown to HTML as GitHub renders a job summary: tables, strikethrough, raw HTML.
fn render(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut out = String::new();
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
}

fn page(snapshots: &[(String, String)]) -> String {
    let mut html = String::from(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>artifetch job summaries</title>\n\
         <style>body{font:14px -apple-system,Segoe UI,sans-serif;max-width:1012px;margin:2em auto}\
         section{border:1px solid #d0d7de;border-radius:6px;padding:0 16px 16px;margin:24px 0}\
         table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:6px 13px}\
         h2{font-size:12px;color:#59636e;font-family:monospace}</style>\n",
    );
    for (name, markdown) in snapshots {
        html.push_str(&format!(
            "<section>\n<h2>{name}</h2>\n{}</section>\n",
            render(markdown)
        ));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_renders_as_a_table_with_its_heading() {
        let snap = "---\nsource: tests/summary_snapshots.rs\n---\n### ✅ artifetch: 1 artifact fetched\n\n| Artifact | Size |\n|---|--:|\n| dist | 2.9&nbsp;MiB |\n\n<details><summary>more</summary>\n\nx\n</details>\n";
        let html = page(&[("success".into(), body(snap).to_string())]);
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<td>dist</td>"), "{html}");
        assert!(
            html.contains("<h3>✅ artifetch: 1 artifact fetched</h3>"),
            "{html}"
        );
        assert!(html.contains("2.9\u{a0}MiB"), "{html}");
        assert!(html.contains("<details><summary>more</summary>"), "{html}");
        assert!(!html.contains("source:"), "{html}");
    }

    #[test]
    fn every_committed_snapshot_renders() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/snapshots");
        let all = snapshots(&dir).unwrap();
        assert!(all.len() >= 12, "{}", all.len());
        for (name, markdown) in &all {
            assert!(render(markdown).contains("<h3>"), "{name}");
        }
    }
}
