//! People in the catalogue: faces joined to groups, re-grouping, names and merges (the rules
//! are in `crate::people`).

use std::collections::HashMap;

use super::*;
use crate::people::*;

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
                            params![*id, f32_blob(sum)],
                        )?;
                        *id
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO people(centroid, faces, created_at) VALUES (?1, 1, ?2)",
                            params![f32_blob(&d), now()],
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
                    params![id, f32_blob(sum), *count as i64],
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
            "SELECT fa.person_id, p.name, fa.time, fa.expression, fa.expression_score
             FROM faces fa JOIN people p ON p.id = fa.person_id
             WHERE fa.content_id = ?1 ORDER BY fa.time, fa.x",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok(Appearance {
                    person_id: r.get(0)?,
                    name: r.get(1)?,
                    time: r.get(2)?,
                    expression: crate::extractors::searchable_expression(
                        r.get::<_, Option<String>>(3)?.as_deref(),
                        r.get::<_, Option<f64>>(4)?.unwrap_or(0.0) as f32,
                    ),
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
        params![into, f32_blob(&sum), faces_from, name_from],
    )?;
    tx.execute(
        "UPDATE faces SET person_id = ?1 WHERE person_id = ?2",
        [into, from],
    )?;
    tx.execute("DELETE FROM people WHERE id = ?1", [from])?;
    tx.execute(QUEUE_FILES_OF_PERSON, [into])?;
    Ok(())
}
