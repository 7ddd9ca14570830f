//! Files: each path's row, its stat and state, and the lookups scans and notices make.

use super::*;
use crate::paths::bytes_to_path;
use std::collections::HashSet;

impl Store {
    /// Those of `paths` that the catalogue has a file at, in whatever state.
    pub fn paths_present(&self, paths: &[PathBuf]) -> Result<HashSet<PathBuf>> {
        let mut present = HashSet::new();
        // SQLite takes at most 32,766 parameters a statement.
        for chunk in paths.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(",");
            let mut st = self
                .conn
                .prepare(&format!("SELECT path FROM files WHERE path IN ({marks})"))?;
            let found = st.query_map(
                rusqlite::params_from_iter(chunk.iter().map(|p| path_bytes(p))),
                |r| r.get::<_, Vec<u8>>(0),
            )?;
            for path in found {
                present.insert(bytes_to_path(path?));
            }
        }
        Ok(present)
    }

    /// An offline file seen again: back to the state it had before.
    pub fn set_file_online(&self, id: i64) -> Result<()> {
        self.conn.exec(
            "UPDATE files SET state = coalesce(offline_from, 'pending'), offline_from = NULL
             WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    pub fn file_by_path(&self, path: &Path) -> Result<Option<FileRow>> {
        Ok(self
            .conn
            .one(
                &format!("SELECT {FILE_COLS} FROM files WHERE path = ?1"),
                [path_bytes(path)],
                file_row,
            )
            .optional()?)
    }

    pub fn file(&self, id: i64) -> Result<Option<FileRow>> {
        Ok(self
            .conn
            .one(
                &format!("SELECT {FILE_COLS} FROM files WHERE id = ?1"),
                [id],
                file_row,
            )
            .optional()?)
    }

    pub fn files_by_inode(&self, dev: u64, inode: u64) -> Result<Vec<FileRow>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {FILE_COLS} FROM files WHERE dev = ?1 AND inode = ?2"
        ))?;
        let rows = st
            .query_map(params![dev as i64, inode as i64], file_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Files at or below `dir`.
    pub fn files_under(&self, dir: &Path) -> Result<Vec<FileRow>> {
        let (lo, from, to) = subtree_bounds(dir);
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {FILE_COLS} FROM files WHERE path = ?1 OR (path >= ?2 AND path < ?3)"
        ))?;
        let rows = st
            .query_map(params![lo, from, to], file_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// What a scan compares with the disk, for every file at or below `dir`, by path. Keyed
    /// by the path as a string (`Path`'s hash goes component by component) and nothing else
    /// is read: a scan holds and looks up every known file of the tree.
    pub fn known_files_under(&self, dir: &Path) -> Result<KnownFiles> {
        let (lo, from, to) = subtree_bounds(dir);
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {KNOWN_COLS} FROM files WHERE path = ?1 OR (path >= ?2 AND path < ?3)"
        ))?;
        known_files(st.query(params![lo, from, to])?, 0)
    }

    /// The same for a whole root: its rows come in the table's order, two to four times
    /// faster than through the path index.
    pub fn known_files_of_root(&self, root_id: i64) -> Result<KnownFiles> {
        // Sized from the tally: growing a map of half a million paths copies it again and again.
        let n: i64 = self.conn.one(
            "SELECT coalesce(sum(n), 0) FROM file_tally WHERE root_id = ?1",
            [root_id],
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {KNOWN_COLS} FROM files WHERE root_id = ?1"
        ))?;
        known_files(st.query([root_id])?, n.max(0) as usize)
    }

    pub fn files_of_root(&self, root_id: i64) -> Result<Vec<FileRow>> {
        let mut st = self
            .conn
            .prepare_cached(&format!("SELECT {FILE_COLS} FROM files WHERE root_id = ?1"))?;
        let rows = st
            .query_map([root_id], file_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Records a new file as pending and queues its job.
    pub fn insert_file(&self, root_id: i64, path: &Path, stat: &FileStat) -> Result<i64> {
        self.in_transaction(|s| {
            s.conn.exec(
                "INSERT INTO files(root_id, path, name, dev, inode, size, mtime_ns, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
                params![
                    root_id,
                    path_bytes(path),
                    name_of(path),
                    stat.dev as i64,
                    stat.inode as i64,
                    stat.size as i64,
                    stat.mtime_ns,
                    now()
                ],
            )?;
            let id = s.conn.last_insert_rowid();
            s.enqueue(id)?;
            Ok(id)
        })
    }

    /// The file's bytes may have changed: new stat, pending again, job queued.
    pub fn mark_changed(&self, id: i64, stat: &FileStat) -> Result<()> {
        self.in_transaction(|s| {
            s.conn.exec(
                "UPDATE files SET dev = ?2, inode = ?3, size = ?4, mtime_ns = ?5, state = 'pending',
                 offline_from = NULL, message = NULL, updated_at = ?6 WHERE id = ?1",
                params![
                    id,
                    stat.dev as i64,
                    stat.inode as i64,
                    stat.size as i64,
                    stat.mtime_ns,
                    now()
                ],
            )?;
            s.enqueue(id)
        })
    }

    /// A rename or move: same file, same content, new place. Nothing is re-extracted.
    pub fn move_file(&self, id: i64, root_id: i64, path: &Path, stat: &FileStat) -> Result<()> {
        self.conn.exec(
            "UPDATE files SET root_id = ?2, path = ?3, name = ?4, dev = ?5, inode = ?6,
             updated_at = ?7 WHERE id = ?1",
            params![
                id,
                root_id,
                path_bytes(path),
                name_of(path),
                stat.dev as i64,
                stat.inode as i64,
                now()
            ],
        )?;
        Ok(())
    }

    /// Forgets files; contents left without a file are marked for later collection.
    pub fn delete_files(&self, ids: &[i64]) -> Result<()> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            {
                let mut content =
                    tx.prepare_cached("SELECT content_id FROM files WHERE id = ?1")?;
                let mut del = tx.prepare_cached("DELETE FROM files WHERE id = ?1")?;
                let mut orphan = tx.prepare_cached(
                    "UPDATE contents SET orphaned_at = ?2 WHERE id = ?1
                     AND NOT EXISTS (SELECT 1 FROM files WHERE content_id = ?1)",
                )?;
                for &id in ids {
                    let cid: Option<i64> =
                        content.query_row([id], |r| r.get(0)).optional()?.flatten();
                    del.execute([id])?;
                    if let Some(cid) = cid {
                        orphan.execute(params![cid, now()])?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Deletes contents orphaned for longer than `grace_secs` (with their results).
    pub fn collect_orphans(&self, grace_secs: i64) -> Result<u64> {
        Ok(self.conn.exec(
            "DELETE FROM contents WHERE orphaned_at IS NOT NULL AND orphaned_at <= ?1
             AND NOT EXISTS (SELECT 1 FROM files WHERE content_id = contents.id)",
            [now() - grace_secs],
        )? as u64)
    }

    /// Files in a state, newest first (for `vx status` problems).
    pub fn files_in_states(&self, states: &[FileState], limit: u32) -> Result<Vec<FileRow>> {
        let list = states
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let mut st = self.conn.prepare(&format!(
            "SELECT {FILE_COLS} FROM files WHERE state IN ({list})
             ORDER BY updated_at DESC, id DESC LIMIT ?1"
        ))?;
        let rows = st
            .query_map([limit], file_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn state_counts(&self) -> Result<Vec<(FileState, u64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT CASE bucket WHEN 'unsupported' THEN 'skipped' ELSE bucket END, sum(n)
             FROM file_tally GROUP BY 1",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, n)| FileState::parse(&s).map(|s| (s, n)))
            .collect())
    }

    /// Skipped files: (not media or empty, in a format this vx cannot read yet).
    pub fn skipped_counts(&self) -> Result<(u64, u64)> {
        Ok(self.conn.one(
            "SELECT coalesce(sum(CASE bucket WHEN 'skipped' THEN n END), 0),
                    coalesce(sum(CASE bucket WHEN 'unsupported' THEN n END), 0)
             FROM file_tally",
            [],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
        )?)
    }
}
