//! The semantic and visual channels: text-segment and frame embeddings in memory, searched by
//! dot product: brute force; from `SIGNS_FROM` text segments, exactly only over the rows whose
//! sign codes are nearest the query's; or, from the size the configuration's
//! `approximate_from` asks for (never by default), only the rows in the lists of an
//! inverted-file partition nearest to the query (`ivf`).

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::sync::{Barrier, OnceLock};

use crate::extractors::{Extractor, PHRASE_MIN_CONFIDENCE, Tags};
use crate::ivf::{self, Partition};
use crate::media::MediaKind;
use crate::people::person_key;
use crate::search::{Channel, Hit, Moment, Query};

use crate::paths::bytes_to_path;
use crate::store::{EmbeddedMoment, EmbeddedRow, Result, Store};

/// Segments the semantic channel hands to fusion.
/// Text that is this little like the query (cosine, MiniLM) is not an answer: without a
/// floor every embedded segment, and so every photo's label phrase, is a hit for every query.
/// On the judged set 0.15 and 0.25 keep every relevant file (fused MRR 0.906 and 0.917).
const SEMANTIC_FLOOR: f32 = 0.25;
const SEMANTIC_TOP: usize = 100;

/// What a vector store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedded {
    /// MiniLM embeddings of transcript and OCR segments: the semantic channel.
    TextSegments,
    /// CLIP embeddings of pictures and video frames: the visual channel.
    Frames,
}

/// Embeddings in memory (text segments or frames), as int8 with one scale per vector: a quarter of f32's
/// memory and of the bytes each query streams through, ranking as f32 does (see the tests and
/// docs/benchmarks.md). Brute force, on every core once there are enough rows to pay for it.
pub struct VectorStore {
    what: Embedded,
    dim: usize,
    /// The highest row id loaded: later ones are appended by `refresh`.
    max_id: i64,
    /// (segment or frame id, content id) per row.
    ids: Vec<(i64, i64)>,
    /// Per row, how much its match counts (below 1 for a phrase of faint labels,
    /// `faint_weight`): known before the rows are looked up, so that only the rows of the
    /// files a search lists are.
    weights: Vec<f32>,
    /// Row-major, `dim` values per row: round(value / scale).
    codes: Vec<i8>,
    /// Per row: its largest absolute value / 127.
    scales: Vec<f32>,
    /// Per row, `sign_words(dim)` words: bit i set when value i is positive.
    signs: Vec<u64>,
    /// Whether queries rank by the sign codes first (`SIGNS_FROM`; off for exact searches).
    use_signs: bool,
    /// Rows grouped by list, when there are enough to pay for it.
    partitioned: Option<Partitioned>,
}

/// A store's rows `0..offsets[lists]` sorted by the list of their nearest centroid; rows
/// appended since (up to the next full load) are scanned in full.
struct Partitioned {
    partition: Partition,
    /// Where each list's rows start, and where the last ends.
    offsets: Vec<usize>,
    /// Share of the lists a query scans.
    probe_share: f64,
}

/// Rows from which the benchmarks partition a store (below, brute force takes a few ms).
pub const PARTITION_MIN_ROWS: usize = 50_000;
/// Share of the lists a query scans (recall@10 against brute force: docs/benchmarks.md; on
/// real sentence embeddings too low for partitioning to be the default)…
const PROBE_SHARE: f64 = 1.0 / 16.0;
/// …and at least this many (a small store's few lists are scanned whole).
const PROBE_MIN_LISTS: usize = 8;

/// Rows from which a query first ranks every row by how many of its 384 signs differ from the
/// query's (a 48-byte sign code per row: an eighth of the int8 codes' bytes), then scores
/// exactly only the nearest candidates. On MiniLM embeddings of real sentences recall@10
/// against the exact scan was 0.995 at 50,000 rows with 1 % of them as candidates
/// (docs/benchmarks.md).
pub const SIGNS_FROM: usize = 20_000;
/// Candidates the sign codes pass on: this share of the rows, and at least `SIGNS_MIN_CANDIDATES`.
const SIGNS_CANDIDATE_SHARE: usize = 100;
const SIGNS_MIN_CANDIDATES: usize = 1_000;

/// Rows below which one thread scans them all (spawning costs more than it saves).
const PARALLEL_ROWS: usize = 32_768;

/// int8 codes and scale of a vector.
fn quantize(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    (v.iter().map(|x| (x / scale).round() as i8).collect(), scale)
}

/// 64-bit words of a sign code of `dim` values.
fn sign_words(dim: usize) -> usize {
    dim.div_ceil(64)
}

/// Appends the sign code of `v`: bit i of the code set when `v[i]` is positive.
fn push_signs(v: &[f32], out: &mut Vec<u64>) {
    for chunk in v.chunks(64) {
        out.push(
            chunk
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, x)| w | (u64::from(*x > 0.0) << i)),
        );
    }
}

/// Dot product of an int8 row with an int16 query, in integers (the compiler vectorises this
/// into multiply-adds; an in-order float sum would not vectorise).
#[inline(always)]
fn dot_i8(row: &[i8], query: &[i16]) -> i32 {
    row.iter()
        .zip(query)
        .map(|(&a, &b)| i32::from(a) * i32::from(b))
        .sum()
}

/// Scores rows against the query: dot product times the row's scale.
#[inline(always)]
fn score_rows(codes: &[i8], scales: &[f32], dim: usize, query: &[i16], out: &mut Vec<f32>) {
    out.extend(
        codes
            .chunks_exact(dim)
            .zip(scales)
            .map(|(row, s)| dot_i8(row, query) as f32 * s),
    );
}

/// The same loop compiled for AVX2 (twice as wide), used when the CPU has it: the release
/// build targets plain x86-64.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn score_rows_avx2(codes: &[i8], scales: &[f32], dim: usize, query: &[i16], out: &mut Vec<f32>) {
    score_rows(codes, scales, dim, query, out)
}

