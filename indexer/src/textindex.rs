//! The tantivy text index: derived from SQLite, rebuildable from it at any time.
//!
//! Consistency: every catalogue change adds a row to SQLite's `index_queue` in the same
//! transaction (triggers). [`IndexSync::sync`] applies queued rows to tantivy, commits, and only
//! then deletes the rows. A crash in between replays them; applying a row is idempotent (delete
//! the file's document, add it again if it is still searchable).

use std::collections::{HashMap, HashSet};
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::media::MediaKind;
use crate::search::{self, Hit, Moment};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher,
    SegmentReader, TantivyDocument, Term,
};

use crate::paths::bytes_to_path;
use crate::store::{IndexDoc, Store, StoreError};

/// Bump when the schema or what goes into documents changes: the index is then rebuilt.
const SCHEMA_VERSION: &str = "10";
/// Documents fetched per requested result, before grouping by file.
const DOCS_PER_RESULT: usize = 8;
/// Moments kept per file.
const MOMENTS_PER_FILE: usize = 3;
const VERSION_FILE: &str = "vx-index-version";
const WRITER_HEAP: usize = 32 << 20;
const SYNC_BATCH: u32 = 2000;

/// File and folder names: tantivy's English stemmer, every word kept.
const NAME_TOKENIZER: &str = "en_stem";
/// English words: lower-cased, stemmed, without the words that carry no meaning in a search
/// ("how much did the shopping cost" is about shopping and cost; "the" would match everything).
const TOKENIZER: &str = "vx_english";
const STOP_WORDS: &[&str] = &[
    // Lucene's English list (tantivy's, too)
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
    // and the question and pronoun words people type into a search box
    "i", "me", "my", "we", "our", "you", "your", "he", "him", "his", "she", "her", "them", "its",
    "what", "which", "who", "where", "when", "why", "how", "do", "does", "did", "have", "has",
    "had", "were", "been", "am", "can", "could", "would", "should", "so", "than", "very", "just",
    "some", "any", "much", "many", "from", "about",
];

fn register_tokenizer(index: &Index) {
    use tantivy::tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter,
        TextAnalyzer,
    };
    let analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|w| w.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build();
    index.tokenizers().register(TOKENIZER, analyzer);
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("text index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("text index: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("text index directory: {0}")]
    OpenDir(#[from] tantivy::directory::error::OpenDirectoryError),
}

#[derive(Clone, Copy)]
struct Fields {
    file_id: Field,
    path: Field,
    ancestors: Field,
    name: Field,
    path_words: Field,
    meta: Field,
    kind: Field,
    date: Field,
    online: Field,
    /// Segment documents: the text an extractor found, where, and when.
    text: Field,
    /// Words that find a segment without being shown (a tag's broader names), ranked lower.
    broader: Field,
    source: Field,
    start: Field,
    end: Field,
    /// What the file has: speech, text, faces (for `--has`).
    has: Field,
    /// Who is in it, by `people::person_keys` (for `--person`).
    person: Field,
    /// Whose voice says a transcript segment, by `voices::voice_keys` (for `--voice`).
    voice: Field,
    /// What a match in the document weighs, from 0 to 1 (`crate::evidence`).
    weight: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // File and folder names are names: every word in them counts ("many-001.mp4").
    let names = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(NAME_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        file_id: b.add_u64_field("file_id", INDEXED | STORED | FAST),
        path: b.add_bytes_field("path", STORED),
        // Every folder above the file, so a path prefix filter is one term lookup.
        ancestors: b.add_bytes_field("ancestors", INDEXED),
        name: b.add_text_field("name", names.clone()),
        path_words: b.add_text_field("path_words", names),
        meta: b.add_text_field("meta", words.clone()),
        kind: b.add_text_field("kind", STRING | STORED),
        date: b.add_i64_field("date", INDEXED | STORED | FAST),
        online: b.add_u64_field("online", STORED),
        broader: b.add_text_field("broader", words.clone()),
        text: b.add_text_field("text", words.set_stored()),
        source: b.add_text_field("source", STRING | STORED),
        start: b.add_f64_field("start", STORED),
        end: b.add_f64_field("end", STORED),
        has: b.add_text_field("has", STRING),
        person: b.add_text_field("person", STRING),
        voice: b.add_text_field("voice", STRING),
        weight: b.add_f64_field("weight", FAST),
    };
    (b.build(), fields)
}

