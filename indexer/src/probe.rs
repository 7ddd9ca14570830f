//! FFmpeg set-up and the helpers decoding shares: how opening a file can fail, creation times
//! from containers and EXIF.

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ffmpeg;

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

pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
        .filter(|t| *t > 0)
}

/// The EXIF block of a picture already in memory, if it has one.
pub(crate) fn exif_of(bytes: &[u8]) -> Option<exif::Exif> {
    exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(bytes))
        .ok()
}

/// The EXIF block of a picture, if it has one.
pub(crate) fn read_exif(path: &Path) -> Option<exif::Exif> {
    let file = std::fs::File::open(path).ok()?;
    exif::Reader::new()
        .read_from_container(&mut std::io::BufReader::new(file))
        .ok()
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
