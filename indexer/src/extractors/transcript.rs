//! Speech: Whisper over the stretches with sound, on its own thread beside the frame
//! extractors. With the audio-event model, only over the stretches where it hears speech
//! (music and noise alone cost Whisper as much as words), and each segment starts where the
//! speech does.

use vx_models::audio_events::{Heard, STRIDE, WINDOW};
use vx_models::{ModelError, ModelSet};

use super::{Background, Cx, Extractor, Input, Needs, Segments, Stage, segment};
use crate::extract::{Output, SegmentOut};

pub struct Transcript;

impl Extractor for Transcript {
    fn name(&self) -> &'static str {
        "transcript"
    }
    fn version(&self) -> u32 {
        3
    }
    fn needs(&self) -> Needs {
        Needs::Model("transcript")
    }
    fn stage(&self) -> Stage {
        Stage::Sound
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "transcript",
            heading: "transcript",
            has: Some("speech"),
            embedded: true,
            labels: false,
        })
    }
    fn listens(&self) -> bool {
        true
    }
    fn background<'a>(
        &self,
        input: &'a Input<'a>,
        models: &mut ModelSet,
    ) -> Option<Background<'a>> {
        let pcm = input.decoded.audio.as_deref()?;
        let heard = input.heard.as_ref().and_then(|h| h.as_ref().ok());
        let transcriber = models.transcriber();
        Some(Box::new(move |threads| {
            let regions = speech_or_sound_regions(pcm, heard);
            let mut segments = transcribe(&*transcriber?, pcm, &regions, threads)?;
            if let Some(heard) = heard {
                trim_lead_in(&mut segments, heard);
            }
            Ok(Output {
                segments,
                ..Output::default()
            })
        }))
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        if let Some(found) = cx.background.take() {
            out.segments.extend(found?.segments);
        }
        Ok(())
    }
}

/// Whisper folds leading silence into its first segment: the stretches with sound are
/// transcribed each at its own offset, so that moments start when the speech does.
/// Speech to timed segments, one whisper call per span of [`whisper_spans`], each on as many
/// threads as `threads()` says when it starts. Whisper sometimes ends a call early, leaving
/// speech after its last segment unheard (a pause, a change of voice): the call is then made
/// again from where it stopped, up to [`RESUMES`] times.
fn transcribe(
    t: &vx_models::Transcriber,
    pcm: &[f32],
    regions: &[(usize, usize)],
    threads: impl Fn() -> usize,
) -> Result<Vec<SegmentOut>, ModelError> {
    let rate = vx_models::transcriber::SAMPLE_RATE;
    let mut out = Vec::new();
    for (a, b) in whisper_spans(regions)
        .into_iter()
        .flat_map(|span| window_pieces(pcm, span))
    {
        let mut from = a;
        for _ in 0..=RESUMES {
            let offset = from as f64 / RATE as f64;
            let found = t.transcribe_with(&pcm[from..b], rate, threads())?;
            let stopped = found.last().map(|s| from + (s.end * RATE as f64) as usize);
            out.extend(found.into_iter().map(|s| {
                let at = (s.start + offset, s.end + offset);
                segment(&Transcript, at, s.text, 1.0 - s.no_speech)
            }));
            match stopped {
                Some(end) if end > from && unheard(regions, end, b) >= RESUME_AFTER => from = end,
                _ => break,
            }
        }
    }
    Ok(out)
}

/// Calls made again after one that stopped early, per piece.
const RESUMES: usize = 3;
/// Speech left after a call's last segment (samples) that makes it worth calling again.
const RESUME_AFTER: usize = 3 * RATE / 2;

/// Samples of `regions` between `from` and `to`.
fn unheard(regions: &[(usize, usize)], from: usize, to: usize) -> usize {
    regions
        .iter()
        .map(|&(a, b)| b.min(to).saturating_sub(a.max(from)))
        .sum()
}

const RATE: usize = vx_models::transcriber::SAMPLE_RATE as usize;
/// Whisper encodes audio in 30 s windows and pays a whole window for a shorter call.
const WHISPER_WINDOW: usize = 30 * RATE;

/// A span longer than a whisper window cut into pieces of at most one window, each cut at the
/// quietest 100 ms of the piece's last 10 s (between words, not through one), so that each
/// piece can start with the threads free by then.
fn window_pieces(pcm: &[f32], (mut a, b): (usize, usize)) -> Vec<(usize, usize)> {
    const STEP: usize = RATE / 10;
    let mut pieces = Vec::new();
    while b - a > WHISPER_WINDOW {
        let search = a + WHISPER_WINDOW - 10 * RATE;
        let cut = (search..a + WHISPER_WINDOW - STEP)
            .step_by(STEP)
            .min_by(|&x, &y| {
                let energy = |s: usize| pcm[s..s + STEP].iter().map(|v| v * v).sum::<f32>();
                energy(x).total_cmp(&energy(y))
            })
            .map_or(a + WHISPER_WINDOW, |c| c + STEP / 2);
        pieces.push((a, cut));
        a = cut;
    }
    pieces.push((a, b));
    pieces
}

