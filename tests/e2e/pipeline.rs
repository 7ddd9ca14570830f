//! The extraction pipeline end to end: real models on a generated video whose frames show
//! photos at known seconds and whose sound is a speech clip from a known second.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

/// 16 s: grey, coffee.png from 4 to 8 s and again from 14 s, page.png from 10 to 13 s;
/// speech from 2 s.
fn slideshow(media: &Path, out: &Path) {
    let m = media;
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=640x480:d=16:r=25",
        "-loop",
        "1",
        "-i",
        m.join("coffee.png").to_str().unwrap(),
        "-loop",
        "1",
        "-i",
        m.join("page.png").to_str().unwrap(),
        "-i",
        m.join("librivox-0870.wav").to_str().unwrap(),
        "-filter_complex",
        "[1]scale=640:480,format=yuv420p[c];[2]scale=640:480,format=yuv420p[p];\
         [0][c]overlay=enable='between(t,4,8)+gte(t,14)'[v1];[v1][p]overlay=enable='between(t,10,13)'[v];\
         [3]adelay=2000|2000,apad[a]",
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        "16",
        "-g",
        "50",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        out.to_str().unwrap(),
    ]);
}

fn counter(d: &Daemon, name: &str) -> i64 {
    d.db()
        .query_row(
            "SELECT coalesce(max(value), 0) FROM counters WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
}

fn runs(d: &Daemon) -> Vec<(String, i64, i64)> {
    let db = d.db();
    let mut st = db.prepare("SELECT extractor, version, sum(runs) FROM extractions GROUP BY extractor, version ORDER BY 1, 2").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn one_pass_extracts_everything_at_the_right_times_once() {
    let Some(shared) = pack() else { return };
    let mut d = Daemon::with_models(&shared.models);
    slideshow(&shared.media, &d.media.join("slideshow.mp4"));
    for photo in ["astronaut.png", "coffee.png"] {
        std::fs::copy(shared.media.join(photo), d.media.join(photo)).unwrap();
    }
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let video = d.media.join("slideshow.mp4");
    let shown = d.show(&video);
    let espresso: Vec<f64> = segments(&shown, "tag")
        .into_iter()
        .filter(|s| s["text"].as_str().unwrap().contains("espresso"))
        .map(|s| s["start"].as_f64().unwrap())
        .collect();
    // The coffee scene comes back at 14 s: the tagger saw it once, both moments are stored.
    assert!(
        espresso.len() == 2
            && (3.9..=8.1).contains(&espresso[0])
            && (13.9..=14.1).contains(&espresso[1]),
        "espresso at {espresso:?}: {shown}"
    );
    let ocr = segments(&shown, "ocr");
    let title = ocr
        .iter()
        .find(|s| s["text"].as_str().unwrap().replace(' ', "") == "Region-basedsegmentation");
    let t = title.unwrap_or_else(|| panic!("no OCR title: {ocr:?}"))["start"]
        .as_f64()
        .unwrap();
    assert!((9.9..=14.1).contains(&t), "page text at {t}");
    let speech = segments(&shown, "transcript");
    let first = speech
        .first()
        .unwrap_or_else(|| panic!("no transcript: {shown}"));
    assert!(
        first["text"].as_str().unwrap().contains("Dashwood"),
        "{first}"
    );
    let t = first["start"].as_f64().unwrap();
    assert!(
        (t - 2.0).abs() < 0.8,
        "speech starts at 2 s, segment at {t}"
    );
    assert!(!shown["thumbnails"].as_array().unwrap().is_empty());
    let astro = d.show(&d.media.join("astronaut.png"));
    assert_eq!(astro["faces"].as_array().unwrap().len(), 1);
    assert!(
        segments(&astro, "object")
            .iter()
            .any(|s| s["text"] == "person")
    );

    // Search lands on the moment.
    let hits = d.json(&["search", "espresso", "--kind", "video"]);
    assert_eq!(hits["results"][0]["path"], video.to_str().unwrap());
    let m = &hits["results"][0]["moments"][0];
    assert!(
        (3.9..=8.1).contains(&m["start"].as_f64().unwrap()) && m["sources"][0] == "tag",
        "{m}"
    );
    let hits = d.json(&["search", "dashwood leisure"]);
    assert_eq!(hits["results"][0]["moments"][0]["sources"][0], "transcript");

    // Alike: the coffee photo and the video's moment that shows it share tags and objects.
    let coffee = d.media.join("coffee.png");
    let alike = d.json(&["similar", coffee.to_str().unwrap()]);
    assert_eq!(
        alike["results"][0]["path"],
        video.to_str().unwrap(),
        "{alike}"
    );
    let at = alike["results"][0]["moments"][0]["start"].as_f64().unwrap();
    assert!((3.9..=8.1).contains(&at), "the coffee moment: {at}");
    let alike = d.json(&["similar", video.to_str().unwrap(), "--at", "5"]);
    assert_eq!(
        alike["results"][0]["path"],
        coffee.to_str().unwrap(),
        "{alike}"
    );
    let results = alike["results"].as_array().unwrap();
    assert!(
        results.iter().all(|r| r["path"] != video.to_str().unwrap()),
        "not itself"
    );

    // Filters by what files have.
    let astro_path = d.media.join("astronaut.png").to_str().unwrap().to_string();
    assert_eq!(
        d.search(&["--has", "speech"]),
        vec![video.to_str().unwrap().to_string()]
    );
    assert_eq!(
        d.search(&["--has", "text"]),
        vec![video.to_str().unwrap().to_string()]
    );
    assert_eq!(d.search(&["--has", "faces"]), vec![astro_path.clone()]);
    assert!(d.search(&["dashwood", "--has", "faces"]).is_empty());

    // The semantic channel finds speech by meaning, without a shared word.
    let hits = d.json(&["search", "wealth and generosity toward his family"]);
    assert_eq!(
        hits["results"][0]["path"],
        video.to_str().unwrap(),
        "{hits}"
    );
    let m = &hits["results"][0]["moments"][0];
    assert!(
        m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "semantic"),
        "{m}"
    );
    assert!(m["text"].as_str().unwrap().contains("Dashwood"), "{m}");

    // Decoded exactly once per file; a restart does nothing.
    let ran = runs(&d);
    d.stop();
    assert_eq!(counter(&d, "decode_opens"), 3, "each file decoded once");
    d.start();
    d.wait_idle();
    d.stop();
    assert_eq!(
        counter(&d, "decode_opens"),
        3,
        "a second run decodes nothing"
    );
    assert_eq!(runs(&d), ran, "and extracts nothing");

    // A new version of one extractor re-runs that extractor alone.
    d.extra_env
        .push(("VX_BUMP_EXTRACTOR".into(), "tags".into()));
    d.start();
    d.ok(&["wait", "--timeout", "300"]);
    d.stop();
    let after = runs(&d);
    let was = ran.iter().find(|r| r.0 == "tags").unwrap().1;
    let bumped: Vec<_> = after
        .iter()
        .filter(|r| r.0 == "tags" && r.1 == was + 1)
        .collect();
    assert_eq!(bumped.len(), 1, "{after:?}");
    assert_eq!(bumped[0].2, 3, "every content re-tagged once");
    let others = |r: &Vec<(String, i64, i64)>| {
        r.iter()
            .filter(|x| x.0 != "tags")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&after), others(&ran), "no other extractor ran again");
}

