//! Keeping the catalogue in step with the disk: full scans of a root (at start, after a
//! notification overflow, when polling) and reconciling the paths that notifications name.
//! Only `stat` is used here; reading and hashing happen in jobs.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;

use crate::exclude::Exclusions;
use crate::store::{FileStat, KnownFile, Result, RootRow, Store};
use crate::walk::{self, Walked};

/// Rows written per transaction during a scan: big enough to be fast, small enough that
/// workers are never locked out for long.
const BATCH: usize = 500;
/// Batches of walked entries (1,024 each) the walk may run ahead of the scan by: enough for
/// the walk of half a million files to go on while their rows load (about 60 MB of paths at
/// most); with a shorter queue the walk stopped and the two took turns.
const WALK_QUEUE: usize = 512;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanReport {
    pub seen: u64,
    pub new: u64,
    pub changed: u64,
    pub moved: u64,
    pub deleted: u64,
    pub unreadable: u64,
    /// Set when the root was found missing or unmounted (nothing was deleted).
    pub root_missing: bool,
}

impl ScanReport {
    fn add(&mut self, o: Observed) {
        match o {
            Observed::New => self.new += 1,
            Observed::Changed => self.changed += 1,
            Observed::Moved => self.moved += 1,
            Observed::Unchanged => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    New,
    Changed,
    Moved,
    Unchanged,
}

/// Why a root cannot be scanned right now.
pub fn root_absence(root: &RootRow) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(&root.path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Some(
            "folder not found (removed, renamed or unmounted); its files are kept offline until it returns"
                .into(),
        ),
        Err(e) => Some(format!("cannot open folder: {e}; its files are kept offline")),
        Ok(m) if !m.is_dir() => Some("is no longer a folder; its files are kept offline".into()),
        // An empty directory on another device is the mount point of an unmounted disk.
        Ok(m) if m.dev() != root.dev && dir_is_empty(&root.path) => Some(
            "looks unmounted (an empty folder on another device); its files are kept offline"
                .into(),
        ),
        Ok(_) => None,
    }
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

fn same_file_still_there(path: &Path, stat: &FileStat) -> bool {
    std::fs::symlink_metadata(path)
        .map(|m| {
            let now = FileStat::from_metadata(&m);
            now.dev == stat.dev && now.inode == stat.inode
        })
        .unwrap_or(false)
}

pub struct Catalog {
    store: Store,
    /// The configuration's exclusion patterns, applied in every root.
    exclude: Vec<String>,
}

impl Catalog {
    pub fn new(store: Store) -> Catalog {
        Catalog {
            store,
            exclude: Vec::new(),
        }
    }

    /// Sets the exclusion patterns of every root (checked with `exclude::validate`).
    pub fn set_exclude(&mut self, patterns: Vec<String>) {
        self.exclude = patterns;
    }

    fn exclusions(&self, root: &RootRow) -> Exclusions {
        Exclusions::new(self.exclude.iter().chain(&root.exclude))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// Marks a root missing and its files offline. Returns true if it was not already missing.
    pub fn mark_missing(&mut self, root: &RootRow, reason: &str) -> Result<bool> {
        let newly = root.state != "missing";
        let offline = self.store.in_transaction(|store| {
            let n = if newly {
                store.set_root_offline(root.id)?
            } else {
                0
            };
            store.set_root_state(root.id, "missing", Some(reason))?;
            Ok(n)
        })?;
        if newly {
            tracing::warn!(root = %root.path.display(), files = offline, "{reason}");
        }
        Ok(newly)
    }

    /// Scans a whole root. A missing root marks its files offline and deletes nothing.
    pub fn scan_root(&mut self, root_id: i64, cancel: &AtomicBool) -> Result<ScanReport> {
        let Some(root) = self.store.root(root_id)? else {
            return Ok(ScanReport::default());
        };
        if let Some(reason) = root_absence(&root) {
            self.mark_missing(&root, &reason)?;
            return Ok(ScanReport {
                root_missing: true,
                ..ScanReport::default()
            });
        }
        if root.state == "missing" {
            // The disk may be back on a new device number.
            let dev = std::fs::metadata(&root.path)
                .map(|m| std::os::unix::fs::MetadataExt::dev(&m))
                .ok();
            let n = self.store.in_transaction(|store| {
                let n = store.set_root_online(root.id)?;
                store.set_root_state(root.id, "watching", None)?;
                if let Some(dev) = dev {
                    store.set_root_dev(root.id, dev)?;
                }
                Ok(n)
            })?;
            tracing::info!(root = %root.path.display(), files = n, "folder is back online");
        }
        self.scan_tree(&root, &root.path, cancel)
    }

    /// Brings the catalogue of everything at or below `dir` in step with the disk.
    fn scan_tree(&mut self, root: &RootRow, dir: &Path, cancel: &AtomicBool) -> Result<ScanReport> {
        let rules = self.exclusions(root);
        let (tx, rx) = std::sync::mpsc::sync_channel(WALK_QUEUE);
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("walk".into())
                .spawn_scoped(s, || walk::walk(&root.path, dir, &rules, cancel, tx))
                .map_err(crate::store::StoreError::Thread)?;
            // The catalogue's rows load while the walk runs.
            self.reconcile_walk(root, dir, rx, cancel)
        })
    }

    /// Compares what the walk finds with the catalogue's rows at or below `dir`.
    fn reconcile_walk(
        &mut self,
        root: &RootRow,
        dir: &Path,
        walked: Receiver<Vec<Walked>>,
        cancel: &AtomicBool,
    ) -> Result<ScanReport> {
        let mut report = ScanReport::default();
        // Roots do not nest, so a root's files are exactly those below its folder.
        let mut known = if dir == root.path {
            self.store.known_files_of_root(root.id)?
        } else {
            self.store.known_files_under(dir)?
        };
        let mut unreadable: Vec<PathBuf> = Vec::new();
        // A new path can be a known file moved within this tree only if it has a known file's
        // inode: those wait for the end of the walk (when what is gone is known); the others
        // are catalogued a batch at a time as the walk goes, so a first scan of a large library
        // holds no list of it and its first files are extracted while the walk goes on.
        let known_inodes: HashSet<(u64, u64), foldhash::fast::RandomState> =
            known.values().map(|r| (r.stat.dev, r.stat.inode)).collect();
        let mut fresh: Vec<(PathBuf, FileStat)> = Vec::new();
        let mut new_now: Vec<(PathBuf, FileStat)> = Vec::new();
        // Known files whose stat moved, written a batch per transaction as the walk goes.
        let mut seen_again: Vec<(KnownFile, FileStat)> = Vec::new();
        let mut excluded = Vec::new();
        // A stop asked for is seen a batch at a time (the walk may be far ahead).
        let batches = walked
            .iter()
            .take_while(|_| !cancel.load(Ordering::Relaxed));
        for item in batches.flatten() {
            let (path, stat) = match item {
                Walked::File(path, stat) => (path, stat),
                Walked::Excluded(path, reason, is_dir) => {
                    excluded.push((path, reason, is_dir));
                    continue;
                }
                Walked::Unreadable(path) => {
                    report.unreadable += 1;
                    unreadable.push(path);
                    continue;
                }
            };
            report.seen += 1;
            match known.remove(path.as_os_str()) {
                Some(known) if known.stat == stat && !known.offline => {}
                Some(known) => seen_again.push((known, stat)),
                None if known_inodes.contains(&(stat.dev, stat.inode)) => fresh.push((path, stat)),
                None => new_now.push((path, stat)),
            }
            if seen_again.len() >= BATCH {
                self.observe_batch(&mut seen_again, &mut report, known_seen)?;
            }
            if new_now.len() >= BATCH {
                self.observe_batch(&mut new_now, &mut report, new_seen(root))?;
            }
        }
        self.observe_batch(&mut seen_again, &mut report, known_seen)?;
        self.observe_batch(&mut new_now, &mut report, new_seen(root))?;
        let interrupted = cancel.load(Ordering::Relaxed);
        if !interrupted {
            self.store.replace_left_out(root.id, dir, &excluded)?;
        }
        // What is left in `known` is gone from disk, unless it lies in an unreadable folder
        // (or the scan was interrupted). New paths that share an inode with a gone file are moves.
        let mut gone_by_inode: HashMap<(u64, u64), KnownFile> = HashMap::new();
        if !interrupted {
            for (path, row) in known.drain() {
                if unreadable.iter().any(|u| Path::new(&path).starts_with(u)) {
                    continue;
                }
                gone_by_inode.insert((row.stat.dev, row.stat.inode), row);
            }
        }
        for batch in fresh.chunks(BATCH) {
            self.store.in_transaction(|store| {
                for (path, stat) in batch {
                    match gone_by_inode.remove(&(stat.dev, stat.inode)) {
                        Some(row) if row.stat.same_content_as(stat) => {
                            store.move_file(row.id, root.id, path, stat)?;
                            report.moved += 1;
                        }
                        other => {
                            if let Some(row) = other {
                                gone_by_inode.insert((row.stat.dev, row.stat.inode), row);
                            }
                            report.add(observe_new(store, root, path, stat)?);
                        }
                    }
                }
                Ok(())
            })?;
        }
        let gone: Vec<i64> = gone_by_inode.values().map(|r| r.id).collect();
        report.deleted = gone.len() as u64;
        if !gone.is_empty() {
            self.store.delete_files(&gone)?;
        }
        Ok(report)
    }

    /// Records a batch of what the walk saw in one transaction, and empties it.
    fn observe_batch<T>(
        &mut self,
        batch: &mut Vec<T>,
        report: &mut ScanReport,
        observe: impl Fn(&Store, &T) -> Result<Observed>,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.store.in_transaction(|store| {
            for item in batch.iter() {
                report.add(observe(store, item)?);
            }
            Ok(())
        })?;
        batch.clear();
        Ok(())
    }

    /// Applies what notifications reported for these paths. Returns the roots found missing.
    pub fn reconcile(&mut self, paths: &[PathBuf], cancel: &AtomicBool) -> Result<ReconcileReport> {
        let mut report = ReconcileReport::default();
        // A `.nomedia` or `.vxignore` made or deleted changes what its folder holds for vx:
        // the folder is reconciled instead.
        let mut paths: Vec<&Path> = paths
            .iter()
            .map(|p| match p.parent() {
                Some(dir) if crate::paths::is_ignore_marker(p) => dir,
                _ => p.as_path(),
            })
            .collect();
        paths.dedup();
        // Creations first, so that a move reported as delete + create is seen as a move.
        let mut present = Vec::new();
        let mut absent = Vec::new();
        for path in paths {
            match std::fs::symlink_metadata(path) {
                Ok(m) => present.push((path, m)),
                Err(_) => absent.push(path),
            }
        }
        // Each root's rules, compiled once for all the paths it is notified of.
        let mut rules_of: HashMap<i64, Exclusions> = HashMap::new();
        for (path, m) in present {
            let Some(root) = self.store.root_containing(path)? else {
                continue;
            };
            if root.state == "missing" {
                continue;
            }
            let rules = rules_of
                .entry(root.id)
                .or_insert_with(|| self.exclusions(&root));
            if *path != root.path && rules.why_within(&root.path, path, m.is_dir()).is_some() {
                // Recorded when the path itself is what is left out (not a folder above it).
                let why = rules.why(&root.path, path, m.is_dir());
                if let Some(reason) = why.as_ref().and_then(|w| w.told()) {
                    let entry = (path.to_path_buf(), reason.to_string(), m.is_dir());
                    self.store.replace_left_out(root.id, path, &[entry])?;
                }
                // What was catalogued there before (a marker just made) is left out now.
                let gone: Vec<i64> = self.store.files_under(path)?.iter().map(|f| f.id).collect();
                report.scan.deleted += gone.len() as u64;
                self.store.delete_files(&gone)?;
                continue;
            }
            if m.is_dir() {
                let r = self.scan_tree(&root, path, cancel)?;
                report.scan.seen += r.seen;
                report.scan.new += r.new;
                report.scan.changed += r.changed;
                report.scan.moved += r.moved;
                report.scan.deleted += r.deleted;
            } else if m.is_file() {
                let stat = FileStat::from_metadata(&m);
                // Read and write at once, so that a job forgetting a vanished file cannot come
                // in between.
                let o = self
                    .store
                    .in_transaction(|store| match store.file_by_path(path)? {
                        Some(row) => observe_known(store, &KnownFile::from(&row), &stat),
                        None => observe_new(store, &root, path, &stat),
                    })?;
                report.scan.add(o);
            } else if let Some(row) = self.store.file_by_path(path)? {
                // Replaced by a symlink or something else that is not a file.
                self.store.delete_files(&[row.id])?;
                report.scan.deleted += 1;
            }
        }
        for path in absent {
            let Some(root) = self.store.root_containing(path)? else {
                continue;
            };
            if let Some(reason) = root_absence(&root) {
                if self.mark_missing(&root, &reason)? {
                    report.missing_roots.push(root.id);
                }
                continue;
            }
            self.store.forget_left_out(path)?;
            let gone: Vec<i64> = self
                .store
                .files_under(path)?
                .into_iter()
                .filter(|f| std::fs::symlink_metadata(&f.path).is_err())
                .map(|f| f.id)
                .collect();
            report.scan.deleted += gone.len() as u64;
            self.store.delete_files(&gone)?;
        }
        Ok(report)
    }
}

fn observe_known(store: &Store, row: &KnownFile, stat: &FileStat) -> Result<Observed> {
    if row.stat == *stat && !row.offline {
        return Ok(Observed::Unchanged);
    }
    if row.stat == *stat {
        // Offline file seen again: back to where it was.
        store.set_file_online(row.id)?;
        return Ok(Observed::Unchanged);
    }
    store.mark_changed(row.id, stat)?;
    Ok(Observed::Changed)
}

/// A known file seen with another stat (or back from offline).
fn known_seen(store: &Store, (row, stat): &(KnownFile, FileStat)) -> Result<Observed> {
    observe_known(store, row, stat)
}

/// A path no known file of the tree can have moved to.
fn new_seen(root: &RootRow) -> impl Fn(&Store, &(PathBuf, FileStat)) -> Result<Observed> + '_ {
    move |store, (path, stat)| observe_new(store, root, path, stat)
}

