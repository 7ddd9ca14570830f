//! Configuration: defaults < the TOML file < `VX_*` environment variables < command-line flags.
//! No file is needed: every field has a default that works.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The documented default configuration, printed by `vxd --print-config`.
pub const DEFAULT_CONFIG: &str = r#"# vx daemon configuration. Every field is optional; shown are the defaults.
# Each field can also be set with an environment variable, shown in brackets.

# Where the database, the text index, thumbnails and logs live. [VX_DATA_DIR]
# Default: the platform data dir (~/.local/share/vx, ~/Library/Application Support/vx).
# data_dir = "/path/to/data"

# Model files. [VX_MODELS_DIR] Default: "models" in the data dir; `vx models` manages them.
# models_dir = "/path/to/models"

# The ONNX Runtime library. [ORT_DYLIB_PATH] Default: the set-up script's cache
# (~/.cache/vx/onnxruntime-VERSION/), then the usual system places.
# onnxruntime = "/path/to/libonnxruntime.so"

# Folders to watch in addition to those added with `vx add`. [VX_ROOTS, colon-separated]
roots = []

# Files and folders to leave out, in every watched folder (each folder can have its own:
# `vx add DIR --exclude PATTERN`). A pattern without "/" matches a name anywhere ("*.psd",
# "node_modules/": a trailing "/" means folders only); one with "/" matches the path below the
# watched folder ("Exports/**"). A folder holding a `.nomedia` or `.vxignore` file is left out
# too, and so are photo libraries' derivatives. `vx status` counts what was left out and why.
exclude = []

# Files processed in parallel, each by its own worker process with single-threaded models
# (0 = one per CPU core; PERF-FACTS: the fastest layout on 2 cores). [VX_WORKERS]
workers = 0

# Quiet time after a filesystem event before the changed paths are processed. [VX_DEBOUNCE_MS]
debounce_ms = 500

# How often missing or unmounted folders are checked for their return. [VX_ROOT_CHECK_SECS]
root_check_secs = 10

# How often a folder that cannot be watched (inotify limit reached) is rescanned instead.
# [VX_POLL_INTERVAL_SECS]
poll_interval_secs = 300

# A file that fails with a transient error (an I/O error) is retried this many times in all,
# waiting retry_base_secs, then 4x, 16x longer. Corrupt files fail at once. [VX_MAX_ATTEMPTS]
max_attempts = 3
# [VX_RETRY_BASE_SECS]
retry_base_secs = 30

# Results of contents whose last file disappeared are kept this long, so that a move seen as
# delete-then-create never re-extracts. [VX_ORPHAN_GRACE_SECS]
orphan_grace_secs = 600

# Pause indexing while on battery power; it resumes on mains. [VX_PAUSE_ON_BATTERY]
pause_on_battery = true

# Pause indexing when the data dir's disk has less free space than this. [VX_MIN_FREE_DISK_MB]
min_free_disk_mb = 1024

# Threads each model may use (0 = one per worker, the fastest on small machines); with
# `workers` this is vxd's CPU budget. [VX_MODEL_THREADS]
model_threads = 0

# Extraction runs in a separate worker process per worker thread. A file taking longer than
# this, plus half a second per second of audio or video, is abandoned (the worker is
# restarted) and retried once. [VX_FILE_TIMEOUT_SECS]
file_timeout_secs = 600

# Address-space limit of each worker process in MB (0 = none). [VX_WORKER_MEMORY_MB]
worker_memory_mb = 6144

# A worker process with nothing to do for this many seconds exits, giving back the memory its
# models hold (up to about 1 GB); the next file starts it again, loading models in about half a
# second (0 = keep workers running). [VX_WORKER_IDLE_SECS]
worker_idle_secs = 120

# Extractors not to run, by the names `vx status` lists ("pose", "audio-events"); what they
# found earlier stays searchable. [VX_DISABLE, comma-separated]
disable = []

# Embeddings from which semantic search scans only the rows near the query (the nearest
# sixteenth of about sqrt(N) lists) instead of all of them; 0 = never, the default: on real
# sentence embeddings this finds 78 % of a full scan's top 10 (docs/benchmarks.md). (Without it,
# from 20,000 segments the sign codes choose which rows are scored: 99.7 %.)
# [VX_APPROXIMATE_FROM]
approximate_from = 0

