//! The durable job queue: which files wait for work, claiming, retrying, settling.

use super::*;

impl Store {
    /// Links a file to its content and settles its state, in one transaction with its job.
    /// Returns false (and keeps the job) when the file changed since it was read.
    pub fn finish_file(
        &self,
        job: &Job,
        content_id: i64,
        stat: &FileStat,
        state: FileState,
        message: Option<&str>,
    ) -> Result<bool> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            let n = tx.exec(
                "UPDATE files SET content_id = ?2, state = ?3, message = ?4, updated_at = ?5
                 WHERE id = ?1 AND size = ?6 AND mtime_ns = ?7",
                params![
                    job.file_id,
                    content_id,
                    state.as_str(),
                    message,
                    now(),
                    stat.size as i64,
                    stat.mtime_ns
                ],
            )?;
            if n == 0 {
                return Ok(false);
            }
            tx.exec(
                "UPDATE contents SET orphaned_at = NULL WHERE id = ?1",
                [content_id],
            )?;
            tx.exec(
                "DELETE FROM jobs WHERE id = ?1 AND state = 'running'",
                [job.id],
            )?;
            Ok(true)
        })
    }

    /// Settles a file that has no content to speak of (an empty file).
    pub fn settle_without_content(&self, job: &Job, state: FileState, message: &str) -> Result<()> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.exec(
                "UPDATE files SET content_id = NULL, state = ?2, message = ?3, updated_at = ?4
                 WHERE id = ?1",
                params![job.file_id, state.as_str(), message, now()],
            )?;
            tx.exec(
                "DELETE FROM jobs WHERE id = ?1 AND state = 'running'",
                [job.id],
            )?;
            Ok(())
        })
    }

    /// Runs a file's job again in `secs` seconds (it was still being written).
    pub fn defer_job(&self, file_id: i64, secs: i64) -> Result<()> {
        self.conn.exec(
            "UPDATE jobs SET state = 'queued', next_attempt = ?2 WHERE file_id = ?1",
            params![file_id, now() + secs],
        )?;
        Ok(())
    }

    /// At start: queues the contents that lack a run of an extractor enabled now but not at the
    /// last start (a model installed, a new version), and, when the decoder changed, those
    /// whose metadata an older one wrote. Contents indexed while an extractor was enabled ran
    /// it, so the joins over the whole library run only when the set changes, not every start.
    pub fn enqueue_for_new_extractors(
        &self,
        enabled: &[(String, u32)],
        metadata: (&str, u32),
    ) -> Result<u64> {
        let key = |name: &str, version: u32| format!("enabled:{name}:{version}");
        self.in_transaction(|s| {
            let before: std::collections::HashSet<String> = s
                .conn
                .prepare_cached("SELECT name FROM counters WHERE name LIKE 'enabled:%'")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let new: Vec<(String, u32)> = enabled
                .iter()
                .filter(|(name, version)| !before.contains(&key(name, *version)))
                .cloned()
                .collect();
            let mut n = s.enqueue_missing(&new)?;
            if !before.contains(&key(metadata.0, metadata.1)) {
                n += s.enqueue_stale_meta(metadata.0, metadata.1)?;
            }
            s.conn
                .exec("DELETE FROM counters WHERE name LIKE 'enabled:%'", [])?;
            for (name, version) in enabled
                .iter()
                .map(|(n, v)| (n.as_str(), *v))
                .chain([metadata])
            {
                s.conn.exec(
                    "INSERT INTO counters(name, value) VALUES (?1, 1)",
                    [key(name, version)],
                )?;
            }
            Ok(n)
        })
    }

    /// Queues one file of every media content that lacks one of `enabled` (a new model or a
    /// new extractor version) and is of a kind it applies to. Returns how many were queued.
    fn enqueue_missing(&self, enabled: &[(String, u32)]) -> Result<u64> {
        let mut n = 0;
        for (name, version) in enabled {
            // Only the kinds of media it can find anything in.
            let kinds = MediaKind::ALL
                .iter()
                .filter(|k| crate::extractors::applies(name, **k))
                .map(|k| format!("'{}'", k.as_str()))
                .collect::<Vec<_>>()
                .join(", ");
            n += self.conn.exec(
                &format!(
                    "INSERT INTO jobs(file_id, created_at)
                     SELECT min(f.id), ?3 FROM files f JOIN contents c ON c.id = f.content_id
                     WHERE c.kind IN ({kinds}) AND f.state = 'indexed'
                     AND NOT EXISTS (SELECT 1 FROM extractions e WHERE e.content_id = c.id
                                     AND e.extractor = ?1 AND e.version = ?2)
                     GROUP BY c.id
                     ON CONFLICT(file_id) DO NOTHING"
                ),
                params![name, version, now()],
            )? as u64;
        }
        Ok(n)
    }

    /// Queues (or re-queues, resetting attempts) the catalogue job of a file.
    pub fn enqueue(&self, file_id: i64) -> Result<()> {
        self.conn.exec(
            "INSERT INTO jobs(file_id, created_at) VALUES (?1, ?2)
             ON CONFLICT(file_id) DO UPDATE SET state = 'queued', attempts = 0,
               next_attempt = 0, last_error = NULL",
            params![file_id, now()],
        )?;
        Ok(())
    }

    /// Takes the next ready job, marking it running.
    pub fn claim_job(&self) -> Result<Option<Job>> {
        Ok(self
            .conn
            .one(
                "UPDATE jobs SET state = 'running' WHERE id = (
                   SELECT id FROM jobs WHERE state = 'queued' AND next_attempt <= ?1
                   ORDER BY next_attempt, id LIMIT 1)
                 RETURNING id, file_id, attempts",
                [now()],
                |r| {
                    Ok(Job {
                        id: r.get(0)?,
                        file_id: r.get(1)?,
                        attempts: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Puts a job back untouched (shutdown in the middle of it).
    pub fn release_job(&self, job_id: i64) -> Result<()> {
        self.conn.exec(
            "UPDATE jobs SET state = 'queued' WHERE id = ?1 AND state = 'running'",
            [job_id],
        )?;
        Ok(())
    }

    pub fn drop_job(&self, job_id: i64) -> Result<()> {
        self.conn.exec("DELETE FROM jobs WHERE id = ?1", [job_id])?;
        Ok(())
    }

    /// Jobs interrupted by a crash or kill go back to the queue.
    pub fn requeue_running(&self) -> Result<u64> {
        Ok(self.conn.exec(
            "UPDATE jobs SET state = 'queued' WHERE state = 'running'",
            [],
        )? as u64)
    }

    /// A transient failure: retry later, or give up after `max_attempts`.
    /// Returns true when the job was given up.
    pub fn retry_or_fail(
        &self,
        job: &Job,
        error: &str,
        max_attempts: u32,
        backoff_secs: i64,
    ) -> Result<bool> {
        let attempts = job.attempts + 1;
        if attempts >= max_attempts {
            self.fail_job(job, &format!("{error} (gave up after {attempts} attempts)"))?;
            return Ok(true);
        }
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.exec(
                "UPDATE jobs SET state = 'queued', attempts = ?2, next_attempt = ?3, last_error = ?4
                 WHERE id = ?1",
                params![job.id, attempts, now() + backoff_secs, error],
            )?;
            tx.exec(
                "UPDATE files SET message = ?2, updated_at = ?3 WHERE id = ?1",
                params![
                    job.file_id,
                    format!(
                        "{error} (attempt {attempts} of {max_attempts}, retrying in {backoff_secs} s)"
                    ),
                    now()
                ],
            )?;
            Ok(())
        })?;
        Ok(false)
    }

    /// A permanent failure: the file is failed with its message; the job is kept as failed.
    pub fn fail_job(&self, job: &Job, error: &str) -> Result<()> {
        self.in_transaction(|s| {
            let tx = &s.conn;
            tx.exec(
                "UPDATE jobs SET state = 'failed', attempts = attempts + 1, last_error = ?2
                 WHERE id = ?1 AND state = 'running'",
                params![job.id, error],
            )?;
            if tx.changes() == 0 {
                return Ok(()); // the file changed meanwhile and was queued afresh
            }
            tx.exec(
                "UPDATE files SET state = 'failed', message = ?2, updated_at = ?3 WHERE id = ?1",
                params![job.file_id, error, now()],
            )?;
            Ok(())
        })
    }

    /// Queues failed files again (`vx reindex`).
    pub fn requeue_failed(&self) -> Result<u64> {
        self.in_transaction(|s| {
            let n = s.conn.exec(
                "UPDATE files SET state = 'pending', message = NULL WHERE state = 'failed'",
                [],
            )?;
            s.conn.exec(
                "INSERT INTO jobs(file_id, created_at) SELECT id, ?1 FROM files WHERE state = 'pending'
                 ON CONFLICT(file_id) DO UPDATE SET state = 'queued', attempts = 0, next_attempt = 0",
                [now()],
            )?;
            Ok(n as u64)
        })
    }

    /// Pending files without a job that will run them: none, unless the catalogue was written
    /// by a vx from before the database kept this itself (migration 5) or was damaged.
    pub fn pending_without_job(&self) -> Result<u64> {
        Ok(self.conn.one(
            "SELECT count(*) FROM files f WHERE f.state = 'pending' AND NOT EXISTS
               (SELECT 1 FROM jobs j WHERE j.file_id = f.id AND j.state IN ('queued', 'running'))",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Gives every pending file without a runnable job one. Returns how many it repaired.
    pub fn repair_pending_jobs(&self) -> Result<u64> {
        self.in_transaction(|s| {
            let n = s.conn.exec(
                "INSERT INTO jobs(file_id, created_at)
                 SELECT f.id, ?1 FROM files f WHERE f.state = 'pending' AND NOT EXISTS
                   (SELECT 1 FROM jobs j WHERE j.file_id = f.id AND j.state IN ('queued', 'running'))
                 ON CONFLICT(file_id) DO UPDATE SET state = 'queued', attempts = 0, next_attempt = 0",
                [now()],
            )?;
            Ok(n as u64)
        })
    }

    /// Forgets a file that is gone from `path`, its catalogued place, while its job ran (a
    /// deletion whose notice has not arrived yet, or a rename: the new name is catalogued as a
    /// new file when its notice arrives, and a content already known is not extracted again).
    /// Returns false when the catalogue has meanwhile moved it elsewhere (the rename arrived
    /// first): then its job is queued again, to run at its new place.
    pub fn forget_vanished(&self, job: &Job, path: &Path) -> Result<bool> {
        self.in_transaction(|s| {
            let at_path: bool = s.conn.one(
                "SELECT count(*) FROM files WHERE id = ?1 AND path = ?2",
                params![job.file_id, path_bytes(path)],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            if at_path {
                s.delete_files(&[job.file_id])?;
            } else {
                s.release_job(job.id)?;
            }
            Ok(at_path)
        })
    }

    /// (ready or running, waiting for a retry): from the job tally, less the few jobs that
    /// wait for a retry (found through the `jobs_ready` index).
    pub fn queue_depth(&self) -> Result<(u64, u64)> {
        let (active, waiting): (i64, i64) = self.conn.one(
            "SELECT (SELECT coalesce(sum(n), 0) FROM job_tally WHERE state IN ('queued', 'running')),
                    (SELECT count(*) FROM jobs WHERE state = 'queued' AND next_attempt > ?1)",
            [now()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(((active - waiting).max(0) as u64, waiting as u64))
    }

    /// Whether a queued job is ready to run now.
    pub fn has_ready_job(&self) -> Result<bool> {
        Ok(self.conn.one(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'queued' AND next_attempt <= ?1)",
            [now()],
            |r| r.get(0),
        )?)
    }
}
