//! A real vxd on temporary directories and socket, driven by the real vx.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn bin(name: &str) -> PathBuf {
    // target/<profile>/deps/e2e-HASH -> target/<profile>/<name>
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} not found: build it first (`cargo build --workspace`, as scripts/test.sh does)",
        path.display()
    );
    path
}

pub fn ffmpeg(args: &[&str]) {
    let ok = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y"])
        .args(args)
        .status()
        .expect("the ffmpeg CLI (scripts/setup.sh installs it)")
        .success();
    assert!(ok, "ffmpeg {args:?}");
}

/// A 3 s 320x240 video with a keyframe every second.
pub fn make_video(path: &Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-t",
        "3",
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
}

pub fn make_image(path: &Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=200x150",
        "-frames:v",
        "1",
        path.to_str().unwrap(),
    ]);
}

pub fn make_audio(path: &Path) {
    make_tone(path, 2);
}

/// `secs` seconds of a 440 Hz tone.
pub fn make_tone(path: &Path, secs: u32) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-t",
        &secs.to_string(),
        path.to_str().unwrap(),
    ]);
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub media: PathBuf,
    pub data: PathBuf,
    pub socket: PathBuf,
    /// More environment for vxd and vx, set before `start`.
    pub extra_env: Vec<(String, String)>,
    pub child: Option<Child>,
}

impl Daemon {
    /// Directories only; call `start`.
    pub fn new() -> Daemon {
        let dir = tempfile::Builder::new().prefix("vx-e2e").tempdir().unwrap();
        let media = dir.path().join("media");
        std::fs::create_dir(&media).unwrap();
        Daemon {
            data: dir.path().join("data"),
            socket: dir.path().join("run").join("vxd.sock"),
            media,
            dir,
            extra_env: Vec::new(),
            child: None,
        }
    }

    /// As `new`, with more environment for vxd and vx.
    pub fn with_env(env: &[(&str, &str)]) -> Daemon {
        let mut d = Daemon::new();
        d.extra_env
            .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        d
    }

    /// As `new`, with the models in `models`.
    pub fn with_models(models: &Path) -> Daemon {
        Daemon::with_env(&[("VX_MODELS_DIR", &models.to_string_lossy())])
    }

    pub fn started() -> Daemon {
        let mut d = Daemon::new();
        d.start();
        d
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("VX_DATA_DIR", &self.data)
            .env("VX_SOCKET", &self.socket)
            .env("VX_CONFIG", self.dir.path().join("config.toml"))
            .env("VX_DEBOUNCE_MS", "100")
            .env("VX_ROOT_CHECK_SECS", "1")
            .env("VX_LOG", "debug,tantivy=info")
            .env("VX_WORKERS", "2")
            .env("VX_MIN_FREE_DISK_MB", "0")
            .env("VX_PAUSE_ON_BATTERY", "false")
            .env_remove("VX_ROOTS")
            .env_remove("VX_MODELS_DIR");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    pub fn spawn_vxd(&self) -> Child {
        let mut cmd = Command::new(bin("vxd"));
        self.env(&mut cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("vxd.stderr")).unwrap());
        cmd.spawn().unwrap()
    }

    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already started");
        self.child = Some(self.spawn_vxd());
        let started = Instant::now();
        while !self.vx(&["daemon", "status"]).status.success() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("vxd exited at start ({status}): {}", self.stderr());
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "vxd did not answer: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vxd.stderr")).unwrap_or_default()
    }

    /// SIGTERM and wait; returns how long the shutdown took.
    pub fn stop(&mut self) -> Duration {
        let mut child = self.child.take().expect("running");
        let t = Instant::now();
        let pid = rustix::process::Pid::from_child(&child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "vxd exit status {status}: {}",
            self.stderr()
        );
        t.elapsed()
    }

    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn vx(&self, args: &[&str]) -> Output {
        self.vx_command(args).output().unwrap()
    }

    /// `vx args` with this daemon's environment, to run as the caller wishes.
    pub fn vx_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("vx"));
        self.env(&mut cmd);
        cmd.args(args);
        cmd
    }

    /// Runs vx and returns stdout, failing the test when it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.vx(args);
        assert!(
            out.status.success(),
            "vx {args:?} failed: {}{}\n--- vxd stderr (tail) ---\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.stderr(), 40)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    pub fn add_media_root(&self) {
        self.ok(&["add", self.media.to_str().unwrap()]);
    }

    /// Waits for the queue to drain. Generous: on 2 cores the whole suite runs side by side, and
    /// a test that restarts workers pays each one's model loading again.
    pub fn wait_idle(&self) {
        self.ok(&["wait", "--timeout", "180"]);
    }

    /// Paths of search results.
    pub fn search(&self, args: &[&str]) -> Vec<String> {
        let mut a = vec!["search"];
        a.extend_from_slice(args);
        self.json(&a)["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["path"].as_str().unwrap().to_string())
            .collect()
    }

    /// Polls until `f` holds, for at most `secs`.
    pub fn eventually(&self, secs: u64, what: &str, mut f: impl FnMut() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "not within {secs} s: {what}\n{}",
                tail(&self.stderr(), 40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn status(&self) -> Value {
        self.json(&["status"])
    }

    pub fn count(&self, state: &str) -> u64 {
        self.status()["files"][state].as_u64().unwrap()
    }

    pub fn metadata_runs(&self) -> u64 {
        self.status()["extractors"][0]["done"].as_u64().unwrap()
    }

    pub fn show(&self, path: &Path) -> Value {
        self.json(&["show", path.to_str().unwrap()])
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.join("catalogue.sqlite3")).unwrap()
    }

    /// The catalogue, after SQLite's integrity check has passed on it.
    pub fn sound_db(&self) -> rusqlite::Connection {
        let db = self.db();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        db
    }
}

/// Every regular file and every folder under `root` (the root itself excluded).
pub fn walk(root: &Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    dirs.push(p.clone());
                    todo.push(p);
                }
                Ok(t) if t.is_file() => files.push(p),
                _ => {}
            }
        }
    }
    (files, dirs)
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What the model tests need from outside the repository (see vx_testkit).
pub struct Pack {
    /// The model pack, or a store built from packages.
    pub models: PathBuf,
    /// The sample media of ../shared/media/README.md.
    pub media: PathBuf,
}

