//! Poses on real photos of people (from Debian's gcompris): how many, seated or standing,
//! searchable and filterable, with the keypoints stored.

use std::path::Path;

use crate::support::*;

#[test]
fn people_are_counted_and_their_postures_found_by_search() {
    let Some(pack) = pack_with("pose") else {
        return;
    };
    let photos = ["ireland.webp", "australia.webp", "italy.webp"];
    let Some(found) = photos
        .iter()
        .map(|p| vx_testkit::package_media(p))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    for f in &found {
        std::fs::copy(f, d.media.join(f.file_name().unwrap())).unwrap();
    }
    // A cat: no one to pose.
    std::fs::copy(pack.media.join("chelsea.png"), d.media.join("cat.png")).unwrap();
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let path = |n: &str| d.media.join(n).to_str().unwrap().to_string();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // Four musicians seated on a stage; a man seated with a didgeridoo; a singer standing.
    assert_eq!(
        d.search(&["--where", "people>=3"]),
        vec![path("ireland.webp")]
    );
    assert_eq!(
        d.search(&["four people"]).first(),
        Some(&path("ireland.webp"))
    );
    let pose_hits = |q: &str| {
        let found = d.json(&["search", q]);
        sorted(
            found["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["moments"].to_string().contains("\"pose\""))
                .map(|r| r["path"].as_str().unwrap().to_string())
                .collect(),
        )
    };
    assert_eq!(
        pose_hits("sitting"),
        sorted(vec![path("australia.webp"), path("ireland.webp")])
    );
    assert_eq!(pose_hits("standing"), vec![path("italy.webp")]);
    let shown = d.show(Path::new(&path("cat.png")));
    assert!(segments(&shown, "pose").is_empty(), "{shown}");

    let stored: i64 = d
        .db()
        .query_row(
            "SELECT count(*) FROM poses p JOIN files f ON f.content_id = p.content_id
             WHERE f.path LIKE '%ireland.webp' AND length(p.keypoints) = 17 * 3 * 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 4, "a pose of 17 keypoints for each musician");
}
