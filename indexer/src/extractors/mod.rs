//! The extractors: one module each, listed once in [`ALL`]. Everything else follows from what
//! each declares here: which run (`needs`), in what order (`stage`), what `vx status` and
//! `vx show` say, how earlier results are cleared (`kept`), what the text index and the
//! `--has` and `--where` filters see (`segments`, `measures`).

mod appearance;
mod colours;
mod expression;
mod faces;
mod loudness;
mod objects;
mod ocr;
mod pose;
mod quality;
mod scene_cuts;
mod scenes;
mod semantic;
mod sounds;
mod speakers;
mod tags;
mod thumbnails;
mod transcript;
mod visual;

use std::path::Path;

use vx_models::audio_events::Heard;
use vx_models::{ModelError, ModelSet, RgbView};

pub use expression::searchable as searchable_expression;
pub use scenes::{Scenes, merge_runs, split_hidden};
pub use semantic::{PHRASE_MIN_CONFIDENCE, Semantic};
pub use tags::Tags;
pub use visual::Visual;

use crate::decode::{AudioTap, Decoded};
use crate::extract::{MeasureOut, Output, SegmentOut};
use crate::media::MediaKind;
use crate::store::IndexDoc;

/// Every extractor. Within a stage they run in this order.
pub static ALL: &[&dyn Extractor] = &[
    &thumbnails::Thumbnails,
    &scene_cuts::SceneCuts,
    &tags::Tags,
    &colours::Colours,
    &objects::Objects,
    &faces::Faces,
    &expression::Expression,
    &appearance::Appearance,
    &pose::Pose,
    &ocr::Ocr,
    &quality::Quality,
    &transcript::Transcript,
    &speakers::Speakers,
    &sounds::Sounds,
    &loudness::Loudness,
    &Semantic,
    &Visual,
];

/// What has to be installed for an extractor to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// The model the manifest lists for this extractor key.
    Model(&'static str),
    /// A CLIP model under `clip/` (not in the manifest: users choose one).
    Clip,
}

/// When an extractor runs within one file's pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// On the frames.
    Frames,
    /// On the sound, after the frame extractors (whose cores its background work then takes).
    Sound,
    /// On what the others found.
    Results,
}

/// What an extractor stores besides its segments and measures (those are cleared by its name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    Faces,
    Poses,
    /// The faces' expression columns.
    Expressions,
    Scenes,
    /// A recording's speakers and their turns.
    Speakers,
    FrameThumbnails,
    FrameEmbeddings,
    FrameFingerprints,
}

/// An extractor's timed texts: their `source` in the catalogue and the index, and how
/// `vx show`, `--has` and semantic search treat them.
#[derive(Clone, Copy, Debug)]
pub struct Segments {
    pub source: &'static str,
    /// The heading `vx show` lists them under.
    pub heading: &'static str,
    /// The word `--has` knows files with them by.
    pub has: Option<&'static str>,
    /// Their texts are embedded for semantic search.
    pub embedded: bool,
    /// Labels a model put on the file, their confidence its probability: search weighs a
    /// match in them by it (`crate::evidence`).
    pub labels: bool,
}

/// A number an extractor measures per file, shown by `vx show` and filtered on with `--where`.
#[derive(Clone, Copy, Debug)]
pub struct Measure {
    pub name: &'static str,
    pub unit: &'static str,
    pub about: &'static str,
}

/// Work started before the frame extractors that runs on its own thread beside them; it is
/// given how many threads it may use at each step.
pub type Background<'a> =
    Box<dyn FnOnce(&(dyn Fn() -> usize + Sync)) -> Result<Output, ModelError> + Send + 'a>;

