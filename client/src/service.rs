//! `vx service install|uninstall|status|restart`: vxd as a login service, a systemd user unit
//! on Linux and a launchd agent on macOS. The files come from `launchd/` in the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const UNIT: &str = include_str!("../../launchd/vxd.service");
const PLIST: &str = include_str!("../../launchd/com.vx.vxd.plist");
pub const LABEL: &str = "com.vx.vxd";
pub const UNIT_NAME: &str = "vxd.service";

/// Variables that locate vx's files; carried into the service when set at install time.
const CARRIED_ENV: &[&str] = &[
    "VX_DATA_DIR",
    "VX_SOCKET",
    "VX_CONFIG",
    "VX_MODELS_DIR",
    "ORT_DYLIB_PATH",
    "VX_CACHE_DIR",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Manager {
    Systemd,
    Launchd,
}

impl Manager {
    pub fn for_platform() -> Manager {
        if cfg!(target_os = "macos") {
            Manager::Launchd
        } else {
            Manager::Systemd
        }
    }

    fn tool(self) -> &'static str {
        match self {
            Manager::Systemd => "systemctl",
            Manager::Launchd => "launchctl",
        }
    }

    /// Where the service file goes, under the user's HOME.
    pub fn file(self) -> Result<PathBuf> {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .context("HOME is not set")?;
        Ok(match self {
            Manager::Systemd => std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".config"))
                .join("systemd/user")
                .join(UNIT_NAME),
            Manager::Launchd => home
                .join("Library/LaunchAgents")
                .join(format!("{LABEL}.plist")),
        })
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn carried_env() -> Vec<(&'static str, String)> {
    CARRIED_ENV
        .iter()
        .filter_map(|k| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| (*k, v))
        })
        .collect()
}

/// The service file's text for `vxd` at this path.
pub fn render(manager: Manager, vxd: &Path) -> String {
    let data_dir = crate::paths::data_dir();
    let env = carried_env();
    match manager {
        Manager::Systemd => {
            let lines: String = env
                .iter()
                .map(|(k, v)| format!("Environment=\"{k}={v}\"\n"))
                .collect();
            UNIT.replace("@VXD@", &vxd.to_string_lossy())
                .replace("[Service]\n", &format!("[Service]\n{lines}"))
        }
        Manager::Launchd => {
            let mut out = PLIST
                .replace("@VXD@", &xml_escape(&vxd.to_string_lossy()))
                .replace("@DATA_DIR@", &xml_escape(&data_dir.to_string_lossy()));
            if !env.is_empty() {
                let dict: String = env
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "        <key>{k}</key>\n        <string>{}</string>\n",
                            xml_escape(v)
                        )
                    })
                    .collect();
                out = out.replace(
                    "    <key>RunAtLoad</key>",
                    &format!("    <key>EnvironmentVariables</key>\n    <dict>\n{dict}    </dict>\n    <key>RunAtLoad</key>"),
                );
            }
            out
        }
    }
}

