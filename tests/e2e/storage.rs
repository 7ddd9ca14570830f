//! Storage faults: the data folder on a tmpfs that fills up, then turns read-only. vxd pauses
//! with the reason in `vx status`, fails no file, and resumes by itself when it can write again.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// A tmpfs mounted on a folder for the test's length.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        if !rustix::process::geteuid().is_root() {
            vx_testkit::cannot_run("mounting a tmpfs needs root");
            return None;
        }
        fs::create_dir_all(at).unwrap();
        let opts = format!("size={size}");
        run_ok(
            "mount",
            &["-t", "tmpfs", "-o", &opts, "tmpfs", at.to_str().unwrap()],
        );
        Some(Tmpfs(at.to_path_buf()))
    }

    fn remount(&self, opts: &str) {
        let opts = format!("remount,{opts}");
        run_ok("mount", &["-o", &opts, self.0.to_str().unwrap()]);
    }

    /// Read-only for what opens files from now on (a read-only bind mount over the folder:
    /// a file system cannot be remounted read-only while files are open to write).
    fn read_only(&self) {
        let at = self.0.to_str().unwrap();
        run_ok("mount", &["--bind", at, at]);
        run_ok("mount", &["-o", "remount,bind,ro", at]);
    }

    fn writable(&self) {
        run_ok(
            "mount",
            &["-o", "remount,bind,rw", self.0.to_str().unwrap()],
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // The bind mount, if any, then the tmpfs.
        for _ in 0..2 {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

fn run_ok(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `n` distinct pictures named `prefix-N.png` in `dir`.
fn pictures(dir: &Path, prefix: &str, n: usize) {
    let src = dir.join(format!("{prefix}.src.png"));
    make_image(&src);
    let bytes = fs::read(&src).unwrap();
    fs::remove_file(&src).unwrap();
    for i in 0..n {
        let mut b = bytes.clone();
        b.extend_from_slice(format!("{prefix} {i}").as_bytes());
        fs::write(dir.join(format!("{prefix}-{i:03}.png")), b).unwrap();
    }
}

fn paused_for(d: &Daemon, words: &str) -> bool {
    d.status()["pause_reason"]
        .as_str()
        .is_some_and(|r| r.contains("cannot be written") && r.contains(words))
}

#[test]
fn a_full_then_read_only_data_folder_pauses_and_loses_nothing() {
    let mut d = Daemon::new();
    let Some(tmpfs) = Tmpfs::mount(&d.data, "3m") else {
        return;
    };
    d.start();
    pictures(&d.media, "full", 300);
    d.add_media_root();
    d.eventually(120, "paused for a full disk", || paused_for(&d, "full"));
    assert_eq!(d.count("failed"), 0);
    assert!(d.count("pending") > 0, "{}", d.status());
    assert!(d.ok(&["status"]).contains("nothing is lost"));
    // Space returns: indexing resumes by itself and finishes.
    tmpfs.remount("size=256m");
    d.ok(&["wait", "--timeout", "120"]);
    assert_eq!(d.count("indexed"), 300, "{}", d.status());
    assert_eq!(d.count("failed"), 0);

    // Read-only, with new pictures arriving meanwhile.
    tmpfs.read_only();
    pictures(&d.media, "ro", 20);
    d.eventually(30, "paused for a read-only folder", || {
        paused_for(&d, "read-only")
    });
    tmpfs.writable();
    d.eventually(60, "resumed", || d.status()["pause_reason"].is_null());
    d.ok(&["wait", "--timeout", "120"]);
    assert_eq!(d.count("indexed"), 320, "{}", d.status());
    assert_eq!(d.count("failed"), 0);
    assert_eq!(d.search(&["--limit", "1000"]).len(), 320);
    d.stop();
    d.sound_db();
}