#[test]
fn a_speech_moment_starts_when_the_speech_does_not_with_the_sound_before_it() {
    // YAMNet (audio-events) tells the speech from the sound before it.
    let Some(shared) = pack_with("audio-events") else {
        return;
    };
    let mut d = Daemon::with_models(&shared.models);
    // 3 s of a tone over noise, then the reading: Whisper alone starts its segment at 0.
    let speech = shared.media.join("librivox-0870.wav");
    let rec = d.media.join("lead-in.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=3,volume=0.3",
        "-f",
        "lavfi",
        "-i",
        "anoisesrc=d=3:a=0.05",
        "-i",
        speech.to_str().unwrap(),
        "-filter_complex",
        "[0][1]amix=inputs=2:normalize=0[lead];[lead][2]concat=n=2:v=0:a=1[a]",
        "-map",
        "[a]",
        "-ar",
        "16000",
        "-ac",
        "1",
        rec.to_str().unwrap(),
    ]);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let shown = d.show(&rec);
    let first = segments(&shown, "transcript")
        .first()
        .map(|s| s["start"].as_f64().unwrap())
        .unwrap_or_else(|| panic!("no transcript: {shown}"));
    assert!(
        (2.4..=3.3).contains(&first),
        "speech starts at 3 s, its moment at {first}"
    );
}

