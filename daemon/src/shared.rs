//! State shared by the daemon's components: flags, wake-ups and progress figures.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, RwLock};
use vx_indexer::TextIndex;
use vx_indexer::extractors::{Extractor, Semantic, Visual};
use vx_indexer::search::{QueryEmbedder, Searcher, Vectors};
use vx_indexer::semantic::Embedded;
use vx_indexer::semantic::VectorStore;
use vx_models::ModelSet;

/// A wake-up for any number of waiters: each wake reaches every one of them (a flag cleared
/// by the first waiter to see it left the others asleep until their timeout). Each waiter
/// keeps its own [`Woken`]; a new one returns at once, so that work left by a crash is looked
/// at immediately.
pub struct Wakeup {
    wakes: Mutex<u64>,
    cv: Condvar,
}

/// The wake-ups one waiter has seen.
#[derive(Default)]
pub struct Woken(u64);

impl Wakeup {
    pub fn new() -> Wakeup {
        Wakeup {
            wakes: Mutex::new(1),
            cv: Condvar::new(),
        }
    }

    pub fn wake(&self) {
        *self.wakes.lock() += 1;
        self.cv.notify_all();
    }

    /// Waits until woken since this waiter last returned, or `timeout` passes.
    pub fn wait(&self, seen: &mut Woken, timeout: Duration) {
        let mut wakes = self.wakes.lock();
        self.cv
            .wait_while_for(&mut wakes, |w| *w == seen.0, timeout);
        seen.0 = *wakes;
    }
}

pub struct Shared {
    pub db_path: PathBuf,
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub onnxruntime: Option<PathBuf>,
    /// Extractors the configuration says not to run.
    pub disabled: Vec<String>,
    /// Vectors from which a store is partitioned (`approximate_from`; 0: never).
    pub approximate_from: usize,
    /// The (extractor, version) pairs that run, fixed at start.
    pub enabled: Vec<(String, u32)>,
    pub text: TextIndex,
    /// Text-segment embeddings for the semantic channel, reloaded after index updates.
    pub vectors: RwLock<VectorStore>,
    /// Frame embeddings (CLIP) for the visual channel, likewise.
    pub frames: RwLock<VectorStore>,
    /// The query's text embedders (MiniLM; CLIP's text side), each loaded on first use.
    text_model: Mutex<Option<ModelSet>>,
    clip_model: Mutex<Option<ModelSet>>,
    pub stop: AtomicBool,
    /// Paused by `vx pause`.
    pub paused: AtomicBool,
    /// Paused by circumstance (battery, low disk), with the reason.
    pub auto_pause: Mutex<Option<String>>,
    /// Paused because the data folder cannot be written (full, read-only): why, and the jobs
    /// that could not be put back in the queue meanwhile.
    pub storage_fault: Mutex<Option<(String, Vec<i64>)>>,
    pub rebuild_index: AtomicBool,
    pub workers_wake: Wakeup,
    pub index_wake: Wakeup,
    /// Catalogue commands sent but not finished, plus paths the watcher holds back.
    pub catalog_pending: AtomicUsize,
    pub watcher_pending: AtomicUsize,
    /// Pending files the last check found without a job (and queued again): counting them is
    /// a join over every pending file, too slow for each `vx status`.
    pub pending_without_job: AtomicU64,
    /// Path each worker is on.
    pub current: Mutex<Vec<Option<PathBuf>>>,
    /// Contents being extracted (by hash): a second file of one waits for the first, so that
    /// a copy made while its original is extracted does not run the models again.
    pub in_flight: Mutex<std::collections::HashSet<Vec<u8>>>,
    finished: Mutex<VecDeque<Instant>>,
}

const RATE_WINDOW: Duration = Duration::from_secs(60);

/// A vector store behind this daemon's lock, for the searcher.
struct Locked<'a>(&'a RwLock<VectorStore>);

impl Vectors for Locked<'_> {
    fn read(&self) -> Box<dyn std::ops::Deref<Target = VectorStore> + '_> {
        Box::new(self.0.read())
    }
}

impl QueryEmbedder for Shared {
    fn text(&self, query: &str) -> Option<Vec<f32>> {
        self.embed_query(query)
    }
    fn image(&self, query: &str) -> Option<Vec<f32>> {
        self.embed_visual_query(query)
    }
}

impl Shared {
    /// Runs `f` with a searcher over this daemon's index, vectors and query models.
    pub fn with_searcher<T>(&self, f: impl FnOnce(&Searcher) -> T) -> T {
        let thumbs_dir = self.data_dir.join("thumbnails");
        f(&Searcher {
            text: &self.text,
            segments: &Locked(&self.vectors),
            frames: &Locked(&self.frames),
            embed: self,
            thumbs_dir: &thumbs_dir,
        })
    }

