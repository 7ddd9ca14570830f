//! Crash soak: vxd killed with SIGKILL, and separately one of its worker processes, at seeded
//! random moments while pictures, recordings and videos are indexed. Afterwards every file is
//! settled once, none lost or listed twice, SQLite's integrity check passes and the text index
//! opens and answers.
//!
//! VX_CRASH_KILLS (default 10) and VX_CRASH_SEED (default 1) set the run;
//! scripts/soak-crash.sh runs 200 kills.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use crate::support::*;

/// The worker processes of the process `pid` (its children).
fn children(pid: u32) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            // /proc/PID/stat: "pid (comm) state ppid ...", comm may hold spaces.
            fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

#[test]
fn kills_of_the_daemon_and_its_workers_lose_nothing() {
    let kills = env_or("VX_CRASH_KILLS", 10);
    let mut rng = Rng(env_or("VX_CRASH_SEED", 1));
    let mut d = Daemon::new();
    d.start();
    let tmp = d.dir.path().to_path_buf();
    make_image(&tmp.join("p.png"));
    make_video(&tmp.join("v.mp4"));
    make_tone(&tmp.join("a.wav"), 3);
    // Distinct contents of each kind: bytes appended after the media, which decoders ignore.
    let sources: Vec<(Vec<u8>, &str)> = [("p.png", "png"), ("v.mp4", "mp4"), ("a.wav", "wav")]
        .into_iter()
        .map(|(src, ext)| (fs::read(tmp.join(src)).unwrap(), ext))
        .collect();
    let mut expected = BTreeSet::new();
    let mut serial = 0;
    let media = d.media.clone();
    // A batch: 24 pictures, 4 videos, 4 recordings.
    let mut add_batch = |expected: &mut BTreeSet<PathBuf>| {
        for (bytes, ext) in &sources {
            for _ in 0..if *ext == "png" { 24 } else { 4 } {
                serial += 1;
                let mut b = bytes.clone();
                b.extend_from_slice(format!("crash {serial}").as_bytes());
                let p = media.join(format!("{ext}-{serial:05}.{ext}"));
                fs::write(&p, b).unwrap();
                expected.insert(p);
            }
        }
    };
    for _ in 0..10 {
        add_batch(&mut expected);
    }
    d.add_media_root();
    let (mut daemon_kills, mut worker_kills) = (0, 0);
    for k in 0..kills {
        // Every kill lands while files are being indexed.
        if d.count("pending") == 0 {
            add_batch(&mut expected);
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(600) as u64));
        if k % 2 == 0 {
            d.kill9();
            d.start();
            daemon_kills += 1;
        } else {
            let pid = d.child.as_ref().unwrap().id();
            if let Some(&worker) = rng.pick(&children(pid)) {
                if let Some(worker) = rustix::process::Pid::from_raw(worker) {
                    let _ = rustix::process::kill_process(worker, rustix::process::Signal::KILL);
                }
                worker_kills += 1;
            }
        }
    }
    d.ok(&["wait", "--timeout", "300"]);
    let status = d.status();
    // A file whose worker was killed is retried; two kills on one file fail it, saying so.
    let failed = status["files"]["failed"].as_u64().unwrap();
    assert!(failed * 2 <= worker_kills, "{failed} failed: {status}");
    assert_eq!(
        status["files"]["indexed"].as_u64().unwrap() + failed,
        expected.len() as u64,
        "{status}"
    );
    assert_eq!(status["files"]["pending"], 0, "{status}");
    // Search lists each indexed file once.
    let listed = d.search(&["--limit", "100000"]);
    let unique: BTreeSet<PathBuf> = listed.iter().map(PathBuf::from).collect();
    assert_eq!(listed.len(), unique.len(), "a file listed twice");
    assert_eq!(unique.len() as u64 + failed, expected.len() as u64);
    assert!(unique.is_subset(&expected));
    d.stop();
    let db = d.sound_db();
    let dup: i64 = db
        .query_row(
            "SELECT count(*) - count(DISTINCT path) FROM files",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dup, 0);
    eprintln!(
        "crash: {daemon_kills} daemon and {worker_kills} worker kills; {} files, {} indexed, \
         {failed} failed by two kills",
        expected.len(),
        unique.len()
    );
}
