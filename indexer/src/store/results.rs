//! What the extractors found: extraction rows, segments, faces, frames and measures.

use super::*;

impl Store {
    /// Records one run of an extractor over a content (counting re-runs).
    pub fn record_extraction(
        &self,
        content_id: i64,
        extractor: &str,
        version: u32,
        error: Option<&str>,
    ) -> Result<()> {
        // An older version's run is replaced, not kept beside this one (`vx show` listed both).
        self.conn.exec(
            "DELETE FROM extractions WHERE content_id = ?1 AND extractor = ?2 AND version < ?3",
            params![content_id, extractor, version],
        )?;
        self.conn.exec(
            "INSERT INTO extractions(content_id, extractor, version, status, error, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(content_id, extractor, version) DO UPDATE SET status = excluded.status,
               error = excluded.error, runs = runs + 1, updated_at = excluded.updated_at",
            params![
                content_id,
                extractor,
                version,
                if error.is_some() { "failed" } else { "done" },
                error,
                now()
            ],
        )?;
        self.bump_counter(&format!("runs:{extractor}"), 1)
    }

    pub fn extractions(&self, content_id: i64) -> Result<Vec<ExtractionRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT extractor, version, status, error, runs FROM extractions
             WHERE content_id = ?1 ORDER BY extractor",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok(ExtractionRow {
                    extractor: r.get(0)?,
                    version: r.get(1)?,
                    status: r.get(2)?,
                    error: r.get(3)?,
                    runs: r.get::<_, i64>(4)? as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn extraction_done_count(&self, extractor: &str, version: u32) -> Result<u64> {
        Ok(self.conn.one(
            "SELECT coalesce(sum(n), 0) FROM extraction_tally WHERE extractor = ?1 AND version = ?2",
            params![extractor, version],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// A content's segments of these `sources` stored by extractors other than `except`, with
    /// their ids (what an extractor working on the others' results needs of them).
    pub fn stored_segments(
        &self,
        content_id: i64,
        sources: &[&str],
        except: &[&str],
    ) -> Result<Vec<(i64, crate::extract::SegmentOut)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT id, extractor, source, start, end, text, coalesce(confidence, 0)
             FROM segments WHERE content_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                let segment = crate::extract::SegmentOut::new(
                    &r.get::<_, String>(1)?,
                    &r.get::<_, String>(2)?,
                    (r.get(3)?, r.get(4)?),
                    r.get(5)?,
                    r.get::<_, f64>(6)? as f32,
                );
                Ok((r.get::<_, i64>(0)?, segment))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows
            .into_iter()
            .filter(|(_, s)| {
                sources.contains(&s.source.as_str()) && !except.contains(&s.extractor.as_str())
            })
            .collect())
    }

    pub fn segments(&self, content_id: i64) -> Result<Vec<SegmentRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT source, start, end, text, coalesce(confidence, 0) FROM segments
             WHERE content_id = ?1 ORDER BY start, source, id",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok(SegmentRow {
                    source: r.get(0)?,
                    start: r.get(1)?,
                    end: r.get(2)?,
                    text: r.get(3)?,
                    confidence: r.get::<_, f64>(4)? as f32,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The first frame's fingerprint with the content's sharpness and quality (0 when not
    /// scored), when the fingerprint and the sharpness are known.
    pub fn fingerprint_and_looks(&self, content_id: i64) -> Result<Option<(u64, f64, f64)>> {
        let row: (Option<i64>, Option<f64>, Option<f64>) = self.conn.query_row(
            "SELECT (SELECT fingerprint FROM frames WHERE content_id = ?1
                       AND fingerprint IS NOT NULL ORDER BY time LIMIT 1),
                    (SELECT value FROM measures WHERE content_id = ?1
                       AND name = 'sharpness' AND track = 0),
                    (SELECT value FROM measures WHERE content_id = ?1
                       AND name = 'quality' AND track = 0)",
            [content_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        Ok(match row {
            (Some(f), Some(s), q) => Some((f as u64, s, q.unwrap_or(0.0))),
            _ => None,
        })
    }

    /// Extractors that have a result row (done or failed) for this content at their version.
    pub fn extractions_done(&self, content_id: i64) -> Result<Vec<(String, u32)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT extractor, version FROM extractions WHERE content_id = ?1")?;
        let rows = st
            .query_map([content_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Stores what one extraction pass produced, replacing earlier results of the same
    /// extractors, in one transaction; every file of the content is queued for the text index.
    pub fn save_output(&self, content_id: i64, out: &crate::extract::Output) -> Result<()> {
        let blob = f32_blob;
        self.in_transaction(|s| {
            let tx = &s.conn;
            for id in &out.replaced {
                tx.exec(
                    "DELETE FROM segments WHERE id = ?1 AND content_id = ?2",
                    params![id, content_id],
                )?;
            }
            for o in &out.outcomes {
                for table in ["segments", "measures"] {
                    tx.exec(
                        &format!("DELETE FROM {table} WHERE content_id = ?1 AND extractor = ?2"),
                        params![content_id, o.extractor],
                    )?;
                }
                let kept = crate::extractors::by_name(&o.extractor).map_or(&[][..], |e| e.kept());
                for k in kept {
                    tx.exec(
                        match k {
                            Kept::Faces => "DELETE FROM faces WHERE content_id = ?1",
                            Kept::Poses => "DELETE FROM poses WHERE content_id = ?1",
                            Kept::Scenes => "DELETE FROM scenes WHERE content_id = ?1",
                            Kept::Speakers => "DELETE FROM speakers WHERE content_id = ?1",
                            Kept::Expressions => {
                                "UPDATE faces SET expression = NULL, expression_score = NULL
                                 WHERE content_id = ?1"
                            }
                            Kept::FrameThumbnails => {
                                "UPDATE frames SET thumb = NULL WHERE content_id = ?1"
                            }
                            Kept::FrameEmbeddings => {
                                "UPDATE frames SET clip = NULL WHERE content_id = ?1"
                            }
                            Kept::FrameFingerprints => {
                                "UPDATE frames SET fingerprint = NULL WHERE content_id = ?1"
                            }
                        },
                        [content_id],
                    )?;
                }
                s.record_extraction(content_id, &o.extractor, o.version, o.error.as_deref())?;
            }
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO segments(content_id, extractor, source, start, end, text, confidence, embedding)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for sg in &out.segments {
                    ins.execute(params![
                        content_id,
                        sg.extractor,
                        sg.source,
                        sg.start,
                        sg.end,
                        sg.text,
                        sg.confidence as f64,
                        sg.embedding.as_deref().map(blob)
                    ])?;
                }
                let mut measure = tx.prepare_cached(
                    "INSERT INTO measures(content_id, extractor, name, track, value)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for m in &out.measures {
                    measure.execute(params![content_id, m.extractor, m.name, m.track, m.value])?;
                }
                let mut face = tx.prepare_cached(
                    "INSERT INTO faces(content_id, time, x, y, w, h, score, descriptor, age, male, thumb)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                for f in &out.faces {
                    face.execute(params![
                        content_id,
                        f.time,
                        f.rect[0] as f64,
                        f.rect[1] as f64,
                        f.rect[2] as f64,
                        f.rect[3] as f64,
                        f.score as f64,
                        blob(&f.descriptor),
                        f.age as f64,
                        f.male as f64,
                        f.thumb
                    ])?;
                }
                let mut pose = tx.prepare_cached(
                    "INSERT INTO poses(content_id, time, score, keypoints) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for p in &out.poses {
                    let flat: Vec<f32> = p.keypoints.iter().flatten().copied().collect();
                    pose.execute(params![content_id, p.time, p.score as f64, blob(&flat)])?;
                }
                let mut scene = tx.prepare_cached(
                    "INSERT INTO scenes(content_id, start, end) VALUES (?1, ?2, ?3)",
                )?;
                for (start, end) in &out.scenes {
                    scene.execute(params![content_id, start, end])?;
                }
                let mut speaker = tx.prepare_cached(
                    "INSERT INTO speakers(content_id, speaker, seconds, descriptor, turns)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for sp in &out.speakers {
                    let turns: Vec<f32> = sp.turns.iter().flat_map(|&(a, b)| [a as f32, b as f32]).collect();
                    speaker.execute(params![
                        content_id,
                        sp.speaker,
                        sp.seconds,
                        blob(&sp.embedding),
                        blob(&turns)
                    ])?;
                }
                // A face's expression, on its rows at every time the content shows it (found by
                // the same detector on the same frame: the same box).
                let mut expression = tx.prepare_cached(
                    "UPDATE faces SET expression = ?2, expression_score = ?3
                     WHERE content_id = ?1 AND abs(x - ?4) < 0.5 AND abs(y - ?5) < 0.5
                       AND abs(w - ?6) < 0.5 AND abs(h - ?7) < 0.5",
                )?;
                for e in &out.expressions {
                    let [x, y, w, h] = e.rect.map(f64::from);
                    expression.execute(params![content_id, e.label, e.score as f64, x, y, w, h])?;
                }
                // Frames: one row per time; each extractor fills its own column.
                for fr in out
                    .frames
                    .iter()
                    .filter(|f| f.thumb.is_some() || f.clip.is_some() || f.fingerprint.is_some())
                {
                    let id: Option<i64> = tx
                        .query_row(
                            "SELECT id FROM frames WHERE content_id = ?1 AND abs(time - ?2) < 0.0005",
                            params![content_id, fr.time],
                            |r| r.get(0),
                        )
                        .optional()?;
                    let id = match id {
                        Some(id) => id,
                        None => {
                            tx.exec(
                                "INSERT INTO frames(content_id, time) VALUES (?1, ?2)",
                                params![content_id, fr.time],
                            )?;
                            tx.last_insert_rowid()
                        }
                    };
                    if let Some(t) = &fr.thumb {
                        tx.exec("UPDATE frames SET thumb = ?2 WHERE id = ?1", params![id, t])?;
                    }
                    if let Some(c) = &fr.clip {
                        tx.exec(
                            "UPDATE frames SET clip = ?2 WHERE id = ?1",
                            params![id, blob(c)],
                        )?;
                    }
                    if let Some(f) = fr.fingerprint {
                        tx.exec(
                            "UPDATE frames SET fingerprint = ?2 WHERE id = ?1",
                            params![id, f as i64],
                        )?;
                    }
                }
            }
            tx.exec(
                "INSERT INTO index_queue(file_id) SELECT id FROM files WHERE content_id = ?1",
                [content_id],
            )?;
            Ok(())
        })
    }

    /// (time, x, y, w, h, score, age) of each face found in a content.
    pub fn faces(&self, content_id: i64) -> Result<Vec<FaceRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT fa.time, fa.x, fa.y, fa.w, fa.h, fa.score, coalesce(fa.age, 0), fa.person_id, p.name,
                    fa.expression, fa.expression_score
             FROM faces fa LEFT JOIN people p ON p.id = fa.person_id
             WHERE fa.content_id = ?1 ORDER BY fa.time, fa.x",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok(FaceRow {
                    time: r.get(0)?,
                    rect: [
                        r.get::<_, f64>(1)? as f32,
                        r.get::<_, f64>(2)? as f32,
                        r.get::<_, f64>(3)? as f32,
                        r.get::<_, f64>(4)? as f32,
                    ],
                    score: r.get::<_, f64>(5)? as f32,
                    age: r.get::<_, f64>(6)? as f32,
                    person: r.get(7)?,
                    name: r.get(8)?,
                    expression: r
                        .get::<_, Option<String>>(9)?
                        .zip(r.get::<_, Option<f64>>(10)?.map(|s| s as f32)),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// (extractor, measure, audio track, value) of what was measured over a content.
    pub fn measures(&self, content_id: i64) -> Result<Vec<(String, String, u32, f64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT extractor, name, track, value FROM measures WHERE content_id = ?1
             ORDER BY track, rowid",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The value of measure `name` for the file at `path` (its first audio track), when it has
    /// one.
    pub fn measure_of(&self, path: &Path, name: &str) -> Result<Option<f64>> {
        Ok(self
            .conn
            .one(
                "SELECT m.value FROM files f JOIN measures m ON m.content_id = f.content_id
                 WHERE f.path = ?1 AND m.name = ?2 AND m.track = 0",
                params![path_bytes(path), name],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// (time, CLIP embedding) of a content's frames that have one.
    pub fn frame_embeddings(&self, content_id: i64) -> Result<Vec<(f64, Vec<f32>)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT time, clip FROM frames WHERE content_id = ?1 AND clip IS NOT NULL ORDER BY time",
        )?;
        let rows = st
            .query_map([content_id], |r| {
                let blob: Vec<u8> = r.get(1)?;
                Ok((r.get(0)?, blob_f32(&blob).collect()))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// (time, thumbnail relative path) of a content's frames.
    pub fn thumbnails(&self, content_id: i64) -> Result<Vec<(f64, String)>> {
        one_of(content_id, |ids| self.thumbnails_of(ids))
    }

    /// Each content's (time, thumbnail) in time order, in one statement for all.
    pub fn thumbnails_of(&self, content_ids: &[i64]) -> Result<HashMap<i64, Vec<(f64, String)>>> {
        self.by_content(&format!(
            "SELECT content_id, time, thumb FROM frames WHERE content_id IN ({}) AND thumb IS \
             NOT NULL ORDER BY content_id, time",
            id_list(content_ids)
        ))
    }

    /// A video's scenes, (start, end) in order.
    pub fn scenes(&self, content_id: i64) -> Result<Vec<(f64, f64)>> {
        one_of(content_id, |ids| self.scenes_of(ids))
    }

    /// Each content's scenes (start, end) in time order, in one statement for all.
    pub fn scenes_of(&self, content_ids: &[i64]) -> Result<HashMap<i64, Vec<(f64, f64)>>> {
        self.by_content(&format!(
            "SELECT content_id, start, end FROM scenes WHERE content_id IN ({}) \
             ORDER BY content_id, start",
            id_list(content_ids)
        ))
    }

    /// Rows of (content id, a, b), grouped by content in the statement's order.
    fn by_content<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
        &self,
        sql: &str,
    ) -> Result<HashMap<i64, Vec<(A, B)>>> {
        let mut st = self.conn.prepare(sql)?;
        let mut out: HashMap<i64, Vec<(A, B)>> = HashMap::new();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            out.entry(r.get(0)?)
                .or_default()
                .push((r.get(1)?, r.get(2)?));
        }
        Ok(out)
    }

    /// (frames, thumbnails, faces) stored for a content.
    pub fn content_counts(&self, content_id: i64) -> Result<(u64, u64, u64)> {
        Ok(self.conn.one(
            "SELECT (SELECT count(*) FROM frames WHERE content_id = ?1),
                    (SELECT count(*) FROM frames WHERE content_id = ?1 AND thumb IS NOT NULL),
                    (SELECT count(*) FROM faces WHERE content_id = ?1)",
            [content_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            },
        )?)
    }

    /// Thumbnails of contents about to be collected, so their files can go too.
    pub fn orphan_thumbs(&self, grace_secs: i64) -> Result<Vec<String>> {
        let mut st = self.conn.prepare(
            "SELECT t.thumb FROM (SELECT content_id, thumb FROM frames
                                  UNION ALL SELECT content_id, thumb FROM faces) t
             JOIN contents c ON c.id = t.content_id
             WHERE t.thumb IS NOT NULL AND c.orphaned_at IS NOT NULL AND c.orphaned_at <= ?1
             AND NOT EXISTS (SELECT 1 FROM files WHERE content_id = c.id)",
        )?;
        let rows = st
            .query_map([now() - grace_secs], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
