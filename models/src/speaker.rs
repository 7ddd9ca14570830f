//! Speaker embeddings (Resemblyzer's GE2E encoder). Input `wav` f32 [N, 25440]: 1.6 s windows of
//! 16 kHz mono in -1..1 (the mel front end is in the graph); output `embedding` [N, 256], unit
//! length: the same voice scores about 0.85 by dot product, different voices about 0.5.

use std::path::Path;

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::runtime::Runtime;

const NAME: &str = "speaker";
/// Samples per window (1.6 s: the 160 frames the model was trained on).
pub const WINDOW: usize = 25_440;
/// The step between the windows of one utterance (0.77 s, as Resemblyzer slides them).
pub const STEP: usize = 12_320;
pub const DIM: usize = 256;
/// Windows per model call.
const BATCH: usize = 16;
/// Quiet recordings are raised to this loudness (dBFS) before embedding, as in training.
const TARGET_DBFS: f32 = -30.0;

pub struct Speaker {
    session: Session,
}

impl Speaker {
    /// Loads `speaker/resemblyzer-wav.onnx` from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Speaker> {
        Ok(Speaker {
            session: runtime.session(&pack.join("speaker/resemblyzer-wav.onnx"))?,
        })
    }

    /// One embedding per window of `pcm` starting at each of `starts` (a window running past
    /// the end is padded with silence), [`DIM`] floats each, window after window. `gain` is
    /// [`gain`] of the whole recording.
    pub fn embed(&mut self, pcm: &[f32], starts: &[usize], gain: f32) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(starts.len() * DIM);
        for chunk in starts.chunks(BATCH) {
            let mut batch = Array2::<f32>::zeros((chunk.len(), WINDOW));
            for (mut row, &a) in batch.outer_iter_mut().zip(chunk) {
                let w = &pcm[a.min(pcm.len())..(a + WINDOW).min(pcm.len())];
                let row = row
                    .as_slice_mut()
                    .expect("rows of a new array are contiguous");
                row.iter_mut().zip(w).for_each(|(r, x)| *r = x * gain);
            }
            let outputs = self
                .session
                .run(
                    ort::inputs!["wav" => TensorRef::from_array_view(&batch).map_err(infer(NAME))?],
                )
                .map_err(infer(NAME))?;
            let (shape, e) = outputs["embedding"]
                .try_extract_tensor::<f32>()
                .map_err(infer(NAME))?;
            if shape.len() != 2 || shape[1] as usize != DIM {
                return Err(ModelError::Inference {
                    model: NAME,
                    message: format!("embedding of shape {shape:?}"),
                });
            }
            out.extend_from_slice(e);
        }
        Ok(out)
    }

    /// The voice of a whole utterance: its windows every [`STEP`] embedded, averaged and
    /// scaled to unit length.
    pub fn utterance(&mut self, pcm: &[f32]) -> Result<Vec<f32>> {
        let starts: Vec<usize> = (0..pcm.len().saturating_sub(WINDOW - STEP).max(1))
            .step_by(STEP)
            .collect();
        let windows = self.embed(pcm, &starts, gain(pcm))?;
        let mut mean = vec![0.0f32; DIM];
        for w in windows.chunks(DIM) {
            mean.iter_mut().zip(w).for_each(|(m, x)| *m += x);
        }
        crate::normalize(&mut mean);
        Ok(mean)
    }
}

/// The factor that raises `pcm` to [`TARGET_DBFS`] (never lowers it): quiet speech embeds
/// like loud speech of the same voice.
pub fn gain(pcm: &[f32]) -> f32 {
    if pcm.is_empty() {
        return 1.0;
    }
    let rms = (pcm.iter().map(|x| x * x).sum::<f32>() / pcm.len() as f32).sqrt();
    let target = 10f32.powf(TARGET_DBFS / 20.0);
    if rms > 0.0 && rms < target {
        target / rms
    } else {
        1.0
    }
}