/// The model pack and the sample media, or None after a skip the caller asked for; without
/// them, the test fails saying what is missing.
pub fn pack() -> Option<Pack> {
    Some(Pack {
        models: vx_testkit::models_dir()?,
        media: vx_testkit::media_dir()?,
    })
}

/// [`pack`] when its models include `model`, which a store built from packages may lack (the
/// gap is then logged by name).
pub fn pack_with(model: &str) -> Option<Pack> {
    let pack = pack()?;
    vx_testkit::model(model)?;
    Some(pack)
}

/// A silent H.264 video showing each of `pictures` for `secs` seconds in turn, each through
/// the filter `scale` (it must give them all one size), at 25 fps with a keyframe every second.
pub fn slideshow(out: &Path, pictures: &[&Path], secs: u32, scale: &str) {
    let secs = secs.to_string();
    let mut args: Vec<String> = Vec::new();
    for p in pictures {
        let input = ["-loop", "1", "-t", &secs, "-i", p.to_str().unwrap()];
        args.extend(input.map(String::from));
    }
    let scaled: String = (0..pictures.len())
        .map(|i| format!("[{i}]{scale}[p{i}];"))
        .collect();
    let chain: String = (0..pictures.len()).map(|i| format!("[p{i}]")).collect();
    let graph = format!("{scaled}{chain}concat=n={}:v=1[v]", pictures.len());
    args.extend(["-filter_complex", &graph].map(String::from));
    let rest = ["-map", "[v]", "-r", "25", "-g", "25", "-pix_fmt", "yuv420p"];
    args.extend(rest.map(String::from));
    args.push(out.to_str().unwrap().to_string());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The segments of `vx show --json`'s output from one source ("transcript", "sound").
pub fn segments<'a>(shown: &'a Value, source: &str) -> Vec<&'a Value> {
    shown["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == source)
        .collect()
}

/// splitmix64: a seeded sequence, the same for the same seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        (!v.is_empty()).then(|| &v[self.below(v.len())])
    }
}

/// A number from the environment, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `parts` (files, or "silence:SECS") one after another as a 16 kHz mono WAV.
pub fn concat(out: &Path, parts: &[&str]) {
    let mut args: Vec<String> = Vec::new();
    for p in parts {
        match p.strip_prefix("silence:") {
            Some(secs) => args.extend([
                "-f".into(),
                "lavfi".into(),
                "-i".into(),
                format!("anullsrc=r=16000:cl=mono:d={secs}"),
            ]),
            None => args.extend(["-i".into(), p.to_string()]),
        }
    }
    let inputs: String = (0..parts.len())
        .map(|i| format!("[{i}]aresample=16000,aformat=channel_layouts=mono[a{i}];"))
        .collect();
    let chain: String = (0..parts.len()).map(|i| format!("[a{i}]")).collect();
    args.extend([
        "-filter_complex".into(),
        format!("{inputs}{chain}concat=n={}:v=0:a=1[a]", parts.len()),
        "-map".into(),
        "[a]".into(),
        out.to_str().unwrap().into(),
    ]);
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
}
