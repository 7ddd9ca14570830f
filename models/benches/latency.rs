//! Per-model latency (ms per item) at batch 1 and batch 8, text-embedder throughput and the
//! transcriber's real-time factor, on the sample media and the model pack.
//! Threading from VX_BENCH_THREADS: "caller" (1 thread per session) or "global:N".
//! Run through scripts/bench-models.sh, which runs both and prints the table.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use vx_models::*;

const RUNS: usize = 7;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median ms per item of `f` over a batch of `n`.
fn per_item(n: usize, mut f: impl FnMut() -> usize) -> f64 {
    f(); // warm-up: the first run pays for allocations and graph set-up
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let items = f();
                assert_eq!(items, n);
                t.elapsed().as_secs_f64() * 1000.0 / n as f64
            })
            .collect(),
    )
}

fn main() {
    let Some(pack) = common::pack() else { return };
    let threading = match std::env::var("VX_BENCH_THREADS").as_deref() {
        Ok(s) if s.starts_with("global:") => {
            Threading::GlobalPool(s[7..].parse().expect("global:N"))
        }
        _ => Threading::CallerThread,
    };
    let rt = Runtime::get(&RuntimeOptions {
        library: None,
        threading,
    })
    .expect("ONNX Runtime");
    let photos = [
        common::png("astronaut.png"),
        common::png("chelsea.png"),
        common::png("coffee.png"),
    ];
    let batch = |n: usize| -> Vec<RgbView> { (0..n).map(|i| photos[i % 3].view()).collect() };
    let page = common::png("page.png");
    let row = |name: &str, b1: f64, b8: Option<f64>| {
        let b8 = b8.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        println!("| {name} | {b1:.1} | {b8} |");
    };
    println!(
        "threading: {threading:?}\n\n| model | ms/item batch 1 | ms/item batch 8 |\n|---|---|---|"
    );

    let load = Instant::now();
    let mut tagger = Tagger::load(&rt, &pack).unwrap();
    let load_ms = load.elapsed().as_secs_f64() * 1000.0;
    let b1 = per_item(1, || tagger.tag(&batch(1), 5, 0.0).unwrap().len());
    let b8 = per_item(8, || tagger.tag(&batch(8), 5, 0.0).unwrap().len());
    row(
        &format!("tagger 224x224 (load {load_ms:.0} ms)"),
        b1,
        Some(b8),
    );

    let mut det = Detector::load(&rt, &pack).unwrap();
    let b1 = per_item(1, || det.detect(&batch(1), 0.3).unwrap().len());
    row("detector 512x512 (fixed batch 1)", b1, None);

    let mut faces = Faces::load(&rt, &pack).unwrap();
    let astro = photos[0].view();
    let b1 = per_item(1, || faces.detect(&astro, 0.5).unwrap().len());
    row("face detector 512x512", b1, None);
    let b1 = per_item(1, || faces.faces(&astro, 0.5).unwrap().len());
    row("face detector + 1 descriptor", b1, None);

    let mut ocr = Ocr::load(&rt, &pack).unwrap();
    let b1 = per_item(1, || {
        ocr.read(&page.view()).unwrap();
        1
    });
    row("OCR page.png (det 1472x736, cls, 5 lines rec)", b1, None);

    let mut emb = TextEmbedder::load(&rt, &pack).unwrap();
    let short = "a man is eating food on the beach";
    let b1 = per_item(1, || emb.embed(&[short]).unwrap().len());
    let b8 = per_item(8, || emb.embed(&[short; 8]).unwrap().len());
    row("MiniLM short sentence", b1, Some(b8));
    let b32 = per_item(32, || emb.embed(&[short; 32]).unwrap().len());
    println!(
        "\nMiniLM throughput, batches of 32 short sentences: {:.0} sentences/s",
        1000.0 / b32
    );

    // Whisper on the two clips, and on 60 s of them looped (two 30 s windows and more), with
    // the weights as stored (f16) and as vx loads them (8-bit), alternating.
    let mut clips = common::wav("librivox-0870.wav");
    clips.extend(common::wav("librivox-0880.wav"));
    let minute: Vec<f32> = clips.iter().copied().cycle().take(60 * 16000).collect();
    for (weights, threads) in [
        (WhisperWeights::AsStored, 2),
        (WhisperWeights::Int8, 2),
        (WhisperWeights::AsStored, 1),
        (WhisperWeights::Int8, 1),
    ] {
        let loaded = Instant::now();
        let whisper = Transcriber::load_as(&pack, threads, weights).unwrap();
        let load = loaded.elapsed().as_secs_f64() * 1000.0;
        for pcm in [&clips, &minute] {
            let secs = pcm.len() as f64 / 16000.0;
            // Three runs, no warm-up: a minute of speech takes seconds.
            let ms = median(
                (0..3)
                    .map(|_| {
                        let t = Instant::now();
                        whisper.transcribe(pcm, 16000).unwrap();
                        t.elapsed().as_secs_f64() * 1000.0
                    })
                    .collect(),
            );
            println!(
                "Whisper tiny.en {weights:?} ({threads} threads, loaded in {load:.0} ms), {secs:.1} s of speech: {ms:.0} ms, real-time factor {:.3}",
                ms / 1000.0 / secs
            );
        }
    }
}
