//! Decoding and the fused pass, measured in one run (scripts/bench-pipeline.sh prepares the
//! media): keyframe decoding against the ffmpeg CLI on the same file; one fused pass against
//! one decoding pass per extractor; each extractor's share of the fused pass; images per second
//! for one worker; with VX_BENCH_MUSIC (videos, colon-separated), each with and without the
//! audio-event model (which keeps Whisper off the music). Medians of several runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vx_indexer::decode::{DecodePolicy, decode, decode_with};
use vx_indexer::extract::{Job, Output, extract};
use vx_indexer::extractors::{self, Meters, Needs, Stage};
use vx_models::{ModelSet, RuntimeOptions};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let r = f();
    (t.elapsed().as_secs_f64(), r)
}

/// Every extractor the pack has models for (no CLIP), less those named in VX_BENCH_SKIP
/// (comma-separated: to compare with a build that lacks them).
fn all() -> Vec<(String, u32)> {
    let skip = std::env::var("VX_BENCH_SKIP").unwrap_or_default();
    extractors::ALL
        .iter()
        .filter(|e| e.needs() != Needs::Clip && !skip.split(',').any(|s| s == e.name()))
        .map(|e| (e.name().to_string(), e.version()))
        .collect()
}

fn pass(path: &Path, wanted: &[(String, u32)], models: &mut ModelSet, thumbs: &Path) -> Output {
    let wanted = extractors::order(wanted.to_vec());
    let mut meters = Meters::new(&wanted);
    let d = decode_with(path, &DecodePolicy::default(), &mut meters).expect("decodes");
    let job = Job {
        wanted: &wanted,
        thumbs_dir: thumbs,
        hash_hex: "00bench",
        // One worker on a 2-core machine: one core to spare once the visual models are done.
        spare_threads: 1,
        metered: meters.finish(),
        stored: &[],
    };
    extract(&d, job, models)
}

