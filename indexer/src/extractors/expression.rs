//! Facial expressions (the mini-Xception model, weak): every face's likeliest expression is
//! stored with it; only a confident "smiling" or "neutral" is searchable, as a word at the
//! face's moments and after a named person's name ("Alice smiling").

use vx_models::expression::CLASSES;
use vx_models::{ModelError, Rect};

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Input, Kept, Needs, Segments};
use crate::extract::{ExpressionOut, Output};
use crate::media::MediaKind;

/// The model is weak: its other classes are unreliable, and these two only count when it is
/// this sure (the pack's README: a smile at 1.00, neutral faces at 0.81-0.85, mixed ones lower).
const SURE: f32 = 0.75;

/// The searchable word for a face's stored expression, when there is one.
pub fn searchable(label: Option<&str>, score: f32) -> Option<&'static str> {
    match label {
        Some("happy") if score >= SURE => Some("smiling"),
        Some("neutral") if score >= SURE => Some("neutral"),
        _ => None,
    }
}

pub struct Expression;

impl Extractor for Expression {
    fn name(&self) -> &'static str {
        "expression"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Model("expression")
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Image, MediaKind::Video]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "expression",
            heading: "expressions",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::Expressions]
    }
    fn follows(&self) -> &'static [&'static str] {
        &["faces"]
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        for (l, look) in input.looks.iter().enumerate() {
            let boxes: Vec<Rect> = match super::faces::found_on_look(input, out, l) {
                Some(found) => found
                    .iter()
                    .map(|f| Rect {
                        x: f.rect[0],
                        y: f.rect[1],
                        w: f.rect[2],
                        h: f.rect[3],
                    })
                    .collect(),
                None => {
                    let detector = cx.models.faces()?;
                    let found = detector.detect(look, vx_models::faces::MIN_SCORE)?;
                    found.into_iter().map(|(r, _)| r).collect()
                }
            };
            if boxes.is_empty() {
                continue;
            }
            let probs = cx.models.expression()?.classify(look, &boxes)?;
            let mut words: Vec<(String, f32)> = Vec::new();
            for (rect, p) in boxes.iter().zip(&probs) {
                let (class, &score) = p
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .expect("seven classes");
                out.expressions.push(ExpressionOut {
                    rect: [rect.x, rect.y, rect.w, rect.h],
                    label: CLASSES[class].into(),
                    score,
                });
                if let Some(word) = searchable(Some(CLASSES[class]), score) {
                    let text = match word {
                        "smiling" => format!("smiling{HIDDEN_WORDS}smile, happy"),
                        _ => format!("neutral{HIDDEN_WORDS}serious, expressionless"),
                    };
                    Input::keep_best(&mut words, text, score);
                }
            }
            input.segments_at_look(l, self, &words, &mut out.segments);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sure_smiles_and_neutral_faces_are_words() {
        assert_eq!(searchable(Some("happy"), 0.9), Some("smiling"));
        assert_eq!(searchable(Some("neutral"), 0.8), Some("neutral"));
        assert_eq!(searchable(Some("happy"), 0.6), None);
        assert_eq!(searchable(Some("fear"), 0.99), None);
        assert_eq!(searchable(None, 1.0), None);
    }
}
