//! Things grouped by their embeddings across the catalogue: faces into people, a recording's
//! speakers into voices. Incrementally: a new member joins the group whose centroid is
//! nearest, when close enough, else it starts a group. A periodic re-grouping recomputes the
//! centroids, lets members that drifted away from theirs find a better group, merges groups
//! that became one and drops empty ones. Groups the user named or merged are "pinned":
//! re-grouping never takes a member out of them and never merges two of them.
//!
//! A group's centroid is stored as the sum of its members' unit embeddings, so adding one is
//! one addition; it is normalised to compare. Changes take the write lock up front
//! (IMMEDIATE): a read that later upgrades to a write fails at once if another writer got in.

use std::collections::HashMap;

use super::*;
use crate::people::{Regrouped, dot, from_blob, person_key, unit};

/// The tables of one kind of grouping. The groups' table has id, name, centroid, the count
/// column, pinned and created_at; the members' table has id, content_id, descriptor and the
/// group column.
pub struct Grouping {
    pub groups: &'static str,
    pub members: &'static str,
    /// The members' column naming their group.
    pub group: &'static str,
    /// The groups' column counting their members.
    pub count: &'static str,
    /// Which members are grouped at all (an SQL condition on the members' table).
    pub eligible: &'static str,
    /// Cosine to a group's centroid from which a member joins it.
    pub join: f32,
    /// Cosine of two groups' centroids above which re-grouping merges them.
    pub merge: f32,
    /// What one group is called in messages, and the command that lists them.
    pub noun: &'static str,
    pub list: &'static str,
}

