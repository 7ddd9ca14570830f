//! Running the extractors over one decoded file: every enabled model on the same in-memory
//! frames and audio, images batched across frames. The output is plain data, sent back from
//! the worker process and stored in one transaction.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use vx_models::{ModelError, ModelSet, RgbView};

use crate::decode::{Decoded, Frame};

/// Every extractor with its version. Bump a version to re-run that extractor (alone) over
/// existing content.
pub const EXTRACTORS: &[(&str, u32)] = &[
    ("thumbnails", 1),
    ("tags", 2),
    ("objects", 2),
    ("faces", 2),
    ("ocr", 2),
    ("transcript", 2),
    ("semantic", 1),
    ("visual", 1),
];

/// Frames per model batch (PERF-FACTS: batching pays for the tagger, not for OCR detection).
const BATCH: usize = 8;
const TAGS_PER_FRAME: usize = 5;
const MIN_TAG_SCORE: f32 = 0.1;
const THUMB_SIDE: u32 = 320;
const FRAME_THUMB_SIDE: u32 = 192;
const FACE_THUMB_SIDE: u32 = 128;

/// The version of an extractor, with a test override (VX_BUMP_EXTRACTOR=name adds one).
pub fn version(name: &str) -> u32 {
    let base = EXTRACTORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .unwrap_or(1);
    let bumped = std::env::var("VX_BUMP_EXTRACTOR").is_ok_and(|b| b.split(',').any(|x| x == name));
    base + u32::from(bumped)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SegmentOut {
    pub extractor: String,
    /// transcript | ocr | tag | object
    pub source: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub confidence: f32,
    /// Text embedding (MiniLM), for semantic search.
    pub embedding: Option<Vec<f32>>,
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FrameOut {
    pub time: f64,
    /// Relative to the thumbnails dir.
    pub thumb: Option<String>,
    /// CLIP image embedding.
    pub clip: Option<Vec<f32>>,
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
    pub frames: Vec<FrameOut>,
    /// The extractors that ran, with their errors (an extractor whose model cannot load is
    /// left out, so that it runs once the model is installed).
    pub outcomes: Vec<Outcome>,
}

/// End of the moment a frame stands for: the next frame's time (the last one: itself).
fn frame_end(frames: &[Frame], i: usize, duration: f64) -> f64 {
    frames
        .get(i + 1)
        .map(|f| f.time)
        .unwrap_or(duration.max(frames[i].time))
}

/// Words people use for several persons: "people" from two, "crowd" from five.
fn collective_words(persons: usize) -> &'static [&'static str] {
    match persons {
        0 | 1 => &[],
        2..=4 => &["people"],
        _ => &["people", "crowd"],
    }
}

/// Mean absolute difference (0-255) below which a keyframe counts as the same scene.
const SAME_SCENE: f32 = 6.0;

/// The scenes of a run of keyframes. A keyframe that looks like the first of the current scene
/// (compared as 16x16 grey thumbnails) extends it; one that looks like an earlier scene (a
/// slide returned to, a cut back to a speaker) starts a scene showing that look again, and the
/// visual models see each look once.
struct Scenes {
    /// The frame each scene starts at.
    starts: Vec<usize>,
    /// Each scene's look, numbered in order of first appearance.
    look: Vec<usize>,
    /// Each look's first scene.
    firsts: Vec<usize>,
}

impl Scenes {
    fn of(views: &[RgbView]) -> Scenes {
        let signature = |v: &RgbView| -> Option<Vec<f32>> {
            let small = v.resize(16, 16, None).ok()?;
            Some(
                small
                    .data
                    .chunks(3)
                    .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
                    .collect(),
            )
        };
        let alike = |a: &Option<Vec<f32>>, b: &Option<Vec<f32>>| match (a, b) {
            (Some(a), Some(b)) => {
                a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32
                    <= SAME_SCENE
            }
            _ => false,
        };
        let mut scenes = Scenes {
            starts: Vec::new(),
            look: Vec::new(),
            firsts: Vec::new(),
        };
        let mut looks: Vec<Option<Vec<f32>>> = Vec::new();
        for (i, v) in views.iter().enumerate() {
            let sig = signature(v);
            if let Some(&current) = scenes.look.last()
                && alike(&looks[current], &sig)
            {
                continue;
            }
            let look = match looks.iter().position(|l| alike(l, &sig)) {
                Some(l) => l,
                None => {
                    scenes.firsts.push(scenes.starts.len());
                    looks.push(sig);
                    looks.len() - 1
                }
            };
            scenes.starts.push(i);
            scenes.look.push(look);
        }
        scenes
    }

    /// The scenes that show `look`.
    fn showing(&self, look: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.look.len()).filter(move |&k| self.look[k] == look)
    }

    /// What a model found in `look` (texts with scores), as segments at every scene showing
    /// it, each over its `span`.
    fn segments(
        &self,
        look: usize,
        span: impl Fn(usize) -> (f64, f64),
        (extractor, source): (&str, &str),
        found: &[(String, f32)],
        out: &mut Vec<SegmentOut>,
    ) {
        for k in self.showing(look) {
            let (start, end) = span(k);
            for (text, score) in found {
                out.push(seg(extractor, source, start, end, text.clone(), *score));
            }
        }
    }
}

