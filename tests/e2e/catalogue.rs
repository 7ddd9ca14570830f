//! Watching and cataloguing: new, renamed, moved, copied, touched, deleted files, restarts.

use std::fs;

use crate::support::*;

#[test]
fn new_file_is_searchable_within_5_seconds_and_delete_removes_it() {
    let d = Daemon::started();
    d.add_media_root();
    d.wait_idle();
    make_video(&d.dir.path().join("beach_holiday.mp4"));
    let target = d.media.join("beach_holiday.mp4");
    let t = std::time::Instant::now();
    fs::rename(d.dir.path().join("beach_holiday.mp4"), &target).unwrap();
    d.eventually(5, "new file searchable", || {
        !d.search(&["beach"]).is_empty()
    });
    eprintln!("searchable after {:?}", t.elapsed());
    let hit = &d.json(&["search", "beach"])["results"][0];
    assert_eq!(hit["kind"], "video");
    assert_eq!(hit["path"], target.to_str().unwrap());
    assert!(hit["moments"].as_array().unwrap().is_empty());

    fs::remove_file(&target).unwrap();
    d.eventually(5, "deleted file gone from results", || {
        d.search(&["beach"]).is_empty()
    });
}

#[test]
fn rename_move_copy_touch_and_chmod_never_reextract() {
    let d = Daemon::started();
    fs::create_dir(d.media.join("a")).unwrap();
    make_image(&d.media.join("a/cat.png"));
    make_audio(&d.media.join("a/song.mp3"));
    d.add_media_root();
    d.wait_idle();
    assert_eq!(d.metadata_runs(), 2);
    let hash = d.show(&d.media.join("a/cat.png"))["content"]["hash"].clone();

    // Rename, move into a new folder, rename a folder.
    fs::rename(d.media.join("a/cat.png"), d.media.join("a/kitten.png")).unwrap();
    fs::create_dir(d.media.join("b")).unwrap();
    fs::rename(d.media.join("a/song.mp3"), d.media.join("b/song.mp3")).unwrap();
    fs::rename(d.media.join("a"), d.media.join("pets")).unwrap();
    d.eventually(10, "renamed file found", || {
        d.search(&["kitten"]).len() == 1
    });
    d.wait_idle();
    assert_eq!(
        d.search(&["pets"]),
        vec![d.media.join("pets/kitten.png").to_str().unwrap()]
    );
    assert_eq!(
        d.show(&d.media.join("pets/kitten.png"))["content"]["hash"],
        hash
    );

    // A copy is a new file with known content; touch and chmod change nothing that matters.
    fs::copy(d.media.join("pets/kitten.png"), d.media.join("copy.png")).unwrap();
    let kitten = d.media.join("pets/kitten.png");
    assert!(
        std::process::Command::new("touch")
            .arg(&kitten)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        std::process::Command::new("chmod")
            .arg("600")
            .arg(&kitten)
            .status()
            .unwrap()
            .success()
    );
    d.eventually(10, "copy catalogued", || d.search(&["copy"]).len() == 1);
    d.wait_idle();
    let copy = d.show(&d.media.join("copy.png"));
    assert_eq!(copy["content"]["hash"], hash);
    assert_eq!(copy["content"]["copies"][0], kitten.to_str().unwrap());
    assert_eq!(d.metadata_runs(), 2, "no content was extracted twice");
    assert_eq!(d.count("indexed"), 3);
    let runs = &d.show(&kitten)["extractions"][0]["runs"];
    assert_eq!(runs, 1);
}

