//! JPEG through mozjpeg, decoded at the smallest DCT scale that still covers the policy.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::Ordering;

use vx_models::RgbImage;

use super::{DECODE_OPENS, DecodePolicy, Decoded, corrupt, fit, still};
use crate::orientation::{exif_orientation, orient};
use crate::probe::ProbeError;

pub(super) fn decode_jpeg(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    let bytes = std::fs::read(path).map_err(|e| ProbeError::Io(e.to_string()))?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let (fw, fh, image) = jpeg_pixels(&bytes, policy)?;
    let exif = crate::probe::exif_of(&bytes);
    let o = exif.as_ref().and_then(exif_orientation).unwrap_or(1);
    let image = fit(orient(image, o), policy)?;
    // Full-resolution size, as the picture stands after orientation.
    let size = if o >= 5 { (fh, fw) } else { (fw, fh) };
    Ok(still(image, size, ("jpeg", "mjpeg"), exif.as_ref(), path))
}

/// A JPEG's full size and its pixels as stored (not yet upright), decoded by mozjpeg at the
/// smallest DCT scale that still covers the policy's long side.
pub(crate) fn jpeg_pixels(
    bytes: &[u8],
    policy: &DecodePolicy,
) -> Result<(u32, u32, RgbImage), ProbeError> {
    // mozjpeg reports errors by panicking.
    let decoded = catch_unwind(AssertUnwindSafe(
        || -> std::io::Result<(u32, u32, u32, u32, Vec<u8>)> {
            let mut d = mozjpeg::Decompress::new_mem(bytes)?;
            let (fw, fh) = (d.width() as u32, d.height() as u32);
            if fw as u64 * fh as u64 > policy.max_pixels {
                return Ok((fw, fh, 0, 0, Vec::new()));
            }
            // DCT scaling: decode at 1/2, 1/4 or 1/8 when the picture is far larger than needed.
            let mut num = 8u8;
            // Down to three quarters of max_side: a 2048-pixel photo decodes straight at 1024.
            while num > 1
                && fw.max(fh) as u64 * (num as u64 / 2) / 8 >= policy.max_side as u64 * 3 / 4
            {
                num /= 2;
            }
            d.scale(num);
            let mut started = d.rgb()?;
            let (w, h) = (started.width() as u32, started.height() as u32);
            let data = started.read_scanlines::<u8>()?;
            started.finish()?;
            Ok((fw, fh, w, h, data))
        },
    ));
    let (fw, fh, w, h, data) = match decoded {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return Err(corrupt(format!("damaged JPEG ({e})"))),
        Err(_) => return Err(corrupt("damaged JPEG (the decoder gave up)")),
    };
    if data.is_empty() {
        return Err(corrupt(format!(
            "{fw}x{fh} pixels is over the {} megapixel limit (a decompression bomb?)",
            policy.max_pixels / 1_000_000
        )));
    }
    if data.len() != w as usize * h as usize * 3 {
        return Err(corrupt("damaged JPEG (short pixel data)"));
    }
    Ok((
        fw,
        fh,
        RgbImage {
            width: w,
            height: h,
            data,
        },
    ))
}