#[test]
fn a_crashing_or_hanging_worker_costs_one_file_not_the_daemon() {
    let mut d = Daemon::with_env(&[
        ("VX_TEST_WORKER_FAULT", "crashme:segv"),
        ("VX_FILE_TIMEOUT_SECS", "3"),
    ]);
    make_image(&d.media.join("crashme.png"));
    make_audio(&d.media.join("fine.mp3"));
    make_video(&d.media.join("fine.mp4"));
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "60"]);
    let crashed = d.show(&d.media.join("crashme.png"));
    assert_eq!(crashed["state"], "failed");
    let msg = crashed["message"].as_str().unwrap();
    assert!(
        msg.contains("worker crashed (SIGSEGV)") && msg.contains("2 attempts"),
        "{msg}"
    );
    assert_eq!(d.count("indexed"), 2, "the rest of the queue went on");
    assert_eq!(
        d.search(&["fine"]).len(),
        2,
        "the daemon still serves searches"
    );
    d.stop();
    assert_eq!(
        counter(&d, "worker_failures"),
        2,
        "retried once, then failed"
    );

    // A hang is cut off by the time limit, and so is a worker that hangs half-way through
    // writing its answer; the next file is indexed.
    for (fault, file) in [("hang", "stuck.png"), ("halfline", "halfway.png")] {
        let mut d = Daemon::with_env(&[
            ("VX_TEST_WORKER_FAULT", &format!("{file}:{fault}")),
            ("VX_FILE_TIMEOUT_SECS", "2"),
        ]);
        make_image(&d.media.join(file));
        make_video(&d.media.join("after.mp4"));
        d.start();
        d.add_media_root();
        d.ok(&["wait", "--timeout", "60"]);
        let stuck = d.show(&d.media.join(file));
        assert!(
            stuck["message"]
                .as_str()
                .unwrap_or_default()
                .contains("timed out after 2 s"),
            "{fault}: {stuck}"
        );
        assert_eq!(d.show(&d.media.join("after.mp4"))["state"], "indexed");
    }
}

#[test]
fn long_recordings_get_time_in_proportion_to_their_length() {
    // Both take 4 s more than the 2 s limit; the 20 s recording has 10 s more to do it in, the
    // 2 s one only 1 s.
    let mut d = Daemon::with_env(&[
        ("VX_TEST_WORKER_FAULT", "slow:sleep"),
        ("VX_FILE_TIMEOUT_SECS", "2"),
    ]);
    let long = d.media.join("slow-long.mp3");
    make_tone(&long, 20);
    make_audio(&d.media.join("slow-short.mp3"));
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "60"]);
    assert_eq!(d.show(&long)["state"], "indexed");
    let short = d.show(&d.media.join("slow-short.mp3"));
    assert_eq!(short["state"], "failed");
    assert!(
        short["message"]
            .as_str()
            .unwrap()
            .contains("timed out after 3 s"),
        "{short}"
    );
}

