//! What the vector channels read besides the vectors: the embeddings to load, the moment each
//! row stands for, the files a content is, and the contents a query's filters allow.

use super::*;
use crate::extractors::HasTest;
use crate::semantic::Embedded;

/// The moment an embedded row stands for.
pub struct EmbeddedMoment {
    pub source: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// How sure its model was (a label phrase's likeliest label; 1 for what was said or read).
    pub confidence: f32,
}

/// What an embedded row is, as loaded with its embedding: enough to weigh its matches.
pub struct EmbeddedRow<'a> {
    pub source: &'a str,
    pub confidence: f32,
    pub span: (f64, f64),
}

/// A catalogued file as a search channel sees it.
pub struct SearchableFile {
    pub content_id: i64,
    pub path: Vec<u8>,
    pub kind: String,
    pub online: bool,
    /// Taken, else modified (Unix seconds).
    pub date: i64,
}

/// The columns `searchable` reads.
macro_rules! searchable_cols {
    () => {
        "f.content_id, f.path, c.kind, f.state != 'offline',
         coalesce(c.taken, f.mtime_ns / 1000000000)"
    };
}

fn searchable(r: &rusqlite::Row<'_>) -> rusqlite::Result<SearchableFile> {
    Ok(SearchableFile {
        content_id: r.get(0)?,
        path: r.get(1)?,
        kind: r.get(2)?,
        online: r.get(3)?,
        date: r.get(4)?,
    })
}

/// `Store::searchable_files_of`'s statement. (The `+` keeps SQLite on the content index: by
/// the state index it read every file, 5 ms a search at 10,000 files.)
pub(super) fn files_of_sql(content_ids: &[i64]) -> String {
    format!(
        "SELECT {} FROM files f JOIN contents c ON c.id = f.content_id
         WHERE f.content_id IN ({}) AND +f.state IN ('indexed', 'offline')
         AND c.kind IS NOT NULL ORDER BY f.id",
        searchable_cols!(),
        id_list(content_ids)
    )
}

impl Store {
    /// Each (row id, content id, embedding blob, what the row is) of `what` after `after_id`,
    /// in id order.
    pub fn embeddings_after(
        &self,
        what: Embedded,
        after_id: i64,
        mut each: impl FnMut(i64, i64, &[u8], EmbeddedRow<'_>),
    ) -> Result<()> {
        let sql = match what {
            Embedded::TextSegments => {
                "SELECT id, content_id, embedding, source, confidence, start, end FROM segments
                 WHERE embedding IS NOT NULL AND id > ?1 ORDER BY id"
            }
            Embedded::Frames => {
                "SELECT id, content_id, clip, 'visual', 1.0, time, time FROM frames
                 WHERE clip IS NOT NULL AND id > ?1 ORDER BY id"
            }
        };
        let mut st = self.conn.prepare(sql)?;
        let mut rows = st.query([after_id])?;
        while let Some(r) = rows.next()? {
            let row = EmbeddedRow {
                source: r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?,
                confidence: r.get::<_, Option<f64>>(4)?.unwrap_or(1.0) as f32,
                span: (r.get(5)?, r.get(6)?),
            };
            each(
                r.get(0)?,
                r.get(1)?,
                r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?,
                row,
            );
        }
        Ok(())
    }

    /// The moment each embedded row of `row_ids` stands for: a segment's own; a frame's time
    /// with the best `label_source` segment then (for the human reader). A row replaced since
    /// the vectors were loaded is absent. One statement for all (a statement per row cost more
    /// than the vector scan).
    pub fn embedded_moments(
        &self,
        what: Embedded,
        row_ids: &[i64],
        label_source: &str,
    ) -> Result<HashMap<i64, EmbeddedMoment>> {
        let list = id_list(row_ids);
        let sql = match what {
            Embedded::TextSegments => format!(
                "SELECT id, source, start, end, text, confidence FROM segments WHERE id IN ({list})"
            ),
            Embedded::Frames => format!(
                "SELECT f.id, 'visual', f.time, f.time, coalesce((SELECT s.text FROM segments s
                   WHERE s.content_id = f.content_id AND s.source = ?1
                   AND s.start <= f.time + 0.001 AND s.end >= f.time - 0.001
                   ORDER BY s.confidence DESC LIMIT 1), ''), 1.0 FROM frames f
                 WHERE f.id IN ({list})"
            ),
        };
        let mut st = self.conn.prepare(&sql)?;
        let read = |r: &rusqlite::Row<'_>| {
            let moment = EmbeddedMoment {
                source: r.get(1)?,
                start: r.get(2)?,
                end: r.get(3)?,
                text: r.get(4)?,
                confidence: r.get::<_, f64>(5)? as f32,
            };
            Ok((r.get(0)?, moment))
        };
        let rows = match what {
            Embedded::TextSegments => st.query_map([], read)?.collect::<rusqlite::Result<_>>(),
            Embedded::Frames => st
                .query_map([label_source], read)?
                .collect::<rusqlite::Result<_>>(),
        };
        Ok(rows?)
    }

    /// The searchable files (indexed or offline) of each content of `content_ids`.
    pub fn searchable_files_of(
        &self,
        content_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<SearchableFile>>> {
        let mut st = self.conn.prepare(&files_of_sql(content_ids))?;
        let mut by_content: HashMap<i64, Vec<SearchableFile>> = HashMap::new();
        for file in st.query_map([], searchable)? {
            let file = file?;
            by_content.entry(file.content_id).or_default().push(file);
        }
        Ok(by_content)
    }

    /// Every searchable file, with whether its content passes all of `has` (asked only when
    /// there are any: each costs a lookup per file), of those showing one of `people` when
    /// given.
    pub fn searchable_files_with(
        &self,
        has: &[Option<HasTest>],
        in_groups: &[(&Grouping, Vec<i64>)],
    ) -> Result<Vec<(SearchableFile, bool)>> {
        let test = |t: &Option<HasTest>| match t {
            Some(HasTest::Segments(source)) => format!(
                "EXISTS(SELECT 1 FROM segments WHERE content_id = c.id AND source = '{}')",
                source.replace('\'', "''")
            ),
            Some(HasTest::Faces) => "EXISTS(SELECT 1 FROM faces WHERE content_id = c.id)".into(),
            None => "0".into(),
        };
        let has_all = if has.is_empty() {
            "1".to_string()
        } else {
            has.iter().map(test).collect::<Vec<_>>().join(" AND ")
        };
        // Only contents with a member of one of these groups (a person's face, a voice).
        let shows_person: String = in_groups
            .iter()
            .map(|(g, ids)| {
                format!(
                    " AND EXISTS(SELECT 1 FROM {} WHERE content_id = c.id AND {} IN ({}))",
                    g.members,
                    g.group,
                    id_list(ids)
                )
            })
            .collect();
        let mut st = self.conn.prepare(&format!(
            "SELECT DISTINCT {}, {has_all}
             FROM files f JOIN contents c ON c.id = f.content_id
             WHERE f.state IN ('indexed', 'offline') AND c.kind IS NOT NULL {shows_person}",
            searchable_cols!()
        ))?;
        let rows = st
            .query_map([], |r| Ok((searchable(r)?, r.get(5)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
