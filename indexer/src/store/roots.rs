//! Watched folders: their rows, states, exclusions and what their scans left out.

use super::*;

impl Store {
    pub fn add_root(&self, path: &Path, dev: u64) -> Result<i64> {
        self.conn.exec(
            "INSERT INTO roots(path, dev, added_at) VALUES (?1, ?2, ?3)",
            params![path_bytes(path), dev as i64, now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Sets a root's exclusion patterns.
    pub fn set_root_exclude(&self, id: i64, patterns: &[String]) -> Result<()> {
        self.conn.exec(
            "UPDATE roots SET exclude = ?2 WHERE id = ?1",
            params![id, patterns.join("\n")],
        )?;
        Ok(())
    }

    /// Replaces what was left out at or below `dir` (a root's scan of that folder) with
    /// `entries`: (path, reason, is a folder).
    pub fn replace_left_out(
        &self,
        root_id: i64,
        dir: &Path,
        entries: &[(PathBuf, String, bool)],
    ) -> Result<()> {
        self.in_transaction(|store| {
            store.forget_left_out(dir)?;
            let mut st = store.conn.prepare_cached(
                // An upsert, not OR REPLACE: a replaced row would skip the tally's delete trigger.
                "INSERT INTO left_out(path, root_id, reason, folder) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(path) DO UPDATE SET root_id = excluded.root_id,
                     reason = excluded.reason, folder = excluded.folder",
            )?;
            for (path, reason, folder) in entries {
                st.execute(params![path_bytes(path), root_id, reason, folder])?;
            }
            Ok(())
        })
    }

    /// Forgets what was left out at or below `path` (gone from disk).
    pub fn forget_left_out(&self, path: &Path) -> Result<()> {
        let (lo, from, to) = subtree_bounds(path);
        self.conn.exec(
            "DELETE FROM left_out WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
            params![lo, from, to],
        )?;
        Ok(())
    }

    /// What is left out of a root, by reason: (reason, folders, files).
    pub fn left_out_counts(&self, root_id: i64) -> Result<Vec<(String, u64, u64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT reason, sum(CASE WHEN folder THEN n ELSE 0 END),
                    sum(CASE WHEN folder THEN 0 ELSE n END)
             FROM left_out_tally WHERE root_id = ?1 GROUP BY reason HAVING sum(n) > 0
             ORDER BY reason",
        )?;
        let rows = st
            .query_map([root_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn roots(&self) -> Result<Vec<RootRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, path, dev, state, message, exclude FROM roots ORDER BY path",
        )?;
        let rows = st
            .query_map([], root_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn root(&self, id: i64) -> Result<Option<RootRow>> {
        Ok(self
            .conn
            .one(
                "SELECT id, path, dev, state, message, exclude FROM roots WHERE id = ?1",
                [id],
                root_row,
            )
            .optional()?)
    }

    pub fn root_by_path(&self, path: &Path) -> Result<Option<RootRow>> {
        Ok(self
            .conn
            .one(
                "SELECT id, path, dev, state, message, exclude FROM roots WHERE path = ?1",
                [path_bytes(path)],
                root_row,
            )
            .optional()?)
    }

    /// The root a path lies in, if any.
    pub fn root_containing(&self, path: &Path) -> Result<Option<RootRow>> {
        Ok(self
            .roots()?
            .into_iter()
            .filter(|r| path.starts_with(&r.path))
            .max_by_key(|r| r.path.as_os_str().len()))
    }

    pub fn set_root_state(&self, id: i64, state: &str, message: Option<&str>) -> Result<()> {
        self.conn.exec(
            "UPDATE roots SET state = ?2, message = ?3 WHERE id = ?1",
            params![id, state, message],
        )?;
        Ok(())
    }

    pub fn set_root_dev(&self, id: i64, dev: u64) -> Result<()> {
        self.conn.exec(
            "UPDATE roots SET dev = ?2 WHERE id = ?1",
            params![id, dev as i64],
        )?;
        Ok(())
    }

    /// Moves the files of root `inner` to root `outer`, which now holds its folder, and forgets
    /// `inner`.
    pub fn absorb_root(&self, outer: i64, inner: i64) -> Result<()> {
        self.in_transaction(|s| {
            s.conn.exec(
                "UPDATE files SET root_id = ?1 WHERE root_id = ?2",
                [outer, inner],
            )?;
            s.conn.exec("DELETE FROM roots WHERE id = ?1", [inner])?;
            Ok(())
        })
    }

    /// Forgets a root and its files; contents they leave orphaned are collected later.
    pub fn remove_root(&self, id: i64) -> Result<u64> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.exec(
                "UPDATE contents SET orphaned_at = ?2 WHERE id IN
                   (SELECT content_id FROM files WHERE root_id = ?1) AND NOT EXISTS
                   (SELECT 1 FROM files f WHERE f.content_id = contents.id AND f.root_id != ?1)",
                params![id, now()],
            )?;
            let n = tx.exec("DELETE FROM files WHERE root_id = ?1", [id])?;
            tx.exec("DELETE FROM roots WHERE id = ?1", [id])?;
            Ok(n as u64)
        })
    }

    pub fn root_file_counts(&self) -> Result<HashMap<i64, u64>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT root_id, sum(n) FROM file_tally GROUP BY root_id")?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Marks every file of a root offline, remembering the state each returns to.
    pub fn set_root_offline(&self, root_id: i64) -> Result<u64> {
        Ok(self.conn.exec(
            "UPDATE files SET offline_from = state, state = 'offline', updated_at = ?2
             WHERE root_id = ?1 AND state != 'offline'",
            params![root_id, now()],
        )? as u64)
    }

    pub fn set_root_online(&self, root_id: i64) -> Result<u64> {
        Ok(self.conn.exec(
            "UPDATE files SET state = coalesce(offline_from, 'pending'), offline_from = NULL,
             updated_at = ?2 WHERE root_id = ?1 AND state = 'offline'",
            params![root_id, now()],
        )? as u64)
    }
}