/// Merges equal texts of the same source on consecutive frames into one longer moment.
fn merge_runs(mut segs: Vec<SegmentOut>) -> Vec<SegmentOut> {
    segs.sort_by(|a, b| {
        a.source
            .cmp(&b.source)
            .then(a.text.cmp(&b.text))
            .then(a.start.total_cmp(&b.start))
    });
    let mut out: Vec<SegmentOut> = Vec::new();
    for s in segs {
        if let Some(last) = out.last_mut()
            && last.source == s.source
            && last.text == s.text
            && s.start <= last.end + 1e-6
        {
            last.end = last.end.max(s.end);
            last.confidence = last.confidence.max(s.confidence);
            continue;
        }
        out.push(s);
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.source.cmp(&b.source)));
    out
}

/// A segment's text may end with words that should find it without being shown (a tag's
/// broader WordNet names, an OCR line's run-together words spaced out), after this separator.
const HIDDEN_WORDS: char = '\n';

/// (what to show, words that only help find it) of a segment's text.
pub fn split_hidden(text: &str) -> (&str, &str) {
    text.split_once(HIDDEN_WORDS).unwrap_or((text, ""))
}

/// "Egyptian Mau (Egyptian cat)": the curated name, then WordNet's synonyms; its hypernyms
/// ("cat, feline, animal") are searchable but hidden.
fn tag_text(t: &vx_models::tagger::Tag) -> String {
    let mut text = t.label.clone();
    if !t.synonyms.is_empty() {
        text = format!("{text} ({})", t.synonyms.join(", "));
    }
    if !t.hypernyms.is_empty() {
        text = format!("{text}{HIDDEN_WORDS}{}", t.hypernyms.join(", "));
    }
    text
}

fn seg(
    extractor: &str,
    source: &str,
    start: f64,
    end: f64,
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

/// The face with a margin around it, at most FACE_THUMB_SIDE on its long side.
fn write_face_thumb(img: &RgbView, face: vx_models::Rect, path: &Path) -> Result<(), String> {
    let margin = 0.25 * face.w.max(face.h);
    let crop = vx_models::Rect {
        x: face.x - margin,
        y: face.y - margin,
        w: face.w + 2.0 * margin,
        h: face.h + 2.0 * margin,
    }
    .clamp(img.width, img.height);
    let s = FACE_THUMB_SIDE as f32 / crop.w.max(crop.h).max(1.0);
    let (w, h) = (
        ((crop.w * s).round() as u32).max(1),
        ((crop.h * s).round() as u32).max(1),
    );
    let face = img.resize(w, h, Some(crop)).map_err(|e| e.to_string())?;
    write_thumb(&face.view(), FACE_THUMB_SIDE, path)
}

fn write_thumb(img: &RgbView, side: u32, path: &Path) -> Result<(), String> {
    let long = img.width.max(img.height);
    let scaled;
    let view = if long > side {
        let s = side as f32 / long as f32;
        scaled = img
            .resize(
                ((img.width as f32 * s).round() as u32).max(1),
                ((img.height as f32 * s).round() as u32).max(1),
                None,
            )
            .map_err(|e| e.to_string())?;
        scaled.view()
    } else {
        *img
    };
    let bytes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || -> std::io::Result<Vec<u8>> {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_size(view.width as usize, view.height as usize);
            c.set_quality(78.0);
            let mut c = c.start_compress(Vec::new())?;
            c.write_scanlines(view.data)?;
            c.finish()
        },
    ))
    .map_err(|_| "JPEG encoder failed".to_string())?
    .map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let tmp = path.with_extension("jpg.tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| e.to_string())
}

