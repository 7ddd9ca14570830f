//! Extraction in a supervised worker process. FFmpeg, ONNX Runtime and whisper.cpp are C and
//! C++ parsing untrusted files: they run in `vxd --worker`, which loads its models once and
//! then serves one file at a time over its stdin and stdout (JSON lines). A segfault, abort,
//! runaway allocation or hang takes down only that process; the supervisor restarts it.

use std::io::{BufRead, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use vx_indexer::decode::{DECODE_OPENS, DecodePolicy, decode_with};
use vx_indexer::extract::{Job, extract};
use vx_indexer::extractors::{Meters, order};
use vx_indexer::probe::ProbeError;
use vx_models::{ModelSet, RuntimeOptions, Threading};

pub use vx_daemon::worker_protocol::{Request, Response};

/// Settings of the worker process, passed on its command line.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    pub models_dir: PathBuf,
    pub thumbs_dir: PathBuf,
    pub onnxruntime: Option<PathBuf>,
    pub model_threads: usize,
    pub memory_mb: u64,
}

impl WorkerSettings {
    fn args(&self) -> Vec<std::ffi::OsString> {
        let mut a: Vec<std::ffi::OsString> = vec![
            "--worker".into(),
            "--models-dir".into(),
            self.models_dir.clone().into(),
            "--thumbs-dir".into(),
            self.thumbs_dir.clone().into(),
            "--model-threads".into(),
            self.model_threads.to_string().into(),
        ];
        if let Some(o) = &self.onnxruntime {
            a.push("--onnxruntime".into());
            a.push(o.clone().into());
        }
        a
    }
}

/// Test hook: VX_TEST_WORKER_FAULT=SUBSTRING:segv|kill|hang|halfline|abort|oom|sleep makes the
/// worker fail that way (halfline: hang after writing half an answer; sleep: take 4 s more) on
/// files whose path contains SUBSTRING, once decoded.
fn test_fault(path: &Path) {
    let Ok(spec) = std::env::var("VX_TEST_WORKER_FAULT") else {
        return;
    };
    let Some((needle, how)) = spec.rsplit_once(':') else {
        return;
    };
    if !path.to_string_lossy().contains(needle) {
        return;
    }
    match how {
        // SAFETY: deliberately crashing this worker process, as the test asked.
        // Rust's own SIGSEGV handler (stack-overflow detection) would return from a raised
        // signal: restore the default first, as a real fault would end.
        "segv" => unsafe {
            libc::signal(libc::SIGSEGV, libc::SIG_DFL);
            libc::raise(libc::SIGSEGV);
        },
        "kill" => {
            let me = rustix::process::getpid();
            let _ = rustix::process::kill_process(me, rustix::process::Signal::KILL);
        }
        "abort" => std::process::abort(),
        // A runaway allocation: grows until the address-space limit stops it.
        "oom" => {
            let mut hog: Vec<Vec<u8>> = Vec::new();
            loop {
                hog.push(vec![1u8; 64 << 20]);
            }
        }
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
        "halfline" => {
            let mut out = std::io::stdout().lock();
            let _ = out
                .write_all(br#"{"Done":{"meta":"#)
                .and_then(|_| out.flush());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        "sleep" => std::thread::sleep(Duration::from_secs(4)),
        _ => {}
    }
}

/// The worker process's main loop.
pub fn worker_main(settings: WorkerSettings) -> anyhow::Result<()> {
    let threading = if settings.model_threads > 1 {
        Threading::GlobalPool(settings.model_threads)
    } else {
        Threading::CallerThread
    };
    let mut models = ModelSet::new(
        &settings.models_dir,
        RuntimeOptions {
            library: settings.onnxruntime.clone(),
            threading,
        },
        settings.model_threads.max(1),
    );
    let policy = DecodePolicy::default();
    // Only the metadata wanted (a newer decoder re-reading a known content): one frame, no sound.
    let meta_only = DecodePolicy {
        audio: false,
        max_frames: 1,
        ..policy.clone()
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        let req: Request = serde_json::from_str(&line)?;
        let path = PathBuf::from(std::ffi::OsString::from_vec(req.path));
        let opens_before = DECODE_OPENS.load(std::sync::atomic::Ordering::Relaxed);
        let policy = if req.wanted.is_empty() {
            &meta_only
        } else {
            &policy
        };
        let wanted = order(req.wanted);
        let mut meters = Meters::new(&wanted);
        let response = match decode_with(&path, policy, &mut meters) {
            Ok(decoded) => {
                if let Some(media_seconds) = decoded.meta.duration.filter(|d| *d > 0.0) {
                    answer(&mut stdout, &Response::Decoded { media_seconds })?;
                }
                test_fault(&path);
                let job = Job {
                    wanted: &wanted,
                    thumbs_dir: &settings.thumbs_dir,
                    hash_hex: &req.hash_hex,
                    spare_threads: req.spare_threads,
                    metered: meters.finish(),
                    stored: &req.stored,
                };
                let output = extract(&decoded, job, &mut models);
                Response::Done {
                    meta: Box::new(decoded.meta.clone()),
                    output: Box::new(output),
                    decode_opens: DECODE_OPENS.load(std::sync::atomic::Ordering::Relaxed)
                        - opens_before,
                }
            }
            Err(ProbeError::NotMedia(m)) => Response::NotMedia(m),
            Err(ProbeError::Corrupt(m)) => Response::Corrupt(m),
            Err(ProbeError::Io(m)) => Response::Io(m),
        };
        answer(&mut stdout, &response)?;
    }
    Ok(())
}

fn answer(out: &mut impl Write, response: &Response) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, response)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Why a file could not be processed by the worker.
#[derive(Debug)]
pub enum Failure {
    Crashed(String),
    TimedOut(u64),
    Io(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Crashed(how) => write!(f, "worker crashed ({how})"),
            Failure::TimedOut(s) => write!(f, "timed out after {s} s"),
            Failure::Io(e) => write!(f, "worker unavailable: {e}"),
        }
    }
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    /// Non-blocking: read only after poll says so, so that no read can outlast the time limit.
    stdout: ChildStdout,
    /// Bytes read that do not yet make a whole line.
    unread: Vec<u8>,
}

