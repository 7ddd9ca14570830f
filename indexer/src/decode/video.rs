//! Video (and the pictures and animations FFmpeg reads): keyframes only, plus the sampling
//! policy's frames in long gaps, each converted to RGB at a bounded size.

use std::path::Path;
use std::sync::atomic::Ordering;

use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg_next as ffmpeg;
use vx_models::RgbImage;

use super::audio::{AudioOut, AudioTap};
use super::{
    DECODE_OPENS, DecodePolicy, Decoded, Frame, corrupt, over_white, scaled_size, still_meta,
};
use crate::media::MediaKind;
use crate::orientation::{display_matrix_orientation, exif_orientation, orient};
use crate::probe::ProbeError;
use crate::store::ContentMeta;

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

/// Demuxers that turn text into pictures.
const TEXT_FORMATS: &[&str] = &["tty", "bin", "xbin", "adf", "idf"];

fn is_image_format(format: &str) -> bool {
    format == "image2" || format.ends_with("_pipe") || format == "webp"
}

/// Picture formats that may hold an animation: every frame decodes (each may change only part
/// of the picture), and one with more than one frame is indexed as a short video.
const ANIMATIONS: &[&str] = &["gif", "apng"];

pub(super) fn decode_ffmpeg(
    path: &Path,
    policy: &DecodePolicy,
    tap: &mut dyn AudioTap,
) -> Result<Decoded, ProbeError> {
    // ffmpeg-next takes a path as UTF-8 and panics on other bytes ("caf\xe9.png" from an old
    // camera or a Windows share): such a file is opened here and named by its descriptor.
    let opened;
    let by_fd;
    let path = if path.to_str().is_some() {
        path
    } else {
        opened = std::fs::File::open(path).map_err(|e| ProbeError::Io(e.to_string()))?;
        by_fd = std::path::PathBuf::from(format!(
            "/dev/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&opened)
        ));
        by_fd.as_path()
    };
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
    let (mut vdec, mut adec) =
        open_decoders(&ictx, video, audio_idx.filter(|_| policy.audio), animation)?;
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
    let mut mono = AudioOut::new(tap);
    // The other audio tracks, for a tap that measures every one (tracks 1.. in stream order).
    let mut others: Vec<AudioDecoder> = if adec.is_some() && mono.every_track() {
        ictx.streams()
            .filter(|s| s.parameters().medium() == Type::Audio && Some(s.index()) != audio_idx)
            .filter_map(|s| audio_decoder(&s).ok().flatten().map(|d| (s.index(), d)))
            .collect()
    } else {
        Vec::new()
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
            if !keeps(frames, time, image, policy) {
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
                mono.push(0, &aframe)?;
            }
        } else if let Some(k) = others.iter().position(|(i, _)| *i == idx) {
            let d = &mut others[k].1;
            if d.send_packet(&packet).is_ok() {
                while d.receive_frame(&mut aframe).is_ok() {
                    mono.push(k + 1, &aframe)?;
                }
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
            mono.push(0, &aframe)?;
        }
    }
    for (k, (_, d)) in others.iter_mut().enumerate() {
        let _ = d.send_eof();
        while d.receive_frame(&mut aframe).is_ok() {
            mono.push(k + 1, &aframe)?;
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

    // Upright: a still by its EXIF orientation, a video by its display matrix.
    let exif = image.then(|| crate::probe::read_exif(path)).flatten();
    if image {
        still_meta(&mut meta, exif.as_ref(), path);
    } else {
        movie_meta(&ictx, path, &mut meta);
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

/// A stream's index, its decoder and (video) its time base.
type VideoDecoder = (usize, ffmpeg::decoder::Video, ffmpeg::Rational);
type AudioDecoder = (usize, ffmpeg::decoder::Audio);

/// A video stream's decoder (keyframes only unless it is an animation) and an audio stream's,
/// each on one thread (a worker process has one core).
fn open_decoders(
    ictx: &ffmpeg::format::context::Input,
    video: Option<usize>,
    audio: Option<usize>,
    animation: bool,
) -> Result<(Option<VideoDecoder>, Option<AudioDecoder>), ProbeError> {
    let vdec = match video {
        Some(i) => {
            let st = ictx.stream(i).expect("stream of this context");
            let mut ctx = ffmpeg::codec::context::Context::from_parameters(st.parameters())
                .map_err(|e| corrupt(format!("unusable video stream: {e}")))?;
            one_thread(&mut ctx);
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
    let adec = match audio {
        Some(i) => audio_decoder(&ictx.stream(i).expect("stream of this context"))?.map(|d| (i, d)),
        None => None,
    };
    Ok((vdec, adec))
}

/// A stream's audio decoder on one thread, when FFmpeg has one for it.
fn audio_decoder(
    st: &ffmpeg::format::stream::Stream,
) -> Result<Option<ffmpeg::decoder::Audio>, ProbeError> {
    let mut ctx = ffmpeg::codec::context::Context::from_parameters(st.parameters())
        .map_err(|e| corrupt(format!("unusable audio stream: {e}")))?;
    one_thread(&mut ctx);
    Ok(ctx.decoder().audio().ok())
}

/// A worker process has one core: its decoders use one thread.
fn one_thread(ctx: &mut ffmpeg::codec::context::Context) {
    ctx.set_threading(ffmpeg::codec::threading::Config {
        kind: ffmpeg::codec::threading::Type::None,
        count: 1,
        ..Default::default()
    });
}

/// The sampling policy for one decoded keyframe at `time`, given the frames kept so far: a
/// picture keeps its first frame; a video keeps at most `max_frames`, at least `min_interval`
/// apart.
pub(super) fn keeps(kept: &[Frame], time: f64, image: bool, policy: &DecodePolicy) -> bool {
    let room = kept.len() < policy.max_frames;
    if image {
        return room && kept.is_empty();
    }
    room && kept
        .last()
        .is_none_or(|l| time - l.time >= policy.min_interval)
}

/// What a movie's container says of where (ISO 6709: QuickTime's key, or MP4's ©xyz as FFmpeg
/// names it), its Live Photo pair and what filmed it (QuickTime's keys for iPhones, Android's,
/// or MP4's plain tags).
fn movie_meta(ictx: &ffmpeg::format::context::Input, path: &Path, meta: &mut ContentMeta) {
    let tags = ictx.metadata();
    meta.location = ["com.apple.quicktime.location.ISO6709", "location"]
        .iter()
        .find_map(|k| tags.get(k).and_then(crate::geo::iso6709));
    meta.pair_id = tags
        .get("com.apple.quicktime.content.identifier")
        .map(str::to_string);
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
pub(super) fn gap_targets(times: &[f64], end: f64, max_gap: f64) -> Vec<f64> {
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
