//! `vx daemon start|stop|status`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use vx_client::{ConnectError, connect, context, paths};

const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// vxd beside this vx (how it is installed and built), else on PATH.
pub fn vxd_path() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("vxd")))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("vxd"))
}

pub async fn start(socket: &Path) -> Result<ExitCode> {
    if let Ok((_, hello)) = connect(socket).await {
        println!(
            "vxd {} is already running (pid {})",
            hello.daemon_version, hello.pid
        );
        return Ok(ExitCode::SUCCESS);
    }
    let logs = paths::data_dir().join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let err_path = logs.join("vxd.stderr");
    let stderr = std::fs::File::create(&err_path)
        .with_context(|| format!("cannot create {}", err_path.display()))?;
    let vxd = vxd_path();
    let mut cmd = std::process::Command::new(&vxd);
    cmd.arg("--socket")
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    // Its own session: closing this terminal does not stop the daemon.
    // SAFETY: setsid is async-signal-safe and touches no memory of this process.
    unsafe {
        cmd.pre_exec(|| {
            let _ = rustix::process::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().with_context(|| {
        format!(
            "cannot run {} (is vx installed with vxd beside it?)",
            vxd.display()
        )
    })?;
    let started = Instant::now();
    // Short polls first: vxd usually answers within a tenth of a second.
    let mut poll = Duration::from_millis(5);
    loop {
        match connect(socket).await {
            Ok((_, hello)) => {
                println!(
                    "vxd {} started (pid {}), listening on {}",
                    hello.daemon_version,
                    hello.pid,
                    socket.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(ConnectError::NotRunning(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(status) = child.try_wait()? {
            let err = std::fs::read_to_string(&err_path).unwrap_or_default();
            bail!("vxd exited at start ({status}):\n{}", err.trim());
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "vxd did not answer within {} s; its log is in {}",
                START_TIMEOUT.as_secs(),
                logs.display()
            );
        }
        tokio::time::sleep(poll).await;
        poll = (poll * 2).min(Duration::from_millis(50));
    }
}

pub async fn stop(socket: &Path) -> Result<ExitCode> {
    let (client, hello) = match connect(socket).await {
        Ok(c) => c,
        Err(ConnectError::NotRunning(_)) => {
            println!("vxd is not running");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e.into()),
    };
    client.shutdown(context()).await??;
    let started = Instant::now();
    while process_alive(hello.pid) {
        if started.elapsed() > STOP_TIMEOUT {
            bail!(
                "vxd (pid {}) is still running after {} s",
                hello.pid,
                STOP_TIMEOUT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("vxd (pid {}) stopped", hello.pid);
    Ok(ExitCode::SUCCESS)
}

pub async fn status(socket: &Path, json: bool) -> Result<ExitCode> {
    match connect(socket).await {
        Ok((_, hello)) => {
            if json {
                crate::print_json(&crate::cli_json::hello(&hello, socket));
            } else {
                println!(
                    "vxd {} is running (pid {}, protocol {}); socket {}, data {}",
                    hello.daemon_version,
                    hello.pid,
                    hello.protocol,
                    socket.display(),
                    hello.data_dir
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ConnectError::NotRunning(_)) => {
            if json {
                crate::print_json(
                    &serde_json::json!({"running": false, "socket": socket.to_string_lossy()}),
                );
            } else {
                println!("vxd is not running; start it with `vx daemon start`");
            }
            Ok(ExitCode::from(3))
        }
        Err(e) => Err(e.into()),
    }
}

/// True while the process exists and is not a zombie waiting for its parent.
fn process_alive(pid: u32) -> bool {
    let exists = rustix::process::Pid::from_raw(pid as i32)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
    if !exists {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            stat.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => true, // no procfs (macOS): trust kill
    }
}
