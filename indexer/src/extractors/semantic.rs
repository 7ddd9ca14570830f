//! Text embeddings (MiniLM) of what the other extractors read and heard, for semantic search.

use vx_models::ModelError;

use super::scenes::{merge_runs, split_hidden};
use super::{Cx, Extractor, Needs, Stage, embedded_sources};
use crate::extract::{Output, SegmentOut};

pub struct Semantic;

impl Extractor for Semantic {
    fn name(&self) -> &'static str {
        "semantic"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Model("semantic")
    }
    fn stage(&self) -> Stage {
        Stage::Results
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        out.segments = merge_runs(std::mem::take(&mut out.segments));
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
        let texts: Vec<usize> = (0..out.segments.len())
            .filter(|&i| is_embedded(&out.segments[i]))
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

/// What a segment's embedding is made from: text read with its words run together is embedded
/// spaced out.
fn embedding_text(s: &SegmentOut) -> &str {
    match split_hidden(&s.text) {
        (_, "") => &s.text,
        (_, words) => words,
    }
}
