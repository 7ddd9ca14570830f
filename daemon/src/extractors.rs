//! Which extractors run, and what `vx status` says about each: enabled, or disabled and why.

use std::path::Path;

use vx_client::ExtractorInfo;
use vx_indexer::extract::version;
use vx_model_store::{Manifest, check_model};

/// Extractors this vxd runs, with the manifest model each needs (None: no model).
const RUNS: &[(&str, Option<&str>)] = &[
    ("thumbnails", None),
    ("tags", Some("tags")),
    ("objects", Some("objects")),
    ("faces", Some("faces")),
    ("ocr", Some("ocr")),
    ("transcript", Some("transcript")),
    ("semantic", Some("semantic")),
];

fn clip_installed(models_dir: &Path) -> Option<String> {
    std::fs::read_dir(models_dir.join("clip"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("visual/model.onnx").is_file() && p.join("textual/model.onnx").is_file())
        .map(|p| p.display().to_string())
}

/// Every extractor with (enabled, reason).
pub fn states(
    models_dir: &Path,
    onnxruntime: Option<&Path>,
) -> Vec<(String, u32, bool, Option<String>)> {
    let ort = vx_model_store::find_library(onnxruntime);
    let manifest = Manifest::builtin();
    let mut out = Vec::new();
    for (name, model) in RUNS {
        let reason = match model.and_then(|m| manifest.for_extractor(m)) {
            None => None,
            Some(m) => {
                let state = check_model(models_dir, m, false);
                let needs_ort = m.files.iter().any(|f| f.path.ends_with(".onnx"));
                match (state.reason(), &ort) {
                    (Some(why), _) => Some(format!("model {}: {why} (`vx models` says how to install it)", m.name)),
                    (None, Err(_)) if needs_ort => {
                        Some("ONNX Runtime library not found: run scripts/setup.sh or set ORT_DYLIB_PATH".into())
                    }
                    (None, _) => None,
                }
            }
        };
        out.push((name.to_string(), version(name), reason.is_none(), reason));
    }
    let visual = match (clip_installed(models_dir), &ort) {
        (None, _) => Some("no CLIP model installed (docs/models.md says how)".to_string()),
        (Some(_), Err(_)) => Some("ONNX Runtime library not found".to_string()),
        (Some(_), Ok(_)) => None,
    };
    out.push(("visual".into(), version("visual"), visual.is_none(), visual));
    // Models of extractors still to come are listed so that `vx status` shows what is installed.
    for m in &manifest.models {
        if !out.iter().any(|(n, ..)| *n == m.extractor) {
            let state = check_model(models_dir, m, false);
            // The audio-event model already serves the transcript (where speech starts).
            let used = if m.extractor == "audio-events" {
                "; the transcript uses it to start moments with the speech, sound tags are not extracted yet"
            } else {
                "; this vxd does not run it yet"
            };
            out.push((
                m.extractor.clone(),
                1,
                false,
                Some(format!("model {} is {}{used}", m.name, state.label())),
            ));
        }
    }
    out
}

/// (extractor, version) pairs that run.
pub fn enabled(models_dir: &Path, onnxruntime: Option<&Path>) -> Vec<(String, u32)> {
    states(models_dir, onnxruntime)
        .into_iter()
        .filter(|s| s.2)
        .map(|s| (s.0, s.1))
        .collect()
}

pub fn infos(
    models_dir: &Path,
    onnxruntime: Option<&Path>,
    done: impl Fn(&str, u32) -> u64,
) -> Vec<ExtractorInfo> {
    states(models_dir, onnxruntime)
        .into_iter()
        .map(|(name, version, enabled, reason)| ExtractorInfo {
            done: if enabled { done(&name, version) } else { 0 },
            name,
            version,
            enabled,
            reason,
        })
        .collect()
}