# Log filter, in tracing's EnvFilter syntax (error, warn, info, debug, trace). [VX_LOG]
log = "info"
"#;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub data_dir: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    pub onnxruntime: Option<PathBuf>,
    pub roots: Vec<PathBuf>,
    pub exclude: Vec<String>,
    pub workers: usize,
    pub debounce_ms: u64,
    pub root_check_secs: u64,
    pub poll_interval_secs: u64,
    pub max_attempts: u32,
    pub retry_base_secs: i64,
    pub orphan_grace_secs: i64,
    pub pause_on_battery: bool,
    pub min_free_disk_mb: u64,
    pub model_threads: usize,
    pub file_timeout_secs: u64,
    pub worker_memory_mb: u64,
    pub worker_idle_secs: u64,
    pub disable: Vec<String>,
    pub approximate_from: usize,
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: None,
            models_dir: None,
            onnxruntime: None,
            roots: Vec::new(),
            exclude: Vec::new(),
            workers: 0,
            debounce_ms: 500,
            root_check_secs: 10,
            poll_interval_secs: 300,
            max_attempts: 3,
            retry_base_secs: 30,
            orphan_grace_secs: 600,
            pause_on_battery: true,
            min_free_disk_mb: 1024,
            model_threads: 0,
            file_timeout_secs: 600,
            worker_memory_mb: 6144,
            worker_idle_secs: 120,
            disable: Vec::new(),
            approximate_from: 0,
            log: "info".into(),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_parse<T: std::str::FromStr>(name: &str, into: &mut T) -> Result<()>
where
    T::Err: std::fmt::Display,
{
    if let Some(v) = env(name) {
        *into = v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}"))?;
    }
    Ok(())
}

impl Config {
    /// A configuration file's text, without the environment.
    pub fn parse(text: &str) -> std::result::Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// Reads the file if it exists (a missing file means defaults), then the environment.
    pub fn load(file: &Path) -> Result<Config> {
        let mut config = match std::fs::read_to_string(file) {
            Ok(text) => Config::parse(&text)
                .with_context(|| format!("invalid configuration in {}", file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Config::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
        };
        config.apply_env()?;
        vx_indexer::exclude::validate(&config.exclude)
            .map_err(|e| anyhow::anyhow!("{e} (in `exclude` of {})", file.display()))?;
        Ok(config)
    }

    fn apply_env(&mut self) -> Result<()> {
        if let Some(v) = env("VX_DATA_DIR") {
            self.data_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("VX_MODELS_DIR") {
            self.models_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = env("ORT_DYLIB_PATH") {
            self.onnxruntime = Some(PathBuf::from(v));
        }
        if let Some(v) = std::env::var_os("VX_ROOTS").filter(|v| !v.is_empty()) {
            self.roots = std::env::split_paths(&v).collect();
        }
        env_parse("VX_WORKERS", &mut self.workers)?;
        env_parse("VX_DEBOUNCE_MS", &mut self.debounce_ms)?;
        env_parse("VX_ROOT_CHECK_SECS", &mut self.root_check_secs)?;
        env_parse("VX_POLL_INTERVAL_SECS", &mut self.poll_interval_secs)?;
        env_parse("VX_MAX_ATTEMPTS", &mut self.max_attempts)?;
        env_parse("VX_RETRY_BASE_SECS", &mut self.retry_base_secs)?;
        env_parse("VX_ORPHAN_GRACE_SECS", &mut self.orphan_grace_secs)?;
        env_parse("VX_PAUSE_ON_BATTERY", &mut self.pause_on_battery)?;
        env_parse("VX_MIN_FREE_DISK_MB", &mut self.min_free_disk_mb)?;
        env_parse("VX_MODEL_THREADS", &mut self.model_threads)?;
        env_parse("VX_FILE_TIMEOUT_SECS", &mut self.file_timeout_secs)?;
        env_parse("VX_APPROXIMATE_FROM", &mut self.approximate_from)?;
        env_parse("VX_WORKER_MEMORY_MB", &mut self.worker_memory_mb)?;
        env_parse("VX_WORKER_IDLE_SECS", &mut self.worker_idle_secs)?;
        if let Some(v) = env("VX_DISABLE") {
            self.disable = v.split(',').map(|n| n.trim().to_string()).collect();
        }
        env_parse("VX_LOG", &mut self.log)?;
        Ok(())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(vx_protocol::paths::data_dir)
    }

    pub fn models_dir(&self) -> PathBuf {
        self.models_dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("models"))
    }

    pub fn worker_count(&self) -> usize {
        if self.workers > 0 {
            return self.workers;
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        cores.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_defaults_are_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn the_configuration_doc_shows_the_defaults() {
        let doc = include_str!("../../docs/configuration.md");
        assert!(
            doc.contains(DEFAULT_CONFIG),
            "docs/configuration.md is out of date"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(toml::from_str::<Config>("wokers = 2").is_err());
    }

    #[test]
    fn disabled_extractors_come_from_the_file_or_the_environment() {
        let c = Config::parse("disable = [\"audio-events\", \"pose\"]").unwrap();
        assert_eq!(c.disable, ["audio-events", "pose"]);
    }

    #[test]
    fn missing_file_means_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(&dir.path().join("none.toml")).unwrap();
        assert_eq!(c.debounce_ms, Config::default().debounce_ms);
    }
}