/// Words describing a file's metadata, so that "video 2023 july h264" finds it.
fn meta_words(doc: &IndexDoc) -> String {
    let m = &doc.meta;
    let mut words = vec![doc.kind.as_str().to_string()];
    words.extend(m.format.iter().cloned());
    words.extend(m.video_codec.iter().cloned());
    words.extend(m.audio_codec.iter().cloned());
    if let (Some(w), Some(h)) = (m.width, m.height) {
        words.push(format!("{w}x{h}"));
        words.push(if w >= h { "landscape" } else { "portrait" }.to_string());
        let short = w.min(h);
        words.extend(
            [(2160, "4k"), (1080, "1080p"), (720, "720p")]
                .into_iter()
                .find(|(min, _)| short >= *min)
                .map(|(_, n)| n.to_string()),
        );
    }
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(doc.date) {
        words.push(t.year().to_string());
        words.push(t.month().to_string().to_lowercase());
    }
    words.extend(m.place.iter().map(|p| p.terms.clone()));
    words.extend(m.camera.iter().cloned());
    words.join(" ")
}

#[derive(Clone)]
pub struct TextIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl TextIndex {
    /// Opens the index in `dir`, creating it if needed. Returns true when it was (re)created,
    /// in which case the caller must queue every file (`Store::index_everything`).
    pub fn open(dir: &Path) -> Result<(TextIndex, bool), IndexError> {
        let (schema, fields) = schema();
        let version_ok = std::fs::read_to_string(dir.join(VERSION_FILE))
            .map(|v| v.trim() == SCHEMA_VERSION)
            .unwrap_or(false);
        let existing = if version_ok {
            match Index::open_in_dir(dir) {
                Ok(index) => Some(index),
                Err(e) => {
                    tracing::warn!("text index unreadable, rebuilding it from the catalogue: {e}");
                    None
                }
            }
        } else {
            None
        };
        let created = existing.is_none();
        let index = match existing {
            Some(index) => index,
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let index = Index::create_in_dir(dir, schema)?;
                std::fs::write(dir.join(VERSION_FILE), SCHEMA_VERSION)?;
                index
            }
        };
        register_tokenizer(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            TextIndex {
                index,
                reader,
                fields,
            },
            created,
        ))
    }

    /// The single writer. Only one may exist at a time (tantivy holds a lock).
    pub fn writer(&self) -> Result<IndexSync, IndexError> {
        let writer = self.index.writer_with_num_threads(1, WRITER_HEAP)?;
        Ok(IndexSync {
            index: self.clone(),
            writer,
        })
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn search(&self, req: &search::Query) -> Result<Vec<Hit>, IndexError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let text = req.query.trim();
        // The words, and what a file answering every one of them would score (no words: a
        // listing, no ceiling).
        let (words, ceiling): (Box<dyn Query>, Option<f32>) = if text.is_empty() {
            (Box::new(AllQuery), None)
        } else {
            let boosts = [
                (f.name, 3.0),
                (f.path_words, 1.5),
                (f.meta, 1.0),
                (f.text, 1.0),
                (f.broader, 0.5),
            ];
            let mut parser =
                QueryParser::for_index(&self.index, boosts.iter().map(|b| b.0).collect());
            for (field, boost) in boosts {
                parser.set_field_boost(field, boost);
            }
            // Lenient: odd characters in a query never fail a search.
            let (query, _errors) = parser.parse_query_lenient(text);
            let ceiling = full_answer(&searcher, &*query, &boosts);
            (query, Some(ceiling))
        };
        let term =
            |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        if let Some(kind) = req.kind {
            filters.push(term(Term::from_field_text(f.kind, kind.as_str())));
        }
        if let Some(prefix) = &req.path_prefix {
            let dir = prefix.components().as_path().to_path_buf();
            filters.push(term(Term::from_field_bytes(
                f.ancestors,
                dir.as_os_str().as_bytes(),
            )));
        }
        let keyed = [(f.person, &req.person), (f.voice, &req.voice)];
        for (field, key) in keyed
            .into_iter()
            .filter_map(|(f, k)| Some((f, k.as_ref()?)))
        {
            filters.push(term(Term::from_field_text(
                field,
                &crate::people::person_key(key),
            )));
        }
        for what in &req.has {
            filters.push(term(Term::from_field_text(f.has, what)));
        }
        if req.after.is_some() || req.before.is_some() {
            let lo = req
                .after
                .map(|t| Bound::Included(Term::from_field_i64(f.date, t)))
                .unwrap_or(Bound::Unbounded);
            let hi = req
                .before
                .map(|t| Bound::Excluded(Term::from_field_i64(f.date, t)))
                .unwrap_or(Bound::Unbounded);
            filters.push(Box::new(RangeQuery::new(lo, hi)));
        }
        // Filters narrow; only the words score (so that a score divides by the ceiling).
        let mut clauses = vec![(Occur::Must, words)];
        clauses.extend(filters.into_iter().map(|q| -> (Occur, Box<dyn Query>) {
            match ceiling {
                Some(_) => (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))),
                None => (Occur::Must, q),
            }
        }));
        let query = BooleanQuery::new(clauses);
        let limit = req.limit.clamp(1, 10_000) as usize;
        // A match weighs what its document does: a faint or fleeting label less.
        let weighed = TopDocs::with_limit(limit * DOCS_PER_RESULT).tweak_score(
            move |segment: &SegmentReader| {
                let weights = segment
                    .fast_fields()
                    .f64("weight")
                    .map(|c| c.first_or_default_col(1.0));
                move |doc: DocId, score: Score| match &weights {
                    Ok(w) => score * w.get_val(doc) as Score,
                    Err(_) => score,
                }
            },
        );
        let top = searcher.search(&query, &weighed)?;
        // Each document's file, from the fast field; only the documents of the `limit` best
        // files are then read from the store (each read decompresses a block).
        let mut columns = HashMap::new();
        let mut top_files: Vec<(Score, DocAddress, u64)> = Vec::with_capacity(top.len());
        let mut kept: HashSet<u64> = HashSet::new();
        for (score, addr) in top {
            let column = match columns.entry(addr.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => e.insert(
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .u64("file_id")?,
                ),
            };
            let Some(file_id) = column.first(addr.doc_id) else {
                continue;
            };
            if kept.len() < limit {
                kept.insert(file_id);
            }
            if kept.contains(&file_id) {
                top_files.push((score, addr, file_id));
            }
        }
        // Group by file: a file scores its best document; segment documents become moments.
        let mut order: Vec<u64> = Vec::new();
        let mut hits: HashMap<u64, Hit> = HashMap::new();
        for (score, addr, file_id) in top_files {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let hit = match hits.entry(file_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let path = doc
                        .get_first(f.path)
                        .and_then(|v| v.as_bytes())
                        .map(|b| bytes_to_path(b.to_vec()));
                    let kind = doc
                        .get_first(f.kind)
                        .and_then(|v| v.as_str())
                        .and_then(MediaKind::parse);
                    let (Some(path), Some(kind)) = (path, kind) else {
                        continue;
                    };
                    order.push(file_id);
                    v.insert(Hit {
                        path,
                        kind,
                        score,
                        evidence: Vec::new(),
                        online: doc.get_first(f.online).and_then(|v| v.as_u64()) == Some(1),
                        moments: Vec::new(),
                        thumbnail: None,
                        clip: None,
                    })
                }
            };
            let Some(source) = doc.get_first(f.source).and_then(|v| v.as_str()) else {
                continue;
            };
            let start = doc
                .get_first(f.start)
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0);
            let end = doc
                .get_first(f.end)
                .and_then(|v| v.as_f64())
                .unwrap_or(start);
            let text = doc
                .get_first(f.text)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            if let Some(m) = hit.moments.iter_mut().find(|m| {
                m.text == text && (m.start - start).abs() < 1e-3 && (m.end - end).abs() < 1e-3
            }) {
                if !m.sources.iter().any(|s| s == source) {
                    m.sources.push(source.to_string());
                }
            } else if hit.moments.len() < MOMENTS_PER_FILE {
                hit.moments.push(Moment {
                    start,
                    end,
                    text,
                    sources: vec![source.to_string()],
                    thumbnail: None,
                    scene: None,
                    speaker: None,
                });
            }
        }
        let mut results: Vec<Hit> = order
            .into_iter()
            .filter_map(|id| hits.remove(&id))
            .collect();
        results.sort_by(|a, b| b.score.total_cmp(&a.score));
        results.truncate(limit);
        // A score becomes the share of the query a file answers, comparable across queries.
        if let Some(ceiling) = ceiling.filter(|c| *c > 0.0) {
            for hit in &mut results {
                hit.score = (hit.score / ceiling).min(1.0);
            }
        }
        Ok(results)
    }
}

