//! One decoding pass per file: what the file is (its metadata), and the pixels and sound every
//! extractor needs, in memory. Images decode once (mozjpeg for JPEG, libheif for HEIC and AVIF,
//! LibRaw for camera RAW, image-webp for WebP, FFmpeg for the rest) standing upright; videos decode keyframes only (AVDISCARD_NONKEY) plus a sampling
//! policy, and their audio once, resampled to 16 kHz mono for the transcriber.

use std::path::Path;
use std::sync::atomic::AtomicU64;

use crate::media::MediaKind;
use vx_models::RgbImage;

use crate::probe::{ProbeError, init};
use crate::store::ContentMeta;

/// Every container opened for decoding, process-wide (tests check "decoded exactly once").
pub static DECODE_OPENS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug)]
pub struct DecodePolicy {
    /// Frames are scaled down to at most this many pixels on their long side: every model
    /// works below it (the tagger at 224, the detector at 512, faces up to 960, OCR on about
    /// 0.54 MP), and decoding and resizing a smaller frame is cheaper for all of them.
    pub max_side: u32,
    /// Pictures with more pixels than this are refused (decompression bombs).
    pub max_pixels: u64,
    /// At most one frame every this many seconds (keyframe-dense clips).
    pub min_interval: f64,
    /// At least one frame every this many seconds (long GOPs): gaps are filled by decoding
    /// from the keyframe before them.
    pub max_gap: f64,
    /// A cap on frames per file, so that a long video fits in memory (at most 1280x720 RGB,
    /// 2.8 MB a frame); a video longer than `max_frames * min_interval` gets its frames spread
    /// evenly over its whole length instead.
    pub max_frames: usize,
    pub audio: bool,
}

impl Default for DecodePolicy {
    fn default() -> Self {
        DecodePolicy {
            max_side: 1280,
            max_pixels: 150_000_000,
            min_interval: 1.0,
            max_gap: 10.0,
            max_frames: 500,
            audio: true,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Frame {
    /// Seconds from the start (0 for images).
    pub time: f64,
    pub image: RgbImage,
}

#[derive(Debug, Default)]
pub struct Decoded {
    pub meta: ContentMeta,
    pub frames: Vec<Frame>,
    /// 16 kHz mono in -1..1.
    pub audio: Option<Vec<f32>>,
}

fn corrupt(msg: impl Into<String>) -> ProbeError {
    ProbeError::Corrupt(msg.into())
}

/// Decodes `path`: its metadata, frames and audio.
pub fn decode(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    decode_with(path, policy, &mut NoTap)
}

/// Decodes `path`, handing its audio to `tap` as well.
pub fn decode_with(
    path: &Path,
    policy: &DecodePolicy,
    tap: &mut dyn AudioTap,
) -> Result<Decoded, ProbeError> {
    init();
    let head = {
        use std::io::Read;
        let mut b = Vec::with_capacity(64);
        let f = std::fs::File::open(path).map_err(|e| ProbeError::Io(e.to_string()))?;
        f.take(64)
            .read_to_end(&mut b)
            .map_err(|e| ProbeError::Io(e.to_string()))?;
        b
    };
    let mut decoded = if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg::decode_jpeg(path, policy)
    } else if crate::heif::is_heif(&head) {
        crate::heif::decode_heif(path, &head, policy)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        crate::webp::decode_webp(path, policy)
    } else if crate::bigtiff::is_bigtiff(&head) {
        crate::bigtiff::decode_bigtiff(path, policy)
    } else if crate::raw::is_raw(path) {
        crate::raw::decode_raw(path, policy)
    } else {
        video::decode_ffmpeg(path, policy, tap)
    }?;
    decoded.meta.place = decoded
        .meta
        .location
        .and_then(|(lat, lon)| crate::geo::place_at(lat, lon));
    Ok(decoded)
}

/// A decoded still: its picture (upright, fitted to the policy), its full size as it stands,
/// its format and codec, and what its EXIF (read once by its decoder) says.
pub(crate) fn still(
    image: RgbImage,
    (width, height): (u32, u32),
    (format, codec): (&str, &str),
    exif: Option<&exif::Exif>,
    path: &Path,
) -> Decoded {
    let mut meta = ContentMeta {
        kind: Some(MediaKind::Image),
        format: Some(format.into()),
        width: Some(width),
        height: Some(height),
        video_codec: Some(codec.into()),
        ..ContentMeta::default()
    };
    still_meta(&mut meta, exif, path);
    Decoded {
        meta,
        frames: vec![Frame { time: 0.0, image }],
        audio: None,
    }
}

/// What a still's EXIF (read once by its decoder) says of when, where and with what it was
/// taken.
pub(crate) fn still_meta(meta: &mut ContentMeta, exif: Option<&exif::Exif>, path: &Path) {
    if let Some(exif) = exif {
        meta.taken = meta.taken.or_else(|| crate::probe::exif_time(exif));
        meta.location = crate::geo::exif_coordinates(exif);
        meta.pair_id = crate::live::apple_content_identifier(exif);
    }
    meta.camera = crate::camera::describe(exif, path);
}

pub(crate) fn scaled_size(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= max_side {
        return (w, h);
    }
    let s = max_side as f64 / long as f64;
    (
        ((w as f64 * s).round() as u32).max(1),
        ((h as f64 * s).round() as u32).max(1),
    )
}

/// Scales a still down to the policy's long side.
pub(crate) fn fit(image: RgbImage, policy: &DecodePolicy) -> Result<RgbImage, ProbeError> {
    let (tw, th) = scaled_size(image.width, image.height, policy.max_side);
    if (tw, th) == (image.width, image.height) {
        return Ok(image);
    }
    image
        .view()
        .resize(tw, th, None)
        .map_err(|e| corrupt(e.to_string()))
}

/// Appends RGBA pixels to `out` as RGB composited on white.
pub(crate) fn over_white(rgba: &[u8], out: &mut Vec<u8>) {
    out.extend(rgba.chunks_exact(4).flat_map(|p| {
        let a = p[3] as u32;
        let blend = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        [blend(p[0]), blend(p[1]), blend(p[2])]
    }));
}

mod audio;
mod jpeg;
#[cfg(test)]
mod probe_tests;
#[cfg(test)]
mod tests;
mod video;

pub use audio::{AudioTap, NoTap};
pub(crate) use jpeg::jpeg_pixels;
