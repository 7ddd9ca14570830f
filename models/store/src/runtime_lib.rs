//! Where the ONNX Runtime shared library is looked for (the runtime itself lives in vx-models;
//! this is here so that `vx` and vxd can report on it without loading it).

use std::path::{Path, PathBuf};

/// Where the library may be, in the order tried.
pub fn library_candidates(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut c: Vec<PathBuf> = explicit.map(Path::to_path_buf).into_iter().collect();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        c.push(PathBuf::from(p));
    }
    let cache = std::env::var_os("VX_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("vx")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vx")));
    if let Some(cache) = cache {
        // The newest version the set-up script unpacked.
        let mut found: Vec<PathBuf> = std::fs::read_dir(&cache)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("onnxruntime-"))
            })
            .map(|p| {
                p.join(if cfg!(target_os = "macos") {
                    "libonnxruntime.dylib"
                } else {
                    "libonnxruntime.so"
                })
            })
            .collect();
        found.sort();
        c.extend(found.into_iter().rev());
    }
    c.extend(
        [
            "/usr/local/lib/libonnxruntime.so",
            "/usr/lib/libonnxruntime.so",
            "/opt/homebrew/lib/libonnxruntime.dylib",
        ]
        .map(PathBuf::from),
    );
    c
}

/// The first candidate that exists, or all that were tried.
pub fn find_library(explicit: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = library_candidates(explicit);
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(candidates)
}
