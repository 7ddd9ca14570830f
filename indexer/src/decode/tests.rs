use super::video::{gap_targets, keeps};
use std::sync::atomic::Ordering;

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
    let text =
        "Permission is hereby granted, free of charge, to any person obtaining a copy\n".repeat(40);
    std::fs::write(&txt, text).unwrap();
    assert!(matches!(
        decode(&txt, &DecodePolicy::default()),
        Err(ProbeError::NotMedia(_))
    ));
}

#[test]
fn the_sampling_policy_keeps_a_frame_a_second_up_to_the_cap_and_one_for_a_picture() {
    let policy = DecodePolicy {
        max_frames: 3,
        ..DecodePolicy::default()
    };
    let frame = |time: f64| Frame {
        time,
        image: RgbImage::default(),
    };
    let kept = [frame(0.0), frame(1.0)];
    assert!(keeps(&kept, 2.0, false, &policy));
    assert!(
        !keeps(&kept, 1.5, false, &policy),
        "closer than min_interval"
    );
    assert!(
        !keeps(&[frame(0.0), frame(1.0), frame(2.0)], 9.0, false, &policy),
        "the cap"
    );
    assert!(keeps(&[], 0.0, true, &policy) && !keeps(&kept[..1], 5.0, true, &policy));
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