/// What a meter measured: (measure, value) pairs, or why it could not.
pub type Metered = Result<Vec<(&'static str, f64)>, String>;

/// Fed a file's audio while it decodes, at the stream's own rate and channels.
pub trait Meter: Send {
    /// Interleaved samples in -1..1.
    fn push(&mut self, samples: &[f32]);
    fn finish(self: Box<Self>) -> Metered;
}

pub trait Extractor: Sync {
    /// Its key in the catalogue, `vx status` and `VX_BUMP_EXTRACTOR`.
    fn name(&self) -> &'static str;
    /// Bump to re-run this extractor (alone) over existing content.
    fn version(&self) -> u32;
    fn needs(&self) -> Needs {
        Needs::Nothing
    }
    fn stage(&self) -> Stage {
        Stage::Frames
    }
    /// The kinds of media it can find anything in: a known content of another kind is never
    /// queued for it (a photo for loudness when that extractor arrives).
    fn kinds(&self) -> &'static [MediaKind] {
        &MediaKind::ALL
    }
    fn segments(&self) -> Option<Segments> {
        None
    }
    fn kept(&self) -> &'static [Kept] {
        &[]
    }
    fn measures(&self) -> &'static [Measure] {
        &[]
    }
    /// One of its measures as `vx show` prints it.
    fn show(&self, m: &Measure, value: f64) -> String {
        format!("{}: {value:.2} {}", m.about, m.unit)
    }
    /// The `--has` word for files where it found faces (its `kept` has `Kept::Faces`).
    fn has_faces_word(&self) -> Option<&'static str> {
        None
    }
    /// The name of what a segment of it says is seen, for `vx similar`.
    fn seen<'t>(&self, _text: &'t str) -> Option<&'t str> {
        None
    }
    /// Whether a segment of it with this text is searched (indexed, and embedded when its
    /// source is); the others are kept for `vx show` only.
    fn searchable(&self, _text: &str) -> bool {
        true
    }
    /// Work to run beside the frame extractors; its result reaches `run` as `cx.background`.
    fn background<'a>(
        &self,
        _input: &'a Input<'a>,
        _models: &mut ModelSet,
    ) -> Option<Background<'a>> {
        None
    }
    /// Extractors whose results it adds to: when one of them runs again (a new version), so
    /// does this one, since their new rows do not have what it added.
    fn follows(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether it reads what the audio-event model heard (`Input::heard`), worked out once per
    /// file for all that do.
    fn listens(&self) -> bool {
        false
    }
    /// A meter for one of the file's audio tracks; the results reach `run` as `cx.metered`.
    fn meter(&self, _rate: u32, _channels: u32) -> Option<Box<dyn Meter>> {
        None
    }
    fn run(&self, cx: &mut Cx<'_, '_>, out: &mut Output) -> Result<(), ModelError>;
}

/// What every extractor of one file sees: the decoded file, its scenes, where thumbnails go.
pub struct Input<'a> {
    pub decoded: &'a Decoded,
    pub views: Vec<RgbView<'a>>,
    pub scenes: Scenes,
    /// The first frame of each look: what the visual models see (see [`Scenes`]).
    pub looks: Vec<RgbView<'a>>,
    pub thumbs_dir: &'a Path,
    pub hash_hex: &'a str,
    /// Segments stored earlier by extractors not in this pass, with their ids.
    pub stored: &'a [(i64, SegmentOut)],
    /// What the audio-event model heard in the sound, when an extractor of the pass listens
    /// and the file has sound.
    pub heard: Option<Result<Heard, ModelError>>,
}

