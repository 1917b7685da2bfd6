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
use std::sync::{Arc, RwLock};

/// Log lines and annotations. Cheap to clone; every stage holds one, and all clones share the
/// secrets to redact.
#[derive(Debug, Clone)]
pub struct Log {
    actions: bool,
    debug: bool,
    secrets: Arc<RwLock<Vec<String>>>,
}

/// Shorter secrets are not redacted: a token of 1 to 3 characters is not a real token, and
/// replacing every `a` or `t` in the log would make it unreadable.
const MIN_SECRET: usize = 4;

/// Query parameters of signed URLs (Azure SAS, S3, GCS) whose values grant or describe access.
const SIGNED_QUERY: &[&str] = &[
    "sig",
    "se",
    "sv",
    "st",
    "sp",
    "sr",
    "spr",
    "skoid",
    "sktid",
    "skt",
    "ske",
    "sks",
    "skv",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "token",
    "access_token",
];

impl Log {
    pub fn new(actions: bool, debug: bool) -> Log {
        Log {
            actions,
            debug,
            secrets: Arc::default(),
        }
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
        neutralise(&cut_long_runs(&self.redact(msg)))
    }

    /// `text` with every secret given to [`Log::mask`] and every signed-URL query value replaced
    /// by `***`: for anything that leaves the process (log, summary, outputs) and may hold
    /// server text, since a server may echo the token or a signed URL back.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_string();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        redact_url_credentials(&redact_signed_query(&out))
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

    /// Every annotation carries `title=artifetch`, so the run's page says which step spoke.
    fn annotate(&self, level: &str, msg: &str) {
        if self.actions {
            println!(
                "::{level} title=artifetch::{}",
                escape_data(&self.text(msg))
            );
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

    /// Tells the runner to mask `secret` in every later log line, and redacts it from every
    /// later message ourselves (outside Actions nobody else would).
    pub fn mask(&self, secret: &str) {
        if secret.len() >= MIN_SECRET {
            let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
            if !secrets.iter().any(|s| s == secret) {
                secrets.push(secret.to_string());
                // Longest first, so that a secret containing another is replaced whole.
                secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
        }
        if self.actions && !secret.is_empty() {
            println!("::add-mask::{}", escape_data(secret));
        }
    }
}

/// A document (the manifest's canonical text) for stdout. In Actions, unless stdout is a regular
/// file (`> manifest.txt` is never the log), every line is [`neutralise`]d as a log line is: a
/// file named `##[error]x` must not become a workflow command. Elsewhere, the text as is.
pub fn document_for_stdout(log: &Log, text: &str) -> String {
    if !log.in_actions() || stdout_is_regular_file() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(&neutralise(line));
        out.push('\n');
    }
    out
}

#[cfg(unix)]
fn stdout_is_regular_file() -> bool {
    use std::os::fd::AsFd;
    let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.is_file())
}

#[cfg(windows)]
fn stdout_is_regular_file() -> bool {
    use std::os::windows::io::AsHandle;
    let Ok(handle) = std::io::stdout().as_handle().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(handle)
        .metadata()
        .is_ok_and(|m| m.is_file())
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

/// A run of non-blank characters longer than this (a path near `PATH_MAX`, an endless server
/// token) is shown as its head and tail around `…`.
const LONG_RUN: usize = 240;
const RUN_KEEP: usize = 100;

/// Cuts every over-long run of non-blank characters to head…tail, so one message cannot become
/// a multi-kilobyte line; both ends stay, since a path's tail names what failed.
fn cut_long_runs(s: &str) -> String {
    if s.len() <= LONG_RUN {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len().min(4 * LONG_RUN));
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut String| {
        if run.len() > LONG_RUN {
            out.extend(&run[..RUN_KEEP]);
            out.push('…');
            out.extend(&run[run.len() - RUN_KEEP..]);
        } else {
            out.extend(run.iter());
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_whitespace() {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Replaces the value of each [`SIGNED_QUERY`] parameter (after `?` or `&`, any case) by `***`.
fn redact_signed_query(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if matches!(bytes[i], b'?' | b'&') {
            let rest = &lower[i + 1..];
            let hit = SIGNED_QUERY.iter().find(|name| {
                rest.starts_with(*name) && rest.as_bytes().get(name.len()) == Some(&b'=')
            });
            if let Some(name) = hit {
                let start = i + 1 + name.len() + 1;
                let end = text[start..]
                    .find(|c: char| {
                        c == '&' || c == '#' || c.is_whitespace() || "\"'<>()[]{}|\\`".contains(c)
                    })
                    .map_or(text.len(), |n| start + n);
                out.push_str(&text[copied..start]);
                out.push_str("***");
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the `user:password` of every URL (`scheme://user:password@host`, a proxy's say) by
/// `***`: the host stays, so the message still says which one.
fn redact_url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = at + 3;
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        // The authority ends at the path, query, fragment, a blank or quoting punctuation.
        let end = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'<>()[]{}|\\`,;".contains(c))
            .unwrap_or(rest.len());
        if let Some(user_end) = rest[..end].rfind('@') {
            out.push_str("***");
            rest = &rest[user_end..];
        }
    }
    out.push_str(rest);
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
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::{Log, escape_data, neutralise};

    #[test]
    fn long_runs_keep_head_and_tail() {
        let path = format!("/{}/TAIL", "d".repeat(4000));
        let cut = super::cut_long_runs(&format!("cannot create {path}: too long"));
        assert!(cut.starts_with("cannot create /ddd") && cut.ends_with("d/TAIL: too long"));
        assert!(cut.contains('…') && cut.len() < 300, "{cut}");
        assert_eq!(super::cut_long_runs("short words stay"), "short words stay");
    }

    #[test]
    fn secrets_and_signed_query_values_are_redacted() {
        let log = Log::new(false, false);
        log.mask("ghs_secret");
        log.mask("abc");
        assert_eq!(
            log.redact(
                "token ghs_secret at https://b/x?sv=1&SE=2&sig=a%2Bb&X-Amz-Signature=z#f and abc"
            ),
            "token *** at https://b/x?sv=***&SE=***&sig=***&X-Amz-Signature=***#f and abc"
        );
        assert_eq!(log.redact("case=1&sex=2 ?sig"), "case=1&sex=2 ?sig");
        assert_eq!(log.redact("é?sig=é&x=1"), "é?sig=***&x=1");
        assert_eq!(
            log.redact("proxy http://u:p%40ss@proxy:3128/x and https://h/a@b, git@h:x"),
            "proxy http://***@proxy:3128/x and https://h/a@b, git@h:x"
        );
        assert_eq!(
            log.redact("'socks5://tok@[::1]:1'"),
            "'socks5://***@[::1]:1'"
        );
    }

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
