//! COCO object detector (MobileNetV3 CenterNet).
//! Input `tower_0/images:0` f32 [1,512,512,3] NHWC RGB 0..255, the whole image squashed to
//! 512x512; batch is fixed at 1. Output `tower_0/detections` [1,100,6]: x1,y1,x2,y2 in input
//! pixels, score, class id. Keep score >= 0.3, then per-class NMS at IoU 0.5 (the graph leaves
//! same-class duplicates).

use std::path::Path;

use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Result, infer};
use crate::image::{Rect, RgbView};
use crate::labels::read_labels;
use crate::runtime::Runtime;
use crate::tagger::fill_nhwc;

const SIZE: u32 = 512;
const NAME: &str = "detector";
pub const MIN_SCORE: f32 = 0.3;
const NMS_IOU: f32 = 0.5;

#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub class: usize,
    pub label: String,
    pub score: f32,
    /// In pixels of the original image, clamped to it.
    pub rect: Rect,
}

pub struct Detector {
    session: Session,
    labels: Vec<String>,
}

/// Greedy non-maximum suppression within each class; input sorted or not, output by score.
pub fn nms_per_class(mut dets: Vec<Detection>, iou: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::new();
    for d in dets {
        if !kept
            .iter()
            .any(|k| k.class == d.class && k.rect.iou(&d.rect) > iou)
        {
            kept.push(d);
        }
    }
    kept
}

impl Detector {
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Detector> {
        let dir = pack.join("detect");
        Ok(Detector {
            session: runtime.session(&dir.join("centernet-coco.onnx"))?,
            labels: read_labels(&dir.join("coco-labels.txt"), 80)?,
        })
    }

    /// Objects in each image (the model takes one image per run).
    pub fn detect(&mut self, images: &[RgbView], min_score: f32) -> Result<Vec<Vec<Detection>>> {
        images
            .iter()
            .map(|image| self.detect_one(image, min_score))
            .collect()
    }

    fn detect_one(&mut self, image: &RgbView, min_score: f32) -> Result<Vec<Detection>> {
        let mut input = Array4::<f32>::zeros((1, SIZE as usize, SIZE as usize, 3));
        fill_nhwc(&mut input, 0, image, SIZE)?;
        let outputs = self
            .session
            .run(ort::inputs!["tower_0/images:0" => TensorRef::from_array_view(&input).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let (_, rows) = outputs["tower_0/detections"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        let sx = image.width as f32 / SIZE as f32;
        let sy = image.height as f32 / SIZE as f32;
        let dets = rows
            .chunks_exact(6)
            .filter(|r| r[4] >= min_score)
            .filter_map(|r| {
                let class = r[5].round() as usize;
                let label = self.labels.get(class)?.clone();
                let rect = Rect::from_corners(r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy)
                    .clamp(image.width, image.height);
                Some(Detection {
                    class,
                    label,
                    score: r[4],
                    rect,
                })
            })
            .collect();
        Ok(nms_per_class(dets, NMS_IOU))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(class: usize, score: f32, x: f32) -> Detection {
        Detection {
            class,
            label: String::new(),
            score,
            rect: Rect {
                x,
                y: 0.0,
                w: 10.0,
                h: 10.0,
            },
        }
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_same_class_boxes() {
        let kept = nms_per_class(
            vec![
                det(1, 0.4, 1.0),
                det(1, 0.9, 0.0),
                det(2, 0.5, 0.0),
                det(1, 0.3, 50.0),
            ],
            0.5,
        );
        let got: Vec<(usize, f32)> = kept.iter().map(|d| (d.class, d.score)).collect();
        assert_eq!(got, vec![(1, 0.9), (2, 0.5), (1, 0.3)]);
    }
}
