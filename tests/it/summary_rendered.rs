//! Every job-summary snapshot (`tests/snapshots/*.snap`) as a reader sees it: rendered by comrak,
//! the Rust port of GitHub's cmark-gfm, with GitHub's extensions (tables, strikethrough,
//! autolinks, task lists) and its tag filter, raw HTML allowed as GitHub allows `<details>` and
//! `<sub>`. The rendered page must show a table row per artifact row written (no row broken or
//! merged by what a cell holds), every row as wide as its header, no literal backtick outside
//! code (a fix shows as code), no tag shown as text, and a `<details>` that opens to a table.

use std::path::PathBuf;

fn render(markdown: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    options.extension.tasklist = true;
    options.extension.tagfilter = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(markdown, &options)
}

/// The snapshots on disk: (file name, Markdown without insta's header).
fn snapshots() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "snap") {
            let text = std::fs::read_to_string(&path).unwrap();
            // insta's header: `---`, metadata lines, `---`.
            let body = text.splitn(3, "---\n").nth(2).unwrap_or(&text).to_string();
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                body,
            ));
        }
    }
    out.sort();
    assert!(out.len() >= 10, "too few snapshots found: {}", out.len());
    out
}

/// The text between `open` and `close`, each occurrence.
fn between<'a>(html: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    html.split(open)
        .skip(1)
        .filter_map(|rest| rest.split_once(close).map(|(inside, _)| inside))
        .collect()
}

/// What a reader reads: code elements left out, tags removed, entities decoded.
fn visible_text_outside_code(html: &str) -> String {
    let mut without_code = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<code>") {
        without_code.push_str(&rest[..start]);
        rest = rest[start..]
            .split_once("</code>")
            .map_or("", |(_, after)| after);
    }
    without_code.push_str(rest);
    let mut text = String::new();
    let mut in_tag = false;
    for c in without_code.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Markdown table body rows: lines starting with `|`, less each table's header and delimiter.
fn markdown_rows(markdown: &str) -> usize {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut rows = 0;
    for (i, line) in lines.iter().enumerate() {
        let is_row = line.starts_with('|');
        let is_delimiter = line.starts_with("|---");
        let is_header = lines.get(i + 1).is_some_and(|n| n.starts_with("|---"));
        if is_row && !is_delimiter && !is_header {
            rows += 1;
        }
    }
    rows
}

#[test]
fn every_snapshot_reads_right_when_rendered_as_github_does() {
    for (name, markdown) in snapshots() {
        let html = render(&markdown);
        // A table row per row written, each as wide as its header.
        let mut rendered_rows = 0;
        for table in between(&html, "<table>", "</table>") {
            let head = between(table, "<thead>", "</thead>").concat();
            let width = head.matches("<th").count();
            assert!(width > 0, "{name}: a table without a header");
            for row in between(table, "<tbody>", "</tbody>")
                .concat()
                .split("<tr>")
                .skip(1)
            {
                assert_eq!(
                    row.matches("<td").count(),
                    width,
                    "{name}: a row of another width: {row}"
                );
                rendered_rows += 1;
            }
        }
        assert_eq!(
            rendered_rows,
            markdown_rows(&markdown),
            "{name}: rows lost or merged:\n{html}"
        );
        let text = visible_text_outside_code(&html);
        assert!(!text.contains('`'), "{name}: a literal backtick:\n{text}");
        for tag in [
            "<sub", "</sub", "<details", "<summary", "<br", "<code", "<table",
        ] {
            assert!(
                !text.contains(tag),
                "{name}: the tag {tag} shown as text:\n{text}"
            );
        }
        // A folded table: the summary line, then the table itself.
        for details in between(&html, "<details>", "</details>") {
            let after = details
                .split_once("</summary>")
                .map(|(_, a)| a.trim_start());
            assert!(
                after.is_some_and(|a| a.starts_with("<table>")),
                "{name}: <details> does not open to a table:\n{details}"
            );
        }
    }
}

/// What the snapshots must show, by scenario: rows per artifact, and the fix as code.
#[test]
fn stops_and_misses_render_their_fix_as_code_and_list_the_runs_artifacts() {
    let snaps: std::collections::BTreeMap<String, String> = snapshots().into_iter().collect();
    let html = |name: &str| render(&snaps[&format!("{name}.snap")]);
    let rows = |name: &str| html(name).matches("<tr>").count().saturating_sub(1);
    assert_eq!(
        rows("pattern_miss"),
        3,
        "every artifact of the run, expired too"
    );
    assert_eq!(rows("name_typo"), 2);
    assert_eq!(rows("partial_failure"), 2);
    let stop = html("stop_403");
    assert!(
        stop.contains("<h3>❌ artifetch: stopped: the token lacks a permission (403)</h3>"),
        "{stop}"
    );
    assert!(
        stop.contains("Next: add <code>permissions: actions: read</code> to the job"),
        "{stop}"
    );
    assert!(stop.contains("octo/hello #1"), "the run line: {stop}");
    assert!(
        html("partial_failure").contains("<h3>❌"),
        "a failed step shows ❌"
    );
    assert!(html("stop_expired").contains("stopped: the artifact has expired"));
    assert!(html("stop_api_error").contains("Next: re-run the job"));
    let thousand = html("thousand_artifacts");
    assert!(
        thousand.contains("<details><summary>1,000 artifacts</summary>"),
        "{}",
        &thousand[..400]
    );
}

#[test]
fn the_checks_catch_what_they_look_for() {
    // An escaped backtick stays literal; an escaped pipe in a cell does not split it; an
    // unescaped one would.
    let text = visible_text_outside_code(&render("Next: add \\`x\\`."));
    assert!(text.contains('`'));
    let good = "| a | b |\n|---|---|\n| x\\|y | z |\n";
    let bad = "| a | b |\n|---|---|\n| x|y | z |\n";
    let cells = |md: &str| render(md).matches("<td").count();
    assert_eq!(
        (cells(good), cells(bad)),
        (2, 2),
        "comrak drops the extra cell"
    );
    assert!(
        render(bad).contains("<td>x</td>"),
        "the row is cut at the pipe"
    );
    // The tag filter escapes <script>; <details> passes.
    assert!(render("<script>x</script>\n").contains("&lt;script>"));
    assert!(
        render("<details><summary>s</summary>\n\n| a |\n|---|\n| b |\n\n</details>\n")
            .contains("</summary>\n<table>")
    );
}
