//! Faces: the face detector and descriptor on each look, with a small crop of each face (what
//! `vx people` shows). Grouping into people happens later, over the whole library.

use std::path::Path;

use vx_models::{ModelError, RgbView};

use super::thumbnails::write_thumb;
use super::{Cx, Extractor, Input, Kept, Needs};
use crate::extract::{FaceOut, Output};

const FACE_THUMB_SIDE: u32 = 128;

pub struct Faces;

impl Extractor for Faces {
    fn name(&self) -> &'static str {
        "faces"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("faces")
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::Faces]
    }
    fn has_faces_word(&self) -> Option<&'static str> {
        Some("faces")
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        let faces = cx.models.faces()?;
        for (l, v) in input.looks.iter().enumerate() {
            for (n, f) in faces
                .faces(v, vx_models::faces::MIN_SCORE)?
                .into_iter()
                .enumerate()
            {
                let time = input.span(input.scenes.firsts[l]).0;
                let rel = input.thumb_name(&format!("face-{}-{n}", (time * 1000.0).round() as i64));
                // A crop that fails is no reason to lose the face.
                let thumb = write_face_thumb(v, f.rect, &input.thumbs_dir.join(&rel))
                    .map_err(|e| tracing::warn!("face thumbnail: {e}"))
                    .ok()
                    .map(|_| rel);
                for k in input.scenes.showing(l) {
                    out.faces.push(FaceOut {
                        time: input.span(k).0,
                        thumb: thumb.clone(),
                        rect: [f.rect.x, f.rect.y, f.rect.w, f.rect.h],
                        score: f.score,
                        descriptor: f.descriptor.clone(),
                        age: f.age,
                        male: f.male,
                    });
                }
            }
        }
        Ok(())
    }
}

/// The faces this pass's face extractor found on look `l`, or `None` when it did not run in
/// this pass: then an extractor that builds on them finds them again (the same models on the
/// same frame find the same faces, which is how they are stored).
pub fn found_on_look<'o>(input: &Input, out: &'o Output, l: usize) -> Option<Vec<&'o FaceOut>> {
    let ran = out
        .outcomes
        .iter()
        .any(|o| o.extractor == "faces" && o.error.is_none());
    let time = input.span(input.scenes.firsts[l]).0;
    ran.then(|| out.faces.iter().filter(|f| f.time == time).collect())
}

/// The face with a margin around it, at most FACE_THUMB_SIDE on its long side.
fn write_face_thumb(img: &RgbView, face: vx_models::Rect, path: &Path) -> Result<(), String> {
    let margin = 0.25 * face.w.max(face.h);
    let crop = vx_models::Rect {
        x: face.x - margin,
        y: face.y - margin,
        w: face.w + 2.0 * margin,
        h: face.h + 2.0 * margin,
    }
    .clamp(img.width, img.height);
    let s = FACE_THUMB_SIDE as f32 / crop.w.max(crop.h).max(1.0);
    let (w, h) = (
        ((crop.w * s).round() as u32).max(1),
        ((crop.h * s).round() as u32).max(1),
    );
    let face = img.resize(w, h, Some(crop)).map_err(|e| e.to_string())?;
    write_thumb(&face.view(), FACE_THUMB_SIDE, path)
}
