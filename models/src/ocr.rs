//! OCR (PaddleOCR PP-OCRv4 det and rec, PP-OCR v2 cls), following RapidOCR 1.4.4 as the pack's
//! README describes: BGR, NCHW, (v/255 - 0.5)/0.5; DB decoding of the detection map; 0/180
//! orientation; CTC greedy decoding over ppocr-keys.txt.

use std::path::Path;

use ndarray::{Array4, s};
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::image::{RgbImage, RgbView};
use crate::ocr_geometry::{Pt, mean_inside, min_area_rect, regions};
use crate::runtime::Runtime;

const DET_SHORT_SIDE: f32 = 736.0;
const MAX_DET_SIDE: f32 = 2560.0;
/// Detection input at most this many pixels. Small pictures are enlarged as RapidOCR does (a
/// short side of 736, up to 1472x736 for page.png); large photos and video frames are reduced
/// to about 736x736 worth of pixels, where detection costs a quarter of a full 1080p frame
/// (it was 79 % of the time per photo before) and text people search for stays legible.
const MAX_DET_PIXELS_ENLARGED: f32 = 1472.0 * 736.0;
const MAX_DET_PIXELS_REDUCED: f32 = 736.0 * 736.0;
/// Most photos hold no text: detection first runs on a quarter of the pixels, and the full
/// detection (and recognition) only when that map has at least this many text pixels.
const GATE_SHRINK: f32 = 4.0;
const GATE_MIN_PIXELS: usize = 8;
const MAX_SIDE: u32 = 2000;
const MIN_SIDE: u32 = 30;
const BIN_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const MIN_BOX_SIDE: f32 = 3.0;
const CLS_W: usize = 192;
const LINE_H: usize = 48;
const REC_MIN_W: usize = 320;
const REC_BATCH: usize = 6;
const CLS_THRESHOLD: f32 = 0.9;
pub const MIN_CONFIDENCE: f32 = 0.5;

#[derive(Clone, Debug, PartialEq)]
pub struct OcrLine {
    pub text: String,
    pub confidence: f32,
    /// Corners in original pixels: top-left, top-right, bottom-right, bottom-left.
    pub quad: [Pt; 4],
}

pub struct Ocr {
    det: Session,
    cls: Session,
    rec: Session,
    keys: Vec<String>,
}

/// One character per line, untrimmed: some keys are characters `trim` would eat.
fn read_keys(path: &Path) -> Result<Vec<String>> {
    let load = |message: String| ModelError::Load {
        path: path.to_path_buf(),
        message,
    };
    let raw = crate::labels::read_text(path)?;
    let keys: Vec<String> = raw
        .strip_suffix('\n')
        .unwrap_or(&raw)
        .split('\n')
        .map(str::to_string)
        .collect();
    if keys.len() != 6623 {
        return Err(load(format!(
            "expected 6623 characters, found {}",
            keys.len()
        )));
    }
    Ok(keys)
}

/// Writes `img` into `out[.., .., 0..h, 0..w]` as normalised BGR planes.
fn put_bgr(out: &mut ndarray::ArrayViewMut3<f32>, img: &RgbView) {
    let (w, h) = (img.width as usize, img.height as usize);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            for c in 0..3 {
                out[[2 - c, y, x]] = (img.data[i + c] as f32 / 255.0 - 0.5) / 0.5;
            }
        }
    }
}

fn rotate_180(img: &RgbImage) -> RgbImage {
    let mut data: Vec<u8> = img.data.chunks(3).rev().flatten().copied().collect();
    data.shrink_to_fit();
    RgbImage {
        data,
        ..img.clone()
    }
}

/// 90 degrees counter-clockwise (numpy's rot90).
fn rotate_90(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut data = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (nx, ny) = (y, w - 1 - x);
            let (s, d) = ((y * w + x) * 3, (ny * h + nx) * 3);
            data[d..d + 3].copy_from_slice(&img.data[s..s + 3]);
        }
    }
    RgbImage {
        width: img.height,
        height: img.width,
        data,
    }
}

