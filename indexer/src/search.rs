//! Search: the text, semantic and visual channels run side by side and are fused by reciprocal
//! rank; then the filters that need the catalogue (place, camera, measures), Live Photo pairs
//! and each moment's thumbnail. `vx similar` is a search whose queries come from a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::extractors;
use crate::geo::distance_km;
use crate::media::MediaKind;
use crate::semantic::{VectorStore, mean_direction, semantic_hits};
use crate::store::{FileRow, Grouping, Store, StoreError};
use crate::textindex::{IndexError, TextIndex};

/// Reciprocal rank fusion's constant.
const RRF_K: f32 = 60.0;
/// Moments kept per fused result.
const MOMENTS_PER_HIT: usize = 3;
/// How many files each channel lists at least: as many as a search of `vx search`'s default
/// 20 results asks for. Fusion ranks a file by every channel that lists it, so with shallower
/// channels `--limit 1` put first a file that the default search ranked below another the
/// channels had cut (found by using vx): the first N results must not depend on N.
const CHANNEL_DEPTH: usize = 40;
/// How far `--near` reaches when no distance is given.
const DEFAULT_KM: f64 = 25.0;

/// What to look for, and the filters.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub query: String,
    pub kind: Option<MediaKind>,
    /// Only files under this folder.
    pub path_prefix: Option<PathBuf>,
    /// Taken (or, failing that, modified) at or after / before these times, Unix seconds.
    pub after: Option<i64>,
    pub before: Option<i64>,
    /// Only files with all of these (`extractors::has` words).
    pub has: Vec<String>,
    /// Only files showing this person: a name, or "#ID".
    pub person: Option<String>,
    /// Only what this voice says: a name, or "#ID".
    pub voice: Option<String>,
    /// Rank with only these channels ("text", "semantic", "visual"); empty: all, fused.
    pub channels: Vec<String>,
    /// "LAT,LON" or a place where files here were taken, within `km`.
    pub near: Option<String>,
    pub km: f64,
    /// Every word must appear in what took the picture.
    pub camera: Option<String>,
    pub measures: Vec<MeasureFilter>,
    pub limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

/// A condition on a measure (`extractors::Measure`).
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureFilter {
    pub name: String,
    pub compare: Compare,
    pub value: f64,
}

