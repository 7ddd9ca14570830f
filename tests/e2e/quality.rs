//! Image quality on a real photo and its blurred, darkened and overexposed copies, and on a
//! video whose second scene is out of focus: measures, words, `--min-quality`, and the sharpest
//! of the copies first.

use std::path::Path;

use crate::support::*;

fn copy_with(src: &Path, filter: &str, out: &Path) {
    ffmpeg(&[
        "-i",
        src.to_str().unwrap(),
        "-vf",
        filter,
        out.to_str().unwrap(),
    ]);
}

fn measure(shown: &serde_json::Value, name: &str) -> f64 {
    shown["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .and_then(|m| m["value"].as_f64())
        .unwrap_or_else(|| panic!("no {name}: {shown}"))
}

#[test]
fn blurry_dark_and_overexposed_pictures_are_found_by_those_words() {
    let Some(pack) = pack_with("quality") else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    let photo = pack.media.join("chelsea.png");
    let sharp = d.media.join("cat.png");
    std::fs::copy(&photo, &sharp).unwrap();
    let blurry = d.media.join("cat-shaky.png");
    copy_with(&photo, "gblur=sigma=3", &blurry);
    let dark = d.media.join("cat-night.png");
    copy_with(&photo, "eq=brightness=-0.35", &dark);
    let bright = d.media.join("cat-sun.png");
    copy_with(&photo, "eq=brightness=0.45", &bright);
    // The first half sharp, the second the same picture out of focus.
    let clip = d.media.join("focus.mp4");
    slideshow(&clip, &[&photo, &blurry], 4, "scale=452:300,setsar=1");
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let name = |p: &Path| p.to_str().unwrap().to_string();
    let good = measure(&d.show(&sharp), "quality");
    let soft = d.show(&blurry);
    assert!(
        good > 70.0 && measure(&soft, "quality") < good - 20.0,
        "{good} {soft}"
    );
    assert!(measure(&soft, "sharpness") < 40.0, "{soft}");
    assert!(measure(&d.show(&dark), "brightness") < 16.0);

    // The files a word finds through the quality words (other channels may add weaker hits).
    let files = |q: &str| {
        let found = d.json(&["search", q, "--kind", "image"]);
        let mut paths: Vec<String> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["moments"].to_string().contains("\"quality\""))
            .map(|r| r["path"].as_str().unwrap().to_string())
            .collect();
        paths.sort();
        paths
    };
    let first = |q: &str| d.search(&[q, "--kind", "image"]).first().cloned();
    for (word, file) in [
        ("blurry", &blurry),
        ("out of focus", &blurry),
        ("dark", &dark),
        ("overexposed", &bright),
    ] {
        assert_eq!(first(word), Some(name(file)), "{word}");
        assert_eq!(files(word), vec![name(file)], "{word}");
    }
    // Asked for the cat, the sharp copy comes before the shaky one, whichever ranked higher.
    let cats = d.search(&["tabby cat", "--kind", "image"]);
    let at = |p: &Path| cats.iter().position(|c| *c == name(p));
    assert!(
        at(&sharp).is_some() && at(&sharp) < at(&blurry).or(Some(usize::MAX)),
        "{cats:?}"
    );
    let kept = d.search(&["--min-quality", "60", "--kind", "image"]);
    assert!(
        kept.contains(&name(&sharp)) && !kept.contains(&name(&blurry)),
        "{kept:?}"
    );

    // The video's blurry moment is its second scene.
    let hits = d.json(&["search", "blurry", "--kind", "video"]);
    let start = hits["results"][0]["moments"][0]["start"].as_f64();
    assert!(start.is_some_and(|s| (3.0..=5.0).contains(&s)), "{hits}");
    let text = d.ok(&["show", sharp.to_str().unwrap()]);
    assert!(text.contains("image quality (100 - BRISQUE):"), "{text}");
}
