//! The wire protocol between `vx` and `vxd`: the tarpc service and its types (`service`), how
//! frames travel (`framing`), and where both ends find the data, configuration and socket
//! (`paths`). Plain data only: serde, tarpc and thiserror, nothing of the indexer.

pub mod framing;
pub mod paths;
mod service;

pub use service::*;
