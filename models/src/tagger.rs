//! ImageNet tagger (EfficientNet-Lite0): scene and object tags with probabilities.
//! Input `image` f32 [N,224,224,3] NHWC RGB 0..255 (normalisation is inside the graph), the whole
//! image squashed to 224x224; output `probs` [N,1000].

use std::path::Path;

use ndarray::{Array4, Axis};
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Result, infer};
use crate::image::RgbView;
use crate::labels::read_labels;
use crate::runtime::Runtime;

const SIZE: u32 = 224;
const NAME: &str = "tagger";
/// Line i+1: the WordNet hypernyms of ImageNet class i (built by scripts/make-hypernyms.py).
const HYPERNYMS: &str = include_str!("../data/imagenet-hypernyms.txt");

#[derive(Clone, Debug, PartialEq)]
pub struct Tag {
    pub class: usize,
    /// The curated class name ("Egyptian Mau").
    pub label: String,
    /// WordNet's names for the class ("Egyptian cat"), for search.
    pub synonyms: Vec<String>,
    /// WordNet's broader names ("domestic cat", "cat", "feline", "animal"), nearest first.
    pub hypernyms: Vec<String>,
    pub score: f32,
}

pub struct Tagger {
    session: Session,
    labels: Vec<String>,
    synonyms: Vec<Vec<String>>,
}

/// Fills `batch[i]` with `image` squashed to `size`x`size`, as f32 0..255.
pub(crate) fn fill_nhwc(
    batch: &mut Array4<f32>,
    i: usize,
    image: &RgbView,
    size: u32,
) -> Result<()> {
    let resized = image.resize(size, size, None)?;
    let mut slot = batch.index_axis_mut(Axis(0), i);
    for (dst, src) in slot.iter_mut().zip(resized.data.iter()) {
        *dst = *src as f32;
    }
    Ok(())
}

impl Tagger {
    /// Loads `tags/efficientnet-lite0-imagenet.onnx` and its labels from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Tagger> {
        let dir = pack.join("tags");
        Ok(Tagger {
            session: runtime.session(&dir.join("efficientnet-lite0-imagenet.onnx"))?,
            labels: read_labels(&dir.join("imagenet-labels-clean.txt"), 1000)?,
            synonyms: read_labels(&dir.join("imagenet-labels.txt"), 1000)?
                .into_iter()
                .map(|l| l.split(", ").map(str::to_string).collect())
                .collect(),
        })
    }

    /// The `k` most probable tags of each image, at least `min_score`.
    pub fn tag(&mut self, images: &[RgbView], k: usize, min_score: f32) -> Result<Vec<Vec<Tag>>> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Array4::<f32>::zeros((images.len(), SIZE as usize, SIZE as usize, 3));
        for (i, image) in images.iter().enumerate() {
            fill_nhwc(&mut batch, i, image, SIZE)?;
        }
        let outputs = self
            .session
            .run(ort::inputs!["image" => TensorRef::from_array_view(&batch).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let probs = outputs["probs"]
            .try_extract_array::<f32>()
            .map_err(infer(NAME))?;
        let probs = probs.into_dimensionality::<ndarray::Ix2>().map_err(|e| {
            crate::ModelError::Inference {
                model: NAME,
                message: e.to_string(),
            }
        })?;
        Ok(probs
            .outer_iter()
            .map(|row| {
                let mut idx: Vec<usize> = (0..row.len()).collect();
                idx.sort_unstable_by(|&a, &b| row[b].total_cmp(&row[a]));
                idx.into_iter()
                    .take(k)
                    .filter(|&c| row[c] >= min_score)
                    .map(|c| Tag {
                        class: c,
                        label: self.labels[c].clone(),
                        synonyms: self.synonyms[c]
                            .iter()
                            .filter(|s| **s != self.labels[c])
                            .cloned()
                            .collect(),
                        hypernyms: HYPERNYMS
                            .lines()
                            .nth(c)
                            .unwrap_or_default()
                            .split(", ")
                            .filter(|h| !h.is_empty())
                            .map(str::to_string)
                            .collect(),
                        score: row[c],
                    })
                    .collect()
            })
            .collect())
    }
}
