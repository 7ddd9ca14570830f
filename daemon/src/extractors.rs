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

/// Where vxd finds what the extractors need, and which it was told not to run.
pub struct Setup<'a> {
    pub models_dir: &'a Path,
    pub onnxruntime: Option<&'a Path>,
    pub disabled: &'a [String],
}

/// Every name an extractor is known by: those that run and those whose model is listed.
fn known_names() -> Vec<String> {
    let mut names: Vec<String> = extractors::ALL.iter().map(|e| e.name().into()).collect();
    for m in &Manifest::builtin().models {
        if !names.contains(&m.extractor) {
            names.push(m.extractor.clone());
        }
    }
    names
}

/// Refuses names that are no extractor's, saying which are.
pub fn check_names(names: &[String]) -> Result<(), String> {
    let known = known_names();
    match names.iter().find(|n| !known.contains(n)) {
        Some(n) => Err(format!(
            "no extractor is called {n:?}; the extractors are {}",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// Every extractor, and why it does not run when it does not.
pub fn states(setup: &Setup) -> Vec<State> {
    let Setup {
        models_dir,
        onnxruntime,
        disabled,
    } = *setup;
    let ort = vx_model_store::find_library(onnxruntime);
    let manifest = Manifest::builtin();
    let mut out = Vec::new();
    for e in extractors::ALL {
        let reason = match e.needs() {
            _ if disabled.iter().any(|d| d == e.name()) => {
                Some("disabled in the configuration (`disable`)".to_string())
            }
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
            out.push(State {
                name: m.extractor.clone(),
                version: 1,
                reason: Some(format!(
                    "model {} is {}; this vxd does not run it yet",
                    m.name,
                    state.label()
                )),
            });
        }
    }
    out
}

/// (extractor, version) pairs that run.
pub fn enabled(setup: &Setup) -> Vec<(String, u32)> {
    states(setup)
        .into_iter()
        .filter(|s| s.reason.is_none())
        .map(|s| (s.name, s.version))
        .collect()
}

pub fn infos(setup: &Setup, done: impl Fn(&str, u32) -> u64) -> Vec<ExtractorInfo> {
    states(setup)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_extractors_can_be_disabled() {
        assert!(check_names(&["audio-events".into(), "pose".into(), "tags".into()]).is_ok());
        let err = check_names(&["poses".into()]).unwrap_err();
        assert!(
            err.contains("\"poses\"") && err.contains("transcript"),
            "{err}"
        );
    }

    #[test]
    fn a_disabled_extractor_says_so_and_does_not_run() {
        let models = tempfile::tempdir().unwrap();
        let disabled = ["thumbnails".to_string()];
        let setup = Setup {
            models_dir: models.path(),
            onnxruntime: None,
            disabled: &disabled,
        };
        let thumbs = states(&setup).into_iter().find(|s| s.name == "thumbnails");
        assert!(thumbs.unwrap().reason.unwrap().contains("disabled"));
        assert!(!enabled(&setup).iter().any(|(n, _)| n == "thumbnails"));
        let none = Setup {
            disabled: &[],
            ..setup
        };
        assert!(enabled(&none).iter().any(|(n, _)| n == "thumbnails"));
    }
}
