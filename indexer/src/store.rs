//! The SQLite catalogue: the source of truth. WAL mode, versioned migrations, one connection per
//! thread (open one `Store` per thread; SQLite serialises writers and `busy_timeout` waits).

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use vx_client::{FileState, MediaKind};

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
    #[error("there is no person {0}; `vx people` lists them")]
    NoSuchPerson(i64),
    #[error("person {0} cannot be merged with itself")]
    SamePerson(i64),
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

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    // ---- roots ----

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

    /// An offline file seen again: back to the state it had before.
    pub fn set_file_online(&self, id: i64) -> Result<()> {
        self.conn.exec(
            "UPDATE files SET state = coalesce(offline_from, 'pending'), offline_from = NULL
             WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    // ---- files ----

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

    pub fn content_count(&self) -> Result<u64> {
        Ok(self.counter("contents")?.max(0) as u64)
    }

    // ---- contents ----

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
            s.conn.exec(
                "DELETE FROM extractions WHERE content_id = ?1 AND extractor = ?2 AND version < ?3",
                params![id, extractor, version],
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
    fn enqueue_stale_meta(&self, extractor: &str, version: u32) -> Result<u64> {
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

    // ---- extractions ----

    /// Records one run of an extractor over a content (counting re-runs).
    pub fn record_extraction(
        &self,
        content_id: i64,
        extractor: &str,
        version: u32,
        error: Option<&str>,
    ) -> Result<()> {
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

    // ---- counters ----

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

    // ---- the text index outbox ----

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
                })
            }),
        )
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
                            Kept::FrameThumbnails => {
                                "UPDATE frames SET thumb = NULL WHERE content_id = ?1"
                            }
                            Kept::FrameEmbeddings => {
                                "UPDATE frames SET clip = NULL WHERE content_id = ?1"
                            }
                        },
                        [content_id],
                    )?;
                }
                tx.exec(
                    "INSERT INTO extractions(content_id, extractor, version, status, error, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(content_id, extractor, version) DO UPDATE SET status = excluded.status,
                       error = excluded.error, runs = runs + 1, updated_at = excluded.updated_at",
                    params![
                        content_id,
                        o.extractor,
                        o.version,
                        if o.error.is_some() { "failed" } else { "done" },
                        o.error,
                        now()
                    ],
                )?;
                tx.exec(
                    "INSERT INTO counters(name, value) VALUES (?1, 1)
                     ON CONFLICT(name) DO UPDATE SET value = value + 1",
                    [format!("runs:{}", o.extractor)],
                )?;
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
                    "INSERT INTO measures(content_id, extractor, name, value) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for m in &out.measures {
                    measure.execute(params![content_id, m.extractor, m.name, m.value])?;
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
                // Frames: one row per time; each extractor fills its own column.
                for fr in out
                    .frames
                    .iter()
                    .filter(|f| f.thumb.is_some() || f.clip.is_some())
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
            "SELECT fa.time, fa.x, fa.y, fa.w, fa.h, fa.score, coalesce(fa.age, 0), fa.person_id, p.name
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
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// (extractor, measure, value) of what was measured over a content.
    pub fn measures(&self, content_id: i64) -> Result<Vec<(String, String, f64)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT extractor, name, value FROM measures WHERE content_id = ?1 ORDER BY rowid",
        )?;
        let rows = st
            .query_map([content_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// The value of measure `name` for the file at `path`, when it has one.
    pub fn measure_of(&self, path: &Path, name: &str) -> Result<Option<f64>> {
        Ok(self
            .conn
            .one(
                "SELECT m.value FROM files f JOIN measures m ON m.content_id = f.content_id
                 WHERE f.path = ?1 AND m.name = ?2",
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
        let mut st = self.conn.prepare_cached(
            "SELECT time, thumb FROM frames WHERE content_id = ?1 AND thumb IS NOT NULL ORDER BY time",
        )?;
        let rows = st
            .query_map([content_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
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
    /// new extractor version). Returns how many were queued.
    fn enqueue_missing(&self, enabled: &[(String, u32)]) -> Result<u64> {
        let mut n = 0;
        for (name, version) in enabled {
            n += self.conn.exec(
                "INSERT INTO jobs(file_id, created_at)
                 SELECT min(f.id), ?3 FROM files f JOIN contents c ON c.id = f.content_id
                 WHERE c.kind IS NOT NULL AND f.state = 'indexed'
                 AND NOT EXISTS (SELECT 1 FROM extractions e WHERE e.content_id = c.id
                                 AND e.extractor = ?1 AND e.version = ?2)
                 GROUP BY c.id
                 ON CONFLICT(file_id) DO NOTHING",
                params![name, version, now()],
            )? as u64;
        }
        Ok(n)
    }

    // ---- jobs ----

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

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    fn stat(inode: u64, size: u64) -> FileStat {
        FileStat {
            dev: 1,
            inode,
            size,
            mtime_ns: 1_000,
        }
    }

    #[test]
    fn migrations_are_idempotent_and_wal_is_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap() as usize, MIGRATIONS.len());
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        drop(Store::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 999")
            .unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 999, .. })
        ));
    }

    #[test]
    fn queue_claims_each_job_once_and_backs_off() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let a = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let b = store
            .insert_file(root, Path::new("/r/b.jpg"), &stat(2, 10))
            .unwrap();
        let j1 = store.claim_job().unwrap().unwrap();
        let j2 = store.claim_job().unwrap().unwrap();
        assert_eq!((j1.file_id, j2.file_id), (a, b));
        assert!(store.claim_job().unwrap().is_none());
        assert_eq!(store.queue_depth().unwrap(), (2, 0));

        // Transient failure: waits for the backoff, then gives up after max attempts.
        assert!(!store.retry_or_fail(&j1, "disk hiccup", 2, 60).unwrap());
        assert_eq!(store.queue_depth().unwrap(), (1, 1));
        assert!(
            store.claim_job().unwrap().is_none(),
            "backoff not respected"
        );
        store
            .conn()
            .exec("UPDATE jobs SET next_attempt = 0", [])
            .unwrap();
        let again = store.claim_job().unwrap().unwrap();
        assert_eq!(again.attempts, 1);
        assert!(store.retry_or_fail(&again, "disk hiccup", 2, 60).unwrap());
        let f = store.file(a).unwrap().unwrap();
        assert_eq!(f.state, FileState::Failed);
        assert!(f.message.unwrap().contains("gave up after 2 attempts"));

        // A crash leaves running jobs; they go back to the queue.
        assert_eq!(store.requeue_running().unwrap(), 1);
        assert_eq!(store.claim_job().unwrap().unwrap().file_id, b);
    }

    #[test]
    fn finish_is_refused_when_the_file_changed_meanwhile() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let id = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        let (content, _) = store
            .insert_content(b"h", 10, &ContentMeta::default())
            .unwrap();
        store.mark_changed(id, &stat(1, 20)).unwrap();
        assert!(
            !store
                .finish_file(&job, content, &stat(1, 10), FileState::Indexed, None)
                .unwrap()
        );
        assert_eq!(store.file(id).unwrap().unwrap().state, FileState::Pending);
        assert!(
            store.claim_job().unwrap().is_some(),
            "the job must stay queued"
        );
    }

    #[test]
    fn only_extractors_new_since_the_last_start_check_the_whole_library() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        let meta = ContentMeta {
            kind: Some(MediaKind::Image),
            ..ContentMeta::default()
        };
        let (content, _) = store.insert_content(b"h", 10, &meta).unwrap();
        store
            .finish_file(&job, content, &stat(1, 10), FileState::Indexed, None)
            .unwrap();
        store
            .record_extraction(content, "metadata", 4, None)
            .unwrap();
        let tags = vec![("tags".to_string(), 1)];
        let start = |enabled: &[(String, u32)]| {
            let n = store
                .enqueue_for_new_extractors(enabled, ("metadata", 4))
                .unwrap();
            if let Some(job) = store.claim_job().unwrap() {
                store.record_extraction(content, "tags", 1, None).unwrap();
                store.drop_job(job.id).unwrap();
            }
            n
        };
        assert_eq!(start(&[]), 0, "metadata 4 is done");
        assert_eq!(start(&tags), 1, "a model installed: its extractor runs");
        store
            .conn()
            .exec("DELETE FROM extractions WHERE extractor = 'tags'", [])
            .unwrap();
        assert_eq!(start(&tags), 0, "the same set as last time: no join");
        assert_eq!(start(&[]), 0);
        assert_eq!(
            start(&tags),
            1,
            "removed, then installed again: checked again"
        );
        assert_eq!(start(&tags), 0);
        // A new decoder version redoes metadata the older one wrote.
        assert_eq!(
            store
                .enqueue_for_new_extractors(&tags, ("metadata", 5))
                .unwrap(),
            1
        );
    }

    #[test]
    fn every_visible_change_lands_in_the_index_outbox() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let id = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        store
            .move_file(id, root, Path::new("/r/b.jpg"), &stat(1, 10))
            .unwrap();
        let (last, ids) = store.index_backlog(100).unwrap();
        assert_eq!(ids, vec![id]);
        store.index_ack(last).unwrap();
        assert_eq!(store.index_pending().unwrap(), 0);
        store.delete_files(&[id]).unwrap();
        assert_eq!(store.index_backlog(100).unwrap().1, vec![id]);
        assert!(store.index_doc(id).unwrap().is_none());
    }

    #[test]
    fn orphaned_contents_are_collected_after_grace() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let id = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        let (c, _) = store
            .insert_content(b"h", 10, &ContentMeta::default())
            .unwrap();
        store.record_extraction(c, "metadata", 1, None).unwrap();
        assert!(
            store
                .finish_file(&job, c, &stat(1, 10), FileState::Skipped, None)
                .unwrap()
        );
        store.delete_files(&[id]).unwrap();
        assert_eq!(store.collect_orphans(3600).unwrap(), 0, "grace period");
        assert_eq!(store.collect_orphans(-1).unwrap(), 1);
        assert!(
            store.extractions(c).unwrap().is_empty(),
            "results go with their content"
        );
    }

    #[test]
    fn every_pending_file_keeps_a_job_that_will_run() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let a = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        // A job ended while its file is still pending is put back.
        store.drop_job(job.id).unwrap();
        assert_eq!(store.pending_without_job().unwrap(), 0);
        assert_eq!(store.claim_job().unwrap().unwrap().file_id, a);
        // A failed file made pending again gets its failed job back in the queue.
        let job = Job {
            id: store
                .conn
                .one("SELECT id FROM jobs", [], |r| r.get(0))
                .unwrap(),
            file_id: a,
            attempts: 0,
        };
        store.fail_job(&job, "broken").unwrap();
        assert_eq!(store.queue_depth().unwrap(), (0, 0));
        store.mark_changed(a, &stat(1, 11)).unwrap();
        assert_eq!(store.queue_depth().unwrap(), (1, 0));
        // Back from offline as pending: a job again.
        store.set_root_offline(root).unwrap();
        store.conn.exec("DELETE FROM jobs", []).unwrap();
        store.set_root_online(root).unwrap();
        assert_eq!(store.file(a).unwrap().unwrap().state, FileState::Pending);
        assert_eq!(store.queue_depth().unwrap(), (1, 0));
        // A deleted file takes its job with it, for good.
        store.delete_files(&[a]).unwrap();
        assert_eq!(store.queue_depth().unwrap(), (0, 0));
        assert_eq!(
            store
                .conn
                .one("SELECT count(*) FROM jobs", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            0
        );
    }

    #[test]
    fn pending_files_without_a_job_are_found_and_repaired() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let a = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        // A catalogue written before the triggers existed.
        store
            .conn
            .execute_batch("DROP TRIGGER pending_keeps_job; DELETE FROM jobs;")
            .unwrap();
        assert_eq!(store.pending_without_job().unwrap(), 1);
        assert_eq!(store.repair_pending_jobs().unwrap(), 1);
        assert_eq!(store.pending_without_job().unwrap(), 0);
        assert_eq!(store.claim_job().unwrap().unwrap().file_id, a);
        assert_eq!(store.repair_pending_jobs().unwrap(), 0);
    }

    #[test]
    fn a_vanished_file_is_forgotten_unless_it_was_moved_meanwhile() {
        let (_d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let a = store
            .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        // The rename's notice came first: the job runs again, at the new place.
        store
            .move_file(a, root, Path::new("/r/b.jpg"), &stat(1, 10))
            .unwrap();
        assert!(!store.forget_vanished(&job, Path::new("/r/a.jpg")).unwrap());
        let again = store.claim_job().unwrap().unwrap();
        assert_eq!(again.file_id, a);
        // Gone from where it is catalogued: forgotten, job and all.
        assert!(
            store
                .forget_vanished(&again, Path::new("/r/b.jpg"))
                .unwrap()
        );
        assert!(store.file(a).unwrap().is_none());
        assert_eq!(store.queue_depth().unwrap(), (0, 0));
    }

    #[test]
    fn a_failed_transaction_leaves_nothing_and_no_lock() {
        let (d, store) = store();
        let root = store.add_root(Path::new("/r"), 1).unwrap();
        let files = |s: &Store| -> i64 {
            s.conn
                .one("SELECT count(*) FROM files", [], |r| r.get(0))
                .unwrap()
        };
        // An error half-way: the first insert is undone.
        let err = store.in_transaction(|s| {
            s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
            s.conn.exec("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        });
        assert!(err.is_err());
        assert_eq!(files(&store), 0);
        // A panic half-way: undone too.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.in_transaction(|s| -> Result<()> {
                s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
                panic!("half-way");
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(files(&store), 0);
        // A nested failure is undone alone; the outer transaction goes on.
        store
            .in_transaction(|s| {
                s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
                let inner = s.in_transaction(|s| {
                    s.insert_file(root, Path::new("/r/b.jpg"), &stat(2, 10))?;
                    s.conn.exec("INSERT INTO no_such_table VALUES (1)", [])?;
                    Ok(())
                });
                assert!(inner.is_err());
                Ok(())
            })
            .unwrap();
        assert_eq!(files(&store), 1);
        // And the write lock is free: another connection writes at once.
        let other = Store::open(&d.path().join("db")).unwrap();
        other.conn.busy_timeout(Duration::ZERO).unwrap();
        other
            .insert_file(root, Path::new("/r/c.jpg"), &stat(3, 10))
            .unwrap();
        assert_eq!(files(&other), 2);
    }

    /// The tallies against counting every row, after each of a long random run of the changes
    /// the catalogue makes: a trigger missed by one statement would drift here.
    #[test]
    fn tallies_agree_with_counting_after_every_kind_of_change() {
        let (_d, store) = store();
        let mut roots = vec![store.add_root(Path::new("/a"), 1).unwrap()];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let counted =
            |store: &Store| -> String {
                let q = |sql: &str| -> Vec<String> {
                    let mut st = store.conn().prepare(sql).unwrap();
                    st.query_map([], |r| {
                        Ok(format!(
                            "{:?}/{:?}",
                            r.get::<_, Value>(0)?,
                            r.get::<_, Value>(1)?
                        ))
                    })
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect()
                };
                let mut files = q("SELECT state, count(*) FROM files GROUP BY 1 ORDER BY 1");
                files.extend(q(
                    "SELECT root_id, count(*) FROM files GROUP BY 1 ORDER BY 1",
                ));
                files.extend(q(
                    "SELECT message LIKE 'unsupported format:%', count(*) FROM files
                 WHERE state = 'skipped' GROUP BY 1 ORDER BY 1",
                ));
                files.extend(q("SELECT root_id || reason, sum(folder) || '/' || count(*)
                            FROM left_out GROUP BY 1 ORDER BY 1"));
                files.extend(q("SELECT state, count(*) FROM jobs
                            WHERE state IN ('queued', 'running') GROUP BY 1 ORDER BY 1"));
                files.extend(q("SELECT 'contents', count(*) FROM contents"));
                files.extend(q("SELECT extractor || version, count(*) FROM extractions
                            WHERE status = 'done' GROUP BY 1 ORDER BY 1"));
                files.join(" ")
            };
        let tallied = |store: &Store| -> String {
            let mut out: Vec<String> = store
                .state_counts()
                .unwrap()
                .into_iter()
                .filter(|c| c.1 > 0)
                .map(|(s, n)| format!("Text({:?})/Integer({n})", s.as_str()))
                .collect();
            out.sort();
            let mut by_root: Vec<_> = store.root_file_counts().unwrap().into_iter().collect();
            by_root.sort();
            out.extend(
                by_root
                    .into_iter()
                    .filter(|c| c.1 > 0)
                    .map(|(r, n)| format!("Integer({r})/Integer({n})")),
            );
            let (plain, unsupported) = store.skipped_counts().unwrap();
            for (flag, n) in [(0, plain), (1, unsupported)] {
                if n > 0 {
                    out.push(format!("Integer({flag})/Integer({n})"));
                }
            }
            let mut left: Vec<String> = Vec::new();
            for r in store.roots().unwrap() {
                for (reason, folders, files) in store.left_out_counts(r.id).unwrap() {
                    left.push(format!(
                        "Text(\"{}{reason}\")/Text(\"{folders}/{}\")",
                        r.id,
                        folders + files
                    ));
                }
            }
            left.sort();
            out.extend(left);
            let running: i64 = store
                .conn()
                .query_row("SELECT n FROM job_tally WHERE state = 'running'", [], |r| {
                    r.get(0)
                })
                .unwrap_or(0);
            let (active, waiting) = store.queue_depth().unwrap();
            let queued = active + waiting - running as u64;
            for (state, n) in [("queued", queued), ("running", running as u64)] {
                if n > 0 {
                    out.push(format!("Text({state:?})/Integer({n})"));
                }
            }
            out.push(format!(
                "Text(\"contents\")/Integer({})",
                store.content_count().unwrap()
            ));
            for (name, version) in [("ocr", 1), ("ocr", 2), ("tags", 1)] {
                let n = store.extraction_done_count(name, version).unwrap();
                if n > 0 {
                    out.push(format!("Text(\"{name}{version}\")/Integer({n})"));
                }
            }
            out.join(" ")
        };
        let mut next = 0u64;
        for step in 0..600 {
            let files: Vec<FileRow> = roots
                .iter()
                .flat_map(|r| store.files_of_root(*r).unwrap())
                .collect();
            let file = (!files.is_empty()).then(|| &files[rand(files.len())]);
            let root = roots[rand(roots.len())];
            next += 1;
            match rand(13) {
                0 | 1 => {
                    let path = format!("/a/{}/f{next}", rand(3));
                    store
                        .insert_file(root, Path::new(&path), &stat(next, 10))
                        .unwrap();
                }
                2 => {
                    if let Some(job) = store.claim_job().unwrap() {
                        let hash = blake3::hash(&job.file_id.to_le_bytes());
                        let (cid, _) = store
                            .insert_content(hash.as_bytes(), 10, &ContentMeta::default())
                            .unwrap();
                        let f = store.file(job.file_id).unwrap().unwrap();
                        store
                            .finish_file(&job, cid, &f.stat, FileState::Indexed, None)
                            .unwrap();
                    }
                }
                3 => {
                    if let Some(job) = store.claim_job().unwrap() {
                        let message = ["unsupported format: x (needs y)", "not media"][rand(2)];
                        store
                            .settle_without_content(&job, FileState::Skipped, message)
                            .unwrap();
                    }
                }
                4 => {
                    if let Some(job) = store.claim_job().unwrap() {
                        match rand(3) {
                            0 => store.fail_job(&job, "bad").unwrap(),
                            1 => drop(store.retry_or_fail(&job, "again", 2, 60).unwrap()),
                            _ => store.release_job(job.id).unwrap(),
                        }
                    }
                }
                5 => {
                    if let Some(f) = file {
                        store.mark_changed(f.id, &stat(next, 11)).unwrap();
                    }
                }
                6 => {
                    if let Some(f) = file {
                        let path = format!("/a/{}/moved{next}", rand(3));
                        store
                            .move_file(f.id, root, Path::new(&path), &f.stat)
                            .unwrap();
                    }
                }
                7 => {
                    if let Some(f) = file {
                        store.delete_files(&[f.id]).unwrap();
                    }
                }
                8 => match rand(3) {
                    0 => drop(store.set_root_offline(root).unwrap()),
                    1 => drop(store.set_root_online(root).unwrap()),
                    _ => drop(store.requeue_failed().unwrap()),
                },
                9 => {
                    let dir = PathBuf::from(format!("/a/{}", rand(3)));
                    let entries: Vec<(PathBuf, String, bool)> = (0..rand(4))
                        .map(|i| {
                            let reason = ["excluded", ".nomedia", "app library"][rand(3)];
                            (dir.join(format!("x{i}")), reason.to_string(), rand(2) == 0)
                        })
                        .collect();
                    store.replace_left_out(root, &dir, &entries).unwrap();
                }
                10 => match rand(4) {
                    0 if roots.len() < 3 => {
                        let path = format!("/r{next}");
                        roots.push(store.add_root(Path::new(&path), 1).unwrap());
                    }
                    1 if roots.len() > 1 => {
                        let inner = roots.pop().unwrap();
                        store.absorb_root(roots[0], inner).unwrap();
                    }
                    2 if roots.len() > 1 => {
                        let gone = roots.remove(rand(roots.len()));
                        store.remove_root(gone).unwrap();
                    }
                    _ => drop(store.collect_orphans(-1).unwrap()),
                },
                11 => {
                    let content: Option<i64> = store
                        .conn()
                        .one(
                            "SELECT id FROM contents ORDER BY random() LIMIT 1",
                            [],
                            |r| r.get(0),
                        )
                        .optional()
                        .unwrap();
                    if let Some(cid) = content {
                        let (name, version) = [("ocr", 1), ("ocr", 2), ("tags", 1)][rand(3)];
                        let error = (rand(3) == 0).then_some("model failed");
                        store.record_extraction(cid, name, version, error).unwrap();
                    }
                }
                _ => drop(store.requeue_running().unwrap()),
            }
            assert_eq!(tallied(&store), counted(&store), "after step {step}");
        }
    }
}
