//! YAMNet's speech decision on real audio, as the pack's README verifies it.

mod common;

use vx_models::AudioEvents;
use vx_models::audio_events::{STRIDE, WINDOW};

#[test]
fn speech_is_told_from_silence_and_a_tone() {
    let Some(pack) = common::pack_with("audio-events") else {
        return;
    };
    let mut events = AudioEvents::load(&common::runtime(), &pack).unwrap();
    let speech = common::wav("librivox-0870.wav");
    // One clip, a window each: three of the reading, silence, a tone, and a third of a window
    // of reading at the end (the last window is padded with silence).
    let tone: Vec<f32> = (0..STRIDE)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 0.3)
        .collect();
    let mut clip = speech[..3 * STRIDE].to_vec();
    clip.extend(vec![0.0f32; STRIDE]);
    clip.extend(&tone);
    clip.extend(&speech[..WINDOW / 3]);
    let heard = events.listen(&clip).unwrap();
    let p: Vec<f32> = (0..heard.windows()).map(|w| heard.speech(w)).collect();
    assert_eq!(p.len(), 6, "{p:?}");
    assert!(p[..3].iter().all(|&x| x > 0.9), "read speech: {p:?}");
    assert!(p[3] < 0.1 && p[4] < 0.5, "silence and a tone: {p:?}");
    assert!(p[5] > 0.5, "a short window is padded: {p:?}");
    assert_eq!(
        events.listen(&[]).unwrap().windows(),
        1,
        "an empty clip is one silent window"
    );
}
