//! Being a good citizen on a laptop: pause indexing on battery (unless configured otherwise)
//! and when the data dir's disk runs low; resume by itself when that passes.

use std::path::{Path, PathBuf};

/// Why indexing should pause now, if it should.
pub fn pause_reason(pause_on_battery: bool, data_dir: &Path, min_free_mb: u64) -> Option<String> {
    if pause_on_battery && on_battery() {
        return Some("on battery power; indexing resumes on mains power (set pause_on_battery = false to index anyway)".into());
    }
    match free_mb(data_dir) {
        Some(free) if free < min_free_mb => Some(format!(
            "only {free} MB free on the data dir's disk (below min_free_disk_mb = {min_free_mb}); indexing resumes when space is freed"
        )),
        _ => None,
    }
}

/// Whether the data folder takes writes again: a 1 MiB file written, synced and removed.
pub fn can_write(data_dir: &Path) -> bool {
    use std::io::Write;
    let probe = data_dir.join(".write-probe");
    let ok = std::fs::File::create(&probe)
        .and_then(|mut f| {
            f.write_all(&vec![0u8; 1 << 20])?;
            f.sync_all()
        })
        .is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

fn free_mb(path: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some(s.f_bavail * s.f_frsize / (1 << 20))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The power-supply class folder (VX_POWER_SUPPLY_DIR replaces it, for tests).
fn power_supply_dir() -> PathBuf {
    std::env::var_os("VX_POWER_SUPPLY_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/sys/class/power_supply"))
}

/// On battery: no mains adapter online and a battery discharging. Machines without a battery
/// (desktops, servers) are never on battery.
pub fn on_battery() -> bool {
    if cfg!(target_os = "macos") {
        return std::process::Command::new("pmset")
            .args(["-g", "batt"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("'Battery Power'"))
            .unwrap_or(false);
    }
    linux_on_battery(&power_supply_dir())
}

pub fn linux_on_battery(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut discharging = false;
    for e in entries.flatten() {
        let p = e.path();
        match read(&p.join("type")).as_str() {
            "Mains" | "USB" if read(&p.join("online")) == "1" => return false,
            "Battery" if read(&p.join("status")) == "Discharging" => discharging = true,
            _ => {}
        }
    }
    discharging
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supply(dir: &Path, name: &str, files: &[(&str, &str)]) {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (f, v) in files {
            std::fs::write(d.join(f), format!("{v}\n")).unwrap();
        }
    }

    #[test]
    fn battery_is_read_from_sysfs() {
        let t = tempfile::tempdir().unwrap();
        assert!(!linux_on_battery(t.path()), "no supplies: a desktop");
        supply(
            t.path(),
            "BAT0",
            &[("type", "Battery"), ("status", "Discharging")],
        );
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "0")]);
        assert!(linux_on_battery(t.path()));
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "1")]);
        assert!(!linux_on_battery(t.path()));
        supply(t.path(), "AC", &[("type", "Mains"), ("online", "0")]);
        supply(t.path(), "BAT0", &[("type", "Battery"), ("status", "Full")]);
        assert!(!linux_on_battery(t.path()));
    }

    #[test]
    fn low_disk_pauses() {
        let t = tempfile::tempdir().unwrap();
        assert!(pause_reason(false, t.path(), 0).is_none());
        let why = pause_reason(false, t.path(), u64::MAX).unwrap();
        assert!(why.contains("min_free_disk_mb"), "{why}");
    }
}
