//! Scene cuts: a video of three pictures has three scenes, each listed by `vx show` with a
//! thumbnail, and a search hit in one says which scene it falls in.

use crate::support::*;

#[test]
fn each_scene_is_listed_and_a_moment_knows_its_scene() {
    let Some(pack) = pack() else { return };
    let mut d = Daemon::with_models(&pack.models);
    let clip = d.media.join("three.mp4");
    let picture = |name: &str| pack.media.join(name);
    let (a, b, c) = (
        picture("astronaut.png"),
        picture("coffee.png"),
        picture("chelsea.png"),
    );
    let scale = "scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1";
    slideshow(&clip, &[&a, &b, &c], 4, scale);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let shown = d.show(&clip);
    let scenes = shown["scenes"].as_array().unwrap();
    let bounds: Vec<(f64, f64)> = scenes
        .iter()
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect();
    assert_eq!(bounds.len(), 3, "{shown}");
    for (i, (start, end)) in bounds.iter().enumerate() {
        let want = 4.0 * i as f64;
        assert!((start - want).abs() <= 1.0 && end > start, "{bounds:?}");
        let thumb = scenes[i]["thumbnail"].as_str().expect("a thumbnail");
        assert!(std::path::Path::new(thumb).is_file(), "{thumb}");
    }
    let text = d.ok(&["show", clip.to_str().unwrap()]);
    assert!(text.contains("scenes:"), "{text}");

    // The espresso is the second picture: its moment is in the second scene.
    let hits = d.json(&["search", "espresso", "--kind", "video"]);
    let scene = &hits["results"][0]["moments"][0]["scene"];
    let (start, end) = (scene[0].as_f64().unwrap(), scene[1].as_f64().unwrap());
    assert_eq!((start, end), bounds[1], "{hits}");
}
