//! WebP, still and animated, decoded by image-webp (FFmpeg 5.1 reads no animated WebP). An
//! animation of more than one frame is indexed as a short video: a frame every
//! `min_interval` seconds of its timeline, as keyframes are kept for videos.

use std::io::BufReader;
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::media::MediaKind;
use image_webp::{DecodingError, WebPDecoder};
use vx_models::RgbImage;

use crate::decode::{DECODE_OPENS, DecodePolicy, Decoded, Frame, fit, over_white};
use crate::orientation::{exif_orientation, orient};
use crate::probe::ProbeError;
use crate::store::ContentMeta;

fn damaged(e: DecodingError) -> ProbeError {
    ProbeError::Corrupt(format!("damaged WebP ({e})"))
}

/// One decoded buffer (RGB, or RGBA composited on white) as a picture.
fn picture(buf: &[u8], alpha: bool, (width, height): (u32, u32)) -> RgbImage {
    let data = if alpha {
        let mut rgb = Vec::with_capacity(buf.len() / 4 * 3);
        over_white(buf, &mut rgb);
        rgb
    } else {
        buf.to_vec()
    };
    RgbImage {
        width,
        height,
        data,
    }
}

pub fn decode_webp(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    let file = std::fs::File::open(path).map_err(|e| ProbeError::Io(e.to_string()))?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let mut decoder = WebPDecoder::new(BufReader::new(file)).map_err(damaged)?;
    let (w, h) = decoder.dimensions();
    if w as u64 * h as u64 > policy.max_pixels {
        return Err(ProbeError::Corrupt(format!(
            "{w}x{h} pixels is over the {} megapixel limit (a decompression bomb?)",
            policy.max_pixels / 1_000_000
        )));
    }
    let alpha = decoder.has_alpha();
    let mut buf = vec![
        0u8;
        decoder
            .output_buffer_size()
            .ok_or_else(|| damaged(DecodingError::ImageTooLarge))?
    ];
    let mut frames = Vec::new();
    let mut total_ms = 0u64;
    if decoder.is_animated() && decoder.num_frames() > 1 {
        // Every frame decodes (each is drawn over the last); one is kept every min_interval.
        loop {
            let time = total_ms as f64 / 1000.0;
            match decoder.read_frame(&mut buf) {
                Ok(ms) => total_ms += u64::from(ms),
                Err(DecodingError::NoMoreFrames) => break,
                Err(e) if frames.is_empty() => return Err(damaged(e)),
                // A damaged tail: keep what came before it.
                Err(e) => {
                    tracing::warn!(path = %path.display(), "WebP animation cut short: {e}");
                    break;
                }
            }
            let due = frames
                .last()
                .is_none_or(|f: &Frame| time - f.time >= policy.min_interval);
            if due && frames.len() < policy.max_frames {
                frames.push(Frame {
                    time,
                    image: fit(picture(&buf, alpha, (w, h)), policy)?,
                });
            }
        }
    } else {
        decoder.read_image(&mut buf).map_err(damaged)?;
        let exif = crate::probe::read_exif(path);
        let o = exif.as_ref().and_then(exif_orientation).unwrap_or(1);
        let image = fit(orient(picture(&buf, alpha, (w, h)), o), policy)?;
        let size = if o >= 5 { (h, w) } else { (w, h) };
        let exif = exif.as_ref();
        return Ok(crate::decode::still(
            image,
            size,
            ("webp", "webp"),
            exif,
            path,
        ));
    }
    Ok(Decoded {
        meta: ContentMeta {
            kind: Some(MediaKind::Video),
            format: Some("webp".into()),
            width: Some(w),
            height: Some(h),
            video_codec: Some("webp".into()),
            duration: Some(total_ms as f64 / 1000.0),
            ..ContentMeta::default()
        },
        frames,
        audio: None,
    })
}