/// Sound regions joined into as few whisper calls as fit in 30 s windows: consecutive regions
/// go in one call (with the quiet between them) while the call stays within one window; a
/// longer region is a call of its own (whisper windows it).
fn whisper_spans(regions: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in regions {
        match spans.last_mut() {
            Some(last) if b - last.0 <= WHISPER_WINDOW => last.1 = b,
            _ => spans.push((a, b)),
        }
    }
    spans
}
/// Sample ranges with sound, and with the audio-event model's `heard`, only those where it
/// hears speech.
pub(super) fn speech_or_sound_regions(pcm: &[f32], heard: Option<&Heard>) -> Vec<(usize, usize)> {
    let regions = sound_regions(pcm);
    match heard {
        Some(heard) => overlap(&regions, &speech_regions(heard, pcm.len())),
        None => regions,
    }
}

/// Speech probability from which a window surely holds speech (and a segment starts there).
const SPEECH: f32 = 0.5;
/// From this speech probability a window next to sure speech is transcribed too: low, since a
/// window wrongly left out loses words, while one wrongly kept only costs time.
const MAYBE_SPEECH: f32 = 0.2;
/// Windows looked at from a segment's start for its speech onset (about 3.8 s).
const LEAD_IN_WINDOWS: usize = 4;

/// Whisper folds sound before speech (music, noise, a tone) into its first segment, which then
/// starts too early. Each segment's start moves to the first window from it that holds speech,
/// when that is later; a segment without such a window in its first seconds keeps its start.
fn trim_lead_in(segments: &mut [SegmentOut], heard: &Heard) {
    for s in segments.iter_mut() {
        let first = heard.window_at(s.start);
        let last = heard.window_at(s.end).min(first + LEAD_IN_WINDOWS);
        if heard.speech(first) >= SPEECH {
            continue;
        }
        if let Some(w) = (first + 1..=last).find(|&w| heard.speech(w) >= SPEECH) {
            s.start = Heard::start(w).max(s.start);
        }
    }
}

/// Sample ranges the audio-event model may hear speech in, padded by 0.25 s: runs of windows
/// that may hold speech ([`MAYBE_SPEECH`]) with at least one that surely does ([`SPEECH`]): a
/// drum beat alone that sounds a little like a voice is not transcribed.
fn speech_regions(heard: &Heard, len: usize) -> Vec<(usize, usize)> {
    let speech: Vec<f32> = (0..heard.windows()).map(|w| heard.speech(w)).collect();
    let mut kept = vec![false; speech.len()];
    let mut w = 0;
    while w < speech.len() {
        let end = (w..speech.len())
            .find(|&e| speech[e] < MAYBE_SPEECH)
            .unwrap_or(speech.len());
        if speech[w..end].iter().any(|&p| p >= SPEECH) {
            kept[w..end].iter_mut().for_each(|k| *k = true);
        }
        w = end + 1;
    }
    let pad = RATE / 4;
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for w in (0..speech.len()).filter(|&w| kept[w]) {
        let (a, b) = (
            (w * STRIDE).saturating_sub(pad),
            (w * STRIDE + WINDOW + pad).min(len),
        );
        match regions.last_mut() {
            Some(last) if a <= last.1 => last.1 = b,
            _ => regions.push((a, b)),
        }
    }
    regions
}

