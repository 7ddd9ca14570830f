//! Where vx keeps things. Both `vx` and `vxd` use these, so the two always agree.
//!
//! - data dir: `VX_DATA_DIR`, else the platform's data dir (`~/.local/share/vx`,
//!   `~/Library/Application Support/vx`).
//! - config file: `VX_CONFIG`, else `vx/config.toml` in the platform's config dir.
//! - socket: `VX_SOCKET`, else `vxd.sock` in `$XDG_RUNTIME_DIR/vx` (Linux), else in `run/` inside
//!   the data dir. Its directory is mode 0700 and the socket 0600.
//! - models: `VX_MODELS_DIR` (a pack used in place), else `models/` in the data dir.

use std::path::PathBuf;

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "vx")
}

fn from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

pub fn data_dir() -> PathBuf {
    from_env("VX_DATA_DIR")
        .or_else(|| project_dirs().map(|d| d.data_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".vx"))
}

/// Downloads worth keeping (packages that models are built from): `VX_CACHE_DIR`, else the
/// platform's cache dir (`~/.cache/vx`, `~/Library/Caches/vx`).
pub fn cache_dir() -> PathBuf {
    from_env("VX_CACHE_DIR")
        .or_else(|| project_dirs().map(|d| d.cache_dir().to_path_buf()))
        .unwrap_or_else(|| data_dir().join("cache"))
}

pub fn config_file() -> PathBuf {
    from_env("VX_CONFIG")
        .or_else(|| project_dirs().map(|d| d.config_dir().join("config.toml")))
        .unwrap_or_else(|| data_dir().join("config.toml"))
}

pub fn socket_path() -> PathBuf {
    if let Some(p) = from_env("VX_SOCKET") {
        return p;
    }
    // An isolated instance (VX_DATA_DIR set) gets its own socket beside its data.
    if from_env("VX_DATA_DIR").is_none()
        && let Some(runtime) = project_dirs().and_then(|d| d.runtime_dir().map(|p| p.to_path_buf()))
    {
        return runtime.join("vxd.sock");
    }
    data_dir().join("run").join("vxd.sock")
}

pub fn models_dir() -> PathBuf {
    from_env("VX_MODELS_DIR").unwrap_or_else(|| data_dir().join("models"))
}
