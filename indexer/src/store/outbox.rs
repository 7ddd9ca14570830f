//! Counters, and the outbox of catalogue changes the text index has yet to apply.

use super::*;

impl Store {
    pub fn bump_counter(&self, name: &str, by: i64) -> Result<()> {
        self.conn.exec(
            "INSERT INTO counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            params![name, by],
        )?;
        Ok(())
    }

    pub fn counter(&self, name: &str) -> Result<i64> {
        Ok(self
            .conn
            .one("SELECT value FROM counters WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or(0))
    }

    /// Up to `limit` distinct files waiting for the text index, and the last sequence read.
    pub fn index_backlog(&self, limit: u32) -> Result<(i64, Vec<i64>)> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, file_id FROM index_queue ORDER BY seq LIMIT ?1")?;
        let rows: Vec<(i64, i64)> = st
            .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let last = rows.last().map(|r| r.0).unwrap_or(0);
        let mut ids: Vec<i64> = rows.into_iter().map(|r| r.1).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok((last, ids))
    }

    pub fn index_ack(&self, up_to_seq: i64) -> Result<()> {
        self.conn
            .exec("DELETE FROM index_queue WHERE seq <= ?1", [up_to_seq])?;
        Ok(())
    }

    pub fn index_pending(&self) -> Result<u64> {
        Ok(self
            .conn
            // The queue is drained from its front, so its rows are contiguous: no count(*).
            .query_row(
                "SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM index_queue",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64)
    }

    /// Queues every file for the text index (used to rebuild it).
    pub fn index_everything(&self) -> Result<u64> {
        Ok(self
            .conn
            .exec("INSERT INTO index_queue(file_id) SELECT id FROM files", [])? as u64)
    }

    /// The document for a file, or None when search should not see it.
    pub fn index_doc(&self, file_id: i64) -> Result<Option<IndexDoc>> {
        let cols = CONTENT_COLS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row = self
            .conn
            .one(
                &format!(
                    "SELECT {cols}, f.path, f.name, f.state, f.mtime_ns FROM files f
                     JOIN contents c ON c.id = f.content_id WHERE f.id = ?1
                     AND f.state IN ('indexed', 'offline') AND c.kind IS NOT NULL"
                ),
                [file_id],
                |r| {
                    let n = CONTENT_COL_COUNT;
                    Ok((
                        bytes_to_path(r.get::<_, Vec<u8>>(n)?),
                        r.get::<_, String>(n + 1)?,
                        r.get::<_, String>(n + 2)?,
                        r.get::<_, i64>(n + 3)?,
                        content_row(r)?,
                    ))
                },
            )
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let segments = self.segments(row.4.id)?;
        let faces = self.content_counts(row.4.id)?.2;
        let people = self.appearances(row.4.id)?;
        let turns = self.turns(row.4.id)?;
        Ok(
            Some(row).and_then(|(path, name, state, mtime_ns, content)| {
                Some(IndexDoc {
                    file_id,
                    path,
                    name,
                    kind: content.meta.kind?,
                    online: state != "offline",
                    date: content.meta.taken.unwrap_or(mtime_ns / 1_000_000_000),
                    meta: content.meta,
                    segments,
                    faces,
                    people,
                    turns,
                })
            }),
        )
    }
}
