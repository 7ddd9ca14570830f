//! Image quality: BRISQUE (no reference; one graph: `rgb` f32 [H, W, 3] RGB 0..255 to `score`
//! [1], lower is better, roughly 0..100) and cheap measures of the same downscaled image: fine
//! detail, brightness and clipped highlights.

use std::path::Path;

use ndarray::Array3;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::image::RgbView;
use crate::runtime::Runtime;

const NAME: &str = "quality";
/// The cheap measures are taken with the image's long side at most this (their thresholds
/// were set there).
pub const SIDE: u32 = 512;
/// BRISQUE sees the image with its long side at most this: half the cost of 512 (12 against
/// 23 ms on one thread for a 3:2 photo), and it still tells sharp photos (81-97) from their
/// blurred copies (40-45).
pub const SCORE_SIDE: u32 = 384;

pub struct Quality {
    session: Session,
}

/// The cheap measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Looks {
    /// How much of the edges' energy is in the finest detail, 0..100: sharp photos 65-100,
    /// a one-pixel blur 20-40, flat images 100 (nothing to be blurred).
    pub sharpness: f32,
    /// Mean luma, 0..100 %.
    pub brightness: f32,
    /// Pixels at or near white (luma 250 of 255 and up), %.
    pub highlights: f32,
}

