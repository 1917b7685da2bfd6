//! Hostile archives through the real binary: every one is refused (or warned about) with the
//! entry named, nothing is written outside the destination, and a destination that already held
//! files is left exactly as it was.

use std::path::{Path, PathBuf};

use crate::support::*;
use zipbuild::{Entry, Method, ZipBuilder};

/// A world with a destination that already holds files, and the state to compare against.
struct Scene {
    w: World,
    dest: PathBuf,
    dest_before: std::collections::BTreeMap<String, String>,
    root_before: Vec<String>,
    n: usize,
}

impl Scene {
    fn new() -> Scene {
        let w = World::new();
        let dest = w.workspace().join("dest");
        std::fs::create_dir_all(dest.join("sub")).unwrap();
        std::fs::write(dest.join("keep.txt"), b"mine").unwrap();
        std::fs::write(dest.join("sub/x"), b"old x").unwrap();
        std::fs::write(dest.join("a"), b"old a").unwrap();
        let dest_before = listing(&dest);
        let root_before = entries(w.root.path());
        Scene {
            w,
            dest,
            dest_before,
            root_before,
            n: 0,
        }
    }

    /// Serves `body` as a zip artifact, fetches it into `dest`, and checks containment.
    fn refuse(&mut self, body: Vec<u8>, needles: &[&str]) -> Outcome {
        self.refuse_with(ArtifactSpec::new("x", body), needles, &[])
    }

    fn refuse_with(
        &mut self,
        mut spec: ArtifactSpec,
        needles: &[&str],
        inputs: &[(&str, &str)],
    ) -> Outcome {
        self.n += 1;
        let name = format!("evil-{}", self.n);
        spec.name = name.clone();
        self.w.gh.add_artifact(self.w.run, spec);
        let mut all = vec![
            ("name", name.as_str()),
            ("path", self.dest.to_str().unwrap()),
        ];
        all.extend_from_slice(inputs);
        let out = self.w.run(&all, &[]);
        let quoted = format!("'{name}'");
        let mut needles = needles.to_vec();
        needles.push(&quoted);
        out.failed().one_error(&needles);
        self.assert_contained();
        out
    }

    fn assert_contained(&self) {
        assert_eq!(listing(&self.dest), self.dest_before, "destination changed");
        let mut root = entries(self.w.root.path());
        root.retain(|e| e != "output" && e != "summary");
        assert_eq!(
            root, self.root_before,
            "something created next to the workspace"
        );
        assert_eq!(
            entries(&self.w.workspace()),
            vec!["dest"],
            "something created next to the destination"
        );
        self.w.assert_temp_clean();
        assert!(
            !Path::new("/tmp/artifetch-pwned").exists(),
            "wrote to an absolute path"
        );
    }
}

fn zip_with(entries: Vec<Entry>) -> Vec<u8> {
    entries
        .into_iter()
        .fold(ZipBuilder::new().file("fine.txt", b"fine"), |z, e| {
            z.entry(e)
        })
        .build()
}

fn named(name: &[u8]) -> Vec<u8> {
    zip_with(vec![Entry::new(name, b"evil")])
}

#[test]
fn zip_slip_names_are_refused() {
    let mut s = Scene::new();
    s.refuse(named(b"../x"), &["\"../x\"", "'..'"]);
    s.refuse(named(b"sub/../../x"), &["\"sub/../../x\"", "'..'"]);
    s.refuse(named(b"/tmp/artifetch-pwned"), &["absolute path"]);
    s.refuse(named(b"C:\\x"), &["\"C:\\\\x\"", "backslash"]);
    s.refuse(named(b"C:/x"), &["\"C:/x\"", "drive prefix"]);
    s.refuse(named(b"..\\x"), &["\"..\\\\x\"", "backslash"]);
    s.refuse(named(b"a\\..\\..\\x"), &["backslash"]);
}

#[test]
fn symlinks_out_of_the_root_and_chains_are_refused() {
    let mut s = Scene::new();
    let z = ZipBuilder::new().symlink("link", "../../outside").build();
    s.refuse(z, &["\"link\"", "outside the extraction root"]);
    let z = ZipBuilder::new().symlink("link", "/etc/passwd").build();
    s.refuse(z, &["\"link\"", "absolute target"]);
    // A link to the root, then a link that goes one further *through* it.
    let z = ZipBuilder::new()
        .symlink("x/y/z/up", "../../..")
        .symlink("esc", "x/y/z/up/..")
        .build();
    s.refuse(z, &["\"esc\"", "'..' after a name"]);
    // A file written through an earlier link (or a chain of them).
    let z = ZipBuilder::new()
        .dir("d")
        .symlink("b", "d")
        .symlink("a", "b")
        .file("a/x", b"evil")
        .build();
    s.refuse(z, &["\"a/x\"", "through a symlink"]);
    let z = ZipBuilder::new()
        .symlink("sub", "..")
        .file("sub/pwned", b"evil")
        .build();
    s.refuse(z, &["\"sub/pwned\"", "through a symlink"]);
}

