//! The vx protocol and client helpers. Light on purpose: the `vx` binary links nothing heavy
//! (no ffmpeg, ONNX Runtime or whisper).

pub mod connect;
pub mod dates;
pub mod paths;
pub mod protocol;

pub use connect::{ConnectError, connect, context};
pub use protocol::*;
