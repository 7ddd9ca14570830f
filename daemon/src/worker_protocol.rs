//! The worker protocol: what `vxd` and its worker processes (`vxd --worker`) say to each other,
//! one JSON line at a time (see isolate.rs).

use serde::{Deserialize, Serialize};
use vx_indexer::extract::{Output, SegmentOut};
use vx_indexer::store::ContentMeta;

#[derive(Serialize, Deserialize)]
pub struct Request {
    /// Raw path bytes (names need not be UTF-8).
    pub path: Vec<u8>,
    pub hash_hex: String,
    pub wanted: Vec<(String, u32)>,
    /// Cores no other worker will use meanwhile (speech may take them).
    pub spare_threads: usize,
    /// Segments stored earlier, for the extractors that work on the others' results.
    pub stored: Vec<(i64, SegmentOut)>,
}

/// What the worker writes for a file: `Decoded` for audio and video, then one of the others.
#[derive(Serialize, Deserialize)]
pub enum Response {
    /// The file decoded; its extraction may take time in proportion to this duration.
    Decoded {
        media_seconds: f64,
    },
    Done {
        meta: Box<ContentMeta>,
        output: Box<Output>,
        decode_opens: u64,
    },
    NotMedia(String),
    Corrupt(String),
    Io(String),
}
