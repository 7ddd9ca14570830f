//! A worker's set of models: each loaded on first use, once, then reused; a model that fails
//! to load is remembered with its error, so a missing model costs one check, not one per file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{ModelError, Result};
use crate::runtime::{Runtime, RuntimeOptions};
use crate::{
    AudioEvents, Clip, Detector, Expression, Faces, Ocr, Pose, Quality, Speaker, Tagger,
    TextEmbedder, Transcriber,
};

enum Slot<T> {
    Unloaded,
    Ready(T),
    Failed(ModelError),
}

impl<T> Slot<T> {
    fn get(&mut self, load: impl FnOnce() -> Result<T>) -> Result<&mut T> {
        if matches!(self, Slot::Unloaded) {
            *self = match load() {
                Ok(m) => Slot::Ready(m),
                Err(e) => {
                    tracing::warn!("{e}");
                    Slot::Failed(e)
                }
            };
        }
        match self {
            Slot::Ready(m) => Ok(m),
            Slot::Failed(e) => Err(e.clone()),
            Slot::Unloaded => unreachable!("just loaded"),
        }
    }
}

pub struct ModelSet {
    pack: PathBuf,
    options: RuntimeOptions,
    whisper_threads: usize,
    runtime: Slot<Arc<Runtime>>,
    tagger: Slot<Tagger>,
    detector: Slot<Detector>,
    faces: Slot<Faces>,
    ocr: Slot<Ocr>,
    text: Slot<TextEmbedder>,
    /// The text model as search queries are embedded (int8 products).
    query_text: Slot<TextEmbedder>,
    transcriber: Slot<Arc<Transcriber>>,
    clip: Slot<Clip>,
    audio_events: Slot<AudioEvents>,
    quality: Slot<Quality>,
    pose: Slot<Pose>,
    expression: Slot<Expression>,
    speaker: Slot<Speaker>,
}

macro_rules! onnx_model {
    ($name:ident, $ty:ty) => {
        onnx_model!($name, $ty, load);
    };
    ($name:ident, $ty:ty, $load:ident) => {
        pub fn $name(&mut self) -> Result<&mut $ty> {
            let pack = self.pack.clone();
            let (options, runtime) = (&self.options, &mut self.runtime);
            let runtime = runtime.get(|| Runtime::get(options))?.clone();
            self.$name.get(|| <$ty>::$load(&runtime, &pack))
        }
    };
}

impl ModelSet {
    /// Nothing is loaded until first asked for.
    pub fn new(pack: &Path, options: RuntimeOptions, whisper_threads: usize) -> ModelSet {
        ModelSet {
            pack: pack.to_path_buf(),
            options,
            whisper_threads,
            runtime: Slot::Unloaded,
            tagger: Slot::Unloaded,
            detector: Slot::Unloaded,
            faces: Slot::Unloaded,
            ocr: Slot::Unloaded,
            text: Slot::Unloaded,
            query_text: Slot::Unloaded,
            transcriber: Slot::Unloaded,
            clip: Slot::Unloaded,
            audio_events: Slot::Unloaded,
            quality: Slot::Unloaded,
            pose: Slot::Unloaded,
            expression: Slot::Unloaded,
            speaker: Slot::Unloaded,
        }
    }

    onnx_model!(tagger, Tagger);
    onnx_model!(detector, Detector);
    onnx_model!(faces, Faces);
    onnx_model!(ocr, Ocr);
    onnx_model!(text, TextEmbedder);
    onnx_model!(query_text, TextEmbedder, load_for_queries);
    onnx_model!(audio_events, AudioEvents);
    onnx_model!(quality, Quality);
    onnx_model!(pose, Pose);
    onnx_model!(expression, Expression);
    onnx_model!(speaker, Speaker);

    /// Shared, so that speech can be transcribed on its own thread while the visual models run.
    pub fn transcriber(&mut self) -> Result<Arc<Transcriber>> {
        let (pack, threads) = (self.pack.clone(), self.whisper_threads);
        self.transcriber
            .get(|| Transcriber::load(&pack, threads).map(Arc::new))
            .cloned()
    }

    /// The first CLIP model under `clip/` in the pack, if any.
    pub fn clip(&mut self) -> Result<&mut Clip> {
        let pack = self.pack.clone();
        let (options, runtime) = (&self.options, &mut self.runtime);
        let runtime = runtime.get(|| Runtime::get(options))?.clone();
        self.clip.get(|| {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(pack.join("clip"))
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            let dir = dirs
                .into_iter()
                .next()
                .ok_or_else(|| ModelError::Missing(pack.join("clip")))?;
            Clip::load(&runtime, &dir)
        })
    }
}