/// A path the catalogue does not know: a move of a file that is gone, or a new file.
fn observe_new(store: &Store, root: &RootRow, path: &Path, stat: &FileStat) -> Result<Observed> {
    for cand in store.files_by_inode(stat.dev, stat.inode)? {
        if cand.stat.same_content_as(stat) && !same_file_still_there(&cand.path, stat) {
            store.move_file(cand.id, root.id, path, stat)?;
            return Ok(Observed::Moved);
        }
    }
    store.insert_file(root.id, path, stat)?;
    Ok(Observed::New)
}

#[derive(Debug, Default)]
pub struct ReconcileReport {
    pub scan: ScanReport,
    pub missing_roots: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::FileState;
    use std::fs;

    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        catalog: Catalog,
        root_id: i64,
    }

    fn fixture() -> Fixture {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        fs::create_dir(&root).unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root_id = store
            .add_root(&root, fs::metadata(&root).unwrap().dev())
            .unwrap();
        Fixture {
            _dir: dir,
            root,
            catalog: Catalog::new(store),
            root_id,
        }
    }

    static NO: AtomicBool = AtomicBool::new(false);

    #[test]
    fn scan_finds_new_changed_moved_and_deleted_files() {
        let mut f = fixture();
        fs::write(f.root.join("a.jpg"), b"aaaa").unwrap();
        fs::write(f.root.join("b.jpg"), b"bbbb").unwrap();
        fs::write(f.root.join(".hidden.jpg"), b"x").unwrap();
        fs::write(f.root.join("c.mp4.part"), b"x").unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        assert_eq!((r.seen, r.new), (2, 2));

        assert_eq!(
            f.catalog.scan_root(f.root_id, &NO).unwrap().new,
            0,
            "rescan is a no-op"
        );

        let a = f
            .catalog
            .store()
            .file_by_path(&f.root.join("a.jpg"))
            .unwrap()
            .unwrap();
        fs::rename(f.root.join("a.jpg"), f.root.join("renamed.jpg")).unwrap();
        fs::write(f.root.join("b.jpg"), b"bbbbbb").unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        assert_eq!((r.moved, r.changed, r.new, r.deleted), (1, 1, 0, 0));
        let moved = f
            .catalog
            .store()
            .file_by_path(&f.root.join("renamed.jpg"))
            .unwrap()
            .unwrap();
        assert_eq!(moved.id, a.id, "a rename keeps the record");

        fs::remove_file(f.root.join("b.jpg")).unwrap();
        assert_eq!(f.catalog.scan_root(f.root_id, &NO).unwrap().deleted, 1);
    }

    #[test]
    fn reconcile_sees_a_move_reported_as_delete_and_create() {
        let mut f = fixture();
        fs::create_dir(f.root.join("x")).unwrap();
        fs::write(f.root.join("x/a.jpg"), b"aaaa").unwrap();
        f.catalog.scan_root(f.root_id, &NO).unwrap();
        let id = f
            .catalog
            .store()
            .file_by_path(&f.root.join("x/a.jpg"))
            .unwrap()
            .unwrap()
            .id;
        fs::rename(f.root.join("x"), f.root.join("y")).unwrap();
        let r = f
            .catalog
            .reconcile(&[f.root.join("x"), f.root.join("y")], &NO)
            .unwrap();
        assert_eq!((r.scan.moved, r.scan.deleted, r.scan.new), (1, 0, 0));
        assert_eq!(
            f.catalog
                .store()
                .file_by_path(&f.root.join("y/a.jpg"))
                .unwrap()
                .unwrap()
                .id,
            id
        );
    }

    #[test]
    fn missing_root_goes_offline_and_comes_back() {
        let mut f = fixture();
        fs::write(f.root.join("a.jpg"), b"aaaa").unwrap();
        f.catalog.scan_root(f.root_id, &NO).unwrap();
        let away = f.root.with_file_name("away");
        fs::rename(&f.root, &away).unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        assert!(r.root_missing);
        let file = f
            .catalog
            .store()
            .file_by_path(&f.root.join("a.jpg"))
            .unwrap()
            .unwrap();
        assert_eq!(file.state, FileState::Offline, "offline, never deleted");
        fs::rename(&away, &f.root).unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        assert_eq!((r.new, r.deleted), (0, 0));
        let file = f
            .catalog
            .store()
            .file_by_path(&f.root.join("a.jpg"))
            .unwrap()
            .unwrap();
        assert_eq!(
            file.state,
            FileState::Pending,
            "back to its state before going offline"
        );
    }

    #[test]
    fn photo_libraries_give_their_originals_and_marked_folders_nothing() {
        let mut f = fixture();
        let lib = f.root.join("Photos Library.photoslibrary");
        for dir in [
            "originals/A",
            "resources/derivatives/A",
            "database",
            "private",
        ] {
            fs::create_dir_all(lib.join(dir)).unwrap();
        }
        fs::write(lib.join("originals/A/IMG_1.heic"), b"one").unwrap();
        fs::write(
            lib.join("resources/derivatives/A/IMG_1_1_105_c.jpeg"),
            b"two",
        )
        .unwrap();
        fs::write(lib.join("database/Photos.sqlite"), b"three").unwrap();
        fs::create_dir_all(f.root.join("Lightroom/Catalog Previews.lrdata/0")).unwrap();
        fs::write(
            f.root.join("Lightroom/Catalog Previews.lrdata/0/p.lrprev"),
            b"4",
        )
        .unwrap();
        fs::create_dir_all(f.root.join("WhatsApp/Stickers")).unwrap();
        fs::write(f.root.join("WhatsApp/Stickers/.nomedia"), b"").unwrap();
        fs::write(f.root.join("WhatsApp/Stickers/s.webp"), b"five").unwrap();
        fs::write(f.root.join("WhatsApp/photo.jpg"), b"six").unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        let mut found: Vec<String> = f
            .catalog
            .store()
            .files_of_root(f.root_id)
            .unwrap()
            .iter()
            .map(|r| r.path.strip_prefix(&f.root).unwrap().display().to_string())
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "Photos Library.photoslibrary/originals/A/IMG_1.heic",
                "WhatsApp/photo.jpg"
            ]
        );
        assert_eq!(r.new, 2);
        // A notice about a file in a marked folder is ignored too.
        fs::write(f.root.join("WhatsApp/Stickers/t.webp"), b"seven").unwrap();
        let r = f
            .catalog
            .reconcile(&[f.root.join("WhatsApp/Stickers/t.webp")], &NO)
            .unwrap();
        assert_eq!(r.scan.new, 0);
    }

    #[test]
    fn symlink_loops_are_not_followed() {
        let mut f = fixture();
        std::os::unix::fs::symlink(&f.root, f.root.join("loop")).unwrap();
        fs::write(f.root.join("a.jpg"), b"aaaa").unwrap();
        let r = f.catalog.scan_root(f.root_id, &NO).unwrap();
        assert_eq!(r.seen, 1);
    }
}
