//! The SQLite catalogue: the source of truth. WAL mode, versioned migrations, one connection per
//! thread (open one `Store` per thread; SQLite serialises writers and `busy_timeout` waits).

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::media::{FileState, MediaKind};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use crate::extractors::Kept;
use crate::migrations::MIGRATIONS;

/// `execute` and `query_row` through the connection's statement cache. A statement on `files`
/// or `jobs` compiles their triggers with it, so preparing it afresh for every file cost more
/// than running it.
trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn one<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn one<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, row)
    }
}
use crate::paths::{bytes_to_path, path_bytes, prefix_upper_bound};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "database {path} has schema version {found}, newer than this vx knows ({known}); use a newer vx"
    )]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("there is no {0} {1}; `{2}` lists them")]
    NoSuchGroup(&'static str, i64, &'static str),
    #[error("{0} {1} cannot be merged with itself")]
    SameGroup(&'static str, i64),
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

impl StoreError {
    /// What stops the catalogue from being written, when this error says the data folder's
    /// storage is at fault (full, read-only, failing) rather than the request.
    pub fn storage_fault(&self) -> Option<&'static str> {
        use rusqlite::ErrorCode::*;
        match self {
            StoreError::Sql(rusqlite::Error::SqliteFailure(e, _)) => match e.code {
                DiskFull => Some("its disk is full"),
                ReadOnly => Some("it is read-only"),
                SystemIoFailure | CannotOpen => Some("writing to it fails (an I/O error)"),
                _ => None,
            },
            _ => None,
        }
    }
}

/// The same for a file-system error: a full disk or quota, a read-only file system.
pub fn io_storage_fault(message: &str) -> Option<&'static str> {
    if message.contains("No space left on device") || message.contains("Disk quota exceeded") {
        Some("its disk is full")
    } else if message.contains("Read-only file system") {
        Some("it is read-only")
    } else {
        None
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Embeddings and descriptors are stored as little-endian f32 blobs.
pub(crate) fn f32_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The f32 values of a blob written by [`f32_blob`].
pub(crate) fn blob_f32(b: &[u8]) -> impl Iterator<Item = f32> + '_ {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What a `stat` says about a file: enough to tell whether it changed without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub dev: u64,
    pub inode: u64,
    pub size: u64,
    pub mtime_ns: i64,
}

impl FileStat {
    pub fn from_metadata(m: &std::fs::Metadata) -> FileStat {
        use std::os::unix::fs::MetadataExt;
        FileStat {
            dev: m.dev(),
            inode: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
        }
    }

    /// Same bytes as far as a stat can tell (size and mtime); inode changes alone are moves.
    pub fn same_content_as(&self, other: &FileStat) -> bool {
        self.size == other.size && self.mtime_ns == other.mtime_ns
    }
}

#[derive(Clone, Debug)]
pub struct RootRow {
    pub id: i64,
    pub path: PathBuf,
    pub dev: u64,
    pub state: String,
    pub message: Option<String>,
    /// Glob patterns the user excluded in this folder (`vx add --exclude`).
    pub exclude: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct FileRow {
    pub id: i64,
    pub root_id: i64,
    pub path: PathBuf,
    pub stat: FileStat,
    pub content_id: Option<i64>,
    pub state: FileState,
    pub message: Option<String>,
}

/// What a scan needs to know of a catalogued file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownFile {
    pub id: i64,
    pub stat: FileStat,
    pub offline: bool,
}

impl From<&FileRow> for KnownFile {
    fn from(row: &FileRow) -> KnownFile {
        KnownFile {
            id: row.id,
            stat: row.stat,
            offline: row.state == FileState::Offline,
        }
    }
}

/// What probing found in a content; `kind` is None for files that are not media.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContentMeta {
    pub kind: Option<MediaKind>,
    pub format: Option<String>,
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    pub taken: Option<i64>,
    pub error: Option<String>,
    /// Where it was taken (GPS), degrees.
    pub location: Option<(f64, f64)>,
    /// The place there, if any.
    pub place: Option<crate::geo::Place>,
    /// What took it: camera, lens, "screenshot", "selfie" (see camera.rs).
    pub camera: Option<String>,
    /// The content identifier a Live Photo's still and clip share (see live.rs).
    pub pair_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ContentRow {
    pub id: i64,
    pub hash: Vec<u8>,
    pub meta: ContentMeta,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub file_id: i64,
    pub attempts: u32,
}

/// A timed result as search sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentRow {
    pub source: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub confidence: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FaceRow {
    pub time: f64,
    /// x, y, width, height in pixels of the frame.
    pub rect: [f32; 4],
    pub score: f32,
    pub age: f32,
    pub person: Option<i64>,
    pub name: Option<String>,
    /// The likeliest expression and its probability, once the expression extractor ran.
    pub expression: Option<(String, f32)>,
}

