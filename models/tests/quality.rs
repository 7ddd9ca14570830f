//! BRISQUE and the cheap measures on a real photo, its blurred and darkened copies. (The
//! pack's README verifies BRISQUE at 512 px: astronaut.png 10.79; vx scores at 384 px.)

mod common;

use vx_models::image::FilterType;
use vx_models::quality::{Looks, SIDE, looks};
use vx_models::{Quality, RgbImage};

/// `img` blurred: scaled down to a quarter and back up.
fn blurred(img: &RgbImage) -> RgbImage {
    let v = img.view();
    let small = v.resize(v.width / 4, v.height / 4, None).unwrap();
    small
        .view()
        .resize_with(FilterType::Bilinear, v.width, v.height, None)
        .unwrap()
}

fn assess(img: &vx_models::RgbView) -> Looks {
    let small = img.limit(SIDE).unwrap();
    looks(&small.as_ref().map_or(*img, |s| s.view()))
}

#[test]
fn a_sharp_photo_scores_well_and_its_blurred_and_dark_copies_say_why_not() {
    let Some(pack) = common::pack_with("quality") else {
        return;
    };
    let mut q = Quality::load(&common::runtime(), &pack).unwrap();
    let photo = common::png("astronaut.png");
    let score = q.score(&photo.view()).unwrap().unwrap();
    assert!(score > 75.0, "{score}");
    let sharp = assess(&photo.view());
    assert!(sharp.sharpness > 65.0, "{sharp:?}");

    let soft = blurred(&photo);
    let score = q.score(&soft.view()).unwrap().unwrap();
    let soft = assess(&soft.view());
    assert!(score < 50.0 && soft.sharpness < 40.0, "{score} {soft:?}");

    let dark = RgbImage {
        data: photo.data.iter().map(|&p| p / 5).collect(),
        ..photo.clone()
    };
    let dark = assess(&dark.view());
    assert!(dark.brightness < 10.0, "{dark:?}");
    assert!(dark.sharpness > 50.0, "darkness is not blur: {dark:?}");
    // A flat picture has no BRISQUE score (its statistics are undefined), and no error.
    let flat = RgbImage {
        data: vec![200; photo.data.len()],
        ..photo.clone()
    };
    assert_eq!(q.score(&flat.view()).unwrap(), None);
}
