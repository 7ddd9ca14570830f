//! vx's indexing core: media probing, the SQLite catalogue and job queue, the tantivy text
//! index, and search. Knows nothing of sockets or RPC; the daemon drives it.

pub mod bigtiff;
pub mod camera;
pub mod catalog;
pub mod decode;
pub mod diarize;
pub mod duplicates;
pub mod evidence;
pub mod exclude;
pub mod extract;
pub mod extractors;
pub mod geo;
pub mod hash;
pub mod heif;
mod ivf;
pub mod job;
pub mod live;
pub mod media;
mod migrations;
pub mod motion;
pub mod orientation;
pub mod paths;
pub mod people;
pub mod probe;
pub mod raw;
pub mod search;
pub mod semantic;
pub mod store;
pub mod textindex;
pub mod voices;
pub mod walk;
pub mod webp;
pub mod wordsplit;

pub use catalog::{Catalog, ScanReport};
pub use media::{FileState, MediaKind};
pub use search::{SearchError, Searcher};
pub use store::{Store, StoreError};
pub use textindex::{IndexSync, TextIndex};
