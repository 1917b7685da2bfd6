//! Log lines and workflow commands: the one place that prints to the step log.
//!
//! Inside Actions (`GITHUB_ACTIONS=true`) this speaks workflow commands (`::group::`,
//! `::warning::`, ...); outside it prints plain lines a person can read. A leaf module: every
//! stage holds a [`Log`], and nothing here knows about the stages.
//!
//! Every message may carry text from a server, an archive or an input, so every line goes
//! through [`neutralise`] here rather than at each call site: a `\n` in a server's answer must
//! never start a new line that the runner would read as a workflow command.

use std::io::Write;

/// Log lines and annotations. Cheap to clone; every stage holds one.
#[derive(Debug, Clone)]
pub struct Log {
    actions: bool,
    debug: bool,
}

impl Log {
    pub fn new(actions: bool, debug: bool) -> Log {
        Log { actions, debug }
    }

    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Log {
        Log::new(
            env("GITHUB_ACTIONS").as_deref() == Some("true"),
            env("RUNNER_DEBUG").as_deref() == Some("1"),
        )
    }

    pub fn in_actions(&self) -> bool {
        self.actions
    }

    pub fn info(&self, msg: &str) {
        println!("{}", self.text(msg));
    }

    /// A message made safe for one log line.
    fn text(&self, msg: &str) -> String {
        neutralise(msg)
    }

    /// Request-level detail, only with `RUNNER_DEBUG=1`. Never pass a token or signed query here.
    pub fn debug(&self, msg: &str) {
        if self.debug {
            if self.actions {
                println!("::debug::{}", escape_data(&self.text(msg)));
            } else {
                println!("debug: {}", self.text(msg));
            }
        }
    }

    pub fn warning(&self, msg: &str) {
        self.annotate("warning", msg);
    }

    pub fn error(&self, msg: &str) {
        self.annotate("error", msg);
    }

    fn annotate(&self, level: &str, msg: &str) {
        if self.actions {
            println!("::{level}::{}", escape_data(&self.text(msg)));
        } else {
            eprintln!("{level}: {}", self.text(msg));
        }
    }

    pub fn group(&self, title: &str) {
        if self.actions {
            println!("::group::{}", escape_data(&self.text(title)));
        } else {
            println!("{}", self.text(title));
        }
    }

    /// A whole group at once, so that concurrent artifacts do not interleave their lines.
    pub fn group_block(&self, title: &str, lines: &[String]) {
        let mut text = String::new();
        if self.actions {
            text.push_str(&format!("::group::{}\n", escape_data(&self.text(title))));
            for line in lines {
                text.push_str(&format!("{}\n", self.text(line)));
            }
            text.push_str("::endgroup::\n");
        } else {
            text.push_str(&format!("{}\n", self.text(title)));
            for line in lines {
                text.push_str(&format!("  {}\n", self.text(line)));
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    pub fn end_group(&self) {
        if self.actions {
            println!("::endgroup::");
        }
    }

    /// Tells the runner to mask `secret` in every later log line.
    pub fn mask(&self, secret: &str) {
        if self.actions && !secret.is_empty() {
            println!("::add-mask::{}", escape_data(secret));
        }
    }
}

/// Text made safe for one log line: line breaks and every other control character (C0, DEL,
/// C1) or invisible formatting character (bidi overrides and isolates, zero-width characters,
/// line and paragraph separators) are shown as `\n`, `\r` or `\u{..}`, so nothing from a server
/// can end the line or disguise it. A line that would still read as a workflow command (`::`
/// after leading blanks, which the runner skips) gets a leading `\`, and the legacy `##[`
/// command prefix, recognised anywhere in a line, is broken up.
pub fn neutralise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(c),
            c if c.is_control() || is_invisible_format(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    if out.contains("##[") {
        out = out.replace("##[", "##\\[");
    }
    if out.trim_start().starts_with("::") {
        out.insert(0, '\\');
    }
    out
}

/// Characters that change how text around them displays without showing themselves.
pub fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}'                  // Arabic letter mark
        | '\u{200B}'..='\u{200F}'    // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}'    // line and paragraph separators
        | '\u{202A}'..='\u{202E}'    // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'    // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'    // bidi isolates
        | '\u{FEFF}'                  // zero-width no-break space
    )
}

/// Workflow-command message escaping (`%`, CR, LF), as `@actions/core` does it.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::{escape_data, neutralise};

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50%\nx"), "50%25%0Ax");
    }

    #[test]
    fn server_text_cannot_start_or_disguise_a_line() {
        assert_eq!(
            neutralise("a\n::error::x\r\u{1b}[2J\u{85}\u{202e}b\tc"),
            "a\\n::error::x\\r\\u{1b}[2J\\u{85}\\u{202e}b\tc"
        );
        assert_eq!(neutralise("::add-mask::x"), "\\::add-mask::x");
        assert_eq!(neutralise("  ::stop-commands::t"), "\\  ::stop-commands::t");
        assert_eq!(neutralise("see ##[error]x"), "see ##\\[error]x");
        assert_eq!(neutralise("plain 'name' ok"), "plain 'name' ok");
    }
}
