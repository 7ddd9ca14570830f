//! Faces grouped into people (how: `store::groups`), and what search makes of them.

use crate::store::{Grouping, blob_f32};

/// Cosine similarity above which a face joins a group (FaceRes descriptors: the same face
/// mirrored scores 0.85-0.96, different people 0.17-0.53).
pub const JOIN_THRESHOLD: f32 = 0.6;
/// Cosine similarity of two groups' centroids above which re-grouping merges them.
pub const MERGE_THRESHOLD: f32 = 0.7;

pub const PEOPLE: Grouping = Grouping {
    groups: "people",
    members: "faces",
    group: "person_id",
    count: "faces",
    eligible: "1",
    join: JOIN_THRESHOLD,
    merge: MERGE_THRESHOLD,
    noun: "person",
    list: "vx people",
};

#[derive(Clone, Debug, PartialEq)]
pub struct PersonRow {
    pub id: i64,
    pub name: Option<String>,
    pub faces: u64,
    pub files: u64,
    /// The crop of the group's most confident face, relative to the thumbnails dir.
    pub thumb: Option<String>,
}

/// A named person seen in a content, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Appearance {
    pub person_id: i64,
    pub name: Option<String>,
    pub time: f64,
    /// The face's expression when it is sure enough to search by ("smiling", "neutral").
    pub expression: Option<&'static str>,
}

#[derive(Debug, Default, PartialEq)]
pub struct Regrouped {
    pub detached: u64,
    pub merged: u64,
    pub removed: u64,
}

pub(crate) fn from_blob(b: &[u8]) -> Vec<f32> {
    blob_f32(b).collect()
}

pub(crate) fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// How `--person` names a group: its number ("3" or "#3") or its name, any case.
pub fn person_key(s: &str) -> String {
    let t = s.trim();
    match t.trim_start_matches('#').parse::<i64>() {
        Ok(id) => format!("#{id}"),
        Err(_) => t.to_lowercase(),
    }
}

/// The keys under which a file showing this person is found by `--person`.
pub fn person_keys(a: &Appearance) -> Vec<String> {
    let mut keys = vec![format!("#{}", a.person_id)];
    keys.extend(a.name.as_deref().map(person_key));
    keys
}

/// Appearances of the same named person closer than this (seconds) make one moment.
const SAME_MOMENT: f64 = 10.0;

