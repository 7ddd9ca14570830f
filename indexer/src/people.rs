//! Faces grouped into people, incrementally: a new face joins the group whose centroid is
//! nearest, when close enough, else it starts a group. A periodic re-grouping recomputes the
//! centroids, lets faces that drifted away from theirs find a better group, merges groups that
//! became one and drops empty ones. Groups the user named or merged are "pinned": re-grouping
//! never takes a face out of them and never merges two of them.
//!
//! A group's centroid is stored as the sum of its members' unit descriptors, so adding a face
//! is one addition; it is normalised to compare. Changes take the write lock up front
//! (IMMEDIATE): a read that later upgrades to a write fails at once if another writer got in.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{Result, Store, StoreError, blob_f32, f32_blob as to_blob, now};

/// Cosine similarity above which a face joins a group (FaceRes descriptors: the same face
/// mirrored scores 0.85-0.96, different people 0.17-0.53).
pub const JOIN_THRESHOLD: f32 = 0.6;
/// Cosine similarity of two groups' centroids above which re-grouping merges them.
pub const MERGE_THRESHOLD: f32 = 0.7;

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
}

#[derive(Debug, Default, PartialEq)]
pub struct Regrouped {
    pub detached: u64,
    pub merged: u64,
    pub removed: u64,
}

