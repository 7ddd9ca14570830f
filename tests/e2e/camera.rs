//! Files as phones and cameras make them: HEIC and AVIF stills, portrait HEVC video turned by
//! its display matrix. Each must be indexed standing upright, checked on the pixels of its
//! thumbnail.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (scripts/setup.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Red above blue, 96x128, made by `filter` from the two halves (as a still or 3 s of video).
fn red_over_blue(out: &Path, filter: &str, still: bool) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "color=red:s=96x64:d=3",
        "-f",
        "lavfi",
        "-i",
        "color=blue:s=96x64:d=3",
        "-filter_complex",
        filter,
    ];
    if still {
        args.extend(["-frames:v", "1"]);
    } else {
        args.extend([
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
        ]);
    }
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
}

/// Whether a picture stands upright: taller than wide, red at the top, blue at the bottom.
fn upright(picture: &Path) -> bool {
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(picture)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(picture)
        .output()
        .unwrap();
    let dims = String::from_utf8_lossy(&probe.stdout);
    let (w, h) = dims.trim().split_once(',').unwrap();
    let (w, h): (usize, usize) = (w.parse().unwrap(), h.parse().unwrap());
    let px = |x: usize, y: usize| &out.stdout[(y * w + x) * 3..(y * w + x) * 3 + 3];
    let red = |p: &[u8]| p[0] > 150 && p[2] < 100;
    let blue = |p: &[u8]| p[2] > 150 && p[0] < 100;
    h > w && red(px(w / 2, h / 10)) && blue(px(w / 2, h - 1 - h / 10))
}

#[test]
fn phone_photos_and_portrait_videos_are_indexed_upright() {
    let d = Daemon::started();
    let tmp = d.dir.path();
    // The sensor's view, turned a quarter anticlockwise, with the turn back in EXIF (as
    // heif-enc keeps it from the JPEG it converts).
    red_over_blue(&tmp.join("side.jpg"), "[0][1]vstack,transpose=cclock", true);
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-Orientation#=6",
            tmp.join("side.jpg").to_str().unwrap(),
        ],
    );
    run(
        "heif-enc",
        &[
            tmp.join("side.jpg").to_str().unwrap(),
            "-o",
            d.media.join("IMG_0001.HEIC").to_str().unwrap(),
        ],
    );
    red_over_blue(&tmp.join("up.png"), "[0][1]vstack", true);
    run(
        "heif-enc",
        &[
            tmp.join("up.png").to_str().unwrap(),
            "-o",
            d.media.join("IMG_0002.avif").to_str().unwrap(),
        ],
    );
    // A portrait video as an iPhone writes it: stored sideways, HEVC in MOV, the turn in the
    // track's display matrix.
    let mov = d.media.join("IMG_0003.MOV");
    red_over_blue(&mov, "[0][1]vstack,transpose=cclock,format=yuv420p", false);
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-Rotation=90",
            mov.to_str().unwrap(),
        ],
    );
    d.add_media_root();
    d.wait_idle();
    for name in ["IMG_0001.HEIC", "IMG_0002.avif", "IMG_0003.MOV"] {
        let shown = d.show(&d.media.join(name));
        assert_eq!(shown["state"], "indexed", "{shown}");
        let content = &shown["content"];
        assert_eq!(
            (&content["width"], &content["height"]),
            (&96.into(), &128.into()),
            "{name}"
        );
        let thumbs = shown["thumbnails"].as_array().unwrap();
        assert!(!thumbs.is_empty(), "{name}: {shown}");
        for t in thumbs {
            let thumb = t["path"].as_str().unwrap();
            assert!(
                upright(Path::new(thumb)),
                "{name}: thumbnail {thumb} is not upright"
            );
        }
    }
    assert_eq!(d.show(&mov)["content"]["kind"], "video");
}