impl MeasureFilter {
    pub fn holds(&self, value: f64) -> bool {
        match self.compare {
            Compare::Less => value < self.value,
            Compare::LessOrEqual => value <= self.value,
            Compare::Equal => value == self.value,
            Compare::GreaterOrEqual => value >= self.value,
            Compare::Greater => value > self.value,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Moment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Which channels matched (segment sources, "person", "semantic", "visual").
    pub sources: Vec<String>,
    /// The thumbnail of the frame shown then.
    pub thumbnail: Option<PathBuf>,
    /// The scene of a video the moment falls in: (start, end).
    pub scene: Option<(f64, f64)>,
    /// Who says it (a transcript moment): the voice's name, else "speaker N".
    pub speaker: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub path: PathBuf,
    pub kind: MediaKind,
    /// A channel's own score; once fused, the relevance: the chance, from 0 to 1, that the
    /// file is what was asked for, the same for every query (see [`Channel::relevance`]).
    pub score: f32,
    /// Once fused: each channel that found the file, with its own score there.
    pub evidence: Vec<(Channel, f32)>,
    /// False when the file's root is missing or unmounted.
    pub online: bool,
    pub moments: Vec<Moment>,
    /// The thumbnail of the best moment, or of the file.
    pub thumbnail: Option<PathBuf>,
    /// For a Live Photo's still, its motion clip.
    pub clip: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    NoSuchGroup(String),
    #[error("{0} is not in the catalogue (is it under a folder added with `vx add`?)")]
    NotFound(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

type Result<T> = std::result::Result<T, SearchError>;

/// Query embeddings, from models the caller keeps loaded between searches.
pub trait QueryEmbedder: Sync {
    /// The text model's (MiniLM) embedding of a query, when that model runs.
    fn text(&self, query: &str) -> Option<Vec<f32>>;
    /// CLIP's text embedding of a query, when a CLIP model is installed.
    fn image(&self, query: &str) -> Option<Vec<f32>>;
}

/// A vector store behind the caller's lock, read only while a channel scans it (the index
/// writer replaces it meanwhile).
pub trait Vectors: Sync {
    fn read(&self) -> Box<dyn std::ops::Deref<Target = VectorStore> + '_>;
}

/// What a search reads.
pub struct Searcher<'a> {
    pub text: &'a TextIndex,
    /// Embedded text segments (the semantic channel) and frames (the visual one).
    pub segments: &'a dyn Vectors,
    pub frames: &'a dyn Vectors,
    pub embed: &'a dyn QueryEmbedder,
    pub thumbs_dir: &'a Path,
}

impl Query {
    /// The person and voice filters given: each grouping with the name or "#ID" asked for.
    pub fn group_filters(&self) -> impl Iterator<Item = (&'static Grouping, &str)> {
        [
            (&crate::people::PEOPLE, &self.person),
            (&crate::voices::VOICES, &self.voice),
        ]
        .into_iter()
        .filter_map(|(g, key)| Some((g, key.as_deref()?)))
    }
}

impl Searcher<'_> {
    /// Runs `q`. `other` is a second connection, for the channel that runs on a thread of its
    /// own beside the others.
    pub fn search(&self, store: &Store, other: &mut Store, q: &Query) -> Result<Vec<Hit>> {
        for (g, key) in q.group_filters() {
            if store
                .groups_matching(g, &crate::people::person_key(key))?
                .is_empty()
            {
                return Err(SearchError::NoSuchGroup(format!(
                    "no {} is called {key:?}; `{}` lists them and `{} name ID NAME` names one",
                    g.noun, g.list, g.list
                )));
            }
        }
        if let Some(m) = q
            .measures
            .iter()
            .find(|m| extractors::measure(&m.name).is_none())
        {
            let known: Vec<&str> = extractors::ALL
                .iter()
                .flat_map(|e| e.measures())
                .map(|m| m.name)
                .collect();
            return Err(SearchError::BadQuery(format!(
                "no measure is called {:?}; there are: {}",
                m.name,
                known.join(", ")
            )));
        }
        let limit = q.limit.clamp(1, 10_000) as usize;
        let near = match &q.near {
            Some(place) => Some(near_centres(store, place)?),
            None => None,
        };
        let camera: Option<Vec<String>> = q
            .camera
            .as_ref()
            .map(|c| c.split_whitespace().map(str::to_lowercase).collect());
        // Place, camera and measure filters are applied to the fused results: the channels
        // look further.
        let filtered = near.is_some() || camera.is_some() || !q.measures.is_empty();
        let wide = Query {
            limit: if filtered {
                10_000
            } else {
                (limit * 2).max(CHANNEL_DEPTH) as u32
            },
            ..q.clone()
        };
        let wants = |c: &str| q.channels.is_empty() || q.channels.iter().any(|x| x == c);
        let has_words = !q.query.trim().is_empty();
        // The channels run side by side, each on a thread only when another runs beside it:
        // the query embeddings take longest.
        let semantic_on = wants("semantic") && has_words;
        let visual_on = wants("visual") && has_words && !self.frames.read().is_empty();
        let wide_query = &wide;
        let started = Instant::now();
        let text_search = || {
            let hits = if wants("text") {
                self.text.search(wide_query)
            } else {
                Ok(Vec::new())
            };
            (hits, started.elapsed())
        };
        let (text, semantic, visual) = std::thread::scope(|s| {
            let text = (wants("text") && (semantic_on || visual_on)).then(|| s.spawn(text_search));
            let visual = visual_on.then(|| {
                s.spawn(move || {
                    let embed = || self.embed.image(&q.query);
                    vector_channel(&*other, self.frames, embed, wide_query)
                })
            });
            let mut embedded = None;
            let semantic = if semantic_on {
                let embed = || {
                    let v = self.embed.text(&q.query);
                    embedded = Some(started.elapsed());
                    v
                };
                vector_channel(store, self.segments, embed, wide_query)
            } else {
                Ok(Vec::new())
            };
            let semantic_done = started.elapsed();
            let (text, text_done) = match text {
                Some(t) => t.join().expect("text search does not panic"),
                None => text_search(),
            };
            tracing::debug!(
                text_ms = ms(text_done),
                embedded_ms = embedded.map(ms),
                semantic_ms = ms(semantic_done),
                "channels"
            );
            let visual = visual.map_or(Ok(Vec::new()), |v| {
                v.join().expect("visual search does not panic")
            });
            (text, semantic, visual)
        });
        let text = text.map_err(|e| SearchError::BadQuery(e.to_string()))?;
        let channels_done = started.elapsed();
        let fused = if filtered { wide.limit as usize } else { limit };
        let listed = if has_words {
            Channel::Text
        } else {
            Channel::Listing
        };
        let mut results = fuse(
            vec![
                (listed, text),
                (Channel::Semantic, semantic?),
                (Channel::Visual, visual?),
            ],
            fused,
        );
        if filtered {
            let km = if q.km > 0.0 { q.km } else { DEFAULT_KM };
            let mut kept = Vec::new();
            for hit in results {
                let (at, took) = store.origin_of(&hit.path)?;
                let near_ok = near.as_ref().is_none_or(|centres| {
                    at.is_some_and(|at| centres.iter().any(|c| distance_km(*c, at) <= km))
                });
                let camera_ok = camera.as_ref().is_none_or(|words| {
                    took.map(|c| c.to_lowercase())
                        .is_some_and(|c| words.iter().all(|w| c.contains(w.as_str())))
                });
                let mut measures_ok = true;
                for m in &q.measures {
                    measures_ok &= store
                        .measure_of(&hit.path, &m.name)?
                        .is_some_and(|v| m.holds(v));
                }
                if near_ok && camera_ok && measures_ok {
                    kept.push(hit);
                }
                if kept.len() == limit {
                    break;
                }
            }
            results = kept;
        }
        let fused_done = started.elapsed();
        let results = self.finish(store, results);
        tracing::debug!(
            channels_ms = ms(channels_done),
            fused_ms = ms(fused_done),
            finished_ms = ms(started.elapsed()),
            "search"
        );
        results
    }

    /// Files and moments like `path` (or its moment at `at` seconds): by the things seen in
    /// it, the people in it, and (with CLIP) how it looks.
    pub fn similar(
        &self,
        store: &Store,
        path: &Path,
        at: Option<f64>,
        limit: u32,
    ) -> Result<Vec<Hit>> {
        let file = find_file(store, path)?.ok_or_else(|| SearchError::NotFound(path.into()))?;
        let at_moment = |start: f64, end: f64| {
            at.is_none_or(|t| start <= t + 1e-3 && t <= end.max(start) + 1e-3)
        };
        let mut own: Vec<PathBuf> = vec![file.path.clone()];
        let Some(content) = file.content_id else {
            return Ok(Vec::new());
        };
        own.extend(store.files_of_content(content)?);
        let query = |text: String, person: Option<String>| Query {
            query: text,
            person,
            limit: limit.saturating_add(own.len() as u32),
            ..Query::default()
        };
        let search = |q: &Query| {
            self.text
                .search(q)
                .map_err(|e| SearchError::BadQuery(e.to_string()))
        };
        // Likeness has no calibrated relevance (a query of all the file's words answers no
        // question): every channel lists, and files rank by reciprocal rank fusion.
        let mut channels = Vec::new();
        // What the file (or that moment of it) shows, in words.
        let words: Vec<String> = store
            .segments(content)?
            .iter()
            .filter(|s| at_moment(s.start, s.end))
            .filter_map(|s| {
                let shown = extractors::split_hidden(&s.text).0;
                extractors::seen(&s.source, shown).map(str::to_string)
            })
            .collect();
        if !words.is_empty() {
            channels.push((Channel::Listing, search(&query(words.join(" "), None))?));
        }
        // Who is in it: every file showing the same people.
        let mut people: Vec<i64> = store
            .faces(content)?
            .iter()
            .filter(|f| at_moment(f.time, f.time))
            .filter_map(|f| f.person)
            .collect();
        people.sort_unstable();
        people.dedup();
        for id in people {
            channels.push((
                Channel::Listing,
                search(&query(String::new(), Some(format!("#{id}"))))?,
            ));
        }
        // How it looks, when CLIP is installed: its frames' embeddings against all frames. A
        // moment is seen by the last embedded frame at or before it (scenes are embedded once,
        // at their start); a whole file by all of them.
        let frames = store.frame_embeddings(content)?;
        let mine: Vec<Vec<f32>> = match at {
            Some(t) => frames
                .iter()
                .rev()
                .find(|(time, _)| *time <= t + 1e-3)
                .or(frames.first())
                .map(|(_, v)| vec![v.clone()])
                .unwrap_or_default(),
            None => frames.into_iter().map(|(_, v)| v).collect(),
        };
        if let Some(direction) = mean_direction(mine.iter().map(Vec::as_slice)) {
            let frames = self.frames.read();
            channels.push((
                Channel::Listing,
                semantic_hits(store, &frames, &direction, &query(String::new(), None))?,
            ));
        }
        let mut results = fuse(channels, limit as usize + own.len());
        results.retain(|h| !own.contains(&h.path));
        results.truncate(limit as usize);
        self.finish(store, results)
    }

    /// Live Photo pairs made one result, and each moment's thumbnail.
    fn finish(&self, store: &Store, hits: Vec<Hit>) -> Result<Vec<Hit>> {
        let hits = crate::live::merge_pairs(store, hits)?;
        let mut hits: Vec<(Hit, Option<i64>)> = hits
            .into_iter()
            .map(|h| {
                let content = store.file_by_path(&h.path)?.and_then(|f| f.content_id);
                Ok((h, content))
            })
            .collect::<std::result::Result<_, StoreError>>()?;
        sharpest_first(store, &mut hits)?;
        attach_frames(store, self.thumbs_dir, &mut hits)?;
        Ok(hits.into_iter().map(|(h, _)| h).collect())
    }
}

/// Milliseconds, for the stage timings logged at debug level.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Results (with their contents) reordered so that the sharpest of near-duplicate pictures
/// comes first (`crate::duplicates`).
fn sharpest_first(
    store: &Store,
    hits: &mut Vec<(Hit, Option<i64>)>,
) -> std::result::Result<(), StoreError> {
    let mut looks = Vec::with_capacity(hits.len());
    for (hit, content) in hits.iter() {
        let content = content.filter(|_| hit.kind == MediaKind::Image);
        let by_its_looks = hit
            .moments
            .iter()
            .any(|m| m.sources.iter().any(|s| s == "quality"));
        looks.push(match content {
            Some(c) => store
                .fingerprint_and_looks(c)?
                .map(
                    |(fingerprint, sharpness, quality)| crate::duplicates::Look {
                        fingerprint,
                        sharpness,
                        quality,
                        by_its_looks,
                    },
                ),
            None => None,
        });
    }
    let order = crate::duplicates::sharpest_first(&looks);
    let mut taken: Vec<Option<(Hit, Option<i64>)>> = hits.drain(..).map(Some).collect();
    hits.extend(order.into_iter().filter_map(|i| taken[i].take()));
    Ok(())
}

/// The file at `path`, or at its canonical form (a path given through a symlink).
pub fn find_file(store: &Store, path: &Path) -> std::result::Result<Option<FileRow>, StoreError> {
    if let Some(f) = store.file_by_path(path)? {
        return Ok(Some(f));
    }
    match std::fs::canonicalize(path) {
        Ok(canonical) => store.file_by_path(&canonical),
        Err(_) => Ok(None),
    }
}

/// Files whose embeddings are nearest the query's (none when the channel's model is not
/// installed or nothing is embedded yet).
fn vector_channel(
    store: &Store,
    vectors: &dyn Vectors,
    embed: impl FnOnce() -> Option<Vec<f32>>,
    q: &Query,
) -> Result<Vec<Hit>> {
    if vectors.read().is_empty() {
        return Ok(Vec::new());
    }
    match embed() {
        Some(query) => Ok(semantic_hits(store, &vectors.read(), &query, q)?),
        None => Ok(Vec::new()),
    }
}

/// The points `--near` means: "LAT,LON", or the places of that name where files in the
/// catalogue were taken.
fn near_centres(store: &Store, place: &str) -> Result<Vec<(f64, f64)>> {
    if let Some((lat, lon)) = place.split_once(',')
        && let (Ok(lat), Ok(lon)) = (lat.trim().parse::<f64>(), lon.trim().parse::<f64>())
    {
        return crate::geo::checked(lat, lon)
            .map(|c| vec![c])
            .ok_or_else(|| {
                SearchError::BadQuery(format!(
                    "--near {place}: latitude must be within ±90 and longitude within ±180"
                ))
            });
    }
    let centres = store.place_centres(place)?;
    if centres.is_empty() {
        return Err(SearchError::BadQuery(format!(
            "no photo or video here was taken in a place called {place:?} (places come from \
             GPS; `vx show FILE` shows a file's); give coordinates instead: --near 41.89,12.49"
        )));
    }
    Ok(centres.into_iter().map(|(_, at)| at).collect())
}

/// Gives each moment the thumbnail of the frame shown then (the last at or before its start)
/// and the scene it falls in, and each hit its best moment's thumbnail, or its first frame's.
fn attach_frames(
    store: &Store,
    dir: &Path,
    hits: &mut [(Hit, Option<i64>)],
) -> std::result::Result<(), StoreError> {
    // Only a video has scenes, only sound has speakers: no lookup for the others. One
    // statement each for all the hits (one per hit cost 0.5 ms a search).
    let of_kind = |wanted: &dyn Fn(MediaKind) -> bool| -> Vec<i64> {
        hits.iter()
            .filter(|(h, _)| wanted(h.kind))
            .filter_map(|(_, c)| *c)
            .collect()
    };
    let thumbs = store.thumbnails_of(&of_kind(&|_| true))?;
    let scenes = store.scenes_of(&of_kind(&|k| k == MediaKind::Video))?;
    let turns = store.turns_of(&of_kind(&|k| k != MediaKind::Image))?;
    for (hit, content) in hits {
        let Some(content) = *content else {
            continue;
        };
        // Two hits may share a content (copies of a file).
        let thumbs = thumbs.get(&content).map_or(&[][..], Vec::as_slice);
        let at = |t: f64| {
            thumbs
                .iter()
                .rev()
                .find(|(time, _)| *time <= t + 1e-3)
                .or(thumbs.first())
                .map(|(_, rel)| dir.join(rel))
        };
        let scenes = scenes.get(&content).map_or(&[][..], Vec::as_slice);
        let turns = turns.get(&content).map_or(&[][..], Vec::as_slice);
        for m in &mut hit.moments {
            m.thumbnail = at(m.start);
            m.scene = scene_of(scenes, m.start);
            let source = m.sources.first().map_or("", String::as_str);
            m.speaker =
                crate::voices::said_by(turns, source, m.start, m.end).map(crate::voices::label);
        }
        hit.thumbnail = hit
            .moments
            .first()
            .and_then(|m| m.thumbnail.clone())
            .or_else(|| at(0.0));
    }
    Ok(())
}

/// The scene that time `t` falls in: the last that starts at or before it.
fn scene_of(scenes: &[(f64, f64)], t: f64) -> Option<(f64, f64)> {
    scenes.iter().rev().find(|s| s.0 <= t + 1e-3).copied()
}

/// Where a ranking comes from, which says how its scores become a relevance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Words (BM25): scores are the share of the query a file answers (`textindex`).
    Text,
    /// Meaning (MiniLM): the cosine of the query and the file's nearest embedded text.
    Semantic,
    /// Looks (CLIP): the cosine of the query and the file's nearest frame.
    Visual,
    /// Nothing to weigh (filters only; likeness in `similar`): every file listed qualifies.
    Listing,
}

/// Relevance from a channel's score: a logistic curve through (`mid`, 0.5), rising over
/// `width`. Chosen on the tuning half of the real judged set: the highest MRR that answers no
/// absent-thing query confidently (docs/search-quality.md, "Calibrated relevance"); CLIP's
/// is from its published cosine ranges (no CLIP model here).
const TEXT_CURVE: (f32, f32) = (0.18, 0.04);
const SEMANTIC_CURVE: (f32, f32) = (0.55, 0.08);
const VISUAL_CURVE: (f32, f32) = (0.26, 0.02);

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Text => "text",
            Channel::Semantic => "semantic",
            Channel::Visual => "visual",
            Channel::Listing => "listing",
        }
    }

    /// The logistic curve (midpoint, width) from this channel's score to a relevance.
    fn curve(self) -> Option<(f32, f32)> {
        match self {
            Channel::Text => Some(TEXT_CURVE),
            Channel::Semantic => Some(SEMANTIC_CURVE),
            Channel::Visual => Some(VISUAL_CURVE),
            Channel::Listing => None,
        }
    }

    /// The chance that a file this channel gave `score` is what was asked for.
    pub fn relevance(self, score: f32) -> f32 {
        self.curve().map_or(1.0, |(mid, width)| {
            1.0 / (1.0 + (-(score - mid) / width).exp())
        })
    }

    /// The score whose relevance is `weight` (0 to 1) times that of `score`: evidence from a
    /// label the model was unsure of counts for less.
    pub fn weighed(self, score: f32, weight: f32) -> f32 {
        match self.curve() {
            Some((mid, width)) if weight < 1.0 => {
                let r = (self.relevance(score) * weight.max(0.0)).clamp(1e-9, 1.0 - 1e-6);
                mid + width * (r / (1.0 - r)).ln()
            }
            _ => score,
        }
    }
}