#[test]
fn colliding_and_duplicate_names_are_refused() {
    let mut s = Scene::new();
    let z = ZipBuilder::new().dir("a").file("a", b"file").build();
    s.refuse(z, &["\"a\"", "same path"]);
    let z = ZipBuilder::new()
        .file("a", b"file")
        .file("a/b", b"x")
        .build();
    s.refuse(z, &["\"a/b\"", "is a file"]);
    let z = ZipBuilder::new()
        .file("p/q", b"1")
        .file("p/./q", b"2")
        .build();
    s.refuse(z, &["\"p/./q\"", "same path"]);
    let z = ZipBuilder::new()
        .file("dup.txt", b"first")
        .file("dup.txt", b"second")
        .build();
    s.refuse(z, &["\"dup.txt\"", "duplicate"]);
    // A file of the artifact where the destination has a directory: found before anything is
    // moved, so `a` (which the artifact would replace) keeps its old content.
    let z = ZipBuilder::new()
        .file("a", b"new a")
        .file("sub", b"not a dir")
        .build();
    s.refuse(z, &["sub", "cannot replace directory"]);
    let z = ZipBuilder::new()
        .file("a", b"new a")
        .file("keep.txt/inner", b"x")
        .build();
    s.refuse(z, &["keep.txt", "not a directory"]);
}

#[test]
fn nul_control_and_overlong_names_are_refused() {
    let mut s = Scene::new();
    s.refuse(named(b"a\0b"), &["\"a\\0b\"", "NUL or control"]);
    s.refuse(named(b"a\x1b[31mb"), &["NUL or control"]);
    s.refuse(named(b"line\nbreak"), &["NUL or control"]);
    s.refuse(
        named(b"bad\xffutf8"),
        &["\"bad\\xffutf8\"", "not valid UTF-8"],
    );
    let long = "n".repeat(300);
    s.refuse(named(long.as_bytes()), &["longer than 255 bytes"]);
    let deep = vec!["d".repeat(200); 25].join("/");
    s.refuse(named(deep.as_bytes()), &["longer than 4095 bytes"]);
}

#[test]
fn bombs_and_lying_sizes_are_refused() {
    let mut s = Scene::new();
    // Declares 4 GB, over max-size (1 MiB here).
    let z = zip_with(vec![Entry {
        declared_size_override: Some(0xF000_0000),
        ..Entry::new("bomb.bin", &[0u8; 10_000])
    }]);
    s.refuse_with(
        ArtifactSpec::new("x", z),
        &["\"bomb.bin\"", "max-size", "declare"],
        &[("max-size", "1MiB")],
    );
    // Honest sizes, but more than max-size in total.
    let z = ZipBuilder::new()
        .file("a.bin", &[0u8; 600_000])
        .file("b.bin", &[0u8; 600_000])
        .build();
    s.refuse_with(
        ArtifactSpec::new("x", z),
        &["limit of 1048576 bytes"],
        &[("max-size", "1MiB")],
    );
    // Actual data longer than declared (a bomb that lies), deflated and stored.
    for method in [Method::Deflate, Method::Stored] {
        let z = zip_with(vec![Entry {
            declared_size_override: Some(100),
            method,
            ..Entry::new("liar.bin", &[7u8; 50_000])
        }]);
        s.refuse(z, &["\"liar.bin\""]);
    }
    // Actual data shorter than declared.
    let z = zip_with(vec![Entry {
        declared_size_override: Some(90_000),
        ..Entry::new("short.bin", &[7u8; 50_000])
    }]);
    s.refuse(z, &["\"short.bin\""]);
}

