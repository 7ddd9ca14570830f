//! Motion over a run of a scene's frames, from the poses found in each: a person in mid-jump
//! (risen above where they stood in the frames either side of it) and limbs that keep
//! changing from frame to frame (dancing, where music plays). Kept frames are a second or
//! more apart, so this sees only what such a run shows; one photo shows no motion.
//!
//! Lengths are in torso lengths (shoulders to hips) and angles are taken against the torso,
//! so that the rules hold at any size and any camera roll.

use vx_models::pose::{Joint, Person};

/// A jump: hips and ankles both this many torso lengths above the frames either side.
const JUMP_RISE: f32 = 0.35;
/// The same person one frame later: their hips within this many torso lengths (a jump moves
/// them up to about one), their torso within this ratio of its length.
const FOLLOW_DISTANCE: f32 = 1.5;
const FOLLOW_SIZE: f32 = 1.4;
/// Limbs moved between two frames: the half that turned most turned this many degrees on
/// average against the torso (arms alone can dance; one jittery limb cannot).
const MOVED_DEGREES: f32 = 35.0;
/// At least this many limbs seen in both frames to compare them.
const MIN_LIMBS: usize = 3;

const LIMBS: [(Joint, Joint); 8] = [
    (Joint::LeftShoulder, Joint::LeftElbow),
    (Joint::LeftElbow, Joint::LeftWrist),
    (Joint::RightShoulder, Joint::RightElbow),
    (Joint::RightElbow, Joint::RightWrist),
    (Joint::LeftHip, Joint::LeftKnee),
    (Joint::LeftKnee, Joint::LeftAnkle),
    (Joint::RightHip, Joint::RightKnee),
    (Joint::RightKnee, Joint::RightAnkle),
];

/// What motion needs of one person in one frame.
#[derive(Clone, Debug)]
pub struct Body {
    hips: (f32, f32),
    ankles: Option<(f32, f32)>,
    torso: f32,
    /// Each limb's direction against the torso's, in degrees, where both its ends are seen.
    limbs: [Option<f32>; 8],
}

impl Body {
    /// None without both shoulders' and hips' middles (no torso to measure by).
    pub fn of(p: &Person) -> Option<Body> {
        let shoulders = p.between(Joint::LeftShoulder, Joint::RightShoulder)?;
        let hips = p.between(Joint::LeftHip, Joint::RightHip)?;
        let (dx, dy) = (hips.0 - shoulders.0, hips.1 - shoulders.1);
        let torso = dx.hypot(dy);
        if torso < 1.0 {
            return None;
        }
        let torso_angle = dy.atan2(dx).to_degrees();
        let limbs = LIMBS.map(|(a, b)| {
            let (a, b) = (p.at(a)?, p.at(b)?);
            Some((b.y - a.y).atan2(b.x - a.x).to_degrees() - torso_angle)
        });
        Some(Body {
            hips,
            ankles: p.between(Joint::LeftAnkle, Joint::RightAnkle),
            torso,
            limbs,
        })
    }

    /// The body in `next` that is this one a frame later, if any.
    fn follow<'a>(&self, next: &'a [Body]) -> Option<&'a Body> {
        next.iter()
            .filter(|b| {
                let ratio = b.torso / self.torso;
                (1.0 / FOLLOW_SIZE..=FOLLOW_SIZE).contains(&ratio)
            })
            .map(|b| (b, distance(b.hips, self.hips) / self.torso))
            .filter(|&(_, d)| d <= FOLLOW_DISTANCE)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(b, _)| b)
    }

    /// How far up (in torso lengths) this body's hips and ankles both are against `other`'s.
    fn above(&self, other: &Body) -> Option<f32> {
        let torso = (self.torso + other.torso) / 2.0;
        let hips = other.hips.1 - self.hips.1;
        let ankles = other.ankles?.1 - self.ankles?.1;
        Some(hips.min(ankles) / torso)
    }

    /// The mean turn of the half of the limbs seen in both frames that turned most, in degrees.
    fn limbs_turned(&self, other: &Body) -> Option<f32> {
        let mut turns: Vec<f32> = self
            .limbs
            .iter()
            .zip(&other.limbs)
            .filter_map(|(a, b)| {
                let d = (a.as_ref()? - b.as_ref()?).rem_euclid(360.0);
                Some(d.min(360.0 - d))
            })
            .collect();
        if turns.len() < MIN_LIMBS {
            return None;
        }
        turns.sort_by(|a, b| b.total_cmp(a));
        let most = &turns[..turns.len().div_ceil(2)];
        Some(most.iter().sum::<f32>() / most.len() as f32)
    }
}