/// An answer longer than this is not believed.
const MAX_ANSWER_BYTES: usize = 1 << 30;

/// Extraction time allowed per second of audio or video on top of the per-file limit: Whisper
/// takes about a tenth of real time on one core here, so this leaves room for slow machines.
const TIME_PER_MEDIA_SECOND: f64 = 0.5;
/// Durations claimed beyond a day are not believed (a damaged header).
const MAX_MEDIA_SECONDS: f64 = 86_400.0;

/// Owns one worker process, starting it on demand and again after it dies.
pub struct Supervisor {
    pub settings: WorkerSettings,
    running: Option<Running>,
    pub timeout: Duration,
    /// How long a worker process may wait for work before it is stopped (None: forever).
    idle_exit: Option<Duration>,
    last_used: Instant,
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGKILL => "SIGKILL, perhaps out of memory".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGFPE => "SIGFPE".into(),
        s => format!("signal {s}"),
    }
}

impl Supervisor {
    pub fn new(
        settings: WorkerSettings,
        timeout: Duration,
        idle_exit: Option<Duration>,
    ) -> Supervisor {
        Supervisor {
            settings,
            running: None,
            timeout,
            idle_exit,
            last_used: Instant::now(),
        }
    }

    /// Stops the worker process once it has waited for work longer than allowed: its models'
    /// memory goes back to the system, and the next file starts a new one. It holds no work
    /// between files, so it is simply killed.
    pub fn stop_if_idle(&mut self) {
        let Some(limit) = self.idle_exit else { return };
        if self.running.is_some() && self.last_used.elapsed() >= limit {
            let how = self.reap(true);
            tracing::debug!(
                idle_secs = limit.as_secs(),
                "idle worker process stopped ({how})"
            );
        }
    }