/// Runs the `wanted` extractors (name, version) over `decoded`. Thumbnails go under
/// `thumbs_dir`, named after `hash_hex`.
/// `spare_threads`: cores nothing else will use meanwhile; speech takes them once the visual
/// models are done.
pub fn extract(
    decoded: &Decoded,
    wanted: &[(String, u32)],
    models: &mut ModelSet,
    thumbs_dir: &Path,
    hash_hex: &str,
    spare_threads: usize,
) -> Output {
    let mut out = Output::default();
    let frames = &decoded.frames;
    let views: Vec<RgbView> = frames.iter().map(|f| f.image.view()).collect();
    let duration = decoded.meta.duration.unwrap_or(0.0);
    let is_image = decoded.meta.kind == Some(vx_client::MediaKind::Image);
    // The visual models see each look once (see `Scenes`); what they find is stored for every
    // scene that shows it.
    let scenes = Scenes::of(&views);
    let scene = &scenes.starts;
    let look_views: Vec<RgbView> = scenes.firsts.iter().map(|&k| views[scene[k]]).collect();
    let span = |k: usize| -> (f64, f64) {
        let start = frames[scene[k]].time;
        let end = match scene.get(k + 1) {
            Some(&next) => frames[next].time,
            None => frame_end(frames, frames.len() - 1, duration),
        };
        (start, end.max(start))
    };
    let mut frame_out: Vec<FrameOut> = frames
        .iter()
        .map(|f| FrameOut {
            time: f.time,
            thumb: None,
            clip: None,
        })
        .collect();
    let mut text_segments: Vec<usize> = Vec::new();
    let visual_done = std::sync::atomic::AtomicBool::new(false);

    std::thread::scope(|scope| {
        // Speech runs on its own thread, beside the visual models: a video uses both cores.
        let mut speech = match (
            wanted.iter().any(|(n, _)| n == "transcript"),
            &decoded.audio,
        ) {
            (true, Some(pcm)) => {
                let transcriber = models.transcriber();
                let visual_done = &visual_done;
                // One thread beside the visual models, more once they are done.
                let threads = move || {
                    1 + if visual_done.load(std::sync::atomic::Ordering::Relaxed) {
                        spare_threads
                    } else {
                        0
                    }
                };
                Some(scope.spawn(move || {
                    let started = Instant::now();
                    let segments = transcriber.and_then(|t| transcribe(&t, pcm, threads));
                    (segments, started.elapsed().as_secs_f64())
                }))
            }
            _ => None,
        };
        for (name, version) in wanted {
            let started = Instant::now();
            let mut spent: Option<f64> = None;
            let result: Result<(), ModelError> = (|| {
                match name.as_str() {
                    "thumbnails" => {
                        for (i, v) in views.iter().enumerate() {
                            let rel = format!(
                                "{}/{}-{}.jpg",
                                &hash_hex[..2],
                                hash_hex,
                                (frames[i].time * 1000.0).round() as i64
                            );
                            let side = if is_image {
                                THUMB_SIDE
                            } else {
                                FRAME_THUMB_SIDE
                            };
                            write_thumb(v, side, &thumbs_dir.join(&rel))
                                .map_err(ModelError::BadInput)?;
                            frame_out[i].thumb = Some(rel);
                        }
                    }
                    "tags" => {
                        let tagger = models.tagger()?;
                        for (c, chunk) in look_views.chunks(BATCH).enumerate() {
                            for (j, tags) in tagger
                                .tag(chunk, TAGS_PER_FRAME, MIN_TAG_SCORE)?
                                .into_iter()
                                .enumerate()
                            {
                                let found: Vec<(String, f32)> =
                                    tags.iter().map(|t| (tag_text(t), t.score)).collect();
                                scenes.segments(
                                    c * BATCH + j,
                                    span,
                                    (name, "tag"),
                                    &found,
                                    &mut out.segments,
                                );
                            }
                        }
                    }
                    "objects" => {
                        let det = models.detector()?;
                        for (l, v) in look_views.iter().enumerate() {
                            let found = det
                                .detect(std::slice::from_ref(v), vx_models::detector::MIN_SCORE)?
                                .remove(0);
                            let persons: Vec<f32> = found
                                .iter()
                                .filter(|d| d.label == "person")
                                .map(|d| d.score)
                                .collect();
                            let score = persons.iter().copied().fold(0.0, f32::max);
                            let words = collective_words(persons.len())
                                .iter()
                                .map(|w| (w.to_string(), score))
                                .chain(found.into_iter().map(|d| (d.label, d.score)))
                                .collect::<Vec<_>>();
                            scenes.segments(l, span, (name, "object"), &words, &mut out.segments);
                        }
                    }
                    "faces" => {
                        let faces = models.faces()?;
                        for (l, v) in look_views.iter().enumerate() {
                            for (n, f) in faces
                                .faces(v, vx_models::faces::MIN_SCORE)?
                                .into_iter()
                                .enumerate()
                            {
                                let time = span(scenes.firsts[l]).0;
                                let rel = format!(
                                    "{}/{}-face-{}-{n}.jpg",
                                    &hash_hex[..2],
                                    hash_hex,
                                    (time * 1000.0).round() as i64
                                );
                                // A crop that fails is no reason to lose the face.
                                let thumb = write_face_thumb(v, f.rect, &thumbs_dir.join(&rel))
                                    .map_err(|e| tracing::warn!("face thumbnail: {e}"))
                                    .ok()
                                    .map(|_| rel);
                                for k in scenes.showing(l) {
                                    out.faces.push(FaceOut {
                                        time: span(k).0,
                                        thumb: thumb.clone(),
                                        rect: [f.rect.x, f.rect.y, f.rect.w, f.rect.h],
                                        score: f.score,
                                        descriptor: f.descriptor.clone(),
                                        age: f.age,
                                        male: f.male,
                                    });
                                }
                            }
                        }
                    }
                    "ocr" => {
                        let ocr = models.ocr()?;
                        for (l, v) in look_views.iter().enumerate() {
                            // "Quarterlybudgetreview": shown as read, found as words.
                            let lines: Vec<(String, f32)> = ocr
                                .read(v)?
                                .into_iter()
                                .map(|line| {
                                    let text = match crate::wordsplit::respace(&line.text) {
                                        Some(words) => {
                                            format!("{}{HIDDEN_WORDS}{words}", line.text)
                                        }
                                        None => line.text,
                                    };
                                    (text, line.confidence)
                                })
                                .collect();
                            scenes.segments(l, span, (name, "ocr"), &lines, &mut out.segments);
                        }
                    }
                    "transcript" => {
                        visual_done.store(true, std::sync::atomic::Ordering::Relaxed);
                        if let Some(handle) = speech.take() {
                            let (segments, secs) = handle.join().unwrap_or_else(|_| {
                                (
                                    Err(ModelError::Inference {
                                        model: "transcriber",
                                        message: "crashed".into(),
                                    }),
                                    0.0,
                                )
                            });
                            let mut segments = segments?;
                            let started = Instant::now();
                            if let (Some(pcm), Ok(events)) = (&decoded.audio, models.audio_events())
                            {
                                trim_lead_in(&mut segments, pcm, events)?;
                            }
                            out.segments.extend(segments);
                            spent = Some(secs + started.elapsed().as_secs_f64());
                        }
                    }
                    "visual" => {
                        let clip = models.clip()?;
                        for (c, chunk) in look_views.chunks(BATCH).enumerate() {
                            for (j, e) in clip.embed_images(chunk)?.into_iter().enumerate() {
                                for k in scenes.showing(c * BATCH + j) {
                                    frame_out[scene[k]].clip = Some(e.clone());
                                }
                            }
                        }
                    }
                    // Runs last (see `order`): embeds the text segments found above.
                    "semantic" => {
                        out.segments = merge_runs(std::mem::take(&mut out.segments));
                        text_segments = (0..out.segments.len())
                            .filter(|&i| {
                                matches!(out.segments[i].source.as_str(), "transcript" | "ocr")
                            })
                            .collect();
                        if !text_segments.is_empty() {
                            let emb = models.text()?;
                            for chunk in text_segments.chunks(32) {
                                // Text read with its words run together is embedded spaced out.
                                let texts: Vec<&str> = chunk
                                    .iter()
                                    .map(|&i| match split_hidden(&out.segments[i].text) {
                                        (_, "") => &out.segments[i].text,
                                        (_, words) => words,
                                    })
                                    .collect();
                                for (&i, e) in chunk.iter().zip(emb.embed(&texts)?) {
                                    out.segments[i].embedding = Some(e);
                                }
                            }
                        }
                    }
                    other => {
                        return Err(ModelError::BadInput(format!("unknown extractor {other}")));
                    }
                }
                Ok(())
            })();
            let seconds = spent.unwrap_or_else(|| started.elapsed().as_secs_f64());
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
                    extractor: name.clone(),
                    version: *version,
                    error: r.err().map(|e| e.to_string()),
                    seconds,
                }),
            }
        }
    });
    out.segments = merge_runs(out.segments);
    out.frames = frame_out;
    out
}

