//! Transcriber: whisper.cpp (tiny.en ggml) through whisper-rs. 16 kHz mono f32 in, segments
//! with start and end times out. whisper.cpp's own logging goes to tracing.

use std::path::{Path, PathBuf};
use std::sync::Once;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use crate::error::{ModelError, Result};

pub const SAMPLE_RATE: u32 = 16_000;
/// Below this RMS (about -60 dBFS) a clip is silence: whisper would only invent words.
const SILENCE_RMS: f32 = 0.001;
/// Clips shorter than this carry no words worth a full encoder pass.
const MIN_SAMPLES: usize = SAMPLE_RATE as usize / 10;

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub no_speech: f32,
}

/// How whisper's weight matrices are held in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WhisperWeights {
    /// 8-bit (q8_0), made from the stored file at load: faster, same words on the samples.
    #[default]
    Int8,
    /// As stored in the model file (f16).
    AsStored,
}

pub struct Transcriber {
    ctx: WhisperContext,
    threads: i32,
    path: PathBuf,
}

/// Whisper's notes on sounds that are not words ("[GASP]", "(upbeat music)", "[BLANK_AUDIO]",
/// "♪"): nothing was said, so there is nothing to find.
fn says_nothing(text: &str) -> bool {
    let mut depth = 0i32;
    let mut words = false;
    for c in text.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = (depth - 1).max(0),
            c if depth == 0 && c.is_alphanumeric() => words = true,
            _ => {}
        }
    }
    !words
}

fn rms(pcm: &[f32]) -> f32 {
    (pcm.iter().map(|s| s * s).sum::<f32>() / pcm.len().max(1) as f32).sqrt()
}

impl Transcriber {
    /// Loads `whisper/ggml-tiny.en.bin` from a pack with 8-bit weights; `threads` for
    /// whisper.cpp's own pool.
    pub fn load(pack: &Path, threads: usize) -> Result<Transcriber> {
        Transcriber::load_as(pack, threads, WhisperWeights::default())
    }

    /// As [`Transcriber::load`], with the weights held as `weights` says.
    pub fn load_as(pack: &Path, threads: usize, weights: WhisperWeights) -> Result<Transcriber> {
        static LOGS: Once = Once::new();
        LOGS.call_once(whisper_rs::install_logging_hooks);
        let path = pack.join("whisper").join("ggml-tiny.en.bin");
        if !path.is_file() {
            return Err(ModelError::Missing(path));
        }
        let failed = |message: String| ModelError::Load {
            path: path.clone(),
            message,
        };
        let stored = std::fs::read(&path).map_err(|e| failed(e.to_string()))?;
        let model = match weights {
            WhisperWeights::Int8 => {
                vx_model_store::whisper_q8::quantize(&stored).map_err(failed)?
            }
            WhisperWeights::AsStored => stored.as_slice().into(),
        };
        let ctx = WhisperContext::new_from_buffer_with_params(
            &model,
            WhisperContextParameters::default(),
        )
        .map_err(|e| failed(e.to_string()))?;
        Ok(Transcriber {
            ctx,
            threads: threads.max(1) as i32,
            path,
        })
    }

    /// Transcribes 16 kHz mono audio in -1..1. Silence and very short clips give no segments.
    pub fn transcribe(&self, pcm: &[f32], sample_rate: u32) -> Result<Vec<Segment>> {
        self.transcribe_with(pcm, sample_rate, self.threads as usize)
    }

    /// As [`Transcriber::transcribe`] on `threads` threads (whisper scales well with them).
    pub fn transcribe_with(
        &self,
        pcm: &[f32],
        sample_rate: u32,
        threads: usize,
    ) -> Result<Vec<Segment>> {
        if sample_rate != SAMPLE_RATE {
            return Err(ModelError::BadInput(format!(
                "the transcriber takes {SAMPLE_RATE} Hz audio, got {sample_rate} Hz: resample first"
            )));
        }
        if pcm.len() < MIN_SAMPLES || rms(pcm) < SILENCE_RMS {
            return Ok(Vec::new());
        }
        if pcm.iter().any(|s| !s.is_finite()) {
            return Err(ModelError::BadInput(
                "audio holds NaN or infinite samples".into(),
            ));
        }
        let fail = |e: whisper_rs::WhisperError| ModelError::Inference {
            model: "transcriber",
            message: e.to_string(),
        };
        let mut state = self.ctx.create_state().map_err(fail)?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads.max(1) as i32);
        params.set_language(Some("en"));
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        state.full(params, pcm).map_err(fail)?;
        let mut segments = Vec::new();
        for i in 0..state.full_n_segments() {
            let Some(seg) = state.get_segment(i) else {
                continue;
            };
            let text = seg.to_str_lossy().map_err(fail)?.trim().to_string();
            if says_nothing(&text) {
                continue;
            }
            segments.push(Segment {
                start: seg.start_timestamp() as f64 / 100.0,
                end: seg.end_timestamp() as f64 / 100.0,
                text,
                no_speech: seg.no_speech_probability(),
            });
        }
        tracing::debug!(model = %self.path.display(), segments = segments.len(), "transcribed");
        Ok(segments)
    }
}

/// Word error rate of `hypothesis` against `reference`: words compared lower-cased, without
/// punctuation.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace()
            .map(|w| {
                w.chars()
                    .filter(|c| c.is_alphanumeric() || *c == '\'')
                    .collect::<String>()
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (r, h) = (words(reference), words(hypothesis));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_on_sounds_are_not_speech() {
        for note in [
            "[GASP]",
            "(upbeat music)",
            "[BLANK_AUDIO]",
            "♪",
            "♪ ♪",
            "",
            "[Music] (laughs)",
        ] {
            assert!(says_nothing(note), "{note}");
        }
        for said in [
            "[GASP] Hello there.",
            "He was not an ill-disposed young man.",
            "(2) items",
        ] {
            assert!(!says_nothing(said), "{said}");
        }
    }

    #[test]
    fn wer_counts_edits_per_reference_word() {
        assert_eq!(word_error_rate("a b c d", "a b c d"), 0.0);
        assert_eq!(word_error_rate("a b c d", "A, b. x d"), 0.25);
        assert_eq!(word_error_rate("a b", "a b c d"), 1.0);
    }
}
