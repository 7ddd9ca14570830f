//! The walk of a tree that a scan compares with the catalogue: every regular file and its
//! stat, what the exclusion rules leave out, and the folders that cannot be read. It runs on
//! a thread of its own while the scan loads the catalogue's rows, and stats each entry
//! relative to its open folder (`fstatat`), not by its whole path: a walk of a big library is
//! mostly the kernel resolving paths otherwise.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use crate::exclude::Exclusions;
use crate::store::FileStat;

/// Entries sent at once: a channel message per file would cost more than the file.
const BATCH: usize = 1024;

/// One thing the walk found.
#[derive(Debug)]
pub enum Walked {
    File(PathBuf, FileStat),
    /// Left out for a reason worth telling: the path, the reason, whether it is a folder.
    Excluded(PathBuf, String, bool),
    /// A folder that could not be listed: what it holds is neither new nor gone.
    Unreadable(PathBuf),
}

/// Walks `dir` (at or below `root`, whose rules apply) depth first, sending what it finds a
/// batch at a time. Symlinks are not followed, so links (and their loops) are never walked.
/// Stops early when `cancel` is set or the receiver is gone.
pub fn walk(
    root: &Path,
    dir: &Path,
    rules: &Exclusions,
    cancel: &AtomicBool,
    out: SyncSender<Vec<Walked>>,
) {
    let unreadable = |folder: PathBuf, e: std::io::Error| {
        tracing::warn!(path = %folder.display(), "cannot read: {e}");
        Walked::Unreadable(folder)
    };
    let mut batch = Vec::with_capacity(BATCH);
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        if cancel.load(Ordering::Relaxed) {
            return;
        }
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) => {
                batch.push(unreadable(folder, e));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    batch.push(unreadable(folder.clone(), e));
                    break;
                }
            };
            let Ok(kind) = entry.file_type() else {
                continue; // gone since it was listed
            };
            let path = entry.path();
            if let Some(why) = rules.why(root, &path, kind.is_dir()) {
                if let Some(reason) = why.told() {
                    batch.push(Walked::Excluded(path, reason.to_string(), kind.is_dir()));
                }
                continue;
            }
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                match entry.metadata() {
                    Ok(m) => batch.push(Walked::File(path, FileStat::from_metadata(&m))),
                    Err(_) => continue, // gone since it was listed
                }
            }
            if batch.len() >= BATCH && out.send(std::mem::take(&mut batch)).is_err() {
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = out.send(batch);
    }
}
