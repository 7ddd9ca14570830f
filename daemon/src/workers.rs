//! Threads outside tokio: job workers (each hands files to its extraction process) and the
//! text-index writer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use std::os::unix::ffi::OsStrExt;

use vx_indexer::Store;
use vx_indexer::job::{self, Extraction, Outcome, Prepared, RetryPolicy, Step};
use vx_indexer::probe::ProbeError;
use vx_indexer::store::Grouping;

use crate::isolate::{Request, Response, Supervisor, WorkerSettings};
use crate::shared::{Shared, Woken};

/// A crash or a time-out gets the file one more try, then it fails with the reason.
const CRASH_ATTEMPTS: u32 = 2;

const IDLE_WAIT: Duration = Duration::from_secs(1);
/// At most how often the in-memory embeddings are rebuilt from scratch, when some were deleted
/// or changed (otherwise new ones are appended).
const FULL_VECTOR_RELOAD: Duration = Duration::from_secs(60);
/// How often faces (speakers) grouped since the last time are re-grouped (Store::regroup).
const REGROUP_EVERY: Duration = Duration::from_secs(600);
/// Gathers a few files into one tantivy commit.
const COMMIT_DELAY: Duration = Duration::from_millis(150);

pub fn spawn_workers(
    shared: &Arc<Shared>,
    count: usize,
    retry: RetryPolicy,
    settings: WorkerSettings,
    timeout: Duration,
    idle_exit: Option<Duration>,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    (0..count)
        .map(|i| {
            let shared = shared.clone();
            let supervisor = Supervisor::new(settings.clone(), timeout, idle_exit);
            std::thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || worker(i, &shared, retry, supervisor))
        })
        .collect()
}

/// Hands the file to the worker process and stores what comes back.
fn extract_in_worker(
    store: &mut Store,
    shared: &Shared,
    job: &vx_indexer::store::Job,
    retry: RetryPolicy,
    x: &Extraction,
    supervisor: &mut Supervisor,
) -> Result<Outcome, vx_indexer::StoreError> {
    let req = Request {
        path: x.file.path.as_os_str().as_bytes().to_vec(),
        hash_hex: x.hash_hex(),
        wanted: x.wanted.clone(),
        stored: x.stored.clone(),
        spare_threads: spare_threads(store, shared, supervisor.settings.model_threads),
    };
    let result = match supervisor.run(&req, &shared.stop) {
        Ok(Response::Done {
            meta,
            output,
            decode_opens,
        }) => {
            // Thumbnails the worker could not write: the data folder, not the file, is at
            // fault. Nothing is stored; the job waits for the folder to be writable.
            let fault = output.outcomes.iter().find_map(|o| {
                o.error
                    .as_deref()
                    .and_then(vx_indexer::store::io_storage_fault)
            });
            if let Some(why) = fault {
                let stuck = store.release_job(job.id).is_err().then_some(job.id);
                shared.storage_failed(why, stuck);
                return Ok(Outcome::Cancelled);
            }
            store.bump_counter("decode_opens", decode_opens as i64)?;
            for o in &output.outcomes {
                if let Some(e) = &o.error {
                    tracing::warn!(path = %x.file.path.display(), extractor = %o.extractor, "{e}");
                }
            }
            Ok((*meta, *output))
        }
        Ok(Response::NotMedia(m)) => Err(ProbeError::NotMedia(m)),
        Ok(Response::Corrupt(m)) => Err(ProbeError::Corrupt(m)),
        Ok(Response::Io(m)) => Err(ProbeError::Io(m)),
        Ok(Response::Decoded { .. }) => {
            Err(ProbeError::Io("the worker answered out of turn".into()))
        }
        Err(_) if shared.stopping() => {
            store.release_job(job.id)?;
            return Ok(Outcome::Cancelled);
        }
        Err(failure) => {
            tracing::warn!(path = %x.file.path.display(), "{failure}");
            store.bump_counter("worker_failures", 1)?;
            let gave_up = store.retry_or_fail(job, &failure.to_string(), CRASH_ATTEMPTS, 0)?;
            shared.workers_wake.wake();
            return Ok(if gave_up {
                Outcome::Done(vx_indexer::FileState::Failed)
            } else {
                Outcome::Retrying(failure.to_string())
            });
        }
    };
    job::complete(store, job, retry, x, result)
}

