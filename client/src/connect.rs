//! Connecting to `vxd`: the socket, the transport and the handshake.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tarpc::serde_transport;
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;

use crate::protocol::{Hello, PROTOCOL_VERSION, RpcError, VxClient};

/// Frames up to 64 MiB: search results and status fit easily.
pub const MAX_FRAME: usize = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("vxd is not running (no answer on {}). Start it with `vx daemon start`", .0.display())]
    NotRunning(PathBuf),
    #[error("cannot connect to vxd on {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("handshake with vxd failed: {0}")]
    Rpc(#[from] tarpc::client::RpcError),
    #[error(transparent)]
    Refused(#[from] RpcError),
}

/// A tarpc context with a deadline long enough for slow calls on a busy laptop.
pub fn context() -> tarpc::context::Context {
    let mut ctx = tarpc::context::current();
    ctx.deadline = std::time::Instant::now() + Duration::from_secs(120);
    ctx
}

/// Connects and performs the version handshake.
pub async fn connect(socket: &Path) -> Result<(VxClient, Hello), ConnectError> {
    let stream = match tokio::net::UnixStream::connect(socket).await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(ConnectError::NotRunning(socket.to_path_buf()));
        }
        Err(source) => {
            return Err(ConnectError::Io {
                path: socket.to_path_buf(),
                source,
            });
        }
    };
    let framed = LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(stream);
    let transport = serde_transport::new(framed, Bincode::default());
    let client = VxClient::new(tarpc::client::Config::default(), transport).spawn();
    let hello = client.hello(context(), PROTOCOL_VERSION).await??;
    Ok((client, hello))
}

/// Whether a request frame's deadline is one tarpc can read: tarpc 0.38 adds it to the current
/// instant unchecked and panics on overflow, so vxd refuses (closes) a frame whose deadline
/// lies more than a year ahead before tarpc reads it. The frame is bincode with varints: the
/// message's variant (0: a request), then the deadline's seconds.
pub fn deadline_in_range(frame: &[u8]) -> bool {
    /// A year: no call of vx waits longer.
    const MAX_SECS: u64 = 365 * 24 * 3600;
    fn varint(b: &[u8]) -> Option<(u64, &[u8])> {
        let (&first, rest) = b.split_first()?;
        let take = |n: usize| -> Option<(u64, &[u8])> {
            let mut v = [0u8; 8];
            v[..n].copy_from_slice(rest.get(..n)?);
            Some((u64::from_le_bytes(v), &rest[n..]))
        };
        match first {
            0..=250 => Some((first as u64, rest)),
            251 => take(2),
            252 => take(4),
            253 => take(8),
            // u128: past any deadline.
            _ => Some((u64::MAX, rest)),
        }
    }
    match varint(frame) {
        Some((0, rest)) => varint(rest).is_some_and(|(secs, _)| secs <= MAX_SECS),
        _ => true,
    }
}
