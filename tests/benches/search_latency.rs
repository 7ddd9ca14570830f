//! Search latency over RPC (not a test; scripts/bench-search.sh runs it): a catalogue of N
//! synthetic text segments (ten per recording), each embedded as the sum of its words' MiniLM
//! embeddings, the release vxd serving it, and queries timed from the client: text only,
//! semantic only and fused, while idle and while the workers extract real photos. Prints
//! p50/p99 per mode, the vector store's memory and vxd's resident memory.
//!
//!   search_latency ITEMS PHOTOS_DIR   (vxd from target/release, or VX_BENCH_VXD; models
//!                                      from VX_MODELS_DIR)
//!
//! With VX_BENCH_VXD_B=BIN a second vxd serves a copy of the catalogue beside the first, and
//! each query goes to both, in turns (A then B, then B then A): a before/after pair measured
//! under the same moment's load, which on a virtual machine moves a run's p50 by up to 2x.
//! Prints both, and the median of the per-query ratios B/A.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vx_client::*;
use vx_indexer::Store;
use vx_indexer::extract::{Outcome, Output, SegmentOut};
use vx_indexer::store::{ContentMeta, FileStat};

const DIM: usize = 384;
const SEGMENTS_PER_FILE: usize = 10;
const WORDS_PER_SEGMENT: usize = 12;
/// Distinct words the synthetic text draws from (a realistic spread of postings).
const VOCABULARY: usize = 5_000;
const QUERIES_PER_MODE: usize = 200;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn vocabulary() -> Vec<String> {
    let words = include_str!("../../indexer/data/words.txt");
    let mut rng = Rng(42);
    let all: Vec<&str> = words.lines().filter(|w| w.len() >= 4).collect();
    (0..VOCABULARY)
        .map(|_| all[rng.below(all.len())].to_string())
        .collect()
}

/// Each vocabulary word's MiniLM embedding, from the pack vxd uses: a segment's embedding is
/// the normalised sum of its words', so a query lands near the segments holding its words,
/// as it would near real transcripts (random vectors would all sit under the semantic floor).
fn word_vectors(words: &[String]) -> Vec<Vec<f32>> {
    let pack = std::env::var_os("VX_MODELS_DIR").expect("VX_MODELS_DIR: the model pack");
    let mut models = vx_models::ModelSet::new(Path::new(&pack), Default::default(), 1);
    let embedder = models.text().expect("the pack's text model");
    words
        .chunks(64)
        .flat_map(|chunk| {
            let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
            embedder.embed(&texts).unwrap()
        })
        .collect()
}

/// The normalised sum of some words' vectors.
fn sum_of(vectors: &[&[f32]]) -> Vec<f32> {
    let mut v = vec![0f32; DIM];
    for w in vectors {
        v.iter_mut().zip(*w).for_each(|(s, x)| *s += x);
    }
    vx_models::normalize(&mut v);
    v
}

/// Fills a catalogue with `items` segments. The folder they are in does not exist: the files
/// are offline (searchable like any other, never re-scanned or re-extracted).
fn populate(db: &Path, items: usize, words: &[String]) {
    let vectors = word_vectors(words);
    let store = Store::open(db).unwrap();
    let root = store
        .add_root(Path::new("/nonexistent/vx-bench"), 0)
        .unwrap();
    let mut rng = Rng(7);
    let started = Instant::now();
    let files = items.div_ceil(SEGMENTS_PER_FILE);
    for f in 0..files {
        let path = PathBuf::from(format!("/nonexistent/vx-bench/{:03}/rec-{f}.m4a", f % 500));
        let stat = FileStat {
            dev: 0,
            inode: f as u64 + 1,
            size: 1000,
            mtime_ns: 0,
        };
        let file = store.insert_file(root, &path, &stat).unwrap();
        let meta = ContentMeta {
            kind: Some(vx_indexer::MediaKind::Audio),
            duration: Some(60.0),
            ..ContentMeta::default()
        };
        let hash = blake3_like(f);
        let (content, _) = store.insert_content(&hash, 1000, &meta).unwrap();
        store
            .conn()
            .execute(
                "UPDATE files SET content_id = ?1, state = 'offline', offline_from = 'indexed'
                 WHERE id = ?2",
                [content, file],
            )
            .unwrap();
        let segments = (0..SEGMENTS_PER_FILE)
            .map(|s| {
                let picked: Vec<usize> = (0..WORDS_PER_SEGMENT)
                    .map(|_| rng.below(words.len()))
                    .collect();
                let text: Vec<&str> = picked.iter().map(|&w| words[w].as_str()).collect();
                let embedding: Vec<&[f32]> = picked.iter().map(|&w| &vectors[w][..]).collect();
                SegmentOut {
                    extractor: "transcript".into(),
                    source: "transcript".into(),
                    start: s as f64 * 6.0,
                    end: s as f64 * 6.0 + 6.0,
                    text: text.join(" "),
                    confidence: 0.9,
                    embedding: Some(sum_of(&embedding)),
                }
            })
            .collect();
        let out = Output {
            segments,
            outcomes: vec![Outcome {
                extractor: "transcript".into(),
                version: 1,
                error: None,
                seconds: 0.0,
            }],
            ..Output::default()
        };
        store.save_output(content, &out).unwrap();
        if f % 10_000 == 9_999 {
            eprintln!("  {} segments written", (f + 1) * SEGMENTS_PER_FILE);
        }
    }
    eprintln!(
        "catalogue: {} segments in {} files written in {:.1} s",
        files * SEGMENTS_PER_FILE,
        files,
        started.elapsed().as_secs_f64()
    );
}

