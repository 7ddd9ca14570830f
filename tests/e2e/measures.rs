//! Numbers measured over whole files (loudness): shown by `vx show`, filtered on with
//! `vx search --where`. No model is needed.

use crate::support::*;

/// A 1 kHz sine of `amplitude` for 4 s, as `channels` at `rate`, in 16-bit PCM: above 1.0 it
/// clips.
fn sine(path: &std::path::Path, amplitude: f64, channels: u32, rate: u32) {
    let expr = format!("{amplitude}*sin(2*PI*1000*t)");
    let exprs = vec![expr.as_str(); channels as usize].join("|");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("aevalsrc={exprs}:s={rate}:d=4"),
        "-c:a",
        "pcm_s16le",
        path.to_str().unwrap(),
    ]);
}

fn measure(shown: &serde_json::Value, name: &str) -> Option<f64> {
    shown["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .map(|m| m["value"].as_f64().unwrap())
}

#[test]
fn loudness_is_shown_and_filters_search() {
    let mut d = Daemon::new();
    let quiet = d.media.join("quiet.wav");
    let loud = d.media.join("loud.wav");
    let silent_video = d.media.join("clip.mp4");
    sine(&quiet, 0.05, 2, 48_000);
    sine(&loud, 1.5, 1, 44_100);
    make_video(&silent_video);
    d.start();
    d.add_media_root();
    d.wait_idle();

    // -26 dBFS on both channels of a stereo signal is -26 LUFS (EBU Tech 3341).
    let shown = d.show(&quiet);
    let lufs = measure(&shown, "loudness").unwrap_or_else(|| panic!("{shown}"));
    assert!((lufs + 26.0).abs() < 0.5, "{shown}");
    assert_eq!(measure(&shown, "clipped"), Some(0.0), "{shown}");
    let shown = d.show(&loud);
    assert!(measure(&shown, "clipped").unwrap() > 1000.0, "{shown}");
    assert!(measure(&shown, "true_peak").unwrap() > -0.5, "{shown}");
    // A file without sound has nothing measured, and the extractor is done with it.
    let shown = d.show(&silent_video);
    assert!(shown["measures"].as_array().unwrap().is_empty(), "{shown}");
    assert!(
        shown["extractions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["extractor"] == "loudness" && e["status"] == "done"),
        "{shown}"
    );
    let text = d.ok(&["show", quiet.to_str().unwrap()]);
    assert!(text.contains("integrated loudness: -2"), "{text}");

    let name = |p: &std::path::Path| p.to_str().unwrap().to_string();
    assert_eq!(d.search(&["--where", "loudness<-20"]), vec![name(&quiet)]);
    assert_eq!(d.search(&["--where", "clipped>0"]), vec![name(&loud)]);
    assert_eq!(
        d.search(&["--where", "loudness>-30", "--where", "clipped=0"]),
        vec![name(&quiet)]
    );
    let out = d.vx(&["search", "--where", "loudnes<-20"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("loudness_range"),
        "{err}"
    );
}

#[test]
fn every_audio_track_is_measured_and_search_filters_on_the_first() {
    let mut d = Daemon::new();
    let two = d.media.join("two-tracks.mka");
    // A loud stereo track (-6 LUFS) and a quiet mono one (-26 dBFS sine on one channel: -29).
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*1000*t):s=48000:d=4",
        "-f",
        "lavfi",
        "-i",
        "aevalsrc=0.05*sin(2*PI*1000*t):s=48000:d=4",
        "-map",
        "0",
        "-map",
        "1",
        "-c:a",
        "flac",
        two.to_str().unwrap(),
    ]);
    d.start();
    d.add_media_root();
    d.wait_idle();
    let shown = d.show(&two);
    let loudness: Vec<(u64, f64)> = shown["measures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "loudness")
        .map(|m| (m["track"].as_u64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    let mut values: Vec<f64> = loudness.iter().map(|l| l.1).collect();
    values.sort_by(f64::total_cmp);
    assert!(
        values.len() == 2 && (values[0] + 29.0).abs() < 1.0 && (values[1] + 6.0).abs() < 0.5,
        "{shown}"
    );
    let first = loudness.iter().find(|l| l.0 == 0).unwrap().1;
    let found = !d.search(&["--where", "loudness<-20"]).is_empty();
    assert_eq!(
        found,
        first < -20.0,
        "search filters on track 0 ({first}): {shown}"
    );
    let text = d.ok(&["show", two.to_str().unwrap()]);
    assert!(
        text.contains("audio track 2: integrated loudness"),
        "{text}"
    );
}
