//! Speaker turns: voice embeddings (Resemblyzer) of 1.6 s windows every 0.77 s over the
//! stretches with speech, grouped into the recording's speakers (`crate::diarize`). Each
//! speaker's centroid is kept for grouping voices across files (`crate::voices`); transcript
//! segments get their speaker from the turns when indexed and shown.

use vx_models::ModelError;
use vx_models::speaker::{STEP, WINDOW, gain};

use super::transcript::speech_or_sound_regions;
use super::{Cx, Extractor, Kept, Needs, Stage};
use crate::diarize::{Window, diarize};
use crate::extract::Output;
use crate::media::MediaKind;

const RATE: f64 = vx_models::transcriber::SAMPLE_RATE as f64;

pub struct Speakers;

impl Extractor for Speakers {
    fn name(&self) -> &'static str {
        "speakers"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Model("speakers")
    }
    fn stage(&self) -> Stage {
        Stage::Sound
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Video, MediaKind::Audio]
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::Speakers]
    }
    fn listens(&self) -> bool {
        true
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let Some(pcm) = cx.input.decoded.audio.as_deref() else {
            return Ok(());
        };
        let heard = cx.input.heard.as_ref().and_then(|h| h.as_ref().ok());
        let starts = window_starts(&speech_or_sound_regions(pcm, heard));
        if starts.is_empty() {
            return Ok(());
        }
        let embeddings = cx.models.speaker()?.embed(pcm, &starts, gain(pcm))?;
        let windows: Vec<Window> = starts
            .iter()
            .zip(embeddings.chunks(vx_models::speaker::DIM))
            .map(|(&a, e)| Window {
                start: a as f64 / RATE,
                end: (a + WINDOW).min(pcm.len()) as f64 / RATE,
                embedding: e.to_vec(),
            })
            .collect();
        out.speakers = diarize(&windows);
        Ok(())
    }
}

/// Speech shorter than this (samples) is not embedded: too little to tell a voice by.
const SHORTEST: usize = WINDOW / 2;

/// Where windows start over each region: every [`STEP`], and one more ending at the region's
/// end when the last would leave more than half a step of it out; a region shorter than a
/// window gets one window (padded with what follows).
fn window_starts(regions: &[(usize, usize)]) -> Vec<usize> {
    let mut starts = Vec::new();
    for &(a, b) in regions.iter().filter(|(a, b)| b - a >= SHORTEST) {
        let first = starts.len();
        starts.extend((a..(b.saturating_sub(WINDOW) + 1).max(a + 1)).step_by(STEP));
        let last = *starts.last().expect("one at least");
        if starts.len() > first && last + WINDOW + STEP / 2 < b {
            starts.push(b - WINDOW);
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_each_region_and_skip_scraps() {
        assert_eq!(window_starts(&[(0, 100)]), Vec::<usize>::new());
        assert_eq!(window_starts(&[(0, WINDOW)]), [0]);
        assert_eq!(window_starts(&[(1000, 1000 + WINDOW * 3 / 4)]), [1000]);
        let long = window_starts(&[(0, WINDOW + 2 * STEP + STEP * 3 / 4)]);
        assert_eq!(long, [0, STEP, 2 * STEP, STEP * 11 / 4]);
        assert_eq!(
            window_starts(&[(0, WINDOW), (50_000, 50_000 + WINDOW)]),
            [0, 50_000]
        );
    }
}
