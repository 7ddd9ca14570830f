//! Who is seen: each face's estimated age and gender (the face describer's readings) as words
//! ("young woman", "older man", "girl", "baby"), and a face filling the picture as a close-up,
//! so that "woman on the sand" or "close-up of a man's face" find pictures no object label
//! describes. Words at the face's moments, weighed by the describer's certainty.

use vx_models::{ModelError, RgbView};

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Input, Needs, Segments};
use crate::extract::{FaceOut, Output};
use crate::media::MediaKind;

/// Faces narrower than this share of the picture's shorter side are too small for the
/// describer's age and gender to mean much (a crowd in the background).
const MIN_FACE_SHARE: f32 = 0.06;
/// Faces the detector is less sure of are not described: at 0.5 it takes crema on a coffee
/// for a face (0.55), where real faces score 0.9 and more.
const MIN_FACE_SCORE: f32 = 0.8;
/// A face covering at least this share of the picture makes it a close-up.
const CLOSE_UP_AREA: f32 = 0.08;

/// A face as the describer read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reading {
    /// The detector's score.
    pub score: f32,
    /// Probability that the face is a man's.
    pub male: f32,
    /// Expected age in years.
    pub age: f32,
    /// The face box in the picture's pixels: x, y, width, height.
    pub rect: [f32; 4],
}

impl From<&FaceOut> for Reading {
    fn from(f: &FaceOut) -> Reading {
        Reading {
            score: f.score,
            male: f.male,
            age: f.age,
            rect: f.rect,
        }
    }
}

/// The words a face gives, with how sure each is.
pub fn words(face: &Reading, width: u32, height: u32) -> Vec<(String, f32)> {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let side = face.rect[2].min(face.rect[3]);
    if face.score < MIN_FACE_SCORE || side < MIN_FACE_SHARE * w.min(h) {
        return Vec::new();
    }
    let mut out = vec![person_word(face.age, face.male)];
    let area = face.rect[2] * face.rect[3] / (w * h);
    if area >= CLOSE_UP_AREA {
        out.push((
            format!("close-up of a face{HIDDEN_WORDS}portrait, headshot"),
            (area / (2.0 * CLOSE_UP_AREA)).min(1.0),
        ));
    }
    out
}

/// The age band and gender as a phrase, its hidden words the broader terms; the certainty is
/// the describer's probability for the gender it reads (a baby's is not named).
fn person_word(age: f32, male: f32) -> (String, f32) {
    let is_male = male > 0.5;
    let sure = if is_male { male } else { 1.0 - male };
    let (word, broader, sure) = match (age, is_male) {
        (a, _) if a < 4.0 => ("baby", "infant, toddler, child, kid", 1.0),
        (a, true) if a < 13.0 => ("boy", "child, kid", sure),
        (a, false) if a < 13.0 => ("girl", "child, kid", sure),
        (a, true) if a < 20.0 => ("teenage boy", "teenager, teen, young man", sure),
        (a, false) if a < 20.0 => ("teenage girl", "teenager, teen, young woman", sure),
        (a, true) if a < 36.0 => ("young man", "man, male, adult", sure),
        (a, false) if a < 36.0 => ("young woman", "woman, female, adult", sure),
        (a, true) if a < 60.0 => ("man", "male, adult", sure),
        (a, false) if a < 60.0 => ("woman", "female, adult", sure),
        (_, true) => ("older man", "old man, elderly, senior, man", sure),
        (_, false) => ("older woman", "old woman, elderly, senior, woman", sure),
    };
    (format!("{word}{HIDDEN_WORDS}{broader}, person"), sure)
}

pub struct Appearance;

impl Extractor for Appearance {
    fn name(&self) -> &'static str {
        "appearance"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Model("faces")
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Image, MediaKind::Video]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "appearance",
            heading: "who is seen",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    fn follows(&self) -> &'static [&'static str] {
        &["faces"]
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        for (l, look) in input.looks.iter().enumerate() {
            let faces: Vec<Reading> = match super::faces::found_on_look(input, out, l) {
                Some(found) => found.into_iter().map(Reading::from).collect(),
                None => read_faces(cx, look)?,
            };
            let mut found: Vec<(String, f32)> = Vec::new();
            for face in &faces {
                for (text, sure) in words(face, look.width, look.height) {
                    Input::keep_best(&mut found, text, sure);
                }
            }
            input.segments_at_look(l, self, &found, &mut out.segments);
        }
        Ok(())
    }
}

fn read_faces(cx: &mut Cx<'_, '_>, look: &RgbView) -> Result<Vec<Reading>, ModelError> {
    let faces = cx.models.faces()?;
    Ok(faces
        .faces(look, vx_models::faces::MIN_SCORE)?
        .into_iter()
        .map(|f| Reading {
            score: f.score,
            male: f.male,
            age: f.age,
            rect: [f.rect.x, f.rect.y, f.rect.w, f.rect.h],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extractors::split_hidden;

    fn face(age: f32, male: f32, side: f32) -> Reading {
        Reading {
            score: 0.95,
            male,
            age,
            rect: [10.0, 10.0, side, side],
        }
    }

    fn shown(words: &[(String, f32)]) -> Vec<&str> {
        words.iter().map(|(t, _)| split_hidden(t).0).collect()
    }

    #[test]
    fn age_and_gender_name_the_person() {
        assert_eq!(
            shown(&words(&face(28.0, 0.9, 60.0), 640, 480)),
            ["young man"]
        );
        assert_eq!(shown(&words(&face(45.0, 0.2, 60.0), 640, 480)), ["woman"]);
        assert_eq!(
            shown(&words(&face(70.0, 0.1, 60.0), 640, 480)),
            ["older woman"]
        );
        assert_eq!(shown(&words(&face(8.0, 0.7, 60.0), 640, 480)), ["boy"]);
        assert_eq!(shown(&words(&face(2.0, 0.7, 60.0), 640, 480)), ["baby"]);
    }

    #[test]
    fn certainty_is_the_gender_probability() {
        let w = words(&face(30.0, 0.6, 60.0), 640, 480);
        assert!((w[0].1 - 0.6).abs() < 1e-6);
        let w = words(&face(30.0, 0.05, 60.0), 640, 480);
        assert!((w[0].1 - 0.95).abs() < 1e-6);
        // The broader words are searchable, hidden from the phrase.
        assert!(split_hidden(&w[0].0).1.contains("woman"));
    }

    #[test]
    fn small_or_doubtful_faces_say_nothing_and_big_ones_are_close_ups() {
        assert!(words(&face(30.0, 0.9, 20.0), 640, 480).is_empty());
        let doubtful = Reading {
            score: 0.55,
            ..face(30.0, 0.9, 60.0)
        };
        assert!(words(&doubtful, 640, 480).is_empty());
        assert_eq!(
            shown(&words(&face(30.0, 0.9, 300.0), 640, 480)),
            ["young man", "close-up of a face"]
        );
    }
}
