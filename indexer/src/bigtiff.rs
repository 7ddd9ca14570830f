//! BigTIFF (TIFF with 64-bit offsets, written by scanners and stitching tools for huge pictures),
//! which FFmpeg does not read: decoded by the tiff crate, 8- or 16-bit grey, RGB or RGBA.

use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::Ordering;

use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult};
use vx_models::RgbImage;

use crate::decode::{DECODE_OPENS, DecodePolicy, Decoded, fit, over_white};
use crate::orientation::{exif_orientation, orient};
use crate::probe::ProbeError;

/// Whether a file starting with `head` is a BigTIFF: byte order, then 43 (not classic 42).
pub fn is_bigtiff(head: &[u8]) -> bool {
    head.starts_with(b"II\x2b\x00") || head.starts_with(b"MM\x00\x2b")
}

fn damaged(e: impl std::fmt::Display) -> ProbeError {
    ProbeError::Corrupt(format!("damaged BigTIFF ({e})"))
}

pub fn decode_bigtiff(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    let file = std::fs::File::open(path).map_err(|e| ProbeError::Io(e.to_string()))?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let mut decoder = Decoder::new(BufReader::new(file)).map_err(damaged)?;
    let (w, h) = decoder.dimensions().map_err(damaged)?;
    if w as u64 * h as u64 > policy.max_pixels {
        return Err(ProbeError::Corrupt(format!(
            "{w}x{h} pixels is over the {} megapixel limit (a decompression bomb?)",
            policy.max_pixels / 1_000_000
        )));
    }
    let channels = match decoder.colortype().map_err(damaged)? {
        ColorType::Gray(8 | 16) => 1,
        ColorType::RGB(8 | 16) => 3,
        ColorType::RGBA(8 | 16) => 4,
        other => {
            return Err(ProbeError::NotMedia(format!(
                "unsupported format: BigTIFF with {other:?} pixels (vx reads 8- and 16-bit grey, \
                 RGB and RGBA)"
            )));
        }
    };
    // 16-bit samples keep their high byte.
    let samples: Vec<u8> = match decoder.read_image().map_err(damaged)? {
        DecodingResult::U8(v) => v,
        DecodingResult::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => return Err(damaged("samples of an unexpected width")),
    };
    if samples.len() < w as usize * h as usize * channels {
        return Err(damaged("short pixel data"));
    }
    let mut data = Vec::with_capacity(w as usize * h as usize * 3);
    match channels {
        1 => data.extend(samples.iter().flat_map(|&g| [g, g, g])),
        3 => data.extend_from_slice(&samples[..w as usize * h as usize * 3]),
        _ => over_white(&samples, &mut data),
    }
    let exif = crate::probe::read_exif(path);
    let o = exif.as_ref().and_then(exif_orientation).unwrap_or(1);
    let image = fit(
        orient(
            RgbImage {
                width: w,
                height: h,
                data,
            },
            o,
        ),
        policy,
    )?;
    let size = if o >= 5 { (h, w) } else { (w, h) };
    let exif = exif.as_ref();
    Ok(crate::decode::still(
        image,
        size,
        ("bigtiff", "tiff"),
        exif,
        path,
    ))
}
