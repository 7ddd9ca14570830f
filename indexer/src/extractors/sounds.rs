//! Sounds besides the words: the AudioSet classes the audio-event model (YAMNet) hears
//! ("Dog", "Bark", "Music", "Applause", "Telephone"), as timed segments with the model's score;
//! a class heard in neighbouring windows becomes one segment.

use vx_models::ModelError;
use vx_models::audio_events::{Heard, RATE, SILENCE, WINDOW};

use super::{Cx, Extractor, Needs, Segments, Stage, segment};
use crate::extract::Output;
use crate::media::MediaKind;

/// A class is surely heard in a window from this score (sigmoid, multi-label). The pack's
/// animals, instruments and phone rings score 0.65-1.0; stray classes mostly stay below.
pub(super) const HEARD: f32 = 0.5;
/// A window's likeliest classes are kept down to this score, at the low weight search gives
/// it: quiet or unusual sounds score low on the right class too (an alarm clock's ring: "Alarm
/// clock" 0.15, a shutter: "Camera" 0.2), as the tagger's right answer is often not its first.
const FAINT: f32 = 0.1;
/// At most this many classes per window, the likeliest.
const PER_WINDOW: usize = 5;
/// Windows (0.96 s each) a run may miss its class for and go on.
const BRIDGED: usize = 1;

pub struct Sounds;

impl Extractor for Sounds {
    fn name(&self) -> &'static str {
        "audio-events"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("audio-events")
    }
    fn stage(&self) -> Stage {
        Stage::Sound
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Video, MediaKind::Audio]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "sound",
            heading: "sounds",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    fn listens(&self) -> bool {
        true
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let heard = match &cx.input.heard {
            None => return Ok(()),
            Some(Err(e)) => return Err(e.clone()),
            Some(Ok(heard)) => heard,
        };
        let length = cx.input.decoded.audio.as_ref().map_or(0, |a| a.len()) as f64 / RATE;
        for run in runs(heard) {
            let start = Heard::start(run.first);
            let end = (Heard::start(run.last) + WINDOW as f64 / RATE).min(length.max(start));
            let text = heard.name(run.class).to_string();
            out.segments
                .push(segment(self, (start, end), text, run.score));
        }
        Ok(())
    }
}

/// A class heard from window `first` to `last`, at best with `score`.
#[derive(Debug, PartialEq)]
struct Run {
    class: usize,
    first: usize,
    last: usize,
    score: f32,
}

/// Each class's runs of windows: a class not heard for up to [`BRIDGED`] windows within one
/// (drums between beats, a dog between barks) stays one run.
fn runs(heard: &Heard) -> Vec<Run> {
    let mut open: Vec<Run> = Vec::new();
    let mut done = Vec::new();
    for w in 0..heard.windows() {
        for (class, score) in classes_heard(heard.scores(w)) {
            match open.iter_mut().find(|r| r.class == class) {
                Some(run) => {
                    run.last = w;
                    run.score = run.score.max(score);
                }
                None => open.push(Run {
                    class,
                    first: w,
                    last: w,
                    score,
                }),
            }
        }
        done.extend(open.extract_if(.., |r| w > r.last + BRIDGED));
    }
    done.extend(open);
    done.sort_by_key(|r| (r.first, r.class));
    done
}

/// The classes heard in one window's scores, likeliest first, down to [`FAINT`]; silence is
/// not an event.
fn classes_heard(scores: &[f32]) -> Vec<(usize, f32)> {
    let mut heard: Vec<(usize, f32)> = scores
        .iter()
        .copied()
        .enumerate()
        .filter(|&(c, s)| s >= FAINT && c != SILENCE)
        .collect();
    heard.sort_by(|a, b| b.1.total_cmp(&a.1));
    heard.truncate(PER_WINDOW);
    heard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_likeliest_classes_down_to_faint_ones_without_silence() {
        let mut scores = vec![0.0f32; 521];
        for (c, s) in [
            (0, 0.9),
            (3, 0.15),
            (SILENCE, 0.99),
            (74, 0.6),
            (1, 0.7),
            (9, 0.05),
        ] {
            scores[c] = s;
        }
        assert_eq!(
            classes_heard(&scores),
            [(0, 0.9), (1, 0.7), (74, 0.6), (3, 0.15)]
        );
        scores.iter_mut().take(10).for_each(|s| *s = 0.8);
        assert_eq!(classes_heard(&scores).len(), PER_WINDOW);
    }

    #[test]
    fn short_gaps_are_bridged_and_long_ones_split_a_run() {
        use vx_models::audio_events::CLASSES;
        // Class 7 in windows 0, 2, 3 (one gap) and 7 (after three): two runs; class 9 in 1.
        let mut scores = vec![0.0f32; 8 * CLASSES];
        for (w, c, s) in [
            (0, 7, 0.6),
            (2, 7, 0.9),
            (3, 7, 0.7),
            (7, 7, 0.8),
            (1, 9, 0.5),
        ] {
            scores[w * CLASSES + c] = s;
        }
        let names: Vec<String> = (0..CLASSES).map(|c| c.to_string()).collect();
        let run = |class, first, last, score| Run {
            class,
            first,
            last,
            score,
        };
        assert_eq!(
            runs(&Heard::new(scores, names.into())),
            [run(7, 0, 3, 0.9), run(9, 1, 1, 0.5), run(7, 7, 7, 0.8)]
        );
    }
}
