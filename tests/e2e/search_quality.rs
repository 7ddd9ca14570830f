//! Search quality on two judged sets. tests/eval/judged.json: the evaluation media are built
//! from ../shared/media plus generated pictures, slideshows and recordings with known content.
//! tests/eval/real.json: real photos, videos and recordings from Debian packages
//! (scripts/fetch-eval-media.sh), its queries split into a tuning and a held-out half. Each set
//! is indexed with the real models, and every query is run per channel and fused. A test fails
//! if fused ranking falls below its floor (on each half); with VX_EVAL_REPORT=FILE and
//! VX_EVAL_REAL_REPORT=FILE they also write the tables that docs/search-quality.md shows
//! (scripts/eval-search.sh).

use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// Fused ranking must find a relevant file in the top 5 for at least this share of queries…
const FLOOR_RECALL_AT_5: f64 = 0.88;
/// …and keep at least this mean reciprocal rank.
const FLOOR_MRR: f64 = 0.8;
/// The same floor for each half of the real set (tests/eval/real.json).
const REAL_FLOOR_RECALL_AT_5: f64 = 0.55;
const REAL_FLOOR_MRR: f64 = 0.45;
/// Results fetched per query (a relevant file below this rank scores 0).
const DEPTH: usize = 10;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// A picture of lines of text, drawn with ffmpeg.
fn text_picture(out: &Path, size: &str, background: &str, lines: &[(&str, u32)]) {
    let mut filters = Vec::new();
    let mut y = 40;
    for (text, px) in lines {
        filters.push(format!(
            "drawtext=fontfile={FONT}:text='{text}':fontsize={px}:fontcolor=black:x=30:y={y}"
        ));
        y += px * 2;
    }
    let filter = filters.join(",");
    let colour = format!("color=c={background}:s={size}:d=1");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &colour,
        "-vf",
        &filter,
        "-frames:v",
        "1",
        out.to_str().unwrap(),
    ]);
}

/// Spoken sentences (espeak-ng) that answer no judged query but two, and distract the rest.
const SPOKEN: &[&str] = &[
    "Remember to call the plumber on Tuesday morning about the leaking kitchen tap.",
    "The weather tomorrow will be cloudy with rain in the afternoon and a cold wind.",
    "Our football team won the match three goals to one after a late goal.",
    "Please water the tomato plants in the garden while I am away next week.",
    "The flight to Madrid has been delayed by two hours because of fog.",
];

/// Pictures of text that answer no judged query.
const WRITTEN: &[&[(&str, u32)]] = &[
    &[("Soup of the day", 36), ("Tomato and basil   4.50", 28)],
    &[("NO PARKING", 48), ("Tow away zone", 36)],
    &[("Happy birthday Anna", 40), ("Love from all of us", 30)],
    &[
        ("Chapter 3", 36),
        ("The river was cold and dark that night.", 22),
    ],
];

/// Test patterns with no words in them: fractal, colour bars, a cellular automaton; a moving
/// test card with a tone.
fn patterns(dir: &Path) {
    for (source, name) in [
        ("mandelbrot=s=640x480", "IMG_6001.png"),
        ("smptebars=s=640x480", "IMG_6002.png"),
        ("cellauto=s=640x480:rule=110", "IMG_6003.png"),
    ] {
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            source,
            "-frames:v",
            "1",
            dir.join(name).to_str().unwrap(),
        ]);
    }
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x480:d=8:r=25",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=8",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        dir.join("VID_6004.mp4").to_str().unwrap(),
    ]);
}