fn run(tool: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {tool}"))?;
    if !out.status.success() {
        bail!(
            "`{tool} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tool_present(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
        || Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
}

fn by_hand() -> String {
    "run the daemon by hand instead: `vx daemon start` (or `vxd` in a terminal)".to_string()
}

fn uid() -> u32 {
    rustix::process::getuid().as_raw()
}

fn gui_domain() -> String {
    format!("gui/{}", uid())
}

pub fn install(start: bool) -> Result<ExitCode> {
    let manager = Manager::for_platform();
    if !tool_present(manager.tool()) {
        bail!(
            "{} is not available on this system; {}",
            manager.tool(),
            by_hand()
        );
    }
    let vxd = crate::daemon_ctl::vxd_path();
    let vxd = std::fs::canonicalize(&vxd).with_context(|| {
        format!(
            "cannot find vxd ({}); install vx with vxd beside it",
            vxd.display()
        )
    })?;
    let file = manager.file()?;
    std::fs::create_dir_all(file.parent().expect("service file has a folder"))
        .with_context(|| format!("cannot create {}", file.parent().unwrap().display()))?;
    std::fs::create_dir_all(crate::paths::data_dir().join("logs"))?;
    std::fs::write(&file, render(manager, &vxd))
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!("wrote {}", file.display());
    if !start {
        println!("not started (--no-start)");
        return Ok(ExitCode::SUCCESS);
    }
    let result = match manager {
        Manager::Systemd => run("systemctl", &["--user", "daemon-reload"])
            .and_then(|_| run("systemctl", &["--user", "enable", "--now", UNIT_NAME])),
        Manager::Launchd => {
            let _ = run(
                "launchctl",
                &["bootout", &format!("{}/{LABEL}", gui_domain())],
            );
            run(
                "launchctl",
                &["bootstrap", &gui_domain(), &file.to_string_lossy()],
            )
        }
    };
    match result {
        Ok(_) => {
            println!(
                "vxd is installed as a login service and running; `vx service status` shows it"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "vx: the service file is written but the service manager refused to start it: {e:#}"
            );
            eprintln!("    (no user session bus? log in again, or {})", by_hand());
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn uninstall(stop: bool) -> Result<ExitCode> {
    let manager = Manager::for_platform();
    let file = manager.file()?;
    if stop && tool_present(manager.tool()) {
        let _ = match manager {
            Manager::Systemd => run("systemctl", &["--user", "disable", "--now", UNIT_NAME]),
            Manager::Launchd => run(
                "launchctl",
                &["bootout", &format!("{}/{LABEL}", gui_domain())],
            ),
        };
    }
    match std::fs::remove_file(&file) {
        Ok(()) => println!("removed {}", file.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("no service installed ({} does not exist)", file.display())
        }
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", file.display())),
    }
    if manager == Manager::Systemd && stop && tool_present("systemctl") {
        let _ = run("systemctl", &["--user", "daemon-reload"]);
    }
    Ok(ExitCode::SUCCESS)
}

/// (installed, state in words).
pub fn state() -> (bool, String) {
    let manager = Manager::for_platform();
    let installed = manager.file().map(|f| f.is_file()).unwrap_or(false);
    if !installed {
        return (false, "not installed (`vx service install`)".into());
    }
    let state = match manager {
        Manager::Systemd => Command::new("systemctl")
            .args(["--user", "is-active", UNIT_NAME])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})")),
        Manager::Launchd => match run(
            "launchctl",
            &["print", &format!("{}/{LABEL}", gui_domain())],
        ) {
            Ok(out) => out
                .lines()
                .find_map(|l| l.trim().strip_prefix("state = "))
                .unwrap_or("loaded")
                .to_string(),
            Err(_) => "not loaded".into(),
        },
    };
    (
        true,
        if state.is_empty() {
            "unknown".into()
        } else {
            state
        },
    )
}

pub fn status() -> Result<ExitCode> {
    let (installed, state) = state();
    let file = Manager::for_platform().file()?;
    if installed {
        println!("service file {}: {state}", file.display());
    } else {
        println!("{state}");
    }
    Ok(if installed && (state == "active" || state == "running") {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

pub fn restart() -> Result<ExitCode> {
    let manager = Manager::for_platform();
    if !manager.file()?.is_file() {
        bail!("no service installed; `vx service install` first");
    }
    match manager {
        Manager::Systemd => run("systemctl", &["--user", "restart", UNIT_NAME])?,
        Manager::Launchd => run(
            "launchctl",
            &["kickstart", "-k", &format!("{}/{LABEL}", gui_domain())],
        )?,
    };
    println!("vxd restarted");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launchd_plist_parses_with_the_right_keys() {
        let text = render(Manager::Launchd, Path::new("/opt/vx & co/bin/vxd"));
        let v: plist::Value = plist::from_bytes(text.as_bytes()).expect("a property list");
        let d = v.as_dictionary().unwrap();
        assert_eq!(d["Label"].as_string(), Some(LABEL));
        let args = d["ProgramArguments"].as_array().unwrap();
        assert_eq!(args[0].as_string(), Some("/opt/vx & co/bin/vxd"));
        assert_eq!(
            d["KeepAlive"].as_dictionary().unwrap()["SuccessfulExit"].as_boolean(),
            Some(false)
        );
        assert_eq!(d["ProcessType"].as_string(), Some("Background"));
        assert_eq!(d["LowPriorityIO"].as_boolean(), Some(true));
        assert_eq!(d["Nice"].as_signed_integer(), Some(10));
        assert!(
            d["StandardErrorPath"]
                .as_string()
                .unwrap()
                .ends_with("/logs/launchd.err.log")
        );
        assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
    }

    #[test]
    fn systemd_unit_has_the_right_settings() {
        let text = render(Manager::Systemd, Path::new("/usr/local/bin/vxd"));
        for line in [
            "ExecStart=/usr/local/bin/vxd",
            "Restart=on-failure",
            "Nice=10",
            "IOSchedulingClass=idle",
            "CPUWeight=20",
            "WantedBy=default.target",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains('@'), "a placeholder was left: {text}");
    }
}
