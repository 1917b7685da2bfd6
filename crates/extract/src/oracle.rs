//! The oracles of the extraction property tests, shared with the root crate's fuzz targets
//! (`tests/it/fuzz.rs`) through the `testkit` feature, so the symlink check is written once.
//! Test support only: it panics on what it finds.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path};

/// Everything under `dir` (not following symlinks), with contents, for before/after checks.
pub fn snapshot(dir: &Path, skip: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path == skip {
            continue;
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        let key = path.display().to_string();
        if meta.file_type().is_symlink() {
            out.insert(
                key,
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            );
        } else if meta.is_dir() {
            out.insert(key, b"<dir>".to_vec());
            snapshot(&path, skip, out);
        } else {
            out.insert(key, fs::read(&path).unwrap());
        }
    }
}

/// Every symlink under `root` resolves (lexically; targets may dangle) inside `root`.
pub fn links_stay_inside(root: &Path, dir: &Path) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).unwrap();
            assert!(
                target.is_relative(),
                "{} -> {}",
                path.display(),
                target.display()
            );
            let mut level = path
                .parent()
                .unwrap()
                .strip_prefix(root)
                .unwrap()
                .components()
                .count() as i64;
            for c in target.components() {
                match c {
                    Component::ParentDir => level -= 1,
                    Component::CurDir => {}
                    Component::Normal(_) => level += 1,
                    other => panic!("{} -> {other:?}", path.display()),
                }
                assert!(
                    level >= 0,
                    "{} -> {} escapes",
                    path.display(),
                    target.display()
                );
            }
            if let Ok(real) = fs::canonicalize(&path) {
                assert!(
                    real.starts_with(fs::canonicalize(root).unwrap()),
                    "{} resolves to {}",
                    path.display(),
                    real.display()
                );
            }
        } else if meta.is_dir() {
            links_stay_inside(root, &path);
        }
    }
}
