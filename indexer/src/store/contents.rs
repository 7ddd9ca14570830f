//! Contents (distinct bytes, by hash) and their metadata.

use super::*;

impl Store {
    pub fn content_count(&self) -> Result<u64> {
        Ok(self.counter("contents")?.max(0) as u64)
    }

    pub fn content_by_hash(&self, hash: &[u8]) -> Result<Option<ContentRow>> {
        Ok(self
            .conn
            .one(
                &format!("SELECT {CONTENT_COLS} FROM contents WHERE hash = ?1"),
                [hash],
                content_row,
            )
            .optional()?)
    }

    pub fn content(&self, id: i64) -> Result<Option<ContentRow>> {
        Ok(self
            .conn
            .one(
                &format!("SELECT {CONTENT_COLS} FROM contents WHERE id = ?1"),
                [id],
                content_row,
            )
            .optional()?)
    }

    /// Inserts a content unless another worker just did (same bytes seen twice at once).
    /// Returns its id and whether this call inserted it.
    pub fn insert_content(
        &self,
        hash: &[u8],
        size: u64,
        meta: &ContentMeta,
    ) -> Result<(i64, bool)> {
        let inserted = self.conn.exec(
            &format!(
                "INSERT INTO contents(hash, size, {META_COLS}) VALUES (?1, ?2, {})
                 ON CONFLICT(hash) DO NOTHING",
                placeholders(3, META_COL_COUNT)
            ),
            rusqlite::params_from_iter(
                [Value::from(hash.to_vec()), Value::from(size as i64)]
                    .into_iter()
                    .chain(meta_values(meta)),
            ),
        )? == 1;
        let id = self
            .conn
            .one("SELECT id FROM contents WHERE hash = ?1", [hash], |r| {
                r.get(0)
            })?;
        Ok((id, inserted))
    }

    /// Where the places called `name` are, by the photos and videos taken there: one point per
    /// place (the mean of its files'). `name` is the place's own name, optionally followed by
    /// words of its region or country ("Rome", "Rome, Italy").
    pub fn place_centres(&self, name: &str) -> Result<Vec<(String, (f64, f64))>> {
        let mut parts = name.split(',').map(|p| p.trim().to_lowercase());
        let Some(first) = parts.next().filter(|p| !p.is_empty()) else {
            return Ok(Vec::new());
        };
        let within: Vec<String> = parts.filter(|p| !p.is_empty()).collect();
        let mut st = self.conn.prepare_cached(
            "SELECT place, place_terms, avg(latitude), avg(longitude) FROM contents
             WHERE place IS NOT NULL AND lower(place) LIKE ?1 || '%' GROUP BY place",
        )?;
        let rows = st
            .query_map([&first], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    (r.get::<_, f64>(2)?, r.get::<_, f64>(3)?),
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter(|(place, terms, _)| {
                let named = place.split(',').next().unwrap_or("").trim().to_lowercase() == first;
                let terms = terms.to_lowercase();
                named && within.iter().all(|w| terms.contains(w.as_str()))
            })
            .map(|(place, _, at)| (place, at))
            .collect())
    }

    /// Where the file at `path` was taken and what took it (see camera.rs), as far as its
    /// content says: the place and camera filters of search.
    pub fn origin_of(&self, path: &Path) -> Result<Origin> {
        Ok(self
            .conn
            .one(
                "SELECT c.latitude, c.longitude, c.camera FROM files f
                 JOIN contents c ON c.id = f.content_id WHERE f.path = ?1",
                [path_bytes(path)],
                |r| {
                    let at = r.get::<_, Option<f64>>(0)?.zip(r.get::<_, Option<f64>>(1)?);
                    Ok((at, r.get(2)?))
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Replaces a content's metadata with what a newer decoder (`extractor` at `version`) found,
    /// forgetting the older versions' record; its files are indexed again.
    pub fn replace_content_meta(
        &self,
        id: i64,
        meta: &ContentMeta,
        extractor: &str,
        version: u32,
    ) -> Result<()> {
        self.in_transaction(|s| {
            s.conn.exec(
                &format!(
                    "UPDATE contents SET ({META_COLS}) = ({}) WHERE id = ?1",
                    placeholders(2, META_COL_COUNT)
                ),
                rusqlite::params_from_iter(
                    std::iter::once(Value::from(id)).chain(meta_values(meta)),
                ),
            )?;
            s.record_extraction(id, extractor, version, meta.error.as_deref())?;
            s.conn.exec(
                "INSERT INTO index_queue(file_id) SELECT id FROM files WHERE content_id = ?1",
                [id],
            )?;
            Ok(())
        })
    }

    /// Queues every file whose content was decoded by an older version of `extractor` (the
    /// built-in metadata one), so that a better decoder sees old files again: formats it could
    /// not read before, and what it now reads from the rest. Returns how many were queued.
    pub(super) fn enqueue_stale_meta(&self, extractor: &str, version: u32) -> Result<u64> {
        Ok(self.conn.exec(
            "INSERT INTO jobs(file_id, created_at)
             SELECT f.id, ?3 FROM files f JOIN contents c ON c.id = f.content_id
             WHERE f.state IN ('indexed', 'failed', 'skipped')
             AND NOT EXISTS (SELECT 1 FROM extractions e WHERE e.content_id = c.id
                             AND e.extractor = ?1 AND e.version >= ?2)
             ON CONFLICT(file_id) DO UPDATE SET state = 'queued', attempts = 0, next_attempt = 0
               WHERE jobs.state = 'failed'",
            params![extractor, version, now()],
        )? as u64)
    }

    pub fn files_of_content(&self, content_id: i64) -> Result<Vec<PathBuf>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT path FROM files WHERE content_id = ?1 ORDER BY path")?;
        let rows = st
            .query_map([content_id], |r| Ok(bytes_to_path(r.get::<_, Vec<u8>>(0)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