/// Whisper folds leading silence into its first segment: the stretches with sound are
/// transcribed each at its own offset, so that moments start when the speech does.
/// Speech to timed segments, one whisper call per span of [`whisper_spans`], each on as many
/// threads as `threads()` says when it starts.
fn transcribe(
    t: &vx_models::Transcriber,
    pcm: &[f32],
    threads: impl Fn() -> usize,
) -> Result<Vec<SegmentOut>, ModelError> {
    let mut out = Vec::new();
    for (a, b) in whisper_spans(&sound_regions(pcm))
        .into_iter()
        .flat_map(|span| window_pieces(pcm, span))
    {
        let offset = a as f64 / RATE as f64;
        let rate = vx_models::transcriber::SAMPLE_RATE;
        for s in t.transcribe_with(&pcm[a..b], rate, threads())? {
            out.push(seg(
                "transcript",
                "transcript",
                s.start + offset,
                s.end + offset,
                s.text,
                1.0 - s.no_speech,
            ));
        }
    }
    Ok(out)
}

const RATE: usize = vx_models::transcriber::SAMPLE_RATE as usize;
/// Whisper encodes audio in 30 s windows and pays a whole window for a shorter call.
const WHISPER_WINDOW: usize = 30 * RATE;

/// A span longer than a whisper window cut into pieces of at most one window, each cut at the
/// quietest 100 ms of the piece's last 10 s (between words, not through one), so that each
/// piece can start with the threads free by then.
fn window_pieces(pcm: &[f32], (mut a, b): (usize, usize)) -> Vec<(usize, usize)> {
    const STEP: usize = RATE / 10;
    let mut pieces = Vec::new();
    while b - a > WHISPER_WINDOW {
        let search = a + WHISPER_WINDOW - 10 * RATE;
        let cut = (search..a + WHISPER_WINDOW - STEP)
            .step_by(STEP)
            .min_by(|&x, &y| {
                let energy = |s: usize| pcm[s..s + STEP].iter().map(|v| v * v).sum::<f32>();
                energy(x).total_cmp(&energy(y))
            })
            .map_or(a + WHISPER_WINDOW, |c| c + STEP / 2);
        pieces.push((a, cut));
        a = cut;
    }
    pieces.push((a, b));
    pieces
}

