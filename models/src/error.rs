use std::path::PathBuf;

/// The ONNX Runtime version vx is built against (ort's `api-31` feature).
pub const ORT_VERSION_NEEDED: &str = "1.31";

#[derive(Clone, Debug, thiserror::Error)]
pub enum ModelError {
    #[error(
        "ONNX Runtime library not found (tried: {tried}). Run scripts/setup.sh, or set ORT_DYLIB_PATH to libonnxruntime {ORT_VERSION_NEEDED} or newer"
    )]
    RuntimeMissing { tried: String },
    #[error("cannot load ONNX Runtime from {}: {message} (vx needs version {ORT_VERSION_NEEDED} or newer)", path.display())]
    RuntimeLoad { path: PathBuf, message: String },
    #[error("model file {} is missing (`vx models` lists what is installed)", .0.display())]
    Missing(PathBuf),
    #[error("cannot load {}: {message} (the file may be truncated or not this model; `vx models verify` checks it)", path.display())]
    Load { path: PathBuf, message: String },
    #[error("{model}: {message}")]
    Inference {
        model: &'static str,
        message: String,
    },
    #[error("bad input: {0}")]
    BadInput(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Wraps an inference-time error with the model's name.
pub(crate) fn infer(model: &'static str) -> impl Fn(ort::Error) -> ModelError {
    move |e| ModelError::Inference {
        model,
        message: e.to_string(),
    }
}
