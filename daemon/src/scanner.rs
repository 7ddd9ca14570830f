//! The catalogue thread: the only writer of roots and file records (besides jobs settling
//! files). It runs scans and applies the watcher's batches of paths, one command at a time, so
//! scans never race each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc::UnboundedSender, oneshot};
use vx_indexer::catalog::root_absence;
use vx_indexer::store::RootRow;
use vx_indexer::{Catalog, Store};
use vx_protocol::{Excluded, RootInfo, RootState, RpcError, WirePath};

use crate::shared::Shared;
use crate::watcher::WatchCmd;

pub enum CatalogCmd {
    /// Adds the configured roots, then watches and scans every root.
    Startup {
        config_roots: Vec<PathBuf>,
    },
    AddRoot {
        path: PathBuf,
        exclude: Vec<String>,
        reply: oneshot::Sender<Result<RootInfo, RpcError>>,
    },
    RemoveRoot {
        path: PathBuf,
        reply: oneshot::Sender<Result<u64, RpcError>>,
    },
    /// Notifications were lost (queue overflow): rescan everything.
    ScanAll,
    /// Paths the watcher saw change.
    Paths(Vec<PathBuf>),
    /// The watcher could not watch this root; rescan it periodically instead.
    RootPolling {
        path: PathBuf,
        message: String,
    },
    Stop,
}

/// Sends commands to the catalogue thread and keeps count of those in flight (for `idle`).
#[derive(Clone)]
pub struct CatalogHandle {
    tx: Sender<CatalogCmd>,
    shared: Arc<Shared>,
}