/// 32 distinct bytes per file.
fn blake3_like(i: usize) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&(i as u64).to_le_bytes());
    h[8] = 0xB3;
    h
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A line of /proc/PID/status ("VmRSS", "RssAnon", "RssFile"), in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Per query, the client's time to each of `clients` (in turns: the first goes first on even
/// queries, last on odd ones), and inside each vxd.
async fn measure_each(
    clients: &[VxClient],
    queries: &[String],
    channels: &[&str],
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut out = vec![(Vec::new(), Vec::new()); clients.len()];
    for (i, q) in queries.iter().enumerate() {
        let mut order: Vec<usize> = (0..clients.len()).collect();
        if i % 2 == 1 {
            order.reverse();
        }
        for c in order {
            let request = SearchRequest {
                query: q.clone(),
                channels: channels.iter().map(|c| c.to_string()).collect(),
                limit: 20,
                ..SearchRequest::default()
            };
            let t = Instant::now();
            let r = clients[c]
                .search(context(), request)
                .await
                .unwrap()
                .unwrap();
            out[c].0.push(t.elapsed().as_secs_f64() * 1000.0);
            out[c].1.push(r.took_ms);
            assert!(!r.results.is_empty(), "no results for {q}");
        }
    }
    out
}

/// p50, p99 and mean from the client, and p50 inside vxd.
fn summary((mut times, mut inside): (Vec<f64>, Vec<f64>)) -> (f64, f64, f64, f64) {
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    inside.sort_by(f64::total_cmp);
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        mean,
        percentile(&inside, 0.5),
    )
}

fn vxd_bin() -> PathBuf {
    std::env::var_os("VX_BENCH_VXD").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/vxd"),
        PathBuf::from,
    )
}

