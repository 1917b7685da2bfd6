//! The final move into an existing destination, interrupted: it completes or is undone, and the
//! log says which; never a tree half old, half new.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// The work directory's `replaced-<id>` folder exists once the move has set a first file aside.
fn move_started(temp: &std::path::Path) -> bool {
    let Ok(work) = std::fs::read_dir(temp) else {
        return false;
    };
    work.flatten().any(|w| {
        std::fs::read_dir(w.path())
            .map(|s| {
                s.flatten()
                    .any(|s| s.file_name().to_string_lossy().starts_with("replaced-"))
            })
            .unwrap_or(false)
    })
}

#[cfg(unix)]
#[test]
fn sigterm_during_the_move_into_an_existing_tree_completes_or_undoes_it() {
    const FILES: usize = 8_000;
    let w = World::new();
    let dest = w.workspace().join("site");
    let mut zip = zipbuild::ZipBuilder::new();
    for i in 0..FILES {
        let name = format!("d{}/f{i}", i % 50);
        std::fs::create_dir_all(dest.join(format!("d{}", i % 50))).unwrap();
        std::fs::write(dest.join(&name), b"old").unwrap();
        zip = zip.stored(&name, b"new");
    }
    std::fs::write(dest.join("mine.txt"), b"mine").unwrap();
    w.add("site", zip.build());
    let child = w
        .command(&[("name", "site"), ("path", dest.to_str().unwrap())], &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Not a timing assertion: only a bound on how long to look for the move before giving up.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !move_started(&w.temp()) {
        assert!(Instant::now() < deadline, "the move never started");
        std::thread::sleep(Duration::from_micros(200));
    }
    let stdout = signal_and_wait_failed(child, "-TERM");

    let t = tree(&dest);
    assert_eq!(t.len(), FILES + 1);
    assert_eq!(t["mine.txt"], b"mine");
    let new = t.values().filter(|v| v.as_slice() == b"new").count();
    let error = out_error(&stdout);
    eprintln!("{error}");
    assert!(error.contains("cancelled by SIGTERM"), "{error}");
    assert!(error.contains(&dest.display().to_string()), "{error}");
    if error.contains("was undone: it is as it was before") {
        assert_eq!(new, 0, "undone, yet {new} files are new");
    } else {
        assert!(error.contains("had completed"), "{error}");
        assert_eq!(new, FILES, "completed, yet only {new} files are new");
    }
    w.assert_temp_clean();
    // Nothing of ours is left in the destination either.
    assert!(
        !entries(&dest).iter().any(|e| e.starts_with(".artifetch")),
        "{:?}",
        entries(&dest)
    );
}

fn out_error(stdout: &str) -> String {
    stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_relative_or_missing_runner_temp_is_not_created_and_nothing_is_left_behind() {
    let w = World::new();
    w.add("a", zipbuild::ZipBuilder::new().file("f", b"a").build());
    // The step's working directory stands in for the workspace a relative path resolves in.
    let cwd = w.root.path().join("home");
    let missing = w.root.path().join("no-such-temp");
    for temp in ["relative-temp", missing.to_str().unwrap()] {
        let before = listing(w.root.path());
        let out = w.run(&[("name", "a")], &[("RUNNER_TEMP", temp)]);
        out.ok();
        assert!(
            !cwd.join("relative-temp").exists(),
            "{temp}: created in the workspace"
        );
        assert!(!missing.exists(), "{temp}: created and left behind");
        let mut after = listing(w.root.path());
        // The runner's files, and the manifest files written next to $GITHUB_OUTPUT.
        after.retain(|k, _| {
            k != "output" && k != "summary" && !k.starts_with("artifetch-manifest-")
        });
        let mut before = before;
        before.retain(|k, _| {
            k != "output" && k != "summary" && !k.starts_with("artifetch-manifest-")
        });
        before.insert("workspace/f".into(), "file a".into());
        assert_eq!(after, before, "{temp}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn staging_left_in_the_destination_by_a_killed_run_is_removed_when_stale() {
    use std::time::SystemTime;
    let w = World::new();
    w.add("a", zipbuild::ZipBuilder::new().file("f", b"a").build());
    let dest = w.workspace();
    let make = |name: &str, age: Duration| {
        let dir = dest.join(name);
        std::fs::create_dir_all(dir.join("tree/sub")).unwrap();
        std::fs::write(dir.join("tree/sub/half"), b"x").unwrap();
        std::fs::File::open(&dir)
            .unwrap()
            .set_modified(SystemTime::now() - age)
            .unwrap();
    };
    let hours = |h: u64| Duration::from_secs(h * 3600);
    // Ids above Linux's pid_max: no such process.
    make(".artifetch-staging-999999999-0123456789ab", hours(2));
    make(".artifetch-staging-999999998-0123456789ab", Duration::ZERO);
    let alive = format!(".artifetch-staging-{}-0123456789ab", std::process::id());
    make(&alive, hours(2));
    make(".artifetch-staging-999999999-notours", hours(2));
    make(".artifetch-staging-0123456789ab", hours(2));
    let out = w.run(&[("name", "a")], &[]);
    out.ok();
    // An old-style name (no process id) of the same age goes too.
    let mut expected = vec![
        ".artifetch-staging-999999998-0123456789ab".to_string(),
        ".artifetch-staging-999999999-notours".to_string(),
        alive,
        "f".to_string(),
    ];
    expected.sort();
    assert_eq!(entries(&dest), expected);
    assert!(
        out.warnings()
            .iter()
            .any(|l| l.contains(".artifetch-staging-999999999-0123456789ab")
                && l.contains("left by an earlier run that was killed")),
        "{}",
        out.stdout
    );
}
