//! `vx search --open N`: a result in the system's player or viewer, at its moment when the
//! player can start there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use vx_client::dates::clock;

/// The first of `names` on PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The command that shows `path` from second `at`: mpv or VLC start there; the desktop's
/// opener (xdg-open, macOS's open) cannot be told a time.
fn command(path: &Path, at: Option<f64>) -> Option<(Command, bool)> {
    if let Some(at) = at.filter(|&t| t > 0.0) {
        if let Some(mpv) = on_path(&["mpv"]) {
            let mut c = Command::new(mpv);
            c.arg(format!("--start={at:.2}")).arg("--").arg(path);
            return Some((c, true));
        }
        if let Some(vlc) = on_path(&["vlc"]) {
            let mut c = Command::new(vlc);
            c.arg(format!("--start-time={at:.2}")).arg(path);
            return Some((c, true));
        }
    }
    let mut c = Command::new(on_path(&[DESKTOP_OPENER])?);
    c.arg(path);
    Some((c, at.is_none_or(|t| t <= 0.0)))
}

/// What opens a file or an address as the desktop would.
const DESKTOP_OPENER: &str = if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

/// Opens an address in the desktop's browser (it runs on after vx exits).
pub fn in_browser(url: &str) -> Result<()> {
    let opener = on_path(&[DESKTOP_OPENER])
        .with_context(|| format!("no {DESKTOP_OPENER} here: open the address in a browser"))?;
    start(Command::new(opener).arg(url))
}

/// Starts `cmd` on its own, its output nowhere.
fn start(cmd: &mut Command) -> Result<()> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {:?}", cmd.get_program()))?;
    Ok(())
}

/// Starts the viewer (it runs on after vx exits) and says what it did.
pub fn open(path: &Path, at: Option<f64>) -> Result<String> {
    let Some((mut cmd, at_moment)) = command(path, at) else {
        anyhow::bail!(
            "nothing here opens files (no mpv, vlc or xdg-open on PATH): open {} yourself",
            path.display()
        );
    };
    start(&mut cmd)?;
    let shown = path.display();
    Ok(match at {
        Some(t) if t > 0.0 && at_moment => format!("opened {shown} at {}", clock(t)),
        Some(t) if t > 0.0 => format!(
            "opened {shown} from the start (the moment is at {}; with mpv or VLC installed, \
             --open starts there)",
            clock(t)
        ),
        _ => format!("opened {shown}"),
    })
}