/// Appends to `out` each row's dot product with `query`, times its scale.
pub(crate) fn score(codes: &[i8], scales: &[f32], dim: usize, query: &[i16], out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just checked for AVX2.
        return unsafe { score_rows_avx2(codes, scales, dim, query, out) };
    }
    score_rows(codes, scales, dim, query, out)
}

impl VectorStore {
    pub fn empty(what: Embedded) -> VectorStore {
        VectorStore {
            what,
            dim: 0,
            max_id: 0,
            ids: Vec::new(),
            weights: Vec::new(),
            codes: Vec::new(),
            scales: Vec::new(),
            signs: Vec::new(),
            // Measured on MiniLM's embeddings only; CLIP's frames are scanned exactly.
            use_signs: what == Embedded::TextSegments,
            partitioned: None,
        }
    }

    /// Every embedding of that kind in the catalogue, searched by brute force.
    pub fn load(store: &Store, what: Embedded) -> Result<VectorStore> {
        let mut vs = VectorStore::empty(what);
        vs.append_from(store, 0)?;
        vs.shrink();
        Ok(vs)
    }

    /// As [`VectorStore::load`], then partitioned when there are at least `min_rows` rows
    /// (seconds at a million: done in the background while the loaded store serves).
    pub fn load_partitioned(store: &Store, what: Embedded, min_rows: usize) -> Result<VectorStore> {
        let mut vs = VectorStore::load(store, what)?;
        vs.partition(min_rows);
        Ok(vs)
    }

    /// Groups the rows by list (k-means over a sample, then every row to its nearest
    /// centroid), about the square root of the rows in lists; nothing below `min_rows` (0:
    /// never, every search exact).
    pub fn partition(&mut self, min_rows: usize) {
        let n = self.len();
        if min_rows == 0 || n < min_rows {
            self.partitioned = None;
            return;
        }
        let lists = ((n as f64).sqrt() as usize).clamp(1, 4096);
        let partition = ivf::train(&self.codes, &self.scales, self.dim, lists);
        let owner = ivf::assign(&self.codes, self.dim, &partition);
        let mut offsets = vec![0usize; partition.lists() + 1];
        for &l in &owner {
            offsets[l as usize + 1] += 1;
        }
        for l in 0..partition.lists() {
            offsets[l + 1] += offsets[l];
        }
        // A stable counting sort of the rows by list.
        let mut next = offsets.clone();
        let mut order = vec![0usize; n];
        for (row, &l) in owner.iter().enumerate() {
            order[next[l as usize]] = row;
            next[l as usize] += 1;
        }
        let dim = self.dim;
        let mut codes = Vec::with_capacity(self.codes.len());
        for &row in &order {
            codes.extend_from_slice(&self.codes[row * dim..(row + 1) * dim]);
        }
        self.codes = codes;
        self.scales = order.iter().map(|&r| self.scales[r]).collect();
        let words = sign_words(dim);
        let mut signs = Vec::with_capacity(self.signs.len());
        for &row in &order {
            signs.extend_from_slice(&self.signs[row * words..(row + 1) * words]);
        }
        self.signs = signs;
        self.ids = order.iter().map(|&r| self.ids[r]).collect();
        self.weights = order.iter().map(|&r| self.weights[r]).collect();
        self.partitioned = Some(Partitioned {
            partition,
            offsets,
            probe_share: PROBE_SHARE,
        });
    }

    /// Lists the rows are partitioned into; 0 when searched by brute force.
    pub fn lists(&self) -> usize {
        self.partitioned.as_ref().map_or(0, |p| p.partition.lists())
    }

    /// Scans `share` of the lists from now on (benchmarks weigh recall against time).
    pub fn set_probe_share(&mut self, share: f64) {
        if let Some(p) = &mut self.partitioned {
            p.probe_share = share.clamp(0.0, 1.0);
        }
    }

    /// Whether a full load would pay: `min_rows` to partition and no partition yet, or a
    /// quarter as many appended since as were partitioned.
    pub fn wants_partition(&self, min_rows: usize) -> bool {
        match &self.partitioned {
            None => min_rows > 0 && self.len() >= min_rows,
            Some(p) => {
                let done = *p.offsets.last().unwrap_or(&0);
                self.len() - done > done / 4
            }
        }
    }

    /// Appends the rows added since the last load, without copying what is loaded. Rows
    /// deleted or changed since stay as they were until the next full `load` (search skips
    /// what is gone); the caller reloads fully now and then, which also catches reused ids.
    pub fn refresh(&mut self, store: &Store) -> Result<usize> {
        let before = self.ids.len();
        self.append_from(store, self.max_id)?;
        Ok(self.ids.len() - before)
    }

    fn append_from(&mut self, store: &Store, after_id: i64) -> Result<()> {
        let mut v: Vec<f32> = Vec::new();
        store.embeddings_after(self.what, after_id, |id, content, blob, row| {
            self.max_id = self.max_id.max(id);
            v.clear();
            v.extend(crate::store::blob_f32(blob));
            self.push_weighed(id, content, &v, faint_weight(row));
        })
    }

    /// Adds one embedding; one of another dimension than the first is ignored.
    pub fn push(&mut self, segment: i64, content: i64, v: &[f32]) {
        self.push_weighed(segment, content, v, 1.0);
    }

