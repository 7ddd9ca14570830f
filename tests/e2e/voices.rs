//! Speaker turns and voices on real speakers (a LibriVox reader and a professional prompt
//! speaker): a recording where they take turns gets its speakers at the right seconds, the
//! same two voices are recognised in a second recording, and a named voice is searchable.

use serde_json::Value;

use crate::support::*;

/// The meeting: reader, prompt speaker, reader, prompt speaker, 0.8 s apart. Who speaks at
/// second `t` (1: the reader, 2: the prompt speaker), by the parts' lengths (7.10, 5.52, 6.05,
/// 5.65 s); the middle of each pause goes either way.
fn truth(t: f64) -> u32 {
    match t {
        t if t < 7.5 => 1,
        t if t < 13.8 => 2,
        t if t < 20.7 => 1,
        _ => 2,
    }
}

fn voices(d: &Daemon) -> Vec<Value> {
    d.json(&["voices"])["voices"].as_array().unwrap().clone()
}

#[test]
fn speakers_take_turns_and_their_voices_are_named_and_found() {
    let Some(pack) = pack_with("speaker") else {
        return;
    };
    let names = [
        "allison-thanks.wav",
        "allison-intro.wav",
        "allison-keypad.wav",
        "librivox-0920.wav",
        "librivox-0890.wav",
    ];
    let Some(p) = names
        .iter()
        .map(|n| vx_testkit::package_media(n).map(|p| p.to_str().unwrap().to_string()))
        .collect::<Option<Vec<_>>>()
    else {
        return;
    };
    let reader = pack.media.join("librivox-0870.wav");
    let reader = reader.to_str().unwrap();
    let mut d = Daemon::with_models(&pack.models);
    let meeting = d.media.join("meeting.wav");
    let gap = "silence:0.8";
    concat(&meeting, &[reader, gap, &p[0], gap, &p[3], gap, &p[1]]);
    // A second recording: the prompt speaker first, then the reader.
    let call = d.media.join("call.wav");
    concat(&call, &[&p[2], "silence:1", &p[4]]);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    // Every transcript segment is said by the right speaker.
    let shown = d.show(&meeting);
    let said = segments(&shown, "transcript");
    assert!(said.len() >= 4, "{shown}");
    for s in &said {
        let mid = (s["start"].as_f64().unwrap() + s["end"].as_f64().unwrap()) / 2.0;
        assert_eq!(
            s["speaker"],
            format!("speaker {}", truth(mid)),
            "{s} in {said:?}"
        );
    }
    // The turns change where the voices do.
    let db = d.db();
    let speakers: Vec<(u32, Vec<u8>)> = db
        .prepare(
            "SELECT s.speaker, s.turns FROM speakers s JOIN files f ON f.content_id = s.content_id
             WHERE f.name = 'meeting.wav' ORDER BY s.speaker",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(speakers.len(), 2, "{speakers:?}");
    let turns = |blob: &[u8]| -> Vec<f32> {
        blob.chunks(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    let second = turns(&speakers[1].1);
    assert_eq!(second.len(), 4, "two turns: {second:?}");
    assert!((second[0] - 7.9).abs() < 1.0, "{second:?}");
    assert!((second[2] - 21.1).abs() < 1.0, "{second:?}");

    // Across the two recordings: two voices, each heard in both.
    d.eventually(20, "two voices", || voices(&d).len() == 2);
    let all = voices(&d);
    assert!(all.iter().all(|v| v["files"] == 2), "{all:?}");
    let reader_voice: i64 = db
        .query_row(
            "SELECT s.voice_id FROM speakers s JOIN files f ON f.content_id = s.content_id
             WHERE f.name = 'meeting.wav' AND s.speaker = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();

    // Named, the reader's voice finds what they say, with other words or alone.
    let id = reader_voice.to_string();
    let named = d.json(&["voices", "name", &id, "Elinor"]);
    assert_eq!(named["name"], "Elinor");
    d.eventually(10, "the name is searchable", || {
        d.search(&["--voice", "elinor"]).len() == 2
    });
    let meeting_path = meeting.to_str().unwrap().to_string();
    assert_eq!(
        d.search(&["elinor dashwood", "--channel", "text"]).first(),
        Some(&meeting_path)
    );
    // Only the reader's moments, whether found by words or by meaning (a query about the
    // prompt speaker's words too).
    for query in ["", "leave your message after the tone"] {
        let result = d.json(&["search", query, "--voice", "Elinor", "--kind", "audio"]);
        for hit in result["results"].as_array().unwrap() {
            let in_meeting = hit["path"].as_str().unwrap().ends_with("meeting.wav");
            for m in hit["moments"].as_array().unwrap() {
                let mid = (m["start"].as_f64().unwrap() + m["end"].as_f64().unwrap()) / 2.0;
                assert!(!in_meeting || truth(mid) == 1, "not the reader: {m}");
            }
        }
    }
    assert_eq!(
        segments(&d.show(&meeting), "transcript")[0]["speaker"],
        "Elinor"
    );
    // "The second speaker" finds what the meeting's second speaker says.
    let result = d.json(&["search", "second speaker"]);
    let hit = result["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"].as_str().unwrap().ends_with("meeting.wav"))
        .expect("the meeting has a second speaker");
    let m = &hit["moments"][0];
    let mid = (m["start"].as_f64().unwrap() + m["end"].as_f64().unwrap()) / 2.0;
    assert_eq!(truth(mid), 2, "{result}");
    // A moment says who speaks in it.
    assert_eq!(m["speaker"], "speaker 2", "{m}");
    let result = d.json(&["search", "dashwood", "--voice", "elinor", "--kind", "audio"]);
    assert_eq!(
        result["results"][0]["moments"][0]["speaker"], "Elinor",
        "{result}"
    );

    // A voice nobody named is a clear error.
    let out = d.vx(&["search", "--voice", "nobody"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("vx voices"),
        "{out:?}"
    );
}