impl Store {
    /// How many eligible members wait for a group (the index writer groups them next).
    pub fn ungrouped(&self, g: &Grouping) -> Result<u64> {
        Ok(self.conn.query_row(
            &format!(
                "SELECT count(*) FROM {} WHERE {} IS NULL AND {}",
                g.members, g.group, g.eligible
            ),
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Gives every eligible member without a group one. Returns how many were grouped. With
    /// none waiting it takes no write lock (the index writer asks on every turn of its loop).
    pub fn group_new(&self, g: &Grouping, threshold: f32) -> Result<u64> {
        if self.ungrouped(g)? == 0 {
            return Ok(0);
        }
        self.in_transaction(|s| {
            let tx = &s.conn;
            // (id, sum of descriptors, its unit vector)
            let mut groups: Vec<(i64, Vec<f32>, Vec<f32>)> = {
                let mut st = tx.prepare(&format!("SELECT id, centroid FROM {}", g.groups))?;
                st.query_map([], |r| Ok((r.get(0)?, from_blob(&r.get::<_, Vec<u8>>(1)?))))?
                    .map(|g| g.map(|(id, sum): (i64, Vec<f32>)| (id, unit(&sum), sum)))
                    .map(|g| g.map(|(id, u, sum)| (id, sum, u)))
                    .collect::<rusqlite::Result<_>>()?
            };
            let new: Vec<(i64, i64, Vec<f32>)> = {
                let mut st = tx.prepare(&format!(
                    "SELECT id, content_id, descriptor FROM {} WHERE {} IS NULL AND {} ORDER BY id",
                    g.members, g.group, g.eligible
                ))?;
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, from_blob(&r.get::<_, Vec<u8>>(2)?)))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            let mut touched: Vec<i64> = Vec::new();
            for (member, content_id, descriptor) in &new {
                let d = unit(descriptor);
                let best = groups
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, u))| (i, dot(u, &d)))
                    .filter(|(_, s)| *s >= threshold)
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let group = match best {
                    Some((i, _)) => {
                        let (id, sum, u) = &mut groups[i];
                        sum.iter_mut().zip(&d).for_each(|(c, x)| *c += x);
                        *u = unit(sum);
                        tx.execute(
                            &format!(
                                "UPDATE {} SET centroid = ?2, {c} = {c} + 1 WHERE id = ?1",
                                g.groups,
                                c = g.count
                            ),
                            params![*id, f32_blob(sum)],
                        )?;
                        *id
                    }
                    None => {
                        tx.execute(
                            &format!(
                                "INSERT INTO {}(centroid, {}, created_at) VALUES (?1, 1, ?2)",
                                g.groups, g.count
                            ),
                            params![f32_blob(&d), now()],
                        )?;
                        let id = tx.last_insert_rowid();
                        groups.push((id, d.clone(), d));
                        id
                    }
                };
                tx.execute(
                    &format!("UPDATE {} SET {} = ?2 WHERE id = ?1", g.members, g.group),
                    params![member, group],
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

    /// Keeps groups clean: recomputes centroids from their members, detaches members that
    /// fell below `threshold` of their own group (they are grouped again by the next
    /// [`Store::group_new`]), merges groups whose centroids come within `g.merge` (never two
    /// named ones) and removes empty groups.
    pub fn regroup(&self, g: &Grouping, threshold: f32) -> Result<Regrouped> {
        let mut report = Regrouped::default();
        self.in_transaction(|s| {
            let tx = &s.conn;
            // Pass 1: centroids from members, streamed (descriptors are never all in memory).
            let mut sums: HashMap<i64, (Vec<f32>, u64)> = HashMap::new();
            {
                let mut st = tx.prepare(&format!(
                    "SELECT {k}, descriptor FROM {} WHERE {k} IS NOT NULL",
                    g.members,
                    k = g.group
                ))?;
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
            // Pass 2: members far from their group's centroid leave it (never the last one).
            let mut leaving: Vec<(i64, i64, Vec<f32>)> = Vec::new();
            {
                let mut st = tx.prepare(&format!(
                    "SELECT m.id, m.{k}, m.descriptor FROM {} m
                     JOIN {} g ON g.id = m.{k} WHERE NOT g.pinned",
                    g.members,
                    g.groups,
                    k = g.group
                ))?;
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
            for (member, person, d) in &leaving {
                let (sum, count) = sums.get_mut(person).expect("summed above");
                if *count <= 1 {
                    continue;
                }
                sum.iter_mut().zip(d).for_each(|(c, x)| *c -= x);
                *count -= 1;
                tx.execute(
                    &format!("UPDATE {} SET {} = NULL WHERE id = ?1", g.members, g.group),
                    [member],
                )?;
                report.detached += 1;
            }
            // Merges: the smaller group joins the larger, or an unpinned one the pinned one.
            let mut people: Vec<(i64, bool, Vec<f32>, u64)> = {
                let mut st =
                    tx.prepare(&format!("SELECT id, pinned FROM {} ORDER BY id", g.groups))?;
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
                    if !(a.1 && b.1) && dot(&a.2, &b.2) >= g.merge {
                        let keep_a = a.1 || (!b.1 && a.3 >= b.3);
                        let (into, from) = if keep_a { (i, j) } else { (j, i) };
                        merge_rows(tx, g, people[into].0, people[from].0)?;
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
                    &format!(
                        "UPDATE {} SET centroid = ?2, {} = ?3 WHERE id = ?1",
                        g.groups, g.count
                    ),
                    params![id, f32_blob(sum), *count as i64],
                )?;
            }
            report.removed = tx.execute(
                &format!(
                    "DELETE FROM {gs} WHERE NOT EXISTS (SELECT 1 FROM {} WHERE {} = {gs}.id)",
                    g.members,
                    g.group,
                    gs = g.groups
                ),
                [],
            )? as u64;
            Ok(())
        })?;
        Ok(report)
    }

    /// The group of that id, or an error that says so.
    fn group_exists(&self, g: &Grouping, id: i64) -> Result<()> {
        self.conn
            .query_row(
                &format!("SELECT 1 FROM {} WHERE id = ?1", g.groups),
                [id],
                |_| Ok(()),
            )
            .optional()?
            .ok_or(StoreError::NoSuchGroup(g.noun, id, g.list))
    }

    /// Names (or with None, unnames) a group; its files are indexed again under the name.
    pub fn name_group(&self, g: &Grouping, id: i64, name: Option<&str>) -> Result<()> {
        self.group_exists(g, id)?;
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.execute(
                &format!(
                    "UPDATE {} SET name = ?2, pinned = 1 WHERE id = ?1",
                    g.groups
                ),
                params![id, name],
            )?;
            tx.execute(&queue_files_of(g), [id])?;
            Ok(())
        })
    }

    /// Moves every member of group `from` into group `into` and removes `from`.
    pub fn merge_groups(&self, g: &Grouping, into: i64, from: i64) -> Result<()> {
        if into == from {
            return Err(StoreError::SameGroup(g.noun, into));
        }
        self.group_exists(g, into)?;
        self.group_exists(g, from)?;
        self.in_transaction(|s| merge_rows(&s.conn, g, into, from))
    }

    /// The groups that answer to `key` (see [`person_key`]): the one of that number, or every
    /// one of that name.
    pub fn groups_matching(&self, g: &Grouping, key: &str) -> Result<Vec<i64>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT id, name FROM {} WHERE name IS NOT NULL OR id = ?1",
            g.groups
        ))?;
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
}

/// Moves the members and centroid of `from` into `into`, keeps a name, queues the files for
/// the index.
fn merge_rows(tx: &Connection, g: &Grouping, into: i64, from: i64) -> Result<()> {
    let (sum_from, count_from, name_from): (Vec<u8>, i64, Option<String>) = tx.query_row(
        &format!(
            "SELECT centroid, {}, name FROM {} WHERE id = ?1",
            g.count, g.groups
        ),
        [from],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let sum_into: Vec<u8> = tx.query_row(
        &format!("SELECT centroid FROM {} WHERE id = ?1", g.groups),
        [into],
        |r| r.get(0),
    )?;
    let sum: Vec<f32> = from_blob(&sum_into)
        .iter()
        .zip(from_blob(&sum_from))
        .map(|(a, b)| a + b)
        .collect();
    tx.execute(
        &format!(
            "UPDATE {} SET centroid = ?2, {c} = {c} + ?3, name = coalesce(name, ?4), pinned = 1
             WHERE id = ?1",
            g.groups,
            c = g.count
        ),
        params![into, f32_blob(&sum), count_from, name_from],
    )?;
    tx.execute(
        &format!(
            "UPDATE {m} SET {k} = ?1 WHERE {k} = ?2",
            m = g.members,
            k = g.group
        ),
        [into, from],
    )?;
    tx.execute(&format!("DELETE FROM {} WHERE id = ?1", g.groups), [from])?;
    tx.execute(&queue_files_of(g), [into])?;
    Ok(())
}

/// Queues every file whose content has a member of group ?1 for the text index.
fn queue_files_of(g: &Grouping) -> String {
    format!(
        "INSERT INTO index_queue(file_id)
         SELECT DISTINCT f.id FROM files f JOIN {} m ON m.content_id = f.content_id
         WHERE m.{} = ?1",
        g.members, g.group
    )
}
