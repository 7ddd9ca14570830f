//! Resemblyzer's voice embeddings on real speakers, as the pack's README verifies them: the
//! same reader in two clips is one voice, the reader and a prompt speaker are two.

mod common;

use vx_models::Speaker;

/// An 8 kHz 16-bit WAV from the package media at 16 kHz (each sample followed by the mean of
/// it and the next: enough for a voice recorded at 8 kHz).
fn at_16k(name: &str) -> Option<Vec<f32>> {
    let path = vx_testkit::package_media(name)?;
    let mut r = hound::WavReader::open(path).unwrap();
    assert_eq!(r.spec().sample_rate, 8000);
    let s: Vec<f32> = r
        .samples::<i16>()
        .map(|s| s.unwrap() as f32 / 32768.0)
        .collect();
    let next = s.iter().skip(1).chain(s.last());
    Some(
        s.iter()
            .zip(next)
            .flat_map(|(a, b)| [*a, (a + b) / 2.0])
            .collect(),
    )
}

#[test]
fn the_same_reader_is_one_voice_and_another_speaker_is_not() {
    let Some(pack) = common::pack_with("speaker") else {
        return;
    };
    let Some(prompt) = at_16k("allison-thanks.wav") else {
        return;
    };
    let mut speaker = Speaker::load(&common::runtime(), &pack).unwrap();
    let a = speaker
        .utterance(&common::wav("librivox-0870.wav"))
        .unwrap();
    let b = speaker
        .utterance(&common::wav("librivox-0880.wav"))
        .unwrap();
    let c = speaker.utterance(&prompt).unwrap();
    let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    let same = vx_models::dot(&a, &b);
    let other = vx_models::dot(&a, &c);
    assert!(same > 0.75, "same reader: {same}");
    assert!(other < 0.7, "reader and prompt speaker: {other}");
    // Quiet speech is raised before embedding: the same clip at a tenth of its volume is the
    // same voice.
    let quiet: Vec<f32> = common::wav("librivox-0880.wav")
        .iter()
        .map(|x| x * 0.1)
        .collect();
    let q = speaker.utterance(&quiet).unwrap();
    assert!(vx_models::dot(&b, &q) > 0.95, "{}", vx_models::dot(&b, &q));
}
