//! Image quality: the cheap measures (fine detail, brightness, clipped highlights) of every
//! kept frame, as searchable words where one is blurry, dark or overexposed; BRISQUE's score of
//! each look. A video's measures are the medians over its frames (its looks for the score).
//! Each frame's fingerprint, by which search tells near-duplicates apart and puts the sharpest
//! first.

use vx_models::ModelError;
use vx_models::quality::{Looks, SIDE, fingerprint, looks};

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Kept, Measure, Needs, Segments, segment};
use crate::extract::{MeasureOut, Output};
use crate::media::MediaKind;

/// Below this much fine detail a look is blurry (a sharp photo 65-100, blurred by a pixel at
/// 512 px 20-40).
const BLURRY: f32 = 40.0;
/// Below this mean brightness (%) a look is dark.
const DARK: f32 = 16.0;
/// From this share of blown-out pixels (%) a look is overexposed.
const OVEREXPOSED: f32 = 15.0;

pub struct Quality;

impl Extractor for Quality {
    fn name(&self) -> &'static str {
        "quality"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("quality")
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::FrameFingerprints]
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Image, MediaKind::Video]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "quality",
            heading: "quality",
            has: None,
            embedded: false,
            labels: false,
        })
    }
    fn measures(&self) -> &'static [Measure] {
        &[
            Measure {
                name: "quality",
                unit: "/100",
                about: "image quality (100 - BRISQUE)",
            },
            Measure {
                name: "sharpness",
                unit: "/100",
                about: "fine detail",
            },
            Measure {
                name: "brightness",
                unit: "%",
                about: "brightness",
            },
            Measure {
                name: "highlights",
                unit: "%",
                about: "blown-out highlights",
            },
        ]
    }
    fn show(&self, m: &Measure, value: f64) -> String {
        format!("{}: {value:.0} {}", m.about, m.unit)
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        let model = cx.models.quality()?;
        let look_frames: Vec<usize> = (0..input.looks.len())
            .map(|l| input.look_frame(l))
            .collect();
        let (mut scores, mut frames) = (Vec::new(), Vec::new());
        for (i, view) in input.views.iter().enumerate() {
            let small = view.limit(SIDE)?;
            let view = small.as_ref().map_or(*view, |s| s.view());
            if look_frames.contains(&i) {
                scores.extend(model.score(&view)?);
            }
            out.frames[i].fingerprint = fingerprint(&view)?;
            let looks = looks(&view);
            for (text, confidence) in words(&looks) {
                out.segments
                    .push(segment(self, input.frame_span(i), text, confidence));
            }
            frames.push(looks);
        }
        if frames.is_empty() {
            return Ok(());
        }
        let of_frames = |f: fn(&Looks) -> f32| median(frames.iter().map(f).collect());
        let values = [
            (!scores.is_empty()).then(|| median(scores)),
            Some(of_frames(|l| l.sharpness)),
            Some(of_frames(|l| l.brightness)),
            Some(of_frames(|l| l.highlights)),
        ];
        for (m, value) in self.measures().iter().zip(values) {
            let Some(value) = value else { continue };
            out.measures.push(MeasureOut {
                extractor: self.name().into(),
                name: m.name.into(),
                track: 0,
                value: value as f64,
            });
        }
        Ok(())
    }
}

/// What is wrong with a frame, in words people search with, each with how sure it is (0.5-1).
fn words(l: &Looks) -> Vec<(String, f32)> {
    let sure = |how_far: f32| how_far.clamp(0.0, 1.0) * 0.5 + 0.5;
    let mut out = Vec::new();
    if l.sharpness < BLURRY {
        let text = format!("blurry{HIDDEN_WORDS}blurred, out of focus, soft");
        out.push((text, sure(1.0 - l.sharpness / BLURRY)));
    }
    if l.brightness < DARK {
        let text = format!("dark{HIDDEN_WORDS}underexposed, night");
        out.push((text, sure(1.0 - l.brightness / DARK)));
    }
    if l.highlights >= OVEREXPOSED {
        let text = format!("overexposed{HIDDEN_WORDS}too bright, blown highlights");
        out.push((text, sure(l.highlights / 100.0)));
    }
    out
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_wrong_becomes_words() {
        let looks = |sharpness, brightness, highlights| Looks {
            sharpness,
            brightness,
            highlights,
        };
        let said = |a| words(&a).into_iter().map(|(t, _)| t).collect::<Vec<_>>();
        assert!(said(looks(80.0, 45.0, 1.0)).is_empty());
        let all = said(looks(10.0, 5.0, 40.0));
        assert_eq!(all.len(), 3);
        assert!(all[0].starts_with("blurry") && all[1].starts_with("dark"));
        assert!(all[2].starts_with("overexposed"));
        let (_, very) = words(&looks(2.0, 45.0, 0.0))[0].clone();
        let (_, barely) = words(&looks(38.0, 45.0, 0.0))[0].clone();
        assert!(very > barely && barely >= 0.5, "{very} {barely}");
    }
}
