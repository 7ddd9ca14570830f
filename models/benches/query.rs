//! A lone search query's MiniLM embedding, as vxd makes it (its own session, spinning off):
//! median and p90 of 300 runs of short queries per loader, on one thread and on two; the
//! float pass that stored texts get against the int8 products that queries get, rounds
//! alternating, and how close their embeddings are. Not a test.
//!
//!   VX_MODELS_DIR=../shared/models cargo bench -p vx-models --bench query

use std::time::Instant;

use vx_models::*;

const QUERIES: [&str; 6] = [
    "dog",
    "dog on the beach",
    "someone in formal clothes",
    "view from high above the city",
    "man introducing himself to the camera",
    "the quick brown fox",
];

/// Sentences whose two embeddings are compared (the queries too).
const SENTENCES: [&str; 6] = [
    "A man is eating food.",
    "two white dogs on the grass",
    "people drinking wine in a pub",
    "the birch canoe slid on the smooth planks",
    "countdown three two one lift off",
    "x",
];

fn percentile(times: &mut [f64], p: usize) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() * p / 100]
}

fn main() {
    let Some(pack) = std::env::var_os("VX_MODELS_DIR") else {
        eprintln!("VX_MODELS_DIR is not set: nothing to measure");
        return;
    };
    let pack = std::path::Path::new(&pack);
    match vx_models::int8_matmul::int8_form() {
        Some(form) => println!("int8 products in the {form:?} form\n"),
        None => println!("this CPU has neither VNNI nor AVX2: both rows are float\n"),
    }
    println!("| threads | products | p50 ms | p90 ms |\n|---|---|---|---|");
    for threads in [1, 2] {
        let options = RuntimeOptions {
            library: None,
            threading: Threading::PerSession(threads),
        };
        let mut models = ModelSet::new(pack, options, 1);
        models.text().expect("the pack's text model");
        models.query_text().expect("the pack's text model");
        let mut times = [Vec::new(), Vec::new()];
        for round in 0..6 {
            for (which, t) in times.iter_mut().enumerate() {
                let embedder = if which == 0 {
                    models.text().unwrap()
                } else {
                    models.query_text().unwrap()
                };
                for q in QUERIES {
                    embedder.embed(&[q]).unwrap(); // warm-up
                }
                for i in 0..50 {
                    let q = QUERIES[(i + round) % QUERIES.len()];
                    let start = Instant::now();
                    embedder.embed(&[q]).unwrap();
                    t.push(start.elapsed().as_secs_f64() * 1000.0);
                }
            }
        }
        for (name, mut t) in ["float", "int8"].into_iter().zip(times) {
            let (p50, p90) = (percentile(&mut t, 50), percentile(&mut t, 90));
            println!("| {threads} | {name} | {p50:.2} | {p90:.2} |");
        }
        if threads == 1 {
            let cosines: Vec<f32> = QUERIES
                .iter()
                .chain(&SENTENCES)
                .map(|s| {
                    let a = models.text().unwrap().embed(&[s]).unwrap().remove(0);
                    let b = models.query_text().unwrap().embed(&[s]).unwrap().remove(0);
                    a.iter().zip(&b).map(|(x, y)| x * y).sum()
                })
                .collect();
            let min = cosines.iter().copied().fold(1.0, f32::min);
            let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
            println!("\ncosine of the two embeddings: min {min:.4}, mean {mean:.4}\n");
        }
    }
}
