//! Entry-name and symlink-target checks: pure functions on strings, no I/O.
//!
//! Every name in an archive is validated here before anything is written, so a hostile name can
//! never reach the filesystem; `show` quotes names for messages without flooding the log.

/// NAME_MAX on every filesystem we care about.
const MAX_COMPONENT_BYTES: usize = 255;
/// PATH_MAX - 1: longer names could never be created, and bounding them keeps the per-prefix
/// checks below cheap even for hostile names.
const MAX_NAME_BYTES: usize = 4095;
/// Bounds the per-prefix work for names like `a/a/a/...`; real trees are far shallower.
const MAX_DEPTH: usize = 256;
/// Bytes of an entry name quoted in messages.
const SHOWN_BYTES: usize = 120;

/// Quote a raw name for messages; invalid UTF-8 is shown byte-escaped rather than replaced.
/// Names longer than `SHOWN_BYTES` are cut, with their length, so a 4 KiB hostile name does not
/// flood the log.
pub(super) fn show(raw: &[u8]) -> String {
    let (head, cut) = if raw.len() > SHOWN_BYTES {
        // Back up to a character boundary when the name is UTF-8.
        let mut end = SHOWN_BYTES;
        while end > 0 && std::str::from_utf8(&raw[..end]).is_err() && raw.len() - end < 4 {
            end -= 1;
        }
        (&raw[..end], true)
    } else {
        (raw, false)
    };
    let quoted = match std::str::from_utf8(head) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("\"{}\"", head.escape_ascii()),
    };
    if cut {
        format!("{quoted}… ({} bytes)", raw.len())
    } else {
        quoted
    }
}

/// Validate a raw entry name; returns the normalized relative path and whether it ends in '/'.
pub(super) fn normalize_entry_name(raw: &[u8]) -> Result<(String, bool), String> {
    if raw.is_empty() {
        return Err("empty name".into());
    }
    if raw.len() > MAX_NAME_BYTES {
        return Err(format!("name is longer than {MAX_NAME_BYTES} bytes"));
    }
    let name = std::str::from_utf8(raw).map_err(|_| "name is not valid UTF-8".to_owned())?;
    if name.contains('\\') {
        return Err("name contains a backslash (artifact zips use '/')".into());
    }
    if name.chars().any(char::is_control) {
        return Err("name contains a NUL or control character".into());
    }
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("name has a '..' component".into()),
            _ => {}
        }
        if let Some(why) = component_problem(part) {
            return Err(format!("component {} {why}", show(part.as_bytes())));
        }
        parts.push(part);
    }
    if parts.len() > MAX_DEPTH {
        return Err(format!("path is deeper than {MAX_DEPTH} components"));
    }
    Ok((parts.join("/"), name.ends_with('/')))
}

/// Why `c` is not a safe single path component, if it is not.
pub(super) fn component_problem(c: &str) -> Option<&'static str> {
    if c.is_empty() {
        return Some("is empty");
    }
    if c == "." || c == ".." {
        return Some("is '.' or '..'");
    }
    if c.contains(['/', '\\']) {
        return Some("contains a path separator");
    }
    if c.chars().any(char::is_control) {
        return Some("contains a NUL or control character");
    }
    if c.len() > MAX_COMPONENT_BYTES {
        return Some("is longer than 255 bytes");
    }
    let b = c.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("has a drive prefix");
    }
    if cfg!(windows) {
        return windows_problem(c);
    }
    None
}

