//! The daemon's life: socket permissions, one instance per data dir, handshake, shutdown,
//! and what vx says when vxd is not there.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::*;

#[test]
fn socket_is_private_and_removed_on_sigterm() {
    let mut d = Daemon::started();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d.socket), 0o600);
    assert_eq!(mode(d.socket.parent().unwrap()), 0o700);
    assert_eq!(mode(&d.data), 0o700);
    let took = d.stop();
    assert!(took < Duration::from_secs(10), "shutdown took {took:?}");
    assert!(!d.socket.exists(), "socket left behind");
    let log = std::fs::read_dir(d.data.join("logs")).unwrap().count();
    assert!(log > 0, "a log file in the data dir");
}

#[test]
fn one_instance_per_data_dir() {
    let d = Daemon::started();
    let mut second = d.spawn_vxd();
    let status = second.wait().unwrap();
    assert!(!status.success());
    let err = d.stderr();
    assert!(err.contains("already running"), "{err}");
    // The first one is unharmed.
    d.ok(&["status"]);
}

#[test]
fn commands_say_how_to_start_a_dead_daemon() {
    let d = Daemon::new();
    let out = d.vx(&["status"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not running") && err.contains("vx daemon start"),
        "{err}"
    );
    assert_eq!(d.vx(&["daemon", "status"]).status.code(), Some(3));
}

#[test]
fn vx_daemon_start_and_stop() {
    let d = Daemon::new();
    let out = d.ok(&["daemon", "start"]);
    assert!(out.contains("started"), "{out}");
    assert!(d.ok(&["daemon", "start"]).contains("already running"));
    let status = d.json(&["daemon", "status"]);
    assert_eq!(status["running"], true);
    assert!(d.ok(&["daemon", "stop"]).contains("stopped"));
    assert_eq!(d.vx(&["daemon", "status"]).status.code(), Some(3));
    assert!(!d.socket.exists());
}

#[test]
fn protocol_mismatch_names_both_versions() {
    use tarpc::tokio_serde::formats::Bincode;
    use tarpc::tokio_util::codec::length_delimited::LengthDelimitedCodec;
    let d = Daemon::started();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(async {
        let stream = tokio::net::UnixStream::connect(&d.socket).await.unwrap();
        let transport = tarpc::serde_transport::new(
            LengthDelimitedCodec::builder().new_framed(stream),
            Bincode::default(),
        );
        let client = vx_client::VxClient::new(Default::default(), transport).spawn();
        client
            .hello(vx_client::context(), 999)
            .await
            .unwrap()
            .unwrap_err()
    });
    let msg = err.to_string();
    assert!(
        msg.contains("999") && msg.contains(&vx_client::PROTOCOL_VERSION.to_string()),
        "{msg}"
    );
}

/// Worker processes of this daemon (their thumbnails dir is under its data dir).
fn worker_processes(d: &Daemon) -> usize {
    let data = d.data.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("--worker") && c.contains(&data))
        .count()
}

#[test]
fn idle_workers_exit_and_a_new_file_brings_one_back() {
    let mut d = Daemon::with_env(&[("VX_WORKER_IDLE_SECS", "1")]);
    make_image(&d.media.join("first.png"));
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "60"]);
    // Both: the supervisor stopped the worker (and said so), and its process is gone.
    d.eventually(15, "idle worker processes to exit", || {
        d.stderr().contains("idle worker process stopped") && worker_processes(&d) == 0
    });
    // Other content (a copy of the first would need no extraction).
    make_video(&d.media.join("second.mp4"));
    d.eventually(30, "the new file to be indexed", || d.count("indexed") == 2);
    let started = d.stderr().matches("worker process started").count();
    assert!(started >= 2, "a worker started again: {started} starts");
    d.eventually(15, "and to exit again", || worker_processes(&d) == 0);
}

/// Stopped while it loads the query embedders, vxd still exits cleanly: ONNX Runtime crashed
/// in its destructors when the process exited in the middle of a model load (3 crashes in 30
/// tries before the load was waited for).
#[test]
fn stopped_while_loading_models_exits_cleanly() {
    let Some(pack) = pack() else { return };
    let mut rng = Rng(7);
    for _ in 0..12 {
        let mut d = Daemon::with_models(&pack.models);
        // Answering first: a SIGTERM before the handler is set kills it by default.
        d.start();
        std::thread::sleep(Duration::from_millis(30 * rng.below(10) as u64));
        d.stop();
    }
}