#[test]
fn a_runaway_allocation_hits_the_memory_limit_and_fails_the_file() {
    let mut d = Daemon::with_env(&[
        ("VX_TEST_WORKER_FAULT", "greedy:oom"),
        ("VX_WORKER_MEMORY_MB", "1024"),
    ]);
    make_image(&d.media.join("greedy.png"));
    make_image(&d.media.join("modest.jpg"));
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "120"]);
    let greedy = d.show(&d.media.join("greedy.png"));
    let msg = greedy["message"].as_str().unwrap();
    assert!(
        greedy["state"] == "failed" && msg.contains("worker crashed"),
        "{greedy}"
    );
    assert_eq!(d.show(&d.media.join("modest.jpg"))["state"], "indexed");
}

#[test]
fn a_text_model_installed_later_embeds_what_was_already_heard_and_seen() {
    let Some(shared) = pack() else { return };
    // The pack without its text model, which is installed after the first start.
    let models = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&shared.models).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "text" {
            std::os::unix::fs::symlink(entry.path(), models.path().join(entry.file_name()))
                .unwrap();
        }
    }
    let mut d = Daemon::with_models(models.path());
    let reading = d.media.join("reading.wav");
    std::fs::copy(shared.media.join("librivox-0870.wav"), &reading).unwrap();
    let photo = d.media.join("cat.png");
    std::fs::copy(shared.media.join("chelsea.png"), &photo).unwrap();
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let by_meaning =
        |d: &Daemon| d.search(&["--channel", "semantic", "how much money could he give them"]);
    assert!(by_meaning(&d).is_empty(), "no text model yet");
    assert!(segments(&d.show(&photo), "labels").is_empty());
    let ran = |d: &Daemon| (counter(d, "runs:transcript"), counter(d, "runs:tags"));
    let before = ran(&d);
    d.stop();
    std::os::unix::fs::symlink(shared.models.join("text"), models.path().join("text")).unwrap();
    d.start();
    d.ok(&["wait", "--timeout", "300"]);
    assert_eq!(by_meaning(&d), vec![reading.to_str().unwrap().to_string()]);
    // The transcript was embedded, not made again: still one segment; nor were the photo's
    // tags, which now make its phrase, so that meaning finds it.
    let shown = d.show(&reading);
    assert_eq!(segments(&shown, "transcript").len(), 1, "{shown}");
    let phrases = d.show(&photo);
    assert!(!segments(&phrases, "labels").is_empty(), "{phrases}");
    let pet = d.search(&["--channel", "semantic", "a pet animal"]);
    assert_eq!(pet.first().map(String::as_str), photo.to_str(), "{pet:?}");
    assert_eq!(ran(&d), before, "no whisper or tagger run again");
}

#[test]
fn semantic_search_over_partitioned_vectors_finds_what_a_full_scan_finds() {
    let Some(shared) = pack() else { return };
    let mut d = Daemon::with_env(&[
        ("VX_MODELS_DIR", &shared.models.to_string_lossy()),
        ("VX_APPROXIMATE_FROM", "0"),
    ]);
    for name in [
        "librivox-0870.wav",
        "librivox-0880.wav",
        "astronaut.png",
        "page.png",
    ] {
        std::fs::copy(shared.media.join(name), d.media.join(name)).unwrap();
    }
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let by_meaning = |d: &Daemon| {
        let r = d.search(&["--channel", "semantic", "how much money could he give them"]);
        r.first().cloned()
    };
    let exact = by_meaning(&d);
    assert!(exact.is_some());
    assert_eq!(d.status()["vector_lists"], 0, "0: never partitioned");
    d.stop();
    // Partitioned from the first vector (never by default), as a large library can ask.
    d.extra_env[1].1 = "1".into();
    d.start();
    let started = Instant::now();
    while d.status()["vector_lists"].as_u64() == Some(0) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            d.status()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let said = d.ok(&["status"]);
    assert!(said.contains("partitioned into"), "{said}");
    assert_eq!(by_meaning(&d), exact);
}
