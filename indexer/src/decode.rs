//! One decoding pass per file: what the file is (its metadata), and the pixels and sound every
//! extractor needs, in memory. Images decode once (mozjpeg for JPEG, libheif for HEIC and AVIF,
//! LibRaw for camera RAW, image-webp for WebP, FFmpeg for the rest) standing upright; videos decode keyframes only (AVDISCARD_NONKEY) plus a sampling
//! policy, and their audio once, resampled to 16 kHz mono for the transcriber.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg_next as ffmpeg;
use vx_client::MediaKind;
use vx_models::RgbImage;

use crate::orientation::{display_matrix_orientation, exif_orientation, orient};
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
        decode_jpeg(path, policy)
    } else if crate::heif::is_heif(&head) {
        crate::heif::decode_heif(path, &head, policy)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        crate::webp::decode_webp(path, policy)
    } else if crate::bigtiff::is_bigtiff(&head) {
        crate::bigtiff::decode_bigtiff(path, policy)
    } else if crate::raw::is_raw(path) {
        crate::raw::decode_raw(path, policy)
    } else {
        decode_ffmpeg(path, policy, tap)
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

fn decode_jpeg(path: &Path, policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
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

/// Converts decoded video frames to RGB at a bounded size.
struct ToRgb {
    scaler: Option<(ffmpeg::software::scaling::Context, (Pixel, u32, u32))>,
    max_side: u32,
}

/// Whether FFmpeg's pixel format carries an alpha channel.
fn has_alpha(format: Pixel) -> bool {
    // SAFETY: av_pix_fmt_desc_get returns a static descriptor, or null for an unknown format.
    let desc = unsafe { ffmpeg::ffi::av_pix_fmt_desc_get(format.into()).as_ref() };
    desc.is_some_and(|d| d.flags & ffmpeg::ffi::AV_PIX_FMT_FLAG_ALPHA as u64 != 0)
}

/// Appends RGBA pixels to `out` as RGB composited on white.
pub(crate) fn over_white(rgba: &[u8], out: &mut Vec<u8>) {
    out.extend(rgba.chunks_exact(4).flat_map(|p| {
        let a = p[3] as u32;
        let blend = |c: u8| ((c as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
        [blend(p[0]), blend(p[1]), blend(p[2])]
    }));
}

impl ToRgb {
    /// The frame as RGB, scaled to `max_side`; a picture with alpha is composited on white
    /// (what a viewer shows, and what the models were trained on), not on the black or the
    /// stray colours its transparent pixels hold.
    fn convert(&mut self, frame: &ffmpeg::frame::Video) -> Result<RgbImage, ProbeError> {
        let key = (frame.format(), frame.width(), frame.height());
        let (tw, th) = scaled_size(frame.width(), frame.height(), self.max_side);
        let alpha = has_alpha(key.0);
        let (target, channels) = if alpha {
            (Pixel::RGBA, 4)
        } else {
            (Pixel::RGB24, 3)
        };
        if self.scaler.as_ref().is_none_or(|(_, k)| *k != key) {
            let ctx = ffmpeg::software::scaling::Context::get(
                key.0,
                key.1,
                key.2,
                target,
                tw,
                th,
                ffmpeg::software::scaling::Flags::FAST_BILINEAR,
            )
            .map_err(|e| corrupt(format!("cannot convert {:?} pixels: {e}", key.0)))?;
            self.scaler = Some((ctx, key));
        }
        let (scaler, _) = self.scaler.as_mut().expect("just set");
        let mut out = ffmpeg::frame::Video::empty();
        scaler
            .run(frame, &mut out)
            .map_err(|e| corrupt(format!("pixel conversion failed: {e}")))?;
        let stride = out.stride(0);
        let row = tw as usize * channels;
        let plane = out.data(0);
        let mut data = Vec::with_capacity(tw as usize * th as usize * 3);
        for y in 0..th as usize {
            let line = &plane[y * stride..y * stride + row];
            if alpha {
                over_white(line, &mut data);
            } else {
                data.extend_from_slice(line);
            }
        }
        Ok(RgbImage {
            width: tw,
            height: th,
            data,
        })
    }
}

/// Audio to packed f32: 16 kHz mono for the transcriber, or the stream's own rate and channels
/// for an [`AudioTap`].
struct ToF32 {
    resampler: Option<ffmpeg::software::resampling::Context>,
    /// None: the stream's own rate and channels.
    mono_at: Option<u32>,
}

impl ToF32 {
    fn new(mono_at: Option<u32>) -> ToF32 {
        ToF32 {
            resampler: None,
            mono_at,
        }
    }

    /// Appends `frame`, converted, to `out`.
    fn push(&mut self, frame: &ffmpeg::frame::Audio, out: &mut Vec<f32>) -> Result<(), ProbeError> {
        if self.resampler.is_none() {
            let layout = if frame.channel_layout().is_empty() {
                ffmpeg::ChannelLayout::default(frame.channels() as i32)
            } else {
                frame.channel_layout()
            };
            let (to_layout, to_rate) = match self.mono_at {
                Some(rate) => (ffmpeg::ChannelLayout::MONO, rate),
                None => (layout, frame.rate()),
            };
            self.resampler = Some(
                ffmpeg::software::resampling::Context::get(
                    frame.format(),
                    layout,
                    frame.rate(),
                    ffmpeg::format::Sample::F32(ffmpeg::format::sample::Type::Packed),
                    to_layout,
                    to_rate,
                )
                .map_err(|e| corrupt(format!("cannot resample audio: {e}")))?,
            );
        }
        let r = self.resampler.as_mut().expect("just set");
        let channels = if self.mono_at.is_some() {
            1
        } else {
            frame.channels() as usize
        };
        // swr_convert directly: the frame-based call compares channel layouts field by field
        // and refuses files that carry none (plain PCM WAV).
        let samples = frame.samples();
        // SAFETY: the context is initialised for this frame's format; extended_data holds
        // `samples` samples per channel; the output buffer has room for `room` samples of
        // `channels` channels.
        unsafe {
            let room = ffmpeg::ffi::swr_get_out_samples(r.as_mut_ptr(), samples as i32).max(0)
                as usize
                + 32;
            let start = out.len();
            out.resize(start + room * channels, 0.0);
            let mut out_ptr = out[start..].as_mut_ptr() as *mut u8;
            let n = ffmpeg::ffi::swr_convert(
                r.as_mut_ptr(),
                &mut out_ptr,
                room as i32,
                (*frame.as_ptr()).extended_data as *mut *const u8,
                samples as i32,
            );
            if n < 0 {
                out.truncate(start);
                return Err(corrupt("audio resampling failed"));
            }
            out.truncate(start + n as usize * channels);
        }
        Ok(())
    }

    /// Appends what the resampler still holds (a mono output's last samples).
    fn flush(&mut self, out: &mut Vec<f32>) {
        if let Some(r) = self.resampler.as_mut()
            && self.mono_at.is_some()
        {
            // SAFETY: flushing with no input; the buffer has room for `room` mono samples.
            unsafe {
                let room = 16_384usize;
                let start = out.len();
                out.resize(start + room, 0.0);
                let mut out_ptr = out[start..].as_mut_ptr() as *mut u8;
                let n = ffmpeg::ffi::swr_convert(
                    r.as_mut_ptr(),
                    &mut out_ptr,
                    room as i32,
                    std::ptr::null_mut(),
                    0,
                );
                out.truncate(start + n.max(0) as usize);
            }
        }
    }
}

/// What hears a file's audio while it decodes, at its own rate and channels, without it being
/// kept (the extractors' meters).
pub trait AudioTap {
    /// The stream's rate and channels; false: nothing wants them.
    fn open(&mut self, rate: u32, channels: u32) -> bool;
    /// Interleaved samples in -1..1.
    fn push(&mut self, samples: &[f32]);
}

/// No tap.
pub struct NoTap;

impl AudioTap for NoTap {
    fn open(&mut self, _: u32, _: u32) -> bool {
        false
    }
    fn push(&mut self, _: &[f32]) {}
}

/// The decoded audio: 16 kHz mono kept, the stream's own samples handed to the tap.
struct AudioOut<'t> {
    mono: ToF32,
    pcm: Vec<f32>,
    tap: &'t mut dyn AudioTap,
    /// None until the first frame: then whether the tap is open.
    native: Option<Option<ToF32>>,
    buf: Vec<f32>,
}

impl AudioOut<'_> {
    fn push(&mut self, frame: &ffmpeg::frame::Audio) -> Result<(), ProbeError> {
        self.mono.push(frame, &mut self.pcm)?;
        let native = self.native.get_or_insert_with(|| {
            self.tap
                .open(frame.rate(), frame.channels() as u32)
                .then(|| ToF32::new(None))
        });
        if let Some(native) = native {
            native.push(frame, &mut self.buf)?;
            self.tap.push(&self.buf);
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> Vec<f32> {
        self.mono.flush(&mut self.pcm);
        self.pcm
    }
}

/// Demuxers that turn text into pictures.
const TEXT_FORMATS: &[&str] = &["tty", "bin", "xbin", "adf", "idf"];

fn is_image_format(format: &str) -> bool {
    format == "image2" || format.ends_with("_pipe") || format == "webp"
}

/// Picture formats that may hold an animation: every frame decodes (each may change only part
/// of the picture), and one with more than one frame is indexed as a short video.
const ANIMATIONS: &[&str] = &["gif", "apng"];

fn decode_ffmpeg(
    path: &Path,
    policy: &DecodePolicy,
    tap: &mut dyn AudioTap,
) -> Result<Decoded, ProbeError> {
    let mut ictx = ffmpeg::format::input(path).map_err(crate::probe::classify_open_error)?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let format = ictx.format().name().to_string();
    // FFmpeg renders text files (and ANSI art) as video: they are not media.
    if TEXT_FORMATS.contains(&format.as_str()) {
        return Err(ProbeError::NotMedia(format!(
            "a text file (FFmpeg reads it as {format})"
        )));
    }
    let animation = ANIMATIONS.contains(&format.as_str());
    let video = ictx
        .streams()
        .filter(|s| s.parameters().medium() == Type::Video)
        .find(|s| {
            !s.disposition()
                .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
        })
        .map(|s| s.index());
    let audio_idx = ictx.streams().best(Type::Audio).map(|s| s.index());
    if video.is_none() && audio_idx.is_none() {
        return Err(ProbeError::NotMedia(format!(
            "no audio or video stream (container {format})"
        )));
    }
    let single_thread = |ctx: &mut ffmpeg::codec::context::Context| {
        ctx.set_threading(ffmpeg::codec::threading::Config {
            kind: ffmpeg::codec::threading::Type::None,
            count: 1,
            ..Default::default()
        });
    };
    let mut vdec = match video {
        Some(i) => {
            let st = ictx.stream(i).expect("stream of this context");
            let mut ctx = ffmpeg::codec::context::Context::from_parameters(st.parameters())
                .map_err(|e| corrupt(format!("unusable video stream: {e}")))?;
            single_thread(&mut ctx);
            let mut d = ctx
                .decoder()
                .video()
                .map_err(|e| corrupt(format!("no video decoder: {e}")))?;
            if !animation {
                d.skip_frame(ffmpeg::codec::discard::Discard::NonKey);
            }
            Some((i, d, st.time_base()))
        }
        None => None,
    };
    let mut adec = match audio_idx.filter(|_| policy.audio) {
        Some(i) => {
            let st = ictx.stream(i).expect("stream of this context");
            let mut ctx = ffmpeg::codec::context::Context::from_parameters(st.parameters())
                .map_err(|e| corrupt(format!("unusable audio stream: {e}")))?;
            single_thread(&mut ctx);
            ctx.decoder().audio().ok().map(|d| (i, d))
        }
        None => None,
    };
    let mut meta = ContentMeta {
        format: Some(format.clone()),
        ..ContentMeta::default()
    };
    meta.video_codec = video
        .and_then(|i| ictx.stream(i))
        .map(|s| s.parameters().id().name().to_string());
    meta.audio_codec = audio_idx
        .and_then(|i| ictx.stream(i))
        .map(|s| s.parameters().id().name().to_string());
    let duration = (ictx.duration() > 0).then(|| ictx.duration() as f64 / 1_000_000.0);
    let policy = &spread_over(policy, duration);
    let image = video.is_some() && is_image_format(&format);
    meta.taken = ictx
        .metadata()
        .get("creation_time")
        .and_then(crate::probe::parse_rfc3339);

    let mut to_rgb = ToRgb {
        scaler: None,
        max_side: policy.max_side,
    };
    let mut mono = AudioOut {
        mono: ToF32::new(Some(16_000)),
        pcm: Vec::new(),
        tap,
        native: None,
        buf: Vec::new(),
    };
    let mut frames: Vec<Frame> = Vec::new();
    let mut keyframes_seen = 0usize;
    let mut latest = 0.0f64;
    let mut last_error: Option<String> = None;
    let mut vframe = ffmpeg::frame::Video::empty();
    let mut aframe = ffmpeg::frame::Audio::empty();
    let mut audio_packets = 0usize;
    let mut audio_errors = 0usize;
    let want_more_video =
        |frames: &Vec<Frame>| (!image || frames.is_empty()) && frames.len() < policy.max_frames;

    let mut receive_video = |d: &mut ffmpeg::decoder::Video,
                             tb: ffmpeg::Rational,
                             frames: &mut Vec<Frame>,
                             to_rgb: &mut ToRgb|
     -> Result<(), ProbeError> {
        while d.receive_frame(&mut vframe).is_ok() {
            keyframes_seen += 1;
            if vframe.width() as u64 * vframe.height() as u64 > policy.max_pixels {
                return Err(corrupt(format!(
                    "{}x{} pixels is over the {} megapixel limit",
                    vframe.width(),
                    vframe.height(),
                    policy.max_pixels / 1_000_000
                )));
            }
            let time = vframe
                .timestamp()
                .or(vframe.pts())
                .map(|t| t as f64 * f64::from(tb))
                .unwrap_or(0.0)
                .max(0.0);
            latest = latest.max(time);
            if image && !frames.is_empty() {
                continue;
            }
            if frames
                .last()
                .is_some_and(|l| time - l.time < policy.min_interval)
                || frames.len() >= policy.max_frames
            {
                continue;
            }
            let rgb = to_rgb.convert(&vframe)?;
            frames.push(Frame { time, image: rgb });
        }
        Ok(())
    };

    for (stream, packet) in ictx.packets() {
        let idx = stream.index();
        if let Some((vi, d, tb)) = vdec.as_mut()
            && idx == *vi
        {
            if !want_more_video(&frames) || !packet.is_key() && !image && !animation {
                continue;
            }
            if let Err(e) = d.send_packet(&packet) {
                last_error = Some(e.to_string());
                continue;
            }
            receive_video(d, *tb, &mut frames, &mut to_rgb)?;
            if image && !frames.is_empty() && adec.is_none() {
                break;
            }
        } else if let Some((ai, d)) = adec.as_mut()
            && idx == *ai
        {
            audio_packets += 1;
            if d.send_packet(&packet).is_err() {
                audio_errors += 1;
                continue;
            }
            while d.receive_frame(&mut aframe).is_ok() {
                mono.push(&aframe)?;
            }
        }
    }
    if let Some((_, d, tb)) = vdec.as_mut() {
        let _ = d.send_eof();
        receive_video(d, *tb, &mut frames, &mut to_rgb)?;
    }
    if let Some((_, d)) = adec.as_mut() {
        let _ = d.send_eof();
        while d.receive_frame(&mut aframe).is_ok() {
            mono.push(&aframe)?;
        }
    }
    let pcm = mono.finish();
    if let Some((vi, d, tb)) = vdec.as_mut()
        && !image
        && !animation
        && !frames.is_empty()
    {
        fill_gaps(
            &mut ictx,
            *vi,
            d,
            *tb,
            &mut frames,
            duration.unwrap_or(0.0),
            policy,
            &mut to_rgb,
        )?;
    }

    // A video whose pictures do not decode is damaged, even if its sound does.
    if video.is_some() && frames.is_empty() {
        return Err(corrupt(match last_error {
            Some(e) => format!("damaged or truncated, no frame decodes ({e})"),
            None => "damaged or truncated, no frame decodes".into(),
        }));
    }
    if video.is_none() && pcm.is_empty() && (audio_packets == 0 || audio_errors == audio_packets) {
        return Err(corrupt("damaged or truncated, no audio decodes"));
    }
    // An animation of one frame is a still.
    let image = image || animation && keyframes_seen <= 1;
    let duration = match duration {
        Some(d) => Some(d),
        None if animation && latest > 0.0 => Some(latest),
        None => None,
    };

    // Upright: a still by its EXIF orientation, a video by its display matrix. Where: a still's
    // EXIF GPS, a video's ISO 6709 location (QuickTime's key, or MP4's ©xyz as FFmpeg names it).
    let exif = image.then(|| crate::probe::read_exif(path)).flatten();
    if image {
        still_meta(&mut meta, exif.as_ref(), path);
    } else {
        meta.location = ["com.apple.quicktime.location.ISO6709", "location"]
            .iter()
            .find_map(|k| ictx.metadata().get(k).and_then(crate::geo::iso6709));
        let tags = ictx.metadata();
        meta.pair_id = tags
            .get("com.apple.quicktime.content.identifier")
            .map(str::to_string);
        // What filmed it: QuickTime's keys (iPhones), Android's, or MP4's plain tags.
        let first = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| tags.get(k))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let camera = crate::camera::Tags {
            make: first(&[
                "com.apple.quicktime.make",
                "com.android.manufacturer",
                "make",
            ]),
            model: first(&["com.apple.quicktime.model", "com.android.model", "model"]),
            ..Default::default()
        };
        meta.camera = crate::camera::describe_tags(camera, path);
    }
    let o = if image {
        exif.as_ref().and_then(exif_orientation).unwrap_or(1)
    } else {
        video
            .and_then(|i| ictx.stream(i))
            .and_then(|s| stream_orientation(&s, path))
            .unwrap_or(1)
    };
    if o != 1 {
        for f in &mut frames {
            f.image = orient(std::mem::take(&mut f.image), o);
        }
    }
    if let Some(f) = frames.first() {
        let (_, d, _) = vdec.as_ref().expect("frames come from the video decoder");
        let (mut w, mut h) = (d.width(), d.height());
        if o >= 5 {
            std::mem::swap(&mut w, &mut h);
        }
        meta.width = Some(if w > 0 { w } else { f.image.width });
        meta.height = Some(if h > 0 { h } else { f.image.height });
    }
    meta.kind = Some(if image {
        MediaKind::Image
    } else if video.is_some() {
        MediaKind::Video
    } else {
        MediaKind::Audio
    });
    meta.duration = if image { None } else { duration };
    Ok(Decoded {
        meta,
        frames,
        audio: (!pcm.is_empty()).then_some(pcm),
    })
}

/// The orientation a video stream's display matrix asks for; None without one, or (logged)
/// when it is not a turn by a multiple of 90 degrees, which leaves the frames as stored.
fn stream_orientation(stream: &ffmpeg::format::stream::Stream, path: &Path) -> Option<u32> {
    let side = stream
        .side_data()
        .find(|d| d.kind() == ffmpeg::packet::side_data::Type::DisplayMatrix)?;
    let bytes = side.data();
    if bytes.len() < 36 {
        tracing::warn!(path = %path.display(), "display matrix of {} bytes, not 36: ignored", bytes.len());
        return None;
    }
    let mut m = [0i32; 9];
    for (v, b) in m.iter_mut().zip(bytes.chunks_exact(4)) {
        *v = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    }
    display_matrix_orientation(&m)
        .map_err(|e| tracing::warn!(path = %path.display(), "{e}: frames kept as stored"))
        .ok()
}

/// The policy for a file of this duration: when `max_frames` at `min_interval` would not reach
/// the end, frames are taken further apart (and gaps filled no closer) so that they do.
fn spread_over(policy: &DecodePolicy, duration: Option<f64>) -> DecodePolicy {
    let mut p = policy.clone();
    if let Some(d) = duration.filter(|d| d.is_finite()) {
        p.min_interval = p.min_interval.max(d / p.max_frames.max(1) as f64);
        p.max_gap = p.max_gap.max(p.min_interval);
    }
    p
}

/// Times inside gaps longer than `max_gap` between kept frames (and before the end).
fn gap_targets(times: &[f64], end: f64, max_gap: f64) -> Vec<f64> {
    let mut bounds = times.to_vec();
    bounds.push(end.max(times.last().copied().unwrap_or(0.0)));
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let mut t = w[0] + max_gap;
        while t < w[1] - 1e-6 {
            out.push(t);
            t += max_gap;
        }
    }
    out
}

/// Long GOPs: decodes frames at the gap targets, seeking to the keyframe before each and
/// decoding forward (the only place non-key frames are decoded).
#[allow(clippy::too_many_arguments)]
fn fill_gaps(
    ictx: &mut ffmpeg::format::context::Input,
    vi: usize,
    dec: &mut ffmpeg::decoder::Video,
    tb: ffmpeg::Rational,
    frames: &mut Vec<Frame>,
    duration: f64,
    policy: &DecodePolicy,
    to_rgb: &mut ToRgb,
) -> Result<(), ProbeError> {
    let times: Vec<f64> = frames.iter().map(|f| f.time).collect();
    let targets = gap_targets(&times, duration, policy.max_gap);
    if targets.is_empty() {
        return Ok(());
    }
    dec.skip_frame(ffmpeg::codec::discard::Discard::Default);
    let mut frame = ffmpeg::frame::Video::empty();
    for t in targets {
        if frames.len() >= policy.max_frames {
            break;
        }
        let ts = (t * 1_000_000.0) as i64;
        if ictx.seek(ts, ..ts).is_err() {
            continue;
        }
        dec.flush();
        'packets: for (s, p) in ictx.packets() {
            if s.index() != vi || dec.send_packet(&p).is_err() {
                continue;
            }
            while dec.receive_frame(&mut frame).is_ok() {
                let time = frame
                    .timestamp()
                    .or(frame.pts())
                    .map(|x| x as f64 * f64::from(tb))
                    .unwrap_or(0.0);
                if time + 1e-3 >= t {
                    frames.push(Frame {
                        time,
                        image: to_rgb.convert(&frame)?,
                    });
                    break 'packets;
                }
            }
        }
    }
    frames.sort_by(|a, b| a.time.total_cmp(&b.time));
    frames.dedup_by(|a, b| (a.time - b.time).abs() < 1e-3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    pub(super) fn ffmpeg_cli(args: &[&str]) {
        let ok = Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y"])
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ffmpeg {args:?}");
    }

    #[test]
    fn text_files_are_not_media() {
        let dir = tempfile::tempdir().unwrap();
        let txt = dir.path().join("LICENSE.txt");
        let text = "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
            .repeat(40);
        std::fs::write(&txt, text).unwrap();
        assert!(matches!(
            decode(&txt, &DecodePolicy::default()),
            Err(ProbeError::NotMedia(_))
        ));
    }

    #[test]
    fn gap_targets_fill_long_gops() {
        assert_eq!(gap_targets(&[0.0, 25.0], 30.0, 10.0), vec![10.0, 20.0]);
        assert!(gap_targets(&[0.0, 5.0], 9.0, 10.0).is_empty());
    }

    #[test]
    fn keyframes_only_with_times_and_audio_at_16k() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        // 6 s, a keyframe every second (25 frames), and a tone.
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440",
            "-t",
            "6",
            "-g",
            "25",
            "-pix_fmt",
            "yuv420p",
            "-shortest",
            clip.to_str().unwrap(),
        ]);
        let before = DECODE_OPENS.load(Ordering::Relaxed);
        let d = decode(&clip, &DecodePolicy::default()).unwrap();
        assert_eq!(d.meta.kind, Some(MediaKind::Video));
        let times: Vec<f64> = d
            .frames
            .iter()
            .map(|f| (f.time * 10.0).round() / 10.0)
            .collect();
        assert_eq!(times, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(
            (d.frames[0].image.width, d.frames[0].image.height),
            (320, 240)
        );
        let audio = d.audio.unwrap();
        assert!(
            (audio.len() as f64 / 16_000.0 - 6.0).abs() < 0.2,
            "{}",
            audio.len()
        );
        assert!(DECODE_OPENS.load(Ordering::Relaxed) - before >= 1);
        // At most one frame every 2 s.
        let sparse = decode(
            &clip,
            &DecodePolicy {
                min_interval: 2.0,
                ..DecodePolicy::default()
            },
        )
        .unwrap();
        assert_eq!(sparse.frames.len(), 3);
    }

    #[test]
    fn plain_pcm_wav_without_a_channel_layout() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("tone.wav");
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            "2",
            wav.to_str().unwrap(),
        ]);
        let d = decode(&wav, &DecodePolicy::default()).unwrap();
        assert_eq!(d.meta.kind, Some(MediaKind::Audio));
        let pcm = d.audio.unwrap();
        assert!((pcm.len() as i64 - 32_000).abs() < 200, "{}", pcm.len());
        let rms = (pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len() as f32).sqrt();
        assert!(rms > 0.05, "the tone survives resampling: {rms}");
    }

    /// A 160x120 test-pattern clip of `secs` seconds at 10 fps, a keyframe every `gop` frames;
    /// the seconds of the frames `policy` decodes from it.
    fn frame_times(secs: u32, gop: u32, policy: &DecodePolicy) -> Vec<i64> {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("clip.mp4");
        let (secs, gop) = (secs.to_string(), gop.to_string());
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            &secs,
            "-g",
            &gop,
            "-pix_fmt",
            "yuv420p",
            clip.to_str().unwrap(),
        ]);
        let d = decode(&clip, policy).unwrap();
        d.frames.iter().map(|f| f.time.round() as i64).collect()
    }

    #[test]
    fn a_video_longer_than_the_frame_cap_gets_frames_to_its_end() {
        let policy = DecodePolicy {
            max_frames: 5,
            ..DecodePolicy::default()
        };
        assert_eq!(
            frame_times(20, 10, &policy),
            vec![0, 4, 8, 12, 16],
            "5 frames, 4 s apart, not 0-4 s"
        );
    }

    #[test]
    fn long_gops_get_a_frame_every_max_gap() {
        let policy = DecodePolicy {
            max_gap: 4.0,
            ..DecodePolicy::default()
        };
        let times = frame_times(12, 1000, &policy);
        assert_eq!(
            times,
            vec![0, 4, 8],
            "one keyframe at 0, then frames every 4 s"
        );
    }

    #[test]
    fn jpeg_orientation_and_pixel_cap() {
        let dir = tempfile::tempdir().unwrap();
        let jpg = dir.path().join("wide.jpg");
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x32",
            "-frames:v",
            "1",
            jpg.to_str().unwrap(),
        ]);
        let d = decode(&jpg, &DecodePolicy::default()).unwrap();
        assert_eq!(
            (d.frames[0].image.width, d.frames[0].image.height),
            (64, 32)
        );
        assert_eq!(
            (d.meta.width, d.meta.height, d.meta.kind),
            (Some(64), Some(32), Some(MediaKind::Image))
        );
        let err = decode(
            &jpg,
            &DecodePolicy {
                max_pixels: 1000,
                ..DecodePolicy::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("megapixel limit"), "{err}");
    }

    /// Whether the pixel at (x, y) is mostly red (else mostly blue).
    fn red_at(img: &RgbImage, x: u32, y: u32) -> bool {
        let i = ((y * img.width + x) * 3) as usize;
        img.data[i] > 150 && img.data[i + 2] < 100
    }

    fn run(cmd: &str, args: &[&str]) {
        let ok = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{cmd} (scripts/setup.sh installs it): {e}"))
            .status
            .success();
        assert!(ok, "{cmd} {args:?}");
    }

    #[test]
    fn animations_are_short_videos_and_single_frames_stills() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let policy = DecodePolicy::default();
        let src = "testsrc=s=160x120:d=4:r=5";
        ffmpeg_cli(&["-f", "lavfi", "-i", src, &p("a.gif")]);
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            src,
            "-plays",
            "0",
            "-f",
            "apng",
            &p("a.png"),
        ]);
        ffmpeg_cli(&["-f", "lavfi", "-i", src, "-frames:v", "1", &p("one.gif")]);
        // Red, green, blue, a second each (img2webp, as animated WebPs are made).
        for (i, c) in ["red", "green", "blue"].iter().enumerate() {
            let still = p(&format!("{i}.png"));
            ffmpeg_cli(&[
                "-f",
                "lavfi",
                "-i",
                &format!("color={c}:s=64x48"),
                "-frames:v",
                "1",
                &still,
            ]);
        }
        let (f0, f1, f2, webp) = (p("0.png"), p("1.png"), p("2.png"), p("a.webp"));
        run(
            "img2webp",
            &[
                "-loop",
                "0",
                "-d",
                "1000",
                "-lossless",
                &f0,
                &f1,
                &f2,
                "-o",
                &webp,
            ],
        );
        for (name, frames, secs) in [("a.gif", 4, 4.0), ("a.png", 4, 3.8), ("a.webp", 3, 3.0)] {
            let d = decode(Path::new(&p(name)), &policy).unwrap();
            assert_eq!(d.meta.kind, Some(MediaKind::Video), "{name}");
            let times: Vec<f64> = d.frames.iter().map(|f| f.time.round()).collect();
            assert_eq!(times.len(), frames, "{name}: {times:?}");
            assert_eq!(times[1], 1.0, "{name}: a frame a second");
            let got = d.meta.duration.unwrap();
            assert!((got - secs).abs() < 0.05, "{name}: {got} s");
        }
        let webp = decode(Path::new(&webp), &policy).unwrap();
        let px = |i: usize| webp.frames[i].image.data[..3].to_vec();
        assert_eq!(
            (px(0)[0] > 200, px(1)[1] > 100, px(2)[2] > 200),
            (true, true, true)
        );
        let one = decode(Path::new(&p("one.gif")), &policy).unwrap();
        assert_eq!(
            (one.meta.kind, one.meta.duration),
            (Some(MediaKind::Image), None)
        );
    }

    #[test]
    fn transparent_pixels_are_white_in_png_and_webp() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        // Opaque red on the left, fully transparent (red underneath) on the right.
        let mask = "color=c=red:s=64x32,format=rgba,geq=r=255:g=0:b=0:a='if(lt(X,32),255,0)'";
        ffmpeg_cli(&["-f", "lavfi", "-i", mask, "-frames:v", "1", &p("a.png")]);
        run(
            "cwebp",
            &[
                "-quiet",
                "-lossless",
                "-exact",
                &p("a.png"),
                "-o",
                &p("a.webp"),
            ],
        );
        for name in ["a.png", "a.webp"] {
            let d = decode(Path::new(&p(name)), &DecodePolicy::default()).unwrap();
            let img = &d.frames[0].image;
            let at = |x: usize| img.data[(16 * img.width as usize + x) * 3..][..3].to_vec();
            assert_eq!(at(8), [255, 0, 0], "{name}: opaque stays red");
            assert_eq!(at(56), [255, 255, 255], "{name}: transparent is white");
        }
    }

    #[test]
    fn sixteen_bit_and_big_tiffs_decode_like_the_8_bit_picture() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
        let src = "testsrc=s=320x240";
        ffmpeg_cli(&["-f", "lavfi", "-i", src, "-frames:v", "1", &p("8.png")]);
        ffmpeg_cli(&["-i", &p("8.png"), "-pix_fmt", "rgb48le", &p("16.tif")]);
        run("tiffcp", &["-8", &p("16.tif"), &p("big16.tif")]);
        let policy = DecodePolicy::default();
        let want = decode(Path::new(&p("8.png")), &policy).unwrap();
        for name in ["16.tif", "big16.tif"] {
            let d = decode(Path::new(&p(name)), &policy).unwrap();
            assert_eq!(
                (d.meta.width, d.meta.height),
                (Some(320), Some(240)),
                "{name}"
            );
            let (a, b) = (&d.frames[0].image.data, &want.frames[0].image.data);
            let diff = a
                .iter()
                .zip(b)
                .map(|(x, y)| x.abs_diff(*y) as u64)
                .sum::<u64>();
            assert!(
                diff / (a.len() as u64) < 2,
                "{name}: mean difference {}",
                diff / a.len() as u64
            );
        }
        assert_eq!(
            decode(Path::new(&p("big16.tif")), &policy)
                .unwrap()
                .meta
                .format
                .as_deref(),
            Some("bigtiff")
        );
    }

    /// A 96x128 picture, red above blue, as `name` (PNG or JPEG by its extension).
    fn red_over_blue(name: &Path) {
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "color=red:s=96x64",
            "-f",
            "lavfi",
            "-i",
            "color=blue:s=96x64",
            "-filter_complex",
            "[0][1]vstack",
            "-frames:v",
            "1",
            name.to_str().unwrap(),
        ]);
    }

    #[test]
    fn heic_and_avif_decode_upright_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        red_over_blue(&p("up.png"));
        // As heif-enc makes them from a JPEG: upright, and turned with EXIF orientation 6.
        ffmpeg_cli(&[
            "-i",
            p("up.png").to_str().unwrap(),
            p("up.jpg").to_str().unwrap(),
        ]);
        ffmpeg_cli(&[
            "-i",
            p("up.png").to_str().unwrap(),
            "-vf",
            "transpose=cclock",
            p("side.jpg").to_str().unwrap(),
        ]);
        run(
            "exiftool",
            &[
                "-q",
                "-overwrite_original",
                "-Orientation#=6",
                p("side.jpg").to_str().unwrap(),
            ],
        );
        for (src, out) in [
            ("up.jpg", "IMG_1.HEIC"),
            ("side.jpg", "IMG_2.HEIC"),
            ("up.png", "a.avif"),
        ] {
            run(
                "heif-enc",
                &[
                    "-q",
                    "90",
                    p(src).to_str().unwrap(),
                    "-o",
                    p(out).to_str().unwrap(),
                ],
            );
            let d = decode(&p(out), &DecodePolicy::default()).unwrap();
            let img = &d.frames[0].image;
            assert_eq!((img.width, img.height), (96, 128), "{out}");
            assert!(red_at(img, 48, 10) && !red_at(img, 48, 118), "{out}");
            assert_eq!(d.meta.kind, Some(MediaKind::Image));
            let format = if out.ends_with("avif") {
                "avif"
            } else {
                "heif"
            };
            assert_eq!(d.meta.format.as_deref(), Some(format));
        }
        // Truncated, and an ftyp that promises HEIC followed by noise.
        let bytes = std::fs::read(p("IMG_1.HEIC")).unwrap();
        std::fs::write(p("cut.heic"), &bytes[..bytes.len() / 2]).unwrap();
        let mut noise = bytes[..32].to_vec();
        noise.extend((0..4000u32).map(|i| (i * 7919 % 251) as u8));
        std::fs::write(p("noise.heic"), noise).unwrap();
        for bad in ["cut.heic", "noise.heic"] {
            match decode(&p(bad), &DecodePolicy::default()) {
                Err(ProbeError::Corrupt(m)) => assert!(m.contains("damaged HEIF"), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_portrait_phone_video_stands_upright() {
        let dir = tempfile::tempdir().unwrap();
        // Upright: 96x128, red above blue. Stored as phones do: turned a quarter anticlockwise
        // (128x96, red on the left), HEVC in MOV, with a display matrix that turns it back.
        let mov = dir.path().join("IMG_0001.MOV");
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "color=red:s=96x64:d=2",
            "-f",
            "lavfi",
            "-i",
            "color=blue:s=96x64:d=2",
            "-filter_complex",
            "[0][1]vstack,transpose=cclock,format=yuv420p",
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
            mov.to_str().unwrap(),
        ]);
        // The display matrix, written the way exiftool writes QuickTime's Rotation tag.
        let ok = Command::new("exiftool")
            .args(["-q", "-overwrite_original", "-Rotation=90"])
            .arg(&mov)
            .status()
            .expect("exiftool (scripts/setup.sh installs it)")
            .success();
        assert!(ok, "exiftool -Rotation=90");
        // FFmpeg's own player view, as the reference.
        let shown = dir.path().join("shown.png");
        ffmpeg_cli(&[
            "-i",
            mov.to_str().unwrap(),
            "-frames:v",
            "1",
            shown.to_str().unwrap(),
        ]);
        let reference = decode(&shown, &DecodePolicy::default()).unwrap();
        let d = decode(&mov, &DecodePolicy::default()).unwrap();
        for (who, img) in [
            ("ffmpeg", &reference.frames[0].image),
            ("vx", &d.frames[0].image),
        ] {
            assert_eq!((img.width, img.height), (96, 128), "{who}");
            assert!(red_at(img, 48, 10) && !red_at(img, 48, 118), "{who}");
        }
        assert_eq!((d.meta.width, d.meta.height), (Some(96), Some(128)));
    }

    #[test]
    fn damaged_jpeg_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let jpg = dir.path().join("photo.jpg");
        ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48",
            "-frames:v",
            "1",
            jpg.to_str().unwrap(),
        ]);
        let bytes = std::fs::read(&jpg).unwrap();
        std::fs::write(&jpg, &bytes[..40]).unwrap();
        assert!(decode(&jpg, &DecodePolicy::default()).is_err());
    }
}

