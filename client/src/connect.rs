//! Connecting to `vxd`: the socket, the transport and the handshake.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tarpc::serde_transport;
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;

use vx_protocol::framing::MAX_FRAME;
use vx_protocol::{Hello, PROTOCOL_VERSION, RpcError, VxClient};

pub use vx_protocol::framing::deadline_in_range;

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
