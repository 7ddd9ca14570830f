//! Faces: FaceBoxes finds them, FaceRes describes each one (a 1024-d descriptor for grouping
//! into people, plus gender and age estimates).
//!
//! FaceBoxes: input `image_tensor:0` u8 [1,H,W,3] RGB, any size; outputs `scores` [1,200] and
//! `boxes` [1,200,4] (ymin,xmin,ymax,xmax normalised); NMS is inside the graph; threshold 0.5.
//! FaceRes: input `input_1:0` f32 [N,224,224,3] RGB 0..255, the face box squashed to 224x224;
//! outputs `global_pooling/Mean` [N,1024] (L2-normalise), `gender_pred/Sigmoid:0` [N,1]
//! (> 0.5 male), `age_pred/Softmax:0` [N,100].

use std::path::Path;

use ndarray::{Array4, ArrayView4};
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::image::{Rect, RgbView};
use crate::runtime::Runtime;
use crate::tagger::fill_nhwc;

pub const MIN_SCORE: f32 = 0.5;
/// Larger pictures are scaled down for detection: faces in photos stay big enough, and the
/// cost stays near the 640x480 the model was measured at (a 2048-pixel photo cost 14x more).
const MAX_DETECT_SIDE: u32 = 960;
const DESCRIPTOR_SIZE: u32 = 224;

#[derive(Clone, Debug, PartialEq)]
pub struct Face {
    pub score: f32,
    /// In pixels of the original image.
    pub rect: Rect,
    /// Unit length; compare by dot product.
    pub descriptor: Vec<f32>,
    /// Probability of male (FaceRes' reading).
    pub male: f32,
    /// Expected age from the age distribution.
    pub age: f32,
}

pub struct Faces {
    detector: Session,
    describer: Session,
}

impl Faces {
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Faces> {
        let dir = pack.join("faces");
        Ok(Faces {
            detector: runtime.session(&dir.join("faceboxes.onnx"))?,
            describer: runtime.session(&dir.join("faceres.onnx"))?,
        })
    }

    /// Face boxes with scores (no descriptors).
    pub fn detect(&mut self, image: &RgbView, min_score: f32) -> Result<Vec<(Rect, f32)>> {
        image.check()?;
        let scaled = image.limit(MAX_DETECT_SIDE)?;
        let view = scaled.as_ref().map(|s| s.view()).unwrap_or(*image);
        let input =
            ArrayView4::from_shape((1, view.height as usize, view.width as usize, 3), view.data)
                .map_err(|e| ModelError::BadInput(e.to_string()))?;
        let outputs = self
            .detector
            .run(ort::inputs!["image_tensor:0" => TensorRef::from_array_view(input).map_err(infer("face detector"))?])
            .map_err(infer("face detector"))?;
        let (_, scores) = outputs["scores"]
            .try_extract_tensor::<f32>()
            .map_err(infer("face detector"))?;
        let (_, boxes) = outputs["boxes"]
            .try_extract_tensor::<f32>()
            .map_err(infer("face detector"))?;
        let (w, h) = (image.width as f32, image.height as f32);
        Ok(scores
            .iter()
            .zip(boxes.chunks_exact(4))
            .filter(|(s, _)| **s >= min_score)
            .map(|(s, b)| {
                (
                    Rect::from_corners(b[1] * w, b[0] * h, b[3] * w, b[2] * h)
                        .clamp(image.width, image.height),
                    *s,
                )
            })
            .filter(|(r, _)| r.w >= 1.0 && r.h >= 1.0)
            .collect())
    }

    /// Faces in one image, each with its descriptor.
    pub fn faces(&mut self, image: &RgbView, min_score: f32) -> Result<Vec<Face>> {
        let boxes = self.detect(image, min_score)?;
        if boxes.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Array4::<f32>::zeros((
            boxes.len(),
            DESCRIPTOR_SIZE as usize,
            DESCRIPTOR_SIZE as usize,
            3,
        ));
        for (i, (rect, _)) in boxes.iter().enumerate() {
            let crop = image.resize(DESCRIPTOR_SIZE, DESCRIPTOR_SIZE, Some(*rect))?;
            fill_nhwc(&mut batch, i, &crop.view(), DESCRIPTOR_SIZE)?;
        }
        let outputs = self
            .describer
            .run(ort::inputs!["input_1:0" => TensorRef::from_array_view(&batch).map_err(infer("face describer"))?])
            .map_err(infer("face describer"))?;
        let (_, desc) = outputs["global_pooling/Mean"]
            .try_extract_tensor::<f32>()
            .map_err(infer("face describer"))?;
        let (_, gender) = outputs["gender_pred/Sigmoid:0"]
            .try_extract_tensor::<f32>()
            .map_err(infer("face describer"))?;
        let (_, ages) = outputs["age_pred/Softmax:0"]
            .try_extract_tensor::<f32>()
            .map_err(infer("face describer"))?;
        Ok(boxes
            .into_iter()
            .enumerate()
            .map(|(i, (rect, score))| {
                let mut d = desc[i * 1024..(i + 1) * 1024].to_vec();
                crate::normalize(&mut d);
                let age_dist = &ages[i * 100..(i + 1) * 100];
                let age = age_dist
                    .iter()
                    .enumerate()
                    .map(|(a, p)| a as f32 * p)
                    .sum::<f32>()
                    / age_dist.iter().sum::<f32>().max(1e-6);
                Face {
                    score,
                    rect,
                    descriptor: d,
                    male: gender[i],
                    age,
                }
            })
            .collect())
    }
}
