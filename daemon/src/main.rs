//! vxd: watches media folders, keeps the catalogue, answers `vx` over a Unix socket.

mod citizen;
mod extractors;
mod isolate;
mod lifecycle;
mod rpc;
mod scanner;
mod shared;
mod watcher;
mod wire;
mod workers;

use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use futures::StreamExt;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
use tokio::signal::unix::{SignalKind, signal};
use vx_indexer::job::RetryPolicy;
use vx_indexer::{Catalog, Store, TextIndex};
use vx_protocol::Vx;

use crate::scanner::CatalogCmd;
use crate::shared::Shared;
use vx_daemon::config::{self, Config};

/// Longest a graceful shutdown waits for threads before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// The vx daemon. Usually started by `vx daemon start`, launchd or systemd.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// Configuration file [default: platform config dir, or VX_CONFIG]
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory: database, index, thumbnails, logs [default: VX_DATA_DIR or platform data dir]
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Socket path [default: VX_SOCKET or the runtime dir]
    #[arg(long)]
    socket: Option<PathBuf>,
    /// Print the documented default configuration and exit
    #[arg(long)]
    print_config: bool,
    /// Run as an extraction worker process (started by vxd itself)
    #[arg(long, hide = true)]
    worker: bool,
    #[arg(long, hide = true)]
    models_dir: Option<PathBuf>,
    #[arg(long, hide = true)]
    thumbs_dir: Option<PathBuf>,
    #[arg(long, hide = true, default_value_t = 1)]
    model_threads: usize,
    #[arg(long, hide = true)]
    onnxruntime: Option<PathBuf>,
}