/// The BM25 score of a file holding each word of `query` once, in the field where the word
/// weighs most: the sum over words of boost x idf. A word no file holds counts in full (the
/// answer lacks it). Stop words count only in a query of nothing else: names keep them ("a"
/// of "a cat" is a term of the name field, held by no file), and "a cat" is as fully
/// answered by a cat as "cat" is.
fn full_answer(searcher: &Searcher, query: &dyn Query, boosts: &[(Field, f32)]) -> f32 {
    let docs = searcher.num_docs() as f32;
    let mut words: HashMap<String, f32> = HashMap::new();
    query.query_terms(&mut |term, _| {
        let value = term.value();
        let Some(word) = value.as_str() else {
            return;
        };
        let boost = boosts
            .iter()
            .find(|(f, _)| *f == term.field())
            .map_or(1.0, |b| b.1);
        let df = searcher.doc_freq(term).unwrap_or(0) as f32;
        // tantivy's BM25 idf
        let idf = (1.0 + ((docs - df).max(0.0) + 0.5) / (df + 0.5)).ln();
        let weight = words.entry(word.to_string()).or_default();
        *weight = weight.max(boost * idf);
    });
    let stop = name_stop_words();
    if words.keys().any(|w| !stop.contains(w)) {
        words.retain(|w, _| !stop.contains(w));
    }
    words.values().sum()
}

