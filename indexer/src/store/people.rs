//! People in the catalogue: faces joined to groups, re-grouping, names and merges (the rules
//! are in `crate::people`).

use super::*;
use crate::people::*;

impl Store {
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
