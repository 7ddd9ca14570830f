//! Service files under a temporary HOME, `vx doctor`, and pausing for battery and disk.

use std::path::Path;
use std::process::Command;

use crate::support::*;

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(
                    e.path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

#[test]
fn service_install_and_uninstall_write_and_remove_exactly_the_unit() {
    let d = Daemon::new();
    let home = d.dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let vx = |args: &[&str]| {
        Command::new(bin("vx"))
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .env("VX_DATA_DIR", &d.data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = vx(&["service", "install", "--no-start"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files_under(&home), vec![".config/systemd/user/vxd.service"]);
    let unit_path = home.join(".config/systemd/user/vxd.service");
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let vxd = std::fs::canonicalize(bin("vxd")).unwrap();
    assert!(
        unit.contains(&format!("ExecStart={}", vxd.display())),
        "{unit}"
    );
    assert!(
        unit.contains(&format!("Environment=\"VX_DATA_DIR={}\"", d.data.display())),
        "{unit}"
    );
    match Command::new("systemd-analyze")
        .args(["verify"])
        .arg(&unit_path)
        .output()
    {
        Ok(v) => assert!(
            v.status.success(),
            "systemd-analyze verify: {}",
            String::from_utf8_lossy(&v.stderr)
        ),
        Err(_) => eprintln!(
            "systemd-analyze not installed: the unit's keys were checked by the client's unit test only"
        ),
    }
    assert_eq!(
        vx(&["service", "status"]).status.code(),
        Some(3),
        "installed but not running"
    );
    let out = vx(&["service", "uninstall", "--no-stop"]);
    assert!(out.status.success());
    assert!(files_under(&home).is_empty());
    assert!(String::from_utf8_lossy(&vx(&["service", "status"]).stdout).contains("not installed"));
}

#[test]
fn doctor_reports_each_check_with_a_fix() {
    let Some(pack) = vx_testkit::models_dir() else {
        return;
    };
    let mut d = Daemon::new();
    d.extra_env
        .push(("VX_MODELS_DIR".into(), pack.to_string_lossy().into_owned()));
    let doctor = |d: &Daemon| -> serde_json::Value {
        serde_json::from_slice(&d.vx(&["doctor", "--json"]).stdout).unwrap()
    };
    let report = doctor(&d);
    let find = |r: &serde_json::Value, name: &str| -> Vec<serde_json::Value> {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["check"] == name)
            .cloned()
            .collect()
    };
    assert_eq!(find(&report, "daemon")[0]["status"], "fail");
    assert!(
        find(&report, "daemon")[0]["fix"]
            .as_str()
            .unwrap()
            .contains("vx daemon start")
    );
    assert_eq!(find(&report, "onnxruntime")[0]["status"], "ok", "{report}");
    d.start();
    d.add_media_root();
    let report = doctor(&d);
    assert_eq!(find(&report, "daemon")[0]["status"], "ok");
    assert_eq!(find(&report, "socket")[0]["status"], "ok");
    assert!(
        find(&report, "inotify")[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("1 folders")
    );
    // Every model is there, but for those a store built from packages cannot have yet.
    for m in find(&report, "model") {
        let name = m["detail"].as_str().unwrap().split(' ').next().unwrap();
        let gap = m["status"] == "warn" && vx_testkit::package_gap(name);
        assert!(m["status"] == "ok" || gap, "{m}");
    }
    // A socket others could open is a failure with a fix.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = d.vx(&["doctor"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL  socket") && text.contains("fix:"),
        "{text}"
    );
}

#[test]
fn battery_pauses_indexing_until_mains_returns() {
    let mut d = Daemon::new();
    let power = d.dir.path().join("power");
    let supply = |name: &str, kv: &[(&str, &str)]| {
        std::fs::create_dir_all(power.join(name)).unwrap();
        for (k, v) in kv {
            std::fs::write(power.join(name).join(k), v).unwrap();
        }
    };
    supply("BAT0", &[("type", "Battery"), ("status", "Discharging")]);
    supply("AC", &[("type", "Mains"), ("online", "0")]);
    d.extra_env.push((
        "VX_POWER_SUPPLY_DIR".into(),
        power.to_string_lossy().into_owned(),
    ));
    d.extra_env
        .push(("VX_PAUSE_ON_BATTERY".into(), "true".into()));
    d.start();
    make_image(&d.media.join("on_battery.png"));
    d.add_media_root();
    d.eventually(5, "paused for battery", || {
        d.status()["pause_reason"]
            .as_str()
            .is_some_and(|r| r.contains("battery"))
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(d.count("pending"), 1, "nothing indexed on battery");
    assert!(d.ok(&["status"]).contains("on battery power"));
    supply("AC", &[("type", "Mains"), ("online", "1")]);
    d.eventually(10, "resumed on mains", || d.count("indexed") == 1);
    assert_eq!(d.status()["paused"], false);
}

#[test]
fn low_disk_pauses_indexing() {
    let mut d = Daemon::new();
    d.extra_env
        .push(("VX_MIN_FREE_DISK_MB".into(), "999999999".into()));
    d.start();
    d.eventually(5, "paused for disk", || {
        d.status()["pause_reason"]
            .as_str()
            .is_some_and(|r| r.contains("min_free_disk_mb"))
    });
}
