//! The CLIP wiring, checked with the tiny dual encoder in fixtures/ (no CLIP weights can be
//! fetched here): pure colours must land next to their names.

mod common;

use vx_models::{Clip, RgbImage, dot};

fn solid(w: u32, h: u32, rgb: [u8; 3]) -> RgbImage {
    RgbImage {
        width: w,
        height: h,
        data: rgb
            .iter()
            .copied()
            .cycle()
            .take((w * h * 3) as usize)
            .collect(),
    }
}

#[test]
fn tiny_clip_puts_colours_next_to_their_names() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny-clip");
    let mut clip = Clip::load(&common::runtime(), &dir).unwrap();
    let images = [
        solid(30, 20, [255, 0, 0]),
        solid(5, 9, [0, 255, 0]),
        solid(64, 64, [0, 0, 255]),
    ];
    let iv = clip
        .embed_images(&images.iter().map(RgbImage::view).collect::<Vec<_>>())
        .unwrap();
    let tv = clip
        .embed_texts(&["red", "a GREEN picture", "blue"])
        .unwrap();
    for (i, img) in iv.iter().enumerate() {
        assert!((dot(img, img) - 1.0).abs() < 1e-5);
        let best = (0..3)
            .max_by(|&a, &b| dot(img, &tv[a]).total_cmp(&dot(img, &tv[b])))
            .unwrap();
        assert_eq!(best, i, "image {i} nearest text {best}");
    }
    assert!(
        dot(&iv[0], &tv[0]) > 0.99,
        "same space: red picture and \"red\""
    );
    // Centre crop ("shortest"): a picture red in the middle, blue at the far edges, is red.
    let mut wide = solid(90, 30, [255, 0, 0]);
    for y in 0..30 {
        for x in (0..10).chain(80..90) {
            let i = (y * 90 + x) * 3;
            wide.data[i..i + 3].copy_from_slice(&[0, 0, 255]);
        }
    }
    let w = clip.embed_images(&[wide.view()]).unwrap();
    assert!(dot(&w[0], &tv[0]) > 0.99);
    // Unknown words and over-long texts are handled.
    assert_eq!(
        clip.embed_texts(&["zebra red red red red red red red red"])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_clip_dir_without_its_tokenizer_is_a_clear_error() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny-clip");
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["visual", "textual"] {
        std::fs::create_dir_all(tmp.path().join(sub)).unwrap();
    }
    for f in [
        "config.json",
        "visual/model.onnx",
        "visual/preprocess_cfg.json",
        "textual/model.onnx",
        "textual/tokenizer_config.json",
    ] {
        std::fs::copy(src.join(f), tmp.path().join(f)).unwrap();
    }
    let err = Clip::load(&common::runtime(), tmp.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("missing"),
        "{err}"
    );
}