/// glibc gives threads that allocate at once arenas of their own (up to eight a core), and
/// each arena keeps what was freed in it: in a first scan of 500,000 files vxd's arenas held
/// 300 MB. vxd's threads mostly wait on SQLite, tantivy and the workers, not on malloc.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: called before any other thread exists; mallopt only sets a tunable.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_config {
        print!("{}", config::DEFAULT_CONFIG);
        return ExitCode::SUCCESS;
    }
    if args.worker {
        return run_worker(args);
    }
    limit_malloc_arenas();
    match start(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vxd: {e:#}");
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `vxd --worker`: logs warnings to stderr (the daemon's log), serves files until stdin closes.
fn run_worker(args: Args) -> ExitCode {
    lifecycle::keep_freed_buffers();
    let filter = std::env::var("VX_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(format!("{filter},tarpc=warn"))
                .unwrap_or_default(),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    lifecycle::lower_priority(lifecycle::WORKER_NICE);
    lifecycle::run_when_idle();
    let settings = isolate::WorkerSettings {
        models_dir: args.models_dir.unwrap_or_default(),
        thumbs_dir: args.thumbs_dir.unwrap_or_default(),
        onnxruntime: args.onnxruntime,
        model_threads: args.model_threads,
        memory_mb: 0,
    };
    match isolate::worker_main(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vxd worker: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start(args: Args) -> Result<()> {
    let config_file = args.config.unwrap_or_else(vx_protocol::paths::config_file);
    let mut config = Config::load(&config_file)?;
    extractors::check_names(&config.disable).map_err(|e| {
        anyhow::anyhow!(
            "{e} (in `disable` of {} or VX_DISABLE)",
            config_file.display()
        )
    })?;
    if let Some(dir) = args.data_dir {
        config.data_dir = Some(dir);
    }
    let data_dir = config.data_dir();
    lifecycle::private_dir(&data_dir)?;
    std::fs::create_dir_all(data_dir.join("thumbnails"))?;
    let _lock = lifecycle::lock_data_dir(&data_dir)?;
    let _log_guard = lifecycle::init_logging(&config.log, &data_dir)?;
    let socket = args.socket.unwrap_or_else(vx_protocol::paths::socket_path);
    lifecycle::lower_priority(lifecycle::DAEMON_NICE);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vxd-async")
        .enable_all()
        .build()?;
    let result = runtime.block_on(serve(config, data_dir, socket.clone()));
    let _ = std::fs::remove_file(&socket);
    runtime.shutdown_timeout(Duration::from_secs(1));
    if result.is_ok() {
        tracing::info!("vxd stopped");
    }
    result
}

async fn serve(config: Config, data_dir: PathBuf, socket: PathBuf) -> Result<()> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), data_dir = %data_dir.display(), "vxd starting");
    let db_path = data_dir.join("catalogue.sqlite3");
    let store =
        Store::open(&db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    let requeued = store.requeue_running()?;
    if requeued > 0 {
        tracing::info!(
            jobs = requeued,
            "resuming jobs interrupted by the last stop"
        );
    }
    // The database keeps every pending file's job itself (migration 5); a catalogue from before
    // that, or a damaged one, is repaired here.
    let repaired = store.repair_pending_jobs()?;
    if repaired > 0 {
        tracing::warn!(
            files = repaired,
            "pending files had no job to run them; queued them again"
        );
    }
    let (text, created) = TextIndex::open(&data_dir.join("index"))?;
    if created {
        let n = store.index_everything()?;
        tracing::info!(
            files = n,
            "text index created; filling it from the catalogue"
        );
    }
    let workers = config.worker_count();
    let mut shared = Shared::new(db_path.clone(), data_dir.clone(), text, workers);
    shared.pending_without_job = repaired.into();
    shared.models_dir = config.models_dir();
    shared.onnxruntime = config.onnxruntime.clone();
    shared.disabled = config.disable.clone();
    shared.approximate_from = config.approximate_from;
    shared.enabled = extractors::enabled(&shared.extractor_setup());
    tracing::info!(extractors = ?shared.enabled, "extractors enabled");
    // New models or new extractor versions: queue what existing contents lack.
    let queued = shared.enabled_store_queue(&db_path)?;
    if queued > 0 {
        tracing::info!(
            files = queued,
            "queued for extractors they have not run yet"
        );
    }
    {
        use vx_indexer::semantic::{Embedded, VectorStore};
        let store = Store::open(&db_path)?;
        *shared.vectors.write() = VectorStore::load(&store, Embedded::TextSegments)?;
        *shared.frames.write() = VectorStore::load(&store, Embedded::Frames)?;
    }
    let shared = Arc::new(shared);
    // Load the query embedders now rather than on the first search, which would wait for them.
    // Joined at shutdown: exiting while ONNX Runtime loads a model crashes in its destructors.
    let warm_up = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("warm-up".into())
            .spawn(move || {
                shared.embed_query("warm up");
                shared.embed_visual_query("warm up");
            })?
    };

    let (watch_tx, watch_rx) = tokio::sync::mpsc::unbounded_channel();
    let (cat_tx, cat_rx) = std::sync::mpsc::channel();
    let (catalog, catalog_thread) = scanner::spawn(
        shared.clone(),
        {
            let mut catalog = Catalog::new(store);
            catalog.set_exclude(config.exclude.clone());
            catalog
        },
        watch_tx,
        scanner::Settings {
            root_check: Duration::from_secs(config.root_check_secs.max(1)),
            poll_interval: Duration::from_secs(config.poll_interval_secs.max(1)),
            orphan_grace_secs: config.orphan_grace_secs,
        },
        cat_tx,
        cat_rx,
    )?;
    let retry = RetryPolicy {
        max_attempts: config.max_attempts.max(1),
        base_secs: config.retry_base_secs.max(0),
    };
    let worker_settings = isolate::WorkerSettings {
        models_dir: config.models_dir(),
        thumbs_dir: data_dir.join("thumbnails"),
        onnxruntime: config.onnxruntime.clone(),
        model_threads: config.model_threads.max(1),
        memory_mb: config.worker_memory_mb,
    };
    let mut threads = workers::spawn_workers(
        &shared,
        workers,
        retry,
        worker_settings,
        Duration::from_secs(config.file_timeout_secs.max(1)),
        (config.worker_idle_secs > 0).then(|| Duration::from_secs(config.worker_idle_secs)),
    )?;
    threads.push(workers::spawn_index_writer(&shared)?);
    threads.push(catalog_thread);
    threads.push(warm_up);

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let shutdown_tx = Arc::new(shutdown_tx);
    tokio::spawn(watcher::run(
        shared.clone(),
        catalog.clone(),
        watch_rx,
        Duration::from_millis(config.debounce_ms),
        shutdown_rx.clone(),
    ));
    tokio::spawn(watch_circumstances(
        shared.clone(),
        catalog.clone(),
        config.clone(),
        Duration::from_secs(config.root_check_secs.max(1)),
        shutdown_rx.clone(),
    ));
    catalog.send(CatalogCmd::Startup {
        config_roots: config.roots.clone(),
    });

    lifecycle::prepare_socket(&socket)?;
    let listener = tokio::net::UnixListener::bind(&socket)
        .with_context(|| format!("cannot listen on {}", socket.display()))?;
    lifecycle::restrict_socket(&socket)?;
    tracing::info!(socket = %socket.display(), workers, "listening");
    let server = rpc::Server {
        shared: shared.clone(),
        catalog: catalog.clone(),
        pool: Arc::new(rpc::Pool::new(db_path)),
        shutdown: shutdown_tx.clone(),
    };
    let accept = tokio::spawn(accept_loop(listener, server, shutdown_rx.clone()));

    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut requested = shutdown_rx.clone();
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
        _ = requested.changed() => {}
    }
    let _ = shutdown_tx.send(true);
    accept.abort();
    // Remove the socket first so that clients see "not running" rather than a hang.
    let _ = std::fs::remove_file(&socket);
    shared.stop.store(true, Ordering::SeqCst);
    shared.workers_wake.wake();
    shared.index_wake.wake();
    catalog.send(CatalogCmd::Stop);
    let joined = tokio::task::spawn_blocking(move || {
        for t in threads {
            let _ = t.join();
        }
    });
    if tokio::time::timeout(SHUTDOWN_GRACE, joined).await.is_err() {
        tracing::warn!(
            "some work did not stop within {SHUTDOWN_GRACE:?}; exiting anyway (it resumes at next start)"
        );
    }
    Ok(())
}

/// Ends a pause for an unwritable data folder once it takes writes again: the jobs that could
/// not be put back in the queue are, the folders are scanned for what changed meanwhile, and
/// the workers wake.
async fn resume_after_storage_fault(shared: &Arc<Shared>, catalog: &scanner::CatalogHandle) {
    if shared.storage_fault.lock().is_none() {
        return;
    }
    let s = shared.clone();
    let resumed = tokio::task::spawn_blocking(move || {
        if !citizen::can_write(&s.data_dir) {
            return Ok(false);
        }
        let stuck = s
            .storage_fault
            .lock()
            .as_ref()
            .map(|(_, jobs)| jobs.clone())
            .unwrap_or_default();
        let store = vx_indexer::Store::open(&s.db_path)?;
        for job in stuck {
            store.release_job(job)?;
        }
        *s.storage_fault.lock() = None;
        Ok::<_, vx_indexer::StoreError>(true)
    })
    .await;
    match resumed {
        Ok(Ok(true)) => {
            tracing::info!("the data folder takes writes again: indexing resumed");
            // Changes seen while the catalogue could not record them.
            catalog.send(CatalogCmd::ScanAll);
            shared.workers_wake.wake();
            shared.index_wake.wake();
        }
        Ok(Ok(false)) => {}
        Ok(Err(e)) => tracing::warn!("the data folder is still unwritable: {e}"),
        Err(e) => tracing::error!("resume check failed: {e}"),
    }
}

/// Pauses and resumes indexing as power and disk space come and go.
async fn watch_circumstances(
    shared: Arc<Shared>,
    catalog: scanner::CatalogHandle,
    config: Config,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (data_dir, on_battery, min_free) = (
            shared.data_dir.clone(),
            config.pause_on_battery,
            config.min_free_disk_mb,
        );
        let reason = tokio::task::spawn_blocking(move || {
            citizen::pause_reason(on_battery, &data_dir, min_free)
        })
        .await
        .unwrap_or(None);
        resume_after_storage_fault(&shared, &catalog).await;
        let changed = {
            let mut current = shared.auto_pause.lock();
            let changed = *current != reason;
            *current = reason.clone();
            changed
        };
        if changed {
            match &reason {
                Some(why) => tracing::warn!("indexing paused: {why}"),
                None => {
                    tracing::info!("indexing resumed");
                    shared.workers_wake.wake();
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// What clients send vxd, and what it answers.
type Incoming = tarpc::ClientMessage<vx_protocol::VxRequest>;
type Outgoing = tarpc::Response<vx_protocol::VxResponse>;

/// Bincode for the server's side of the socket, refusing request frames whose deadline tarpc
/// would overflow on (see `vx_protocol::framing::deadline_in_range`).
#[derive(Default)]
struct CheckedBincode(Bincode<Incoming, Outgoing>);

impl tarpc::tokio_serde::Deserializer<Incoming> for CheckedBincode {
    type Error = std::io::Error;

    fn deserialize(
        self: Pin<&mut Self>,
        src: &tarpc::tokio_util::bytes::BytesMut,
    ) -> Result<Incoming, Self::Error> {
        if !vx_protocol::framing::deadline_in_range(src) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a request whose deadline is out of range",
            ));
        }
        Pin::new(&mut self.get_mut().0).deserialize(src)
    }
}

impl tarpc::tokio_serde::Serializer<Outgoing> for CheckedBincode {
    type Error = std::io::Error;

    fn serialize(
        self: Pin<&mut Self>,
        item: &Outgoing,
    ) -> Result<tarpc::tokio_util::bytes::Bytes, Self::Error> {
        Pin::new(&mut self.get_mut().0).serialize(item)
    }
}

/// Open connections at most: when another arrives, the oldest is closed, so that clients left
/// idle (or a process opening connections without end) can neither exhaust the daemon's file
/// descriptors nor lock out the next `vx`.
const MAX_CONNECTIONS: usize = 128;

async fn accept_loop(
    listener: tokio::net::UnixListener,
    server: rpc::Server,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let owner = rustix::process::geteuid().as_raw();
    let mut open: std::collections::VecDeque<tokio::task::AbortHandle> = Default::default();
    loop {
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = shutdown.changed() => return,
        };
        let stream = match conn {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // The socket is the owner's alone (0600 in a 0700 folder); the peer's uid is checked
        // too, in case the folder's permissions were loosened.
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == owner => {}
            Ok(cred) => {
                tracing::warn!(uid = cred.uid(), "refused a connection from another user");
                continue;
            }
            Err(e) => {
                tracing::warn!("refused a connection whose peer is unknown: {e}");
                continue;
            }
        }
        open.retain(|c| !c.is_finished());
        if open.len() >= MAX_CONNECTIONS
            && let Some(oldest) = open.pop_front()
        {
            tracing::warn!("{MAX_CONNECTIONS} connections open: closing the oldest");
            oldest.abort();
        }
        // Oversized frames end the connection: a malformed or endless request costs only it.
        let framed = LengthDelimitedCodec::builder()
            .max_frame_length(vx_protocol::framing::MAX_FRAME)
            .new_framed(stream);
        let transport = tarpc::serde_transport::new(framed, CheckedBincode::default());
        let server = server.clone();
        let task = tokio::spawn(
            BaseChannel::with_defaults(transport)
                .execute(server.serve())
                .for_each(|response| async move {
                    tokio::spawn(response);
                }),
        );
        open.push_back(task.abort_handle());
    }
}