    fn push_weighed(&mut self, segment: i64, content: i64, v: &[f32], weight: f32) {
        if self.dim == 0 {
            self.dim = v.len();
        }
        if v.len() == self.dim && self.dim > 0 {
            let (codes, scale) = quantize(v);
            self.ids.push((segment, content));
            self.weights.push(weight);
            self.codes.extend_from_slice(&codes);
            self.scales.push(scale);
            push_signs(v, &mut self.signs);
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Gives back the memory that growing left unused.
    pub fn shrink(&mut self) {
        self.ids.shrink_to_fit();
        self.weights.shrink_to_fit();
        self.codes.shrink_to_fit();
        self.scales.shrink_to_fit();
        self.signs.shrink_to_fit();
    }

    /// Ranks by the sign codes first from `SIGNS_FROM` rows (the default for text segments),
    /// or always scans every row exactly (benchmarks and tests compare).
    pub fn set_sign_prefilter(&mut self, on: bool) {
        self.use_signs = on;
    }

    /// Bytes held (codes, scales, sign codes, ids, weights).
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity()
            + self.scales.capacity() * 4
            + self.weights.capacity() * 4
            + self.signs.capacity() * 8
            + self.ids.capacity() * std::mem::size_of::<(i64, i64)>()
    }

    /// The `k` best (row, score / query scale) among rows `first..first + rows`.
    fn scan(
        &self,
        query: &[i16],
        first: usize,
        rows: usize,
        k: usize,
        allow: Option<&HashSet<i64>>,
    ) -> Vec<(usize, f32)> {
        let mut scores = Vec::with_capacity(rows);
        score(
            &self.codes[first * self.dim..(first + rows) * self.dim],
            &self.scales[first..first + rows],
            self.dim,
            query,
            &mut scores,
        );
        let scored: Vec<(usize, f32)> = scores
            .into_iter()
            .enumerate()
            .map(|(i, s)| (first + i, s))
            .filter(|(i, _)| allow.is_none_or(|a| a.contains(&self.ids[*i].1)))
            .collect();
        keep_best(scored, k)
    }

    /// The `k` nearest (segment id, content id, score) by dot product.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(i64, i64, f32)> {
        self.nearest_among(query, k, None)
    }

    /// As [`VectorStore::nearest`], only among rows of the `allow`ed contents.
    pub fn nearest_among(
        &self,
        query: &[f32],
        k: usize,
        allow: Option<&HashSet<i64>>,
    ) -> Vec<(i64, i64, f32)> {
        self.nearest_rows(query, k, allow)
            .into_iter()
            .map(|(i, s)| (self.ids[i].0, self.ids[i].1, s))
            .collect()
    }

    /// The `k` nearest (row, score), best first, among rows of the `allow`ed contents.
    fn nearest_rows(
        &self,
        query: &[f32],
        k: usize,
        allow: Option<&HashSet<i64>>,
    ) -> Vec<(usize, f32)> {
        if query.len() != self.dim || self.dim == 0 || k == 0 {
            return Vec::new();
        }
        // The query as int16: finer than the rows, and products still fit an i32 sum.
        let max = query.iter().fold(0f32, |m, x| m.max(x.abs()));
        if max == 0.0 {
            return Vec::new();
        }
        let q_scale = max / 32767.0;
        let q: Vec<i16> = query.iter().map(|x| (x / q_scale).round() as i16).collect();
        let n = self.len();
        // Filtered searches scan exactly: their best allowed rows may be only faintly like the
        // query, where sign codes tell little (tried on the unit test's rows: recall@10 0.95).
        if self.use_signs && self.partitioned.is_none() && allow.is_none() && n >= SIGNS_FROM {
            let want = (n / SIGNS_CANDIDATE_SHARE).max(SIGNS_MIN_CANDIDATES).max(k);
            let best = self.sign_nearest(query, &q, want, k);
            return Self::top(best, k, q_scale);
        }
        // (first row, rows) to scan: the nearest lists and what was appended since, or all.
        let ranges: Vec<(usize, usize)> = match &self.partitioned {
            Some(p) => {
                let lists = p.partition.lists();
                let probe = ((lists as f64 * p.probe_share).ceil() as usize).max(PROBE_MIN_LISTS);
                let done = *p.offsets.last().unwrap_or(&0);
                let mut r: Vec<(usize, usize)> = p
                    .partition
                    .nearest_lists(query, probe)
                    .into_iter()
                    .map(|l| (p.offsets[l], p.offsets[l + 1] - p.offsets[l]))
                    .collect();
                r.push((done, n - done));
                r
            }
            None => vec![(0, n)],
        };
        let total: usize = ranges.iter().map(|r| r.1).sum();
        let threads = if total >= PARALLEL_ROWS {
            scan_threads()
        } else {
            1
        };
        let scan_all = |pieces: &[(usize, usize)]| -> Vec<(usize, f32)> {
            pieces
                .iter()
                .flat_map(|&(first, rows)| self.scan(&q, first, rows, k, allow))
                .collect()
        };
        let shares = split(&ranges, threads);
        // The calling thread scans the first share.
        let best: Vec<(usize, f32)> = std::thread::scope(|s| {
            let others: Vec<_> = shares[1..]
                .iter()
                .map(|share| s.spawn(|| scan_all(share)))
                .collect();
            let mut best = scan_all(&shares[0]);
            for other in others {
                best.extend(other.join().expect("scan does not panic"));
            }
            best
        });
        Self::top(best, k, q_scale)
    }

    /// The `k` best of (row, score / query scale), best first, as (row, score).
    fn top(mut best: Vec<(usize, f32)>, k: usize, q_scale: f32) -> Vec<(usize, f32)> {
        best.sort_by(|a, b| b.1.total_cmp(&a.1));
        best.truncate(k);
        best.into_iter().map(|(i, s)| (i, s * q_scale)).collect()
    }

