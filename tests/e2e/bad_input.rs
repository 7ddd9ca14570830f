//! Bad input gets a recorded state and a message, never a crash or a retry storm.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use crate::support::*;

#[test]
fn corrupt_truncated_empty_and_non_media_files() {
    let d = Daemon::started();
    make_video(&d.dir.path().join("whole.mp4"));
    let whole = fs::read(d.dir.path().join("whole.mp4")).unwrap();
    fs::write(d.media.join("truncated.mp4"), &whole[..whole.len() / 3]).unwrap();
    fs::write(
        d.media.join("random.jpg"),
        (0..8192u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(d.media.join("empty.mp3"), b"").unwrap();
    fs::write(d.media.join("notes.txt"), b"shopping list").unwrap();
    let mut raw = b"II*\0\x08\0\0\0".to_vec();
    raw.resize(4096, 0);
    fs::write(d.media.join("DSC_0001.NEF"), raw).unwrap();
    make_image(&d.media.join("good.png"));
    d.add_media_root();
    d.wait_idle();
    let state = |n: &str| d.show(&d.media.join(n));
    for bad in ["truncated.mp4", "random.jpg"] {
        let s = state(bad);
        assert_eq!(s["state"], "failed", "{bad}: {s}");
        assert!(s["message"].as_str().unwrap().contains("corrupt"), "{s}");
    }
    assert_eq!(state("empty.mp3")["message"], "empty file");
    assert_eq!(state("empty.mp3")["state"], "skipped");
    let notes = state("notes.txt");
    assert_eq!(notes["state"], "skipped");
    assert!(
        notes["message"]
            .as_str()
            .unwrap()
            .contains("not a media file")
    );
    assert_eq!(state("good.png")["state"], "indexed");
    // Failures are final: no retries queued, and visible in status.
    let status = d.status();
    assert_eq!(status["retry_waiting"], 0);
    let problems = status["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["path"].as_str().unwrap().ends_with("random.jpg"))
    );
    assert_eq!(status["skipped_not_media"], 2);
    // A RAW LibRaw does not recognise is skipped, saying so, not called damaged.
    let raw = state("DSC_0001.NEF");
    assert_eq!(raw["state"], "skipped", "{raw}");
    assert!(
        raw["message"]
            .as_str()
            .unwrap()
            .starts_with("unsupported format: camera RAW")
    );
    assert_eq!(status["skipped_unsupported"], 1);
    // `vx reindex` retries failed files, which fail again with the same message.
    d.ok(&["reindex"]);
    d.wait_idle();
    assert_eq!(state("random.jpg")["state"], "failed");
}

#[test]
fn odd_names_hidden_files_and_symlink_loops() {
    let d = Daemon::started();
    let nonutf8 = d.media.join(OsStr::from_bytes(b"caf\xe9 latte.png"));
    make_image(&d.dir.path().join("x.png"));
    fs::copy(d.dir.path().join("x.png"), &nonutf8).unwrap();
    // A content of its own (a byte after the picture), so that it is decoded by this name
    // (FFmpeg's bindings once panicked on it), not found done under the other's.
    fs::OpenOptions::new()
        .append(true)
        .open(&nonutf8)
        .unwrap()
        .write_all(b"\0")
        .unwrap();
    fs::copy(d.dir.path().join("x.png"), d.media.join("two\nlines.png")).unwrap();
    fs::copy(d.dir.path().join("x.png"), d.media.join(".hidden.png")).unwrap();
    fs::copy(
        d.dir.path().join("x.png"),
        d.media.join("download.png.crdownload"),
    )
    .unwrap();
    fs::copy(d.dir.path().join("x.png"), d.media.join("~$lock.png")).unwrap();
    std::os::unix::fs::symlink(&d.media, d.media.join("loop")).unwrap();
    d.add_media_root();
    d.wait_idle();
    assert_eq!(d.count("indexed"), 2, "{}", d.ok(&["status"]));
    assert_eq!(d.search(&["latte"]).len(), 1);
    assert_eq!(d.search(&["lines"]).len(), 1);
    // vx show takes the non-UTF-8 path as given.
    let out = std::process::Command::new(bin("vx"))
        .env("VX_SOCKET", &d.socket)
        .arg("show")
        .arg(&nonutf8)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("indexed"));
}

#[test]
fn roots_that_are_files_or_missing_are_refused_clearly() {
    let d = Daemon::started();
    let file = d.media.join("a.png");
    make_image(&file);
    let out = d.vx(&["add", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
    let out = d.vx(&["add", "/no/such/folder"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such folder"));
    let out = d.vx(&["remove", "/no/such/folder"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a watched folder"));
    d.ok(&["status"]);
}

#[test]
fn a_missing_root_deletes_nothing_and_comes_back() {
    let d = Daemon::started();
    make_image(&d.media.join("island.png"));
    make_audio(&d.media.join("waves.mp3"));
    d.add_media_root();
    d.wait_idle();
    // Unmounting is simulated by moving the folder away.
    let away = d.dir.path().join("unplugged");
    fs::rename(&d.media, &away).unwrap();
    d.eventually(10, "root reported missing", || {
        d.json(&["roots"])["roots"][0]["state"] == "missing"
    });
    d.wait_idle();
    assert_eq!(d.count("offline"), 2);
    let hits = d.json(&["search", "island"]);
    assert_eq!(
        hits["results"][0]["online"], false,
        "offline files stay findable"
    );
    assert!(
        d.json(&["roots"])["roots"][0]["message"]
            .as_str()
            .unwrap()
            .contains("offline")
    );
    fs::rename(&away, &d.media).unwrap();
    d.eventually(10, "root back", || {
        d.json(&["roots"])["roots"][0]["state"] == "watching"
    });
    d.wait_idle();
    assert_eq!(d.count("indexed"), 2);
    assert_eq!(d.metadata_runs(), 2, "nothing re-extracted");
    // And it is watched again.
    make_image(&d.media.join("return.png"));
    d.eventually(10, "watched again after return", || {
        d.search(&["return"]).len() == 1
    });
}

#[test]
fn ten_thousand_files_in_one_folder() {
    let d = Daemon::started();
    let big = d.media.join("big");
    fs::create_dir(&big).unwrap();
    for i in 0..10_000 {
        fs::write(big.join(format!("note-{i:05}.txt")), format!("{i}")).unwrap();
    }
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    assert_eq!(d.count("skipped"), 10_000);
    assert_eq!(d.status()["skipped_not_media"], 10_000);
}