/// Sound regions joined into as few whisper calls as fit in 30 s windows: consecutive regions
/// go in one call (with the quiet between them) while the call stays within one window; a
/// longer region is a call of its own (whisper windows it).
fn whisper_spans(regions: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for &(a, b) in regions {
        match spans.last_mut() {
            Some(last) if b - last.0 <= WHISPER_WINDOW => last.1 = b,
            _ => spans.push((a, b)),
        }
    }
    spans
}
/// Speech probability from which a window counts as speech.
const SPEECH: f32 = 0.5;
/// Windows looked at from a segment's start for its speech onset (about 3.8 s).
const LEAD_IN_WINDOWS: usize = 8;

/// Whisper folds sound before speech (music, noise, a tone) into its first segment, which then
/// starts too early. Each segment's start moves to the first audio-event window that holds
/// speech, when that is later; a segment without such a window in its first seconds keeps its
/// start.
fn trim_lead_in(
    segments: &mut [SegmentOut],
    pcm: &[f32],
    events: &mut vx_models::AudioEvents,
) -> Result<(), ModelError> {
    use vx_models::audio_events::HOP;
    for s in segments.iter_mut() {
        let first = (s.start * RATE as f64) as usize;
        let last = ((s.end * RATE as f64) as usize).min(pcm.len());
        let starts: Vec<usize> = (first..last).step_by(HOP).take(LEAD_IN_WINDOWS).collect();
        let windows: Vec<&[f32]> = starts
            .iter()
            .map(|&a| &pcm[a..(a + vx_models::audio_events::WINDOW).min(pcm.len())])
            .collect();
        // Most segments start with speech: one window settles them.
        if windows.is_empty() || events.speech(&windows[..1])?[0] >= SPEECH {
            continue;
        }
        let speech = events.speech(&windows[1..])?;
        if let Some(k) = speech.iter().position(|&p| p >= SPEECH) {
            s.start = starts[k + 1] as f64 / RATE as f64;
        }
    }
    Ok(())
}

