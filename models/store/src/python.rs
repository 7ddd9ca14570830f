//! Conversions that need Python: the scripts of `models/convert/`, built into vx, run in private
//! virtual environments that vx creates in its package cache from pinned requirement lists.
//! Nothing is installed system-wide, and an environment is made once and reused.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::packages::run;

use sha2::{Digest, Sha256};

/// A pinned set of Python packages.
pub struct Env {
    pub name: &'static str,
    /// What it is for, shown while it is made (it can take minutes).
    pub what: &'static str,
    requirements: &'static str,
}

/// numpy and onnx: the graph builders and the canonicaliser.
pub const ONNX: Env = Env {
    name: "onnx",
    what: "numpy and onnx",
    requirements: include_str!("../../convert/requirements-onnx.txt"),
};

/// TensorFlow and tf2onnx for the TF.js models (1.3 GB once installed).
pub const TFJS: Env = Env {
    name: "tfjs",
    what: "tensorflow-cpu and tf2onnx, 1.3 GB",
    requirements: include_str!("../../convert/requirements-tfjs.txt"),
};

/// The scripts, written together so that they can import each other (`torch_legacy.py`,
/// `pack_model.py`).
const SCRIPTS: [(&str, &str); 9] = [
    (
        "minilm_to_onnx.py",
        include_str!("../../convert/minilm_to_onnx.py"),
    ),
    (
        "efficientnet_lite0_to_onnx.py",
        include_str!("../../convert/efficientnet_lite0_to_onnx.py"),
    ),
    (
        "resemblyzer_to_onnx.py",
        include_str!("../../convert/resemblyzer_to_onnx.py"),
    ),
    (
        "torch_legacy.py",
        include_str!("../../convert/torch_legacy.py"),
    ),
    (
        "yamnet_to_onnx.py",
        include_str!("../../convert/yamnet_to_onnx.py"),
    ),
    ("pack_model.py", include_str!("../../convert/pack_model.py")),
    (
        "brisque_to_onnx.py",
        include_str!("../../convert/brisque_to_onnx.py"),
    ),
    ("fix_tfjs.py", include_str!("../../convert/fix_tfjs.py")),
    ("canon_onnx.py", include_str!("../../convert/canon_onnx.py")),
];

/// The environment's folder, made first if the cache lacks it: a virtual environment created
/// in a `.part` folder, the pinned packages installed into it, then renamed, so an interrupted
/// install is never taken for a finished one.
pub fn env(cache: &Path, env: &Env, on_make: &mut dyn FnMut(&Env)) -> Result<PathBuf, String> {
    let digest = crate::verify::hex(&Sha256::digest(env.requirements.as_bytes()));
    let dir = cache
        .join("python")
        .join(format!("{}-{}", env.name, &digest[..12]));
    if dir.join("bin").join("python").is_file() {
        return Ok(dir);
    }
    on_make(env);
    let tmp = dir.with_extension("part");
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&tmp),
            "creating a Python virtual environment (Debian: apt install python3-venv)",
        )?;
        let requirements = tmp.join("requirements.txt");
        std::fs::write(&requirements, env.requirements).map_err(|e| e.to_string())?;
        run(
            python(&tmp)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
            &format!("installing {} into it", env.what),
        )?;
        std::fs::rename(&tmp, &dir).map_err(|e| format!("{}: {e}", dir.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|_| dir)
}

/// Runs one of the built-in scripts with the environment's Python.
pub fn script(env_dir: &Path, cache: &Path, name: &str, args: &[&OsStr]) -> Result<(), String> {
    if !SCRIPTS.iter().any(|(n, _)| *n == name) {
        return Err(format!("no conversion script {name}"));
    }
    let dir = cache.join("python").join("scripts");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (n, text) in SCRIPTS {
        let path = dir.join(n);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    run(python(env_dir).arg(dir.join(name)).args(args), name)
}

/// Runs a module of the environment (`python -m MODULE ARGS`).
pub fn module(env_dir: &Path, module: &str, args: &[&OsStr]) -> Result<(), String> {
    run(python(env_dir).args(["-m", module]).args(args), module)
}

/// The environment's own interpreter (called directly: a venv needs no activation).
fn python(env_dir: &Path) -> Command {
    Command::new(env_dir.join("bin").join("python"))
}