    /// The `k` best (row, score / query scale) among the `want` rows whose sign codes differ
    /// least from the query's (`q`: the query as int16). Each thread counts differing signs
    /// over its share of the rows, waits for the others' counts, then scores its share of the
    /// candidates; the calling thread takes the first share (a spawn costs 0.1-0.8 ms on a
    /// busy machine: docs/benchmarks.md, session 22).
    fn sign_nearest(&self, query: &[f32], q: &[i16], want: usize, k: usize) -> Vec<(usize, f32)> {
        let (dim, words) = (self.dim, sign_words(self.dim));
        let mut query_signs = Vec::with_capacity(words);
        push_signs(query, &mut query_signs);
        let n = self.len();
        let share = n.div_ceil(scan_threads()).max(1);
        let shares = n.div_ceil(share);
        // Per share, how many of its rows differ by each count.
        let counts: Vec<OnceLock<Vec<usize>>> = (0..shares).map(|_| OnceLock::new()).collect();
        let counted = Barrier::new(shares);
        let work = |i: usize| -> Vec<(usize, f32)> {
            let first = i * share;
            let rows = share.min(n - first);
            let mut differ = vec![0u16; rows];
            let signs = &self.signs[first * words..(first + rows) * words];
            sign_distances(signs, words, &query_signs, &mut differ);
            let mut mine = vec![0usize; dim + 1];
            for &d in &differ {
                mine[d as usize] += 1;
            }
            counts[i].set(mine).expect("each share counts once");
            counted.wait();
            let all: Vec<&[usize]> = counts
                .iter()
                .map(|c| c.get().expect("every share counted").as_slice())
                .collect();
            let (cut, mut quota) = sign_cut(&all, want, i);
            let mut candidates = Vec::new();
            for (j, &d) in differ.iter().enumerate() {
                if d > cut || (d == cut && quota == 0) {
                    continue;
                }
                if d == cut {
                    quota -= 1;
                }
                candidates.push(first + j);
            }
            // The candidates lie scattered over the store: each row's codes are fetched a few
            // rows ahead of its scoring (docs/benchmarks.md, session 19).
            let mut best = Vec::with_capacity(candidates.len());
            let mut one = Vec::with_capacity(1);
            for (x, &row) in candidates.iter().enumerate() {
                if let Some(&ahead) = candidates.get(x + PREFETCH_AHEAD) {
                    prefetch(&self.codes[ahead * dim..(ahead + 1) * dim]);
                }
                one.clear();
                let codes = &self.codes[row * dim..(row + 1) * dim];
                score(codes, &self.scales[row..row + 1], dim, q, &mut one);
                best.push((row, one[0]));
            }
            keep_best(best, k)
        };
        let work = &work;
        std::thread::scope(|s| {
            let others: Vec<_> = (1..shares).map(|i| s.spawn(move || work(i))).collect();
            let mut best = work(0);
            for other in others {
                best.extend(other.join().expect("scoring does not panic"));
            }
            best
        })
    }
}

/// The smallest count of differing signs that lets `want` rows through (every row under it,
/// and rows at it, the first shares' first, until `want`), and how many rows at it share
/// `share` may pass on. `counts`: per share, how many rows differ by each count.
fn sign_cut(counts: &[&[usize]], want: usize, share: usize) -> (u16, usize) {
    let top = counts.first().map_or(0, |c| c.len().saturating_sub(1));
    let at = |d: usize| counts.iter().map(|c| c[d]).sum::<usize>();
    let (mut cut, mut below) = (0, 0);
    while cut < top && below + at(cut) < want {
        below += at(cut);
        cut += 1;
    }
    let mut left = want.saturating_sub(below);
    let mut quota = 0;
    for c in &counts[..=share] {
        quota = c[cut].min(left);
        left -= quota;
    }
    (cut as u16, quota)
}

/// How many bits of each row's sign code (`words` words a row) differ from `query`'s.
#[inline(always)]
fn sign_distances_of(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    for (row, d) in signs.chunks_exact(words).zip(out) {
        *d = row
            .iter()
            .zip(query)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum::<u32>() as u16;
    }
}

/// The same loop with the CPU's population count instruction, when it has one (the release
/// build targets plain x86-64, where counting bits takes a dozen instructions).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn sign_distances_popcnt(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    sign_distances_of(signs, words, query, out)
}

fn sign_distances(signs: &[u64], words: usize, query: &[u64], out: &mut [u16]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU was just checked for POPCNT.
        return unsafe { sign_distances_popcnt(signs, words, query, out) };
    }
    sign_distances_of(signs, words, query, out)
}

/// How much a row's match counts: a phrase of faint labels as much as its likeliest label
/// (`evidence::weight`), anything else fully.
fn faint_weight(row: EmbeddedRow<'_>) -> f32 {
    if row.confidence < PHRASE_MIN_CONFIDENCE {
        crate::evidence::weight(row.source, row.confidence, row.span, None)
    } else {
        1.0
    }
}

