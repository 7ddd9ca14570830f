//! Running the extractors over one decoded file: every enabled one on the same in-memory
//! frames and audio, in the order of their stages (see [`crate::extractors`]). The output is
//! plain data, sent back from the worker process and stored in one transaction.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use vx_models::{ModelError, ModelSet};

use crate::decode::Decoded;
use crate::extractors::{Background, Cx, Input, Metered, Stage, by_name, merge_runs};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SegmentOut {
    pub extractor: String,
    /// What kind of text it is: its extractor's `Segments::source`.
    pub source: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub confidence: f32,
    /// Text embedding (MiniLM), for semantic search.
    pub embedding: Option<Vec<f32>>,
}

impl SegmentOut {
    pub fn new(
        extractor: &str,
        source: &str,
        (start, end): (f64, f64),
        text: String,
        confidence: f32,
    ) -> SegmentOut {
        SegmentOut {
            extractor: extractor.into(),
            source: source.into(),
            start,
            end,
            text,
            confidence,
            embedding: None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaceOut {
    pub time: f64,
    pub rect: [f32; 4],
    pub score: f32,
    pub descriptor: Vec<f32>,
    pub age: f32,
    pub male: f32,
    /// A small crop of the face, relative to the thumbnails dir (what `vx people` shows).
    pub thumb: Option<String>,
}

/// One person's pose in a frame: 17 COCO keypoints as (x, y, score), x and y in the frame's
/// pixels.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PoseOut {
    pub time: f64,
    pub score: f32,
    pub keypoints: Vec<[f32; 3]>,
}

/// The expression of the face in `rect` (pixels of the frame) wherever the content shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ExpressionOut {
    pub rect: [f32; 4],
    /// The likeliest class and its probability.
    pub label: String,
    pub score: f32,
}

/// One speaker of a recording: when they speak, and their voice (for grouping voices across
/// files).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeakerOut {
    /// 1, 2, ... in the order they first speak.
    pub speaker: u32,
    pub seconds: f64,
    pub embedding: Vec<f32>,
    pub turns: Vec<(f64, f64)>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FrameOut {
    pub time: f64,
    /// Relative to the thumbnails dir.
    pub thumb: Option<String>,
    /// CLIP image embedding.
    pub clip: Option<Vec<f32>>,
    /// Its fingerprint (`vx_models::quality::fingerprint`), to know near-duplicates by.
    pub fingerprint: Option<u64>,
}

/// A number measured over the whole file (see `extractors::Measure`), for one audio track
/// (0: the one decoded for speech; search filters on it).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MeasureOut {
    pub extractor: String,
    pub name: String,
    pub track: u32,
    pub value: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub extractor: String,
    pub version: u32,
    pub error: Option<String>,
    pub seconds: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Output {
    pub segments: Vec<SegmentOut>,
    pub faces: Vec<FaceOut>,
    pub poses: Vec<PoseOut>,
    pub expressions: Vec<ExpressionOut>,
    /// A video's scenes: (start, end) in seconds.
    pub scenes: Vec<(f64, f64)>,
    pub speakers: Vec<SpeakerOut>,
    pub frames: Vec<FrameOut>,
    pub measures: Vec<MeasureOut>,
    /// Stored segments this pass stores again (embedded: see `Job::stored`), deleted first.
    pub replaced: Vec<i64>,
    /// Per look, the height of the tallest person the object detector may have seen, as a
    /// share of the picture's long side (when it ran in this pass), so that the people models
    /// run only where there are people, and at the size that finds them.
    #[serde(skip)]
    pub persons_in_looks: Option<Vec<Option<f32>>>,
    /// The extractors that ran, with their errors (an extractor whose model cannot load is
    /// left out, so that it runs once the model is installed).
    pub outcomes: Vec<Outcome>,
}

/// What the worker asks of one file besides the decoded file itself.
pub struct Job<'a> {
    /// (extractor, version), in the order of [`crate::extractors::order`].
    pub wanted: &'a [(String, u32)],
    pub thumbs_dir: &'a Path,
    /// The content's hash: thumbnails are named after it.
    pub hash_hex: &'a str,
    /// Cores nothing else will use meanwhile; background work (speech) takes them once the
    /// frame extractors are done.
    pub spare_threads: usize,
    /// What the meters measured while the file decoded, by extractor.
    pub metered: Vec<(&'static str, usize, Metered)>,
    /// Segments already stored for the content by extractors not in this pass, with their ids,
    /// for the extractors that work on the others' results (the text embedder, installed after
    /// the transcript was made).
    pub stored: &'a [(i64, SegmentOut)],
}

/// Runs the wanted extractors over `decoded`.
pub fn extract(decoded: &Decoded, job: Job<'_>, models: &mut ModelSet) -> Output {
    let mut input = Input::new(decoded, job.thumbs_dir, job.hash_hex, job.stored);
    let mut metered = job.metered;
    let mut out = Output {
        frames: decoded
            .frames
            .iter()
            .map(|f| FrameOut {
                time: f.time,
                thumb: None,
                clip: None,
                fingerprint: None,
            })
            .collect(),
        ..Output::default()
    };
    let frames_done = AtomicBool::new(false);
    // One thread beside the frame extractors, more once they are done.
    let threads = || {
        1 + if frames_done.load(Ordering::Relaxed) {
            job.spare_threads
        } else {
            0
        }
    };
    let wanted: Vec<_> = job
        .wanted
        .iter()
        .filter_map(|(n, v)| by_name(n).map(|e| (e, *v)))
        .collect();
    if let Some(pcm) = decoded.audio.as_deref()
        && wanted.iter().any(|(e, _)| e.listens())
    {
        input.heard = Some(models.audio_events().and_then(|m| m.listen(pcm)));
    }
    let input = input;
    std::thread::scope(|scope| {
        // Background work (speech) starts first, on threads of its own.
        let mut background: Vec<_> = wanted
            .iter()
            .map(|(e, _)| {
                let work: Background = e.background(&input, models)?;
                let threads = &threads;
                Some(scope.spawn(move || {
                    let started = Instant::now();
                    (work(threads), started.elapsed().as_secs_f64())
                }))
            })
            .collect();
        for (i, (e, version)) in wanted.iter().enumerate() {
            if e.stage() > Stage::Frames {
                frames_done.store(true, Ordering::Relaxed);
            }
            let (found, background_secs) = match background[i].take() {
                Some(handle) => match handle.join() {
                    Ok((found, secs)) => (Some(found), secs),
                    Err(_) => (
                        Some(Err(ModelError::Inference {
                            model: e.name(),
                            message: "crashed".into(),
                        })),
                        0.0,
                    ),
                },
                None => (None, 0.0),
            };
            let started = Instant::now();
            let mut cx = Cx {
                input: &input,
                models,
                background: found,
                metered: metered
                    .extract_if(.., |(n, ..)| *n == e.name())
                    .map(|(_, track, m)| (track, m))
                    .collect(),
            };
            let result = e.run(&mut cx, &mut out);
            let seconds = background_secs + started.elapsed().as_secs_f64();
            let name = e.name();
            match result {
                // A model that is not there: leave the extractor for when it is installed.
                Err(ModelError::Missing(p)) => {
                    tracing::debug!("{name}: model missing ({})", p.display())
                }
                Err(
                    e @ (ModelError::RuntimeMissing { .. }
                    | ModelError::RuntimeLoad { .. }
                    | ModelError::Load { .. }),
                ) => {
                    tracing::warn!("{name} skipped: {e}")
                }
                r => out.outcomes.push(Outcome {
                    extractor: name.into(),
                    version: *version,
                    error: r.err().map(|e| e.to_string()),
                    seconds,
                }),
            }
        }
    });
    out.segments = merge_runs(out.segments);
    sanitize(&mut out);
    out
}

/// A model's NaN or infinity cannot cross to the daemon (JSON has no such numbers) and means
/// nothing to search: such a measure is dropped, such a confidence is 0.
fn sanitize(out: &mut Output) {
    let dropped = out.measures.len();
    out.measures.retain(|m| m.value.is_finite());
    if out.measures.len() < dropped {
        tracing::warn!(
            "{} measures were not numbers; dropped",
            dropped - out.measures.len()
        );
    }
    let finite = |x: &mut f32| {
        if !x.is_finite() {
            *x = 0.0;
        }
    };
    out.segments
        .iter_mut()
        .for_each(|s| finite(&mut s.confidence));
    out.faces.iter_mut().for_each(|f| finite(&mut f.score));
    out.expressions
        .iter_mut()
        .for_each(|e| finite(&mut e.score));
    for p in &mut out.poses {
        finite(&mut p.score);
        p.keypoints.iter_mut().flatten().for_each(finite);
    }
}