fn from_blob(b: &[u8]) -> Vec<f32> {
    blob_f32(b).collect()
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
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

/// (name, start, end) of each moment a named person is seen: what search finds by name.
pub fn named_spans(seen: &[Appearance]) -> Vec<(&str, f64, f64)> {
    let mut spans: Vec<(i64, &str, f64, f64)> = Vec::new();
    for a in seen {
        let Some(name) = a.name.as_deref() else {
            continue;
        };
        match spans
            .iter_mut()
            .rev()
            .find(|s| s.0 == a.person_id && a.time - s.3 <= SAME_MOMENT)
        {
            Some(s) => s.3 = s.3.max(a.time),
            None => spans.push((a.person_id, name, a.time, a.time)),
        }
    }
    spans.into_iter().map(|(_, n, a, b)| (n, a, b)).collect()
}

/// Queues every file that shows one of these people for the text index.
const QUEUE_FILES_OF_PERSON: &str = "INSERT INTO index_queue(file_id)
     SELECT DISTINCT f.id FROM files f JOIN faces fa ON fa.content_id = f.content_id
     WHERE fa.person_id = ?1";

impl Store {
    /// Gives every face without a person one. Returns how many faces were grouped.
    pub fn group_new_faces(&self, threshold: f32) -> Result<u64> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            // (id, sum of descriptors, its unit vector)
            let mut groups: Vec<(i64, Vec<f32>, Vec<f32>)> = {
                let mut st = tx.prepare("SELECT id, centroid FROM people")?;
                st.query_map([], |r| Ok((r.get(0)?, from_blob(&r.get::<_, Vec<u8>>(1)?))))?
                    .map(|g| g.map(|(id, sum): (i64, Vec<f32>)| (id, unit(&sum), sum)))
                    .map(|g| g.map(|(id, u, sum)| (id, sum, u)))
                    .collect::<rusqlite::Result<_>>()?
            };
            let new: Vec<(i64, i64, Vec<f32>)> = {
                let mut st = tx.prepare(
                    "SELECT id, content_id, descriptor FROM faces WHERE person_id IS NULL ORDER BY id",
                )?;
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, from_blob(&r.get::<_, Vec<u8>>(2)?)))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let mut touched: Vec<i64> = Vec::new();
            for (face_id, content_id, descriptor) in &new {
                let d = unit(descriptor);
                let best = groups
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, u))| (i, dot(u, &d)))
                    .filter(|(_, s)| *s >= threshold)
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let person = match best {
                    Some((i, _)) => {
                        let (id, sum, u) = &mut groups[i];
                        sum.iter_mut().zip(&d).for_each(|(c, x)| *c += x);
                        *u = unit(sum);
                        tx.execute(
                            "UPDATE people SET centroid = ?2, faces = faces + 1 WHERE id = ?1",
                            params![*id, to_blob(sum)],
                        )?;
                        *id
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO people(centroid, faces, created_at) VALUES (?1, 1, ?2)",
                            params![to_blob(&d), now()],
                        )?;
                        let id = tx.last_insert_rowid();
                        groups.push((id, d.clone(), d));
                        id
                    }
                };
                tx.execute(
                    "UPDATE faces SET person_id = ?2 WHERE id = ?1",
                    params![face_id, person],
                )?;
                touched.push(*content_id);
            }
            touched.sort_unstable();
            touched.dedup();
            for c in touched {
                tx.execute(
                    "INSERT INTO index_queue(file_id) SELECT id FROM files WHERE content_id = ?1",
                    [c],
                )?;
            }
            Ok(new.len() as u64)
        })
    }

    /// Keeps groups clean: recomputes centroids from their members, detaches faces that fell
    /// below `threshold` of their own group (they are grouped again by the next
    /// [`Store::group_new_faces`]), merges groups whose centroids come within
    /// [`MERGE_THRESHOLD`] (never two named ones) and removes empty groups.
    pub fn regroup(&self, threshold: f32) -> Result<Regrouped> {
        let mut report = Regrouped::default();
        self.in_transaction(|s| {
            let tx = &s.conn;
            // Pass 1: centroids from members, streamed (descriptors are never all in memory).
            let mut sums: HashMap<i64, (Vec<f32>, u64)> = HashMap::new();
            {
                let mut st =
                    tx.prepare("SELECT person_id, descriptor FROM faces WHERE person_id IS NOT NULL")?;
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    let d = unit(&from_blob(&r.get::<_, Vec<u8>>(1)?));
                    let e = sums
                        .entry(r.get(0)?)
                        .or_insert_with(|| (vec![0.0; d.len()], 0));
                    e.0.iter_mut().zip(&d).for_each(|(c, x)| *c += x);
                    e.1 += 1;
                }
            }
            // Pass 2: faces far from their own group's centroid leave it (never the last one).
            let mut leaving: Vec<(i64, i64, Vec<f32>)> = Vec::new();
            {
                let mut st = tx.prepare(
                    "SELECT fa.id, fa.person_id, fa.descriptor FROM faces fa
                     JOIN people p ON p.id = fa.person_id WHERE NOT p.pinned",
                )?;
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    let person: i64 = r.get(1)?;
                    let d = unit(&from_blob(&r.get::<_, Vec<u8>>(2)?));
                    let (sum, count) = &sums[&person];
                    if *count > 1 && dot(&unit(sum), &d) < threshold {
                        leaving.push((r.get(0)?, person, d));
                    }
                }
            }
            for (face, person, d) in &leaving {
                let (sum, count) = sums.get_mut(person).expect("summed above");
                if *count <= 1 {
                    continue;
                }
                sum.iter_mut().zip(d).for_each(|(c, x)| *c -= x);
                *count -= 1;
                tx.execute("UPDATE faces SET person_id = NULL WHERE id = ?1", [face])?;
                report.detached += 1;
            }
            // Merges: the smaller group joins the larger, or an unpinned one the pinned one.
            let mut people: Vec<(i64, bool, Vec<f32>, u64)> = {
                let mut st = tx.prepare("SELECT id, pinned FROM people ORDER BY id")?;
                st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?)))?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    .filter_map(|(id, named)| {
                        sums.get(&id)
                            .map(|(s, n)| (id, named, unit(s), *n))
                            .filter(|p| p.3 > 0)
                    })
                    .collect()
            };
            let mut i = 0;
            'next: while i < people.len() {
                let mut j = i + 1;
                while j < people.len() {
                    let (a, b) = (&people[i], &people[j]);
                    if !(a.1 && b.1) && dot(&a.2, &b.2) >= MERGE_THRESHOLD {
                        let keep_a = a.1 || (!b.1 && a.3 >= b.3);
                        let (into, from) = if keep_a { (i, j) } else { (j, i) };
                        merge_rows(tx, people[into].0, people[from].0)?;
                        let from_sum = sums.remove(&people[from].0).expect("has members");
                        let into_sum = sums.get_mut(&people[into].0).expect("has members");
                        into_sum
                            .0
                            .iter_mut()
                            .zip(&from_sum.0)
                            .for_each(|(c, x)| *c += x);
                        into_sum.1 += from_sum.1;
                        people[into].1 |= people[from].1;
                        people[into].2 = unit(&into_sum.0);
                        people[into].3 = into_sum.1;
                        people.remove(from);
                        report.merged += 1;
                        if from == i {
                            // people[i] is now the next group: compare it from the start.
                            continue 'next;
                        }
                        continue;
                    }
                    j += 1;
                }
                i += 1;
            }
            for (id, (sum, count)) in &sums {
                tx.execute(
                    "UPDATE people SET centroid = ?2, faces = ?3 WHERE id = ?1",
                    params![id, to_blob(sum), *count as i64],
                )?;
            }
            report.removed = tx.execute(
                "DELETE FROM people WHERE NOT EXISTS (SELECT 1 FROM faces WHERE person_id = people.id)",
                [],
            )? as u64;
            Ok(())
        })?;
        Ok(report)
    }

    /// Every group, the largest first.
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        let mut st = self.conn.prepare(
            "SELECT p.id, p.name,
               (SELECT count(*) FROM faces WHERE person_id = p.id),
               (SELECT count(DISTINCT f.id) FROM files f JOIN faces fa ON fa.content_id = f.content_id
                 WHERE fa.person_id = p.id),
               (SELECT thumb FROM faces WHERE person_id = p.id AND thumb IS NOT NULL
                 ORDER BY score DESC LIMIT 1)
             FROM people p ORDER BY p.name IS NULL, 3 DESC, p.id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(PersonRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    faces: r.get::<_, i64>(2)? as u64,
                    files: r.get::<_, i64>(3)? as u64,
                    thumb: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The group of that id, or an error that says so.
    fn person_exists(&self, id: i64) -> Result<()> {
        self.conn
            .query_row("SELECT 1 FROM people WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .ok_or(StoreError::NoSuchPerson(id))
    }

    /// Names (or with None, unnames) a group; its files are indexed again under the name.
    pub fn name_person(&self, id: i64, name: Option<&str>) -> Result<()> {
        self.person_exists(id)?;
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.execute(
                "UPDATE people SET name = ?2, pinned = 1 WHERE id = ?1",
                params![id, name],
            )?;
            tx.execute(QUEUE_FILES_OF_PERSON, [id])?;
            Ok(())
        })
    }

    /// Moves every face of group `from` into group `into` and removes `from`.
    pub fn merge_people(&self, into: i64, from: i64) -> Result<()> {
        if into == from {
            return Err(StoreError::SamePerson(into));
        }
        self.person_exists(into)?;
        self.person_exists(from)?;
        self.in_transaction(|s| {
            let tx = &s.conn;
            merge_rows(tx, into, from)?;
            Ok(())
        })
    }

    /// The groups that answer to `--person` `key` (see [`person_key`]): the one of that
    /// number, or every one of that name.
    pub fn people_matching(&self, key: &str) -> Result<Vec<i64>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id, name FROM people WHERE name IS NOT NULL OR id = ?1")?;
        let id = key.strip_prefix('#').and_then(|n| n.parse::<i64>().ok());
        let rows = st.query_map([id.unwrap_or(-1)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut ids = Vec::new();
        for row in rows {
            let (pid, name) = row?;
            if Some(pid) == id || name.is_some_and(|n| person_key(&n) == key) {
                ids.push(pid);
            }
        }
        Ok(ids)
    }

    /// The people seen in a content, with when.
    pub fn appearances(&self, content_id: i64) -> Result<Vec<Appearance>> {
        let mut st = self.conn.prepare_cached(
            "SELECT fa.person_id, p.name, fa.time FROM faces fa JOIN people p ON p.id = fa.person_id
             WHERE fa.content_id = ?1 ORDER BY fa.time, fa.x",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok(Appearance {
                    person_id: r.get(0)?,
                    name: r.get(1)?,
                    time: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}

/// Moves faces and centroid of `from` into `into`, keeps a name, queues the files for the index.
fn merge_rows(tx: &Connection, into: i64, from: i64) -> Result<()> {
    let (sum_from, faces_from, name_from): (Vec<u8>, i64, Option<String>) = tx.query_row(
        "SELECT centroid, faces, name FROM people WHERE id = ?1",
        [from],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let sum_into: Vec<u8> =
        tx.query_row("SELECT centroid FROM people WHERE id = ?1", [into], |r| {
            r.get(0)
        })?;
    let sum: Vec<f32> = from_blob(&sum_into)
        .iter()
        .zip(from_blob(&sum_from))
        .map(|(a, b)| a + b)
        .collect();
    tx.execute(
        "UPDATE people SET centroid = ?2, faces = faces + ?3, name = coalesce(name, ?4), pinned = 1
         WHERE id = ?1",
        params![into, to_blob(&sum), faces_from, name_from],
    )?;
    tx.execute(
        "UPDATE faces SET person_id = ?1 WHERE person_id = ?2",
        [into, from],
    )?;
    tx.execute("DELETE FROM people WHERE id = ?1", [from])?;
    tx.execute(QUEUE_FILES_OF_PERSON, [into])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{FaceOut, Output};
    use crate::store::{ContentMeta, FileStat};

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
        assert_eq!(store.group_new_faces(JOIN_THRESHOLD).unwrap(), 5);
        assert_eq!(groups(&store), vec![1, 1, 3]);
        // Idempotent: nothing left to group.
        assert_eq!(store.group_new_faces(JOIN_THRESHOLD).unwrap(), 0);
        assert_eq!(store.regroup(JOIN_THRESHOLD).unwrap(), Regrouped::default());
    }

    #[test]
    fn naming_and_merging_survive_regrouping() {
        let (_d, store, contents) =
            store_with(&[vec![face(0, 0.0)], vec![face(0, 0.1)], vec![face(3, 0.0)]]);
        store.group_new_faces(JOIN_THRESHOLD).unwrap();
        let people = store.people().unwrap();
        let (big, small) = (people[0].id, people[1].id);
        assert_eq!(people[0].files, 2);
        store.name_person(small, Some("Alice")).unwrap();
        assert_eq!(store.people().unwrap()[0].name.as_deref(), Some("Alice"));
        // The user says these are one person: the name stays, the faces move.
        store.merge_people(big, small).unwrap();
        let people = store.people().unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!((people[0].id, people[0].faces), (big, 3));
        assert_eq!(people[0].name.as_deref(), Some("Alice"));
        let seen = store.appearances(contents[2]).unwrap();
        assert_eq!(seen[0].name.as_deref(), Some("Alice"));
        // Regrouping never splits what the user merged, though one face is far from the rest.
        assert_eq!(store.regroup(JOIN_THRESHOLD).unwrap(), Regrouped::default());
        assert_eq!(store.people().unwrap().len(), 1);
        assert!(matches!(
            store.merge_people(big, big),
            Err(StoreError::SamePerson(_))
        ));
        assert!(matches!(
            store.name_person(999, Some("x")),
            Err(StoreError::NoSuchPerson(999))
        ));
    }

    #[test]
    fn regrouping_merges_drifted_groups_and_drops_empty_ones() {
        // Two groups that started apart (0.5 similar) and were then bridged by later faces.
        let (_d, store, contents) = store_with(&[vec![face(0, 0.0)], vec![face(0, 1.7)]]);
        store.group_new_faces(0.9).unwrap();
        assert_eq!(groups(&store), vec![1, 1]);
        let report = store.regroup(0.3).unwrap();
        assert_eq!(report.merged, 0, "0.5 is below the merge threshold");
        let (_d2, close, _) = store_with(&[vec![face(0, 0.0)], vec![face(0, 0.8)]]);
        close.group_new_faces(0.95).unwrap();
        assert_eq!(groups(&close), vec![1, 1]);
        assert_eq!(close.regroup(0.3).unwrap().merged, 1);
        assert_eq!(groups(&close), vec![2]);
        // A face that drifted from an unpinned group's centroid leaves it and starts its own.
        let (_d3, loose, _) = store_with(&[vec![face(0, 0.0)], vec![face(0, 1.7)]]);
        loose.group_new_faces(0.3).unwrap();
        assert_eq!(groups(&loose), vec![2]);
        assert_eq!(loose.regroup(0.9).unwrap().detached, 1);
        loose.group_new_faces(0.9).unwrap();
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
        assert_eq!(store.regroup(JOIN_THRESHOLD).unwrap().removed, 1);
        assert_eq!(groups(&store), vec![1]);
    }
}
