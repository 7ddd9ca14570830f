//! People's poses (MoveNet MultiPose) in each look with a person in it: how many people, and
//! words for what the keypoints show (standing, sitting, lying, arms raised); in a video, every
//! kept frame of a scene with people, for what the run of frames shows (jumping, dancing to
//! music: `crate::motion`). The keypoints are stored for later use.

use vx_models::ModelError;
use vx_models::audio_events::MUSIC;
use vx_models::pose::{Joint, Person};

use super::scenes::HIDDEN_WORDS;
use super::sounds::HEARD;
use super::{Cx, Extractor, Input, Kept, Measure, Needs, Segments, segment};
use crate::extract::{MeasureOut, Output, PoseOut};
use crate::media::MediaKind;
use crate::motion;

/// Dancing is judged over stretches of this many kept frames (about as many seconds).
const DANCE_FRAMES: usize = 5;
/// Music plays where YAMNet hears it (as the sound extractor hears a class) in at least this
/// share of a stretch's windows.
const MUSIC_SHARE: f32 = 0.5;

pub struct Pose;

impl Extractor for Pose {
    fn name(&self) -> &'static str {
        "pose"
    }
    fn version(&self) -> u32 {
        2
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
            labels: true,
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
    fn listens(&self) -> bool {
        true // dancing is moving to music
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        let model = cx.models.pose()?;
        let mut most = 0;
        // Each look's people, where the detector saw someone or did not run.
        let mut at_look: Vec<Option<Vec<Person>>> = Vec::with_capacity(input.looks.len());
        for (l, look) in input.looks.iter().enumerate() {
            let Some(people) = pose_look(model, out, l, look)? else {
                at_look.push(None);
                continue;
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
            out.poses.extend(people.iter().map(|p| pose_out(time, p)));
            at_look.push(Some(people));
        }
        if !input.is_image() {
            self.motion(input, model, &at_look, out)?;
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

impl Pose {
    /// Poses every kept frame of the scenes whose look has people, and adds what each run of
    /// such frames shows. (A jump close to the camera may start a scene of its own: runs go
    /// across scenes.)
    fn motion(
        &self,
        input: &Input<'_>,
        model: &mut vx_models::pose::Pose,
        at_look: &[Option<Vec<Person>>],
        out: &mut Output,
    ) -> Result<(), ModelError> {
        let posed = pose_frames(input, model, at_look, out)?;
        let mut first = 0;
        while first < posed.len() {
            let run: Vec<&[Person]> = posed[first..].iter().map_while(|p| p.as_deref()).collect();
            self.read_run(input, first, &run, out);
            first += run.len().max(1);
        }
        Ok(())
    }

    /// What a run of posed frames from frame `first` shows: "jumping" at a frame where someone
    /// is in mid-jump, "dancing" over stretches where limbs keep moving while music plays.
    fn read_run(&self, input: &Input<'_>, first: usize, run: &[&[Person]], out: &mut Output) {
        let best = |people: &[Person]| people.iter().map(|p| p.score).fold(0.0, f32::max);
        let bodies = motion::bodies(run);
        for j in motion::jumps(&bodies) {
            let span = input.frame_span(first + j);
            out.segments
                .push(segment(self, span, "jumping".into(), best(run[j])));
        }
        for (from, to) in motion::stretches(run.len(), DANCE_FRAMES) {
            let span = (
                input.frame_span(first + from).0,
                input.frame_span(first + to - 1).1,
            );
            if !music(input, span) || !motion::limbs_keep_moving(&bodies[from..to]) {
                continue;
            }
            let score = run[from..to].iter().map(|p| best(p)).fold(0.0, f32::max);
            match out.segments.last_mut() {
                // Dancing on from the stretch before: one segment.
                Some(last) if last.text == "dancing" && last.end >= span.0 => {
                    last.end = span.1;
                    last.confidence = last.confidence.max(score);
                }
                _ => out
                    .segments
                    .push(segment(self, span, "dancing".into(), score)),
            }
        }
    }
}

/// Each kept frame's people where its scene's look has any (the look's own frame is not posed
/// again); None elsewhere.
fn pose_frames(
    input: &Input<'_>,
    model: &mut vx_models::pose::Pose,
    at_look: &[Option<Vec<Person>>],
    out: &mut Output,
) -> Result<Vec<Option<Vec<Person>>>, ModelError> {
    let mut posed: Vec<Option<Vec<Person>>> = vec![None; input.views.len()];
    for (k, &first) in input.scenes.starts.iter().enumerate() {
        let l = input.scenes.look[k];
        let Some(seen) = at_look[l].as_ref().filter(|p| !p.is_empty()) else {
            continue;
        };
        let end = input.scenes.starts.get(k + 1).copied();
        let frames = first..end.unwrap_or(input.views.len());
        for (slot, i) in posed[frames.clone()].iter_mut().zip(frames) {
            *slot = Some(if i == input.look_frame(l) {
                seen.clone()
            } else {
                let people = pose_look(model, out, l, &input.views[i])?.unwrap_or_default();
                let time = input.decoded.frames[i].time;
                out.poses.extend(people.iter().map(|p| pose_out(time, p)));
                people
            });
        }
    }
    Ok(posed)
}

/// Whether music plays through most of `span`.
fn music(input: &Input<'_>, (from, to): (f64, f64)) -> bool {
    match &input.heard {
        Some(Ok(heard)) => heard.share(MUSIC, from, to, HEARD) >= MUSIC_SHARE,
        _ => false,
    }
}

/// People in `look` (look `l` or a frame of its scenes): None where the detector ran on look
/// `l` and saw nobody; else one run at the size that finds people as tall as the detector's
/// tallest there (or at both sizes without it).
fn pose_look(
    model: &mut vx_models::pose::Pose,
    out: &Output,
    l: usize,
    look: &vx_models::RgbView,
) -> Result<Option<Vec<Person>>, ModelError> {
    match out.persons_in_looks.as_ref().map(|p| p[l]) {
        Some(None) => Ok(None),
        Some(Some(tallest)) => model.people_sized(look, tallest).map(Some),
        None => model.people(look).map(Some),
    }
}

fn pose_out(time: f64, p: &Person) -> PoseOut {
    PoseOut {
        time,
        score: p.score,
        keypoints: p.keypoints.iter().map(|k| [k.x, k.y, k.score]).collect(),
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
    let mid = |a: Joint, b: Joint| p.between(a, b);
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
