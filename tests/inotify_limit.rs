//! When inotify watches run out, the root falls back to periodic rescans and says how to raise
//! the limit. Needs root (to lower the limit for a moment); says so and skips otherwise.

#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::fs;

use support::*;

const LIMIT: &str = "/proc/sys/fs/inotify/max_user_watches";

/// Restores the limit even if the test fails.
struct Restore(String);
impl Drop for Restore {
    fn drop(&mut self) {
        let _ = fs::write(LIMIT, &self.0);
    }
}

#[test]
fn out_of_watches_falls_back_to_polling_with_a_hint() {
    let Ok(original) = fs::read_to_string(LIMIT) else {
        return vx_testkit::cannot_run(format!("{LIMIT} is not readable (not Linux?)"));
    };
    if !rustix::process::geteuid().is_root() {
        return vx_testkit::cannot_run(format!("lowering {LIMIT} needs root"));
    }
    let mut d = Daemon::new();
    d.extra_env
        .push(("VX_POLL_INTERVAL_SECS".into(), "1".into()));
    d.start();
    for i in 0..5 {
        fs::create_dir_all(d.media.join(format!("album{i}"))).unwrap();
    }
    make_image(&d.media.join("album0/first.png"));
    let restore = Restore(original);
    fs::write(LIMIT, "1").unwrap();
    d.add_media_root();
    d.eventually(10, "root falls back to polling", || {
        d.json(&["roots"])["roots"][0]["state"] == "polling"
    });
    drop(restore);
    let roots = d.json(&["roots"]);
    let msg = roots["roots"][0]["message"].as_str().unwrap();
    assert!(msg.contains("fs.inotify.max_user_watches"), "{msg}");
    assert!(msg.ends_with("rescanned periodically (every 1 s)"), "{msg}");
    d.wait_idle();
    assert_eq!(d.search(&["first"]).len(), 1);
    // Without notifications, a periodic rescan still finds new files.
    make_image(&d.media.join("album3/later.png"));
    d.eventually(15, "new file found by polling", || {
        d.search(&["later"]).len() == 1
    });
}
