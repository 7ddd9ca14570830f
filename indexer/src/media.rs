//! What a media file is, and where a file is in its life in the catalogue: the indexer's own
//! types (the wire protocol has its own, mapped by the daemon), so that a schema change is not
//! a protocol change.

use std::fmt;

use serde::{Deserialize, Serialize};

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
