//! Voices in the catalogue: the speakers of each recording with their turns, and the voices
//! they are grouped into (the grouping itself is `groups.rs`'s).

use super::*;
use crate::voices::{Turn, VoiceRow};

impl Store {
    /// Every voice, named ones first, then the most heard.
    pub fn voices(&self) -> Result<Vec<VoiceRow>> {
        let mut st = self.conn.prepare(
            "SELECT v.id, v.name,
               (SELECT count(DISTINCT f.id) FROM files f JOIN speakers s ON s.content_id = f.content_id
                 WHERE s.voice_id = v.id),
               (SELECT coalesce(sum(seconds), 0) FROM speakers WHERE voice_id = v.id)
             FROM voices v ORDER BY v.name IS NULL, 4 DESC, v.id",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok(VoiceRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    files: r.get::<_, i64>(2)? as u64,
                    seconds: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Every turn of every speaker of a content, in time order.
    pub fn turns(&self, content_id: i64) -> Result<Vec<Turn>> {
        one_of(content_id, |ids| self.turns_of(ids))
    }

    /// Each content's speaker turns in time order, in one statement for all.
    pub fn turns_of(&self, content_ids: &[i64]) -> Result<HashMap<i64, Vec<Turn>>> {
        let mut st = self.conn.prepare(&format!(
            "SELECT s.content_id, s.speaker, s.voice_id, v.name, s.turns
             FROM speakers s LEFT JOIN voices v ON v.id = s.voice_id
             WHERE s.content_id IN ({})",
            id_list(content_ids)
        ))?;
        let mut by_content: HashMap<i64, Vec<Turn>> = HashMap::new();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (content, speaker, voice_id, name): (i64, u32, Option<i64>, Option<String>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let times: Vec<f32> = blob_f32(&r.get::<_, Vec<u8>>(4)?).collect();
            by_content
                .entry(content)
                .or_default()
                .extend(times.chunks_exact(2).map(|t| Turn {
                    speaker,
                    voice_id,
                    name: name.clone(),
                    start: t[0] as f64,
                    end: t[1] as f64,
                }));
        }
        for turns in by_content.values_mut() {
            turns.sort_by(|a, b| a.start.total_cmp(&b.start));
        }
        Ok(by_content)
    }
}
