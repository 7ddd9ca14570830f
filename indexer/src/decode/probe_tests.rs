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
