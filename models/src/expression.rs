//! Facial expression (mini-Xception trained on FER2013; weak: only confident "happy" and
//! "neutral" are worth using). Input `input_1:0` f32 [N, 64, 64, 1]: a tight square crop around
//! the face box, gray = 0.2989 R + 0.587 G + 0.114 B on 0..1, then (gray - 0.5) x 2. Output
//! `Identity:0` [N, 7], softmax over [`CLASSES`].

use std::path::Path;

use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::image::{Rect, RgbView};
use crate::runtime::Runtime;

const NAME: &str = "expression";
const SIDE: u32 = 64;
pub const CLASSES: [&str; 7] = [
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
];

pub struct Expression {
    session: Session,
}

impl Expression {
    /// Loads `faces/emotion.onnx` from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Expression> {
        Ok(Expression {
            session: runtime.session(&pack.join("faces/emotion.onnx"))?,
        })
    }

    /// Each face's probabilities over [`CLASSES`].
    pub fn classify(&mut self, image: &RgbView, faces: &[Rect]) -> Result<Vec<[f32; 7]>> {
        if faces.is_empty() {
            return Ok(Vec::new());
        }
        let s = SIDE as usize;
        let mut batch = Array4::<f32>::zeros((faces.len(), s, s, 1));
        for (i, face) in faces.iter().enumerate() {
            let side = face.w.max(face.h);
            let square = Rect {
                x: face.x + face.w / 2.0 - side / 2.0,
                y: face.y + face.h / 2.0 - side / 2.0,
                w: side,
                h: side,
            };
            let crop = image.resize(SIDE, SIDE, Some(square))?;
            for (j, p) in crop.data.chunks_exact(3).enumerate() {
                let gray =
                    (0.2989 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0;
                batch[[i, j / s, j % s, 0]] = (gray - 0.5) * 2.0;
            }
        }
        let outputs = self
            .session
            .run(ort::inputs!["input_1:0" => TensorRef::from_array_view(&batch).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let (_, probs) = outputs["Identity:0"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        if probs.len() != faces.len() * 7 {
            return Err(ModelError::Inference {
                model: NAME,
                message: format!("{} scores for {} faces", probs.len(), faces.len()),
            });
        }
        Ok(probs
            .chunks_exact(7)
            .map(|c| std::array::from_fn(|k| c[k]))
            .collect())
    }
}
