//! CLIP image embeddings of each look, for `vx search` by how things look (when a CLIP model
//! is installed).

use vx_models::ModelError;

use super::{Cx, Extractor, Kept, Needs};
use crate::extract::Output;

/// Frames per model batch.
const BATCH: usize = 8;

pub struct Visual;

impl Extractor for Visual {
    fn name(&self) -> &'static str {
        "visual"
    }
    fn version(&self) -> u32 {
        1
    }
    fn needs(&self) -> Needs {
        Needs::Clip
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::FrameEmbeddings]
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        let clip = cx.models.clip()?;
        for (c, chunk) in input.looks.chunks(BATCH).enumerate() {
            for (j, e) in clip.embed_images(chunk)?.into_iter().enumerate() {
                for k in input.scenes.showing(c * BATCH + j) {
                    out.frames[input.scenes.starts[k]].clip = Some(e.clone());
                }
            }
        }
        Ok(())
    }
}
