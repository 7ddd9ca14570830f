//! A recording's speakers grouped into voices across the catalogue (how: `store::groups`), and
//! what search and `vx show` make of them: each transcript segment is said by the speaker whose
//! turns cover most of it.

use crate::people::person_key;
use crate::store::Grouping;

/// Cosine from which a speaker joins a voice. The pack README: clips of at least 2.5 s score
/// 0.75-0.95 for the same speaker and at most 0.71 for different ones.
pub const JOIN_THRESHOLD: f32 = 0.75;
/// Cosine of two voices' centroids from which re-grouping merges them.
pub const MERGE_THRESHOLD: f32 = 0.8;
pub const VOICES: Grouping = Grouping {
    groups: "voices",
    members: "speakers",
    group: "voice_id",
    count: "speakers",
    // A speaker heard for under 2.5 s gets no voice: too little to recognise one by.
    eligible: "seconds >= 2.5",
    join: JOIN_THRESHOLD,
    merge: MERGE_THRESHOLD,
    noun: "voice",
    list: "vx voices",
};

#[derive(Clone, Debug, PartialEq)]
pub struct VoiceRow {
    pub id: i64,
    pub name: Option<String>,
    /// Recordings it speaks in, and for how long in all.
    pub files: u64,
    pub seconds: f64,
}

/// A turn of one speaker of a content.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// 1, 2, ... within the content.
    pub speaker: u32,
    pub voice_id: Option<i64>,
    pub name: Option<String>,
    pub start: f64,
    pub end: f64,
}

/// The turn that covers most of `start..end`, if any covers some of it.
pub fn speaking(turns: &[Turn], start: f64, end: f64) -> Option<&Turn> {
    turns
        .iter()
        .map(|t| (t, t.end.min(end) - t.start.max(start)))
        .filter(|(_, shared)| *shared > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(t, _)| t)
}

/// Who says a segment of `source` (only the transcript's are speech).
pub fn said_by<'t>(turns: &'t [Turn], source: &str, start: f64, end: f64) -> Option<&'t Turn> {
    (source == "transcript")
        .then(|| speaking(turns, start, end))
        .flatten()
}

/// Who says a segment, as `vx show` prints it: the voice's name, else "speaker N".
pub fn label(t: &Turn) -> String {
    match &t.name {
        Some(name) => name.clone(),
        None => format!("speaker {}", t.speaker),
    }
}

/// Words that find what a speaker says without being shown: "speaker 2", "second speaker"
/// and the voice's name.
pub fn hidden_words(t: &Turn) -> String {
    const ORDINALS: [&str; 6] = ["first", "second", "third", "fourth", "fifth", "sixth"];
    let mut words = format!("speaker {}", t.speaker);
    if let Some(o) = ORDINALS.get(t.speaker as usize - 1) {
        words.push_str(&format!(" {o} speaker"));
    }
    if let Some(name) = &t.name {
        words.push(' ');
        words.push_str(name);
    }
    words
}

/// The keys under which what a voice says is found by `--voice` (its number, its name).
pub fn voice_keys(t: &Turn) -> Vec<String> {
    let mut keys: Vec<String> = t.voice_id.map(|id| format!("#{id}")).into_iter().collect();
    keys.extend(t.name.as_deref().map(person_key));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: u32, start: f64, end: f64, name: Option<&str>) -> Turn {
        Turn {
            speaker,
            voice_id: name.map(|_| 7),
            name: name.map(String::from),
            start,
            end,
        }
    }

    #[test]
    fn a_segment_is_said_by_the_turn_covering_most_of_it() {
        let turns = [turn(1, 0.0, 6.8, None), turn(2, 6.8, 13.0, Some("Alice"))];
        assert_eq!(speaking(&turns, 0.0, 7.1).unwrap().speaker, 1);
        assert_eq!(speaking(&turns, 6.5, 12.0).unwrap().speaker, 2);
        assert!(speaking(&turns, 20.0, 22.0).is_none());
        assert!(said_by(&turns, "ocr", 0.0, 7.1).is_none());
        assert_eq!(label(&turns[0]), "speaker 1");
        assert_eq!(label(&turns[1]), "Alice");
        assert_eq!(hidden_words(&turns[1]), "speaker 2 second speaker Alice");
        assert_eq!(voice_keys(&turns[1]), ["#7", "alice"]);
        assert!(voice_keys(&turns[0]).is_empty());
    }
}