impl<'a> Input<'a> {
    pub fn new(
        decoded: &'a Decoded,
        thumbs_dir: &'a Path,
        hash_hex: &'a str,
        stored: &'a [(i64, SegmentOut)],
    ) -> Input<'a> {
        let views: Vec<RgbView> = decoded.frames.iter().map(|f| f.image.view()).collect();
        let scenes = Scenes::of(&views);
        let looks = scenes
            .firsts
            .iter()
            .map(|&k| views[scenes.starts[k]])
            .collect();
        Input {
            decoded,
            views,
            scenes,
            looks,
            thumbs_dir,
            hash_hex,
            stored,
            heard: None,
        }
    }

    pub fn is_image(&self) -> bool {
        self.decoded.meta.kind == Some(MediaKind::Image)
    }

    /// The times scene `k` covers: from its first frame to the next scene's.
    pub fn span(&self, k: usize) -> (f64, f64) {
        let scene = &self.scenes.starts;
        self.frames_span(scene[k], scene.get(k + 1).copied())
    }

    /// The times frame `i` stands for: from it to the next kept frame.
    pub fn frame_span(&self, i: usize) -> (f64, f64) {
        self.frames_span(i, (i + 1 < self.decoded.frames.len()).then_some(i + 1))
    }

    /// From frame `first` to frame `next`, or to the end of the file without one.
    fn frames_span(&self, first: usize, next: Option<usize>) -> (f64, f64) {
        let frames = &self.decoded.frames;
        let start = frames[first].time;
        let end = match next {
            Some(next) => frames[next].time,
            None => frames
                .last()
                .map_or(start, |f| f.time)
                .max(self.decoded.meta.duration.unwrap_or(0.0)),
        };
        (start, end.max(start))
    }

    /// The index of look `l`'s frame (the first of its first scene).
    pub fn look_frame(&self, l: usize) -> usize {
        self.scenes.starts[self.scenes.firsts[l]]
    }

    /// A thumbnail's path relative to the thumbnails folder: `what` tells apart the several
    /// a content may have.
    pub fn thumb_name(&self, what: &str) -> String {
        format!("{}/{}-{what}.jpg", &self.hash_hex[..2], self.hash_hex)
    }

    /// Adds `text` to a look's words with `score`, or raises the score it has.
    pub fn keep_best(words: &mut Vec<(String, f32)>, text: String, score: f32) {
        match words.iter_mut().find(|(w, _)| *w == text) {
            Some(w) => w.1 = w.1.max(score),
            None => words.push((text, score)),
        }
    }

    /// What `e`'s model found in `look` (texts with scores), as segments at every scene
    /// showing it.
    pub fn segments_at_look(
        &self,
        look: usize,
        e: &dyn Extractor,
        found: &[(String, f32)],
        out: &mut Vec<SegmentOut>,
    ) {
        for k in self.scenes.showing(look) {
            for (text, score) in found {
                out.push(segment(e, self.span(k), text.clone(), *score));
            }
        }
    }
}

/// A segment of `e`'s, under the source it declares.
pub fn segment(e: &dyn Extractor, span: (f64, f64), text: String, confidence: f32) -> SegmentOut {
    let source = e.segments().map_or(e.name(), |s| s.source);
    SegmentOut::new(e.name(), source, span, text, confidence)
}

/// One extractor's run over one file.
pub struct Cx<'i, 'a> {
    pub input: &'i Input<'a>,
    pub models: &'i mut ModelSet,
    /// What its `background` work returned, when it started any.
    pub background: Option<Result<Output, ModelError>>,
    /// What its meters measured, per audio track (none without sound).
    pub metered: Vec<(usize, Metered)>,
}

impl Cx<'_, '_> {
    /// The meters' values as measures of `extractor`, track by track.
    pub fn take_measures(&mut self, extractor: &str) -> Result<Vec<MeasureOut>, ModelError> {
        let mut out = Vec::new();
        for (track, metered) in std::mem::take(&mut self.metered) {
            let values = metered.map_err(ModelError::BadInput)?;
            out.extend(values.into_iter().map(|(name, value)| MeasureOut {
                extractor: extractor.into(),
                name: name.into(),
                track: track as u32,
                value,
            }));
        }
        Ok(out)
    }
}

pub fn by_name(name: &str) -> Option<&'static dyn Extractor> {
    ALL.iter().copied().find(|e| e.name() == name)
}

/// Whether extractor `name` can find anything in media of `kind`.
pub fn applies(name: &str, kind: MediaKind) -> bool {
    by_name(name).is_none_or(|e| e.kinds().contains(&kind))
}