/// Threads this job may add once its visual models are done: none while files wait (they
/// will keep the other workers busy); else the idle workers' share of the CPU budget
/// (`workers` x `model_threads`), so a lone video's speech finishes on the idle cores.
fn spare_threads(store: &Store, shared: &Shared, model_threads: usize) -> usize {
    let workers = shared.current.lock().len();
    let running = shared
        .current
        .lock()
        .iter()
        .filter(|p| p.is_some())
        .count()
        .max(1);
    match store.has_ready_job() {
        Ok(false) => workers.saturating_sub(running) * model_threads.max(1),
        _ => 0,
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// How often an idle queue is checked for pending files without a job.
const REPAIR_EVERY: Duration = Duration::from_secs(60);

/// The database keeps a job for every pending file; this is the check that it did.
fn repair_pending_jobs(store: &Store, shared: &Shared) {
    match store.repair_pending_jobs() {
        Ok(n) => {
            shared.pending_without_job.store(n, Ordering::Relaxed);
            if n > 0 {
                tracing::error!(
                    files = n,
                    "pending files had no job to run them; queued them again"
                );
            }
        }
        Err(e) => tracing::error!("cannot check the job queue: {e}"),
    }
}

/// How long a file waits while another file of its content is extracted.
const IN_FLIGHT_RETRY_SECS: i64 = 1;

/// A content this worker extracts; released when dropped, panics included.
struct ContentClaim<'a> {
    shared: &'a Shared,
    hash: Vec<u8>,
}

impl<'a> ContentClaim<'a> {
    /// None when another worker holds it.
    fn take(shared: &'a Shared, hash: &[u8]) -> Option<ContentClaim<'a>> {
        shared
            .in_flight
            .lock()
            .insert(hash.to_vec())
            .then(|| ContentClaim {
                shared,
                hash: hash.to_vec(),
            })
    }
}

impl Drop for ContentClaim<'_> {
    fn drop(&mut self) {
        self.shared.in_flight.lock().remove(&self.hash);
    }
}

fn worker(index: usize, shared: &Shared, retry: RetryPolicy, mut supervisor: Supervisor) {
    let mut store = match Store::open(&shared.db_path) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("worker {index} cannot open the catalogue: {e}");
            return;
        }
    };
    let mut last_repair = Instant::now();
    let mut woken = Woken::default();
    while !shared.stopping() {
        if shared.pause_reason().is_some() {
            supervisor.stop_if_idle();
            shared.workers_wake.wait(&mut woken, IDLE_WAIT);
            continue;
        }
        let job = match store.claim_job() {
            Ok(Some(job)) => job,
            Ok(None) => {
                if index == 0 && last_repair.elapsed() >= REPAIR_EVERY {
                    last_repair = Instant::now();
                    repair_pending_jobs(&store, shared);
                }
                supervisor.stop_if_idle();
                shared.workers_wake.wait(&mut woken, IDLE_WAIT);
                continue;
            }
            Err(e) => {
                tracing::error!("cannot read the job queue: {e}");
                std::thread::sleep(IDLE_WAIT);
                continue;
            }
        };
        let path = store.file(job.file_id).ok().flatten().map(|f| f.path);
        shared.current.lock()[index] = path.clone();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let hashed = match job::prepare(&mut store, &job, retry, &shared.stop)? {
                Prepared::Done(outcome) => return Ok(outcome),
                Prepared::Hashed(h) => h,
            };
            let Some(_claim) = ContentClaim::take(shared, &hashed.hash) else {
                store.defer_job(job.file_id, IN_FLIGHT_RETRY_SECS)?;
                return Ok(Outcome::Deferred);
            };
            match job::plan(&mut store, &job, hashed, &shared.enabled)? {
                Step::Done(outcome) => Ok(outcome),
                Step::Extract(x) => {
                    extract_in_worker(&mut store, shared, &job, retry, &x, &mut supervisor)
                }
            }
        }));
        shared.current.lock()[index] = None;
        let shown = path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        match result {
            Ok(Ok(outcome)) => {
                tracing::debug!(path = %shown, ?outcome, "job finished");
                if let Outcome::Done(state) = outcome {
                    if state == vx_indexer::FileState::Failed {
                        tracing::warn!(path = %shown, "file failed; `vx show` says why");
                    }
                    shared.file_finished();
                    shared.index_wake.wake();
                }
            }
            // The data folder cannot be written: pause; the job goes back to the queue (or,
            // if even that cannot be written, when writing works again).
            Ok(Err(e)) if e.storage_fault().is_some() => {
                let why = e.storage_fault().expect("just checked");
                let stuck = store.release_job(job.id).is_err().then_some(job.id);
                shared.storage_failed(why, stuck);
            }
            Ok(Err(e)) => {
                tracing::error!(path = %shown, "catalogue error: {e}");
                let _ = store.retry_or_fail(
                    &job,
                    &e.to_string(),
                    retry.max_attempts,
                    retry.backoff(job.attempts),
                );
            }
            Err(panic) => {
                let msg = format!(
                    "internal error while processing this file: {}",
                    panic_message(&*panic)
                );
                tracing::error!(path = %shown, "{msg}");
                let _ = store.fail_job(&job, &msg);
                shared.index_wake.wake();
            }
        }
    }
}

pub fn spawn_index_writer(shared: &Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("index".into())
        .spawn(move || index_writer(&shared))
}