#[test]
fn zip_bombs_overlapping_entries_name_mismatches_ratio_and_entry_count_are_refused() {
    let mut s = Scene::new();
    // 100 central entries reading one local record of 64 KiB of zeros.
    let aliases: Vec<String> = (1..100).map(|i| format!("copy-{i}")).collect();
    let aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let z = zipbuild::sharing_one_record(Entry::new("zeros", &[0u8; 65536]), &aliases).unwrap();
    s.refuse(z, &["\"copy-1\"", "overlaps", "\"zeros\""]);

    // The local header names another file than the central directory.
    let mut z = ZipBuilder::new()
        .file("fine.txt", b"fine")
        .file("shown.txt", b"evil")
        .build();
    let at = z.windows(9).position(|w| w == b"shown.txt").unwrap();
    z[at..at + 9].copy_from_slice(b"other.txt");
    s.refuse(z, &["\"shown.txt\"", "\"other.txt\"", "local header"]);

    // 20 MiB of zeros from ~20 KiB: over the default max-ratio of 500:1; raising it lets it in.
    let bomb = ZipBuilder::new()
        .file("zeros.bin", &vec![0u8; 20 << 20])
        .build();
    s.refuse(bomb.clone(), &["max-ratio", ":1"]);
    let w = World::new();
    w.add("zeros", bomb);
    w.run(&[("name", "zeros"), ("max-ratio", "2000")], &[]).ok();
    assert_eq!(
        std::fs::metadata(w.workspace().join("zeros.bin"))
            .unwrap()
            .len(),
        20 << 20
    );

    // More entries than max-files.
    let mut many = ZipBuilder::new();
    for i in 0..20 {
        many = many.file(&format!("f{i}"), b"x");
    }
    let many = many.build();
    s.refuse_with(
        ArtifactSpec::new("x", many.clone()),
        &["20 entries", "max-files"],
        &[("max-files", "19")],
    );
    w.add("many", many);
    w.run(&[("name", "many"), ("max-files", "20")], &[]).ok();
}

#[test]
fn corrupt_truncated_and_non_zip_bodies_are_refused() {
    let mut s = Scene::new();
    // CRC mismatch.
    let z = zip_with(vec![Entry {
        crc_override: Some(0x1234_5678),
        ..Entry::new("crc.txt", b"some text whose crc is wrong")
    }]);
    s.refuse(z, &["\"crc.txt\"", "checksum"]);
    // Damaged deflate stream.
    let payload = zipbuild::text_payload(50_000, 3);
    let mut z = ZipBuilder::new().file("damaged.txt", &payload).build();
    for b in &mut z[200..260] {
        *b ^= 0x5a;
    }
    s.refuse(z, &["\"damaged.txt\""]);
    // Truncated archive (no central directory).
    let z = ZipBuilder::new().file("a.txt", b"whole").build();
    s.refuse(z[..z.len() - 30].to_vec(), &["not a valid zip archive"]);
    // A non-zip body served as application/zip.
    s.refuse(
        b"<html><body>Service Unavailable</body></html>".to_vec(),
        &["served as a zip archive but the body is not one", "<html>"],
    );
    // A zero-byte download.
    s.refuse(Vec::new(), &["empty (0 bytes)"]);
    let mut spec = ArtifactSpec::new("x", Vec::new());
    spec.content_type = "application/zip".into();
    s.refuse_with(spec, &["empty (0 bytes)"], &[("skip-decompress", "true")]);
}

#[test]
fn special_file_types_are_extracted_as_files_with_a_warning() {
    let w = World::new();
    let z = ZipBuilder::new()
        .entry(Entry {
            mode: 0o010644, // a FIFO
            ..Entry::new("fifo", b"data")
        })
        .build();
    w.add("odd", z);
    let out = w.run(&[("name", "odd")], &[]);
    out.ok();
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains("'odd'") && l.contains("\"fifo\"") && l.contains("special")),
        "{}",
        out.stdout
    );
    assert_eq!(tree(&w.workspace())["fifo"], b"data");
}

#[test]
fn a_hostile_artifact_among_good_ones_leaves_the_good_ones_and_nothing_else() {
    let w = World::new();
    w.add("good", ZipBuilder::new().file("g.txt", b"good").build());
    w.add("evil", named(b"../../escape"));
    let out = w.run(&[], &[]);
    out.failed();
    assert!(
        out.errors()
            .iter()
            .any(|e| e.contains("'evil'") && e.contains("\"../../escape\"")),
        "{}",
        out.stdout
    );
    assert_eq!(
        listing(&w.workspace()),
        [
            ("good".to_string(), "dir".to_string()),
            ("good/g.txt".to_string(), "file good".to_string())
        ]
        .into_iter()
        .collect()
    );
    let mut root = entries(w.root.path());
    // The runner's files, and the manifest files written next to $GITHUB_OUTPUT.
    root.retain(|e| e != "output" && e != "summary" && !e.starts_with("artifetch-manifest-"));
    assert_eq!(root, vec!["home", "temp", "workspace"]);
    w.assert_temp_clean();
}

