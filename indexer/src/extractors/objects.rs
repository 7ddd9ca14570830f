//! Objects: the COCO detector on each look; several persons also make "people" or "crowd".

use vx_models::ModelError;

use super::scenes::HIDDEN_WORDS;
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
        3
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
            let counted = counted_words(found.iter().map(|d| (d.label.as_str(), d.score)));
            let words = collective_words(persons.len())
                .iter()
                .map(|w| (w.to_string(), score))
                .chain(counted)
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

/// "two dogs" for a class detected more than once (persons have their own words), sure as
/// the least sure of them; the figure ("2 dogs") is a hidden word.
fn counted_words<'l>(found: impl Iterator<Item = (&'l str, f32)>) -> Vec<(String, f32)> {
    let mut classes: Vec<(&str, usize, f32)> = Vec::new();
    for (label, score) in found.filter(|(l, _)| *l != "person") {
        match classes.iter_mut().find(|c| c.0 == label) {
            Some(c) => {
                c.1 += 1;
                c.2 = c.2.min(score);
            }
            None => classes.push((label, 1, score)),
        }
    }
    const NUMBERS: [&str; 9] = [
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    classes
        .into_iter()
        .filter(|c| c.1 >= 2)
        .map(|(label, n, sure)| {
            let many = plural(label);
            let text = match NUMBERS.get(n - 2) {
                Some(word) => format!("{word} {many}{HIDDEN_WORDS}{n} {many}, {many}"),
                None => format!("many {many}{HIDDEN_WORDS}{n} {many}, {many}"),
            };
            (text, sure)
        })
        .collect()
}

/// The plural of a COCO class name.
fn plural(label: &str) -> String {
    let (head, last) = label.rsplit_once(' ').map_or(("", label), |(h, l)| (h, l));
    let many = match last {
        "sheep" | "skis" | "scissors" => last.to_string(),
        "mouse" => "mice".to_string(),
        "knife" => "knives".to_string(),
        w if ["s", "sh", "ch", "x", "z"].iter().any(|e| w.ends_with(e)) => format!("{w}es"),
        w => format!("{w}s"),
    };
    if head.is_empty() {
        many
    } else {
        format!("{head} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extractors::split_hidden;

    #[test]
    fn classes_seen_more_than_once_are_counted() {
        let found = [
            ("dog", 0.9),
            ("person", 0.8),
            ("wine glass", 0.6),
            ("dog", 0.4),
            ("person", 0.7),
            ("wine glass", 0.5),
            ("wine glass", 0.7),
            ("cat", 0.9),
        ];
        let words = counted_words(found.into_iter());
        let shown: Vec<(&str, f32)> = words.iter().map(|(t, s)| (split_hidden(t).0, *s)).collect();
        assert_eq!(shown, [("two dogs", 0.4), ("three wine glasses", 0.5)]);
        assert_eq!(split_hidden(&words[1].0).1, "3 wine glasses, wine glasses");
        assert_eq!(plural("bus"), "buses");
        assert_eq!(plural("sheep"), "sheep");
        let many = counted_words(std::iter::repeat_n(("car", 0.5), 12));
        assert_eq!(split_hidden(&many[0].0).0, "many cars");
    }

    #[test]
    fn several_persons_make_people() {
        assert!(collective_words(1).is_empty());
        assert_eq!(collective_words(3), &["people"]);
        assert_eq!(collective_words(7), &["people", "crowd"]);
    }
}