/// Everything the text index holds for one file.
#[derive(Clone, Debug)]
pub struct IndexDoc {
    pub file_id: i64,
    pub path: PathBuf,
    pub name: String,
    pub kind: MediaKind,
    pub online: bool,
    /// Creation time, else modification time (Unix seconds).
    pub date: i64,
    pub meta: ContentMeta,
    pub segments: Vec<SegmentRow>,
    pub faces: u64,
    /// Who is seen, and when (named or not).
    pub people: Vec<crate::people::Appearance>,
    /// Who speaks when (a recording's speakers' turns).
    pub turns: Vec<crate::voices::Turn>,
}

#[derive(Clone, Debug)]
pub struct ExtractionRow {
    pub extractor: String,
    pub version: u32,
    pub status: String,
    pub error: Option<String>,
    pub runs: u64,
}

const FILE_COLS: &str = "id, root_id, path, dev, inode, size, mtime_ns, content_id, state, message";

/// Known files by path. Hashed with foldhash: a scan hashes every path of the tree, and
/// SipHash was a tenth of its CPU.
pub type KnownFiles = HashMap<OsString, KnownFile, foldhash::fast::RandomState>;

const KNOWN_COLS: &str = "path, id, dev, inode, size, mtime_ns, state = 'offline'";

fn known_files(mut rows: rusqlite::Rows<'_>, expected: usize) -> Result<KnownFiles> {
    let mut known = KnownFiles::with_capacity_and_hasher(expected, Default::default());
    while let Some(r) = rows.next()? {
        let path = match r.get_ref(0)? {
            ValueRef::Blob(b) | ValueRef::Text(b) => OsStr::from_bytes(b).to_os_string(),
            _ => continue,
        };
        let file = KnownFile {
            id: r.get(1)?,
            stat: file_stat(r, 2)?,
            offline: r.get(6)?,
        };
        known.insert(path, file);
    }
    Ok(known)
}

/// dev, inode, size and mtime_ns, from column `first` on.
fn file_stat(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<FileStat> {
    Ok(FileStat {
        dev: r.get::<_, i64>(first)? as u64,
        inode: r.get::<_, i64>(first + 1)? as u64,
        size: r.get::<_, i64>(first + 2)? as u64,
        mtime_ns: r.get(first + 3)?,
    })
}

/// `dir` itself and the byte range of the paths below it.
fn subtree_bounds(dir: &Path) -> (&[u8], Vec<u8>, Vec<u8>) {
    let lo = path_bytes(dir);
    let (from, to) = prefix_upper_bound(lo);
    (lo, from, to)
}

fn file_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FileRow> {
    let state: String = r.get(8)?;
    Ok(FileRow {
        id: r.get(0)?,
        root_id: r.get(1)?,
        path: bytes_to_path(r.get::<_, Vec<u8>>(2)?),
        stat: file_stat(r, 3)?,
        content_id: r.get(7)?,
        state: FileState::parse(&state).unwrap_or(FileState::Pending),
        message: r.get(9)?,
    })
}

const CONTENT_COLS: &str = "id, hash, kind, format, duration, width, height, video_codec, \
     audio_codec, taken, error, latitude, longitude, place, place_terms, camera, pair_id";
/// How many columns CONTENT_COLS names (the columns after them are numbered from here).
const CONTENT_COL_COUNT: usize = 17;

/// Where a file was taken (latitude, longitude) and what took it.
pub type Origin = (Option<(f64, f64)>, Option<String>);

/// The columns of `contents` that a decoder fills, in the order of [`meta_values`].
const META_COLS: &str = "kind, format, duration, width, height, video_codec, audio_codec, taken, \
     error, latitude, longitude, place, place_terms, camera, pair_id";
const META_COL_COUNT: usize = 15;

fn meta_values(meta: &ContentMeta) -> [Value; META_COL_COUNT] {
    [
        Value::from(meta.kind.map(|k| k.as_str().to_string())),
        Value::from(meta.format.clone()),
        Value::from(meta.duration),
        Value::from(meta.width),
        Value::from(meta.height),
        Value::from(meta.video_codec.clone()),
        Value::from(meta.audio_codec.clone()),
        Value::from(meta.taken),
        Value::from(meta.error.clone()),
        Value::from(meta.location.map(|l| l.0)),
        Value::from(meta.location.map(|l| l.1)),
        Value::from(meta.place.as_ref().map(|p| p.name.clone())),
        Value::from(meta.place.as_ref().map(|p| p.terms.clone())),
        Value::from(meta.camera.clone()),
        Value::from(meta.pair_id.clone()),
    ]
}

/// "?from, ?from+1, ..." for `n` parameters.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn content_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ContentRow> {
    let kind: Option<String> = r.get(2)?;
    Ok(ContentRow {
        id: r.get(0)?,
        hash: r.get(1)?,
        meta: ContentMeta {
            kind: kind.as_deref().and_then(MediaKind::parse),
            format: r.get(3)?,
            duration: r.get(4)?,
            width: r.get(5)?,
            height: r.get(6)?,
            video_codec: r.get(7)?,
            audio_codec: r.get(8)?,
            taken: r.get(9)?,
            error: r.get(10)?,
            location: r
                .get::<_, Option<f64>>(11)?
                .zip(r.get::<_, Option<f64>>(12)?),
            place: r
                .get::<_, Option<String>>(13)?
                .map(|name| -> rusqlite::Result<_> {
                    Ok(crate::geo::Place {
                        name,
                        terms: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
                    })
                })
                .transpose()?,
            camera: r.get(15)?,
            pair_id: r.get(16)?,
        },
    })
}

