//! The wire protocol between `vx` and `vxd`: one tarpc service, its request and response types,
//! and [`PROTOCOL_VERSION`]. Everything here is plain data serialised with bincode, so types avoid
//! serde attributes that need a self-describing format (no `flatten`, `untagged` or skipping).

use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Bumped whenever a call or a type changes shape. `hello` is always the first call and never
/// changes, so that a mismatch can be reported with both versions.
pub const PROTOCOL_VERSION: u32 = 11;

/// A file path as raw bytes: file names need not be UTF-8, and serde refuses such `PathBuf`s.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WirePath(Vec<u8>);

impl WirePath {
    pub fn new(path: &Path) -> Self {
        WirePath(path.as_os_str().as_bytes().to_vec())
    }
    pub fn to_path_buf(&self) -> PathBuf {
        PathBuf::from(std::ffi::OsString::from_vec(self.0.clone()))
    }
    /// A printable form: invalid UTF-8 is replaced, control characters (newlines) are escaped.
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.0).escape_debug().to_string()
    }
}

impl From<&Path> for WirePath {
    fn from(p: &Path) -> Self {
        WirePath::new(p)
    }
}

impl fmt::Debug for WirePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_path_buf())
    }
}

impl fmt::Display for WirePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// What a media file holds, decided from its content rather than its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaKind {
    Image,
    Video,
    Audio,
}