/// Files named as in judged.json, in `dir`.
fn build_media(media: &Path, dir: &Path) {
    for (i, sentence) in SPOKEN.iter().enumerate() {
        let out = dir.join(format!("REC_400{}.wav", i + 1));
        let ok = std::process::Command::new("espeak-ng")
            .args(["-s", "150", "-w", out.to_str().unwrap(), sentence])
            .status()
            .expect("espeak-ng (scripts/setup.sh installs it)")
            .success();
        assert!(ok, "espeak-ng {sentence}");
    }
    for (i, lines) in WRITTEN.iter().enumerate() {
        text_picture(
            &dir.join(format!("IMG_500{}.png", i + 1)),
            "640x360",
            "white",
            lines,
        );
    }
    patterns(dir);
    let m = media;
    let src = |name: &str| m.join(name).to_str().unwrap().to_string();
    let dst = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for (from, to) in [
        ("astronaut.png", "IMG_1001.png"),
        ("chelsea.png", "IMG_1002.png"),
        ("coffee.png", "IMG_1003.png"),
        ("page.png", "IMG_1004.png"),
        ("librivox-0870.wav", "REC_2001.wav"),
        ("librivox-0880.wav", "REC_2002.wav"),
    ] {
        std::fs::copy(m.join(from), dir.join(to)).unwrap();
    }
    // The cat small in a wide white frame; the coffee in greyscale JPEG.
    ffmpeg(&[
        "-i",
        &src("chelsea.png"),
        "-vf",
        "scale=220:-1,pad=800:600:300:200:white",
        &dst("IMG_1005.jpg"),
    ]);
    ffmpeg(&[
        "-i",
        &src("coffee.png"),
        "-vf",
        "format=gray",
        &dst("IMG_1006.jpg"),
    ]);
    text_picture(
        &dir.join("IMG_1007.png"),
        "480x520",
        "white",
        &[
            ("CORNER GROCERY", 34),
            ("Bananas   2.40", 28),
            ("Whole milk   1.10", 28),
            ("Bread   2.25", 28),
            ("TOTAL   5.75", 30),
        ],
    );
    text_picture(
        &dir.join("IMG_1008.png"),
        "720x300",
        "yellow",
        &[("Platform 4", 48), ("Trains to London", 44)],
    );
    let slide = dir.join("slide.png");
    text_picture(
        &slide,
        "640x480",
        "white",
        &[
            ("Quarterly budget review", 36),
            ("Revenue up 4 percent", 30),
        ],
    );
    // 15 s: the cat 0-5 s, the coffee 5-10 s, the astronaut 10-15 s; speech (0870) from 6 s.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=640x480:d=15:r=25",
        "-loop",
        "1",
        "-i",
        &src("chelsea.png"),
        "-loop",
        "1",
        "-i",
        &src("coffee.png"),
        "-loop",
        "1",
        "-i",
        &src("astronaut.png"),
        "-i",
        &src("librivox-0870.wav"),
        "-filter_complex",
        "[1]scale=640:480,format=yuv420p[a1];[2]scale=640:480,format=yuv420p[a2];\
         [3]scale=640:480,format=yuv420p[a3];[0][a1]overlay=enable='between(t,0,5)'[v1];\
         [v1][a2]overlay=enable='between(t,5,10)'[v2];[v2][a3]overlay=enable='between(t,10,15)'[v];\
         [4]adelay=6000|6000,apad[a]",
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        "15",
        "-g",
        "50",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        &dst("VID_3001.mp4"),
    ]);
    // 12 s: the page 0-6 s, a slide 6-12 s; speech (0880) from 7 s.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=640x480:d=12:r=25",
        "-loop",
        "1",
        "-i",
        &src("page.png"),
        "-loop",
        "1",
        "-i",
        slide.to_str().unwrap(),
        "-i",
        &src("librivox-0880.wav"),
        "-filter_complex",
        "[1]scale=640:-2,pad=640:480:0:(oh-ih)/2:white,format=yuv420p[p];\
         [2]scale=640:480,format=yuv420p[s];[0][p]overlay=enable='between(t,0,6)'[v1];\
         [v1][s]overlay=enable='between(t,6,12)'[v];[3]adelay=7000|7000,apad[a]",
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-t",
        "12",
        "-g",
        "50",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        &dst("VID_3002.mp4"),
    ]);
    std::fs::remove_file(&slide).unwrap();
    // A recording: 0880 at 0 s, 0870 at 5 s.
    ffmpeg(&[
        "-i",
        &src("librivox-0880.wav"),
        "-i",
        &src("librivox-0870.wav"),
        "-filter_complex",
        "[1]adelay=5000|5000[b];[0][b]amix=inputs=2:duration=longest:normalize=0[a]",
        "-map",
        "[a]",
        "-c:a",
        "aac",
        &dst("REC_2003.m4a"),
    ]);
}

/// A judged answer: a file, and for media with time the span where the answer is.
struct Judged {
    file: String,
    span: Option<(f64, f64)>,
}

fn judged(entry: &str) -> Judged {
    match entry.split_once('@') {
        Some((file, span)) => {
            let (a, b) = span.split_once('-').expect("span as START-END");
            Judged {
                file: file.into(),
                span: Some((a.parse().unwrap(), b.parse().unwrap())),
            }
        }
        None => Judged {
            file: entry.into(),
            span: None,
        },
    }
}

/// What one channel did on one query.
struct Ranked {
    /// 1-based rank of the first relevant file, if within DEPTH.
    first: Option<usize>,
    /// For that file, whether its best moment falls in the judged span (None: no span judged).
    moment_right: Option<bool>,
}

