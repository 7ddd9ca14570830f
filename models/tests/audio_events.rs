//! YAMNet's speech decision on real audio, as the pack's README verifies it.

mod common;

use vx_models::AudioEvents;
use vx_models::audio_events::{HOP, WINDOW};

#[test]
fn speech_is_told_from_silence_and_a_tone() {
    let Some(pack) = common::pack_with("audio-events") else {
        return;
    };
    let mut events = AudioEvents::load(&common::runtime(), &pack).unwrap();
    let speech = common::wav("librivox-0870.wav");
    let windows: Vec<&[f32]> = (0..3).map(|k| &speech[k * HOP..k * HOP + WINDOW]).collect();
    let silence = vec![0.0f32; WINDOW];
    let tone: Vec<f32> = (0..WINDOW)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 0.3)
        .collect();
    let mut all = windows.clone();
    all.extend([&silence[..], &tone[..], &speech[..WINDOW / 3]]);
    let p = events.speech(&all).unwrap();
    assert!(p[..3].iter().all(|&x| x > 0.9), "read speech: {p:?}");
    assert!(p[3] < 0.1 && p[4] < 0.5, "silence and a tone: {p:?}");
    assert!(p[5] > 0.5, "a short window is padded: {p:?}");
    assert!(events.speech(&[]).unwrap().is_empty());
}
