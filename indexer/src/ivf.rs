//! An inverted-file partition of a vector store's rows: spherical k-means on a sample picks
//! `lists` centroids, every row joins the list of its nearest, and a query scans only the
//! lists whose centroids are nearest to it. Approximate: a neighbour filed under a list that
//! is not probed is missed (docs/benchmarks.md measures how often, against brute force).

use crate::semantic::score;

/// Lloyd iterations of k-means (the assignment barely moves after a few on embeddings).
const ITERATIONS: usize = 6;
/// Sample rows per list that k-means learns from.
const SAMPLE_PER_LIST: usize = 32;

/// Centroids of the lists, f32 unit vectors, `dim` values per list.
pub struct Partition {
    pub dim: usize,
    pub centroids: Vec<f32>,
}

impl Partition {
    pub fn lists(&self) -> usize {
        self.centroids.len() / self.dim.max(1)
    }

    /// The `probe` lists whose centroids are nearest to `query`, best first.
    pub fn nearest_lists(&self, query: &[f32], probe: usize) -> Vec<usize> {
        let mut scored: Vec<(usize, f32)> = self
            .centroids
            .chunks_exact(self.dim)
            .map(|c| dot_f32(c, query))
            .enumerate()
            .collect();
        let probe = probe.clamp(1, scored.len());
        scored.select_nth_unstable_by(probe - 1, |a, b| b.1.total_cmp(&a.1));
        scored.truncate(probe);
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.into_iter().map(|(i, _)| i).collect()
    }
}

/// Dot product in eight lanes (an in-order float sum would not vectorise).
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// int8 codes and a scale of each centroid, for scoring rows against them as the store
/// scores rows against a query.
fn quantized(centroids: &[f32], dim: usize) -> (Vec<i8>, Vec<f32>) {
    let mut codes = Vec::with_capacity(centroids.len());
    let mut scales = Vec::with_capacity(centroids.len() / dim);
    for c in centroids.chunks_exact(dim) {
        let max = c
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()))
            .max(f32::MIN_POSITIVE);
        let s = max / 127.0;
        codes.extend(c.iter().map(|x| (x / s).round() as i8));
        scales.push(s);
    }
    (codes, scales)
}

/// The row as an int16 query (what the store does with a query).
fn as_query(codes: &[i8]) -> Vec<i16> {
    codes.iter().map(|&c| i16::from(c) * 256).collect()
}

/// For each of `rows` (int8 codes, `dim` per row), the index of its nearest centroid; on
/// every core.
pub fn assign(codes: &[i8], dim: usize, partition: &Partition) -> Vec<u32> {
    let (c_codes, c_scales) = quantized(&partition.centroids, dim);
    let n = codes.len() / dim;
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(8);
    let per = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = codes
            .chunks(per * dim)
            .map(|chunk| {
                let (c_codes, c_scales) = (&c_codes, &c_scales);
                s.spawn(move || {
                    let mut scores = Vec::with_capacity(c_scales.len());
                    chunk
                        .chunks_exact(dim)
                        .map(|row| {
                            scores.clear();
                            score(c_codes, c_scales, dim, &as_query(row), &mut scores);
                            let best = scores
                                .iter()
                                .enumerate()
                                .max_by(|a, b| a.1.total_cmp(b.1))
                                .map_or(0, |(i, _)| i);
                            best as u32
                        })
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("assignment does not panic"))
            .collect()
    })
}

/// Spherical k-means over a pseudo-random sample of the rows (int8 codes with a scale
/// each): `lists` unit centroids. (Not an evenly spaced sample: rows written in a cycle,
/// as one file's segments are, would all start alike.)
pub fn train(codes: &[i8], scales: &[f32], dim: usize, lists: usize) -> Partition {
    let n = scales.len();
    let take = (lists * SAMPLE_PER_LIST).min(n);
    let mut seed = 0x9E37_79B9_7F4A_7C15_u64 ^ n as u64;
    let sample: Vec<usize> = (0..take)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        })
        .collect();
    let mut sample_codes = Vec::with_capacity(take * dim);
    for &r in &sample {
        sample_codes.extend_from_slice(&codes[r * dim..(r + 1) * dim]);
    }
    let row = |i: usize| -> Vec<f32> {
        let r = sample[i];
        codes[r * dim..(r + 1) * dim]
            .iter()
            .map(|&c| f32::from(c) * scales[r])
            .collect()
    };
    // Start from sample rows (the sample is in random order already).
    let lists = lists.min(take).max(1);
    let mut partition = Partition {
        dim,
        centroids: (0..lists).flat_map(|l| row(l * take / lists)).collect(),
    };
    normalise_each(&mut partition.centroids, dim);
    for _ in 0..ITERATIONS {
        let owner = assign(&sample_codes, dim, &partition);
        let mut sums = vec![0f32; lists * dim];
        let mut counts = vec![0usize; lists];
        for (i, &l) in owner.iter().enumerate() {
            let l = l as usize;
            counts[l] += 1;
            for (s, x) in sums[l * dim..(l + 1) * dim].iter_mut().zip(row(i)) {
                *s += x;
            }
        }
        for l in 0..lists {
            // An empty list keeps its centroid (it may win rows next time).
            if counts[l] > 0 {
                partition.centroids[l * dim..(l + 1) * dim]
                    .copy_from_slice(&sums[l * dim..(l + 1) * dim]);
            }
        }
        normalise_each(&mut partition.centroids, dim);
    }
    partition
}

fn normalise_each(v: &mut [f32], dim: usize) {
    for c in v.chunks_exact_mut(dim) {
        let n = c.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            c.iter_mut().for_each(|x| *x /= n);
        }
    }
}
