//! vx's models: decoded pixels and audio in, typed results out. Knows nothing of files, SQLite
//! or RPC. One ONNX Runtime per process ([`Runtime`]); one wrapper per model, each following
//! the model pack's README exactly (input names, layout, pixel range, resize, decoding).

pub mod audio_events;
pub mod clip;
pub mod detector;
pub mod error;
pub mod expression;
pub mod faces;
pub mod image;
pub mod int8_matmul;
mod labels;
pub mod ocr;
mod ocr_geometry;
pub mod pose;
pub mod quality;
pub mod runtime;
pub mod set;
pub mod speaker;
pub mod tagger;
pub mod text;
pub mod transcriber;

pub use audio_events::AudioEvents;
pub use clip::Clip;
pub use detector::{Detection, Detector};
pub use error::{ModelError, Result};
pub use expression::Expression;
pub use faces::{Face, Faces};
pub use image::{Rect, RgbImage, RgbView};
pub use ocr::{Ocr, OcrLine};
pub use pose::{Person, Pose};
pub use quality::Quality;
pub use runtime::{Runtime, RuntimeOptions, Threading};
pub use set::ModelSet;
pub use speaker::Speaker;
pub use tagger::{Tag, Tagger};
pub use text::TextEmbedder;
pub use transcriber::{Segment, Transcriber, WhisperWeights};

/// The model pack to use: `VX_MODELS_DIR`, if set.
pub fn pack_from_env() -> Option<std::path::PathBuf> {
    std::env::var_os("VX_MODELS_DIR")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
}

/// Scales `v` to unit length (leaves a zero vector alone).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
