//! Probing with ffmpeg in-process: what a file holds, decided from its content (ffmpeg's probe
//! scores content above extension), checked by decoding one frame of its main stream.

use std::path::Path;
use std::sync::Once;

use ffmpeg::media::Type;
use ffmpeg_next as ffmpeg;
use vx_client::MediaKind;

use crate::store::ContentMeta;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// ffmpeg does not recognise it as media (or it has no decodable stream).
    #[error("{0}")]
    NotMedia(String),
    /// It looks like media but its main stream does not decode.
    #[error("{0}")]
    Corrupt(String),
    /// Reading failed: possibly transient.
    #[error("{0}")]
    Io(String),
}

/// Packets read at most while looking for the first decodable frame.
const MAX_PACKETS_FOR_CHECK: usize = 2000;

/// Containers whose single video frame is a still image.
fn is_image_format(format: &str, codec: &str) -> bool {
    const IMAGE_CODECS: &[&str] = &[
        "mjpeg", "png", "bmp", "tiff", "webp", "gif", "jpeg2000", "jpegxl", "ppm", "pgm", "qoi",
        "hdr", "exr", "dpx", "targa", "sgi",
    ];
    (format == "image2" || format.ends_with("_pipe") || format == "gif" || format == "webp")
        && IMAGE_CODECS.contains(&codec)
        || format.ends_with("_pipe")
}

pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if let Err(e) = ffmpeg::init() {
            tracing::error!("ffmpeg failed to initialise: {e}");
        }
        // ffmpeg writes its own warnings to stderr; errors reach us as return values instead.
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Fatal);
    });
}

pub(crate) fn classify_open_error(e: ffmpeg::Error) -> ProbeError {
    match e {
        ffmpeg::Error::Other { errno } if errno == libc::EACCES || errno == libc::EPERM => {
            ProbeError::Io(format!("permission denied ({e})"))
        }
        ffmpeg::Error::Other { errno } if errno == libc::EIO || errno == libc::ENOENT => {
            ProbeError::Io(e.to_string())
        }
        _ => ProbeError::NotMedia(format!("ffmpeg does not recognise it ({e})")),
    }
}

/// Probes `path`. Time is read from the container's `creation_time` or from EXIF.
pub fn probe(path: &Path) -> Result<ContentMeta, ProbeError> {
    init();
    let mut ictx = ffmpeg::format::input(path).map_err(classify_open_error)?;
    let format = ictx.format().name().to_string();
    let video = ictx
        .streams()
        .filter(|s| s.parameters().medium() == Type::Video)
        .filter(|s| {
            !s.disposition()
                .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
        })
        .max_by_key(|s| {
            let p = s.parameters();
            // Prefer the largest picture.
            unsafe { ((*p.as_ptr()).width as i64) * ((*p.as_ptr()).height as i64) }
        })
        .map(|s| s.index());
    let audio = ictx.streams().best(Type::Audio).map(|s| s.index());
    let main = video.or(audio).ok_or_else(|| {
        ProbeError::NotMedia(format!("no audio or video stream (container {format})"))
    })?;

    let mut meta = ContentMeta {
        format: Some(format.clone()),
        ..ContentMeta::default()
    };
    let codec_name = |idx: usize| -> Option<String> {
        ictx.stream(idx)
            .map(|s| s.parameters().id().name().to_string())
    };
    meta.video_codec = video.and_then(codec_name);
    meta.audio_codec = audio.and_then(codec_name);

    let stream = ictx.stream(main).expect("stream index from this context");
    let mut ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| ProbeError::Corrupt(format!("unusable stream parameters: {e}")))?;
    // One thread is enough to check a frame and avoids a thread pool per probe.
    ctx.set_threading(ffmpeg::codec::threading::Config {
        kind: ffmpeg::codec::threading::Type::None,
        count: 1,
        ..Default::default()
    });
    let decoder = ctx.decoder();
    let duration = (ictx.duration() > 0).then(|| ictx.duration() as f64 / 1_000_000.0);

    if video.is_some() {
        let mut dec = decoder.video().map_err(|e| {
            ProbeError::Corrupt(format!(
                "no decoder for {}: {e}",
                meta.video_codec.as_deref().unwrap_or("?")
            ))
        })?;
        let codec = meta.video_codec.clone().unwrap_or_default();
        let image = is_image_format(&format, &codec);
        let mut frame = ffmpeg::frame::Video::empty();
        decode_first(&mut ictx, main, &mut |packet| {
            if let Some(p) = packet {
                dec.send_packet(p)?;
            } else {
                dec.send_eof()?;
            }
            Ok(dec.receive_frame(&mut frame).is_ok())
        })?;
        meta.width = Some(frame.width()).filter(|w| *w > 0).or(Some(dec.width()));
        meta.height = Some(frame.height())
            .filter(|h| *h > 0)
            .or(Some(dec.height()));
        meta.kind = Some(if image {
            MediaKind::Image
        } else {
            MediaKind::Video
        });
        meta.duration = if image { None } else { duration };
    } else {
        let mut dec = decoder.audio().map_err(|e| {
            ProbeError::Corrupt(format!(
                "no decoder for {}: {e}",
                meta.audio_codec.as_deref().unwrap_or("?")
            ))
        })?;
        let mut frame = ffmpeg::frame::Audio::empty();
        decode_first(&mut ictx, main, &mut |packet| {
            if let Some(p) = packet {
                dec.send_packet(p)?;
            } else {
                dec.send_eof()?;
            }
            Ok(dec.receive_frame(&mut frame).is_ok())
        })?;
        meta.kind = Some(MediaKind::Audio);
        meta.duration = duration;
    }

    meta.taken = ictx
        .metadata()
        .get("creation_time")
        .and_then(parse_rfc3339)
        .or_else(|| {
            (meta.kind == Some(MediaKind::Image))
                .then(|| exif_taken(path))
                .flatten()
        });
    Ok(meta)
}