/// The stop words as the name fields index them (stemmed: "was" is "wa" there).
fn name_stop_words() -> &'static HashSet<String> {
    static WORDS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let mut names = tantivy::tokenizer::TokenizerManager::default()
            .get(NAME_TOKENIZER)
            .expect("tantivy's built-in tokenizer");
        let mut words = HashSet::new();
        for w in STOP_WORDS {
            let mut tokens = names.token_stream(w);
            while let Some(t) = tokens.next() {
                words.insert(t.text.clone());
            }
        }
        words
    })
}

/// Applies the SQLite outbox to tantivy.
pub struct IndexSync {
    index: TextIndex,
    writer: IndexWriter,
}

impl IndexSync {
    /// The fields every document of a file carries, so that filters apply to all of them.
    fn base(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = self.index.fields;
        let mut d = TantivyDocument::default();
        d.add_u64(f.file_id, doc.file_id as u64);
        d.add_bytes(f.path, doc.path.as_os_str().as_bytes());
        for dir in doc.path.ancestors().skip(1) {
            d.add_bytes(f.ancestors, dir.as_os_str().as_bytes());
        }
        d.add_text(f.kind, doc.kind.as_str());
        d.add_i64(f.date, doc.date);
        d.add_u64(f.online, doc.online as u64);
        for what in crate::extractors::has(doc) {
            d.add_text(f.has, what);
        }
        for a in &doc.people {
            for key in crate::people::person_keys(a) {
                d.add_text(f.person, key);
            }
        }
        d
    }