/// Sample ranges with sound: 30 ms windows louder than a threshold relative to the clip's
/// loud parts, joined across pauses shorter than 1.5 s, padded by 0.25 s.
pub fn sound_regions(pcm: &[f32]) -> Vec<(usize, usize)> {
    const WIN: usize = RATE * 30 / 1000;
    let rms: Vec<f32> = pcm
        .chunks(WIN)
        .map(|w| (w.iter().map(|s| s * s).sum::<f32>() / w.len() as f32).sqrt())
        .collect();
    if rms.is_empty() {
        return Vec::new();
    }
    let mut sorted = rms.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let loud = sorted[sorted.len() * 95 / 100];
    let threshold = (loud * 0.1).max(0.003);
    let (join, pad) = (RATE * 3 / 2 / WIN, RATE / 4);
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for (i, _) in rms.iter().enumerate().filter(|(_, r)| **r > threshold) {
        match regions.last_mut() {
            Some(last) if i <= last.1 + join => last.1 = i,
            _ => regions.push((i, i)),
        }
    }
    regions
        .into_iter()
        .map(|(a, b)| {
            (
                (a * WIN).saturating_sub(pad),
                ((b + 1) * WIN + pad).min(pcm.len()),
            )
        })
        .filter(|(a, b)| b - a >= RATE / 4)
        .collect()
}

