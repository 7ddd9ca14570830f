//! The `vx` client: connecting to vxd, and the protocol's types re-exported. Light on purpose:
//! the `vx` binary links nothing heavy (no ffmpeg, ONNX Runtime or whisper).

pub mod connect;
pub mod dates;

pub use connect::{ConnectError, connect, context};
pub use vx_protocol::*;