/// Feeds packets of `stream` to `step` until it reports a decoded frame.
fn decode_first(
    ictx: &mut ffmpeg::format::context::Input,
    stream: usize,
    step: &mut dyn FnMut(Option<&ffmpeg::Packet>) -> Result<bool, ffmpeg::Error>,
) -> Result<(), ProbeError> {
    let mut last_error = None;
    for (n, (s, packet)) in ictx.packets().enumerate() {
        if n >= MAX_PACKETS_FOR_CHECK {
            break;
        }
        if s.index() != stream {
            continue;
        }
        match step(Some(&packet)) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_error = Some(e),
        }
    }
    if let Ok(true) = step(None) {
        return Ok(());
    }
    Err(ProbeError::Corrupt(match last_error {
        Some(e) => format!("damaged or truncated, no frame decodes ({e})"),
        None => "damaged or truncated, no frame decodes".to_string(),
    }))
}

pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
        .filter(|t| *t > 0)
}

/// The EXIF block of a picture, if it has one.
pub(crate) fn read_exif(path: &Path) -> Option<exif::Exif> {
    let file = std::fs::File::open(path).ok()?;
    exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()
}

fn exif_taken(path: &Path) -> Option<i64> {
    read_exif(path).as_ref().and_then(exif_time)
}

/// DateTimeOriginal (else DateTime), read as UTC when no offset is recorded.
pub(crate) fn exif_time(exif: &exif::Exif) -> Option<i64> {
    let field = exif
        .get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        .or_else(|| exif.get_field(exif::Tag::DateTime, exif::In::PRIMARY))?;
    let exif::Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
    let date = time::Date::from_calendar_date(
        dt.year as i32,
        time::Month::try_from(dt.month).ok()?,
        dt.day,
    )
    .ok()?;
    let t = time::Time::from_hms(dt.hour, dt.minute, dt.second).ok()?;
    let offset = dt.offset.unwrap_or(0) as i64 * 60;
    Some(
        time::PrimitiveDateTime::new(date, t)
            .assume_utc()
            .unix_timestamp()
            - offset,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn ffmpeg(args: &[&str]) {
        let ok = Command::new("ffmpeg")
            .args(["-loglevel", "error", "-y"])
            .args(args)
            .status()
            .expect("the ffmpeg CLI (scripts/setup.sh installs it)")
            .success();
        assert!(ok, "ffmpeg {args:?}");
    }

    #[test]
    fn kinds_come_from_content_not_extension() {
        let dir = tempfile::tempdir().unwrap();
        let video = dir.path().join("clip.mp4");
        let image = dir.path().join("photo.jpg");
        let audio = dir.path().join("memo.wav");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "2",
            video.to_str().unwrap(),
        ]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48",
            "-frames:v",
            "1",
            image.to_str().unwrap(),
        ]);
        ffmpeg(&[
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
        ffmpeg(&[
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
        ffmpeg(&[
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
        ffmpeg(&[
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
