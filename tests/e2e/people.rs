//! People and words end to end: real face descriptors grouped into a person who is named,
//! searched for and filtered by; tags found by their broader WordNet names.

use serde_json::Value;

use crate::support::*;

fn people(d: &Daemon) -> Vec<Value> {
    d.json(&["people"])["people"].as_array().unwrap().clone()
}

#[test]
fn faces_become_a_person_who_is_named_and_found() {
    let Some(shared) = pack() else { return };
    let mut d = Daemon::with_models(&shared.models);
    let media = shared.media;
    for photo in ["astronaut.png", "chelsea.png", "coffee.png"] {
        std::fs::copy(media.join(photo), d.media.join(photo)).unwrap();
    }
    // The same person in a second picture: mirrored and re-encoded as JPEG.
    let astronaut = media.join("astronaut.png");
    let mirror = d.media.join("astronaut mirrored.jpg");
    ffmpeg(&[
        "-i",
        astronaut.to_str().unwrap(),
        "-vf",
        "hflip",
        mirror.to_str().unwrap(),
    ]);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let both = {
        let mut v = vec![
            d.media.join("astronaut.png").to_str().unwrap().to_string(),
            mirror.to_str().unwrap().to_string(),
        ];
        v.sort();
        v
    };
    let found = people(&d);
    assert_eq!(found.len(), 1, "one person in two photos: {found:?}");
    let person = &found[0];
    assert_eq!(
        (person["faces"].as_u64(), person["files"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(person["name"].is_null());
    let thumb = person["thumbnail"].as_str().expect("a face crop");
    let crop = std::fs::read(thumb).unwrap();
    assert_eq!(&crop[..2], &[0xFF, 0xD8], "the crop is a JPEG");
    let id = person["id"].as_i64().unwrap().to_string();

    // Named, the person is searchable by name, alone or with other words, and filterable.
    let named = d.json(&["people", "name", &id, "Eileen", "Collins"]);
    assert_eq!(named["name"], "Eileen Collins");
    // Waited for by its words (the text channel): the meaning channel may bring back two
    // files for "eileen" before the name is indexed.
    d.eventually(10, "the name is searchable", || {
        d.search(&["eileen", "--channel", "text"]).len() == 2
    });
    let mut hits = d.search(&["eileen"]);
    hits.sort();
    assert_eq!(hits, both);
    let result = d.json(&["search", "collins"]);
    let m = &result["results"][0]["moments"][0];
    assert_eq!(m["sources"][0], "person", "{result}");
    assert!(
        m["text"].as_str().unwrap().starts_with("Eileen Collins"),
        "{m}"
    );
    // She smiles in both: her name and the expression find the moment together.
    let result = d.json(&["search", "eileen smiling"]);
    let moments = result["results"][0]["moments"].as_array().unwrap();
    assert!(
        moments
            .iter()
            .any(|m| m["text"] == "Eileen Collins smiling"),
        "{result}"
    );
    assert_eq!(d.search(&["smiling", "--kind", "image"]).len(), 2);
    assert!(both.contains(&d.search(&["eileen bobsled"])[0]));
    let mut filtered = d.search(&["--person", "eileen collins"]);
    filtered.sort();
    assert_eq!(filtered, both);
    assert_eq!(d.search(&["--person", &format!("#{id}")]).len(), 2);
    assert!(
        d.search(&["espresso", "--person", "Eileen Collins"])
            .is_empty()
    );
    let shown = d.show(&mirror);
    assert_eq!(shown["faces"][0]["name"], "Eileen Collins");

    // Mistakes get a clear message and change nothing.
    let out = d.vx(&["search", "--person", "nobody"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vx people"),
        "{out:?}"
    );
    let out = d.vx(&["people", "merge", &id, &id]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("itself"),
        "{out:?}"
    );
    let out = d.vx(&["people", "merge", &id, "99999"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no person 99999"),
        "{out:?}"
    );
    let out = d.vx(&["people", "name", &id, "42"]);
    assert!(!out.status.success());
    assert_eq!(people(&d)[0]["name"], "Eileen Collins");

    // Names survive a restart; unnaming takes the name out of search.
    d.stop();
    d.start();
    assert_eq!(people(&d)[0]["name"], "Eileen Collins");
    d.ok(&["people", "unname", &id]);
    d.eventually(10, "the name leaves the index", || {
        d.search(&["eileen", "--channel", "text"]).is_empty()
    });

    // Tags are found by their broader WordNet names: an espresso is a beverage, a cat a feline.
    assert_eq!(
        d.search(&["beverage"]).first().map(String::as_str),
        d.media.join("coffee.png").to_str()
    );
    assert_eq!(
        d.search(&["feline"]).first().map(String::as_str),
        d.media.join("chelsea.png").to_str()
    );
    // Shown text stays short: the broader names are searchable, not displayed.
    let coffee = d.show(&d.media.join("coffee.png"));
    let tags: Vec<&str> = coffee["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "tag")
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(tags.iter().any(|t| t.starts_with("espresso")), "{tags:?}");
    assert!(tags.iter().all(|t| !t.contains("beverage")), "{tags:?}");
}
