//! A lone search query's MiniLM embedding, as vxd makes it (its own session, spinning off):
//! median and p90 of 300 runs of short queries, on one thread and on two. Not a test.
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

fn main() {
    let Some(pack) = std::env::var_os("VX_MODELS_DIR") else {
        eprintln!("VX_MODELS_DIR is not set: nothing to measure");
        return;
    };
    println!("| threads | p50 ms | p90 ms |\n|---|---|---|");
    for threads in [1, 2] {
        let options = RuntimeOptions {
            library: None,
            threading: Threading::PerSession(threads),
        };
        let mut models = ModelSet::new(std::path::Path::new(&pack), options, 1);
        let embedder = models.text().expect("the pack's text model");
        for q in QUERIES {
            embedder.embed(&[q]).unwrap(); // warm-up
        }
        let mut times: Vec<f64> = (0..300)
            .map(|i| {
                let t = Instant::now();
                embedder.embed(&[QUERIES[i % QUERIES.len()]]).unwrap();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "| {threads} | {:.2} | {:.2} |",
            times[times.len() / 2],
            times[times.len() * 9 / 10]
        );
    }
}