    /// What the extractors need and which not to run, for [`crate::extractors`].
    pub fn extractor_setup(&self) -> crate::extractors::Setup<'_> {
        crate::extractors::Setup {
            models_dir: &self.models_dir,
            onnxruntime: self.onnxruntime.as_deref(),
            disabled: &self.disabled,
        }
    }

    pub fn new(db_path: PathBuf, data_dir: PathBuf, text: TextIndex, workers: usize) -> Shared {
        Shared {
            db_path,
            models_dir: data_dir.join("models"),
            onnxruntime: None,
            disabled: Vec::new(),
            approximate_from: 0,
            enabled: Vec::new(),
            data_dir,
            text,
            vectors: RwLock::new(VectorStore::empty(Embedded::TextSegments)),
            frames: RwLock::new(VectorStore::empty(Embedded::Frames)),
            text_model: Mutex::new(None),
            clip_model: Mutex::new(None),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            auto_pause: Mutex::new(None),
            rebuild_index: AtomicBool::new(false),
            workers_wake: Wakeup::new(),
            index_wake: Wakeup::new(),
            catalog_pending: AtomicUsize::new(0),
            watcher_pending: AtomicUsize::new(0),
            pending_without_job: AtomicU64::new(0),
            current: Mutex::new(vec![None; workers]),
            in_flight: Mutex::new(std::collections::HashSet::new()),
            storage_fault: Mutex::new(None),
            finished: Mutex::new(VecDeque::new()),
        }
    }

    /// A model set for query embedding, loaded lazily, failures remembered. The query is
    /// embedded on the searching thread alone: with the int8 query a second thread saved nothing
    /// (1.63 against 1.65 ms), and it took the core the text channel runs on meanwhile
    /// (docs/benchmarks.md, session 22). VX_QUERY_THREADS=2 gives it a second one (benchmarks
    /// compare).
    fn query_models(&self) -> ModelSet {
        let threading = match std::env::var("VX_QUERY_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(n) if n > 1 => vx_models::Threading::PerSession(n),
            _ => vx_models::Threading::CallerThread,
        };
        let options = vx_models::RuntimeOptions {
            library: self.onnxruntime.clone(),
            threading,
        };
        ModelSet::new(&self.models_dir, options, 1)
    }

    fn extractor_on(&self, e: &dyn Extractor) -> bool {
        self.enabled.iter().any(|(n, _)| n == e.name())
    }

    /// Embeds a query with the text model (MiniLM). None when the semantic channel is off.
    pub fn embed_query(&self, query: &str) -> Option<Vec<f32>> {
        if !self.extractor_on(&Semantic) {
            return None;
        }
        let mut slot = self.text_model.lock();
        let models = slot.get_or_insert_with(|| self.query_models());
        match models.query_text() {
            Ok(m) => m.embed(&[query]).ok()?.pop(),
            Err(e) => {
                tracing::debug!("semantic search unavailable: {e}");
                None
            }
        }
    }

    /// Embeds a query with CLIP's text encoder. None when no CLIP model is installed.
    pub fn embed_visual_query(&self, query: &str) -> Option<Vec<f32>> {
        if !self.extractor_on(&Visual) {
            return None;
        }
        let mut slot = self.clip_model.lock();
        let models = slot.get_or_insert_with(|| self.query_models());
        match models.clip() {
            Ok(m) => m.embed_texts(&[query]).ok()?.pop(),
            Err(e) => {
                tracing::debug!("visual search unavailable: {e}");
                None
            }
        }
    }

    /// Queues files whose content lacks an enabled extractor.
    pub fn enabled_store_queue(&self, db: &std::path::Path) -> Result<u64, vx_indexer::StoreError> {
        use vx_indexer::job::{METADATA_EXTRACTOR, METADATA_VERSION};
        let store = vx_indexer::Store::open(db)?;
        store.enqueue_for_new_extractors(&self.enabled, (METADATA_EXTRACTOR, METADATA_VERSION))
    }

    /// Why no new work should start, if it should not.
    pub fn pause_reason(&self) -> Option<String> {
        if self.paused.load(Ordering::Relaxed) {
            return Some("paused by `vx pause`; `vx resume` continues".into());
        }
        if let Some((why, _)) = &*self.storage_fault.lock() {
            return Some(format!(
                "the data folder {} cannot be written: {why}; nothing is lost, and indexing \
                 resumes by itself when it can write again",
                self.data_dir.display()
            ));
        }
        self.auto_pause.lock().clone()
    }

    /// Pauses indexing until the data folder can be written again; `job` (when given) is one
    /// that could not be put back in the queue, released on resuming.
    pub fn storage_failed(&self, why: &str, job: Option<i64>) {
        let mut fault = self.storage_fault.lock();
        let (_, stuck) = fault.get_or_insert_with(|| {
            tracing::warn!(
                "indexing paused: the data folder {} cannot be written: {why}",
                self.data_dir.display()
            );
            (why.to_string(), Vec::new())
        });
        stuck.extend(job);
    }

    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn file_finished(&self) {
        let mut f = self.finished.lock();
        let now = Instant::now();
        f.push_back(now);
        while f.front().is_some_and(|t| now - *t > RATE_WINDOW) {
            f.pop_front();
        }
    }

    /// Files per second over the last minute (or since the first file in it).
    pub fn rate(&self) -> f64 {
        let f = self.finished.lock();
        let now = Instant::now();
        let recent: Vec<_> = f.iter().filter(|t| now - **t <= RATE_WINDOW).collect();
        match recent.first() {
            Some(first) if recent.len() > 1 => {
                recent.len() as f64 / (now - **first).as_secs_f64().max(1.0)
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wake_reaches_every_waiter() {
        let wakeup = std::sync::Arc::new(Wakeup::new());
        let ready = std::sync::Arc::new(std::sync::Barrier::new(3));
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (wakeup, ready) = (wakeup.clone(), ready.clone());
                std::thread::spawn(move || {
                    let mut seen = Woken::default();
                    // A new waiter returns at once.
                    let t = Instant::now();
                    wakeup.wait(&mut seen, Duration::from_secs(20));
                    assert!(t.elapsed() < Duration::from_secs(10));
                    ready.wait();
                    let t = Instant::now();
                    wakeup.wait(&mut seen, Duration::from_secs(20));
                    t.elapsed()
                })
            })
            .collect();
        ready.wait();
        std::thread::sleep(Duration::from_millis(200));
        wakeup.wake();
        for w in waiters {
            let waited = w.join().unwrap();
            assert!(waited < Duration::from_secs(10), "slept until the timeout");
        }
    }
}
