//! Multi-person pose (MoveNet MultiPose Lightning). Input `input` int32 [1, H, W, 3] NHWC RGB
//! 0..255, H and W multiples of 32: the image with its long side scaled to 256 or 384, keeping its
//! aspect, padded at the right and bottom. Output `output_0` [1, 6, 56]: per candidate, 17 x
//! (y, x, score) normalised to the padded input, then ymin, xmin, ymax, xmax and the person's
//! score. People and keypoints count from 0.3.

use std::path::Path;

use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::image::{Rect, RgbView};
use crate::runtime::Runtime;

const NAME: &str = "pose";
/// The input's long sides, each a run: 256 (the README's) finds people who fill the picture
/// and misses small ones that 384 finds (four musicians on a stage: two at 256, four at 384),
/// and the other way round (a portrait: one at 256, none at 384). PERF-FACTS: 8 ms at 256 x 256.
const SIDES: [u32; 2] = [256, 384];
/// Two people from the two runs are one when their boxes overlap this much.
const SAME_PERSON_IOU: f32 = 0.4;
pub const MIN_SCORE: f32 = 0.3;

/// COCO-17 keypoints, in the model's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Joint {
    Nose,
    LeftEye,
    RightEye,
    LeftEar,
    RightEar,
    LeftShoulder,
    RightShoulder,
    LeftElbow,
    RightElbow,
    LeftWrist,
    RightWrist,
    LeftHip,
    RightHip,
    LeftKnee,
    RightKnee,
    LeftAnkle,
    RightAnkle,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Keypoint {
    /// In pixels of the original image.
    pub x: f32,
    pub y: f32,
    pub score: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub score: f32,
    /// In pixels of the original image.
    pub rect: Rect,
    pub keypoints: [Keypoint; 17],
}

impl Person {
    /// The keypoint when the model is sure enough of it.
    pub fn at(&self, joint: Joint) -> Option<Keypoint> {
        let k = self.keypoints[joint as usize];
        (k.score >= MIN_SCORE).then_some(k)
    }

    /// The middle of two joints (shoulders, hips), or the one of them that is seen.
    pub fn between(&self, a: Joint, b: Joint) -> Option<(f32, f32)> {
        match (self.at(a), self.at(b)) {
            (Some(a), Some(b)) => Some(((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)),
            (Some(k), None) | (None, Some(k)) => Some((k.x, k.y)),
            (None, None) => None,
        }
    }
}

pub struct Pose {
    session: Session,
}

impl Pose {
    /// Loads `pose/movenet-multipose.onnx` from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Pose> {
        Ok(Pose {
            session: runtime.session(&pack.join("pose/movenet-multipose.onnx"))?,
        })
    }

    /// The people in `image`, likeliest first: the runs at each of [`SIDES`], a person found
    /// in both kept once, with the likelier pose.
    pub fn people(&mut self, image: &RgbView) -> Result<Vec<Person>> {
        self.people_at(image, &SIDES)
    }

    /// The people in `image` when the tallest person in it is known to be this share of its
    /// long side tall: one run, at the side that finds people of that size.
    pub fn people_sized(&mut self, image: &RgbView, tallest: f32) -> Result<Vec<Person>> {
        let side = if tallest >= 0.5 { SIDES[0] } else { SIDES[1] };
        self.people_at(image, &[side])
    }

    fn people_at(&mut self, image: &RgbView, sides: &[u32]) -> Result<Vec<Person>> {
        image.check()?;
        let mut all = Vec::new();
        for &side in sides {
            all.extend(self.run(image, side)?);
        }
        all.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut kept: Vec<Person> = Vec::new();
        for p in all {
            if !kept.iter().any(|k| k.rect.iou(&p.rect) > SAME_PERSON_IOU) {
                kept.push(p);
            }
        }
        Ok(kept)
    }

    fn run(&mut self, image: &RgbView, side: u32) -> Result<Vec<Person>> {
        let scale = side as f32 / image.width.max(image.height) as f32;
        let (w, h) = (
            ((image.width as f32 * scale).round() as u32).max(1),
            ((image.height as f32 * scale).round() as u32).max(1),
        );
        let small = image.resize(w, h, None)?;
        let (pw, ph) = (w.div_ceil(32) * 32, h.div_ceil(32) * 32);
        let mut input = Array4::<i32>::zeros((1, ph as usize, pw as usize, 3));
        for (i, px) in small.data.chunks_exact(3).enumerate() {
            let (x, y) = (i % w as usize, i / w as usize);
            for c in 0..3 {
                input[[0, y, x, c]] = px[c] as i32;
            }
        }
        let outputs = self
            .session
            .run(ort::inputs!["input" => TensorRef::from_array_view(&input).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let (shape, rows) = outputs["output_0"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        if shape.len() != 3 || shape[2] != 56 {
            return Err(ModelError::Inference {
                model: NAME,
                message: format!("output of shape {shape:?}"),
            });
        }
        // Normalised to the padded input; back to the original's pixels.
        let (fx, fy) = (pw as f32 / scale, ph as f32 / scale);
        Ok(rows
            .chunks_exact(56)
            .filter(|r| r[55] >= MIN_SCORE)
            .map(|r| {
                let mut keypoints = [Keypoint::default(); 17];
                for (j, k) in keypoints.iter_mut().enumerate() {
                    *k = Keypoint {
                        y: r[3 * j] * fy,
                        x: r[3 * j + 1] * fx,
                        score: r[3 * j + 2],
                    };
                }
                let rect = Rect::from_corners(r[52] * fx, r[51] * fy, r[54] * fx, r[53] * fy)
                    .clamp(image.width, image.height);
                Person {
                    score: r[55],
                    rect,
                    keypoints,
                }
            })
            .collect())
    }
}
