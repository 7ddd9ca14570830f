//! Which extractors run, and what `vx status` says about each: enabled, or disabled and why.

use std::path::Path;

use vx_indexer::extractors::{self, Needs, version};
use vx_model_store::{Manifest, check_model};
use vx_protocol::ExtractorInfo;

fn clip_installed(models_dir: &Path) -> Option<String> {
    std::fs::read_dir(models_dir.join("clip"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("visual/model.onnx").is_file() && p.join("textual/model.onnx").is_file())
        .map(|p| p.display().to_string())
}

/// An extractor as this vxd sees it.
pub struct State {
    pub name: String,
    pub version: u32,
    /// Why it does not run; None: it runs.
    pub reason: Option<String>,
}

/// Every extractor, and why it does not run when it does not.
pub fn states(models_dir: &Path, onnxruntime: Option<&Path>) -> Vec<State> {
    let ort = vx_model_store::find_library(onnxruntime);
    let manifest = Manifest::builtin();
    let mut out = Vec::new();
    for e in extractors::ALL {
        let reason = match e.needs() {
            Needs::Nothing => None,
            Needs::Model(key) => manifest.for_extractor(key).and_then(|m| {
                let state = check_model(models_dir, m, false);
                let needs_ort = m.files.iter().any(|f| f.path.ends_with(".onnx"));
                match (state.reason(), &ort) {
                    (Some(why), _) => Some(format!("model {}: {why} (`vx models` says how to install it)", m.name)),
                    (None, Err(_)) if needs_ort => {
                        Some("ONNX Runtime library not found: run scripts/setup.sh or set ORT_DYLIB_PATH".into())
                    }
                    (None, _) => None,
                }
            }),
            Needs::Clip => match (clip_installed(models_dir), &ort) {
                (None, _) => Some("no CLIP model installed (docs/models.md says how)".to_string()),
                (Some(_), Err(_)) => Some("ONNX Runtime library not found".to_string()),
                (Some(_), Ok(_)) => None,
            },
        };
        out.push(State {
            name: e.name().to_string(),
            version: version(e.name()),
            reason,
        });
    }
    // Models of extractors still to come are listed so that `vx status` shows what is installed.
    for m in &manifest.models {
        if !out.iter().any(|s| s.name == m.extractor) {
            let state = check_model(models_dir, m, false);
            // The audio-event model already serves the transcript (where speech starts).
            let used = if m.extractor == "audio-events" {
                "; the transcript uses it to start moments with the speech, sound tags are not extracted yet"
            } else {
                "; this vxd does not run it yet"
            };
            out.push(State {
                name: m.extractor.clone(),
                version: 1,
                reason: Some(format!("model {} is {}{used}", m.name, state.label())),
            });
        }
    }
    out
}

/// (extractor, version) pairs that run.
pub fn enabled(models_dir: &Path, onnxruntime: Option<&Path>) -> Vec<(String, u32)> {
    states(models_dir, onnxruntime)
        .into_iter()
        .filter(|s| s.reason.is_none())
        .map(|s| (s.name, s.version))
        .collect()
}

pub fn infos(
    models_dir: &Path,
    onnxruntime: Option<&Path>,
    done: impl Fn(&str, u32) -> u64,
) -> Vec<ExtractorInfo> {
    states(models_dir, onnxruntime)
        .into_iter()
        .map(|s| ExtractorInfo {
            done: if s.reason.is_none() {
                done(&s.name, s.version)
            } else {
                0
            },
            enabled: s.reason.is_none(),
            name: s.name,
            version: s.version,
            reason: s.reason,
        })
        .collect()
}