    /// The file's own document (name, folder words, metadata) and one per timed segment.
    fn documents(&self, doc: &IndexDoc) -> Vec<TantivyDocument> {
        let f = self.index.fields;
        let mut file = self.base(doc);
        file.add_text(f.name, &doc.name);
        let words = doc
            .path
            .parent()
            .map(|p| String::from_utf8_lossy(p.as_os_str().as_bytes()).into_owned())
            .unwrap_or_default();
        file.add_text(f.path_words, words);
        file.add_text(f.meta, meta_words(doc));
        file.add_f64(f.weight, 1.0);
        let mut docs = vec![file];
        for s in &doc.segments {
            if !crate::extractors::searchable(&s.source, &s.text) {
                continue;
            }
            let mut d = self.base(doc);
            let (shown, hidden) = crate::extractors::split_hidden(&s.text);
            d.add_text(f.text, shown);
            if !hidden.is_empty() {
                d.add_text(f.broader, hidden);
            }
            if let Some(t) = crate::voices::said_by(&doc.turns, &s.source, s.start, s.end) {
                d.add_text(f.broader, crate::voices::hidden_words(t));
                for key in crate::voices::voice_keys(t) {
                    d.add_text(f.voice, key);
                }
            }
            d.add_text(f.source, &s.source);
            d.add_f64(f.start, s.start);
            d.add_f64(f.end, s.end);
            let weight = crate::evidence::weight(
                &s.source,
                s.confidence,
                (s.start, s.end),
                doc.meta.duration,
            );
            d.add_f64(f.weight, f64::from(weight));
            docs.push(d);
        }
        for (text, start, end) in crate::people::named_spans(&doc.people) {
            let mut d = self.base(doc);
            d.add_text(f.text, text);
            d.add_text(f.source, "person");
            d.add_f64(f.start, start);
            d.add_f64(f.end, end);
            d.add_f64(f.weight, 1.0);
            docs.push(d);
        }
        docs
    }

    /// Drains the outbox into tantivy. Returns the number of files applied.
    pub fn sync(&mut self, store: &Store) -> Result<usize, IndexError> {
        let result = self.sync_batches(store);
        if result.is_err() {
            // A failed commit (a full disk) leaves the writer's changes in doubt: back to the
            // last commit. The rows stay queued and replay on the next sync.
            if let Err(e) = self.writer.rollback() {
                tracing::error!("text index rollback failed: {e}");
            }
        }
        result
    }

    fn sync_batches(&mut self, store: &Store) -> Result<usize, IndexError> {
        let mut total = 0;
        loop {
            let (last_seq, ids) = store.index_backlog(SYNC_BATCH)?;
            if ids.is_empty() {
                return Ok(total);
            }
            let file_id = self.index.fields.file_id;
            for &id in &ids {
                self.writer
                    .delete_term(Term::from_field_u64(file_id, id as u64));
                if let Some(doc) = store.index_doc(id)? {
                    for d in self.documents(&doc) {
                        self.writer.add_document(d)?;
                    }
                }
            }
            self.writer.commit()?;
            self.index.reader.reload()?;
            // Only after tantivy has committed: a crash before this line replays the rows.
            store.index_ack(last_seq)?;
            total += ids.len();
        }
    }

    /// Empties the index; the caller then queues every file.
    pub fn clear(&mut self) -> Result<(), IndexError> {
        self.writer.delete_all_documents()?;
        self.writer.commit()?;
        self.index.reader.reload()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::tests::{add_file, embedded};

    #[test]
    fn a_stop_word_does_not_lower_the_share_a_file_answers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let root = store.add_root(dir.path(), 1).unwrap();
        let tag = embedded("tag", "tabby cat", &[1.0], 0.9);
        add_file(&store, root, dir.path(), 1, "pets", &tag);
        let (index, _) = TextIndex::open(&dir.path().join("index")).unwrap();
        index.writer().unwrap().sync(&store).unwrap();
        let share = |q: &str| {
            let query = search::Query {
                query: q.into(),
                limit: 5,
                ..search::Query::default()
            };
            index.search(&query).unwrap()[0].score
        };
        let cat = share("cat");
        assert!(cat > 0.0, "{cat}");
        assert!(
            (share("a cat") - cat).abs() < 1e-6,
            "{} {cat}",
            share("a cat")
        );
        assert!((share("the cat was there") - cat).abs() < 1e-6);
        assert!(
            share("cat dog") < cat * 0.6,
            "a word not answered still counts"
        );
    }
}