/// The version of an extractor, with a test override (VX_BUMP_EXTRACTOR=name adds one).
pub fn version(name: &str) -> u32 {
    let base = by_name(name).map_or(1, |e| e.version());
    let bumped = std::env::var("VX_BUMP_EXTRACTOR").is_ok_and(|b| b.split(',').any(|x| x == name));
    base + u32::from(bumped)
}

/// `wanted` with every enabled extractor that follows one of them (see `Extractor::follows`).
pub fn with_followers(
    mut wanted: Vec<(String, u32)>,
    enabled: &[(String, u32)],
) -> Vec<(String, u32)> {
    let followers: Vec<(String, u32)> = enabled
        .iter()
        .filter(|(n, _)| !wanted.iter().any(|(w, _)| w == n))
        .filter(|(n, _)| {
            by_name(n).is_some_and(|e| {
                e.follows()
                    .iter()
                    .any(|f| wanted.iter().any(|(w, _)| w == f))
            })
        })
        .cloned()
        .collect();
    wanted.extend(followers);
    wanted
}

/// Sorts `wanted` by stage, keeping the registry's order within one.
pub fn order(mut wanted: Vec<(String, u32)>) -> Vec<(String, u32)> {
    let rank = |n: &str| {
        ALL.iter()
            .position(|e| e.name() == n)
            .map_or((Stage::Results, usize::MAX), |i| (ALL[i].stage(), i))
    };
    wanted.sort_by_key(|(n, _)| rank(n));
    wanted
}

/// The extractor whose segments have this source.
fn by_source(source: &str) -> Option<&'static dyn Extractor> {
    ALL.iter()
        .copied()
        .find(|e| e.segments().is_some_and(|s| s.source == source))
}

/// Whether a segment is searched, as the extractor of its source says.
pub fn searchable(source: &str, text: &str) -> bool {
    by_source(source).is_none_or(|e| e.searchable(text))
}

/// Whether a segment's source is labels whose confidence is a model's probability.
pub fn labels(source: &str) -> bool {
    by_source(source).is_some_and(|e| e.segments().is_some_and(|s| s.labels))
}

/// The name of what a segment says is seen, when its extractor says what is seen.
pub fn seen<'t>(source: &str, text: &'t str) -> Option<&'t str> {
    by_source(source).and_then(|e| e.seen(text))
}

/// The measure called `name`, with the extractor that measures it.
pub fn measure(name: &str) -> Option<(&'static dyn Extractor, &'static Measure)> {
    ALL.iter().find_map(|e| {
        e.measures()
            .iter()
            .find(|m| m.name == name)
            .map(|m| (*e, m))
    })
}

/// What a `--has` word asks of a content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasTest {
    /// A segment of this source.
    Segments(&'static str),
    /// A face.
    Faces,
}

/// What `--has word` asks, when some extractor answers it.
pub fn has_test(word: &str) -> Option<HasTest> {
    ALL.iter().find_map(|e| match e.segments() {
        Some(s) if s.has == Some(word) => Some(HasTest::Segments(s.source)),
        _ if e.has_faces_word() == Some(word) => Some(HasTest::Faces),
        _ => None,
    })
}

/// Every `--has` word a file's document answers.
pub fn has(doc: &IndexDoc) -> Vec<&'static str> {
    let mut out = Vec::new();
    for e in ALL {
        if let Some(s) = e.segments()
            && let Some(word) = s.has
            && doc
                .segments
                .iter()
                .any(|x| x.source == s.source && e.searchable(&x.text))
        {
            out.push(word);
        }
        if let Some(word) = e.has_faces_word()
            && doc.faces > 0
        {
            out.push(word);
        }
    }
    out
}

/// The sources of segments some extractor embeds for semantic search.
pub fn embedded_sources() -> Vec<&'static str> {
    ALL.iter()
        .filter_map(|e| e.segments())
        .filter(|s| s.embedded)
        .map(|s| s.source)
        .collect()
}

