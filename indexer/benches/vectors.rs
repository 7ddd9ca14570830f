//! Nearest neighbours over 384-d embeddings (not a test): the vector store's brute force
//! (int8 codes, integer dot products, every core) against the f32 scan it replaced, then the
//! sign-code prefilter (`SIGNS_FROM`), then the same store partitioned into lists (`VectorStore::partition`), on the same vectors and
//! queries in the same run; medians of 30 queries, how often the int8 scan agrees with f32 on
//! the top 10, and the approximate searches' recall@10 against the int8 brute force.
//!   cargo bench -p vx-indexer --bench vectors [-- ROWS...]

use std::time::Instant;

use vx_indexer::semantic::VectorStore;

const DIM: usize = 384;

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> Vec<f32> {
        let v: Vec<f32> = (0..DIM)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }
}

/// The f32 scan the store used before: one float sum per row, then the k best.
fn f32_nearest(data: &[f32], query: &[f32], k: usize) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> = data
        .chunks_exact(DIM)
        .map(|row| row.iter().zip(query).map(|(a, b)| a * b).sum())
        .enumerate()
        .collect();
    scored.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.into_iter().map(|(i, _)| i).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rows: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = if rows.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        rows
    };
    println!(
        "| rows | f32 scan ms | int8 brute force ms | speed-up | f32 MiB | int8 MiB | top-10 \
         agreement | sign codes then exact ms | its recall@10 | partitioning s | partitioned ms \
         | speed-up on brute force | recall@10 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for n in rows {
        let mut rng = Rng(1);
        // Clustered like embeddings of related sentences: 1,000 topics.
        let topics: Vec<Vec<f32>> = (0..1000).map(|_| rng.unit()).collect();
        let mut data = Vec::with_capacity(n * DIM);
        let mut store = VectorStore::empty(vx_indexer::semantic::Embedded::TextSegments);
        for i in 0..n {
            let noise = rng.unit();
            let v: Vec<f32> = topics[i % topics.len()]
                .iter()
                .zip(&noise)
                .map(|(a, b)| a + 0.8 * b)
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let v: Vec<f32> = v.into_iter().map(|x| x / norm).collect();
            store.push(i as i64, i as i64, &v);
            data.extend_from_slice(&v);
        }
        store.shrink();
        store.set_sign_prefilter(false);
        // Queries near a topic, as a query is near what answers it.
        let queries: Vec<Vec<f32>> = (0..30)
            .map(|i| {
                let noise = rng.unit();
                let v: Vec<f32> = topics[(i * 37) % topics.len()]
                    .iter()
                    .zip(&noise)
                    .map(|(a, b)| a + 0.8 * b)
                    .collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / norm).collect()
            })
            .collect();
        let (mut old, mut new, mut agree) = (Vec::new(), Vec::new(), 0);
        let mut brute = Vec::new();
        for q in &queries {
            let t = Instant::now();
            let a = f32_nearest(&data, q, 10);
            old.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let b = store.nearest(q, 10);
            new.push(t.elapsed().as_secs_f64() * 1000.0);
            agree += b.iter().filter(|x| a.contains(&(x.0 as usize))).count();
            brute.push(b);
        }
        store.set_sign_prefilter(true);
        let (mut signs, mut signs_found) = (Vec::new(), 0);
        for (q, b) in queries.iter().zip(&brute) {
            let t = Instant::now();
            let p = store.nearest(q, 10);
            signs.push(t.elapsed().as_secs_f64() * 1000.0);
            let tenth = b.last().map_or(f32::MIN, |x| x.2);
            signs_found += p.iter().filter(|x| x.2 >= tenth - 1e-6).count();
        }
        let t = Instant::now();
        store.partition(vx_indexer::semantic::PARTITION_MIN_ROWS);
        let build = t.elapsed().as_secs_f64();
        let (mut part, mut found) = (Vec::new(), 0);
        for (q, b) in queries.iter().zip(&brute) {
            let t = Instant::now();
            let p = store.nearest(q, 10);
            part.push(t.elapsed().as_secs_f64() * 1000.0);
            found += p.iter().filter(|x| b.iter().any(|y| y.0 == x.0)).count();
        }
        let (old, new, part, signs) = (median(old), median(new), median(part), median(signs));
        println!(
            "| {n} | {old:.1} | {new:.1} | {:.1}x | {:.0} | {:.0} | {:.1} % | {signs:.2} | {:.3} \
             | {build:.1} | {part:.2} | {:.1}x | {:.3} |",
            old / new,
            (data.len() * 4) as f64 / (1 << 20) as f64,
            store.memory_bytes() as f64 / (1 << 20) as f64,
            agree as f64 / (queries.len() * 10) as f64 * 100.0,
            signs_found as f64 / (queries.len() * 10) as f64,
            new / part,
            found as f64 / (queries.len() * 10) as f64,
        );
    }
}
