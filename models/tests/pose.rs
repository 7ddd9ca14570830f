//! MoveNet on the pack README's example: one person in astronaut.png, the nose inside the face
//! box faceboxes finds ((183,57)-(275,174)).

mod common;

use vx_models::Pose;
use vx_models::pose::Joint;

#[test]
fn the_astronauts_nose_is_in_her_face() {
    let Some(pack) = common::pack_with("pose") else {
        return;
    };
    let mut pose = Pose::load(&common::runtime(), &pack).unwrap();
    let people = pose.people(&common::png("astronaut.png").view()).unwrap();
    assert_eq!(people.len(), 1, "{people:?}");
    let nose = people[0].at(Joint::Nose).expect("a nose");
    assert!(
        (183.0..=275.0).contains(&nose.x) && (57.0..=174.0).contains(&nose.y),
        "{nose:?}"
    );
    assert!(people[0].at(Joint::LeftShoulder).is_some());
    // Nobody in a picture of coffee.
    assert!(
        pose.people(&common::png("coffee.png").view())
            .unwrap()
            .is_empty()
    );
}