/// The sources of what a pass that works on the others' results reads from the catalogue:
/// what is embedded (to embed it again) and the labels a moment's phrase is made of. A pass
/// of the `semantic` extractor alone (a new version, a text model installed later) makes the
/// phrases from these.
pub fn results_read() -> Vec<&'static str> {
    let mut sources = embedded_sources();
    sources.extend(semantic::LABELED);
    sources
}

/// Whether any of `wanted` works on the others' results (and so needs what they stored).
pub fn reads_results(wanted: &[(String, u32)]) -> bool {
    wanted
        .iter()
        .any(|(n, _)| by_name(n).is_some_and(|e| e.stage() == Stage::Results))
}

/// The meters of the wanted extractors, one per audio track, fed while the file decodes.
pub struct Meters {
    wanted: Vec<&'static dyn Extractor>,
    open: Vec<(&'static str, usize, Box<dyn Meter>)>,
}

impl Meters {
    pub fn new(wanted: &[(String, u32)]) -> Meters {
        Meters {
            wanted: wanted.iter().filter_map(|(n, _)| by_name(n)).collect(),
            open: Vec::new(),
        }
    }

    /// Each meter's result, by extractor and track.
    pub fn finish(self) -> Vec<(&'static str, usize, Metered)> {
        self.open
            .into_iter()
            .map(|(name, track, m)| (name, track, m.finish()))
            .collect()
    }
}

impl AudioTap for Meters {
    fn every_track(&self) -> bool {
        self.wanted.iter().any(|e| !e.measures().is_empty())
    }

    fn open(&mut self, track: usize, rate: u32, channels: u32) -> bool {
        let before = self.open.len();
        for e in &self.wanted {
            if let Some(m) = e.meter(rate, channels) {
                self.open.push((e.name(), track, m));
            }
        }
        self.open.len() > before
    }

    fn push(&mut self, track: usize, samples: &[f32]) {
        for (_, t, m) in &mut self.open {
            if *t == track {
                m.push(samples);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sources_and_measures_are_unique() {
        let mut names: Vec<&str> = ALL.iter().map(|e| e.name()).collect();
        let mut sources: Vec<&str> = ALL
            .iter()
            .filter_map(|e| e.segments())
            .map(|s| s.source)
            .collect();
        let mut measures: Vec<&str> = ALL
            .iter()
            .flat_map(|e| e.measures())
            .map(|m| m.name)
            .collect();
        for list in [&mut names, &mut sources, &mut measures] {
            let n = list.len();
            list.sort_unstable();
            list.dedup();
            assert_eq!(list.len(), n, "{list:?}");
        }
    }

    #[test]
    fn stages_order_the_run_and_versions_can_be_bumped() {
        let w = order(vec![
            (Semantic.name().into(), 1),
            ("transcript".into(), 1),
            ("ocr".into(), 1),
            ("tags".into(), 1),
        ]);
        let names: Vec<&str> = w.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tags", "ocr", "transcript", "semantic"]);
        assert_eq!(version("tags"), by_name("tags").unwrap().version());
    }

    #[test]
    fn an_extractor_runs_again_with_the_one_it_adds_to() {
        let enabled: Vec<(String, u32)> = ["faces", "expression", "tags"]
            .map(|n| (n.to_string(), 1))
            .to_vec();
        let names = |w: Vec<(String, u32)>| w.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        // Faces again (a new version): their expressions are made again too.
        assert_eq!(
            names(with_followers(vec![("faces".into(), 2)], &enabled)),
            ["faces", "expression"]
        );
        // Tags again: nothing follows them.
        assert_eq!(
            names(with_followers(vec![("tags".into(), 2)], &enabled)),
            ["tags"]
        );
        // Not enabled: not added.
        assert_eq!(
            names(with_followers(vec![("faces".into(), 2)], &[])),
            ["faces"]
        );
    }
}
