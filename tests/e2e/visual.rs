//! The visual channel end to end, with the tiny generated CLIP model of models/fixtures (no real
//! CLIP weights can be fetched here; it maps pure colours and their names to the same place):
//! searching by words that describe how a picture looks, and `vx similar` by looks.

use std::path::Path;
use std::process::Command;

use crate::support::*;

/// A models dir: the pack's models (linked) plus the tiny CLIP model.
fn models_with_clip(pack: &Path, dir: &Path) {
    std::fs::create_dir_all(dir.join("clip")).unwrap();
    for entry in std::fs::read_dir(pack).unwrap().flatten() {
        std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures/tiny-clip");
    let out = Command::new("cp")
        .arg("-r")
        .arg(&tiny)
        .arg(dir.join("clip/tiny"))
        .status()
        .unwrap();
    assert!(out.success());
}

fn solid(colour: &str, out: &Path) {
    let source = format!("color=c={colour}:s=96x64");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &source,
        "-frames:v",
        "1",
        out.to_str().unwrap(),
    ]);
}

#[test]
fn pictures_are_found_by_how_they_look() {
    let Some(shared) = pack() else { return };
    let mut d = Daemon::new();
    let models = d.dir.path().join("models");
    models_with_clip(&shared.models, &models);
    d.extra_env.push((
        "VX_MODELS_DIR".into(),
        models.to_string_lossy().into_owned(),
    ));
    for (colour, name) in [
        ("red", "IMG_0001.png"),
        ("0xC81E1E", "IMG_0002.png"),
        ("blue", "IMG_0003.png"),
        ("green", "IMG_0004.png"),
    ] {
        solid(colour, &d.media.join(name));
    }
    // 6 s: green for 3 s, then blue.
    let video = d.media.join("VID_0001.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=green:s=320x240:d=3:r=25",
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:s=320x240:d=3:r=25",
        "-filter_complex",
        "[0][1]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ]);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let status = d.status();
    let visual = status["extractors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "visual")
        .cloned()
        .unwrap();
    assert_eq!(visual["enabled"], true, "{visual}");
    assert!(status["vectors"].as_u64().unwrap() >= 5, "{status}");

    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let top = |args: &[&str], n: usize| -> Vec<String> {
        let mut a = vec!["search"];
        a.extend_from_slice(args);
        d.search(&a[1..]).iter().take(n).map(|p| name(p)).collect()
    };
    // Both reds first, by looks alone and fused with the other channels.
    for args in [vec!["red", "--channel", "visual"], vec!["red"]] {
        let mut reds = top(&args, 2);
        reds.sort();
        assert_eq!(reds, ["IMG_0001.png", "IMG_0002.png"], "{args:?}");
    }
    // The video's moment: blue from 3 s.
    let hits = d.json(&["search", "blue", "--channel", "visual"]);
    let clip = hits["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == video.to_str().unwrap())
        .unwrap_or_else(|| panic!("the video: {hits}"));
    let m = &clip["moments"][0];
    assert!((2.9..=6.0).contains(&m["start"].as_f64().unwrap()), "{m}");
    assert_eq!(m["sources"][0], "visual", "{m}");
    // Each moment carries the thumbnail of the frame shown then: a blue JPEG, not the green one.
    let thumb = m["thumbnail"].as_str().unwrap_or_else(|| panic!("{m}"));
    assert!(thumb.ends_with("-3000.jpg"), "{thumb}");
    assert!(std::path::Path::new(thumb).is_file());
    assert_eq!(clip["thumbnail"], m["thumbnail"]);

    // Alike by looks: the other red picture; the video's first seconds look like the green one.
    let red = d.media.join("IMG_0001.png");
    let first = |args: &[&str]| {
        let alike = d.json(args);
        alike["results"][0]["path"]
            .as_str()
            .map(name)
            .unwrap_or_else(|| panic!("nothing alike: {alike}"))
    };
    assert_eq!(first(&["similar", red.to_str().unwrap()]), "IMG_0002.png");
    assert_eq!(
        first(&["similar", video.to_str().unwrap(), "--at", "1"]),
        "IMG_0004.png"
    );
}