/// Does `c` name a git metadata directory (`.git`) on some filesystem a checkout may live on?
///
/// An artifact that writes `.git/config` or `.git/hooks/*` into a checkout runs code at the next
/// git command (`core.fsmonitor`, hooks). Compared the way the filesystems that alias names do,
/// as git itself does (`is_ntfs_dotgit`, `is_hfs_dotgit`): case-insensitively; without an NTFS
/// stream suffix (`.git::$INDEX_ALLOCATION`) or the trailing dots and spaces Windows strips;
/// without the Unicode code points HFS+ ignores (U+200C, U+FEFF, ...); and the 8.3 short name
/// `GIT~1` (any `GIT~<digits>`, since the number depends on what the directory held before).
pub(super) fn is_git_alias(c: &str) -> bool {
    let kept: String = c.chars().filter(|&ch| !hfs_ignorable(ch)).collect();
    let base = kept.split(':').next().unwrap_or("");
    let base = base.trim_end_matches(['.', ' ']).to_ascii_lowercase();
    base == ".git"
        || base
            .strip_prefix("git~")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Code points HFS+ drops when comparing names (the list git's `is_hfs_dotgit` uses).
fn hfs_ignorable(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{206A}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{00AD}')
}

/// The first component of a normalized path that names `.git`, if any.
pub(super) fn git_component(path: &str) -> Option<&str> {
    path.split('/').find(|c| is_git_alias(c))
}

/// Names that are fine on Unix but that Windows would reinterpret.
fn windows_problem(c: &str) -> Option<&'static str> {
    if c.contains(':') {
        return Some("contains ':' (an NTFS alternate data stream)");
    }
    if c.contains(['<', '>', '"', '|', '?', '*']) {
        return Some("contains a character Windows does not allow");
    }
    if c.ends_with(['.', ' ']) {
        return Some("ends with '.' or ' ', which Windows strips");
    }
    let stem = c
        .split('.')
        .next()
        .unwrap_or(c)
        .trim_end()
        .to_ascii_uppercase();
    let numbered = |p: &str| {
        stem.len() == 4 && stem.starts_with(p) && matches!(stem.as_bytes()[3], b'1'..=b'9')
    };
    if matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL") || numbered("COM") || numbered("LPT")
    {
        return Some("is a reserved device name on Windows");
    }
    None
}

/// Check a symlink target lexically against the directory depth of the link; returns it
/// normalized to `../../down/names`.
///
/// `..` is accepted only before any other component: the link's own directory is a real directory
/// (we never create anything under a symlink), so leading `..`s resolve exactly as written. A
/// `..` after a name would be resolved from wherever that name leads on disk, and if it is another
/// of our links (`up -> ../..`, `x -> up/..`) lexical and real resolution differ and `x` escapes.
/// With that rule each link points inside the root, so chains of links stay inside too.
pub(super) fn normalize_link_target(target: &str, depth: usize) -> Result<String, String> {
    if target.is_empty() {
        return Err("empty target".into());
    }
    if target.starts_with('/') {
        return Err("absolute target".into());
    }
    if target.contains('\\') {
        return Err("target contains a backslash".into());
    }
    if target.chars().any(char::is_control) {
        return Err("target contains a NUL or control character".into());
    }
    let mut ups = 0;
    let mut down = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if down.is_empty() => ups += 1,
            ".." => return Err("target has '..' after a name".into()),
            _ => {
                if let Some(why) = component_problem(part) {
                    return Err(format!("target component {} {why}", show(part.as_bytes())));
                }
                down.push(part);
            }
        }
    }
    if ups > depth {
        return Err("target points outside the extraction root".into());
    }
    let mut parts = vec![".."; ups];
    parts.extend(down);
    Ok(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::is_safe_component;
    use crate::testkit::{Zip, refused};

    #[test]
    fn hostile_names_refused() {
        for (name, why) in [
            (&b"../x"[..], "'..'"),
            (b"a/../../x", "'..'"),
            (b"a/..", "'..'"),
            (b"/abs", "absolute"),
            (b"C:\\x", "backslash"),
            (b"C:x", "drive prefix"),
            (b"a/C:x", "drive prefix"),
            (b"..\\x", "backslash"),
            (b"a\\b", "backslash"),
            (b"a\0b", "control"),
            (b"a\x1bb", "control"),
            (b"a\x7fb", "control"),
            (b"bad\xff.txt", "UTF-8"),
            (b".", "empty name"),
        ] {
            let bytes = Zip::new().file("ok.txt", b"ok").file(name, b"evil").bytes();
            let err = refused(&bytes);
            let shown = show(name);
            assert!(err.contains(&shown), "{err} should name {shown}");
            assert!(err.contains(why), "{err} should say {why}");
        }
        let long = format!("d/{}", "n".repeat(300));
        let err = refused(&Zip::new().file(&long, b"x").bytes());
        assert!(err.contains("longer than 255 bytes"), "{err}");
        let deep = "d/".repeat(MAX_DEPTH + 1) + "f";
        let err = refused(&Zip::new().file(&deep, b"x").bytes());
        assert!(err.contains("deeper"), "{err}");
        assert!(show(b"bad\xff.txt").contains("\\xff"));
    }

    #[test]
    fn name_normalization() {
        assert_eq!(normalize_entry_name(b"./a/./b/"), Ok(("a/b".into(), true)));
        assert_eq!(normalize_entry_name(b"a//b"), Ok(("a/b".into(), false)));
        assert_eq!(normalize_entry_name(b"./"), Ok((String::new(), true)));
        assert!(normalize_entry_name(b"").is_err());
        assert!(normalize_entry_name(b"a/../b").is_err());
        assert!(normalize_entry_name("naïve/日本.txt".as_bytes()).is_ok());
        assert!(normalize_entry_name(b"ab:c").is_ok() != cfg!(windows));
        assert!(normalize_entry_name(&[b'a'; MAX_NAME_BYTES + 1]).is_err());
    }

    #[test]
    fn safe_components() {
        for ok in [
            "artifact",
            "my-artifact_1.2",
            "a b",
            "日本",
            ".hidden",
            "..x",
            "x..y",
            "ab:c",
        ] {
            assert_eq!(
                is_safe_component(ok),
                !(cfg!(windows) && ok == "ab:c"),
                "{ok}"
            );
        }
        let long = "x".repeat(256);
        for bad in [
            "", ".", "..", "a/b", "/", "a\\b", "a\0b", "a\nb", "a\x7f", "C:", "c:x", &long,
        ] {
            assert!(!is_safe_component(bad), "{bad:?}");
        }
        for bad in [
            "a:b", "x.", "x ", "CON", "con.txt", "Lpt1", "COM9.log", "a|b", "a?",
        ] {
            assert!(windows_problem(bad).is_some(), "{bad:?}");
        }
        for ok in ["CONSOLE", "COM0", "LPT10", "x.y", "nul_"] {
            assert!(windows_problem(ok).is_none(), "{ok:?}");
        }
    }

    #[test]
    fn git_aliases() {
        for git in [
            ".git",
            ".GIT",
            ".Git",
            ".git.",
            ".git ",
            ".git. . ",
            ".git::$INDEX_ALLOCATION",
            ".git:stream",
            ".GIT .::$INDEX_ALLOCATION",
            "GIT~1",
            "git~1",
            "Git~12",
            "git~1.",
            ".g\u{200c}it",
            "\u{200d}.git",
            ".git\u{feff}",
            ".\u{206f}GIT\u{200e}",
        ] {
            assert!(is_git_alias(git), "{git:?}");
        }
        for other in [
            ".gitignore",
            ".github",
            ".gitattributes",
            "git",
            ".gi",
            "x.git",
            "git~",
            "git~x",
            "..git",
            ".git-foo",
            "foo.git.",
        ] {
            assert!(!is_git_alias(other), "{other:?}");
        }
        assert_eq!(git_component("a/.GIT./hooks/post-checkout"), Some(".GIT."));
        assert_eq!(git_component("a/.github/x"), None);
    }

    #[test]
    fn git_entries_refused_unless_allowed() {
        use crate::{Limits, extract_zip};
        for (name, shown) in [
            (".git/config", "\".git\""),
            ("sub/.git/hooks/pre-commit", "\".git\""),
            (".Git/config", "\".Git\""),
            ("GIT~1/config", "\"GIT~1\""),
            (".git::$INDEX_ALLOCATION/config", "INDEX_ALLOCATION"),
            (".g\u{200c}it/config", "\".g\\u{200c}it\""),
            (".git", "\".git\""),
        ] {
            let bytes = Zip::new().file("ok.txt", b"ok").file(name, b"evil").bytes();
            let err = refused(&bytes);
            assert!(err.contains(shown), "{err} should name {shown}");
            assert!(err.contains("allow-git-paths"), "{err}");
        }
        // A symlink into .git is refused as well: it would let a later write reach it.
        let err = refused(&Zip::new().link("hooks", ".git/hooks").bytes());
        assert!(
            err.contains("\"hooks\"") && err.contains("allow-git-paths"),
            "{err}"
        );

        let bytes = Zip::new().file(".git/config", b"allowed").bytes();
        let env = crate::testkit::env(&bytes);
        let limits = Limits {
            allow_git_paths: true,
            ..Limits::default()
        };
        extract_zip(&env.archive, &env.staging, &limits).unwrap();
        assert_eq!(
            std::fs::read(env.staging.join(".git/config")).unwrap(),
            b"allowed"
        );
    }

    #[test]
    fn link_targets() {
        assert_eq!(normalize_link_target("a/./b", 0).unwrap(), "a/b");
        assert_eq!(normalize_link_target("../../x", 2).unwrap(), "../../x");
        assert_eq!(normalize_link_target("..", 1).unwrap(), "..");
        assert_eq!(normalize_link_target(".", 0).unwrap(), ".");
        assert!(normalize_link_target("../x", 0).is_err());
        assert!(normalize_link_target("../../../x", 2).is_err());
        assert!(normalize_link_target("a/../b", 3).is_err());
        assert!(normalize_link_target("/etc/passwd", 3).is_err());
        assert!(normalize_link_target("C:x", 3).is_err());
        assert!(normalize_link_target("a\\b", 3).is_err());
        assert!(normalize_link_target("a\0", 3).is_err());
        assert!(normalize_link_target("", 3).is_err());
    }

    #[test]
    fn symlink_outside_refused() {
        for (name, target) in [
            ("l", "../x"),
            ("l", "/etc/passwd"),
            ("d/l", "../../x"),
            ("d/l", "../d/../../x"),
            ("l", "..\\x"),
        ] {
            let err = refused(&Zip::new().dir("d/").link(name, target).bytes());
            assert!(err.contains(&format!("{name:?}")), "{err}");
            assert!(err.contains("symlink"), "{err}");
        }
    }
}
