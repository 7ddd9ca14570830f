//! One ONNX Runtime environment per process, loaded from a shared library at run time.
//!
//! Threading avoids the trap measured in PERF-FACTS.md (idle per-session pools spinning and
//! stealing each other's core made a chain of models 2.7x slower): either every session shares
//! one global pool with spinning off, or every session runs on its caller's thread and the
//! parallelism comes from running several workers. vxd's query sessions run on the searching
//! thread (with `VX_QUERY_THREADS` above 1, their own pool, spinning only while a run lasts).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::error::{ModelError, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threading {
    /// All sessions share one pool of this many threads (spinning off).
    GlobalPool(usize),
    /// Each session runs on the thread that calls it; run several workers for parallelism.
    CallerThread,
    /// Each session has a pool of this many threads, the caller's included, spinning only
    /// while a run lasts: for query sessions where one query's latency counts (vxd's, with
    /// `VX_QUERY_THREADS` above 1, for comparisons).
    PerSession(usize),
}

#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// The library file; otherwise ORT_DYLIB_PATH, then the set-up script's cache.
    pub library: Option<PathBuf>,
    pub threading: Threading,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            library: None,
            threading: Threading::CallerThread,
        }
    }
}

pub struct Runtime {
    env: ort::environment::Environment,
    threading: Threading,
    library: PathBuf,
}

pub use vx_model_store::{find_library, library_candidates};

static RUNTIME: OnceLock<Result<Arc<Runtime>>> = OnceLock::new();

impl Runtime {
    /// The process's runtime, created on first call with these options (later options are
    /// ignored: ONNX Runtime can be loaded only once per process).
    pub fn get(options: &RuntimeOptions) -> Result<Arc<Runtime>> {
        RUNTIME
            .get_or_init(|| Runtime::create(options).map(Arc::new))
            .clone()
    }

    fn create(options: &RuntimeOptions) -> Result<Runtime> {
        let candidates = library_candidates(options.library.as_deref());
        let Some(library) = candidates.iter().find(|p| p.is_file()).cloned() else {
            let tried = candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ModelError::RuntimeMissing { tried });
        };
        let load = |message: String| ModelError::RuntimeLoad {
            path: library.clone(),
            message,
        };
        let mut builder = ort::init_from(&library)
            .map_err(|e| load(e.to_string()))?
            .with_name("vx");
        if let Threading::GlobalPool(n) = options.threading {
            let pool = ort::environment::GlobalThreadPoolOptions::default()
                .with_intra_threads(n)
                .and_then(|p| p.with_inter_threads(1))
                .and_then(|p| p.with_spin_control(false))
                .map_err(|e| load(e.to_string()))?;
            builder = builder.with_global_thread_pool(pool);
        }
        let env = builder.build().map_err(|e| load(e.to_string()))?;
        tracing::info!(library = %library.display(), threading = ?options.threading, "ONNX Runtime loaded");
        Ok(Runtime {
            env,
            threading: options.threading,
            library,
        })
    }

    pub fn library(&self) -> &Path {
        &self.library
    }

    /// Loads a model file into a session configured for this runtime's threading.
    pub fn session(&self, path: &Path) -> Result<Session> {
        if !path.is_file() {
            return Err(ModelError::Missing(path.to_path_buf()));
        }
        self.session_of(path, |b| b.commit_from_file(path))
    }

    /// A session of a model held in memory (`path`: where it came from, for errors).
    pub fn session_from_bytes(&self, model: &[u8], path: &Path) -> Result<Session> {
        self.session_of(path, |b| b.commit_from_memory(model))
    }

    fn session_of(
        &self,
        path: &Path,
        commit: impl FnOnce(&mut ort::session::builder::SessionBuilder) -> ort::Result<Session>,
    ) -> Result<Session> {
        let load = |e: ort::Error| ModelError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut builder = Session::builder(&self.env)
            .map_err(load)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| load(e.into()))?;
        // ONNX Runtime's CPU arena keeps the largest run's buffers (a 2,048-pixel page's OCR
        // crops, a detector batch) for the life of the session, in every worker; without it
        // they go back after each run. VX_ORT_CPU_ARENA=1 keeps the arena (benchmarks compare).
        let arena = std::env::var("VX_ORT_CPU_ARENA").is_ok_and(|v| v == "1");
        // Weight-only int8 models (the pack's MiniLM and YAMNet) expand their weights with
        // DequantizeLinear nodes, which ONNX Runtime keeps out of constant folding (for its int8
        // kernels) unless QDQ handling is off: then they are expanded once, at load. Kept, every
        // run expanded them all again (MiniLM: 47 MB of fresh pages per run).
        // VX_ORT_KEEP_QDQ=1 keeps them (benchmarks compare).
        if !std::env::var("VX_ORT_KEEP_QDQ").is_ok_and(|v| v == "1") {
            builder = builder
                .with_config_entry("session.disable_quant_qdq", "1")
                .map_err(|e| load(e.into()))?;
        }
        builder = builder
            .with_execution_providers([ort::ep::CPU::default().with_arena_allocator(arena).build()])
            .map_err(|e| load(e.into()))?;
        let own_pool = match self.threading {
            Threading::GlobalPool(_) => None,
            Threading::CallerThread => Some(1),
            Threading::PerSession(n) => Some(n.max(1)),
        };
        if let Some(n) = own_pool {
            builder = builder.with_intra_threads(n).map_err(|e| load(e.into()))?;
            builder = builder.with_inter_threads(1).map_err(|e| load(e.into()))?;
            // A query's pool spins while its run lasts, so that each product starts on both
            // threads without waking one, and stops when the run ends (idle pools spinning is
            // PERF-FACTS' trap). VX_ORT_QUERY_SPIN=0 turns it off (benchmarks compare).
            let spin = n > 1 && std::env::var("VX_ORT_QUERY_SPIN").map_or(true, |v| v != "0");
            builder = builder
                .with_intra_op_spinning(spin)
                .map_err(|e| load(e.into()))?;
            if spin {
                builder = builder
                    .with_config_entry("session.force_spinning_stop", "1")
                    .map_err(|e| load(e.into()))?;
            }
        }
        commit(&mut builder).map_err(load)
    }
}