fn distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// Fewest frames that show motion: a frame either side of a jump.
pub const MIN_FRAMES: usize = 3;

/// `0..frames` cut into stretches of `size` frames, a short last one joined to the one before
/// it; none when there are too few frames to show motion.
pub fn stretches(frames: usize, size: usize) -> Vec<(usize, usize)> {
    let size = size.max(MIN_FRAMES);
    let mut out: Vec<(usize, usize)> = (0..frames)
        .step_by(size)
        .map(|from| (from, (from + size).min(frames)))
        .collect();
    if let Some(&(from, to)) = out.last()
        && to - from < MIN_FRAMES
    {
        out.pop();
        match out.last_mut() {
            Some(last) => last.1 = to,
            None => return Vec::new(),
        }
    }
    out
}

/// The bodies of each frame of a run.
pub fn bodies(frames: &[&[Person]]) -> Vec<Vec<Body>> {
    frames
        .iter()
        .map(|people| people.iter().filter_map(Body::of).collect())
        .collect()
}

/// The frames of a run in which someone is in mid-jump: risen above the frame before and the
/// frame after. When everyone seen in three frames rises together, the camera moved instead.
pub fn jumps(frames: &[Vec<Body>]) -> Vec<usize> {
    (1..frames.len().saturating_sub(1))
        .filter(|&i| {
            let (mut followed, mut risen) = (0, 0);
            for b in &frames[i] {
                let (Some(before), Some(after)) =
                    (b.follow(&frames[i - 1]), b.follow(&frames[i + 1]))
                else {
                    continue;
                };
                followed += 1;
                let rise = b.above(before).zip(b.above(after)).map(|(x, y)| x.min(y));
                if rise.is_some_and(|r| r >= JUMP_RISE) {
                    risen += 1;
                }
            }
            risen > 0 && (followed == 1 || risen < followed)
        })
        .collect()
}

/// Whether people keep moving their limbs through a run: someone's limbs turned between at
/// least two pairs of neighbouring frames, and between two pairs in three of those where
/// someone was followed.
pub fn limbs_keep_moving(frames: &[Vec<Body>]) -> bool {
    let (mut compared, mut moved) = (0, 0);
    for pair in frames.windows(2) {
        let turns: Vec<f32> = pair[0]
            .iter()
            .filter_map(|b| b.limbs_turned(b.follow(&pair[1])?))
            .collect();
        if turns.is_empty() {
            continue;
        }
        compared += 1;
        if turns.iter().any(|&t| t >= MOVED_DEGREES) {
            moved += 1;
        }
    }
    moved >= 2 && 3 * moved >= 2 * compared
}

#[cfg(test)]
mod tests {
    use super::*;
    use Joint::*;
    use vx_models::Rect;
    use vx_models::pose::Keypoint;

    /// A person standing at (x, y) (hips' middle), torso 60 px, arms at `arm` degrees from
    /// hanging down (0: by the sides, 180: straight up).
    fn standing(x: f32, y: f32, arm: f32) -> Person {
        let mut k = [Keypoint::default(); 17];
        let mut set = |j: Joint, px: f32, py: f32| {
            k[j as usize] = Keypoint {
                x: px,
                y: py,
                score: 0.9,
            }
        };
        set(Nose, x, y - 80.0);
        set(LeftShoulder, x - 10.0, y - 60.0);
        set(RightShoulder, x + 10.0, y - 60.0);
        set(LeftHip, x - 8.0, y);
        set(RightHip, x + 8.0, y);
        set(LeftKnee, x - 8.0, y + 50.0);
        set(RightKnee, x + 8.0, y + 50.0);
        set(LeftAnkle, x - 8.0, y + 100.0);
        set(RightAnkle, x + 8.0, y + 100.0);
        let (s, c) = arm.to_radians().sin_cos();
        for (side, shoulder, elbow, wrist) in [
            (-1.0, -10.0, LeftElbow, LeftWrist),
            (1.0, 10.0, RightElbow, RightWrist),
        ] {
            set(elbow, x + shoulder + side * 30.0 * s, y - 60.0 + 30.0 * c);
            set(wrist, x + shoulder + side * 60.0 * s, y - 60.0 + 60.0 * c);
        }
        Person {
            score: 0.8,
            rect: Rect::from_corners(x - 40.0, y - 90.0, x + 40.0, y + 100.0),
            keypoints: k,
        }
    }