impl Quality {
    /// Loads `quality/brisque.onnx` from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<Quality> {
        Ok(Quality {
            session: runtime.session(&pack.join("quality/brisque.onnx"))?,
        })
    }

    /// 100 - BRISQUE, within 0..100: higher is better. None where BRISQUE has no answer (a
    /// flat picture: its statistics are undefined).
    pub fn score(&mut self, image: &RgbView) -> Result<Option<f32>> {
        image.check()?;
        let small = image.limit(SCORE_SIDE)?;
        let view = small.as_ref().map_or(*image, |s| s.view());
        let (w, h) = (view.width as usize, view.height as usize);
        let rgb = Array3::from_shape_vec((h, w, 3), view.data.iter().map(|&p| p as f32).collect())
            .map_err(|e| ModelError::BadInput(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs!["rgb" => TensorRef::from_array_view(&rgb).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let (_, score) = outputs["score"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        let brisque = *score.first().ok_or_else(|| ModelError::Inference {
            model: NAME,
            message: "no score".into(),
        })?;
        Ok(brisque
            .is_finite()
            .then(|| (100.0 - brisque).clamp(0.0, 100.0)))
    }
}

/// A picture's fingerprint: a 56-bit difference hash (the picture in grey at 9 x 7, one bit
/// per pair of neighbours: is the left one darker) and its mean colour in the top 8 bits (red
/// and green 3 bits, blue 2). Copies of one picture, blurred, recompressed or resized, are
/// [`near`]; different pictures differ in about half the hash's bits, or in colour when they
/// share a layout. None for a flat picture (nothing to tell it by).
pub fn fingerprint(view: &RgbView) -> Result<Option<u64>> {
    let small = view.resize(9, 7, None)?;
    let px = small.data.chunks_exact(3);
    let grey: Vec<f32> = px.clone().map(pixel_luma).collect();
    let (lo, hi) = grey
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &g| (lo.min(g), hi.max(g)));
    if hi - lo < FLAT {
        return Ok(None);
    }
    let mut hash = 0u64;
    for y in 0..7 {
        for x in 0..8 {
            hash = hash << 1 | u64::from(grey[y * 9 + x] < grey[y * 9 + x + 1]);
        }
    }
    let n = grey.len() as u64;
    let mean = |c: usize| px.clone().map(|p| p[c] as u64).sum::<u64>() / n;
    let colour = (mean(0) >> 5) << 5 | (mean(1) >> 5) << 2 | mean(2) >> 6;
    Ok(Some(colour << 56 | hash))
}

/// An RGB pixel's luma (BT.601), 0..255.
fn pixel_luma(p: &[u8]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// Grey levels (of 255) a picture must span at 9 x 7 to have a fingerprint.
const FLAT: f32 = 8.0;
/// Bits of the difference hash two copies of one picture may differ in (a photo and its
/// blurred or recompressed copy: 0-5).
const NEAR_BITS: u32 = 7;

/// Whether two fingerprints are one picture: hashes within [`NEAR_BITS`], mean colours within
/// one step in each channel.
pub fn near(a: u64, b: u64) -> bool {
    let hash_bits = ((a ^ b) & ((1 << 56) - 1)).count_ones();
    let (ca, cb) = ((a >> 56) as i32, (b >> 56) as i32);
    let close = |shift: u32, mask: i32| ((ca >> shift & mask) - (cb >> shift & mask)).abs() <= 1;
    hash_bits <= NEAR_BITS && close(5, 7) && close(2, 7) && close(0, 3)
}

/// The cheap measures of an image as it is (scale it down to [`SIDE`] first: they are
/// calibrated there).
pub fn looks(view: &RgbView) -> Looks {
    let (w, h) = (view.width as usize, view.height as usize);
    let luma: Vec<f32> = view.data.chunks_exact(3).map(pixel_luma).collect();
    let n = luma.len().max(1) as f32;
    let brightness = luma.iter().sum::<f32>() / n / 255.0 * 100.0;
    let highlights = luma.iter().filter(|&&l| l >= 250.0).count() as f32 / n * 100.0;
    // The Laplacian's variance against the gradients' energy: blur takes the finest detail
    // first, and the ratio does not depend on contrast (a darkened photo keeps its ratio).
    let at = |x: usize, y: usize| luma[y * w + x];
    let (mut lap, mut lap2, mut grad, mut count) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let c = at(x, y);
            let l = (at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4.0 * c) as f64;
            let (gx, gy) = ((at(x + 1, y) - c) as f64, (at(x, y + 1) - c) as f64);
            lap += l;
            lap2 += l * l;
            grad += gx * gx + gy * gy;
            count += 1;
        }
    }
    let sharpness = if count == 0 || grad / (count as f64) < 1.0 {
        100.0
    } else {
        let c = count as f64;
        let variance = lap2 / c - (lap / c).powi(2);
        (variance / (grad / c) * 50.0).min(100.0) as f32
    };
    Looks {
        sharpness,
        brightness,
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x64 checkerboard of 8-pixel squares, optionally box-blurred `r` pixels each way.
    fn board(r: usize, scale: f32) -> Vec<u8> {
        let raw = |x: usize, y: usize| {
            if (x / 8 + y / 8).is_multiple_of(2) {
                200.0
            } else {
                40.0
            }
        };
        let mut out = Vec::new();
        for y in 0..64usize {
            for x in 0..64usize {
                let mut sum = 0.0;
                let mut n = 0.0;
                for dy in 0..=2 * r {
                    for dx in 0..=2 * r {
                        let (xx, yy) = ((x + dx).saturating_sub(r), (y + dy).saturating_sub(r));
                        sum += raw(xx.min(63), yy.min(63));
                        n += 1.0;
                    }
                }
                let v = (sum / n * scale) as u8;
                out.extend([v, v, v]);
            }
        }
        out
    }

    #[test]
    fn blur_lowers_sharpness_and_darkness_does_not() {
        let sharp = board(0, 1.0);
        let soft = board(2, 1.0);
        let dark = board(0, 0.2);
        let of = |d: &[u8]| looks(&RgbView::new(64, 64, d).unwrap());
        let (s, b, k) = (of(&sharp), of(&soft), of(&dark));
        assert!(s.sharpness > 60.0 && b.sharpness < 40.0, "{s:?} {b:?}");
        assert!((k.sharpness - s.sharpness).abs() < 10.0, "{k:?}");
        assert!(
            (s.brightness - 47.0).abs() < 1.0 && k.brightness < 10.0,
            "{s:?} {k:?}"
        );
        assert_eq!(s.highlights, 0.0);
        let white = vec![255u8; 64 * 64 * 3];
        let w = of(&white);
        assert_eq!((w.sharpness, w.highlights), (100.0, 100.0));
    }
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;
    use crate::RgbImage;

    /// A 64 x 48 picture of soft blobs in `tint`.
    fn picture(tint: [f32; 3]) -> RgbImage {
        let data = (0..48 * 64)
            .flat_map(|i| {
                let (x, y) = ((i % 64) as f32, (i / 64) as f32);
                let v = 0.5 + 0.25 * (x / 7.0).sin() + 0.25 * (y / 5.0).cos() * (x / 13.0).sin();
                tint.map(|t| (v * t * 255.0) as u8)
            })
            .collect();
        RgbImage {
            width: 64,
            height: 48,
            data,
        }
    }

    #[test]
    fn copies_are_near_and_other_pictures_or_colours_are_not() {
        let red = picture([1.0, 0.3, 0.2]);
        let a = fingerprint(&red.view()).unwrap().unwrap();
        let soft = red.view().resize(16, 12, None).unwrap();
        let soft = soft.view().resize(64, 48, None).unwrap();
        let b = fingerprint(&soft.view()).unwrap().unwrap();
        assert!(near(a, b), "{a:x} {b:x}");
        let blue = fingerprint(&picture([0.2, 0.3, 1.0]).view())
            .unwrap()
            .unwrap();
        assert!(!near(a, blue), "same layout, other colour");
        let mut mirrored = red.clone();
        for row in mirrored.data.chunks_mut(64 * 3) {
            let px: Vec<[u8; 3]> = row.chunks(3).rev().map(|p| [p[0], p[1], p[2]]).collect();
            row.copy_from_slice(&px.concat());
        }
        let m = fingerprint(&mirrored.view()).unwrap().unwrap();
        assert!(!near(a, m), "another picture");
        let flat = RgbImage {
            width: 8,
            height: 8,
            data: vec![200; 8 * 8 * 3],
        };
        assert_eq!(fingerprint(&flat.view()).unwrap(), None);
    }
}
