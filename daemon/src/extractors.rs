//! What `vx status` says about each extractor: enabled, or disabled and why.

use std::path::{Path, PathBuf};

use vx_client::ExtractorInfo;
use vx_model_store::{Manifest, check_model};

/// Model-based extractors are listed with the state of their model. None runs yet: the
/// extraction pipeline that feeds them decoded frames and audio is the next piece of vxd.
pub fn model_extractors(models_dir: &Path, onnxruntime: Option<&Path>) -> Vec<ExtractorInfo> {
    let ort = vx_model_store::find_library(onnxruntime);
    let manifest = Manifest::builtin();
    let mut out: Vec<ExtractorInfo> = manifest
        .models
        .iter()
        .map(|m| {
            let state = check_model(models_dir, m, false);
            let needs_ort = m.files.iter().any(|f| f.path.ends_with(".onnx"));
            let reason = match (state.reason(), &ort) {
                (Some(why), _) => format!(
                    "model {}: {why} (`vx models` says how to install it)",
                    m.name
                ),
                (None, Err(_)) if needs_ort => {
                    "ONNX Runtime library not found: run scripts/setup.sh or set ORT_DYLIB_PATH"
                        .to_string()
                }
                (None, _) => format!(
                    "model {} is {}; this vxd does not run it yet",
                    m.name,
                    state.label()
                ),
            };
            ExtractorInfo {
                name: m.extractor.clone(),
                version: 1,
                enabled: false,
                reason: Some(reason),
                done: 0,
            }
        })
        .collect();
    let clip: Vec<PathBuf> = std::fs::read_dir(models_dir.join("clip"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("visual/model.onnx").is_file())
        .collect();
    out.push(ExtractorInfo {
        name: "visual".into(),
        version: 1,
        enabled: false,
        reason: Some(match clip.first() {
            None => "no CLIP model installed (docs/models.md says how)".into(),
            Some(p) => format!(
                "CLIP model {} found; this vxd does not run it yet",
                p.display()
            ),
        }),
        done: 0,
    });
    out
}