fn root_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RootRow> {
    Ok(RootRow {
        id: r.get(0)?,
        path: bytes_to_path(r.get::<_, Vec<u8>>(1)?),
        dev: r.get::<_, i64>(2)? as u64,
        state: r.get(3)?,
        message: r.get(4)?,
        exclude: r
            .get::<_, String>(5)?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned())
        .unwrap_or_default()
}

pub struct Store {
    pub(crate) conn: Connection,
    /// How many [`Store::in_transaction`] calls are open on this connection.
    depth: Cell<u32>,
}

/// Ends the transaction (or savepoint) it guards with a rollback unless it was committed: on an
/// error, on a panic, or when the commit itself failed (a full disk).
struct Open<'s> {
    store: &'s Store,
    done: bool,
}

impl Open<'_> {
    fn end(&mut self, sql: &str) -> rusqlite::Result<()> {
        self.store.conn.execute_batch(sql)?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        let depth = self.store.depth.get();
        if !self.done {
            let undo = if depth > 1 {
                format!("ROLLBACK TO vx{depth}; RELEASE vx{depth}")
            } else {
                "ROLLBACK".to_string()
            };
            if let Err(e) = self.store.conn.execute_batch(&undo) {
                tracing::error!("rolling back a transaction failed: {e}");
            }
        }
        self.store.depth.set(depth - 1);
    }
}

mod contents;
mod files;
mod groups;
mod jobs;
mod outbox;
mod people;
mod results;
mod roots;
#[cfg(test)]
mod tests;
mod vectors;
mod voices;

pub use groups::Grouping;
pub use vectors::{EmbeddedMoment, EmbeddedRow, SearchableFile};

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.set_prepared_statement_cache_capacity(128);
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )?;
        let store = Store {
            conn,
            depth: Cell::new(0),
        };
        store.migrate(path)?;
        Ok(store)
    }

    fn migrate(&self, path: &Path) -> Result<()> {
        let version: usize =
            self.conn
                .one("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            self.in_transaction(|s| {
                let tx = &s.conn;
                tx.execute_batch(step)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
                Ok(())
            })?;
            tracing::info!(version = i + 1, "applied database migration");
        }
        Ok(())
    }

    /// Runs `f` as one write transaction, the only way vx writes more than one statement:
    /// committed when `f` returns Ok; rolled back when it returns an error, panics, or the
    /// commit fails, so the connection never keeps SQLite's write lock. The outermost call takes
    /// the lock at once (BEGIN IMMEDIATE: a read that later upgrades cannot fail half-way); a
    /// nested call is a savepoint inside it, undone alone when it fails.
    pub fn in_transaction<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let depth = self.depth.get() + 1;
        let (begin, commit) = if depth == 1 {
            ("BEGIN IMMEDIATE".to_string(), "COMMIT".to_string())
        } else {
            (format!("SAVEPOINT vx{depth}"), format!("RELEASE vx{depth}"))
        };
        self.conn.execute_batch(&begin)?;
        self.depth.set(depth);
        let mut open = Open {
            store: self,
            done: false,
        };
        let value = f(self)?;
        open.end(&commit)?;
        Ok(value)
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.one("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn.one("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The connection itself, for tests and benchmarks that build a catalogue directly; vx's
    /// own code goes through the typed methods.
    #[doc(hidden)]
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Ids as an SQL list ("1,2,3"; integers, so nothing to escape).
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// What a lookup for many contents (`of`) gives for one.
fn one_of<T>(
    content_id: i64,
    of: impl FnOnce(&[i64]) -> Result<std::collections::HashMap<i64, Vec<T>>>,
) -> Result<Vec<T>> {
    Ok(of(&[content_id])?.remove(&content_id).unwrap_or_default())
}