    fn start(&mut self) -> Result<&mut Running, Failure> {
        if self.running.is_none() {
            let exe = std::env::current_exe().map_err(|e| Failure::Io(e.to_string()))?;
            let memory = self.settings.memory_mb;
            let mut cmd = Command::new(exe);
            cmd.args(self.settings.args())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    use rustix::process::{Resource, Rlimit, Signal};
                    if memory > 0 {
                        let bytes = Some(memory.saturating_mul(1 << 20));
                        let limit = Rlimit {
                            current: bytes,
                            maximum: bytes,
                        };
                        let _ = rustix::process::setrlimit(Resource::As, limit);
                    }
                    // Dies with the daemon.
                    #[cfg(target_os = "linux")]
                    let _ = rustix::process::set_parent_process_death_signal(Some(Signal::KILL));
                    Ok(())
                });
            }
            let mut child = cmd
                .spawn()
                .map_err(|e| Failure::Io(format!("cannot start a worker: {e}")))?;
            tracing::debug!(pid = child.id(), "worker process started");
            let stdin = child.stdin.take().expect("piped");
            let stdout = child.stdout.take().expect("piped");
            set_nonblocking(&stdout)
                .map_err(|e| Failure::Io(format!("cannot set up a worker's pipe: {e}")))?;
            self.running = Some(Running {
                child,
                stdin,
                stdout,
                unread: Vec::new(),
            });
        }
        Ok(self.running.as_mut().expect("just started"))
    }

    /// Ends the worker and says how it ended.
    fn reap(&mut self, kill: bool) -> String {
        let Some(mut r) = self.running.take() else {
            return "not running".into();
        };
        if kill {
            let _ = r.child.kill();
        }
        match r.child.wait() {
            Ok(s) => match s.signal() {
                Some(sig) => signal_name(sig),
                None => format!("exit status {}", s.code().unwrap_or(-1)),
            },
            Err(e) => e.to_string(),
        }
    }

    /// Sends one request and waits for its answer, within the time limit. `cancel` ends the
    /// wait early (shutdown).
    pub fn run(
        &mut self,
        req: &Request,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Response, Failure> {
        let answer = self.ask(req, cancel);
        self.last_used = Instant::now();
        answer
    }

    fn ask(
        &mut self,
        req: &Request,
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Response, Failure> {
        let timeout = self.timeout;
        let r = self.start()?;
        let line = serde_json::to_string(req).map_err(|e| Failure::Io(e.to_string()))?;
        if writeln!(r.stdin, "{line}")
            .and_then(|_| r.stdin.flush())
            .is_err()
        {
            let how = self.reap(true);
            return Err(Failure::Crashed(how));
        }
        let started = Instant::now();
        let mut limit = timeout;
        let mut chunk = vec![0u8; 1 << 16];
        loop {
            // Every whole line already read first.
            while let Some(end) = r.unread.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = r.unread.drain(..=end).collect();
                match serde_json::from_slice(&line) {
                    // Long recordings get time in proportion to their length.
                    Ok(Response::Decoded { media_seconds }) => {
                        let extra = media_seconds.min(MAX_MEDIA_SECONDS) * TIME_PER_MEDIA_SECOND;
                        limit = timeout + Duration::from_secs_f64(extra);
                    }
                    Ok(response) => return Ok(response),
                    Err(e) => {
                        self.reap(true);
                        return Err(Failure::Io(format!("bad answer from worker: {e}")));
                    }
                }
            }
            let elapsed = started.elapsed();
            if elapsed >= limit {
                self.reap(true);
                return Err(Failure::TimedOut(limit.as_secs()));
            }
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                self.reap(true);
                return Err(Failure::Io("shutting down".into()));
            }
            if r.unread.len() > MAX_ANSWER_BYTES {
                self.reap(true);
                return Err(Failure::Io("the worker's answer is too long".into()));
            }
            // Wait on the pipe at most a second at a time, and never past the limit.
            let wait = (limit - elapsed).min(Duration::from_secs(1));
            if !poll_readable(&r.stdout, wait.max(Duration::from_millis(1))) {
                continue;
            }
            match r.stdout.read(&mut chunk) {
                Ok(0) => {
                    let how = self.reap(false);
                    return Err(Failure::Crashed(how));
                }
                Ok(n) => r.unread.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => {
                    let how = self.reap(true);
                    return Err(Failure::Crashed(how));
                }
            }
        }
    }
}

fn set_nonblocking(fd: impl AsFd) -> std::io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

fn poll_readable(fd: impl AsFd, wait: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let timeout = Timespec {
        tv_sec: wait.as_secs() as i64,
        tv_nsec: wait.subsec_nanos() as i64,
    };
    rustix::event::poll(&mut [PollFd::new(&fd, PollFlags::IN)], Some(&timeout)).is_ok_and(|n| n > 0)
}
