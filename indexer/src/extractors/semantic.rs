//! Text embeddings (MiniLM) of what the other extractors read and heard, for semantic search.

use std::collections::BTreeMap;

use vx_models::ModelError;

use super::scenes::{merge_runs, split_hidden};
use super::{Cx, Extractor, Needs, Segments, Stage, embedded_sources};
use crate::extract::{Output, SegmentOut};

/// What the picture models said a look shows, put into one phrase per moment so that the
/// meaning channel sees pictures too ("pet" finds "tabby cat, Egyptian Mau").
const LABELED: [&str; 3] = ["tag", "object", "pose"];
/// The most labels a phrase takes, the likeliest first.
const PHRASE_LABELS: usize = 8;
/// Labels less likely than this stay out of the phrase (the tagger keeps fainter ones, for
/// search to weigh by their probability).
const PHRASE_MIN_CONFIDENCE: f32 = 0.1;

pub struct Semantic;

impl Extractor for Semantic {
    fn name(&self) -> &'static str {
        "semantic"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("semantic")
    }
    fn stage(&self) -> Stage {
        Stage::Results
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "labels",
            heading: "what it shows",
            has: None,
            embedded: true,
            labels: false,
        })
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        out.segments = merge_runs(std::mem::take(&mut out.segments));
        let stored = cx.input.stored.iter().map(|(_, s)| s);
        let phrases = label_phrases(self, out.segments.iter().chain(stored));
        out.segments.extend(phrases);
        let embedded = embedded_sources();
        let is_embedded = |s: &SegmentOut| embedded.contains(&s.source.as_str());
        // What extractors outside this pass stored earlier (a transcript made before the text
        // model was installed, or embedded by an older version) is stored again, embedded, in
        // place of the old rows.
        let earlier: Vec<&(i64, SegmentOut)> = cx
            .input
            .stored
            .iter()
            .filter(|(_, s)| is_embedded(s))
            .collect();
        if earlier.is_empty() && !out.segments.iter().any(is_embedded) {
            return Ok(());
        }
        let emb = cx.models.text()?;
        for (id, s) in earlier {
            out.replaced.push(*id);
            out.segments.push(s.clone());
        }
        // Stray strokes read as text are stored, not embedded.
        let texts: Vec<usize> = (0..out.segments.len())
            .filter(|&i| is_embedded(&out.segments[i]))
            .filter(|&i| super::searchable(&out.segments[i].source, &out.segments[i].text))
            .collect();
        for chunk in texts.chunks(32) {
            let words: Vec<&str> = chunk
                .iter()
                .map(|&i| embedding_text(&out.segments[i]))
                .collect();
            for (&i, e) in chunk.iter().zip(emb.embed(&words)?) {
                out.segments[i].embedding = Some(e);
            }
        }
        Ok(())
    }
}

/// One segment per moment with labels: its labels, likeliest first, as a phrase.
fn label_phrases<'s>(
    e: &dyn Extractor,
    segments: impl Iterator<Item = &'s SegmentOut>,
) -> Vec<SegmentOut> {
    // Moments by their span's bits, in time order.
    let mut moments: BTreeMap<(u64, u64), Vec<(&str, f32)>> = BTreeMap::new();
    for s in segments
        .filter(|s| LABELED.contains(&s.source.as_str()) && s.confidence >= PHRASE_MIN_CONFIDENCE)
    {
        let label = (split_hidden(&s.text).0, s.confidence);
        moments
            .entry((s.start.to_bits(), s.end.to_bits()))
            .or_default()
            .push(label);
    }
    moments
        .into_iter()
        .map(|((start, end), mut labels)| {
            labels.sort_by(|a, b| b.1.total_cmp(&a.1));
            let mut words: Vec<&str> = Vec::new();
            for (text, _) in &labels {
                if !words.contains(text) && words.len() < PHRASE_LABELS {
                    words.push(text);
                }
            }
            let span = (f64::from_bits(start), f64::from_bits(end));
            super::segment(e, span, words.join(", "), labels[0].1)
        })
        .collect()
}

/// What a segment's embedding is made from: text read with its words run together is embedded
/// spaced out.
fn embedding_text(s: &SegmentOut) -> &str {
    match split_hidden(&s.text) {
        (_, "") => &s.text,
        (_, words) => words,
    }
}