/// (text, start, end) of each moment a named person is seen: what search finds by name. The
/// text is the name, followed by the face's expression when it has one ("Alice smiling").
pub fn named_spans(seen: &[Appearance]) -> Vec<(String, f64, f64)> {
    let mut spans: Vec<(i64, Option<&str>, &str, f64, f64)> = Vec::new();
    for a in seen {
        let Some(name) = a.name.as_deref() else {
            continue;
        };
        match spans
            .iter_mut()
            .rev()
            .find(|s| s.0 == a.person_id && s.1 == a.expression && a.time - s.4 <= SAME_MOMENT)
        {
            Some(s) => s.4 = s.4.max(a.time),
            None => spans.push((a.person_id, a.expression, name, a.time, a.time)),
        }
    }
    spans
        .into_iter()
        .map(|(_, expression, name, a, b)| match expression {
            Some(e) => (format!("{name} {e}"), a, b),
            None => (name.to_string(), a, b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{FaceOut, Output};
    use crate::store::{ContentMeta, FileStat};
    use crate::store::{Store, StoreError};

    #[test]
    fn a_named_persons_moments_carry_their_expression() {
        let seen = |time, expression| Appearance {
            person_id: 1,
            name: Some("Alice".into()),
            time,
            expression,
        };
        let spans = named_spans(&[
            seen(0.0, Some("smiling")),
            seen(4.0, Some("smiling")),
            seen(6.0, None),
            seen(30.0, Some("smiling")),
        ]);
        let texts: Vec<(&str, f64)> = spans.iter().map(|(t, a, _)| (t.as_str(), *a)).collect();
        assert_eq!(
            texts,
            [
                ("Alice smiling", 0.0),
                ("Alice", 6.0),
                ("Alice smiling", 30.0)
            ]
        );
    }

    /// A unit descriptor pointing mostly along `axis`, nudged by `noise` along `axis + 1`.
    fn face(axis: usize, noise: f32) -> FaceOut {
        let mut d = vec![0.0f32; 16];
        d[axis] = 1.0;
        d[(axis + 1) % 16] = noise;
        FaceOut {
            time: 0.0,
            rect: [0.0, 0.0, 10.0, 10.0],
            score: 0.9,
            descriptor: unit(&d),
            age: 30.0,
            male: 0.5,
            thumb: None,
        }
    }

    /// A store with one file per content, each content holding the given faces.
    fn store_with(contents: &[Vec<FaceOut>]) -> (tempfile::TempDir, Store, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root = store.add_root(dir.path(), 1).unwrap();
        let mut ids = Vec::new();
        for (i, faces) in contents.iter().enumerate() {
            let stat = FileStat {
                dev: 1,
                inode: i as u64 + 1,
                size: 1,
                mtime_ns: 0,
            };
            let file = store
                .insert_file(root, &dir.path().join(format!("{i}.jpg")), &stat)
                .unwrap();
            let (c, _) = store
                .insert_content(&[i as u8; 32], 1, &ContentMeta::default())
                .unwrap();
            store
                .conn
                .execute("UPDATE files SET content_id = ?1 WHERE id = ?2", [c, file])
                .unwrap();
            let out = Output {
                outcomes: vec![crate::extract::Outcome {
                    extractor: "faces".into(),
                    version: 1,
                    error: None,
                    seconds: 0.0,
                }],
                faces: faces.clone(),
                ..Output::default()
            };
            store.save_output(c, &out).unwrap();
            ids.push(c);
        }
        (dir, store, ids)
    }

    fn groups(store: &Store) -> Vec<u64> {
        let mut g: Vec<u64> = store.people().unwrap().iter().map(|p| p.faces).collect();
        g.sort_unstable();
        g
    }

    #[test]
    fn faces_join_the_nearest_group_or_start_one() {
        let (_d, store, _) = store_with(&[
            vec![face(0, 0.0), face(5, 0.0)],
            vec![face(0, 0.3)],
            vec![face(0, 0.2), face(9, 0.1)],
        ]);
        assert_eq!(store.group_new(&PEOPLE, JOIN_THRESHOLD).unwrap(), 5);
        assert_eq!(groups(&store), vec![1, 1, 3]);
        // Idempotent: nothing left to group.
        assert_eq!(store.group_new(&PEOPLE, JOIN_THRESHOLD).unwrap(), 0);
        assert_eq!(
            store.regroup(&PEOPLE, JOIN_THRESHOLD).unwrap(),
            Regrouped::default()
        );
    }

    #[test]
    fn naming_and_merging_survive_regrouping() {
        let (_d, store, contents) =
            store_with(&[vec![face(0, 0.0)], vec![face(0, 0.1)], vec![face(3, 0.0)]]);
        store.group_new(&PEOPLE, JOIN_THRESHOLD).unwrap();
        let people = store.people().unwrap();
        let (big, small) = (people[0].id, people[1].id);
        assert_eq!(people[0].files, 2);
        store.name_group(&PEOPLE, small, Some("Alice")).unwrap();
        assert_eq!(store.people().unwrap()[0].name.as_deref(), Some("Alice"));
        // The user says these are one person: the name stays, the faces move.
        store.merge_groups(&PEOPLE, big, small).unwrap();
        let people = store.people().unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!((people[0].id, people[0].faces), (big, 3));
        assert_eq!(people[0].name.as_deref(), Some("Alice"));
        let seen = store.appearances(contents[2]).unwrap();
        assert_eq!(seen[0].name.as_deref(), Some("Alice"));
        // Regrouping never splits what the user merged, though one face is far from the rest.
        assert_eq!(
            store.regroup(&PEOPLE, JOIN_THRESHOLD).unwrap(),
            Regrouped::default()
        );
        assert_eq!(store.people().unwrap().len(), 1);
        assert!(matches!(
            store.merge_groups(&PEOPLE, big, big),
            Err(StoreError::SameGroup(..))
        ));
        assert!(matches!(
            store.name_group(&PEOPLE, 999, Some("x")),
            Err(StoreError::NoSuchGroup(_, 999, _))
        ));
    }

    #[test]
    fn regrouping_merges_drifted_groups_and_drops_empty_ones() {
        // Two groups that started apart (0.5 similar) and were then bridged by later faces.
        let (_d, store, contents) = store_with(&[vec![face(0, 0.0)], vec![face(0, 1.7)]]);
        store.group_new(&PEOPLE, 0.9).unwrap();
        assert_eq!(groups(&store), vec![1, 1]);
        let report = store.regroup(&PEOPLE, 0.3).unwrap();
        assert_eq!(report.merged, 0, "0.5 is below the merge threshold");
        let (_d2, close, _) = store_with(&[vec![face(0, 0.0)], vec![face(0, 0.8)]]);
        close.group_new(&PEOPLE, 0.95).unwrap();
        assert_eq!(groups(&close), vec![1, 1]);
        assert_eq!(close.regroup(&PEOPLE, 0.3).unwrap().merged, 1);
        assert_eq!(groups(&close), vec![2]);
        // A face that drifted from an unpinned group's centroid leaves it and starts its own.
        let (_d3, loose, _) = store_with(&[vec![face(0, 0.0)], vec![face(0, 1.7)]]);
        loose.group_new(&PEOPLE, 0.3).unwrap();
        assert_eq!(groups(&loose), vec![2]);
        assert_eq!(loose.regroup(&PEOPLE, 0.9).unwrap().detached, 1);
        loose.group_new(&PEOPLE, 0.9).unwrap();
        assert_eq!(groups(&loose), vec![1, 1]);
        // A content's faces re-extracted: the old rows go, the emptied group is removed.
        let out = Output {
            outcomes: vec![crate::extract::Outcome {
                extractor: "faces".into(),
                version: 2,
                error: None,
                seconds: 0.0,
            }],
            ..Output::default()
        };
        store.save_output(contents[1], &out).unwrap();
        assert_eq!(store.regroup(&PEOPLE, JOIN_THRESHOLD).unwrap().removed, 1);
        assert_eq!(groups(&store), vec![1]);
    }
}
