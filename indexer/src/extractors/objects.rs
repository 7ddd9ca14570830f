//! Objects: the COCO detector on each look; several persons also make "people" or "crowd".

use vx_models::ModelError;

use super::{Cx, Extractor, Needs, Segments};
use crate::extract::Output;

/// A person this likely is worth a look by the people models (the detector scores clear
/// people from 0.25; animals and still lifes mostly stay under 0.1), though not a word.
const PERSON_GATE: f32 = 0.2;

pub struct Objects;

impl Extractor for Objects {
    fn name(&self) -> &'static str {
        "objects"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("objects")
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "object",
            heading: "objects",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    fn seen<'t>(&self, text: &'t str) -> Option<&'t str> {
        Some(text)
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let det = cx.models.detector()?;
        let mut persons_in_looks = Vec::new();
        for (l, v) in cx.input.looks.iter().enumerate() {
            let mut found = det.detect(std::slice::from_ref(v), PERSON_GATE)?.remove(0);
            persons_in_looks.push(
                found
                    .iter()
                    .filter(|d| d.label == "person")
                    .map(|d| d.rect.h / v.width.max(v.height) as f32)
                    .reduce(f32::max),
            );
            found.retain(|d| d.score >= vx_models::detector::MIN_SCORE);
            let persons: Vec<f32> = found
                .iter()
                .filter(|d| d.label == "person")
                .map(|d| d.score)
                .collect();
            let score = persons.iter().copied().fold(0.0, f32::max);
            let words = collective_words(persons.len())
                .iter()
                .map(|w| (w.to_string(), score))
                .chain(found.into_iter().map(|d| (d.label, d.score)))
                .collect::<Vec<_>>();
            cx.input
                .segments_at_look(l, self, &words, &mut out.segments);
        }
        out.persons_in_looks = Some(persons_in_looks);
        Ok(())
    }
}

/// Words people use for several persons: "people" from two, "crowd" from five.
fn collective_words(persons: usize) -> &'static [&'static str] {
    match persons {
        0 | 1 => &[],
        2..=4 => &["people"],
        _ => &["people", "crowd"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_persons_make_people() {
        assert!(collective_words(1).is_empty());
        assert_eq!(collective_words(3), &["people"]);
        assert_eq!(collective_words(7), &["people", "crowd"]);
    }
}