/// Puts `semantic` after the extractors whose text it embeds.
pub fn order(mut wanted: Vec<(String, u32)>) -> Vec<(String, u32)> {
    // Semantic embeds what the others found; the transcript (on its own thread) is waited
    // for only after the visual extractors have run.
    wanted.sort_by_key(|(n, _)| match n.as_str() {
        "semantic" => 2,
        "transcript" => 1,
        _ => 0,
    });
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_keyframes_are_one_scene_and_a_return_shows_the_same_look() {
        let solid = |v: u8| vx_models::RgbImage {
            width: 32,
            height: 32,
            data: vec![v; 32 * 32 * 3],
        };
        let frames = [
            solid(10),
            solid(12),
            solid(200),
            solid(198),
            solid(10),
            solid(90),
        ];
        let views: Vec<RgbView> = frames.iter().map(|f| f.view()).collect();
        let scenes = Scenes::of(&views);
        assert_eq!(scenes.starts, vec![0, 2, 4, 5]);
        // The dark scene comes back at frame 4: the models see three looks, not four scenes.
        assert_eq!(scenes.look, vec![0, 1, 0, 2]);
        assert_eq!(scenes.firsts, vec![0, 1, 3]);
        assert_eq!(scenes.showing(0).collect::<Vec<_>>(), vec![0, 2]);
    }

    #[test]
    fn several_persons_make_people() {
        assert!(collective_words(1).is_empty());
        assert_eq!(collective_words(3), &["people"]);
        assert_eq!(collective_words(7), &["people", "crowd"]);
    }

    #[test]
    fn consecutive_equal_segments_merge() {
        let s = |start: f64, end: f64, text: &str| seg("tags", "tag", start, end, text.into(), 0.5);
        let merged = merge_runs(vec![
            s(0.0, 2.0, "cat"),
            s(2.0, 4.0, "cat"),
            s(6.0, 8.0, "cat"),
            s(2.0, 4.0, "dog"),
        ]);
        let got: Vec<(f64, f64, &str)> = merged
            .iter()
            .map(|m| (m.start, m.end, m.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(0.0, 4.0, "cat"), (2.0, 4.0, "dog"), (6.0, 8.0, "cat")]
        );
    }

    #[test]
    fn short_regions_share_a_whisper_window() {
        let s = |a: usize, b: usize| (a * RATE, b * RATE);
        // Three readings within 30 s: one call; then one that would overflow it starts another.
        assert_eq!(
            whisper_spans(&[s(2, 9), s(10, 17), s(19, 28), s(30, 40)]),
            vec![s(2, 28), s(30, 40)]
        );
        // A region longer than a window stays whole.
        assert_eq!(
            whisper_spans(&[s(0, 70), s(71, 75)]),
            vec![s(0, 70), s(71, 75)]
        );
        assert!(whisper_spans(&[]).is_empty());
    }

    #[test]
    fn long_speech_is_cut_between_words_into_window_pieces() {
        // 70 s of tone with a pause at 26-26.5 s and at 55 s: cuts land in them.
        let mut pcm: Vec<f32> = (0..70 * RATE)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        for pause in [
            26 * RATE..26 * RATE + RATE / 2,
            55 * RATE..55 * RATE + RATE / 2,
        ] {
            pcm[pause].iter_mut().for_each(|s| *s = 0.0);
        }
        let pieces = window_pieces(&pcm, (0, pcm.len()));
        assert_eq!(pieces.len(), 3, "{pieces:?}");
        let secs = |s: usize| s as f64 / RATE as f64;
        assert!((26.0..26.5).contains(&secs(pieces[0].1)), "{pieces:?}");
        assert!((55.0..55.5).contains(&secs(pieces[1].1)), "{pieces:?}");
        assert_eq!((pieces[0].0, pieces[2].1), (0, pcm.len()));
        assert!(pieces.windows(2).all(|w| w[0].1 == w[1].0));
        assert!(pieces.iter().all(|(a, b)| b - a <= WHISPER_WINDOW));
        assert_eq!(window_pieces(&pcm, (0, RATE)), vec![(0, RATE)]);
    }

    #[test]
    fn sound_regions_skip_silence() {
        let mut pcm = vec![0.0f32; RATE * 2];
        pcm.extend((0..RATE * 3).map(|i| (i as f32 * 0.05).sin() * 0.3));
        pcm.extend(vec![0.0; RATE * 4]);
        pcm.extend((0..RATE).map(|i| (i as f32 * 0.05).sin() * 0.3));
        let r = sound_regions(&pcm);
        assert_eq!(r.len(), 2, "{r:?}");
        let secs = |s: usize| s as f64 / RATE as f64;
        assert!(
            (secs(r[0].0) - 1.75).abs() < 0.05 && (secs(r[0].1) - 5.25).abs() < 0.05,
            "{r:?}"
        );
        assert!((secs(r[1].0) - 8.75).abs() < 0.05);
        assert!(sound_regions(&vec![0.0; RATE]).is_empty());
    }

    #[test]
    fn semantic_runs_last_and_versions_can_be_bumped() {
        let w = order(vec![
            ("semantic".into(), 1),
            ("ocr".into(), 1),
            ("tags".into(), 1),
        ]);
        assert_eq!(w.last().unwrap().0, "semantic");
        assert_eq!(version("tags"), 2);
    }
}