fn rank(results: &Value, relevant: &[Judged]) -> Ranked {
    let results = results["results"].as_array().unwrap();
    for (i, r) in results.iter().enumerate() {
        let name = Path::new(r["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if let Some(j) = relevant.iter().find(|j| j.file == name) {
            let moment_right = j.span.map(|(a, b)| {
                r["moments"][0]["start"]
                    .as_f64()
                    .zip(r["moments"][0]["end"].as_f64())
                    // Half a second of slack: speech onsets are not exact.
                    .is_some_and(|(s, e)| s <= b + 0.5 && e >= a - 0.5)
            });
            return Ranked {
                first: Some(i + 1),
                moment_right,
            };
        }
    }
    Ranked {
        first: None,
        moment_right: None,
    }
}

#[derive(Default)]
struct Score {
    queries: usize,
    in_top5: usize,
    reciprocal: f64,
    moments: usize,
    moments_right: usize,
}

impl Score {
    fn add(&mut self, r: &Ranked) {
        self.queries += 1;
        if r.first.is_some_and(|f| f <= 5) {
            self.in_top5 += 1;
        }
        self.reciprocal += r.first.map_or(0.0, |f| 1.0 / f as f64);
        if let Some(right) = r.moment_right {
            self.moments += 1;
            self.moments_right += right as usize;
        }
    }
    fn recall(&self) -> f64 {
        self.in_top5 as f64 / self.queries as f64
    }
    fn mrr(&self) -> f64 {
        self.reciprocal / self.queries as f64
    }
}

const CHANNELS: &[(&str, &[&str])] = &[
    ("text (BM25)", &["--channel", "text"]),
    ("semantic", &["--channel", "semantic"]),
    ("fused", &[]),
];

/// A judged set's queries run per channel: the scores of each channel and the report's table.
struct Evaluation {
    /// Per channel of [`CHANNELS`], per half ("" when the set has no halves).
    scores: Vec<(String, Vec<Score>)>,
    /// Queries about absent things that brought back a confident result.
    absent_confident: Vec<String>,
    report: String,
}

fn evaluate(d: &Daemon, set: &Value) -> Evaluation {
    let mut halves: Vec<(String, Vec<Score>)> = Vec::new();
    let mut rows = Vec::new();
    let mut absent = 0;
    let mut absent_confident = Vec::new();
    for q in set["queries"].as_array().unwrap() {
        let query = q["q"].as_str().unwrap();
        let half = q["half"].as_str().unwrap_or("").to_string();
        let relevant: Vec<Judged> = q["relevant"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| judged(r.as_str().unwrap()))
            .collect();
        let limit = DEPTH.to_string();
        if let Some(dump) = std::env::var_os("VX_EVAL_DUMP") {
            dump_evidence(d, q, Path::new(&dump));
        }
        if relevant.is_empty() {
            let results = d.json(&["search", query, "--limit", &limit]);
            let results = results["results"].as_array().unwrap();
            let best = results
                .iter()
                .filter_map(|h| h["score"].as_f64())
                .fold(0.0, f64::max);
            absent += 1;
            if results.iter().any(|h| h["weak"] == false) {
                absent_confident.push(query.to_string());
            }
            rows.push(format!(
                "| `{query}` (absent) | {} results, best relevance {best:.2} | | |",
                results.len()
            ));
            continue;
        }
        if !halves.iter().any(|(h, _)| *h == half) {
            halves.push((
                half.clone(),
                CHANNELS.iter().map(|_| Score::default()).collect(),
            ));
        }
        let scores = &mut halves.iter_mut().find(|(h, _)| *h == half).unwrap().1;
        let mut cells = vec![format!("`{query}`")];
        for (c, (_, args)) in CHANNELS.iter().enumerate() {
            let mut a = vec!["search", query, "--limit", &limit];
            a.extend_from_slice(args);
            let results = d.json(&a);
            // The best of a shorter list is the best of the longer one (shown first unless a
            // sharper near-duplicate takes its place, `duplicates::sharpest_first`).
            let mut one = vec!["search", query, "--limit", "1"];
            one.extend_from_slice(args);
            let first = d.json(&one);
            if let Some(short) = first["results"].get(0) {
                let long = results["results"].as_array().unwrap();
                let best = long
                    .iter()
                    .filter_map(|h| h["score"].as_f64())
                    .fold(0.0, f64::max);
                assert!(
                    long.iter()
                        .any(|h| h["path"] == short["path"] && h["score"] == short["score"])
                        && short["score"].as_f64() == Some(best),
                    "{query:?} {args:?}: --limit 1 gives {} at {}, --limit {limit}'s best is {best}",
                    short["path"],
                    short["score"]
                );
            }
            let r = rank(&results, &relevant);
            scores[c].add(&r);
            cells.push(match (r.first, r.moment_right) {
                (None, _) => "-".into(),
                (Some(f), Some(false)) => format!("{f} (wrong moment)"),
                (Some(f), _) => f.to_string(),
            });
        }
        rows.push(format!("| {} |", cells.join(" | ")));
    }
    let mut report = String::from(
        "| channel | relevant file in top 5 | recall@5 | MRR | moment right |\n|---|---|---|---|---|\n",
    );
    for (half, scores) in &halves {
        for ((name, _), s) in CHANNELS.iter().zip(scores) {
            let name = if half.is_empty() {
                name.to_string()
            } else {
                format!("{name}, {half}")
            };
            report += &format!(
                "| {name} | {} of {} | {:.2} | {:.3} | {} of {} |\n",
                s.in_top5,
                s.queries,
                s.recall(),
                s.mrr(),
                s.moments_right,
                s.moments
            );
        }
    }
    if absent > 0 {
        report += &format!(
            "\nQueries about absent things answered with a confident result (one not marked \
             weak): {} of {absent}\n",
            absent_confident.len()
        );
    }
    report += "\nRank of the first relevant file per query (- : not in the top 10):\n\n";
    report += "| query | text | semantic | fused |\n|---|---|---|---|\n";
    report += &rows.join("\n");
    report += "\n";
    Evaluation {
        scores: halves,
        absent_confident,
        report,
    }
}

fn judged_set(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("eval")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Writes the report where VX_EVAL_REPORT (or, for the real set, VX_EVAL_REAL_REPORT) says.
fn keep_report(var: &str, report: &str) {
    eprintln!("{report}");
    if let Some(path) = std::env::var_os(var) {
        std::fs::write(path, report).unwrap();
    }
}

/// Fails when fused ranking of any half is below the floor, or moments are too often wrong.
fn assert_floor(e: &Evaluation, recall: f64, mrr: f64) {
    for (half, scores) in &e.scores {
        let fused = scores.last().unwrap();
        assert!(
            fused.recall() >= recall && fused.mrr() >= mrr,
            "fused search fell below its floor on {half:?} (recall@5 {:.2} < {recall} or MRR \
             {:.3} < {mrr}):\n{}",
            fused.recall(),
            fused.mrr(),
            e.report
        );
        assert!(
            fused.moments_right * 10 >= fused.moments * 8,
            "moments: {} of {} right\n{}",
            fused.moments_right,
            fused.moments,
            e.report
        );
    }
}

/// A daemon with `models` that has indexed, without a failure, what `fill` puts in its media
/// folder.
fn indexed(models: &Path, fill: impl FnOnce(&Path)) -> Daemon {
    let mut d = Daemon::with_models(models);
    fill(&d.media);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "900"]);
    assert_eq!(d.count("failed"), 0, "{}", d.status());
    d
}