fn index_writer(shared: &Shared) {
    let opened = Store::open(&shared.db_path)
        .map_err(|e| e.to_string())
        .and_then(|s| {
            shared
                .text
                .writer()
                .map(|w| (s, w))
                .map_err(|e| e.to_string())
        });
    let (mut store, mut sync) = match opened {
        Ok(x) => x,
        Err(e) => {
            tracing::error!("text index writer cannot start: {e}");
            return;
        }
    };
    let mut vectors = VectorUpkeep::new(&store);
    let mut people = GroupUpkeep::new(&vx_indexer::people::PEOPLE);
    let mut voices = GroupUpkeep::new(&vx_indexer::voices::VOICES);
    let mut woken = Woken::default();
    loop {
        let stopping = shared.stopping();
        if shared.rebuild_index.swap(false, Ordering::SeqCst) {
            // Queue everything first: a crash after this point replays into a fresh index.
            let result = store
                .index_everything()
                .map_err(|e| e.to_string())
                .and_then(|n| sync.clear().map(|_| n).map_err(|e| e.to_string()));
            match result {
                Ok(n) => tracing::info!(files = n, "rebuilding the text index"),
                Err(e) => tracing::error!("cannot rebuild the text index: {e}"),
            }
        }
        // New faces and speakers join their groups before their files are indexed, so names
        // are searchable.
        people.run(&mut store);
        voices.run(&mut store);
        match sync.sync(&store) {
            Ok(0) if !VectorUpkeep::partition_due(shared) => {}
            Ok(n) => {
                tracing::debug!(files = n, "text index updated");
                if let Err(e) = vectors.update(&store, shared) {
                    tracing::error!("cannot load embeddings: {e}");
                }
            }
            Err(e) => tracing::error!("text index update failed (will retry): {e}"),
        }
        if stopping {
            return;
        }
        shared.index_wake.wait(&mut woken, IDLE_WAIT);
        std::thread::sleep(COMMIT_DELAY);
    }
}

/// Groups new faces into people (speakers into voices) as they arrive, and re-groups now and
/// then.
struct GroupUpkeep {
    grouping: &'static Grouping,
    grouped_since_regroup: u64,
    last_regroup: Option<std::time::Instant>,
}

impl GroupUpkeep {
    fn new(grouping: &'static Grouping) -> GroupUpkeep {
        GroupUpkeep {
            grouping,
            grouped_since_regroup: 0,
            last_regroup: None,
        }
    }

    fn run(&mut self, store: &mut Store) {
        let (g, join) = (self.grouping, self.grouping.join);
        match store.group_new(g, join) {
            Ok(0) => {}
            Ok(n) => {
                tracing::debug!(members = n, "{} grouped", g.members);
                self.grouped_since_regroup += n;
            }
            Err(e) => tracing::error!("cannot group {}: {e}", g.members),
        }
        let due = self
            .last_regroup
            .is_none_or(|t| t.elapsed() >= REGROUP_EVERY);
        if self.grouped_since_regroup == 0 || !due {
            return;
        }
        self.last_regroup = Some(std::time::Instant::now());
        self.grouped_since_regroup = 0;
        match store
            .regroup(g, join)
            .and_then(|r| store.group_new(g, join).map(|_| r))
        {
            Ok(r) => tracing::info!(
                detached = r.detached,
                merged = r.merged,
                removed = r.removed,
                "{} re-grouped",
                g.groups
            ),
            Err(e) => tracing::error!("cannot re-group {}: {e}", g.groups),
        }
    }
}

/// Keeps the in-memory vector stores in step with the catalogue: new rows are appended; when
/// rows were deleted or changed (a trigger counts them), both are rebuilt, at most once a minute,
/// and so they are when one has grown enough to be partitioned (again).
struct VectorUpkeep {
    changed_at_load: i64,
    loaded: std::time::Instant,
}

impl VectorUpkeep {
    fn new(store: &Store) -> VectorUpkeep {
        VectorUpkeep {
            changed_at_load: store.counter("vectors_changed").unwrap_or(0),
            loaded: std::time::Instant::now(),
        }
    }

    /// Whether a store has grown enough to be partitioned (again).
    fn partition_due(shared: &Shared) -> bool {
        let min = shared.approximate_from;
        shared.vectors.read().wants_partition(min) || shared.frames.read().wants_partition(min)
    }

    fn update(&mut self, store: &Store, shared: &Shared) -> Result<(), vx_indexer::StoreError> {
        use vx_indexer::semantic::{Embedded, VectorStore};
        let changed = store.counter("vectors_changed")?;
        if (changed != self.changed_at_load && self.loaded.elapsed() >= FULL_VECTOR_RELOAD)
            || VectorUpkeep::partition_due(shared)
        {
            // Built outside the locks: searches go on with the old ones meanwhile.
            let min = shared.approximate_from;
            let text = VectorStore::load_partitioned(store, Embedded::TextSegments, min)?;
            let frames = VectorStore::load_partitioned(store, Embedded::Frames, min)?;
            *shared.vectors.write() = text;
            *shared.frames.write() = frames;
            self.changed_at_load = changed;
            self.loaded = std::time::Instant::now();
        } else {
            shared.vectors.write().refresh(store)?;
            shared.frames.write().refresh(store)?;
        }
        Ok(())
    }
}