/// The parts of `a`'s ranges that are also in `b`'s (both sorted, each without overlaps), at
/// least a quarter second long.
fn overlap(a: &[(usize, usize)], b: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (start, end) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if end >= start + RATE / 4 {
            out.push((start, end));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Sample ranges with sound: 30 ms windows louder than a threshold relative to the clip's
/// loud parts, joined across pauses shorter than 1.5 s, padded by 0.25 s.
fn sound_regions(pcm: &[f32]) -> Vec<(usize, usize)> {
    const WIN: usize = RATE * 30 / 1000;
    let rms: Vec<f32> = pcm
        .chunks(WIN)
        .map(|w| (w.iter().map(|s| s * s).sum::<f32>() / w.len() as f32).sqrt())
        .collect();
    if rms.is_empty() {
        return Vec::new();
    }
    let mut sorted = rms.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let loud = sorted[sorted.len() * 95 / 100];
    let threshold = (loud * 0.1).max(0.003);
    let (join, pad) = (RATE * 3 / 2 / WIN, RATE / 4);
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for (i, _) in rms.iter().enumerate().filter(|(_, r)| **r > threshold) {
        match regions.last_mut() {
            Some(last) if i <= last.1 + join => last.1 = i,
            _ => regions.push((i, i)),
        }
    }
    regions
        .into_iter()
        .map(|(a, b)| {
            (
                (a * WIN).saturating_sub(pad),
                ((b + 1) * WIN + pad).min(pcm.len()),
            )
        })
        .filter(|(a, b)| b - a >= RATE / 4)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_regions_share_a_whisper_window() {
        let s = |a: usize, b: usize| (a * RATE, b * RATE);
        // Three readings within 30 s: one call; then one that would overflow it starts another.
        assert_eq!(
            whisper_spans(&[s(2, 9), s(10, 17), s(19, 28), s(30, 40)]),
            vec![s(2, 28), s(30, 40)]
        );
        // A region longer than a window stays whole.
        assert_eq!(
            whisper_spans(&[s(0, 70), s(71, 75)]),
            vec![s(0, 70), s(71, 75)]
        );
        assert!(whisper_spans(&[]).is_empty());
    }

    #[test]
    fn long_speech_is_cut_between_words_into_window_pieces() {
        // 70 s of tone with a pause at 26-26.5 s and at 55 s: cuts land in them.
        let mut pcm: Vec<f32> = (0..70 * RATE)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        for pause in [
            26 * RATE..26 * RATE + RATE / 2,
            55 * RATE..55 * RATE + RATE / 2,
        ] {
            pcm[pause].iter_mut().for_each(|s| *s = 0.0);
        }
        let pieces = window_pieces(&pcm, (0, pcm.len()));
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        let secs = |s: usize| s as f64 / RATE as f64;
        assert!((26.0..26.5).contains(&secs(pieces[0].1)), "{pieces:?}");
        assert!((55.0..55.5).contains(&secs(pieces[1].1)), "{pieces:?}");
        assert_eq!((pieces[0].0, pieces[2].1), (0, pcm.len()));
        assert!(pieces.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(pieces.iter().all(|(a, b)| b - a <= WHISPER_WINDOW));
        assert_eq!(window_pieces(&pcm, (0, RATE)), vec![(0, RATE)]);
    }

    #[test]
    fn only_the_sound_with_speech_is_kept() {
        let s = |a: usize, b: usize| (a * RATE / 10, b * RATE / 10);
        // Sound 0-10 s and 20-30 s; speech 5-25 s: 5-10 and 20-25 remain.
        assert_eq!(
            overlap(&[s(0, 100), s(200, 300)], &[s(50, 250)]),
            [s(50, 100), s(200, 250)]
        );
        // Overlaps under a quarter second are dropped; disjoint ranges give nothing.
        assert_eq!(overlap(&[s(0, 100)], &[s(99, 200)]), []);
        assert_eq!(overlap(&[s(0, 10)], &[s(20, 30)]), []);
        assert_eq!(
            overlap(&[s(0, 100)], &[s(10, 20), s(30, 40)]),
            [s(10, 20), s(30, 40)]
        );
    }

    #[test]
    fn weak_speech_counts_only_next_to_sure_speech() {
        use vx_models::audio_events::CLASSES;
        let probs = [0.3, 0.9, 0.3, 0.0, 0.3, 0.0];
        let mut scores = vec![0.0f32; probs.len() * CLASSES];
        for (w, p) in probs.iter().enumerate() {
            scores[w * CLASSES] = *p; // class 0: Speech
        }
        let names: Vec<String> = (0..CLASSES).map(|c| c.to_string()).collect();
        let heard = Heard::new(scores, names.into());
        let len = probs.len() * STRIDE;
        // Windows 0-2 (weak, sure, weak), padded; the weak window 4 alone is not speech.
        assert_eq!(
            speech_regions(&heard, len),
            [(0, 2 * STRIDE + WINDOW + RATE / 4)]
        );
    }

    #[test]
    fn speech_left_after_a_call_is_measured_within_the_piece() {
        let regions = [(0, 100), (200, 300), (400, 500)];
        assert_eq!(unheard(&regions, 50, 450), 50 + 100 + 50);
        assert_eq!(unheard(&regions, 300, 400), 0);
        assert_eq!(unheard(&regions, 600, 700), 0);
    }

    #[test]
    fn sound_regions_skip_silence() {
        let mut pcm = vec![0.0f32; RATE * 2];
        pcm.extend((0..RATE * 3).map(|i| (i as f32 * 0.05).sin() * 0.3));
        pcm.extend(vec![0.0; RATE * 4]);
        pcm.extend((0..RATE).map(|i| (i as f32 * 0.05).sin() * 0.3));
        let r = sound_regions(&pcm);
        assert_eq!(r.len(), 2, "{r:?}");
        let secs = |s: usize| s as f64 / RATE as f64;
        assert!(
            (secs(r[0].0) - 1.75).abs() < 0.05 && (secs(r[0].1) - 5.25).abs() < 0.05,
            "{r:?}"
        );
        assert!((secs(r[1].0) - 8.75).abs() < 0.05);
        assert!(sound_regions(&vec![0.0; RATE]).is_empty());
    }
}
