//! Scene cuts: where a video's scenes (see `scenes.rs`) start and end, stored so that search
//! can give a moment its scene and `vx show` can list them. No model.

use vx_models::ModelError;

use super::{Cx, Extractor, Kept};
use crate::extract::Output;
use crate::media::MediaKind;

pub struct SceneCuts;

impl Extractor for SceneCuts {
    fn name(&self) -> &'static str {
        "scenes"
    }
    fn version(&self) -> u32 {
        1
    }
    fn kinds(&self) -> &'static [MediaKind] {
        &[MediaKind::Video]
    }
    fn kept(&self) -> &'static [Kept] {
        &[Kept::Scenes]
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError> {
        let input = cx.input;
        if input.is_image() {
            return Ok(());
        }
        out.scenes = (0..input.scenes.starts.len())
            .map(|k| input.span(k))
            .collect();
        Ok(())
    }
}
