//! The catalogue job of one file: hash it, and probe its content if that content is new.
//! Runs on a worker thread, never on the async runtime.

use std::sync::atomic::AtomicBool;

use vx_client::FileState;

use crate::hash::{HashError, hash_file};
use crate::paths::has_media_extension;
use crate::probe::{ProbeError, probe};
use crate::store::{ContentMeta, FileStat, Job, Result, Store};

/// The built-in extractor that every content gets: container metadata from ffmpeg.
pub const METADATA_EXTRACTOR: &str = "metadata";
pub const METADATA_VERSION: u32 = 1;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Settled in this state.
    Done(FileState),
    /// Will be retried after a transient error (or given up, then failed).
    Retrying(String),
    /// The file changed while it was read; queued again.
    Deferred,
    /// The file is gone; the watcher will forget it.
    Vanished,
    /// Shutdown: the job was put back.
    Cancelled,
}

/// Retry policy for transient errors.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_secs: i64,
}

impl RetryPolicy {
    /// Exponential backoff: base, 4x base, 16x base...
    pub fn backoff(&self, attempts: u32) -> i64 {
        self.base_secs.saturating_mul(4i64.saturating_pow(attempts))
    }
}

pub fn run(
    store: &mut Store,
    job: &Job,
    retry: RetryPolicy,
    cancel: &AtomicBool,
) -> Result<Outcome> {
    let Some(file) = store.file(job.file_id)? else {
        store.drop_job(job.id)?;
        return Ok(Outcome::Vanished);
    };
    let transient = |store: &mut Store, msg: String| -> Result<Outcome> {
        let gave_up =
            store.retry_or_fail(job, &msg, retry.max_attempts, retry.backoff(job.attempts))?;
        Ok(if gave_up {
            Outcome::Done(FileState::Failed)
        } else {
            Outcome::Retrying(msg)
        })
    };
    let stat = match std::fs::symlink_metadata(&file.path) {
        Ok(m) => FileStat::from_metadata(&m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            store.drop_job(job.id)?;
            return Ok(Outcome::Vanished);
        }
        Err(e) => return transient(store, format!("cannot stat: {e}")),
    };
    if !stat.same_content_as(&file.stat) {
        store.mark_changed(file.id, &stat)?;
    }
    if stat.size == 0 {
        store.settle_without_content(job, FileState::Skipped, "empty file")?;
        return Ok(Outcome::Done(FileState::Skipped));
    }
    let hash = match hash_file(&file.path, cancel) {
        Ok(h) => h,
        Err(HashError::Cancelled) => {
            store.release_job(job.id)?;
            return Ok(Outcome::Cancelled);
        }
        Err(e) => return transient(store, e.to_string()),
    };
    // Still being written? Come back when it has settled.
    match std::fs::symlink_metadata(&file.path) {
        Ok(m) if FileStat::from_metadata(&m).same_content_as(&stat) => {}
        Ok(m) => {
            store.mark_changed(file.id, &FileStat::from_metadata(&m))?;
            store.defer_job(job.file_id, 2)?;
            return Ok(Outcome::Deferred);
        }
        Err(_) => {
            store.drop_job(job.id)?;
            return Ok(Outcome::Vanished);
        }
    }

    let content = match store.content_by_hash(&hash)? {
        Some(c) => c,
        None => {
            let meta = match probe(&file.path) {
                Ok(meta) => meta,
                Err(ProbeError::Io(msg)) => return transient(store, msg),
                Err(ProbeError::NotMedia(msg)) => ContentMeta {
                    error: Some(format!("not a media file: {msg}")),
                    ..ContentMeta::default()
                },
                Err(ProbeError::Corrupt(msg)) => ContentMeta {
                    error: Some(format!("corrupt: {msg}")),
                    ..ContentMeta::default()
                },
            };
            let (id, inserted) = store.insert_content(&hash, stat.size, &meta)?;
            if !inserted {
                // Another worker catalogued the same bytes meanwhile: use its record.
                store.content(id)?.expect("content just seen")
            } else {
                store.record_extraction(
                    id,
                    METADATA_EXTRACTOR,
                    METADATA_VERSION,
                    meta.error.as_deref(),
                )?;
                crate::store::ContentRow {
                    id,
                    hash: hash.to_vec(),
                    meta,
                }
            }
        }
    };
    let (state, message) = match (&content.meta.kind, &content.meta.error) {
        (Some(_), _) => (FileState::Indexed, None),
        (None, Some(e)) if e.starts_with("corrupt") => (FileState::Failed, Some(e.clone())),
        // Named like media but unrecognisable: damaged, as far as the user is concerned.
        (None, Some(e)) if has_media_extension(&file.path) => (
            FileState::Failed,
            Some(format!(
                "corrupt: named like media, but {}",
                e.trim_start_matches("not a media file: ")
            )),
        ),
        (None, e) => (
            FileState::Skipped,
            e.clone().or(Some("not a media file".into())),
        ),
    };
    if store.finish_file(job, content.id, &stat, state, message.as_deref())? {
        Ok(Outcome::Done(state))
    } else {
        Ok(Outcome::Deferred)
    }
}
