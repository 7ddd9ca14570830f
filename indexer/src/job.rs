//! The job of one file, in steps around the extraction that runs in a worker process:
//! [`prepare`] hashes the file (only when its stat changed); with its content claimed,
//! [`plan`] decides what extraction the content still needs; [`complete`] stores what came
//! back and settles the file.

use std::sync::atomic::AtomicBool;

use crate::media::FileState;

use crate::catalog::root_absence;
use crate::extract::{Output, SegmentOut};
use crate::extractors;
use crate::hash::{HashError, hash_file, hex};
use crate::paths::{has_media_extension, unsupported_format};
use crate::probe::ProbeError;
use crate::store::{ContentMeta, ContentRow, FileRow, FileStat, Job, Result, Store};

/// The built-in extractor every content gets: what the container says (kind, size, codecs...).
pub const METADATA_EXTRACTOR: &str = "metadata";
/// 2: HEIC and AVIF decoded, videos turned by their display matrix, where it was taken (GPS)
/// and the place there. 3: camera RAW through LibRaw. 4: Live Photos' content identifiers. A
/// content decoded by an older version is decoded again once.
pub const METADATA_VERSION: u32 = 4;

/// How long a job waits for a folder that looks unmounted to come back.
const ROOT_ABSENT_RETRY_SECS: i64 = 30;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Settled in this state.
    Done(FileState),
    /// Will be retried after a transient error (or was given up, then failed).
    Retrying(String),
    /// The file changed while it was read; queued again.
    Deferred,
    /// The file is gone from where it was catalogued, and was forgotten.
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

/// What a file needs from the extraction worker.
#[derive(Debug)]
pub struct Extraction {
    pub file: FileRow,
    pub stat: FileStat,
    pub hash: Vec<u8>,
    /// None: a content never seen before (decoding also yields its metadata).
    pub content: Option<ContentRow>,
    /// The content is known, but its metadata (and its verdict, media or not) comes from an
    /// older decoder: decoding replaces them.
    pub refresh_meta: bool,
    pub wanted: Vec<(String, u32)>,
    /// What extractors outside this pass stored for the content, for those of the pass that
    /// work on the others' results (see `extract::Job::stored`).
    pub stored: Vec<(i64, SegmentOut)>,
}