#[test]
fn moves_across_roots_keep_the_content() {
    let d = Daemon::started();
    let other = d.dir.path().join("other");
    fs::create_dir(&other).unwrap();
    make_audio(&d.media.join("talk.wav"));
    d.add_media_root();
    d.ok(&["add", other.to_str().unwrap()]);
    d.wait_idle();
    fs::rename(d.media.join("talk.wav"), other.join("talk.wav")).unwrap();
    d.eventually(10, "file seen in the other root", || {
        d.search(&["talk"]) == vec![other.join("talk.wav").to_str().unwrap().to_string()]
    });
    d.wait_idle();
    let shown = d.show(&other.join("talk.wav"));
    assert_eq!(shown["root"], other.to_str().unwrap());
    assert_eq!(d.metadata_runs(), 1);
    let roots = d.json(&["roots"]);
    assert_eq!(roots["roots"].as_array().unwrap().len(), 2);
    // Removing a root forgets its files.
    d.ok(&["remove", other.to_str().unwrap()]);
    d.wait_idle();
    assert!(d.search(&["talk"]).is_empty());
    assert_eq!(d.json(&["roots"])["roots"].as_array().unwrap().len(), 1);
}

#[test]
fn restart_keeps_everything_and_catches_changes_made_while_down() {
    let mut d = Daemon::started();
    make_video(&d.media.join("first.mp4"));
    make_image(&d.media.join("second.jpg"));
    make_image(&d.media.join("doomed.jpg"));
    d.add_media_root();
    d.wait_idle();
    let runs = d.metadata_runs();
    d.stop();
    // While it is down: a new file, a rename, a delete.
    make_audio(&d.media.join("third.mp3"));
    fs::rename(d.media.join("second.jpg"), d.media.join("renamed.jpg")).unwrap();
    fs::remove_file(d.media.join("doomed.jpg")).unwrap();
    d.start();
    d.wait_idle();
    let mut all = d.search(&["", "--limit", "100"]);
    all.sort();
    let expect: Vec<String> = ["first.mp4", "renamed.jpg", "third.mp3"]
        .iter()
        .map(|n| d.media.join(n).to_str().unwrap().to_string())
        .collect();
    assert_eq!(all, expect);
    assert_eq!(d.metadata_runs(), runs + 1, "only the new file was probed");
    assert_eq!(d.json(&["roots"])["roots"][0]["state"], "watching");
}

#[test]
fn filters_by_kind_path_and_date() {
    let d = Daemon::started();
    fs::create_dir(d.media.join("trips")).unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10",
        "-t",
        "1",
        "-metadata",
        "creation_time=2019-05-01T10:00:00Z",
        d.media.join("trips/old_trip.mp4").to_str().unwrap(),
    ]);
    make_audio(&d.media.join("trips/trip_notes.mp3"));
    make_image(&d.media.join("trip_photo.png"));
    d.add_media_root();
    d.wait_idle();
    assert_eq!(d.search(&["trip"]).len(), 3);
    assert_eq!(d.search(&["trip", "--kind", "audio"]).len(), 1);
    assert_eq!(
        d.search(&["trip", "--path", d.media.join("trips").to_str().unwrap()])
            .len(),
        2
    );
    assert_eq!(
        d.search(&["trip", "--before", "2020"]),
        vec![d.media.join("trips/old_trip.mp4").to_str().unwrap()]
    );
    assert_eq!(d.search(&["trip", "--after", "2020-01-01"]).len(), 2);
    // Metadata words: the year and the codec.
    assert_eq!(d.search(&["2019"]).len(), 1);
    assert_eq!(d.search(&["h264"]).len(), 1);
    // Human output names the file.
    assert!(d.ok(&["search", "photo"]).contains("trip_photo.png"));
}

#[test]
fn pause_stops_new_work_and_resume_continues() {
    let d = Daemon::started();
    d.add_media_root();
    d.wait_idle();
    d.ok(&["pause"]);
    assert_eq!(d.status()["paused"], true);
    make_image(&d.media.join("waiting.png"));
    d.eventually(5, "file seen while paused", || d.count("pending") == 1);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(d.count("pending"), 1, "no work while paused");
    assert!(d.ok(&["status"]).contains("paused"));
    d.ok(&["resume"]);
    d.wait_idle();
    assert_eq!(d.count("indexed"), 1);
}

