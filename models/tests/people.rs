//! The people models on the pack README's examples: MoveNet finds one person in astronaut.png,
//! her nose inside the face box faceboxes finds ((183,57)-(275,174)); she is smiling.

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

#[test]
fn the_astronaut_smiles() {
    let Some(pack) = common::pack_with("expression") else {
        return;
    };
    let runtime = common::runtime();
    let photo = common::png("astronaut.png");
    let mut faces = vx_models::Faces::load(&runtime, &pack).unwrap();
    let boxes: Vec<vx_models::Rect> = faces
        .detect(&photo.view(), vx_models::faces::MIN_SCORE)
        .unwrap()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    assert_eq!(boxes.len(), 1);
    let mut expression = vx_models::Expression::load(&runtime, &pack).unwrap();
    let p = expression.classify(&photo.view(), &boxes).unwrap();
    let happy = vx_models::expression::CLASSES
        .iter()
        .position(|c| *c == "happy")
        .unwrap();
    assert!(p[0][happy] > 0.9, "{p:?}");
    assert!(expression.classify(&photo.view(), &[]).unwrap().is_empty());
}
