//! Audio events (YAMNet, 521 AudioSet classes): here, where speech is. Input `wav` f32
//! [N, 15600]: 0.975 s windows of 16 kHz mono in -1..1 (the log-mel front end is in the graph);
//! output `scores` [N, 521], sigmoid, multi-label.

use std::path::Path;

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Result, infer};
use crate::runtime::Runtime;

const NAME: &str = "audio events";
/// Samples per window (0.975 s at 16 kHz).
pub const WINDOW: usize = 15_600;
/// The step between windows YAMNet was trained with (0.48 s).
pub const HOP: usize = 7_680;
/// Class ids that mean speech (the pack's README: Speech, its kinds, and Conversation).
const SPEECH: [usize; 7] = [0, 1, 2, 3, 4, 5, 65];

pub struct AudioEvents {
    session: Session,
}

impl AudioEvents {
    /// Loads `audio/yamnet-wav.onnx` from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<AudioEvents> {
        Ok(AudioEvents {
            session: runtime.session(&pack.join("audio/yamnet-wav.onnx"))?,
        })
    }

    /// How likely each window holds speech (0..1). Windows shorter than [`WINDOW`] are
    /// padded with silence.
    pub fn speech(&mut self, windows: &[&[f32]]) -> Result<Vec<f32>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Array2::<f32>::zeros((windows.len(), WINDOW));
        for (mut row, w) in batch.outer_iter_mut().zip(windows) {
            let n = w.len().min(WINDOW);
            row.as_slice_mut()
                .expect("rows of a new array are contiguous")[..n]
                .copy_from_slice(&w[..n]);
        }
        let outputs = self
            .session
            .run(ort::inputs!["wav" => TensorRef::from_array_view(&batch).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let scores = outputs["scores"]
            .try_extract_array::<f32>()
            .map_err(infer(NAME))?;
        let scores = scores.into_dimensionality::<ndarray::Ix2>().map_err(|e| {
            crate::ModelError::Inference {
                model: NAME,
                message: e.to_string(),
            }
        })?;
        Ok(scores
            .outer_iter()
            .map(|row| SPEECH.iter().map(|&c| row[c]).fold(0.0, f32::max))
            .collect())
    }
}