impl MediaKind {
    pub const ALL: [MediaKind; 3] = [MediaKind::Image, MediaKind::Video, MediaKind::Audio];

    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
        }
    }

    pub fn parse(s: &str) -> Option<MediaKind> {
        MediaKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a file is in its life in the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FileState {
    /// Seen, waiting to be hashed and probed.
    Pending,
    /// Catalogued: its content is known and searchable.
    Indexed,
    /// Not media (or empty): recorded and counted, never searched.
    Skipped,
    /// Corrupt, unreadable or unsupported; the message says why.
    Failed,
    /// Its root is missing or unmounted; the record is kept until it comes back.
    Offline,
}

impl FileState {
    pub const ALL: [FileState; 5] = [
        FileState::Pending,
        FileState::Indexed,
        FileState::Skipped,
        FileState::Failed,
        FileState::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Indexed => "indexed",
            FileState::Skipped => "skipped",
            FileState::Failed => "failed",
            FileState::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<FileState> {
        FileState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer to the handshake.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
    pub daemon_version: String,
    pub protocol: u32,
    pub pid: u32,
    pub data_dir: WirePath,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RootState {
    /// Watched with filesystem notifications.
    Watching,
    /// Notifications are unavailable (for example the inotify watch limit was reached); the root
    /// is rescanned periodically instead.
    Polling,
    /// The folder is missing or unmounted; its files are offline.
    Missing,
}

impl RootState {
    pub fn as_str(&self) -> &'static str {
        match self {
            RootState::Watching => "watching",
            RootState::Polling => "polling",
            RootState::Missing => "missing",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RootInfo {
    pub path: WirePath,
    pub state: RootState,
    /// Why the root is polling or missing, and what to do about it.
    pub message: Option<String>,
    pub files: u64,
    /// The folder's own exclusion patterns (`vx add --exclude`).
    pub exclude: Vec<String>,
    /// What its last full scan left out, by reason.
    pub excluded: Vec<Excluded>,
}

/// Folders and files a scan left out for one reason ("pattern *.tmp", ".nomedia file", ...).
/// A folder counts once, whatever it holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Excluded {
    pub reason: String,
    pub folders: u64,
    pub files: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateCount {
    pub state: FileState,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtractorInfo {
    pub name: String,
    pub version: u32,
    pub enabled: bool,
    /// Why it is disabled, when it is.
    pub reason: Option<String>,
    /// Contents this extractor has finished.
    pub done: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileProblem {
    pub path: WirePath,
    pub state: FileState,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    pub daemon_version: String,
    pub pid: u32,
    pub paused: bool,
    /// Why work is paused (by `vx pause`, or later by the power source).
    pub pause_reason: Option<String>,
    /// No file pending, nothing queued or running, nothing waiting to be indexed.
    pub idle: bool,
    pub files: Vec<StateCount>,
    /// Jobs ready to run or running.
    pub queue_depth: u64,
    /// Jobs waiting for a retry after a transient error.
    pub retry_waiting: u64,
    pub current: Vec<WirePath>,
    /// Files finished per second over the last minute.
    pub rate: f64,
    pub eta_secs: Option<f64>,
    /// Catalogue changes not yet in the text index (files, and faces or speakers waiting for
    /// their group, whose files are indexed again once grouped).
    pub index_pending: u64,
    /// Pending files the last check found with no job to run them, and queued again: always 0
    /// unless something is wrong (vxd checks when it starts and when its queue runs dry).
    pub pending_without_job: u64,
    /// Not-media files seen: they are counted, never searched.
    pub skipped_not_media: u64,
    /// Files in a format vx knows but this build cannot read yet (camera RAW).
    pub skipped_unsupported: u64,
    pub contents: u64,
    /// Text embeddings held in memory for semantic search, and the bytes they take.
    pub vectors: u64,
    pub vector_bytes: u64,
    /// Lists the vectors are partitioned into (a query scans the nearest few); 0: brute force.
    pub vector_lists: u64,
    pub extractors: Vec<ExtractorInfo>,
    pub roots: Vec<RootInfo>,
    /// The latest failed or skipped files, with why.
    pub problems: Vec<FileProblem>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    pub kind: Option<MediaKind>,
    /// Only files under this folder.
    pub path_prefix: Option<WirePath>,
    /// Taken (or, failing that, modified) at or after this time, Unix seconds.
    pub after: Option<i64>,
    /// Taken (or modified) before this time, Unix seconds.
    pub before: Option<i64>,
    /// Only files that have all of these: "speech", "text" (read by OCR), "faces".
    pub has: Vec<String>,
    /// Only files showing this person: a name given with `vx people name`, or a group number.
    pub person: Option<String>,
    /// Only what this voice says: a name given with `vx voices name`, or a voice number.
    pub voice: Option<String>,
    /// Rank with only these channels ("text", "semantic", "visual"); empty: all, fused.
    pub channels: Vec<String>,
    /// Only files taken within `km` of a place: "LAT,LON", or the name of a place where photos
    /// in the catalogue were taken ("Rome", "Rome, Italy").
    pub near: Option<String>,
    pub km: f64,
    /// Only pictures taken with this camera, or lens, or kind ("iphone 15", "screenshot"):
    /// every word must appear in what took it.
    pub camera: Option<String>,
    /// Only files whose measures satisfy all of these ("loudness < -20").
    pub measures: Vec<MeasureFilter>,
    pub limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

/// A condition on a number an extractor measured over a file: `loudness<-20`, `clipped>0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeasureFilter {
    pub name: String,
    pub compare: Compare,
    pub value: f64,
}

impl MeasureFilter {
    pub fn parse(text: &str) -> Result<MeasureFilter, String> {
        let at = text.find(['<', '>', '=']).ok_or_else(|| {
            format!(
                "{text:?}: expected NAME<VALUE, NAME>VALUE, NAME<=VALUE, NAME>=VALUE or NAME=VALUE"
            )
        })?;
        let (name, rest) = text.split_at(at);
        let (compare, value) = [
            ("<=", Compare::LessOrEqual),
            (">=", Compare::GreaterOrEqual),
            ("<", Compare::Less),
            (">", Compare::Greater),
            ("=", Compare::Equal),
        ]
        .into_iter()
        .find_map(|(op, c)| rest.strip_prefix(op).map(|v| (c, v)))
        .expect("starts with one of them");
        let name = name.trim();
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{text:?}: {:?} is not a number", value.trim()))?;
        if name.is_empty() {
            return Err(format!("{text:?}: no measure named before the comparison"));
        }
        Ok(MeasureFilter {
            name: name.to_string(),
            compare,
            value,
        })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Moment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Which channels matched (transcript, ocr, tag, ...).
    pub sources: Vec<String>,
    /// The thumbnail of the frame shown at that moment (videos; pictures have one).
    pub thumbnail: Option<WirePath>,
    /// The scene of a video the moment falls in: (start, end) in seconds.
    pub scene: Option<(f64, f64)>,
    /// Who says it (a transcript moment): the voice's name, else "speaker N".
    pub speaker: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evidence {
    pub channel: String,
    /// Text: the share of the query's weight the file answers; semantic and visual: cosine.
    pub score: f32,
    pub relevance: f32,
}

/// The relevance from which a result is a match rather than a weaker one: about even odds
/// that it is what was asked for (docs/search-quality.md, "Calibrated relevance").
pub const CONFIDENT: f32 = 0.5;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchHit {
    pub path: WirePath,
    pub kind: MediaKind,
    /// Relevance: the chance, from 0 to 1, that the file is what was asked for; the same
    /// scale for every query. Under [`CONFIDENT`] the file is a weaker match.
    pub score: f32,
    /// Each channel that found the file ("text", "semantic", "visual", "listing"): its own
    /// score there, and the relevance that score alone gives.
    pub evidence: Vec<Evidence>,
    /// False when the file's root is missing or unmounted.
    pub online: bool,
    pub moments: Vec<Moment>,
    /// The thumbnail of the file's best moment, or of the file.
    pub thumbnail: Option<WirePath>,
    /// For a Live Photo's still, its motion clip: moments found in the clip have the clip's
    /// times.
    pub clip: Option<WirePath>,
}

impl SearchHit {
    /// A weaker match: under [`CONFIDENT`].
    pub fn weak(&self) -> bool {
        self.score < CONFIDENT
    }

    /// Listed with nothing to weigh (filters only, likeness): its score says nothing.
    pub fn listed(&self) -> bool {
        self.evidence.iter().all(|e| e.channel == "listing")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchResponse {
    pub results: Vec<SearchHit>,
    pub took_ms: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContentInfo {
    pub hash: String,
    pub kind: Option<MediaKind>,
    pub format: Option<String>,
    pub duration: Option<f64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<String>,
    pub audio_codec: Option<String>,
    /// Creation time from the container or EXIF, Unix seconds.
    pub taken: Option<i64>,
    /// Where it was taken (GPS), latitude and longitude in degrees.
    pub location: Option<(f64, f64)>,
    /// The place there: "Rome, Latium, Italy".
    pub place: Option<String>,
    /// What took it: "Apple iPhone 15, iPhone 15 front camera 2.69mm f/1.9, selfie".
    pub camera: Option<String>,
    /// Other files with the same content.
    pub copies: Vec<WirePath>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExtractionInfo {
    pub extractor: String,
    pub version: u32,
    pub status: String,
    pub error: Option<String>,
    pub runs: u64,
}

/// One timed result of an extractor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShownSegment {
    /// transcript | ocr | tag | object
    pub source: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub confidence: f32,
    /// Who says it (a transcript segment): the voice's name, else "speaker N".
    pub speaker: Option<String>,
}

/// A number an extractor measured over the whole file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShownMeasure {
    pub extractor: String,
    /// What `--where` calls it.
    pub name: String,
    /// The audio track it was measured on: 0 is the one search filters on (the one decoded for
    /// speech); others follow in stream order.
    pub track: u32,
    pub value: f64,
    /// How `vx show` says it: "integrated loudness: -16.2 LUFS".
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShownFace {
    pub time: f64,
    /// x, y, width, height in pixels of the frame.
    pub rect: [f32; 4],
    pub score: f32,
    pub age: f32,
    /// The group it belongs to, and that group's name if it has one.
    pub person: Option<i64>,
    pub name: Option<String>,
    /// The likeliest expression ("happy", "neutral", ...) and its probability.
    pub expression: Option<(String, f32)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShownScene {
    pub start: f64,
    pub end: f64,
    pub thumbnail: Option<WirePath>,
}

/// A group of faces that look like one person.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub name: Option<String>,
    pub faces: u64,
    pub files: u64,
    /// A crop of the group's clearest face.
    pub thumbnail: Option<WirePath>,
}

/// A recording's speakers grouped across recordings: one voice.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Voice {
    pub id: i64,
    pub name: Option<String>,
    /// Recordings it speaks in, and for how long in all.
    pub files: u64,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileDetails {
    pub path: WirePath,
    pub root: WirePath,
    pub state: FileState,
    pub message: Option<String>,
    pub size: u64,
    pub mtime: i64,
    pub content: Option<ContentInfo>,
    pub extractions: Vec<ExtractionInfo>,
    pub segments: Vec<ShownSegment>,
    /// (source, heading) of each kind of segment, in the order `vx show` lists them.
    pub headings: Vec<(String, String)>,
    pub measures: Vec<ShownMeasure>,
    pub faces: Vec<ShownFace>,
    /// Thumbnails of the picture or of the video's kept frames, with their times.
    pub thumbnails: Vec<(f64, WirePath)>,
    /// A video's scenes: start, end and the thumbnail of the frame it opens with.
    pub scenes: Vec<ShownScene>,
    /// The other half of the Live Photo this file is half of: the clip of a still, the still
    /// of a clip.
    pub live_partner: Option<WirePath>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReindexReport {
    /// Failed files queued again.
    pub requeued: u64,
    /// Files queued for the text index.
    pub reindexed: u64,
}

/// Errors every call can return. Messages say what went wrong and, where useful, what to do.
#[derive(Clone, Debug, thiserror::Error, Serialize, Deserialize)]
pub enum RpcError {
    #[error(
        "vx speaks protocol {client} but vxd {daemon_version} speaks protocol {daemon}: restart the daemon (`vx daemon stop && vx daemon start`) or use the matching vx"
    )]
    VersionMismatch {
        client: u32,
        daemon: u32,
        daemon_version: String,
    },
    #[error("{path}: {reason}")]
    InvalidPath { path: WirePath, reason: String },
    #[error("{0} is not in the catalogue (is it under a folder added with `vx add`?)")]
    NotFound(WirePath),
    #[error("{0} is not a watched folder; `vx roots` lists them")]
    NotARoot(WirePath),
    #[error("bad query: {0}")]
    BadQuery(String),
    /// No such person or voice.
    #[error("{0}")]
    NoSuchGroup(String),
    #[error("the daemon is shutting down")]
    ShuttingDown,
    #[error("internal error in vxd: {0} (the log in the data dir has details)")]
    Internal(String),
}

#[tarpc::service]
pub trait Vx {
    /// The handshake: always the first call. Fails with `VersionMismatch` when protocols differ.
    async fn hello(client_protocol: u32) -> Result<Hello, RpcError>;
    /// Watches a folder (recursively) and catalogues what is in it.
    /// Watches a folder, leaving out what `exclude` (glob patterns) matches; for a folder
    /// already watched, adds the patterns to its own.
    async fn add_root(path: WirePath, exclude: Vec<String>) -> Result<RootInfo, RpcError>;
    /// Stops watching a folder and forgets its files (their extracted results go with them).
    async fn remove_root(path: WirePath) -> Result<u64, RpcError>;
    async fn roots() -> Result<Vec<RootInfo>, RpcError>;
    async fn status() -> Result<Status, RpcError>;
    async fn search(request: SearchRequest) -> Result<SearchResponse, RpcError>;
    /// Everything known about one file.
    async fn show(path: WirePath) -> Result<FileDetails, RpcError>;
    /// Files and moments that look like this file (or its moment at `at` seconds): by the
    /// tags and objects they share.
    async fn similar(
        path: WirePath,
        at: Option<f64>,
        limit: u32,
    ) -> Result<SearchResponse, RpcError>;
    /// Retries failed files; with `rebuild_index`, also rebuilds the text index from SQLite.
    async fn reindex(rebuild_index: bool) -> Result<ReindexReport, RpcError>;
    /// Faces grouped into people, named ones first, then the largest.
    async fn people() -> Result<Vec<Person>, RpcError>;
    /// Names a group (None: forgets its name); its files are then found by that name.
    async fn name_person(id: i64, name: Option<String>) -> Result<Person, RpcError>;
    /// Says two groups are one person: `from`'s faces join `into`.
    async fn merge_people(into: i64, from: i64) -> Result<Person, RpcError>;
    /// Speakers grouped into voices across recordings, named ones first, then the most heard.
    async fn voices() -> Result<Vec<Voice>, RpcError>;
    /// Names a voice (None: forgets its name); what it says is then found by that name.
    async fn name_voice(id: i64, name: Option<String>) -> Result<Voice, RpcError>;
    /// Says two voices are one: `from`'s speakers join `into`.
    async fn merge_voices(into: i64, from: i64) -> Result<Voice, RpcError>;
    async fn pause() -> Result<(), RpcError>;
    async fn resume() -> Result<(), RpcError>;
    async fn shutdown() -> Result<(), RpcError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_filters_parse() {
        let f = MeasureFilter::parse("loudness <= -20.5").unwrap();
        assert_eq!(
            (f.name.as_str(), f.compare, f.value),
            ("loudness", Compare::LessOrEqual, -20.5)
        );
        let g = MeasureFilter::parse("clipped>0").unwrap();
        assert_eq!((g.compare, g.value), (Compare::Greater, 0.0));
        for bad in ["loudness", "<3", "loudness<loud"] {
            assert!(MeasureFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
