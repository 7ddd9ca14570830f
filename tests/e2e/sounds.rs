//! Sounds besides the words (the audio-event model, YAMNet) on real recordings: heard with
//! their times, found by search, and the transcript skipping what holds no speech.

use std::path::Path;

use crate::support::*;

fn sound(name: &str) -> Option<String> {
    vx_testkit::package_media(name).map(|p| p.to_str().unwrap().to_string())
}

/// (text, start, end) of the sound segments `vx show` lists for `path`.
fn sounds(d: &Daemon, path: &Path) -> Vec<(String, f64, f64)> {
    let shown = d.show(path);
    segments(&shown, "sound")
        .iter()
        .map(|s| {
            (
                s["text"].as_str().unwrap().to_string(),
                s["start"].as_f64().unwrap(),
                s["end"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn sounds_are_heard_at_their_times_and_found_by_search() {
    let Some(pack) = pack_with("audio-events") else {
        return;
    };
    let (Some(dog), Some(phone), Some(fiddle)) =
        (sound("dog.ogg"), sound("phone.oga"), sound("ireland.ogg"))
    else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    // A dog barks at 3 s, a phone rings from 6 s.
    let yard = d.media.join("yard.wav");
    concat(
        &yard,
        &["silence:3", &dog, "silence:2", &phone, "silence:1"],
    );
    let tune = d.media.join("tune.ogg");
    std::fs::copy(&fiddle, &tune).unwrap();
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let heard = sounds(&d, &yard);
    let first = |what: &str| {
        heard
            .iter()
            .find(|s| s.0 == what)
            .unwrap_or_else(|| panic!("no {what} in {heard:?}"))
            .clone()
    };
    let bark = first("Dog");
    assert!((2.0..=3.5).contains(&bark.1) && bark.2 <= 5.0, "{heard:?}");
    let ring = first("Telephone");
    assert!((5.0..=7.0).contains(&ring.1), "{heard:?}");
    assert!(
        heard.iter().all(|s| s.0 != "Music" && s.0 != "Silence"),
        "{heard:?}"
    );
    assert!(sounds(&d, &tune).iter().any(|s| s.0 == "Music"));

    let name = |p: &Path| p.to_str().unwrap().to_string();
    assert_eq!(d.search(&["dog barking"]).first(), Some(&name(&yard)));
    assert_eq!(d.search(&["music"]), vec![name(&tune)]);
    // The moment is the bark's.
    let hits = d.json(&["search", "telephone"]);
    let start = hits["results"][0]["moments"][0]["start"].as_f64();
    assert!(start.is_some_and(|s| (5.0..=7.0).contains(&s)), "{hits}");
    let text = d.ok(&["show", yard.to_str().unwrap()]);
    assert!(text.contains("sounds") && text.contains("Dog"), "{text}");
}

#[test]
fn the_transcript_skips_music_and_starts_with_the_speech() {
    let Some(pack) = pack_with("audio-events") else {
        return;
    };
    let Some(drums) = sound("japan.ogg") else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    let speech = pack.media.join("librivox-0870.wav");
    // 25 s of taiko drums, then the reading.
    let talk = d.media.join("talk.wav");
    concat(&talk, &[&drums, speech.to_str().unwrap()]);
    let only_drums = d.media.join("drums.ogg");
    std::fs::copy(&drums, &only_drums).unwrap();
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let shown = d.show(&talk);
    let said = segments(&shown, "transcript");
    assert!(!said.is_empty(), "{shown}");
    assert!(
        said.iter().all(|s| s["start"].as_f64().unwrap() >= 24.5),
        "nothing transcribed from the drums: {shown}"
    );
    let words: String = said.iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(words.to_lowercase().contains("dashwood"), "{words}");
    let shown = d.show(&only_drums);
    assert!(segments(&shown, "transcript").is_empty(), "{shown}");
    assert!(
        shown["extractions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["extractor"] == "transcript" && e["status"] == "done"),
        "{shown}"
    );
}