#[test]
fn text_index_is_rebuilt_from_sqlite() {
    let mut d = Daemon::started();
    make_image(&d.media.join("lighthouse.png"));
    d.add_media_root();
    d.wait_idle();
    d.ok(&["reindex", "--rebuild-index"]);
    d.wait_idle();
    assert_eq!(d.search(&["lighthouse"]).len(), 1);
    // The index lost entirely while the daemon is down: rebuilt at start from the catalogue.
    d.stop();
    fs::remove_dir_all(d.data.join("index")).unwrap();
    d.start();
    d.wait_idle();
    assert_eq!(d.search(&["lighthouse"]).len(), 1);
}

#[test]
fn kill_9_during_indexing_converges_with_a_sound_database() {
    let mut d = Daemon::started();
    for i in 0..6 {
        make_video(&d.media.join(format!("clip{i}.mp4")));
    }
    let clip = fs::read(d.media.join("clip0.mp4")).unwrap();
    for i in 0..300 {
        // Distinct contents: a few bytes appended to a valid file still probe as media.
        let mut bytes = clip.clone();
        bytes.extend_from_slice(format!("{i}").as_bytes());
        fs::write(d.media.join(format!("many-{i:03}.mp4")), bytes).unwrap();
    }
    d.add_media_root();
    d.eventually(30, "indexing under way", || d.count("indexed") > 5);
    assert!(
        d.count("pending") > 0,
        "kill must land in the middle of indexing"
    );
    d.kill9();
    d.start();
    d.wait_idle();
    assert_eq!(d.count("indexed"), 306, "{}", d.ok(&["status"]));
    assert_eq!(d.count("pending"), 0);
    assert_eq!(d.search(&["many", "--limit", "1000"]).len(), 300);
    d.stop();
    let db = d.sound_db();
    let jobs: i64 = db
        .query_row("SELECT count(*) FROM jobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(jobs, 0);
}

#[test]
fn removing_the_last_file_of_a_content_removes_its_results_and_thumbnails() {
    let mut d = Daemon::with_env(&[("VX_ORPHAN_GRACE_SECS", "0")]);
    d.start();
    make_image(&d.media.join("gone_soon.png"));
    make_video(&d.media.join("stays.mp4"));
    d.add_media_root();
    d.wait_idle();
    let shown = d.show(&d.media.join("gone_soon.png"));
    let thumb = std::path::PathBuf::from(shown["thumbnails"][0]["path"].as_str().unwrap());
    assert!(thumb.is_file(), "{shown}");
    let video_thumbs = d.show(&d.media.join("stays.mp4"))["thumbnails"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        video_thumbs, 3,
        "a thumbnail per kept keyframe of the 3 s clip"
    );
    fs::remove_file(d.media.join("gone_soon.png")).unwrap();
    d.eventually(10, "thumbnail removed with its content", || !thumb.exists());
    assert_eq!(d.status()["contents"], 1);
}

/// Indexed and pending counts from `vx status`.
fn progress(d: &Daemon) -> (u64, u64) {
    let s = d.status();
    (
        s["files"]["indexed"].as_u64().unwrap(),
        s["files"]["pending"].as_u64().unwrap(),
    )
}

/// The photo import of a phone: a few hundred photos land in "untitled folder", which is
/// renamed while vxd is indexing them, and then renamed again.
#[test]
fn a_folder_renamed_twice_while_its_files_are_indexed_loses_none() {
    const PHOTOS: u64 = 300;
    let d = Daemon::started();
    d.add_media_root();
    d.wait_idle();
    let staging = d.dir.path().join("import");
    fs::create_dir(&staging).unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-frames:v",
        &PHOTOS.to_string(),
        staging.join("IMG_%04d.png").to_str().unwrap(),
    ]);
    let names = ["untitled folder", "Rome 2023", "Rome 2023 (trip)"];
    fs::rename(&staging, d.media.join(names[0])).unwrap();
    let mut renamed_while_pending = 0;
    for pair in names.windows(2) {
        // Some indexed, some not yet.
        d.eventually(60, "indexing under way", || {
            let (indexed, pending) = progress(&d);
            indexed > 0 && pending > 0 || indexed == PHOTOS
        });
        renamed_while_pending += (progress(&d).1 > 0) as u32;
        fs::rename(d.media.join(pair[0]), d.media.join(pair[1])).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    assert!(
        renamed_while_pending > 0,
        "indexing ended before the renames: make more photos"
    );
    d.ok(&["wait", "--timeout", "120"]);
    let status = d.status();
    assert_eq!(status["files"]["indexed"], PHOTOS, "{status}");
    assert_eq!(status["files"]["pending"], 0, "{status}");
    assert_eq!(status["pending_without_job"], 0, "{status}");
    // The catalogue holds exactly what is on disk.
    let db = d.db();
    let mut st = db.prepare("SELECT path FROM files").unwrap();
    let mut catalogued: Vec<String> = st
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|p| String::from_utf8(p.unwrap()).unwrap())
        .collect();
    catalogued.sort();
    let folder = d.media.join(names[2]);
    let mut on_disk: Vec<String> = fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .collect();
    on_disk.sort();
    assert_eq!(catalogued, on_disk);
    // Every photo is found at its final place.
    let found = d.search(&["IMG", "--limit", "1000"]);
    assert_eq!(found.len() as u64, PHOTOS);
    assert!(found.iter().all(|p| p.contains(names[2])), "{found:?}");
}

