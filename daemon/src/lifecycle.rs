//! Start-up and shutdown chores: the data dir, the single-instance lock, the socket's place and
//! permissions, and logging.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Held for the daemon's life: a second vxd on the same data dir is refused.
pub struct InstanceLock {
    _file: File,
}

pub fn lock_data_dir(data_dir: &Path) -> Result<InstanceLock> {
    let path = data_dir.join("vxd.lock");
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let pid = std::fs::read_to_string(&path).unwrap_or_default();
            bail!(
                "another vxd (pid {}) is already running with data dir {}; stop it with `vx daemon stop`",
                pid.trim(),
                data_dir.display()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(e).with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(InstanceLock { _file: file })
}

/// Creates a directory (and parents) with mode 0700.
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot set permissions on {}", dir.display()))?;
    Ok(())
}

/// Makes the socket's directory private and clears a stale socket left by a crash. Refuses if
/// another daemon answers on it.
pub fn prepare_socket(socket: &Path) -> Result<()> {
    let dir = socket
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    private_dir(dir)?;
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            bail!(
                "another vxd is listening on {}; stop it with `vx daemon stop` or set VX_SOCKET",
                socket.display()
            );
        }
        std::fs::remove_file(socket)
            .with_context(|| format!("cannot remove stale socket {}", socket.display()))?;
    }
    Ok(())
}

pub fn restrict_socket(socket: &Path) -> Result<()> {
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot set permissions on {}", socket.display()))
}

/// Logs to stderr and to a daily file in `<data dir>/logs`. The guard flushes the file on drop.
pub fn init_logging(
    filter: &str,
    data_dir: &Path,
) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    let logs: PathBuf = data_dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let appender = tracing_appender::rolling::daily(&logs, "vxd.log");
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    use std::io::IsTerminal;
    // tarpc logs every call at info; keep it to warnings unless asked for.
    let full = if filter.contains("tarpc") {
        filter.to_string()
    } else {
        format!("{filter},tarpc=warn")
    };
    let filter = EnvFilter::try_new(&full)
        .with_context(|| format!("invalid log filter {filter:?} (try info or debug)"))?;
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file_writer),
        )
        .init();
    Ok(guard)
}

/// Nice value of the daemon process (socket, catalogue, index).
pub const DAEMON_NICE: i32 = 10;
/// Nice value of extraction workers: below the daemon's, so that a search answers quickly
/// while both cores extract. (On Linux they are also in the idle scheduling class, below.)
pub const WORKER_NICE: i32 = 19;

/// Freed model buffers stay with this process for the next file instead of going back to the
/// kernel. ONNX Runtime's arena is off (each session would keep its own largest buffers), so
/// every run allocates its tensors anew; with glibc's defaults those of more than a few hundred
/// kilobytes are mapped and unmapped each time, and a worker spent about a tenth of a photo's
/// time in page faults. Up to 32 MiB blocks come from the heap now, and up to 64 MiB of freed
/// heap is kept (all sessions share it; idle workers exit anyway).
pub fn keep_freed_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two of glibc's allocator settings, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Puts this process (its threads from now on) in Linux's idle scheduling class, as Tracker
/// does with its miners: a thread of any other process that wakes takes the core at once
/// instead of waiting out a nice-19 thread's slice, which is what a search's tail latency
/// waited on while workers extracted (docs/benchmarks.md, "Workers in the idle class").
pub fn run_when_idle() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a live sched_param; 0 names the calling thread, whose new threads
        // inherit the policy.
        let failed = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0;
        if failed {
            tracing::debug!(
                "idle scheduling class refused: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Lowers this process's CPU priority to `nice` and its I/O to the idle class: indexing
/// should never be felt by the person at the keyboard. (launchd's plist asks for the same.)
pub fn lower_priority(nice: i32) {
    let _ = rustix::process::setpriority_process(None, nice);
    #[cfg(target_os = "linux")]
    {
        // ioprio_set(IOPRIO_WHO_PROCESS, self, IOPRIO_CLASS_IDLE << 13), which neither libc
        // nor rustix wraps.
        const IOPRIO_WHO_PROCESS: libc::c_long = 1;
        const IOPRIO_CLASS_IDLE: libc::c_long = 3;
        // SAFETY: integer arguments only; it changes this process's I/O class and nothing
        // in its memory.
        unsafe {
            libc::syscall(
                libc::SYS_ioprio_set,
                IOPRIO_WHO_PROCESS,
                0 as libc::c_long,
                IOPRIO_CLASS_IDLE << 13,
            );
        }
    }
}