impl CatalogHandle {
    pub fn send(&self, cmd: CatalogCmd) {
        self.shared.catalog_pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(cmd).is_err() {
            self.shared.catalog_pending.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

pub struct Settings {
    pub root_check: Duration,
    pub poll_interval: Duration,
    pub orphan_grace_secs: i64,
}

pub fn spawn(
    shared: Arc<Shared>,
    catalog: Catalog,
    watch: UnboundedSender<WatchCmd>,
    settings: Settings,
    tx: Sender<CatalogCmd>,
    rx: Receiver<CatalogCmd>,
) -> std::io::Result<(CatalogHandle, std::thread::JoinHandle<()>)> {
    let handle = CatalogHandle {
        tx,
        shared: shared.clone(),
    };
    let mut thread = Scanner {
        shared,
        catalog,
        watch,
        settings,
        last_poll: HashMap::new(),
    };
    let join = std::thread::Builder::new()
        .name("catalog".into())
        .spawn(move || thread.run(rx))?;
    Ok((handle, join))
}

struct Scanner {
    shared: Arc<Shared>,
    catalog: Catalog,
    watch: UnboundedSender<WatchCmd>,
    settings: Settings,
    last_poll: HashMap<i64, Instant>,
}

pub fn root_info(store: &Store, row: &RootRow, counts: &HashMap<i64, u64>) -> RootInfo {
    RootInfo {
        path: WirePath::new(&row.path),
        state: match row.state.as_str() {
            "missing" => RootState::Missing,
            "polling" => RootState::Polling,
            _ => RootState::Watching,
        },
        message: row.message.clone(),
        files: counts.get(&row.id).copied().unwrap_or_else(|| {
            store
                .files_of_root(row.id)
                .map(|f| f.len() as u64)
                .unwrap_or(0)
        }),
        exclude: row.exclude.clone(),
        excluded: store
            .left_out_counts(row.id)
            .unwrap_or_default()
            .into_iter()
            .map(|(reason, folders, files)| Excluded {
                reason,
                folders,
                files,
            })
            .collect(),
    }
}

impl Scanner {
    fn run(&mut self, rx: Receiver<CatalogCmd>) {
        loop {
            let cmd = match rx.recv_timeout(self.settings.root_check) {
                Ok(cmd) => cmd,
                Err(RecvTimeoutError::Timeout) => {
                    self.log_err("periodic root check", |s| s.tick());
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let stop = matches!(cmd, CatalogCmd::Stop);
            self.handle(cmd);
            self.shared.catalog_pending.fetch_sub(1, Ordering::SeqCst);
            if stop || self.shared.stopping() {
                return;
            }
        }
    }

    fn log_err(
        &mut self,
        what: &str,
        f: impl FnOnce(&mut Self) -> Result<(), vx_indexer::StoreError>,
    ) {
        match f(self) {
            Ok(()) => {}
            // Noted for status; the scan runs again when the folder takes writes.
            Err(e) if e.storage_fault().is_some() => {
                self.shared
                    .storage_failed(e.storage_fault().expect("just checked"), None);
            }
            Err(e) => tracing::error!("{what} failed: {e}"),
        }
    }

    fn handle(&mut self, cmd: CatalogCmd) {
        match cmd {
            CatalogCmd::Startup { config_roots } => {
                for path in config_roots {
                    if let Err(e) = self.add_root(&path, &[]) {
                        tracing::warn!("configured root {}: {e}", path.display());
                    }
                }
                self.log_err("start-up scan", |s| {
                    for root in s.catalog.store().roots()? {
                        let _ = s.watch.send(WatchCmd::Watch(root.path.clone()));
                    }
                    s.scan_all()
                });
            }
            CatalogCmd::AddRoot {
                path,
                exclude,
                reply,
            } => {
                let result = self.add_root(&path, &exclude);
                let id = result.as_ref().ok().map(|(id, _)| *id);
                let _ = reply.send(result.map(|(_, info)| info));
                if let Some(id) = id {
                    self.log_err("scan", |s| s.scan(id));
                }
            }
            CatalogCmd::RemoveRoot { path, reply } => {
                let _ = reply.send(self.remove_root(&path));
            }
            CatalogCmd::ScanAll => self.log_err("rescan", |s| s.scan_all()),
            CatalogCmd::Paths(paths) => self.log_err("applying changes", |s| {
                let report = s.catalog.reconcile(&paths, &s.shared.stop)?;
                tracing::debug!(?report, "changes applied");
                s.shared.workers_wake.wake();
                s.shared.index_wake.wake();
                Ok(())
            }),
            CatalogCmd::RootPolling { path, message } => self.log_err("root state", |s| {
                let every = s.settings.poll_interval.as_secs();
                let message = format!("{message} (every {every} s)");
                if let Some(root) = s.catalog.store().root_by_path(&path)? {
                    tracing::warn!(root = %path.display(), "{message}");
                    s.catalog
                        .store()
                        .set_root_state(root.id, "polling", Some(&message))?;
                    s.last_poll.insert(root.id, Instant::now());
                }
                Ok(())
            }),
            CatalogCmd::Stop => {}
        }
    }

    fn scan(&mut self, root_id: i64) -> Result<(), vx_indexer::StoreError> {
        let started = Instant::now();
        let report = self.catalog.scan_root(root_id, &self.shared.stop)?;
        tracing::info!(
            root_id,
            seen = report.seen,
            new = report.new,
            changed = report.changed,
            moved = report.moved,
            deleted = report.deleted,
            missing = report.root_missing,
            ms = started.elapsed().as_millis() as u64,
            "scan finished"
        );
        self.shared.workers_wake.wake();
        self.shared.index_wake.wake();
        Ok(())
    }

    fn scan_all(&mut self) -> Result<(), vx_indexer::StoreError> {
        for root in self.catalog.store().roots()? {
            self.scan(root.id)?;
        }
        Ok(())
    }

    /// Missing roots that came back are rescanned and watched again; present ones that vanished
    /// go offline; polling roots are rescanned on their interval; old orphans are collected.
    fn tick(&mut self) -> Result<(), vx_indexer::StoreError> {
        for root in self.catalog.store().roots()? {
            let absent = root_absence(&root);
            match (root.state.as_str(), absent) {
                ("missing", None) => {
                    self.scan(root.id)?;
                    let _ = self.watch.send(WatchCmd::Watch(root.path.clone()));
                }
                ("missing", Some(_)) => {}
                (_, Some(reason)) => {
                    self.catalog.mark_missing(&root, &reason)?;
                    let _ = self.watch.send(WatchCmd::Unwatch(root.path.clone()));
                    self.shared.index_wake.wake();
                }
                ("polling", None) => {
                    let due = self
                        .last_poll
                        .get(&root.id)
                        .is_none_or(|t| t.elapsed() >= self.settings.poll_interval);
                    if due {
                        self.last_poll.insert(root.id, Instant::now());
                        self.scan(root.id)?;
                    }
                }
                (_, None) => {}
            }
        }
        // Thumbnails of contents about to be forgotten go with them.
        for rel in self
            .catalog
            .store()
            .orphan_thumbs(self.settings.orphan_grace_secs)?
        {
            let _ = std::fs::remove_file(self.shared.data_dir.join("thumbnails").join(rel));
        }
        let n = self
            .catalog
            .store()
            .collect_orphans(self.settings.orphan_grace_secs)?;
        if n > 0 {
            tracing::info!(contents = n, "forgot contents no file refers to any more");
        }
        Ok(())
    }

    /// Watches a folder (or, when it is watched already, adds `exclude` to its patterns).
    fn add_root(&mut self, path: &Path, exclude: &[String]) -> Result<(i64, RootInfo), RpcError> {
        use std::os::unix::fs::MetadataExt;
        let invalid = |reason: &str| RpcError::InvalidPath {
            path: WirePath::new(path),
            reason: reason.to_string(),
        };
        let internal = |e: vx_indexer::StoreError| RpcError::Internal(e.to_string());
        vx_indexer::exclude::validate(exclude).map_err(|e| invalid(&e))?;
        let canonical = std::fs::canonicalize(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => invalid("no such folder"),
            _ => invalid(&format!("cannot open: {e}")),
        })?;
        let meta =
            std::fs::metadata(&canonical).map_err(|e| invalid(&format!("cannot open: {e}")))?;
        if !meta.is_dir() {
            return Err(invalid(
                "is a file, not a folder: add the folder that holds it",
            ));
        }
        let store = self.catalog.store();
        let roots = store.roots().map_err(internal)?;
        if let Some(r) = roots.iter().find(|r| r.path == canonical) {
            let mut patterns = r.exclude.clone();
            for p in exclude {
                if !patterns.contains(p) {
                    patterns.push(p.clone());
                }
            }
            store.set_root_exclude(r.id, &patterns).map_err(internal)?;
            let row = store.root(r.id).map_err(internal)?.expect("just read");
            let counts = store.root_file_counts().map_err(internal)?;
            return Ok((r.id, root_info(store, &row, &counts)));
        }
        if let Some(outer) = roots.iter().find(|r| canonical.starts_with(&r.path)) {
            return Err(invalid(&format!(
                "is already watched as part of {}",
                outer.path.display()
            )));
        }
        let inner: Vec<&RootRow> = roots
            .iter()
            .filter(|r| r.path.starts_with(&canonical))
            .collect();
        // Roots inside the new one are absorbed: their files keep their records.
        let id = store
            .in_transaction(|store| {
                let id = store.add_root(&canonical, meta.dev())?;
                store.set_root_exclude(id, exclude)?;
                for r in &inner {
                    store.absorb_root(id, r.id)?;
                }
                Ok(id)
            })
            .map_err(internal)?;
        for r in inner {
            let _ = self.watch.send(WatchCmd::Unwatch(r.path.clone()));
        }
        let _ = self.watch.send(WatchCmd::Watch(canonical.clone()));
        tracing::info!(root = %canonical.display(), "watching new folder");
        let row = store.root(id).map_err(internal)?.expect("just inserted");
        let counts = store.root_file_counts().map_err(internal)?;
        Ok((id, root_info(store, &row, &counts)))
    }

    fn remove_root(&mut self, path: &Path) -> Result<u64, RpcError> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let store = self.catalog.store_mut();
        let root = store
            .root_by_path(&canonical)
            .or_else(|_| store.root_by_path(path))
            .map_err(|e| RpcError::Internal(e.to_string()))?
            .or_else(|| store.root_by_path(path).ok().flatten())
            .ok_or_else(|| RpcError::NotARoot(WirePath::new(path)))?;
        let _ = self.watch.send(WatchCmd::Unwatch(root.path.clone()));
        let n = store
            .remove_root(root.id)
            .map_err(|e| RpcError::Internal(e.to_string()))?;
        tracing::info!(root = %root.path.display(), files = n, "stopped watching folder");
        self.shared.index_wake.wake();
        Ok(n)
    }
}
