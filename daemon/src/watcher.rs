//! Filesystem notifications. The notify callback only hands events on; this task debounces
//! them into batches of paths for the catalogue thread.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecursiveMode, Watcher};
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
    let mut watcher = match notify::recommended_watcher(move |res| {
        let _ = tx.send(res);
    }) {
        Ok(w) => w,
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
                    let _ = watcher.unwatch(&root);
                    if let Err(e) = watcher.watch(&root, RecursiveMode::Recursive) {
                        let _ = watcher.unwatch(&root);
                        let message = match e.kind {
                            notify::ErrorKind::MaxFilesWatch => limit_hint(&root),
                            _ => format!("cannot watch {} ({e}); it is rescanned periodically instead", root.display()),
                        };
                        catalog.send(CatalogCmd::RootPolling { path: root, message });
                    }
                }
                WatchCmd::Unwatch(root) => {
                    let _ = watcher.unwatch(&root);
                }
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
