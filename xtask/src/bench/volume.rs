//! `--fresh-fs`: each timed run writes into a new ext4 file system, so no run inherits the
//! previous one's 20,000 freed inodes. `wide` swung between about 1 s and 4 s for one build from
//! round to round on the runner's own file system (docs/PERFORMANCE.md); a pending write-back
//! was ruled out, ext4's allocator after a mass delete was not.
//!
//! The file system lives in a sparse image under the scratch directory, loop-mounted: Linux and
//! root only. It is made with its inode tables and journal initialised up front, so no lazy
//! background initialisation writes while a run is timed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Room for `huge` (2 GiB of archive and 2 GiB extracted) with space to spare; sparse, so only
/// what is written takes disk.
const IMAGE_BYTES: u64 = 8 << 30;

/// A loop-mounted ext4 image, made anew by [`Volume::renew`].
pub(super) struct Volume {
    image: PathBuf,
    pub(super) mount: PathBuf,
}

impl Volume {
    /// The image file and its mount point under `root`; nothing is mounted yet.
    pub(super) fn new(root: &Path) -> Result<Volume> {
        let image = root.join("volume.img");
        let mount = root.join("volume");
        std::fs::create_dir_all(&mount)?;
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(IMAGE_BYTES))
            .with_context(|| format!("cannot create {}", image.display()))?;
        Ok(Volume { image, mount })
    }

    /// Unmounts the last file system (if any), makes a new one and mounts it.
    pub(super) fn renew(&self) -> Result<()> {
        self.unmount();
        run(Command::new("mkfs.ext4")
            .args(["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"])
            .arg(&self.image))?;
        run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&self.image)
            .arg(&self.mount))
    }

    fn unmount(&self) {
        let _ = Command::new("umount").arg(&self.mount).status();
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        self.unmount();
    }
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("--fresh-fs: cannot run {shown}"))?;
    if !out.status.success() {
        bail!(
            "--fresh-fs: {shown} failed (root and a loop device are needed): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