/// Fuses per-channel file rankings. Score: the relevance, the chance that at least one channel
/// is right about the file (1 - the product of each one's doubt); files are ranked by it, ties
/// by reciprocal rank fusion (the sum of 1 / (60 + rank) over the channels that found the
/// file). Moments are merged, best first.
pub fn fuse(channels: Vec<(Channel, Vec<Hit>)>, limit: usize) -> Vec<Hit> {
    let mut fused: Vec<(f32, Hit)> = Vec::new();
    let mut index: HashMap<PathBuf, usize> = HashMap::new();
    for (channel, hits) in channels {
        for (rank, mut hit) in hits.into_iter().enumerate() {
            let add = 1.0 / (RRF_K + rank as f32 + 1.0);
            let evidence = (channel, hit.score);
            match index.get(&hit.path) {
                Some(&i) => {
                    let (rrf, f) = &mut fused[i];
                    *rrf += add;
                    f.evidence.push(evidence);
                    for m in hit.moments {
                        match f.moments.iter_mut().find(|x| {
                            x.text == m.text
                                && (x.start - m.start).abs() < 1e-3
                                && (x.end - m.end).abs() < 1e-3
                        }) {
                            Some(x) => {
                                for s in m.sources {
                                    if !x.sources.contains(&s) {
                                        x.sources.push(s);
                                    }
                                }
                            }
                            None => f.moments.push(m),
                        }
                    }
                }
                None => {
                    index.insert(hit.path.clone(), fused.len());
                    hit.evidence = vec![evidence];
                    fused.push((add, hit));
                }
            }
        }
    }
    for (_, f) in &mut fused {
        let doubt: f32 = f
            .evidence
            .iter()
            .map(|(c, s)| 1.0 - c.relevance(*s))
            .product();
        f.score = 1.0 - doubt;
    }
    fused.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then(b.0.total_cmp(&a.0)));
    fused.truncate(limit);
    fused
        .into_iter()
        .map(|(_, mut f)| {
            f.moments.truncate(MOMENTS_PER_HIT);
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(path: &str, start: f64, source: &str) -> Hit {
        Hit {
            path: PathBuf::from(path),
            kind: MediaKind::Video,
            score: 1.0,
            evidence: Vec::new(),
            online: true,
            moments: vec![Moment {
                start,
                end: start + 1.0,
                text: "t".into(),
                sources: vec![source.into()],
                thumbnail: None,
                scene: None,
                speaker: None,
            }],
            thumbnail: None,
            clip: None,
        }
    }

    #[test]
    fn fusion_rewards_files_found_by_both_channels() {
        // Each channel alone gives even odds.
        let even = |mut h: Hit, score: f32| {
            h.score = score;
            h
        };
        let text = vec![
            even(hit("/a", 0.0, "tag"), TEXT_CURVE.0),
            even(hit("/b", 5.0, "ocr"), TEXT_CURVE.0),
        ];
        let semantic = vec![
            even(hit("/c", 1.0, "transcript"), SEMANTIC_CURVE.0),
            even(hit("/b", 5.0, "semantic"), SEMANTIC_CURVE.0),
        ];
        let f = fuse(
            vec![(Channel::Text, text), (Channel::Semantic, semantic)],
            10,
        );
        let order: Vec<&Path> = f.iter().map(|h| h.path.as_path()).collect();
        assert_eq!(order, [Path::new("/b"), Path::new("/a"), Path::new("/c")]);
        assert_eq!(f[0].moments.len(), 1);
        assert_eq!(f[0].moments[0].sources, vec!["ocr", "semantic"]);
        // Two channels for /b: surer than either alone.
        assert_eq!(f[0].evidence.len(), 2);
        assert!((f[0].score - 0.75).abs() < 1e-4, "{f:?}");
        assert!((f[1].score - 0.5).abs() < 1e-4, "{f:?}");
    }

    #[test]
    fn relevance_rises_with_the_evidence_and_stays_in_0_1() {
        for channel in [Channel::Text, Channel::Semantic, Channel::Visual] {
            let mut last = 0.0;
            for i in 0..=20 {
                let r = channel.relevance(i as f32 / 20.0);
                assert!(
                    (0.0..=1.0).contains(&r) && r >= last,
                    "{channel:?} {i}: {r}"
                );
                last = r;
            }
            assert!(
                channel.relevance(0.0) < 0.1,
                "{channel:?}: no evidence is weak"
            );
            assert!(
                channel.relevance(1.0) > 0.9,
                "{channel:?}: full evidence is strong"
            );
        }
        assert_eq!(Channel::Listing.relevance(0.0), 1.0);
    }

    #[test]
    fn weighed_evidence_scales_the_relevance() {
        for channel in [Channel::Text, Channel::Semantic, Channel::Visual] {
            for score in [0.1, 0.3, 0.5, 0.7] {
                assert_eq!(channel.weighed(score, 1.0), score);
                let half = channel.relevance(channel.weighed(score, 0.5));
                let full = channel.relevance(score);
                assert!((half - full / 2.0).abs() < 1e-3, "{channel:?} {score}");
            }
            assert!(channel.relevance(channel.weighed(0.9, 0.2)) <= 0.2 + 1e-3);
        }
    }

    #[test]
    fn measure_filters_hold() {
        let f = MeasureFilter {
            name: "loudness".into(),
            compare: Compare::LessOrEqual,
            value: -20.5,
        };
        assert!(f.holds(-21.0) && f.holds(-20.5) && !f.holds(-20.0));
    }
}
