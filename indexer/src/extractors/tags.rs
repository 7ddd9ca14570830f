//! Scene tags: the ImageNet tagger on each look, with WordNet's names for what it sees.

use vx_models::ModelError;

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Needs, Segments};
use crate::extract::Output;

/// Frames per model batch (PERF-FACTS: batching pays for the tagger).
const BATCH: usize = 8;
/// The top 5 tags of a look are kept with their probabilities, down to this: search weighs a
/// match by the probability (`crate::evidence`), so a faint right tag is within reach without
/// outranking a sure one.
const TAGS_PER_FRAME: usize = 5;
const MIN_TAG_SCORE: f32 = 0.02;

pub struct Tags;

impl Extractor for Tags {
    fn name(&self) -> &'static str {
        "tags"
    }
    /// 3: tags down to 0.02 (were 0.1).
    fn version(&self) -> u32 {
        3
    }
    fn needs(&self) -> Needs {
        Needs::Model("tags")
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "tag",
            heading: "tags",
            has: None,
            embedded: false,
            labels: true,
        })
    }
    /// "Egyptian Mau (Egyptian cat)": the curated name.
    fn seen<'t>(&self, text: &'t str) -> Option<&'t str> {
        text.split(" (").next()
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let tagger = cx.models.tagger()?;
        for (c, chunk) in cx.input.looks.chunks(BATCH).enumerate() {
            for (j, tags) in tagger
                .tag(chunk, TAGS_PER_FRAME, MIN_TAG_SCORE)?
                .into_iter()
                .enumerate()
            {
                let found: Vec<(String, f32)> =
                    tags.iter().map(|t| (tag_text(t), t.score)).collect();
                cx.input
                    .segments_at_look(c * BATCH + j, self, &found, &mut out.segments);
            }
        }
        Ok(())
    }
}

/// "Egyptian Mau (Egyptian cat)": the curated name, then WordNet's synonyms; its hypernyms
/// ("cat, feline, animal") are searchable but hidden.
fn tag_text(t: &vx_models::tagger::Tag) -> String {
    let mut text = t.label.clone();
    if !t.synonyms.is_empty() {
        text = format!("{text} ({})", t.synonyms.join(", "));
    }
    if !t.hypernyms.is_empty() {
        text = format!("{text}{HIDDEN_WORDS}{}", t.hypernyms.join(", "));
    }
    text
}
