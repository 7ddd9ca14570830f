//! People's poses (MoveNet MultiPose) in each look with a person in it: how many people, and
//! words for what the keypoints show (standing, sitting, lying, arms raised); the keypoints
//! are stored for later use.

use vx_models::ModelError;
use vx_models::pose::{Joint, Person};

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Input, Kept, Measure, Needs, Segments};
use crate::extract::{MeasureOut, Output, PoseOut};
use crate::media::MediaKind;

pub struct Pose;

impl Extractor for Pose {
    fn name(&self) -> &'static str {
        "pose"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Model("pose")
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Image, MediaKind::Video]
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "pose",
            heading: "poses",
            has: None,
            embedded: false,
        })
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::Poses]
    }
    fn measures(&self) -> &'static [Measure] {
        &[Measure {
            name: "people",
            unit: "",
            about: "most people in one scene",
        }]
    }
    fn show(&self, m: &Measure, value: f64) -> String {
        format!("{}: {value:.0}", m.about)
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        let model = cx.models.pose()?;
        let mut most = 0;
        for (l, look) in input.looks.iter().enumerate() {
            // Where the detector ran and saw nobody, there is no one to pose; where it saw
            // someone, one run at the size that finds people that tall.
            let people = match out.persons_in_looks.as_ref().map(|p| p[l]) {
                Some(None) => continue,
                Some(Some(tallest)) => model.people_sized(look, tallest)?,
                None => model.people(look)?,
            };
            most = most.max(people.len());
            let mut found: Vec<(String, f32)> = Vec::new();
            if let Some(count) = count_words(people.len()) {
                found.push((count, people[0].score));
            }
            for p in &people {
                for word in posture(p) {
                    Input::keep_best(&mut found, word.to_string(), p.score);
                }
            }
            input.segments_at_look(l, self, &found, &mut out.segments);
            let time = input.decoded.frames[input.look_frame(l)].time;
            out.poses.extend(people.iter().map(|p| PoseOut {
                time,
                score: p.score,
                keypoints: p.keypoints.iter().map(|k| [k.x, k.y, k.score]).collect(),
            }));
        }
        if !input.looks.is_empty() {
            out.measures.push(MeasureOut {
                extractor: self.name().into(),
                name: "people".into(),
                track: 0,
                value: most as f64,
            });
        }
        Ok(())
    }
}

/// "one person", "3 people" (findable as "three people" too).
fn count_words(n: usize) -> Option<String> {
    const WORDS: [&str; 9] = [
        "", "one", "two", "three", "four", "five", "six", "seven", "eight",
    ];
    match n {
        0 => None,
        1 => Some("one person".into()),
        _ => Some(format!(
            "{n} people{HIDDEN_WORDS}{} people",
            WORDS.get(n).unwrap_or(&"many")
        )),
    }
}

/// What one person's keypoints show. Image y grows downwards; lengths are in torso lengths
/// (shoulders to hips), so that the rules hold at any size.
fn posture(p: &Person) -> Vec<&'static str> {
    let mut words = Vec::new();
    let mid = |a: Joint, b: Joint| match (p.at(a), p.at(b)) {
        (Some(a), Some(b)) => Some(((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)),
        (Some(k), None) | (None, Some(k)) => Some((k.x, k.y)),
        (None, None) => None,
    };
    // Wrists above the head.
    let head = p
        .at(Joint::Nose)
        .map(|k| k.y)
        .or_else(|| mid(Joint::LeftEye, Joint::RightEye).map(|e| e.1));
    if let Some(head) = head {
        let raised = [Joint::LeftWrist, Joint::RightWrist]
            .into_iter()
            .filter(|&w| p.at(w).is_some_and(|w| w.y < head))
            .count();
        match raised {
            2 => words.push("arms raised"),
            1 => words.push("hand raised"),
            _ => {}
        }
    }
    let (Some(shoulders), Some(hips)) = (
        mid(Joint::LeftShoulder, Joint::RightShoulder),
        mid(Joint::LeftHip, Joint::RightHip),
    ) else {
        return words;
    };
    let (dx, dy) = (hips.0 - shoulders.0, hips.1 - shoulders.1);
    let torso = dx.hypot(dy);
    if torso < 1.0 {
        return words;
    }
    if dx.abs() > dy.abs() {
        words.push("lying");
    } else if dy > 0.0
        && let Some(knees) = mid(Joint::LeftKnee, Joint::RightKnee)
    {
        let thigh_drop = (knees.1 - hips.1) / torso;
        let shin_drop = mid(Joint::LeftAnkle, Joint::RightAnkle).map(|a| (a.1 - knees.1) / torso);
        if thigh_drop < 0.5 {
            words.push("sitting");
        } else if thigh_drop >= 0.6 && shin_drop.is_some_and(|s| s >= 0.4) {
            words.push("standing");
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use vx_models::Rect;
    use vx_models::pose::Keypoint;

    /// A person from (joint, x, y) triples; the rest unseen.
    fn person(points: &[(Joint, f32, f32)]) -> Person {
        let mut keypoints = [Keypoint::default(); 17];
        for &(j, x, y) in points {
            keypoints[j as usize] = Keypoint { x, y, score: 0.9 };
        }
        Person {
            score: 0.8,
            rect: Rect::from_corners(0.0, 0.0, 1.0, 1.0),
            keypoints,
        }
    }

    use Joint::*;
    const HEAD_AND_TORSO: [(Joint, f32, f32); 5] = [
        (Nose, 50.0, 20.0),
        (LeftShoulder, 40.0, 40.0),
        (RightShoulder, 60.0, 40.0),
        (LeftHip, 42.0, 100.0),
        (RightHip, 58.0, 100.0),
    ];

    fn with(extra: &[(Joint, f32, f32)]) -> Vec<&'static str> {
        let mut all = HEAD_AND_TORSO.to_vec();
        all.extend_from_slice(extra);
        posture(&person(&all))
    }

    #[test]
    fn legs_tell_standing_from_sitting() {
        // Knees a torso below the hips, ankles below them: standing.
        let standing = [(LeftKnee, 42.0, 160.0), (LeftAnkle, 42.0, 220.0)];
        assert_eq!(with(&standing), ["standing"]);
        // Thighs forward, level with the hips: sitting.
        let sitting = [(LeftKnee, 90.0, 110.0), (LeftAnkle, 90.0, 170.0)];
        assert_eq!(with(&sitting), ["sitting"]);
        // No legs seen: no posture.
        assert!(with(&[]).is_empty());
    }

    #[test]
    fn a_level_torso_is_lying_and_wrists_above_the_head_are_raised() {
        let lying = person(&[
            (LeftShoulder, 40.0, 100.0),
            (RightShoulder, 40.0, 110.0),
            (LeftHip, 100.0, 102.0),
            (RightHip, 100.0, 112.0),
        ]);
        assert_eq!(posture(&lying), ["lying"]);
        let both = [(LeftWrist, 30.0, 5.0), (RightWrist, 70.0, 8.0)];
        assert_eq!(with(&both), ["arms raised"]);
        let one = [(LeftWrist, 30.0, 5.0), (RightWrist, 70.0, 90.0)];
        assert_eq!(with(&one), ["hand raised"]);
    }

    #[test]
    fn counts_are_words() {
        assert_eq!(count_words(0), None);
        assert_eq!(count_words(1).unwrap(), "one person");
        assert_eq!(
            count_words(3).unwrap(),
            format!("3 people{HIDDEN_WORDS}three people")
        );
        assert!(count_words(12).unwrap().ends_with("many people"));
    }
}
