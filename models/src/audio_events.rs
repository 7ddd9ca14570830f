//! Audio events (YAMNet, 521 AudioSet classes). Input `wav` f32 [N, 15600]: 0.975 s windows of
//! 16 kHz mono in -1..1 (the log-mel front end is in the graph); output `scores` [N, 521],
//! sigmoid, multi-label. Class i is row i+1 of `audio/yamnet-class-map.csv`.

use std::path::Path;
use std::sync::Arc;

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{ModelError, Result, infer};
use crate::labels::read_text;
use crate::runtime::Runtime;

const NAME: &str = "audio events";
pub const CLASSES: usize = 521;
/// Samples per window (0.975 s at 16 kHz).
pub const WINDOW: usize = 15_600;
/// The step between windows YAMNet was trained with (0.48 s).
pub const HOP: usize = 7_680;
/// The step [`AudioEvents::listen`] takes: two hops (0.96 s), windows side by side. Half the
/// cost of the trained step, which matters: at that step, hearing a minute cost about what
/// skipping its music saved Whisper.
pub const STRIDE: usize = 2 * HOP;
pub const RATE: f64 = 16_000.0;
/// Windows per model call (PERF-FACTS: batching pays for YAMNet).
const BATCH: usize = 16;
/// The pack README's coarse groups: speech (Speech, its kinds, Conversation) and silence.
const SPEECH: [usize; 7] = [0, 1, 2, 3, 4, 5, 65];
pub const SILENCE: usize = 494;
pub const MUSIC: usize = 132;

pub struct AudioEvents {
    session: Session,
    names: Arc<[String]>,
}

/// What the model heard in a clip: the scores of windows every [`STRIDE`] samples from its
/// start.
#[derive(Clone, Debug)]
pub struct Heard {
    scores: Vec<f32>,
    names: Arc<[String]>,
}

impl AudioEvents {
    /// Loads `audio/yamnet-wav.onnx` and its class names from a model pack directory.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<AudioEvents> {
        let map = pack.join("audio/yamnet-class-map.csv");
        let names = class_names(&read_text(&map)?);
        if names.len() != CLASSES {
            return Err(ModelError::Load {
                path: map,
                message: format!("expected {CLASSES} classes, found {}", names.len()),
            });
        }
        Ok(AudioEvents {
            session: runtime.session(&pack.join("audio/yamnet-wav.onnx"))?,
            names: names.into(),
        })
    }

    /// Scores of windows every [`STRIDE`] samples over `pcm` (16 kHz mono); the last one is
    /// padded with silence.
    pub fn listen(&mut self, pcm: &[f32]) -> Result<Heard> {
        let starts: Vec<usize> = (0..pcm.len().saturating_sub(WINDOW - STRIDE).max(1))
            .step_by(STRIDE)
            .collect();
        let mut scores = Vec::with_capacity(starts.len() * CLASSES);
        for chunk in starts.chunks(BATCH) {
            let windows: Vec<&[f32]> = chunk
                .iter()
                .map(|&a| &pcm[a.min(pcm.len())..(a + WINDOW).min(pcm.len())])
                .collect();
            scores.extend(self.scores(&windows)?);
        }
        Ok(Heard {
            scores,
            names: self.names.clone(),
        })
    }

    /// The scores of each window, window after window.
    fn scores(&mut self, windows: &[&[f32]]) -> Result<Vec<f32>> {
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = Array2::<f32>::zeros((windows.len(), WINDOW));
        for (mut row, w) in batch.outer_iter_mut().zip(windows) {
            let n = w.len().min(WINDOW);
            row.as_slice_mut()
                .expect("rows of a new array are contiguous")[..n]
                .copy_from_slice(&w[..n]);
        }
        let outputs = self
            .session
            .run(ort::inputs!["wav" => TensorRef::from_array_view(&batch).map_err(infer(NAME))?])
            .map_err(infer(NAME))?;
        let (shape, scores) = outputs["scores"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        if shape.len() != 2 || shape[1] as usize != CLASSES {
            return Err(ModelError::Inference {
                model: NAME,
                message: format!("scores of shape {shape:?}"),
            });
        }
        Ok(scores.to_vec())
    }
}

/// The display names of the class map (index,mid,display_name; names with commas are quoted).
fn class_names(csv: &str) -> Vec<String> {
    csv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let name = l.splitn(3, ',').nth(2).unwrap_or("").trim();
            name.trim_matches('"').to_string()
        })
        .collect()
}

impl Heard {
    /// Scores of [`CLASSES`] per window, window after window, with the classes' names.
    pub fn new(scores: Vec<f32>, names: Arc<[String]>) -> Heard {
        assert!(scores.len().is_multiple_of(CLASSES) && names.len() == CLASSES);
        Heard { scores, names }
    }
    pub fn windows(&self) -> usize {
        self.scores.len() / CLASSES
    }
    pub fn scores(&self, window: usize) -> &[f32] {
        &self.scores[window * CLASSES..(window + 1) * CLASSES]
    }
    /// Seconds from the clip's start to where window `i` starts.
    pub fn start(window: usize) -> f64 {
        (window * STRIDE) as f64 / RATE
    }
    /// The window holding second `t` (the one that starts last at or before it).
    pub fn window_at(&self, t: f64) -> usize {
        ((t.max(0.0) * RATE) as usize / STRIDE).min(self.windows().saturating_sub(1))
    }
    pub fn name(&self, class: usize) -> &str {
        &self.names[class]
    }
    /// The share of the windows from second `from` to `to` in which `class` scored at least
    /// `min_score` (0 for an empty span).
    pub fn share(&self, class: usize, from: f64, to: f64, min_score: f32) -> f32 {
        if self.windows() == 0 || to <= from {
            return 0.0;
        }
        let (first, last) = (self.window_at(from), self.window_at(to));
        let heard = (first..=last)
            .filter(|&w| self.scores(w)[class] >= min_score)
            .count();
        heard as f32 / (last - first + 1) as f32
    }
    /// How likely window `window` holds speech (0..1).
    pub fn speech(&self, window: usize) -> f32 {
        let s = self.scores(window);
        SPEECH.iter().map(|&c| s[c]).fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_keep_their_commas() {
        let csv = "index,mid,display_name\n0,/m/09x0r,Speech\n1,/m/0ytgt,\"Child speech, kid speaking\"\n";
        assert_eq!(class_names(csv), ["Speech", "Child speech, kid speaking"]);
    }

    #[test]
    fn share_counts_the_windows_of_a_span_that_heard_a_class() {
        // Ten windows; music in the last four.
        let mut scores = vec![0.0; 10 * CLASSES];
        for w in 6..10 {
            scores[w * CLASSES + MUSIC] = 0.9;
        }
        let heard = Heard::new(scores, vec![String::new(); CLASSES].into());
        let end = Heard::start(9);
        assert_eq!(heard.share(MUSIC, Heard::start(6), end, 0.5), 1.0);
        assert_eq!(heard.share(MUSIC, 0.0, end, 0.5), 0.4);
        assert_eq!(heard.share(MUSIC, 0.0, Heard::start(5), 0.5), 0.0);
        assert_eq!(heard.share(MUSIC, end, end, 0.5), 0.0);
    }
}