    /// The bodies of frames given as their people.
    fn run<const N: usize>(frames: [&[&Person]; N]) -> Vec<Vec<Body>> {
        let frames: Vec<Vec<Person>> = frames
            .iter()
            .map(|f| f.iter().map(|&p| p.clone()).collect())
            .collect();
        of(&frames)
    }

    fn of(frames: &[Vec<Person>]) -> Vec<Vec<Body>> {
        bodies(&frames.iter().map(Vec::as_slice).collect::<Vec<_>>())
    }

    #[test]
    fn stretches_join_a_short_last_one() {
        assert_eq!(stretches(12, 5), [(0, 5), (5, 12)]);
        assert_eq!(stretches(13, 5), [(0, 5), (5, 10), (10, 13)]);
        assert_eq!(stretches(4, 5), [(0, 4)]);
        assert!(stretches(2, 5).is_empty());
    }

    #[test]
    fn a_body_risen_between_two_frames_is_a_jump() {
        let ground = standing(200.0, 300.0, 0.0);
        let air = standing(205.0, 260.0, 0.0); // 40 px = 0.67 torso up
        let frames = run([&[&ground], &[&air], &[&ground], &[&ground]]);
        assert_eq!(jumps(&frames), [1]);
        // Standing still, or a small bob (0.2 torso), is not.
        let bob = standing(200.0, 288.0, 0.0);
        assert!(jumps(&run([&[&ground], &[&bob], &[&ground]])).is_empty());
        // Rising and staying up (stepping onto something) is not.
        assert!(jumps(&run([&[&ground], &[&air], &[&air]])).is_empty());
    }

    #[test]
    fn everyone_rising_together_is_the_camera() {
        let (a, b) = (standing(100.0, 300.0, 0.0), standing(400.0, 300.0, 0.0));
        let (a_up, b_up) = (standing(100.0, 260.0, 0.0), standing(400.0, 260.0, 0.0));
        let frames = run([&[&a, &b], &[&a_up, &b_up], &[&a, &b]]);
        assert!(jumps(&frames).is_empty());
        // One of them rising is a jump.
        let frames = run([&[&a, &b], &[&a_up, &b], &[&a, &b]]);
        assert_eq!(jumps(&frames), [1]);
    }

    #[test]
    fn someone_far_away_in_the_next_frame_is_someone_else() {
        let (here, there) = (standing(100.0, 300.0, 0.0), standing(400.0, 260.0, 0.0));
        let frames = run([&[&here], &[&there], &[&here]]);
        assert!(jumps(&frames).is_empty());
    }

    #[test]
    fn arms_that_keep_moving_are_moving_limbs_and_still_arms_are_not() {
        let arms = [0.0, 120.0, 30.0, 160.0, 10.0];
        let moving: Vec<Person> = arms.iter().map(|&a| standing(200.0, 300.0, a)).collect();
        let frames = of(&moving.iter().map(|p| vec![p.clone()]).collect::<Vec<_>>());
        assert!(limbs_keep_moving(&frames));
        let still: Vec<Vec<Person>> = (0..5).map(|_| vec![standing(200.0, 300.0, 20.0)]).collect();
        assert!(!limbs_keep_moving(&of(&still)));
        // One wave in a long still run is not enough.
        let mut once = still.clone();
        once[2] = vec![standing(200.0, 300.0, 150.0)];
        assert!(!limbs_keep_moving(&of(&once)));
    }

    #[test]
    fn a_rolled_camera_turns_no_limb() {
        let upright = standing(200.0, 300.0, 40.0);
        let mut rolled = upright.clone();
        let (s, c) = 25f32.to_radians().sin_cos();
        for k in &mut rolled.keypoints {
            let (x, y) = (k.x - 200.0, k.y - 300.0);
            (k.x, k.y) = (200.0 + x * c - y * s, 300.0 + x * s + y * c);
        }
        let frames = run([&[&upright], &[&rolled], &[&upright], &[&rolled]]);
        assert!(!limbs_keep_moving(&frames));
    }
}