fn main() {
    let video = PathBuf::from(std::env::var("VX_BENCH_VIDEO").expect("VX_BENCH_VIDEO"));
    let images = PathBuf::from(std::env::var("VX_BENCH_IMAGES").expect("VX_BENCH_IMAGES"));
    let pack = PathBuf::from(std::env::var("VX_MODELS_DIR").expect("VX_MODELS_DIR"));
    let runs: usize = std::env::var("VX_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let thumbs = tempfile::tempdir().unwrap();

    // 1. Keyframes only, video only: vx (decode + RGB conversion) against the CLI.
    let keyframes_only = DecodePolicy {
        audio: false,
        min_interval: 0.0,
        max_gap: f64::MAX,
        ..DecodePolicy::default()
    };
    let cli: Vec<f64> = (0..runs)
        .map(|_| {
            time(|| {
                let ok = Command::new("ffmpeg")
                    .args([
                        "-loglevel",
                        "error",
                        "-threads",
                        "1",
                        "-skip_frame",
                        "nokey",
                        "-i",
                    ])
                    .arg(&video)
                    .args(["-an", "-f", "null", "-"])
                    .status()
                    .unwrap()
                    .success();
                assert!(ok);
            })
            .0
        })
        .collect();
    let mut frames = 0;
    let ours: Vec<f64> = (0..runs)
        .map(|_| {
            let (t, d) = time(|| decode(&video, &keyframes_only).unwrap());
            frames = d.frames.len();
            t
        })
        .collect();
    let (cli, ours) = (median(cli), median(ours));
    println!(
        "keyframe decoding, {frames} keyframes of {}:",
        video.display()
    );
    println!(
        "  ffmpeg -threads 1 -skip_frame nokey -an -f null  {:.3} s (whole process)",
        cli
    );
    println!(
        "  vx decode (keyframes to RGB, in-process)        {:.3} s  -> {:.2}x the CLI's speed",
        ours,
        cli / ours
    );

    // Meters hear the audio while it decodes: the whole decoding pass (frames and sound) with
    // and without the extractors that measure (loudness), alternated.
    let (mut plain, mut metered) = (Vec::new(), Vec::new());
    let measuring: Vec<(String, u32)> = extractors::ALL
        .iter()
        .filter(|e| !e.measures().is_empty())
        .map(|e| (e.name().to_string(), e.version()))
        .collect();
    for _ in 0..runs {
        plain.push(time(|| decode(&video, &DecodePolicy::default()).unwrap()).0);
        metered.push(
            time(|| {
                let mut meters = Meters::new(&measuring);
                decode_with(&video, &DecodePolicy::default(), &mut meters).unwrap();
                meters.finish()
            })
            .0,
        );
    }
    let (plain, metered) = (median(plain), median(metered));
    println!(
        "  decoding pass (frames and sound) {plain:.3} s, with the meters {metered:.3} s (+{:.0} ms)",
        (metered - plain) * 1000.0
    );

    // 2. The fused pass against one decoding pass per extractor.
    let mut models = ModelSet::new(&pack, RuntimeOptions::default(), 1);
    pass(&video, &all(), &mut models, thumbs.path()); // loads every model once
    let mut fused_runs = Vec::new();
    let mut last = Output::default();
    for _ in 0..2 {
        let (t, out) = time(|| pass(&video, &all(), &mut models, thumbs.path()));
        fused_runs.push(t);
        last = out;
    }
    let fused = median(fused_runs);
    let mut separate = 0.0;
    for (name, v) in all() {
        let e = extractors::by_name(&name).expect("listed");
        if e.stage() == Stage::Results {
            continue; // works on the others' results: it rides with the passes that feed it
        }
        let mut wanted = vec![(name.clone(), v)];
        if e.segments().is_some_and(|s| s.embedded) {
            wanted.extend(all().into_iter().filter(|(n, _)| {
                extractors::by_name(n).is_some_and(|e| e.stage() == Stage::Results)
            }));
        }
        separate += time(|| pass(&video, &wanted, &mut models, thumbs.path())).0;
    }
    let duration = decode(&video, &keyframes_only)
        .unwrap()
        .meta
        .duration
        .unwrap_or(0.0);
    println!(
        "\nfused pass over {duration:.0} s of video: {fused:.2} s ({:.1}x real time)",
        duration / fused
    );
    println!(
        "one pass per extractor: {separate:.2} s  -> fused is {:.2}x faster",
        separate / fused
    );
    println!("each extractor's share of the fused pass:");
    let total: f64 = last.outcomes.iter().map(|o| o.seconds).sum();
    for o in &last.outcomes {
        println!(
            "  {:<11} {:>6.2} s  {:>4.1} %",
            o.extractor,
            o.seconds,
            100.0 * o.seconds / total
        );
    }

    // 3. Images per second for one worker (one core), decode included.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&images)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    pass(&paths[0], &all(), &mut models, thumbs.path());
    let (t, outs): (f64, Vec<Output>) = time(|| {
        paths
            .iter()
            .map(|p| pass(p, &all(), &mut models, thumbs.path()))
            .collect()
    });
    println!(
        "\n{} images, one worker: {:.2} images/s ({:.0} ms each)",
        paths.len(),
        paths.len() as f64 / t,
        1000.0 * t / paths.len() as f64
    );
    let mut shares: std::collections::BTreeMap<String, f64> = Default::default();
    for o in outs.iter().flat_map(|o| &o.outcomes) {
        *shares.entry(o.extractor.clone()).or_default() += o.seconds;
    }
    let total: f64 = shares.values().sum();
    for (k, v) in shares {
        println!(
            "  {k:<11} {:>5.1} ms/image  {:>4.1} %",
            1000.0 * v / paths.len() as f64,
            100.0 * v / total
        );
    }

    if let Some(music) = std::env::var_os("VX_BENCH_MUSIC") {
        for video in std::env::split_paths(&music) {
            music_skip(&video, &pack, runs, thumbs.path());
        }
    }
}

/// The fused pass over a video with music, with the whole pack against the pack without the
/// audio-event model (Whisper then hears the music too), alternated.
fn music_skip(video: &Path, pack: &Path, runs: usize, thumbs: &Path) {
    let deaf = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(pack).unwrap().flatten() {
        if entry.file_name() != "audio" {
            std::os::unix::fs::symlink(entry.path(), deaf.path().join(entry.file_name())).unwrap();
        }
    }
    let mut listening = ModelSet::new(pack, RuntimeOptions::default(), 1);
    let mut deaf_models = ModelSet::new(deaf.path(), RuntimeOptions::default(), 1);
    let wanted = all();
    pass(video, &wanted, &mut listening, thumbs);
    pass(video, &wanted, &mut deaf_models, thumbs);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut said = (0, 0);
    let spoken = |o: &Output| {
        o.segments
            .iter()
            .filter(|s| s.source == "transcript")
            .count()
    };
    let (mut heard, mut whisper) = (Vec::new(), (Vec::new(), Vec::new()));
    let transcript_secs = |o: &Output| {
        o.outcomes
            .iter()
            .find(|x| x.extractor == "transcript")
            .map_or(0.0, |x| x.seconds)
    };
    let pcm = decode(video, &DecodePolicy::default())
        .unwrap()
        .audio
        .unwrap();
    for _ in 0..runs.min(3) {
        let (t, o) = time(|| pass(video, &wanted, &mut deaf_models, thumbs));
        without.push(t);
        whisper.0.push(transcript_secs(&o));
        said.0 = spoken(&o);
        let (t, o) = time(|| pass(video, &wanted, &mut listening, thumbs));
        with.push(t);
        whisper.1.push(transcript_secs(&o));
        said.1 = spoken(&o);
        let events = listening.audio_events().unwrap();
        heard.push(time(|| events.listen(&pcm).unwrap()).0);
    }
    let (with, without) = (median(with), median(without));
    let duration = decode(video, &DecodePolicy::default())
        .unwrap()
        .meta
        .duration
        .unwrap_or(0.0);
    println!("\n{duration:.0} s with music ({}):", video.display());
    println!(
        "  without the audio-event model: {without:.2} s ({:.1}x real time, {} transcript segments)",
        duration / without,
        said.0
    );
    println!(
        "  with it (sounds heard, Whisper only where there is speech): {with:.2} s ({:.1}x real \
         time, {} transcript segments)  -> {:.2}x faster",
        duration / with,
        said.1,
        without / with
    );
    println!(
        "  the transcript's own time {:.2} s without, {:.2} s with; hearing the {duration:.0} s: {:.3} s",
        median(whisper.0),
        median(whisper.1),
        median(heard)
    );
}
