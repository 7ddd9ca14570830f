//! Text in the picture: PP-OCR on each look, lines whose words run together also found
//! spaced out.

use vx_models::ModelError;

use super::scenes::HIDDEN_WORDS;
use super::{Cx, Extractor, Needs, Segments};
use crate::extract::Output;

pub struct Ocr;

impl Extractor for Ocr {
    fn name(&self) -> &'static str {
        "ocr"
    }
    fn version(&self) -> u32 {
        2
    }
    fn needs(&self) -> Needs {
        Needs::Model("ocr")
    }
    fn segments(&self) -> Option<Segments> {
        Some(Segments {
            source: "ocr",
            heading: "text in the picture",
            has: Some("text"),
            embedded: true,
            labels: false,
        })
    }
    fn searchable(&self, text: &str) -> bool {
        crate::wordsplit::reads_as_words(text)
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let ocr = cx.models.ocr()?;
        for (l, v) in cx.input.looks.iter().enumerate() {
            // "Quarterlybudgetreview": shown as read, found as words.
            let lines: Vec<(String, f32)> = ocr
                .read(v)?
                .into_iter()
                .map(|line| {
                    let text = match crate::wordsplit::respace(&line.text) {
                        Some(words) => format!("{}{HIDDEN_WORDS}{words}", line.text),
                        None => line.text,
                    };
                    (text, line.confidence)
                })
                .collect();
            cx.input
                .segments_at_look(l, self, &lines, &mut out.segments);
        }
        Ok(())
    }
}