fn spawn_vxd(bin: &Path, data: &Path, socket: &Path) -> Child {
    Command::new(bin)
        .env("VX_DATA_DIR", data)
        .env("VX_SOCKET", socket)
        .env("VX_CONFIG", data.join("none.toml"))
        .env("VX_MIN_FREE_DISK_MB", "0")
        .env("VX_PAUSE_ON_BATTERY", "false")
        // VX_BENCH_LOG=vx_indexer::search=debug prints each search's stage timings.
        .env(
            "VX_LOG",
            std::env::var("VX_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (build with --release first)", bin.display()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let items: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let photos = PathBuf::from(args.next().expect("usage: search_latency ITEMS PHOTOS_DIR"));
    let work = tempfile::Builder::new()
        .prefix("vx-bench-search")
        .tempdir()
        .unwrap();
    let data = work.path().join("data-0");
    std::fs::create_dir_all(&data).unwrap();
    let words = vocabulary();
    populate(&data.join("catalogue.sqlite3"), items, &words);

    // The daemons: A on the catalogue, and B for a pair on its own copy of it.
    let mut bins = vec![vxd_bin()];
    bins.extend(std::env::var_os("VX_BENCH_VXD_B").map(PathBuf::from));
    let pair = bins.len() == 2;
    let mut sockets = Vec::new();
    let mut daemons: Vec<Child> = Vec::new();
    let started = Instant::now();
    for (i, bin) in bins.iter().enumerate() {
        let dir = work.path().join(format!("data-{i}"));
        if i > 0 {
            std::fs::create_dir_all(&dir).unwrap();
            for f in std::fs::read_dir(&data).unwrap() {
                let f = f.unwrap().path();
                std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
            }
        }
        let socket = work.path().join(format!("vxd-{i}.sock"));
        daemons.push(spawn_vxd(bin, &dir, &socket));
        sockets.push(socket);
    }
    let mut clients = Vec::new();
    for socket in &sockets {
        clients.push(loop {
            match connect(socket).await {
                Ok((c, _)) => break c,
                Err(_) if started.elapsed() < Duration::from_secs(600) => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(e) => panic!("vxd did not answer: {e}"),
            }
        });
    }
    // With VX_APPROXIMATE_FROM at or under the item count, ready once partitioned.
    let from: usize = std::env::var("VX_APPROXIMATE_FROM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for client in &clients {
        loop {
            let s = client.status(context()).await.unwrap().unwrap();
            let partitioned = from == 0 || items < from || s.vector_lists > 0;
            if s.idle && s.vectors as usize >= items && partitioned {
                eprintln!(
                    "vxd ready in {:.1} s (text index built from the catalogue, {} vectors \
                     loaded in {} lists)",
                    started.elapsed().as_secs_f64(),
                    s.vectors,
                    s.vector_lists
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    let mut rng = Rng(99);
    let queries: Vec<String> = (0..QUERIES_PER_MODE)
        .map(|_| {
            let n = 1 + rng.below(3);
            (0..n)
                .map(|_| words[rng.below(words.len())].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    // Warm up: the text embedder loads on the first semantic query; pages come into memory.
    measure_each(&clients, &queries[..20], &[]).await;

    let modes: [(&str, &[&str]); 3] = [
        ("text", &["text"]),
        ("semantic", &["semantic"]),
        ("fused", &[]),
    ];
    for (client, vxd) in clients.iter().zip(&daemons) {
        let status = client.status(context()).await.unwrap().unwrap();
        println!(
            "\n{items} items: vector store {} vectors, {:.1} MiB, {} lists (0: brute force); \
             vxd resident {:.0} MiB ({:.0} MiB its own, {:.0} MiB mapped from files: \
             libraries, the catalogue, the text index)",
            status.vectors,
            status.vector_bytes as f64 / (1 << 20) as f64,
            status.vector_lists,
            status_mib(vxd.id(), "VmRSS"),
            status_mib(vxd.id(), "RssAnon"),
            status_mib(vxd.id(), "RssFile"),
        );
    }
    if pair {
        println!(
            "A: {}\nB: {}\n| items | state | mode | A p50 ms | A p99 ms | B p50 ms | B p99 ms \
             | B/A, median per query |\n|---|---|---|---|---|---|---|---|",
            bins[0].display(),
            bins[1].display()
        );
    } else {
        println!(
            "| items | state | mode | p50 ms | p99 ms | mean ms | vxd p50 ms |\n\
             |---|---|---|---|---|---|---|"
        );
    }
    let report = |state: &str, name: &str, each: Vec<(Vec<f64>, Vec<f64>)>| {
        if pair {
            let mut ratios: Vec<f64> = each[1]
                .0
                .iter()
                .zip(&each[0].0)
                .map(|(b, a)| b / a)
                .collect();
            ratios.sort_by(f64::total_cmp);
            let ratio = percentile(&ratios, 0.5);
            let mut it = each.into_iter();
            let (a50, a99, _, _) = summary(it.next().unwrap());
            let (b50, b99, _, _) = summary(it.next().unwrap());
            println!(
                "| {items} | {state} | {name} | {a50:.1} | {a99:.1} | {b50:.1} | {b99:.1} | \
                 {ratio:.2} |"
            );
        } else {
            let (p50, p99, mean, inside) = summary(each.into_iter().next().unwrap());
            println!(
                "| {items} | {state} | {name} | {p50:.1} | {p99:.1} | {mean:.1} | {inside:.1} |"
            );
        }
    };
    for (name, channels) in modes {
        report(
            "idle",
            name,
            measure_each(&clients, &queries, channels).await,
        );
    }

    // Busy: the workers extract real photos meanwhile (each daemon its own copy of the work).
    for client in &clients {
        client
            .add_root(context(), WirePath::new(&photos), Vec::new())
            .await
            .unwrap()
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (name, channels) in modes {
        let each = measure_each(&clients, &queries, channels).await;
        let mut idle = false;
        for client in &clients {
            idle |= client.status(context()).await.unwrap().unwrap().idle;
        }
        let note = if idle {
            " (indexing ended during the run)"
        } else {
            ""
        };
        report("indexing", &format!("{name}{note}"), each);
    }
    for (client, mut vxd) in clients.iter().zip(daemons) {
        let _ = client.shutdown(context()).await;
        let _ = vxd.wait();
    }
}
