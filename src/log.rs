//! Log lines and workflow commands: the one place that prints to the step log.
//!
//! Inside Actions (`GITHUB_ACTIONS=true`) this speaks workflow commands (`::group::`,
//! `::warning::`, ...); outside it prints plain lines a person can read. A leaf module: every
//! stage holds a [`Log`], and nothing here knows about the stages.

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
        println!("{msg}");
    }

    /// Request-level detail, only with `RUNNER_DEBUG=1`. Never pass a token or signed query here.
    pub fn debug(&self, msg: &str) {
        if self.debug {
            if self.actions {
                println!("::debug::{}", escape_data(msg));
            } else {
                println!("debug: {msg}");
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
            println!("::{level}::{}", escape_data(msg));
        } else {
            eprintln!("{level}: {msg}");
        }
    }

    pub fn group(&self, title: &str) {
        if self.actions {
            println!("::group::{}", escape_data(title));
        } else {
            println!("{title}");
        }
    }

    /// A whole group at once, so that concurrent artifacts do not interleave their lines.
    pub fn group_block(&self, title: &str, lines: &[String]) {
        let mut text = String::new();
        if self.actions {
            text.push_str(&format!("::group::{}\n", escape_data(title)));
            for line in lines {
                text.push_str(&format!("{line}\n"));
            }
            text.push_str("::endgroup::\n");
        } else {
            text.push_str(&format!("{title}\n"));
            for line in lines {
                text.push_str(&format!("  {line}\n"));
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

/// Workflow-command message escaping (`%`, CR, LF), as `@actions/core` does it.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::escape_data;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50%\nx"), "50%25%0Ax");
    }
}