/// The catalogue's paths, sorted.
fn catalogued(d: &Daemon) -> Vec<std::path::PathBuf> {
    let db = d.db();
    let mut st = db.prepare("SELECT path FROM files").unwrap();
    let mut paths: Vec<std::path::PathBuf> = st
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|p| String::from_utf8(p.unwrap()).unwrap().into())
        .collect();
    paths.sort();
    paths
}

/// vxd watches each folder of a root on its own (Linux), so folders that appear, are renamed
/// or leave the root after the start must gain, keep or lose their watches as notify's
/// recursive mode would: every change below is caught by notification alone (watched roots
/// are never rescanned on a timer).
#[test]
fn folders_made_renamed_and_moved_out_after_the_start_stay_watched() {
    let d = Daemon::started();
    fs::create_dir_all(d.media.join("trip/day1")).unwrap();
    make_image(&d.media.join("trip/day1/first.png"));
    d.add_media_root();
    d.wait_idle();

    // A tree made at once, with a file at its bottom straight away.
    fs::create_dir_all(d.media.join("new/a/b")).unwrap();
    make_image(&d.media.join("new/a/b/deep.png"));
    // A renamed folder: what appears in its old subfolder afterwards has the new path.
    fs::rename(d.media.join("trip"), d.media.join("holiday")).unwrap();
    d.wait_idle();
    make_image(&d.media.join("holiday/day1/second.png"));
    fs::create_dir(d.media.join("holiday/day2")).unwrap();
    make_image(&d.media.join("holiday/day2/third.png"));
    // A folder moved out of the root: what happens in it afterwards is not the library's.
    let outside = d.dir.path().join("outside");
    fs::rename(d.media.join("new/a"), &outside).unwrap();
    d.wait_idle();
    make_image(&outside.join("b/stray.png"));
    make_image(&d.media.join("new/late.png"));

    let mut on_disk = walk(&d.media).0;
    on_disk.sort();
    assert_eq!(on_disk.len(), 4, "{on_disk:?}");
    d.eventually(10, "the catalogue holds what is on disk", || {
        catalogued(&d) == on_disk
    });
    d.wait_idle();
    assert_eq!(catalogued(&d), on_disk);
    assert!(!d.stderr().contains("cannot watch"), "{}", d.stderr());
}
