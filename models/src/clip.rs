//! CLIP dual encoder in the OpenCLIP ONNX export layout (as Immich publishes them):
//!
//! ```text
//! MODEL/config.json                   text_cfg.context_length (default 77)
//! MODEL/visual/model.onnx             f32 [N,3,S,S] -> [N,D]
//! MODEL/visual/preprocess_cfg.json    size, mean, std, interpolation, resize_mode
//! MODEL/textual/model.onnx            i32 or i64 [N,context] -> [N,D]
//! MODEL/textual/tokenizer.json        Hugging Face tokenizer
//! MODEL/textual/tokenizer_config.json pad_token
//! ```
//!
//! Both towers' first output is the embedding; vx L2-normalises it, so image and text vectors
//! compare by dot product in one space.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Array4};
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};
use serde::Deserialize;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::{ModelError, Result, infer};
use crate::image::{FilterType, Rect, RgbView};
use crate::runtime::Runtime;

#[derive(Deserialize)]
struct Preprocess {
    size: SizeSpec,
    mean: [f32; 3],
    std: [f32; 3],
    #[serde(default)]
    interpolation: Option<String>,
    #[serde(default)]
    resize_mode: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeSpec {
    One(u32),
    Pair([u32; 2]),
}

#[derive(Deserialize, Default)]
struct ModelConfig {
    #[serde(default)]
    text_cfg: TextConfig,
}

#[derive(Deserialize)]
struct TextConfig {
    #[serde(default = "default_context")]
    context_length: usize,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            context_length: default_context(),
        }
    }
}

fn default_context() -> usize {
    77
}

#[derive(Deserialize)]
struct TokenizerConfig {
    pad_token: String,
}

pub struct Clip {
    visual: Session,
    textual: Session,
    tokenizer: Tokenizer,
    size: u32,
    mean: [f32; 3],
    std: [f32; 3],
    filter: FilterType,
    squash: bool,
    context: usize,
    text_i64: bool,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = crate::labels::read_text(path)?;
    serde_json::from_str(&text).map_err(|e| ModelError::Load {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl Clip {
    /// Loads a CLIP model directory in the layout above.
    pub fn load(runtime: &Runtime, dir: &Path) -> Result<Clip> {
        let pre: Preprocess = read_json(&dir.join("visual/preprocess_cfg.json"))?;
        let config: ModelConfig = match read_json(&dir.join("config.json")) {
            Ok(c) => c,
            Err(ModelError::Missing(_)) => ModelConfig::default(),
            Err(e) => return Err(e),
        };
        let tok_cfg: TokenizerConfig = read_json(&dir.join("textual/tokenizer_config.json"))?;
        let tok_path: PathBuf = dir.join("textual/tokenizer.json");
        if !tok_path.is_file() {
            return Err(ModelError::Missing(tok_path));
        }
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| ModelError::Load {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        let context = config.text_cfg.context_length;
        let pad_id = tokenizer
            .token_to_id(&tok_cfg.pad_token)
            .ok_or_else(|| ModelError::Load {
                path: tok_path.clone(),
                message: format!("pad token {:?} is not in the vocabulary", tok_cfg.pad_token),
            })?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::Fixed(context),
            pad_id,
            pad_token: tok_cfg.pad_token.clone(),
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: context,
                ..TruncationParams::default()
            }))
            .map_err(|e| ModelError::Load {
                path: tok_path.clone(),
                message: e.to_string(),
            })?;
        let textual = runtime.session(&dir.join("textual/model.onnx"))?;
        let text_i64 = match textual
            .inputs()
            .first()
            .and_then(|i| i.dtype().tensor_type())
        {
            Some(TensorElementType::Int64) => true,
            Some(TensorElementType::Int32) => false,
            other => {
                return Err(ModelError::Load {
                    path: dir.join("textual/model.onnx"),
                    message: format!(
                        "text input must be int32 or int64 token ids, found {other:?}"
                    ),
                });
            }
        };
        Ok(Clip {
            visual: runtime.session(&dir.join("visual/model.onnx"))?,
            textual,
            tokenizer,
            size: match pre.size {
                SizeSpec::One(s) | SizeSpec::Pair([s, _]) => s,
            },
            mean: pre.mean,
            std: pre.std,
            filter: match pre.interpolation.as_deref() {
                Some("bilinear") => FilterType::Bilinear,
                _ => FilterType::CatmullRom,
            },
            squash: pre.resize_mode.as_deref() == Some("squash"),
            context,
            text_i64,
        })
    }

    /// Unit-length embeddings of images.
    pub fn embed_images(&mut self, images: &[RgbView]) -> Result<Vec<Vec<f32>>> {
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let s = self.size as usize;
        let mut batch = Array4::<f32>::zeros((images.len(), 3, s, s));
        for (n, image) in images.iter().enumerate() {
            image.check()?;
            // "shortest": scale the short side to S and take the centre; "squash": whole image.
            let crop = (!self.squash).then(|| {
                let side = image.width.min(image.height) as f32;
                Rect {
                    x: (image.width as f32 - side) / 2.0,
                    y: (image.height as f32 - side) / 2.0,
                    w: side,
                    h: side,
                }
            });
            let r = image.resize_with(self.filter, self.size, self.size, crop)?;
            for (i, px) in r.data.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    batch[[n, c, i / s, i % s]] =
                        (px[c] as f32 / 255.0 - self.mean[c]) / self.std[c];
                }
            }
        }
        let name = self.visual.inputs()[0].name().to_string();
        let outputs = self
            .visual
            .run(ort::inputs![name => TensorRef::from_array_view(&batch).map_err(infer("clip image"))?])
            .map_err(infer("clip image"))?;
        let (shape, emb) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(infer("clip image"))?;
        Ok(rows(emb, shape[1] as usize))
    }

    /// Unit-length embeddings of texts.
    pub fn embed_texts(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| ModelError::BadInput(e.to_string()))?;
        let mut ids = Array2::<i64>::zeros((texts.len(), self.context));
        for (i, e) in enc.iter().enumerate() {
            for (j, &id) in e.get_ids().iter().take(self.context).enumerate() {
                ids[[i, j]] = id as i64;
            }
        }
        let name = self.textual.inputs()[0].name().to_string();
        let ids32 = ids.mapv(|v| v as i32);
        let input = if self.text_i64 {
            ort::inputs![name => TensorRef::from_array_view(&ids).map_err(infer("clip text"))?]
        } else {
            ort::inputs![name => TensorRef::from_array_view(&ids32).map_err(infer("clip text"))?]
        };
        let outputs = self.textual.run(input).map_err(infer("clip text"))?;
        let (shape, emb) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(infer("clip text"))?;
        Ok(rows(emb, shape[1] as usize))
    }
}

fn rows(flat: &[f32], dim: usize) -> Vec<Vec<f32>> {
    flat.chunks_exact(dim.max(1))
        .map(|r| {
            let mut v = r.to_vec();
            crate::normalize(&mut v);
            v
        })
        .collect()
}