/// How many candidate rows ahead of the one being scored are fetched into the cache.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to bring `bytes` into its cache, without waiting for them.
#[inline(always)]
fn prefetch(bytes: &[i8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(64) {
        // SAFETY: a prefetch only hints; the address is that of a live slice.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

/// Threads a scan of many rows is shared among: every core, up to 8.
fn scan_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(8)
}

/// The `k` best-scoring of (row, score), in no particular order.
fn keep_best(mut scored: Vec<(usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}

/// `ranges` of rows cut into `threads` shares of about as many rows each.
fn split(ranges: &[(usize, usize)], threads: usize) -> Vec<Vec<(usize, usize)>> {
    let total: usize = ranges.iter().map(|r| r.1).sum();
    let share = total.div_ceil(threads.max(1)).max(1);
    let mut out = vec![Vec::new()];
    let mut filled = 0;
    for &(mut first, mut rows) in ranges {
        while rows > 0 {
            if filled == share {
                out.push(Vec::new());
                filled = 0;
            }
            let take = rows.min(share - filled);
            out.last_mut()
                .expect("one share at least")
                .push((first, take));
            first += take;
            rows -= take;
            filled += take;
        }
    }
    out
}

/// Files (with their moments) that the nearest rows belong to, in rank order, after the
/// request's filters: the semantic channel over text segments, the visual one over frames.
pub fn semantic_hits(
    store: &Store,
    vectors: &VectorStore,
    query: &[f32],
    req: &Query,
) -> Result<Vec<Hit>> {
    let mut hits: Vec<Hit> = Vec::new();
    let mut by_path: HashMap<Vec<u8>, usize> = HashMap::new();
    let prefix = prefix_bytes(req);
    let ranked_by = match vectors.what {
        Embedded::TextSegments => Channel::Semantic,
        Embedded::Frames => Channel::Visual,
    };
    let channel = ranked_by.name();
    // A frame's moment says what the tagger saw then.
    let label_source = Tags.segments().map_or("", |s| s.source);
    // Filters apply before ranking: the nearest rows are looked for among the files they allow.
    let allowed = allowed_contents(store, req)?;
    // With a voice, only what it says: the files are those it speaks in, the moments its own
    // (each content's turns read once).
    let voices = match &req.voice {
        Some(v) => Some(store.groups_matching(&crate::voices::VOICES, &person_key(v))?),
        None => None,
    };
    let mut turns: HashMap<i64, Vec<crate::voices::Turn>> = HashMap::new();
    let floor = match vectors.what {
        Embedded::TextSegments => SEMANTIC_FLOOR,
        Embedded::Frames => f32::MIN,
    };
    let started = std::time::Instant::now();
    // (row id, content id, score weighed by the row's weight), best first.
    let mut nearest: Vec<(i64, i64, f32)> = vectors
        .nearest_rows(query, SEMANTIC_TOP, allowed.as_ref())
        .into_iter()
        .filter(|&(_, score)| score >= floor)
        .map(|(row, score)| {
            let (id, content) = vectors.ids[row];
            (id, content, ranked_by.weighed(score, vectors.weights[row]))
        })
        .collect();
    nearest.sort_by(|a, b| b.2.total_cmp(&a.2));
    let scanned = started.elapsed();
    // Only the rows of as many contents as the request lists are looked up (the rest cost a
    // millisecond at 100,000 items, docs/benchmarks.md, session 22); more when some have no
    // file to list.
    let wanted = (req.limit as usize).max(1);
    let mut taken: HashSet<i64> = HashSet::new();
    let mut next = 0;
    while hits.len() < wanted && next < nearest.len() {
        let mut contents: Vec<i64> = Vec::new();
        while next < nearest.len() && contents.len() < wanted - hits.len() {
            let content = nearest[next].1;
            if taken.insert(content) {
                contents.push(content);
            }
            next += 1;
        }
        let batch: HashSet<i64> = contents.iter().copied().collect();
        // Every row of those contents, however far down: a file keeps its best moments.
        let rows: Vec<&(i64, i64, f32)> = nearest.iter().filter(|r| batch.contains(&r.1)).collect();
        let row_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut moments = store.embedded_moments(vectors.what, &row_ids, label_source)?;
        contents.sort_unstable();
        let files = store.searchable_files_of(&contents)?;
        // Rows replaced since the vectors were loaded drop out.
        for &&(row_id, content_id, score) in &rows {
            let Some(moment) = moments.remove(&row_id) else {
                continue;
            };
            let EmbeddedMoment {
                source,
                start,
                end,
                text,
                ..
            } = moment;
            if let Some(ids) = &voices {
                let turns = match turns.entry(content_id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(store.turns(content_id)?)
                    }
                };
                let said = crate::voices::said_by(turns, &source, start, end);
                if !said
                    .and_then(|t| t.voice_id)
                    .is_some_and(|v| ids.contains(&v))
                {
                    continue;
                }
            }
            for file in files.get(&content_id).into_iter().flatten() {
                let Some(kind) = MediaKind::parse(&file.kind) else {
                    continue;
                };
                if req.kind.is_some_and(|k| k != kind)
                    || prefix.as_ref().is_some_and(|p| !file.path.starts_with(p))
                    || req.after.is_some_and(|a| file.date < a)
                    || req.before.is_some_and(|b| file.date >= b)
                {
                    continue;
                }
                let moment = Moment {
                    start,
                    end,
                    text: crate::extractors::split_hidden(&text).0.to_string(),
                    sources: if source == channel {
                        vec![source.clone()]
                    } else {
                        vec![source.clone(), channel.into()]
                    },
                    thumbnail: None,
                    scene: None,
                    speaker: None,
                };
                match by_path.get(&file.path) {
                    Some(&i) => {
                        if hits[i].moments.len() < 3 {
                            hits[i].moments.push(moment);
                        }
                    }
                    None => {
                        by_path.insert(file.path.clone(), hits.len());
                        hits.push(Hit {
                            path: bytes_to_path(file.path.clone()),
                            kind,
                            score,
                            evidence: Vec::new(),
                            online: file.online,
                            moments: vec![moment],
                            thumbnail: None,
                            clip: None,
                        });
                    }
                }
            }
        }
    }
    tracing::debug!(
        channel,
        rows = vectors.len(),
        looked_up = taken.len(),
        scanned_ms = crate::search::ms(scanned),
        total_ms = crate::search::ms(started.elapsed()),
        "nearest rows"
    );
    Ok(hits)
}

/// `--path` as the bytes every path under it starts with ("/a/b/").
fn prefix_bytes(req: &Query) -> Option<Vec<u8>> {
    req.path_prefix.as_ref().map(|p| {
        let mut b = p.components().as_path().as_os_str().as_bytes().to_vec();
        b.push(b'/');
        b
    })
}

/// The contents a request's filters allow, or None when it has none. (The text channel
/// filters inside tantivy; the vector channels rank only among these.)
pub fn allowed_contents(store: &Store, req: &Query) -> Result<Option<HashSet<i64>>> {
    let filtered = req.kind.is_some()
        || req.path_prefix.is_some()
        || req.after.is_some()
        || req.before.is_some()
        || !req.has.is_empty()
        || req.person.is_some()
        || req.voice.is_some();
    if !filtered {
        return Ok(None);
    }
    let prefix = prefix_bytes(req);
    let has: Vec<_> = req
        .has
        .iter()
        .map(|w| crate::extractors::has_test(w))
        .collect();
    // The person and the voice are resolved to group ids once, then one lookup per file.
    let mut in_groups = Vec::new();
    for (g, key) in req.group_filters() {
        in_groups.push((g, store.groups_matching(g, &person_key(key))?));
    }
    let mut allowed = HashSet::new();
    for (file, has_all) in store.searchable_files_with(&has, &in_groups)? {
        let ok = has_all
            && req
                .kind
                .is_none_or(|k| MediaKind::parse(&file.kind) == Some(k))
            && prefix.as_ref().is_none_or(|p| file.path.starts_with(p))
            && req.after.is_none_or(|a| file.date >= a)
            && req.before.is_none_or(|b| file.date < b);
        if ok {
            allowed.insert(file.content_id);
        }
    }
    Ok(Some(allowed))
}

/// The unit-length mean of some embeddings (what several frames of one file show, the windows
/// of one voice), if any.
pub fn mean_direction<'a>(vectors: impl IntoIterator<Item = &'a [f32]>) -> Option<Vec<f32>> {
    let mut vectors = vectors.into_iter().peekable();
    let dim = vectors.peek()?.len();
    let mut sum = vec![0f32; dim];
    for v in vectors.filter(|v| v.len() == dim) {
        sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
    }
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 0.0).then(|| sum.into_iter().map(|x| x / norm).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::paths::path_bytes;

    /// A transcript extraction with one embedded segment.
    fn transcript(text: &str, v: &[f32]) -> crate::extract::Output {
        embedded("transcript", text, v, 1.0)
    }

    /// An extraction with one embedded segment of `source`.
    pub(crate) fn embedded(
        source: &str,
        text: &str,
        v: &[f32],
        confidence: f32,
    ) -> crate::extract::Output {
        use crate::extract::{Outcome, Output, SegmentOut};
        Output {
            segments: vec![SegmentOut {
                extractor: source.into(),
                source: source.into(),
                start: 1.0,
                end: 2.0,
                text: text.into(),
                confidence,
                embedding: Some(v.to_vec()),
            }],
            outcomes: vec![Outcome {
                extractor: source.into(),
                version: 1,
                error: None,
                seconds: 0.0,
            }],
            ..Output::default()
        }
    }

    /// Catalogues `dir/folder/i.wav` (under `root`) as indexed, with `output` extracted from it.
    pub(crate) fn add_file(
        store: &Store,
        root: i64,
        dir: &std::path::Path,
        i: usize,
        folder: &str,
        output: &crate::extract::Output,
    ) {
        use crate::store::{ContentMeta, FileStat};
        let path = dir.join(folder).join(format!("{i}.wav"));
        let stat = FileStat {
            dev: 1,
            inode: i as u64 + 1,
            size: 1,
            mtime_ns: 0,
        };
        let file = store.insert_file(root, &path, &stat).unwrap();
        let meta = ContentMeta {
            kind: Some(MediaKind::Audio),
            ..ContentMeta::default()
        };
        let (c, _) = store
            .insert_content(format!("h{i}").as_bytes(), 1, &meta)
            .unwrap();
        store
            .conn()
            .execute(
                "UPDATE files SET content_id = ?1, state = 'indexed' WHERE id = ?2",
                [c, file],
            )
            .unwrap();
        store.save_output(c, output).unwrap();
    }

    #[test]
    fn refresh_appends_new_embeddings_and_skips_deleted_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let meta = crate::store::ContentMeta {
            kind: Some(MediaKind::Audio),
            ..Default::default()
        };
        let (a, _) = store.insert_content(b"a", 1, &meta).unwrap();
        store
            .save_output(a, &transcript("hello", &[1.0, 0.0]))
            .unwrap();
        let mut vs = VectorStore::load(&store, Embedded::TextSegments).unwrap();
        assert_eq!(vs.len(), 1);
        let (b, _) = store.insert_content(b"b", 1, &meta).unwrap();
        store
            .save_output(b, &transcript("world", &[0.0, 1.0]))
            .unwrap();
        assert_eq!(vs.refresh(&store).unwrap(), 1);
        assert_eq!(vs.refresh(&store).unwrap(), 0, "nothing new");
        // Re-running the extractor replaces the segment: the old vector is stale until a reload.
        assert_eq!(store.counter("vectors_changed").unwrap(), 0);
        store
            .save_output(a, &transcript("hello again", &[1.0, 0.0]))
            .unwrap();
        assert_eq!(
            store.counter("vectors_changed").unwrap(),
            1,
            "the replaced vector is counted, so the daemon reloads"
        );
        vs.refresh(&store).unwrap();
        let nearest = vs.nearest(&[1.0, 0.0], 3);
        assert_eq!(nearest.len(), 3, "the stale row is still in memory");
        assert_eq!(
            VectorStore::load(&store, Embedded::TextSegments)
                .unwrap()
                .len(),
            2,
            "a full load drops it"
        );
    }

    #[test]
    fn filters_apply_before_ranking() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root = store.add_root(dir.path(), 1).unwrap();
        // 150 recordings in a/ close to the query, one in b/ far from it.
        let add = |i: usize, folder: &str, v: [f32; 2]| {
            add_file(
                &store,
                root,
                dir.path(),
                i,
                folder,
                &transcript(&format!("words {i}"), &v),
            );
        };
        for i in 0..150 {
            add(i, "a", [1.0, 0.01 * i as f32]);
        }
        add(999, "b", [0.3, 1.0]); // far, yet over the floor
        let vs = VectorStore::load(&store, Embedded::TextSegments).unwrap();
        let request = |prefix: Option<&str>| Query {
            query: "q".into(),
            path_prefix: prefix.map(|p| dir.path().join(p)),
            limit: 10,
            ..Query::default()
        };
        let all = semantic_hits(&store, &vs, &[1.0, 0.0], &request(None)).unwrap();
        assert!(
            all.iter()
                .all(|h| !h.path.starts_with(dir.path().join("b")))
        );
        let b = semantic_hits(&store, &vs, &[1.0, 0.0], &request(Some("b"))).unwrap();
        assert_eq!(b.len(), 1, "the far file, the only one in b/");
        assert!(b[0].path.ends_with("b/999.wav"));
        let speech_only = Query {
            has: vec!["text".into()],
            ..request(None)
        };
        assert!(
            semantic_hits(&store, &vs, &[1.0, 0.0], &speech_only)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rows_are_looked_up_for_the_files_listed_and_past_those_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root = store.add_root(dir.path(), 1).unwrap();
        for i in 0..30 {
            let mut out = transcript(&format!("near {i}"), &unit(vec![1.0, 0.05 * i as f32]));
            if i == 0 {
                // A second moment, ranked below every other file's.
                let far = transcript("far", &unit(vec![0.5, 1.0])).segments.remove(0);
                out.segments.push(far);
            }
            add_file(&store, root, dir.path(), i, "a", &out);
        }
        // Files 1-5, the nearest after 0, have nothing to list.
        store
            .conn()
            .execute(
                "UPDATE files SET state = 'pending' WHERE path IN (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params_from_iter(
                    (1..=5).map(|i| path_bytes(&dir.path().join(format!("a/{i}.wav"))).to_vec()),
                ),
            )
            .unwrap();
        let vs = VectorStore::load(&store, Embedded::TextSegments).unwrap();
        let q = Query {
            query: "near".into(),
            limit: 10,
            ..Query::default()
        };
        let hits = semantic_hits(&store, &vs, &[1.0, 0.0], &q).unwrap();
        let names: Vec<String> = hits
            .iter()
            .map(|h| h.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        let expected: Vec<String> = std::iter::once(0)
            .chain(6..15)
            .map(|i| format!("{i}.wav"))
            .collect();
        assert_eq!(names, expected);
        let texts: Vec<&str> = hits[0].moments.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(
            texts,
            ["near 0", "far"],
            "a file keeps its moments further down"
        );
    }

    #[test]
    fn a_phrase_of_faint_labels_counts_as_its_likeliest_label() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root = store.add_root(dir.path(), 1).unwrap();
        let v = [1.0, 0.0];
        for (i, confidence) in [(1, 0.06), (2, 0.9), (3, 0.1)] {
            let phrase = embedded("labels", "kite", &v, confidence);
            add_file(&store, root, dir.path(), i, "a", &phrase);
        }
        let vs = VectorStore::load(&store, Embedded::TextSegments).unwrap();
        let q = Query {
            query: "kite".into(),
            limit: 10,
            ..Query::default()
        };
        let hits = semantic_hits(&store, &vs, &v, &q).unwrap();
        let names: Vec<_> = hits.iter().map(|h| h.path.file_name().unwrap()).collect();
        assert_eq!(names.len(), 3);
        assert_eq!(names[2], "1.wav", "the faint phrase last");
        assert_eq!(hits[0].score, hits[1].score, "sure phrases count in full");
        let faint = Channel::Semantic.relevance(hits[2].score);
        assert!(
            faint <= 0.12 * Channel::Semantic.relevance(hits[0].score) + 1e-3,
            "{faint}"
        );
    }

    #[test]
    fn nearest_vectors_by_dot_product() {
        let mut vs = VectorStore::empty(Embedded::TextSegments);
        vs.push(1, 10, &[1.0, 0.0]);
        vs.push(2, 20, &[0.0, 1.0]);
        vs.push(3, 30, &[0.7, 0.7]);
        vs.push(4, 40, &[0.7, 0.7, 0.1]);
        assert_eq!(vs.len(), 3, "another dimension is ignored");
        let n = vs.nearest(&[0.0, 1.0], 2);
        assert_eq!(n.iter().map(|x| x.0).collect::<Vec<_>>(), vec![2, 3]);
        assert!(
            (n[0].2 - 1.0).abs() < 0.01 && (n[1].2 - 0.7).abs() < 0.01,
            "{n:?}"
        );
        assert!(vs.nearest(&[1.0], 2).is_empty(), "dimension mismatch");
    }

    /// A deterministic pseudo-random unit vector (xorshift).
    fn unit_vector(seed: &mut u64, dim: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..dim)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                (*seed % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect();
        unit(v)
    }

    fn unit(mut v: Vec<f32>) -> Vec<f32> {
        vx_models::normalize(&mut v);
        v
    }

    #[test]
    fn int8_ranks_as_f32_does_on_one_thread_and_many() {
        // Clustered vectors (like embeddings of similar sentences), more rows than one thread scans.
        let dim = 384;
        let mut seed = 7u64;
        let centres: Vec<Vec<f32>> = (0..50).map(|_| unit_vector(&mut seed, dim)).collect();
        let mut exact: Vec<Vec<f32>> = Vec::new();
        let mut vs = VectorStore::empty(Embedded::TextSegments);
        for i in 0..(PARALLEL_ROWS + 5_000) {
            let noise = unit_vector(&mut seed, dim);
            let c = &centres[i % centres.len()];
            let v: Vec<f32> = c.iter().zip(&noise).map(|(a, b)| a + 0.6 * b).collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            let v: Vec<f32> = v.into_iter().map(|x| x / n).collect();
            vs.push(i as i64, i as i64, &v);
            exact.push(v);
        }
        let mut overlap = 0;
        for q in 0..10 {
            let query = &exact[q * 997];
            let mut truth: Vec<(usize, f32)> = exact
                .iter()
                .enumerate()
                .map(|(i, v)| (i, v.iter().zip(query).map(|(a, b)| a * b).sum()))
                .collect();
            truth.sort_by(|a, b| b.1.total_cmp(&a.1));
            let got = vs.nearest(query, 10);
            assert_eq!(got[0].0 as usize, q * 997, "itself first");
            assert!(
                (got[1].2 - truth[1].1).abs() < 0.01,
                "{} vs {}",
                got[1].2,
                truth[1].1
            );
            overlap += got
                .iter()
                .filter(|g| truth[..10].iter().any(|t| t.0 == g.0 as usize))
                .count();
        }
        assert!(overlap >= 95, "top-10 overlap {overlap} of 100");
        vs.shrink();
        assert_eq!(
            vs.memory_bytes(),
            vs.len() * (dim + 4 + 4 + 16 + 8 * sign_words(dim))
        );
    }

    /// A unit vector near `topic`: the topic plus `noise` times a random unit vector.
    fn near_topic(seed: &mut u64, topic: &[f32], noise: f32) -> Vec<f32> {
        let random = unit_vector(seed, topic.len());
        unit(
            topic
                .iter()
                .zip(&random)
                .map(|(a, b)| a + noise * b)
                .collect(),
        )
    }

    #[test]
    fn a_partitioned_store_finds_what_brute_force_finds() {
        // Clustered rows, written in a cycle of topics (as a file's segments come in turn).
        let dim = 48;
        let mut seed = 11u64;
        let topics: Vec<Vec<f32>> = (0..300).map(|_| unit_vector(&mut seed, dim)).collect();
        let near = |seed: &mut u64, t: usize| near_topic(seed, &topics[t], 0.8);
        let mut vs = VectorStore::empty(Embedded::TextSegments);
        vs.set_sign_prefilter(false);
        for i in 0..PARTITION_MIN_ROWS + 10_000 {
            vs.push(i as i64, i as i64, &near(&mut seed, i % topics.len()));
        }
        assert!(vs.wants_partition(PARTITION_MIN_ROWS));
        let queries: Vec<Vec<f32>> = (0..20).map(|i| near(&mut seed, i * 13)).collect();
        let brute: Vec<_> = queries.iter().map(|q| vs.nearest(q, 10)).collect();
        vs.partition(PARTITION_MIN_ROWS);
        assert!(!vs.wants_partition(PARTITION_MIN_ROWS));
        let mut found = 0;
        for (q, b) in queries.iter().zip(&brute) {
            let got = vs.nearest(q, 10);
            found += got.iter().filter(|g| b.iter().any(|x| x.0 == g.0)).count();
            assert!(got.windows(2).all(|w| w[0].2 >= w[1].2), "best first");
        }
        assert!(found >= 196, "recall@10 {found} of 200");
        // Rows appended after partitioning are searched in full until the next one.
        let late = near(&mut seed, 5);
        vs.push(-1, -1, &late);
        assert_eq!(vs.nearest(&late, 1)[0].0, -1);
        for i in 0..PARTITION_MIN_ROWS / 4 + 2_500 {
            vs.push(i as i64, i as i64, &near(&mut seed, i % topics.len()));
        }
        assert!(
            vs.wants_partition(PARTITION_MIN_ROWS),
            "a quarter more rows: partition again"
        );
        vs.partition(0);
        assert_eq!(vs.lists(), 0, "0: never partitioned");
    }

    #[test]
    fn sign_codes_pass_on_what_the_exact_scan_finds() {
        let dim = 384;
        let mut seed = 5u64;
        let topics: Vec<Vec<f32>> = (0..500).map(|_| unit_vector(&mut seed, dim)).collect();
        let near = |seed: &mut u64, t: usize| near_topic(seed, &topics[t], 1.0);
        let mut vs = VectorStore::empty(Embedded::TextSegments);
        for i in 0..SIGNS_FROM + 5_000 {
            vs.push(
                i as i64,
                (i % 1000) as i64,
                &near(&mut seed, i % topics.len()),
            );
        }
        let queries: Vec<Vec<f32>> = (0..20).map(|i| near(&mut seed, i * 7)).collect();
        let allow: HashSet<i64> = (0..1000).filter(|c| c % 3 == 0).collect();
        let mut found = 0;
        for q in &queries {
            vs.set_sign_prefilter(false);
            let exact = vs.nearest(q, 10);
            let exact_among = vs.nearest_among(q, 10, Some(&allow));
            vs.set_sign_prefilter(true);
            let got = vs.nearest(q, 10);
            let got_among = vs.nearest_among(q, 10, Some(&allow));
            assert!(got.windows(2).all(|w| w[0].2 >= w[1].2), "best first");
            assert_eq!(got_among, exact_among, "filtered: exact");
            // Found: at least as near as the exact scan's tenth (ties count).
            found += got.iter().filter(|g| g.2 >= exact[9].2 - 1e-6).count();
        }
        assert!(found >= 196, "recall@10 {found} of 200");
    }

    #[test]
    fn the_sign_cut_passes_on_exactly_the_rows_wanted() {
        // Rows by differing signs: share 0 has 1 row at 0, 2 at 1; share 1 has 2 at 1.
        let counts: [&[usize]; 2] = [&[1, 2, 3], &[0, 2, 5]];
        // Four wanted: every row at 0, then three at 1, the first share's first.
        assert_eq!(sign_cut(&counts, 4, 0), (1, 2));
        assert_eq!(sign_cut(&counts, 4, 1), (1, 1));
        // More wanted than there are: every row passes.
        assert_eq!(sign_cut(&counts, 99, 0), (2, 3));
        assert_eq!(sign_cut(&counts, 99, 1), (2, 5));
    }

    #[test]
    fn scans_are_split_into_even_shares() {
        let shares = split(&[(0, 10), (100, 3), (200, 7)], 2);
        assert_eq!(shares, vec![vec![(0, 10)], vec![(100, 3), (200, 7)]]);
        let shares = split(&[(0, 9)], 2);
        assert_eq!(shares, vec![vec![(0, 5)], vec![(5, 4)]]);
        assert_eq!(split(&[(0, 4)], 1), vec![vec![(0, 4)]]);
    }
}