#[test]
fn git_metadata_is_never_written_unless_allowed() {
    let w = World::new();
    let git = w.workspace().join(".git");
    std::fs::create_dir_all(git.join("hooks")).unwrap();
    std::fs::write(git.join("config"), b"[core]\n").unwrap();
    let before = listing(&w.workspace());

    // Entries under `.git` (or a name a filesystem folds to it), with the default path: the
    // workspace, where the checkout's `.git` is.
    for (i, entry) in [
        ".git/config",
        ".git/hooks/post-checkout",
        ".GIT/config",
        "GIT~1/config",
        ".git./config",
        ".git::$INDEX_ALLOCATION/config",
        ".g\u{200c}it/config",
        "sub/.git/config",
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("evil-{i}");
        w.add(&name, named(entry.as_bytes()));
        let out = w.run(&[("name", &name)], &[]);
        out.failed()
            .one_error(&[&format!("'{name}'"), "allow-git-paths", "git metadata"]);
        assert_eq!(
            listing(&w.workspace()),
            before,
            "{entry}: workspace changed"
        );
        w.assert_temp_clean();
    }

    // An artifact named `.git`, fetched next to another one: it would go to `path/.git`.
    let w = World::new();
    std::fs::create_dir_all(w.workspace().join(".git")).unwrap();
    std::fs::write(w.workspace().join(".git/config"), b"[core]\n").unwrap();
    let before = listing(&w.workspace());
    let git = w.add(".git", ZipBuilder::new().file("config", b"evil").build());
    w.add(".GIT.", ZipBuilder::new().file("config", b"evil").build());
    let fine = w.add("fine", ZipBuilder::new().file("f", b"fine").build());
    let out = w.run(&[], &[]);
    out.failed()
        .one_error(&["\".GIT.\"", "allow-git-paths", "git metadata"]);
    assert_eq!(listing(&w.workspace()), before);
    w.assert_temp_clean();

    // Opted in, both are written.
    let ids = format!("{git},{fine}");
    let out = w.run(&[("allow-git-paths", "true"), ("artifact-ids", &ids)], &[]);
    out.ok();
    assert_eq!(
        std::fs::read(w.workspace().join(".git/config")).unwrap(),
        b"evil"
    );
    let w = World::new();
    w.add("ok", named(b".git/config"));
    w.run(&[("allow-git-paths", "true")], &[]).ok();
    assert_eq!(
        std::fs::read(w.workspace().join(".git/config")).unwrap(),
        b"evil"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_at_path_slash_artifact_name_is_not_followed() {
    let w = World::new();
    let outside = w.root.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("victim"), b"victim").unwrap();
    // A hostile checkout holds `dist -> ../outside`; two artifacts go to `path/<name>/`.
    std::os::unix::fs::symlink("../outside", w.workspace().join("dist")).unwrap();
    w.add(
        "dist",
        ZipBuilder::new()
            .file("victim", b"evil")
            .file("new", b"evil")
            .build(),
    );
    w.add(
        "docs",
        ZipBuilder::new().file("index.html", b"docs").build(),
    );
    let out = w.run(&[], &[]);
    out.failed();
    assert!(
        out.errors().iter().any(|e| e.contains("'dist'")
            && e.contains("refusing to write through symlink")
            && e.contains(&w.workspace().join("dist").display().to_string())),
        "{}",
        out.stdout
    );
    assert_eq!(
        listing(&outside),
        [("victim".to_string(), "file victim".to_string())]
            .into_iter()
            .collect()
    );
    // The other artifact is fine.
    assert_eq!(
        std::fs::read(w.workspace().join("docs/index.html")).unwrap(),
        b"docs"
    );
    w.assert_temp_clean();

    // Raw (non-zip) artifacts and skip-decompress downloads go through the same check.
    let w = World::new();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, w.workspace().join("out")).unwrap();
    w.add("a", ZipBuilder::new().file("f", b"a").build());
    let path = w.workspace().join("out");
    let out = w.run(
        &[
            ("skip-decompress", "true"),
            ("path", path.to_str().unwrap()),
        ],
        &[],
    );
    // `path` itself may be a symlink: the user chose it.
    out.ok();
    assert!(outside.join("a.zip").is_file());
}

#[test]
fn a_destination_that_is_a_file_is_named_clearly() {
    let w = World::new();
    w.add("one", ZipBuilder::new().file("f", b"1").build());
    let file = w.workspace().join("not-a-dir");
    std::fs::write(&file, b"mine").unwrap();
    let out = w.run(&[("name", "one"), ("path", file.to_str().unwrap())], &[]);
    out.failed().one_error(&[
        "path:",
        &file.display().to_string(),
        "is a file, not a directory",
    ]);
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");

    // Several artifacts: `path/<name>` is a file.
    w.add("two", ZipBuilder::new().file("f", b"2").build());
    std::fs::create_dir_all(w.workspace().join("d")).unwrap();
    std::fs::write(w.workspace().join("d/two"), b"mine").unwrap();
    let out = w.run(&[("path", w.workspace().join("d").to_str().unwrap())], &[]);
    out.failed();
    assert!(
        out.errors().iter().any(|e| e.contains("'two'")
            && e.contains("d/two")
            && e.contains("is a file, not a directory")),
        "{}",
        out.stdout
    );
    assert_eq!(std::fs::read(w.workspace().join("d/two")).unwrap(), b"mine");
    assert_eq!(std::fs::read(w.workspace().join("d/one/f")).unwrap(), b"1");
    w.assert_temp_clean();
}
