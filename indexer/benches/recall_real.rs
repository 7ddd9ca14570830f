//! Recall of the vector store's approximate searches on real embeddings (not a test): distinct
//! sentences of the manual pages installed here, embedded with the pack's MiniLM as vx embeds
//! transcripts, searched with short phrases from other pages, as people type queries; recall@10
//! against the exact scan of the sign-code prefilter and of the partitioned store (for several
//! shares of the lists scanned), and the latencies (medians).
//!   VX_MODELS_DIR=../shared/models cargo bench -p vx-indexer --bench recall_real [-- SENTENCES]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use vx_indexer::semantic::{Embedded, VectorStore};
use vx_models::{ModelSet, RuntimeOptions};

const QUERIES: usize = 200;
const DIM: usize = 384;

/// Sentences of the manual pages (roff requests and font escapes dropped), in file order.
fn manual_sentences(limit: usize) -> Vec<String> {
    let mut pages: Vec<_> = ["man1", "man5", "man8", "man3", "man7"]
        .iter()
        .filter_map(|d| std::fs::read_dir(Path::new("/usr/share/man").join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
        .collect();
    pages.sort();
    // Distinct sentences only: the pages repeat many (50,000 held 20,249 distinct ones), and
    // equal rows tie in any order, which read as misses.
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for page in pages {
        let Ok(text) = Command::new("zcat").arg(&page).output() else {
            continue;
        };
        let text = String::from_utf8_lossy(&text.stdout);
        let prose: String = text
            .lines()
            .filter(|l| !l.starts_with('.') && !l.starts_with('\''))
            .map(|l| {
                l.replace("\\fB", "")
                    .replace("\\fI", "")
                    .replace("\\fR", "")
                    .replace("\\fP", "")
                    .replace("\\-", "-")
            })
            .collect::<Vec<_>>()
            .join(" ");
        for s in prose.split(". ") {
            let words = s.split_whitespace().count();
            let sentence = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if (5..=40).contains(&words) && !s.contains('\\') && seen.insert(sentence.clone()) {
                out.push(sentence);
                if out.len() == limit {
                    return out;
                }
            }
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Some(pack) = std::env::var_os("VX_MODELS_DIR") else {
        eprintln!("recall_real: set VX_MODELS_DIR to a model pack (MiniLM embeds the sentences)");
        return;
    };
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let sentences = manual_sentences(n + QUERIES * 50);
    assert!(
        sentences.len() > n,
        "only {} sentences here",
        sentences.len()
    );
    // Queries: three or four words from sentences kept out of the store.
    let queries: Vec<String> = sentences[n..]
        .iter()
        .step_by(50)
        .take(QUERIES)
        .enumerate()
        .map(|(i, s)| {
            let w: Vec<&str> = s.split_whitespace().collect();
            let len = 3 + i % 2;
            let at = (i * 7) % (w.len() - len + 1);
            w[at..at + len].join(" ")
        })
        .collect();
    let texts: Vec<&str> = sentences[..n]
        .iter()
        .chain(&queries)
        .map(String::as_str)
        .collect();
    let vectors = embedded(Path::new(&pack), &texts);
    let (rows, queries) = vectors.split_at(n);
    let mut store = VectorStore::empty(Embedded::TextSegments);
    for (id, v) in rows.iter().enumerate() {
        store.push(id as i64, id as i64, v);
    }
    store.shrink();
    // Timed and compared alternately, so that the machine's moods fall on all alike.
    let timed = |store: &VectorStore| {
        let (mut ms, mut found) = (Vec::new(), Vec::new());
        for q in queries {
            let t = Instant::now();
            found.push(store.nearest(q, 10));
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        (median(ms), found)
    };
    // Recall@10 against the exact scan: a row found counts when it scores at least the exact
    // tenth (a tie is as good as the row it ties with).
    let recall = |got: &[Vec<(i64, i64, f32)>], exact: &[Vec<(i64, i64, f32)>]| {
        let found: usize = got
            .iter()
            .zip(exact)
            .map(|(g, e)| {
                let tenth = e.last().map_or(f32::MIN, |x| x.2);
                g.iter().filter(|x| x.2 >= tenth - 1e-6).count()
            })
            .sum();
        found as f64 / (QUERIES * 10) as f64
    };
    store.set_sign_prefilter(false);
    let (exact_ms, exact) = timed(&store);
    store.set_sign_prefilter(true);
    let (signs_ms, signs) = timed(&store);
    store.set_sign_prefilter(false);
    let (exact_ms2, _) = timed(&store);
    store.set_sign_prefilter(true);
    let (signs_ms2, _) = timed(&store);
    println!(
        "{n} rows: exact scan {:.2} ms; sign codes then exact {:.2} ms (medians of two rounds' \
         medians), recall@10 {:.3}{}",
        (exact_ms + exact_ms2) / 2.0,
        (signs_ms + signs_ms2) / 2.0,
        recall(&signs, &exact),
        if n < vx_indexer::semantic::SIGNS_FROM {
            " (under SIGNS_FROM: exact)"
        } else {
            ""
        }
    );
    let t = Instant::now();
    store.partition(1);
    let build = t.elapsed().as_secs_f64();
    println!("{} lists, partitioned in {build:.1} s", store.lists());
    println!("| share of lists scanned | partitioned ms | recall@10 |\n|---|---|---|");
    for share in [1.0 / 16.0, 1.0 / 8.0, 1.0 / 4.0, 1.0 / 2.0] {
        store.set_probe_share(share);
        let (ms, got) = timed(&store);
        println!(
            "| 1/{:.0} | {ms:.2} | {:.3} |",
            1.0 / share,
            recall(&got, &exact)
        );
    }
}

/// The texts' MiniLM embeddings, kept in the target folder between runs (embedding 50,000
/// sentences on one thread takes a quarter of an hour).
fn embedded(pack: &Path, texts: &[&str]) -> Vec<Vec<f32>> {
    // Keyed by the texts: another machine's manual pages are other sentences.
    let mut key = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(texts, &mut key);
    let cache = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(format!(
            "recall-real-{:016x}.f32",
            std::hash::Hasher::finish(&key)
        ));
    if let Ok(bytes) = std::fs::read(&cache) {
        let floats: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        if floats.len() == texts.len() * DIM {
            return floats.chunks_exact(DIM).map(<[f32]>::to_vec).collect();
        }
    }
    let options = RuntimeOptions {
        threading: vx_models::Threading::PerSession(
            std::thread::available_parallelism().map_or(1, |p| p.get()),
        ),
        ..RuntimeOptions::default()
    };
    let mut models = ModelSet::new(pack, options, 1);
    let embedder = models.text().expect("the pack's text model");
    let t = Instant::now();
    let vectors: Vec<Vec<f32>> = texts
        .chunks(32)
        .flat_map(|batch| embedder.embed(batch).unwrap())
        .collect();
    eprintln!(
        "{} texts embedded in {:.0} s",
        texts.len(),
        t.elapsed().as_secs_f64()
    );
    let bytes: Vec<u8> = vectors
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let _ = std::fs::write(&cache, bytes);
    vectors
}