impl Extraction {
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

pub enum Step {
    Done(Outcome),
    Extract(Box<Extraction>),
}

fn transient(store: &mut Store, job: &Job, retry: RetryPolicy, msg: String) -> Result<Outcome> {
    let gave_up =
        store.retry_or_fail(job, &msg, retry.max_attempts, retry.backoff(job.attempts))?;
    Ok(if gave_up {
        Outcome::Done(FileState::Failed)
    } else {
        Outcome::Retrying(msg)
    })
}

/// A file whose content is known by its hash: claim the content (so that no other worker
/// extracts it meanwhile), then [`plan`].
#[derive(Debug)]
pub struct Hashed {
    file: FileRow,
    stat: FileStat,
    pub hash: Vec<u8>,
}

pub enum Prepared {
    Done(Outcome),
    Hashed(Hashed),
}

/// First step: stat, and hash the file only if its stat changed.
pub fn prepare(
    store: &mut Store,
    job: &Job,
    retry: RetryPolicy,
    cancel: &AtomicBool,
) -> Result<Prepared> {
    let Some(file) = store.file(job.file_id)? else {
        store.drop_job(job.id)?;
        return Ok(Prepared::Done(Outcome::Vanished));
    };
    let stat = match std::fs::symlink_metadata(&file.path) {
        Ok(m) => FileStat::from_metadata(&m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return vanished(store, job, &file).map(Prepared::Done);
        }
        Err(e) => {
            return transient(store, job, retry, format!("cannot stat: {e}")).map(Prepared::Done);
        }
    };
    // Stat fast path: a catalogued file whose size and mtime did not move keeps its content.
    let known = match file.content_id {
        Some(id) if file.state == FileState::Indexed && stat.same_content_as(&file.stat) => {
            store.content(id)?
        }
        _ => None,
    };
    let hash = match known {
        Some(c) => c.hash,
        None => {
            if !stat.same_content_as(&file.stat) {
                store.mark_changed(file.id, &stat)?;
            }
            if stat.size == 0 {
                store.settle_without_content(job, FileState::Skipped, "empty file")?;
                return Ok(Prepared::Done(Outcome::Done(FileState::Skipped)));
            }
            let hash = match hash_file(&file.path, cancel) {
                Ok(h) => h,
                Err(HashError::Cancelled) => {
                    store.release_job(job.id)?;
                    return Ok(Prepared::Done(Outcome::Cancelled));
                }
                Err(e) => {
                    return transient(store, job, retry, e.to_string()).map(Prepared::Done);
                }
            };
            // Still being written? Come back when it has settled.
            match std::fs::symlink_metadata(&file.path) {
                Ok(m) if FileStat::from_metadata(&m).same_content_as(&stat) => {}
                Ok(m) => {
                    store.mark_changed(file.id, &FileStat::from_metadata(&m))?;
                    store.defer_job(job.file_id, 2)?;
                    return Ok(Prepared::Done(Outcome::Deferred));
                }
                Err(_) => return vanished(store, job, &file).map(Prepared::Done),
            }
            hash.to_vec()
        }
    };
    Ok(Prepared::Hashed(Hashed { file, stat, hash }))
}

/// Second step, with the content claimed: decide what is wanted of `enabled` (extractor,
/// version) pairs. Read only now, so that a content another worker extracted while this one
/// hashed is not extracted again.
pub fn plan(store: &mut Store, job: &Job, h: Hashed, enabled: &[(String, u32)]) -> Result<Step> {
    let Hashed { file, stat, hash } = h;
    let content = store.content_by_hash(&hash)?;
    let (wanted, refresh_meta) = match &content {
        None => (enabled.to_vec(), false),
        Some(c) => {
            let done = store.extractions_done(c.id)?;
            let current = done
                .iter()
                .any(|(e, v)| e == METADATA_EXTRACTOR && *v == METADATA_VERSION);
            let wanted = match c.meta.kind {
                // Not media, and this decoder says so too: nothing to extract, ever.
                None if current => Vec::new(),
                kind => extractors::with_followers(
                    enabled
                        .iter()
                        .filter(|e| !done.contains(e))
                        .filter(|(name, _)| kind.is_none_or(|k| extractors::applies(name, k)))
                        .cloned()
                        .collect(),
                    enabled,
                ),
            };
            (wanted, !current)
        }
    };
    if let Some(c) = &content
        && wanted.is_empty()
        && !refresh_meta
    {
        let state = settle(store, job, &file, c, &stat)?;
        return Ok(Step::Done(state));
    }
    let stored = match &content {
        Some(c) if extractors::reads_results(&wanted) => {
            let in_pass: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
            store.stored_segments(c.id, &extractors::results_read(), &in_pass)?
        }
        _ => Vec::new(),
    };
    Ok(Step::Extract(Box::new(Extraction {
        file,
        stat,
        hash,
        content,
        refresh_meta,
        wanted,
        stored,
    })))
}

/// The file is not at its catalogued path. Its folder unmounted: the job waits, and the
/// scanner takes the file offline meanwhile. Otherwise it was deleted or renamed: it is
/// forgotten (a rename is catalogued afresh from its notice), unless the catalogue has already
/// moved it, in which case the job runs again at the new place.
fn vanished(store: &Store, job: &Job, file: &FileRow) -> Result<Outcome> {
    if file.state == FileState::Offline {
        store.drop_job(job.id)?;
        return Ok(Outcome::Vanished);
    }
    let root = store.root(file.root_id)?;
    if root.as_ref().and_then(root_absence).is_some() {
        store.defer_job(file.id, ROOT_ABSENT_RETRY_SECS)?;
        return Ok(Outcome::Deferred);
    }
    if store.forget_vanished(job, &file.path)? {
        Ok(Outcome::Vanished)
    } else {
        Ok(Outcome::Deferred)
    }
}

/// The state a file of this content settles in, and why.
fn state_for(file: &FileRow, meta: &ContentMeta) -> (FileState, Option<String>) {
    match (&meta.kind, &meta.error) {
        (Some(_), _) => (FileState::Indexed, None),
        // A RAW LibRaw does not recognise: without the right decoder there is no telling a
        // damaged one from a good one.
        (None, Some(e))
            if !e.starts_with("corrupt") && unsupported_format(&file.path).is_some() =>
        {
            (FileState::Skipped, unsupported_format(&file.path))
        }
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
    }
}

fn settle(
    store: &mut Store,
    job: &Job,
    file: &FileRow,
    content: &ContentRow,
    stat: &FileStat,
) -> Result<Outcome> {
    let (state, message) = state_for(file, &content.meta);
    if store.finish_file(job, content.id, stat, state, message.as_deref())? {
        Ok(Outcome::Done(state))
    } else {
        Ok(Outcome::Deferred)
    }
}

/// Second half: stores the worker's answer. `Err` carries a decoding failure of the file
/// (not media, corrupt, or an I/O error, which is retried).
pub fn complete(
    store: &mut Store,
    job: &Job,
    retry: RetryPolicy,
    x: &Extraction,
    result: std::result::Result<(ContentMeta, Output), ProbeError>,
) -> Result<Outcome> {
    let (meta, output) = match result {
        Ok(r) => (Some(r.0), Some(r.1)),
        // Renamed or deleted while the worker read it: not an error of the file.
        Err(ProbeError::Io(_)) if std::fs::symlink_metadata(&x.file.path).is_err() => {
            return vanished(store, job, &x.file);
        }
        Err(ProbeError::Io(msg)) => return transient(store, job, retry, msg),
        Err(ProbeError::NotMedia(msg)) => (
            Some(ContentMeta {
                error: Some(format!("not a media file: {msg}")),
                ..ContentMeta::default()
            }),
            None,
        ),
        Err(ProbeError::Corrupt(msg)) => (
            Some(ContentMeta {
                error: Some(format!("corrupt: {msg}")),
                ..ContentMeta::default()
            }),
            None,
        ),
    };
    let content = match &x.content {
        Some(c) if x.refresh_meta => {
            let meta = meta.unwrap_or_default();
            store.replace_content_meta(c.id, &meta, METADATA_EXTRACTOR, METADATA_VERSION)?;
            ContentRow {
                id: c.id,
                hash: c.hash.clone(),
                meta,
            }
        }
        Some(c) => c.clone(),
        None => {
            let meta = meta.unwrap_or_default();
            let (id, inserted) = store.insert_content(&x.hash, x.stat.size, &meta)?;
            if inserted {
                store.record_extraction(
                    id,
                    METADATA_EXTRACTOR,
                    METADATA_VERSION,
                    meta.error.as_deref(),
                )?;
                ContentRow {
                    id,
                    hash: x.hash.clone(),
                    meta,
                }
            } else {
                // Another worker catalogued the same bytes meanwhile: use its record.
                store.content(id)?.expect("content just seen")
            }
        }
    };
    if let Some(out) = output
        && content.meta.kind.is_some()
    {
        store.save_output(content.id, &out)?;
    }
    settle(store, job, &x.file, &content, &x.stat)
}
