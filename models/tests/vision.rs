mod common;

use vx_models::{Detector, Faces, RgbImage};

#[test]
fn detector_finds_the_readme_objects() {
    let Some(pack) = common::pack() else { return };
    let mut det = Detector::load(&common::runtime(), &pack).unwrap();
    let imgs = [
        common::png("astronaut.png"),
        common::png("coffee.png"),
        common::png("chelsea.png"),
    ];
    let views: Vec<_> = imgs.iter().map(RgbImage::view).collect();
    let found = det.detect(&views, vx_models::detector::MIN_SCORE).unwrap();
    let labels = |i: usize| {
        found[i]
            .iter()
            .map(|d| d.label.as_str())
            .collect::<Vec<_>>()
    };
    // README: astronaut person 0.61 (8,9,369,520); coffee cup, dining table, cup (before NMS).
    assert_eq!(labels(0), vec!["person"]);
    let p = &found[0][0];
    assert!(
        (p.score - 0.61).abs() < 0.05
            && (p.rect.x - 8.0).abs() < 6.0
            && (p.rect.w - 361.0).abs() < 10.0,
        "{p:?}"
    );
    assert_eq!(
        labels(1),
        vec!["cup", "dining table"],
        "NMS merges the two cups"
    );
    assert_eq!(
        labels(2),
        vec!["dog"],
        "the pack's model calls the cat a dog, once after NMS"
    );
}

#[test]
fn faces_are_found_and_described() {
    let Some(pack) = common::pack() else { return };
    let mut faces = Faces::load(&common::runtime(), &pack).unwrap();
    let astronaut = common::png("astronaut.png");
    let found = faces
        .faces(&astronaut.view(), vx_models::faces::MIN_SCORE)
        .unwrap();
    assert_eq!(found.len(), 1);
    let f = &found[0];
    // README: score 0.985, pixels (183,57)-(275,174), female (0.119), age around 29.
    assert!((f.score - 0.985).abs() < 0.01, "{}", f.score);
    assert!(
        (f.rect.x - 183.0).abs() < 4.0 && (f.rect.y - 57.0).abs() < 4.0,
        "{:?}",
        f.rect
    );
    assert!(f.male < 0.5, "{}", f.male);
    assert!((20.0..40.0).contains(&f.age), "{}", f.age);
    assert!((vx_models::dot(&f.descriptor, &f.descriptor) - 1.0).abs() < 1e-4);
    // The mirror image is the same person (README: cosine 0.96).
    let mut mirror = astronaut.clone();
    for row in mirror.data.chunks_mut(astronaut.width as usize * 3) {
        let px: Vec<[u8; 3]> = row.chunks(3).rev().map(|p| [p[0], p[1], p[2]]).collect();
        row.copy_from_slice(&px.concat());
    }
    let m = faces.faces(&mirror.view(), 0.5).unwrap();
    assert_eq!(m.len(), 1);
    assert!(vx_models::dot(&m[0].descriptor, &f.descriptor) > 0.85);
    // No face in the cat picture.
    assert!(
        faces
            .faces(&common::png("chelsea.png").view(), 0.5)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn ocr_reads_the_printed_page() {
    let Some(pack) = common::pack() else { return };
    let mut ocr = vx_models::Ocr::load(&common::runtime(), &pack).unwrap();
    let page = common::png("page.png");
    let lines = ocr.read(&page.view()).unwrap();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    eprintln!("{lines:#?}");
    // README (RapidOCR with these files): five lines.
    let expected = [
        "Region-basedsegmentation",
        "Let us first determine markers of the coins and the",
        "background.These markers are pixels that we can label",
        "unambiguously as either object or background.Here,",
        "histogram ofgreyvalues:",
    ];
    assert_eq!(texts.len(), 5, "{texts:?}");
    let exact = texts
        .iter()
        .zip(expected)
        .filter(|(a, b)| **a == *b)
        .count();
    let wer: f64 = texts
        .iter()
        .zip(expected)
        .map(|(a, b)| vx_models::transcriber::word_error_rate(b, a))
        .sum::<f64>()
        / 5.0;
    assert!(exact >= 4 && wer < 0.05, "{texts:?}");
    let first = &lines[0];
    assert!(
        (first.quad[0][0] - 7.0).abs() < 6.0 && (first.quad[0][1] - 12.0).abs() < 6.0,
        "{:?}",
        first.quad
    );
    assert!(lines.iter().all(|l| l.confidence > 0.9));
    // Nothing to read in a photo of a cat; a 1x1 image is not an error.
    assert!(ocr.read(&common::png("chelsea.png").view()).unwrap().len() <= 1);
    let one = RgbImage {
        width: 1,
        height: 1,
        data: vec![255, 255, 255],
    };
    assert!(ocr.read(&one.view()).unwrap().is_empty());
}