#[cfg(test)]
mod probe_tests {
    use super::*;
    use crate::store::ContentMeta;

    fn probe(p: &std::path::Path) -> Result<ContentMeta, ProbeError> {
        decode(p, &DecodePolicy::default()).map(|d| d.meta)
    }

    #[test]
    fn kinds_come_from_content_not_extension() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("clip.mp4");
        let image = dir.path().join("photo.jpg");
        let audio = dir.path().join("memo.wav");
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "2",
            video.to_str().unwrap(),
        ]);
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48",
            "-frames:v",
            "1",
            image.to_str().unwrap(),
        ]);
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300",
            "-t",
            "1.5",
            audio.to_str().unwrap(),
        ]);

        let v = probe(&video).unwrap();
        assert_eq!(
            (v.kind, v.width, v.height),
            (Some(MediaKind::Video), Some(160), Some(120))
        );
        assert!((v.duration.unwrap() - 2.0).abs() < 0.2, "{:?}", v.duration);
        let i = probe(&image).unwrap();
        assert_eq!((i.kind, i.width), (Some(MediaKind::Image), Some(64)));
        let a = probe(&audio).unwrap();
        assert_eq!(a.kind, Some(MediaKind::Audio));
        assert_eq!(a.audio_codec.as_deref(), Some("pcm_s16le"));

        // A JPEG named .mp4 is still an image.
        let disguised = dir.path().join("not-a-video.mp4");
        std::fs::copy(&image, &disguised).unwrap();
        assert_eq!(probe(&disguised).unwrap().kind, Some(MediaKind::Image));
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.jpg");
        std::fs::write(
            &junk,
            (0..4096u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(probe(&junk).is_err());
        let video = dir.path().join("clip.mp4");
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "2",
            video.to_str().unwrap(),
        ]);
        let bytes = std::fs::read(&video).unwrap();
        let cut = dir.path().join("cut.mp4");
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        assert!(
            probe(&cut).is_err(),
            "a truncated mp4 (no moov) must not probe as media"
        );
    }

    #[test]
    fn container_creation_time_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("dated.mp4");
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=5",
            "-t",
            "1",
            "-metadata",
            "creation_time=2021-07-14T09:30:00Z",
            video.to_str().unwrap(),
        ]);
        assert_eq!(probe(&video).unwrap().taken, Some(1626255000));
    }

    /// An APP1 Exif segment holding only DateTimeOriginal (big-endian TIFF).
    fn exif_segment(date: &str) -> Vec<u8> {
        let mut tiff: Vec<u8> = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
        // IFD0: one entry, ExifIFDPointer (0x8769) -> offset 26.
        tiff.extend_from_slice(&[0, 1, 0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
        // Exif IFD at 26: one entry, DateTimeOriginal (0x9003), ASCII, 20 bytes at offset 44.
        tiff.extend_from_slice(&[0, 1, 0x90, 0x03, 0, 2, 0, 0, 0, 20, 0, 0, 0, 44, 0, 0, 0, 0]);
        tiff.extend_from_slice(date.as_bytes());
        tiff.push(0);
        let mut seg = vec![0xff, 0xe1];
        seg.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        seg.extend_from_slice(b"Exif\0\0");
        seg.extend_from_slice(&tiff);
        seg
    }

    #[test]
    fn exif_date_is_read_from_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.jpg");
        super::tests::ffmpeg_cli(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48",
            "-frames:v",
            "1",
            plain.to_str().unwrap(),
        ]);
        let jpeg = std::fs::read(&plain).unwrap();
        let mut with_exif = jpeg[..2].to_vec(); // SOI
        with_exif.extend(exif_segment("2018:03:04 05:06:07"));
        with_exif.extend_from_slice(&jpeg[2..]);
        let photo = dir.path().join("photo.jpg");
        std::fs::write(&photo, with_exif).unwrap();
        let meta = probe(&photo).unwrap();
        assert_eq!(meta.kind, Some(MediaKind::Image));
        assert_eq!(meta.taken, Some(1520139967));
        assert_eq!(probe(&plain).unwrap().taken, None);
    }
}
