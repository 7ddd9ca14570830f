//! Filesystem notifications. The notify callback only hands events on; this task debounces
//! them into batches of paths for the catalogue thread.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::scanner::{CatalogCmd, CatalogHandle};
use crate::shared::Shared;

pub enum WatchCmd {
    Watch(PathBuf),
    Unwatch(PathBuf),
}

/// Events that can change what the catalogue holds (reads and opens cannot).
fn relevant(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Any
        | EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Other => true,
    }
}

pub fn limit_hint(root: &std::path::Path) -> String {
    format!(
        "cannot watch {}: the inotify watch limit is reached. Raise it with \
         `sudo sysctl fs.inotify.max_user_watches=524288` (and add that line to /etc/sysctl.conf); \
         meanwhile this folder is rescanned periodically",
        root.display()
    )
}

pub async fn run(
    shared: Arc<Shared>,
    catalog: CatalogHandle,
    mut cmds: UnboundedReceiver<WatchCmd>,
    debounce: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let (tx, mut events) = unbounded_channel();
    // Links are not followed, as scans do not follow them.
    let config = notify::Config::default().with_follow_symlinks(false);
    let handler = move |res| {
        let _ = tx.send(res);
    };
    let mut watches = match notify::RecommendedWatcher::new(handler, config) {
        Ok(w) => Watches::new(w),
        Err(e) => {
            tracing::error!(
                "filesystem notifications unavailable ({e}); folders are rescanned periodically"
            );
            return;
        }
    };
    let mut pending: HashSet<PathBuf> = HashSet::new();
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    loop {
        // Flush after a quiet `debounce`, or after 4x that under a steady stream of events.
        let deadline = first
            .map(|f| (last + debounce).min(f + debounce * 4))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            Some(res) = events.recv() => match res {
                Ok(event) if event.need_rescan() => {
                    tracing::warn!("notifications overflowed; rescanning every folder");
                    catalog.send(CatalogCmd::ScanAll);
                }
                Ok(event) if relevant(&event.kind) => {
                    watches.follow(&event);
                    pending.extend(event.paths);
                    last = Instant::now();
                    first.get_or_insert(last);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("notification error: {e}");
                    pending.extend(e.paths);
                }
            },
            Some(cmd) = cmds.recv() => match cmd {
                WatchCmd::Watch(root) => {
                    watches.unwatch_root(&root);
                    if let Err(e) = watches.watch_root(&root) {
                        watches.unwatch_root(&root);
                        let message = match e.kind {
                            notify::ErrorKind::MaxFilesWatch => limit_hint(&root),
                            _ => format!("cannot watch {} ({e}); it is rescanned periodically instead", root.display()),
                        };
                        catalog.send(CatalogCmd::RootPolling { path: root, message });
                    }
                }
                WatchCmd::Unwatch(root) => watches.unwatch_root(&root),
            },
            _ = tokio::time::sleep_until(deadline), if first.is_some() => {
                first = None;
                catalog.send(CatalogCmd::Paths(pending.drain().collect()));
            }
            _ = shutdown.changed() => return,
        }
        shared
            .watcher_pending
            .store(pending.len(), Ordering::SeqCst);
    }
}

/// What is watched. On Linux every folder gets an inotify watch of its own, found by a walk
/// that reads folder entries without a stat: notify's recursive mode stats every file of the
/// tree to find its folders (a fifth of vxd's CPU when it restarts over 100,000 files), and it
/// would give up on a whole root for one unreadable subfolder. Elsewhere (FSEvents) the
/// system watches trees itself.
struct Watches {
    watcher: RecommendedWatcher,
    /// The folders with a watch (Linux).
    folders: HashSet<PathBuf>,
}

impl Watches {
    fn new(watcher: RecommendedWatcher) -> Watches {
        Watches {
            watcher,
            folders: HashSet::new(),
        }
    }

    fn watch_root(&mut self, root: &Path) -> notify::Result<()> {
        if cfg!(target_os = "linux") {
            self.watch_folders(root)
        } else {
            self.watcher.watch(root, RecursiveMode::Recursive)
        }
    }

    fn unwatch_root(&mut self, root: &Path) {
        if !cfg!(target_os = "linux") {
            let _ = self.watcher.unwatch(root);
            return;
        }
        let below: Vec<PathBuf> = self
            .folders
            .iter()
            .filter(|f| f.starts_with(root))
            .cloned()
            .collect();
        for folder in below {
            let _ = self.watcher.unwatch(&folder);
            self.folders.remove(&folder);
        }
    }

    /// Watches `top` and every folder below it. Each folder is watched before it is listed,
    /// so that what appears in it meanwhile is either listed or notified.
    fn watch_folders(&mut self, top: &Path) -> notify::Result<()> {
        let mut stack = vec![top.to_path_buf()];
        while let Some(folder) = stack.pop() {
            match self.watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {}
                Err(e) if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) || folder == top => {
                    return Err(e);
                }
                // Gone or unreadable: the scan reports what it cannot read.
                Err(_) => continue,
            }
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
            self.folders.insert(folder);
        }
        Ok(())
    }

    /// Keeps the watches in step with folders made, moved and deleted below watched ones
    /// (notify's recursive mode does this itself).
    fn follow(&mut self, event: &notify::Event) {
        use notify::event::{CreateKind, ModifyKind};
        if !cfg!(target_os = "linux") {
            return;
        }
        let appeared: Vec<&PathBuf> = match event.kind {
            EventKind::Create(CreateKind::Folder) => event.paths.iter().collect(),
            EventKind::Modify(ModifyKind::Name(_)) => event
                .paths
                .iter()
                .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
                .collect(),
            _ => Vec::new(),
        };
        if matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        ) {
            // A folder moved away keeps its subfolders' watches in the kernel until they are
            // removed; a move within the library is watched again at its new path below. A
            // path that was no watched folder has none below it (files, mostly).
            for gone in &event.paths {
                if self.folders.contains(gone) && std::fs::symlink_metadata(gone).is_err() {
                    self.unwatch_root(gone);
                }
            }
        }
        for folder in appeared {
            if !folder.parent().is_some_and(|p| self.folders.contains(p)) {
                continue; // not below a watched folder
            }
            if let Err(e) = self.watch_folders(folder) {
                tracing::warn!(path = %folder.display(), "cannot watch: {e}");
            }
        }
    }
}
