//! Artifact-name globs with the semantics of minimatch, which the official download action uses.
//!
//! globset does the matching (the glob crate has no brace sets `{a,b}`); this module adds what
//! minimatch does on top: a leading `!` negates, `*`/`?`/`[..]` never match a leading dot, and
//! syntax minimatch would read differently (extglobs, numeric ranges) is refused rather than
//! silently matched as something else.

use anyhow::{Result, bail};
use globset::{GlobBuilder, GlobMatcher};

#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    negated: bool,
    /// A leading dot in a name must be matched by a literal dot in the pattern.
    dot_literal: bool,
    matcher: GlobMatcher,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Pattern> {
        let bang = source.len() - source.trim_start_matches('!').len();
        let body = &source[bang..];
        if body.is_empty() {
            bail!("pattern '{source}' is empty after '!'; expected a glob such as 'build-*'");
        }
        for ext in ["+(", "@(", "!(", "?(", "*("] {
            if body.contains(ext) {
                bail!(
                    "pattern '{source}': extglob '{ext}..)' is not supported; expected *, ?, [..] or {{a,b}}"
                );
            }
        }
        if has_numeric_range(body) {
            bail!(
                "pattern '{source}': brace ranges like {{1..3}} are not supported; list the values as {{1,2,3}}"
            );
        }
        let glob = GlobBuilder::new(body)
            .literal_separator(true)
            .backslash_escape(true)
            .empty_alternates(true)
            .build()
            .map_err(|e| anyhow::anyhow!("pattern '{source}' is not a valid glob: {}", e.kind()))?;
        Ok(Pattern {
            source: source.to_string(),
            negated: bang % 2 == 1,
            dot_literal: body.starts_with('.'),
            matcher: glob.compile_matcher(),
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        let hit = self.matcher.is_match(name) && (!name.starts_with('.') || self.dot_literal);
        hit != self.negated
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// The `files` input: path globs over the entries inside an artifact, one a line, each in the
/// syntax of [`Pattern`] (`*` stays within one path segment, `**` crosses `/`). A path is taken
/// when some plain line matches it (or there are only `!` lines) and no `!` line does. Unlike
/// artifact names, a leading dot is not special here: `bin/**` takes `bin/.config` too, as a
/// directory's contents are what a path glob asks for.
#[derive(Debug, Clone)]
pub struct PathGlobs {
    take: Vec<Pattern>,
    leave: Vec<Pattern>,
}

impl PathGlobs {
    /// Parses the lines of `text`; blank lines are skipped. `None` when there are none.
    pub fn parse(text: &str) -> Result<Option<PathGlobs>> {
        let (mut take, mut leave) = (Vec::new(), Vec::new());
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let pattern = Pattern::new(line.trim_start_matches("./"))
                .map_err(|e| anyhow::anyhow!("files: {e:#}"))?;
            if pattern.negated {
                leave.push(pattern);
            } else {
                take.push(pattern);
            }
        }
        Ok((!take.is_empty() || !leave.is_empty()).then_some(PathGlobs { take, leave }))
    }

    /// Is the entry at `path` (normalized: `/`-joined, no `.` components) taken?
    pub fn takes(&self, path: &str) -> bool {
        let hit = |p: &Pattern| p.matcher.is_match(path);
        (self.take.is_empty() || self.take.iter().any(hit)) && !self.leave.iter().any(hit)
    }

    /// The plain lines that take none of `paths` (`!` lines exclude; they need not match).
    pub fn unmatched<'a>(&self, paths: impl Iterator<Item = &'a str> + Clone) -> Vec<String> {
        self.take
            .iter()
            .filter(|p| {
                !paths
                    .clone()
                    .any(|path| p.matcher.is_match(path) && self.takes(path))
            })
            .map(|p| p.source.clone())
            .collect()
    }
}

/// `{1..3}` or `{a..c}`: minimatch expands these, globset would match them literally.
fn has_numeric_range(body: &str) -> bool {
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return false;
        };
        let inner = &after[..close];
        if let Some((a, b)) = inner.split_once("..")
            && !a.is_empty()
            && !b.is_empty()
            && !inner.contains(',')
        {
            return true;
        }
        rest = &after[close..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, name: &str) -> bool {
        Pattern::new(p).unwrap().matches(name)
    }

    #[test]
    fn star_question_class_and_braces() {
        assert!(m("build-*", "build-linux"));
        assert!(!m("build-*", "test-linux"));
        assert!(m("v?", "v1"));
        assert!(m("[ab]-x", "b-x"));
        assert!(m("{linux,mac}-bin", "mac-bin"));
        assert!(!m("{linux,mac}-bin", "win-bin"));
    }

    #[test]
    fn negation_and_leading_dot() {
        assert!(m("!build-*", "logs"));
        assert!(!m("!build-*", "build-1"));
        assert!(m("!!build-*", "build-1"));
        assert!(!m("*", ".hidden"));
        assert!(m(".h*", ".hidden"));
    }

    fn globs(text: &str) -> PathGlobs {
        PathGlobs::parse(text).unwrap().unwrap()
    }

    #[test]
    fn path_globs_stay_in_a_segment_unless_double_star() {
        let g = globs("bin/*");
        assert!(g.takes("bin/tool") && g.takes("bin/.hidden"));
        assert!(!g.takes("bin/sub/tool") && !g.takes("lib/bin/tool"));
        let g = globs("**/*.so\n./docs/**\n");
        assert!(g.takes("a/b/c.so") && g.takes("c.so") && g.takes("docs/x/y.md"));
        assert!(!g.takes("a/b/c.sox"));
    }

    #[test]
    fn path_globs_exclude_and_report_lines_that_take_nothing() {
        let g = globs("bin/**\n!bin/*.debug\nman/*");
        assert!(g.takes("bin/tool") && !g.takes("bin/tool.debug"));
        assert_eq!(
            g.unmatched(["bin/tool.debug"].into_iter()),
            ["bin/**", "man/*"]
        );
        assert_eq!(
            g.unmatched(["bin/a", "man/a.1"].into_iter()),
            Vec::<String>::new()
        );
        // Only exclusions: everything else is taken, and nothing can be "unmatched".
        let g = globs("!**/*.pdb");
        assert!(g.takes("a.exe") && !g.takes("x/a.pdb"));
        assert!(g.unmatched([].into_iter()).is_empty());
        assert!(PathGlobs::parse(" \n\n").unwrap().is_none());
        let e = PathGlobs::parse("ok\n[").unwrap_err().to_string();
        assert!(e.starts_with("files: pattern '['"), "{e}");
    }

    #[test]
    fn unsupported_and_malformed_are_errors() {
        for bad in ["[", "+(a|b)", "@(x)", "{1..3}", "!", "a{b"] {
            let e = Pattern::new(bad);
            assert!(e.is_err(), "{bad} should be refused");
            assert!(
                e.unwrap_err().to_string().contains(bad),
                "error names the pattern"
            );
        }
    }
}
