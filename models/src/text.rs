//! Text embedder (all-MiniLM-L6-v2): 384-d unit vectors for semantic search.
//! Inputs `input_ids`, `attention_mask`, `token_type_ids` i64 [N,seq] from the pack's
//! tokenizer.json (truncated to 128 tokens, padded to the batch's longest, not always to 128);
//! output `sentence_embedding` [N,384], already mean-pooled and L2-normalised.

use std::path::Path;

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{PaddingStrategy, Tokenizer};

use crate::error::{ModelError, Result, infer};
use crate::runtime::Runtime;

pub const DIM: usize = 384;
const NAME: &str = "text embedder";

pub struct TextEmbedder {
    session: Session,
    tokenizer: Tokenizer,
}

/// MiniLM's first layer's feed-forward weights, whose products a query embedder keeps in
/// float: quantising their activations cost the most (over the judged sets' 136 queries, the
/// lowest cosine with the float embedding 0.982 with them in int8, 0.990 without, for under
/// 0.1 ms more a query).
fn first_feed_forward(weight: &str) -> bool {
    weight.starts_with("encoder.layer.0.intermediate.")
        || weight.starts_with("encoder.layer.0.output.")
}

impl TextEmbedder {
    /// The embedder that stored texts are embedded with: every product in float.
    pub fn load(runtime: &Runtime, pack: &Path) -> Result<TextEmbedder> {
        Self::load_as(pack, |model| runtime.session(model))
    }

    /// An embedder for search queries: on a CPU with VNNI or AVX2, the model's int8 weights
    /// multiplied in integers ([`crate::int8_matmul`]), two to three times as fast on a short
    /// query and within a cosine of about 0.99 of [`TextEmbedder::load`]'s embedding
    /// (docs/benchmarks.md); elsewhere, or with VX_QUERY_INT8=0 (benchmarks compare), the same
    /// as `load`.
    pub fn load_for_queries(runtime: &Runtime, pack: &Path) -> Result<TextEmbedder> {
        let setting = std::env::var("VX_QUERY_INT8").unwrap_or_default();
        let wanted = setting != "0";
        // VX_QUERY_INT8=all: the first feed-forward in int8 too (benchmarks compare).
        let keep_float = if setting == "all" {
            |_: &str| false
        } else {
            first_feed_forward
        };
        let form = match crate::int8_matmul::int8_form() {
            Some(form) if wanted => form,
            _ => return Self::load(runtime, pack),
        };
        Self::load_as(pack, |model| {
            if !model.is_file() {
                return Err(ModelError::Missing(model.to_path_buf()));
            }
            let load = |message: String| ModelError::Load {
                path: model.to_path_buf(),
                message,
            };
            let bytes = std::fs::read(model).map_err(|e| load(e.to_string()))?;
            let (rewritten, n) = crate::int8_matmul::int8_matmuls(&bytes, form, keep_float)
                .map_err(|e| load(e.to_string()))?;
            tracing::debug!(products = n, ?form, "query embedder: products in int8");
            runtime.session_from_bytes(&rewritten, model)
        })
    }

    fn load_as(
        pack: &Path,
        session: impl FnOnce(&Path) -> Result<Session>,
    ) -> Result<TextEmbedder> {
        let dir = pack.join("text");
        let tok_path = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(ModelError::Missing(tok_path));
        }
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| ModelError::Load {
            path: tok_path.clone(),
            message: e.to_string(),
        })?;
        // Pad to the longest sentence in the batch: short queries cost a fraction of 128 tokens.
        if let Some(p) = tokenizer.get_padding_mut() {
            p.strategy = PaddingStrategy::BatchLongest;
        }
        Ok(TextEmbedder {
            session: session(&dir.join("minilm-l6-v2.onnx"))?,
            tokenizer,
        })
    }

    /// Token ids of one text, as the model sees them (for checks and debugging).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::BadInput(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
    }

    /// One unit vector per text. Empty texts embed like any other (to [CLS] [SEP]).
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // One text (a query) is encoded on this thread, not handed to the tokenizer's rayon
        // pool as a batch is: the query path keeps to ONNX Runtime's threads.
        let encodings = match texts {
            [one] => self.tokenizer.encode(*one, true).map(|e| vec![e]),
            _ => self.tokenizer.encode_batch(texts.to_vec(), true),
        }
        .map_err(|e| ModelError::BadInput(e.to_string()))?;
        let seq = encodings.iter().map(|e| e.len()).max().unwrap_or(0);
        let n = encodings.len();
        let mut ids = Array2::<i64>::zeros((n, seq));
        let mut mask = Array2::<i64>::zeros((n, seq));
        let types = Array2::<i64>::zeros((n, seq));
        for (i, e) in encodings.iter().enumerate() {
            for (j, (&id, &m)) in e.get_ids().iter().zip(e.get_attention_mask()).enumerate() {
                ids[[i, j]] = id as i64;
                mask[[i, j]] = m as i64;
            }
        }
        let outputs = self
            .session
            .run(ort::inputs![
                "input_ids" => TensorRef::from_array_view(&ids).map_err(infer(NAME))?,
                "attention_mask" => TensorRef::from_array_view(&mask).map_err(infer(NAME))?,
                "token_type_ids" => TensorRef::from_array_view(&types).map_err(infer(NAME))?,
            ])
            .map_err(infer(NAME))?;
        let (_, emb) = outputs["sentence_embedding"]
            .try_extract_tensor::<f32>()
            .map_err(infer(NAME))?;
        Ok(emb.chunks_exact(DIM).map(<[f32]>::to_vec).collect())
    }
}
