//! Text embeddings (MiniLM) of what the other extractors read and heard, for semantic search.

use std::collections::BTreeMap;

use vx_models::ModelError;

use super::scenes::{HIDDEN_WORDS, merge_runs, split_hidden};
use super::{Cx, Extractor, Needs, Segments, Stage, embedded_sources};
use crate::extract::{Output, SegmentOut};

/// What the picture models said a look shows, put into one phrase per moment so that the
/// meaning channel sees pictures too ("pet" finds "tabby cat, Egyptian Mau").
/// (Measured on the real judged set's tuning half: adding the appearance words or the sounds
/// made phrases that matched too much; "animal" alone is near any animal asked for.)
pub(super) const LABELED: [&str; 3] = ["tag", "object", "pose"];
/// The most labels a phrase takes, the likeliest first.
const PHRASE_LABELS: usize = 8;
/// Labels at least this likely make a moment's phrase, which the meaning channel counts in
/// full (weighing it by its likeliest label lost on the real set's tuning half).
pub const PHRASE_MIN_CONFIDENCE: f32 = 0.1;
/// Fainter labels, down to this, make a second phrase of the moment, which counts only as much
/// as its likeliest label (`crate::evidence`): within reach, never a confident answer alone.
const FAINT_PHRASE_MIN_CONFIDENCE: f32 = 0.05;

pub struct Semantic;

impl Extractor for Semantic {
    fn name(&self) -> &'static str {
        "semantic"
    }
    /// 4: a second phrase of a moment's faint labels.
    fn version(&self) -> u32 {
        4
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
            // A phrase weighs as its likeliest label in the text index: faint labels do not
            // count in full by being part of a phrase.
            labels: true,
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

/// A label's (shown, hidden) words and its confidence.
type Label<'s> = ((&'s str, &'s str), f32);

/// Per moment with labels: a phrase of its sure labels and one of its faint ones, each
/// likeliest first.
fn label_phrases<'s>(
    e: &dyn Extractor,
    segments: impl Iterator<Item = &'s SegmentOut>,
) -> Vec<SegmentOut> {
    // Moments by their span's bits, in time order.
    let mut moments: BTreeMap<(u64, u64), Vec<Label>> = BTreeMap::new();
    for s in segments.filter(|s| {
        LABELED.contains(&s.source.as_str()) && s.confidence >= FAINT_PHRASE_MIN_CONFIDENCE
    }) {
        let label = (split_hidden(&s.text), s.confidence);
        moments
            .entry((s.start.to_bits(), s.end.to_bits()))
            .or_default()
            .push(label);
    }
    let mut phrases = Vec::new();
    for ((start, end), mut labels) in moments {
        labels.sort_by(|a, b| b.1.total_cmp(&a.1));
        let span = (f64::from_bits(start), f64::from_bits(end));
        let (sure, faint) =
            labels.split_at(labels.partition_point(|l| l.1 >= PHRASE_MIN_CONFIDENCE));
        let mut named = Vec::new();
        for part in [sure, faint] {
            if let Some(text) = phrase(part, &mut named) {
                phrases.push(super::segment(e, span, text, part[0].1));
            }
        }
    }
    phrases
}

/// `labels` (likeliest first) as a phrase of their names, those in `named` (an earlier phrase
/// of the moment) left out, their broader words hidden; `None` when no name is left.
fn phrase<'s>(labels: &[Label<'s>], named: &mut Vec<&'s str>) -> Option<String> {
    let mut words: Vec<&str> = Vec::new();
    let mut broader: Vec<&str> = Vec::new();
    for ((text, hidden), _) in labels {
        // A tag's synonyms ("restaurant (eating house, eatery)") only blur what the phrase's
        // embedding means: its name alone joins the phrase.
        let (name, synonyms) = name_and_synonyms(text);
        if !named.contains(&name) && words.len() < PHRASE_LABELS {
            named.push(name);
            words.push(name);
            broader.extend(synonyms.split(", ").chain(hidden.split(", ")));
        }
    }
    if words.is_empty() {
        return None;
    }
    let mut text = words.join(", ");
    // The labels' broader words, hidden: the text index then finds a moment by words of
    // different labels together ("dog on the beach": "Samoyed" and "seashore").
    let mut seen = std::collections::HashSet::new();
    broader.retain(|w| !w.is_empty() && !words.contains(w) && seen.insert(*w));
    if !broader.is_empty() {
        text = format!("{text}{HIDDEN_WORDS}{}", broader.join(", "));
    }
    Some(text)
}

/// A label's name and the synonyms in parentheses after it, if any.
fn name_and_synonyms(label: &str) -> (&str, &str) {
    label
        .strip_suffix(')')
        .and_then(|l| l.split_once(" ("))
        .unwrap_or((label, ""))
}

/// What a segment's embedding is made from: text read with its words run together is embedded
/// spaced out; a phrase of labels without its broader words.
fn embedding_text(s: &SegmentOut) -> &str {
    if s.source == "labels" {
        return split_hidden(&s.text).0;
    }
    match split_hidden(&s.text) {
        (_, "") => &s.text,
        (_, words) => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(source: &str, span: (f64, f64), text: &str, confidence: f32) -> SegmentOut {
        SegmentOut::new(source, source, span, text.into(), confidence)
    }

    #[test]
    fn a_moment_s_labels_make_a_sure_and_a_faint_phrase_with_their_broader_words_hidden() {
        let labels = [
            label("tag", (0.0, 2.0), "seashore (seacoast)\ncoast, beach", 0.3),
            label("object", (0.0, 2.0), "dog", 0.9),
            label("tag", (0.0, 2.0), "Samoyed\ndog, animal", 0.6),
            label("tag", (0.0, 2.0), "kite\nbird", 0.07),
            label("tag", (0.0, 2.0), "dog\nanimal", 0.06),
            label("tag", (0.0, 2.0), "fainter\nnothing", 0.04),
            label("object", (2.0, 4.0), "car", 0.7),
            label("transcript", (0.0, 2.0), "hello", 1.0),
        ];
        let phrases = label_phrases(&Semantic, labels.iter());
        let texts: Vec<&str> = phrases.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "dog, Samoyed, seashore\nanimal, seacoast, coast, beach",
                "kite\nbird",
                "car"
            ]
        );
        // Each weighs as its likeliest label; its embedding is of the labels alone.
        assert_eq!(phrases[0].confidence, 0.9);
        assert_eq!(phrases[1].confidence, 0.07);
        assert_eq!(embedding_text(&phrases[0]), "dog, Samoyed, seashore");
    }
}