/// Samples the quadrilateral `q` (tl, tr, br, bl) into an upright image, bilinear, edges
/// replicated.
fn warp(img: &RgbView, q: &[Pt; 4]) -> Option<RgbImage> {
    let dist = |a: Pt, b: Pt| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
    let w = dist(q[0], q[1]).max(dist(q[3], q[2])) as usize;
    let h = dist(q[0], q[3]).max(dist(q[1], q[2])) as usize;
    if w == 0 || h == 0 {
        return None;
    }
    let (iw, ih) = (img.width as i64, img.height as i64);
    let px = |x: i64, y: i64, c: usize| -> f32 {
        let (x, y) = (x.clamp(0, iw - 1) as usize, y.clamp(0, ih - 1) as usize);
        img.data[(y * iw as usize + x) * 3 + c] as f32
    };
    let mut data = Vec::with_capacity(w * h * 3);
    for v in 0..h {
        for u in 0..w {
            let (fu, fv) = (u as f32 / w as f32, v as f32 / h as f32);
            let sx = q[0][0] + fu * (q[1][0] - q[0][0]) + fv * (q[3][0] - q[0][0]);
            let sy = q[0][1] + fu * (q[1][1] - q[0][1]) + fv * (q[3][1] - q[0][1]);
            let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
            let (ax, ay) = (sx - x0 as f32, sy - y0 as f32);
            for c in 0..3 {
                let top = px(x0, y0, c) * (1.0 - ax) + px(x0 + 1, y0, c) * ax;
                let bottom = px(x0, y0 + 1, c) * (1.0 - ax) + px(x0 + 1, y0 + 1, c) * ax;
                data.push((top * (1.0 - ay) + bottom * ay).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    Some(RgbImage {
        width: w as u32,
        height: h as u32,
        data,
    })
}

/// Height 48, width by aspect ratio, capped at `max_w` when given.
fn line_resize(img: &RgbImage, max_w: Option<usize>) -> Result<RgbImage> {
    let ratio = img.width as f32 / img.height as f32;
    let mut w = (LINE_H as f32 * ratio).ceil() as usize;
    if let Some(m) = max_w {
        w = w.min(m);
    }
    img.view().resize(w.max(1) as u32, LINE_H as u32, None)
}

impl Ocr {
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Ocr> {
        let dir = pack.join("ocr");
        let keys_path = dir.join("ppocr-keys.txt");
        let keys = read_keys(&keys_path)?;
        Ok(Ocr {
            det: runtime.session(&dir.join("ppocrv4-det.onnx"))?,
            cls: runtime.session(&dir.join("ppocr-cls.onnx"))?,
            rec: runtime.session(&dir.join("ppocrv4-rec.onnx"))?,
            keys,
        })
    }

    /// Text lines of an image, top to bottom, left to right.
    pub fn read(&mut self, image: &RgbView) -> Result<Vec<OcrLine>> {
        image.check()?;
        // Whole-image limits: at most 2000 px on the long side, at least 30 on the short one.
        let (w, h) = (image.width, image.height);
        let scale = if w.max(h) > MAX_SIDE {
            MAX_SIDE as f32 / w.max(h) as f32
        } else if w.min(h) < MIN_SIDE {
            MIN_SIDE as f32 / w.min(h) as f32
        } else {
            1.0
        };
        let scaled;
        let work = if scale != 1.0 {
            scaled = image.resize(
                ((w as f32 * scale).round() as u32).max(1),
                ((h as f32 * scale).round() as u32).max(1),
                None,
            )?;
            scaled.view()
        } else {
            *image
        };
        let quads = self.detect(&work)?;
        let mut crops = Vec::new();
        for q in &quads {
            if let Some(mut c) = warp(&work, q) {
                if c.height as f32 >= c.width as f32 * 1.5 {
                    c = rotate_90(&c);
                }
                crops.push((c, *q));
            }
        }
        self.orient(&mut crops)?;
        let texts = self.recognise(&crops.iter().map(|(c, _)| c).collect::<Vec<_>>())?;
        let back = |p: Pt| [p[0] / scale, p[1] / scale];
        Ok(crops
            .iter()
            .zip(texts)
            .filter(|(_, (text, conf))| !text.is_empty() && *conf >= MIN_CONFIDENCE)
            .map(|((_, q), (text, confidence))| OcrLine {
                text,
                confidence,
                quad: q.map(back),
            })
            .collect())
    }

    /// The detector's text-probability map of `image` at (up to) `shrink` times fewer pixels
    /// than the detection size, with its width and height.
    fn probability_map(
        &mut self,
        image: &RgbView,
        shrink: f32,
    ) -> Result<(Vec<f32>, usize, usize)> {
        let (w, h) = (image.width as f32, image.height as f32);
        // Short side up to 736 as RapidOCR does, but the long side capped, so that a thin
        // strip does not become an enormous input.
        let r = if w.min(h) < DET_SHORT_SIDE {
            DET_SHORT_SIDE / w.min(h)
        } else {
            1.0
        };
        let cap = if w * h <= MAX_DET_PIXELS_REDUCED {
            MAX_DET_PIXELS_ENLARGED
        } else {
            MAX_DET_PIXELS_REDUCED
        };
        let r = r.min(MAX_DET_SIDE / w.max(h)).min((cap / (w * h)).sqrt()) / shrink.sqrt();
        let round32 = |v: f32| (((v.trunc() / 32.0).round_ties_even() * 32.0) as usize).max(32);
        let (dw, dh) = (round32(w * r), round32(h * r));
        let resized = image.resize(dw as u32, dh as u32, None)?;
        let mut input = Array4::<f32>::zeros((1, 3, dh, dw));
        put_bgr(&mut input.slice_mut(s![0, .., .., ..]), &resized.view());
        let outputs = self
            .det
            .run(ort::inputs!["x" => TensorRef::from_array_view(&input).map_err(infer("text detector"))?])
            .map_err(infer("text detector"))?;
        let (_, map) = outputs["sigmoid_0.tmp_0"]
            .try_extract_tensor::<f32>()
            .map_err(infer("text detector"))?;
        Ok((map.to_vec(), dw, dh))
    }

    /// Whether a quick look at fewer pixels finds anything that may be text.
    fn may_hold_text(&mut self, image: &RgbView) -> Result<bool> {
        let (map, _, _) = self.probability_map(image, GATE_SHRINK)?;
        Ok(map.iter().filter(|p| **p > BIN_THRESHOLD).count() >= GATE_MIN_PIXELS)
    }

    /// Text boxes in `image`'s pixels, sorted top to bottom then left to right.
    fn detect(&mut self, image: &RgbView) -> Result<Vec<[Pt; 4]>> {
        if !self.may_hold_text(image)? {
            return Ok(Vec::new());
        }
        let (w, h) = (image.width as f32, image.height as f32);
        let (map, dw, dh) = self.probability_map(image, 1.0)?;
        // Threshold, then dilate with a 2x2 kernel.
        let thr: Vec<bool> = map.iter().map(|p| *p > BIN_THRESHOLD).collect();
        let mut mask = thr.clone();
        for y in 0..dh {
            for x in 0..dw {
                if thr[y * dw + x] {
                    for (dx, dy) in [(1, 0), (0, 1), (1, 1)] {
                        if x + dx < dw && y + dy < dh {
                            mask[(y + dy) * dw + x + dx] = true;
                        }
                    }
                }
            }
        }
        let (sx, sy) = (w / dw as f32, h / dh as f32);
        let mut boxes: Vec<[Pt; 4]> = Vec::new();
        for region in regions(&mask, dw, dh) {
            let pts: Vec<Pt> = region
                .iter()
                .flat_map(|&(y, a, b)| [[a as f32, y as f32], [b as f32, y as f32]])
                .collect();
            let Some(rect) = min_area_rect(pts) else {
                continue;
            };
            if rect.short_side() < MIN_BOX_SIDE {
                continue;
            }
            if mean_inside(&map, dw, dh, &rect.corners()) < BOX_THRESHOLD {
                continue;
            }
            let (area, perimeter) = (rect.w * rect.h, 2.0 * (rect.w + rect.h));
            let grown = rect.grow(area * UNCLIP_RATIO / perimeter);
            if grown.short_side() < MIN_BOX_SIDE + 2.0 {
                continue;
            }
            boxes.push(
                grown
                    .corners()
                    .map(|p| [(p[0] * sx).clamp(0.0, w), (p[1] * sy).clamp(0.0, h)]),
            );
        }
        boxes.sort_by(|a, b| {
            a[0][1]
                .total_cmp(&b[0][1])
                .then(a[0][0].total_cmp(&b[0][0]))
        });
        // Boxes on one line (tops within 10 px) read left to right.
        for i in 1..boxes.len() {
            let mut j = i;
            while j > 0
                && (boxes[j][0][1] - boxes[j - 1][0][1]).abs() < 10.0
                && boxes[j][0][0] < boxes[j - 1][0][0]
            {
                boxes.swap(j, j - 1);
                j -= 1;
            }
        }
        Ok(boxes)
    }

    /// Turns upside-down crops the right way up.
    fn orient(&mut self, crops: &mut [(RgbImage, [Pt; 4])]) -> Result<()> {
        for chunk in crops.chunks_mut(REC_BATCH) {
            let mut input = Array4::<f32>::zeros((chunk.len(), 3, LINE_H, CLS_W));
            for (i, (c, _)) in chunk.iter().enumerate() {
                let r = line_resize(c, Some(CLS_W))?;
                put_bgr(&mut input.slice_mut(s![i, .., .., ..]), &r.view());
            }
            let outputs = self
                .cls
                .run(ort::inputs!["x" => TensorRef::from_array_view(&input).map_err(infer("text orientation"))?])
                .map_err(infer("text orientation"))?;
            let (_, p) = outputs["save_infer_model/scale_0.tmp_1"]
                .try_extract_tensor::<f32>()
                .map_err(infer("text orientation"))?;
            for (i, (c, _)) in chunk.iter_mut().enumerate() {
                if p[i * 2 + 1] > CLS_THRESHOLD {
                    *c = rotate_180(c);
                }
            }
        }
        Ok(())
    }

    /// (text, confidence) per crop, by CTC greedy decoding.
    fn recognise(&mut self, crops: &[&RgbImage]) -> Result<Vec<(String, f32)>> {
        let mut out = vec![(String::new(), 0.0); crops.len()];
        // Similar widths batch together, as RapidOCR sorts by aspect ratio.
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|&a, &b| {
            let r = |i: usize| crops[i].width as f32 / crops[i].height as f32;
            r(a).total_cmp(&r(b))
        });
        for chunk in order.chunks(REC_BATCH) {
            let lines: Vec<RgbImage> = chunk
                .iter()
                .map(|&i| line_resize(crops[i], None))
                .collect::<Result<_>>()?;
            let width = lines
                .iter()
                .map(|l| l.width as usize)
                .max()
                .unwrap_or(0)
                .max(REC_MIN_W);
            let mut input = Array4::<f32>::zeros((lines.len(), 3, LINE_H, width));
            for (i, l) in lines.iter().enumerate() {
                put_bgr(&mut input.slice_mut(s![i, .., .., ..]), &l.view());
            }
            let outputs = self
                .rec
                .run(ort::inputs!["x" => TensorRef::from_array_view(&input).map_err(infer("text recogniser"))?])
                .map_err(infer("text recogniser"))?;
            let (shape, probs) = outputs["softmax_11.tmp_0"]
                .try_extract_tensor::<f32>()
                .map_err(infer("text recogniser"))?;
            let (steps, classes) = (shape[1] as usize, shape[2] as usize);
            for (k, &i) in chunk.iter().enumerate() {
                out[i] = ctc(
                    &self.keys,
                    &probs[k * steps * classes..(k + 1) * steps * classes],
                    classes,
                );
            }
        }
        Ok(out)
    }
}

/// Greedy CTC: best class per step, repeats merged, blanks (class 0) dropped; class k is
/// key k-1, the class after the keys is a space.
fn ctc(keys: &[String], probs: &[f32], classes: usize) -> (String, f32) {
    let (mut text, mut confs, mut prev) = (String::new(), Vec::new(), 0usize);
    for step in probs.chunks_exact(classes) {
        let (best, p) = step
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, p)| (i, *p))
            .unwrap_or((0, 0.0));
        if best != 0 && best != prev {
            match keys.get(best - 1) {
                Some(k) => text.push_str(k),
                None => text.push(' '),
            }
            confs.push(p);
        }
        prev = best;
    }
    let conf = if confs.is_empty() {
        0.0
    } else {
        confs.iter().sum::<f32>() / confs.len() as f32
    };
    (text, conf)
}