#[test]
fn fused_search_finds_the_judged_files_and_moments() {
    let Some(shared) = pack() else { return };
    let set = judged_set("judged.json");
    let d = indexed(&shared.models, |dir| build_media(&shared.media, dir));
    let e = evaluate(&d, &set);
    keep_report("VX_EVAL_REPORT", &e.report);
    assert_floor(&e, FLOOR_RECALL_AT_5, FLOOR_MRR);
}

/// The judged set of real media from packages (tests/eval/real.json), tuning and held-out
/// halves each held to their floor.
#[test]
fn fused_search_holds_up_on_real_media() {
    let Some(pack) = pack() else { return };
    let Some(media) = vx_testkit::eval_media() else {
        return;
    };
    let set = judged_set("real.json");
    let d = indexed(&pack.models, |dir| {
        for name in set["media"].as_object().unwrap().keys() {
            std::fs::copy(media.join(name), dir.join(name)).unwrap();
        }
    });
    let e = evaluate(&d, &set);
    keep_report("VX_EVAL_REAL_REPORT", &e.report);
    assert_floor(&e, REAL_FLOOR_RECALL_AT_5, REAL_FLOOR_MRR);
    assert!(
        e.absent_confident.is_empty(),
        "confident answers to queries about things no file holds: {:?}\n{}",
        e.absent_confident,
        e.report
    );
    // And a person reading the answer is told so.
    let said = d.ok(&["search", "elephant"]);
    assert!(said.starts_with("nothing matches confidently"), "{said}");
    let said = d.ok(&["search", "samoyed"]);
    assert!(
        said.contains("strong match") && said.contains("weaker matches:"),
        "{said}"
    );
}

/// One JSON line per query for scripts/calibrate-relevance.py: the query, its half, the judged
/// files, and each of the top 30 results' file with the evidence of every channel.
fn dump_evidence(d: &Daemon, q: &Value, to: &Path) {
    use std::io::Write;
    let r = d.json(&["search", q["q"].as_str().unwrap(), "--limit", "30"]);
    let results: Vec<Value> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let file = Path::new(h["path"].as_str().unwrap()).file_name().unwrap();
            serde_json::json!({"file": file.to_string_lossy(), "evidence": h["evidence"]})
        })
        .collect();
    let line = serde_json::json!({
        "q": q["q"], "half": q["half"], "relevant": q["relevant"], "results": results,
    });
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(to)
        .unwrap();
    writeln!(f, "{line}").unwrap();
}
