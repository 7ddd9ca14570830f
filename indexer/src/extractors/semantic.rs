//! Text embeddings (MiniLM) of what the other extractors read and heard, for semantic search.

use vx_models::ModelError;

use super::scenes::{merge_runs, split_hidden};
use super::{ALL, Cx, Extractor, Needs, Stage};
use crate::extract::Output;

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
        let embedded = |source: &str| {
            ALL.iter()
                .filter_map(|e| e.segments())
                .any(|s| s.embedded && s.source == source)
        };
        let texts: Vec<usize> = (0..out.segments.len())
            .filter(|&i| embedded(&out.segments[i].source))
            .collect();
        if texts.is_empty() {
            return Ok(());
        }
        let emb = cx.models.text()?;
        for chunk in texts.chunks(32) {
            // Text read with its words run together is embedded spaced out.
            let words: Vec<&str> = chunk
                .iter()
                .map(|&i| match split_hidden(&out.segments[i].text) {
                    (_, "") => &out.segments[i].text,
                    (_, words) => words,
                })
                .collect();
            for (&i, e) in chunk.iter().zip(emb.embed(&words)?) {
                out.segments[i].embedding = Some(e);
            }
        }
        Ok(())
    }
}
