//! Bad models and bad input: clear errors or empty results, never a panic.

mod common;

use vx_models::{ModelError, ModelSet, RgbImage, RuntimeOptions, Tagger, TextEmbedder};

#[test]
fn truncated_wrong_and_missing_model_files() {
    let Some(pack) = common::pack() else { return };
    let rt = common::runtime();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("tags")).unwrap();
    for labels in ["tags/imagenet-labels-clean.txt", "tags/imagenet-labels.txt"] {
        std::fs::copy(pack.join(labels), tmp.path().join(labels)).unwrap();
    }
    // Missing.
    let err = Tagger::load(&rt, tmp.path()).err().unwrap();
    assert!(matches!(err, ModelError::Missing(_)), "{err}");
    // Truncated.
    let bytes = std::fs::read(pack.join("tags/efficientnet-lite0-imagenet.onnx")).unwrap();
    std::fs::write(
        tmp.path().join("tags/efficientnet-lite0-imagenet.onnx"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let err = Tagger::load(&rt, tmp.path()).err().unwrap().to_string();
    assert!(
        err.contains("cannot load") && err.contains("vx models verify"),
        "{err}"
    );
    // The wrong model: loads, but the first run says the input does not fit.
    std::fs::copy(
        pack.join("text/minilm-l6-v2.onnx"),
        tmp.path().join("tags/efficientnet-lite0-imagenet.onnx"),
    )
    .unwrap();
    let cat = common::png("chelsea.png");
    match Tagger::load(&rt, tmp.path()) {
        Ok(mut t) => assert!(t.tag(&[cat.view()], 5, 0.0).is_err()),
        Err(e) => assert!(e.to_string().contains("cannot load")),
    }
    // A tokenizer that is missing.
    std::fs::create_dir_all(tmp.path().join("text")).unwrap();
    std::fs::copy(
        pack.join("text/minilm-l6-v2.onnx"),
        tmp.path().join("text/minilm-l6-v2.onnx"),
    )
    .unwrap();
    let err = TextEmbedder::load(&rt, tmp.path()).err().unwrap();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}

#[test]
fn extreme_images_and_audio() {
    let Some(pack) = common::pack() else { return };
    let mut set = ModelSet::new(&pack, RuntimeOptions::default(), 2);
    let tiny = RgbImage {
        width: 1,
        height: 1,
        data: vec![0, 0, 0],
    };
    // A 30,000-pixel-wide strip: every wrapper scales it down rather than blowing up.
    let strip = RgbImage {
        width: 30_000,
        height: 40,
        data: vec![128; 30_000 * 40 * 3],
    };
    for img in [&tiny, &strip] {
        let v = img.view();
        assert_eq!(set.tagger().unwrap().tag(&[v], 3, 0.0).unwrap()[0].len(), 3);
        set.detector().unwrap().detect(&[v], 0.3).unwrap();
        set.faces().unwrap().faces(&v, 0.5).unwrap();
        set.ocr().unwrap().read(&v).unwrap();
    }
    // Wrong buffer size is an error, not a panic.
    let bad = vx_models::RgbView {
        width: 10,
        height: 10,
        data: &[0u8; 10],
    };
    assert!(matches!(
        set.tagger().unwrap().tag(&[bad], 1, 0.0),
        Err(ModelError::BadInput(_))
    ));
    let t = set.transcriber().unwrap();
    assert!(t.transcribe(&[], 16_000).unwrap().is_empty());
    assert!(
        t.transcribe(&vec![0.0; 16_000 * 5], 16_000)
            .unwrap()
            .is_empty()
    );
    assert!(t.transcribe(&[0.1; 8000], 8000).is_err());
    assert!(t.transcribe(&[f32::NAN; 16000], 16_000).is_err());
    // A model set whose pack lacks a model reports it, every time, without retrying the load.
    let empty = tempfile::tempdir().unwrap();
    let mut none = ModelSet::new(empty.path(), RuntimeOptions::default(), 1);
    assert!(matches!(none.tagger(), Err(ModelError::Missing(_))));
    assert!(matches!(none.clip(), Err(ModelError::Missing(_))));
}
