//! The tarpc service over the Unix socket. Handlers never block tokio: catalogue reads run on
//! the blocking pool with pooled SQLite connections.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use parking_lot::Mutex;
use tarpc::context::Context;
use tokio::sync::{oneshot, watch};
use vx_client::*;
use vx_indexer::Store;
use vx_indexer::extractors;
use vx_indexer::geo::distance_km;
use vx_indexer::hash::hex;
use vx_indexer::job::{METADATA_EXTRACTOR, METADATA_VERSION};

use crate::scanner::{CatalogCmd, CatalogHandle, root_info};
use crate::shared::Shared;

/// A few read connections, reused across calls.
pub struct Pool {
    db: std::path::PathBuf,
    idle: Mutex<Vec<Store>>,
}

impl Pool {
    pub fn new(db: std::path::PathBuf) -> Pool {
        Pool {
            db,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&Store) -> Result<T, RpcError>) -> Result<T, RpcError> {
        let store = match self.idle.lock().pop() {
            Some(s) => s,
            None => Store::open(&self.db).map_err(internal)?,
        };
        let result = f(&store);
        self.idle.lock().push(store);
        result
    }
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError::Internal(e.to_string())
}

#[derive(Clone)]
pub struct Server {
    pub shared: Arc<Shared>,
    pub catalog: CatalogHandle,
    pub pool: Arc<Pool>,
    pub shutdown: Arc<watch::Sender<bool>>,
}

impl Server {
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store, &Shared) -> Result<T, RpcError> + Send + 'static,
    ) -> Result<T, RpcError> {
        let pool = self.pool.clone();
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || pool.with(|s| f(s, &shared)))
            .await
            .map_err(internal)?
    }

    /// Applies a change to the people (on its own connection: it writes), wakes the index
    /// writer to re-index their files, and returns person `id` as it now is.
    async fn people_change(
        &self,
        id: i64,
        change: impl FnOnce(&mut Store) -> Result<(), vx_indexer::StoreError> + Send + 'static,
    ) -> Result<Person, RpcError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&shared.db_path).map_err(internal)?;
            change(&mut store).map_err(|e| match e {
                vx_indexer::StoreError::NoSuchPerson(_) | vx_indexer::StoreError::SamePerson(_) => {
                    RpcError::NoSuchPerson(e.to_string())
                }
                e => internal(e),
            })?;
            shared.index_wake.wake();
            store
                .people()
                .map_err(internal)?
                .into_iter()
                .find(|p| p.id == id)
                .map(|p| person_info(p, &shared))
                .ok_or_else(|| RpcError::NoSuchPerson(format!("there is no person {id}")))
        })
        .await
        .map_err(internal)?
    }
}

fn person_info(p: vx_indexer::people::PersonRow, shared: &Shared) -> Person {
    Person {
        id: p.id,
        name: p.name,
        faces: p.faces,
        files: p.files,
        thumbnail: p
            .thumb
            .map(|t| WirePath::new(&shared.data_dir.join("thumbnails").join(t))),
    }
}

/// Gives each moment the thumbnail of the frame shown then (the last at or before its start)
/// and each hit its best moment's, or its first frame's.
fn attach_thumbnails(
    store: &Store,
    shared: &Shared,
    hits: &mut [SearchHit],
) -> Result<(), vx_indexer::StoreError> {
    let dir = shared.data_dir.join("thumbnails");
    for hit in hits {
        let Some(content) = store
            .file_by_path(&hit.path.to_path_buf())?
            .and_then(|f| f.content_id)
        else {
            continue;
        };
        let thumbs = store.thumbnails(content)?;
        let at = |t: f64| {
            thumbs
                .iter()
                .rev()
                .find(|(time, _)| *time <= t + 1e-3)
                .or(thumbs.first())
                .map(|(_, rel)| WirePath::new(&dir.join(rel)))
        };
        for m in &mut hit.moments {
            m.thumbnail = at(m.start);
        }
        hit.thumbnail = hit
            .moments
            .first()
            .and_then(|m| m.thumbnail.clone())
            .or_else(|| at(0.0));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Channel {
    /// The query's MiniLM embedding against embedded transcript and OCR segments.
    Semantic,
    /// The query's CLIP text embedding against picture and frame embeddings.
    Visual,
}

/// Files whose embeddings are nearest the query's (none when the channel's model is not
/// installed or nothing is embedded yet).
fn vector_channel(
    store: &Store,
    shared: &Shared,
    request: &SearchRequest,
    channel: Channel,
) -> Result<Vec<SearchHit>, RpcError> {
    let vectors = match channel {
        Channel::Semantic => &shared.vectors,
        Channel::Visual => &shared.frames,
    };
    if vectors.read().is_empty() {
        return Ok(Vec::new());
    }
    let query = match channel {
        Channel::Semantic => shared.embed_query(&request.query),
        Channel::Visual => shared.embed_visual_query(&request.query),
    };
    let Some(q) = query else {
        return Ok(Vec::new());
    };
    let vectors = vectors.read();
    vx_indexer::semantic::semantic_hits(store, &vectors, &q, request).map_err(internal)
}

fn status(store: &Store, shared: &Shared) -> Result<Status, RpcError> {
    let counts = store.state_counts().map_err(internal)?;
    let files = FileState::ALL
        .into_iter()
        .map(|state| StateCount {
            state,
            count: counts
                .iter()
                .find(|(s, _)| *s == state)
                .map(|c| c.1)
                .unwrap_or(0),
        })
        .collect();
    let (queue_depth, retry_waiting) = store.queue_depth().map_err(internal)?;
    let index_pending = store.index_pending().map_err(internal)?;
    let pending = counts
        .iter()
        .find(|(s, _)| *s == FileState::Pending)
        .map_or(0, |c| c.1);
    let idle = pending == 0
        && queue_depth == 0
        && index_pending == 0
        && !shared.rebuild_index.load(Ordering::SeqCst)
        && shared.catalog_pending.load(Ordering::SeqCst) == 0
        && shared.watcher_pending.load(Ordering::SeqCst) == 0;
    let rate = shared.rate();
    let root_counts = store.root_file_counts().map_err(internal)?;
    let roots = store
        .roots()
        .map_err(internal)?
        .iter()
        .map(|r| root_info(store, r, &root_counts))
        .collect();
    let problem = |f: vx_indexer::store::FileRow| FileProblem {
        path: WirePath::new(&f.path),
        state: f.state,
        message: f.message.unwrap_or_default(),
    };
    let retrying = store
        .files_in_states(&[FileState::Pending], 200)
        .map_err(internal)?
        .into_iter()
        .filter(|f| f.message.is_some())
        .take(10);
    let mut problems: Vec<FileProblem> = retrying.map(problem).collect();
    problems.extend(
        store
            .files_in_states(&[FileState::Failed], 20)
            .map_err(internal)?
            .into_iter()
            .map(problem),
    );
    problems.extend(
        store
            .files_in_states(&[FileState::Skipped], 10)
            .map_err(internal)?
            .into_iter()
            .map(problem),
    );
    let pause_reason = shared.pause_reason();
    let skipped = store.skipped_counts().map_err(internal)?;
    Ok(Status {
        daemon_version: env!("CARGO_PKG_VERSION").into(),
        pid: std::process::id(),
        paused: pause_reason.is_some(),
        pause_reason,
        idle,
        files,
        queue_depth,
        retry_waiting,
        current: shared
            .current
            .lock()
            .iter()
            .flatten()
            .map(|p| WirePath::new(p))
            .collect(),
        rate,
        eta_secs: (rate > 0.0 && queue_depth > 0).then(|| queue_depth as f64 / rate),
        index_pending,
        pending_without_job: shared.pending_without_job.load(Ordering::Relaxed),
        skipped_not_media: skipped.0,
        skipped_unsupported: skipped.1,
        contents: store.content_count().map_err(internal)?,
        vectors: (shared.vectors.read().len() + shared.frames.read().len()) as u64,
        vector_bytes: (shared.vectors.read().memory_bytes() + shared.frames.read().memory_bytes())
            as u64,
        extractors: std::iter::once(ExtractorInfo {
            name: METADATA_EXTRACTOR.into(),
            version: METADATA_VERSION,
            enabled: true,
            reason: None,
            done: store
                .extraction_done_count(METADATA_EXTRACTOR, METADATA_VERSION)
                .map_err(internal)?,
        })
        .chain(crate::extractors::infos(
            &shared.models_dir,
            shared.onnxruntime.as_deref(),
            |n, v| store.extraction_done_count(n, v).unwrap_or(0),
        ))
        .collect(),
        roots,
        problems,
    })
}

fn show(store: &Store, shared: &Shared, path: &WirePath) -> Result<FileDetails, RpcError> {
    let p = path.to_path_buf();
    let file = match store.file_by_path(&p).map_err(internal)? {
        Some(f) => f,
        None => {
            let canonical =
                std::fs::canonicalize(&p).map_err(|_| RpcError::NotFound(path.clone()))?;
            store
                .file_by_path(&canonical)
                .map_err(internal)?
                .ok_or_else(|| RpcError::NotFound(path.clone()))?
        }
    };
    let root = store
        .root(file.root_id)
        .map_err(internal)?
        .map(|r| WirePath::new(&r.path))
        .unwrap_or_else(|| WirePath::new(std::path::Path::new("")));
    let content = match file.content_id {
        Some(id) => store.content(id).map_err(internal)?,
        None => None,
    };
    let extractions = match &content {
        Some(c) => store
            .extractions(c.id)
            .map_err(internal)?
            .into_iter()
            .map(|e| ExtractionInfo {
                extractor: e.extractor,
                version: e.version,
                status: e.status,
                error: e.error,
                runs: e.runs,
            })
            .collect(),
        None => Vec::new(),
    };
    let measures = match &content {
        Some(c) => store
            .measures(c.id)
            .map_err(internal)?
            .into_iter()
            .map(|(extractor, name, value)| {
                let text = match extractors::measure(&name) {
                    Some((e, m)) => e.show(m, value),
                    None => format!("{name}: {value}"),
                };
                ShownMeasure {
                    extractor,
                    name,
                    value,
                    text,
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let (segments, faces, thumbnails) = match &content {
        Some(c) => (
            store
                .segments(c.id)
                .map_err(internal)?
                .into_iter()
                .map(|s| ShownSegment {
                    source: s.source,
                    start: s.start,
                    end: s.end,
                    text: vx_indexer::extractors::split_hidden(&s.text).0.to_string(),
                    confidence: s.confidence,
                })
                .collect(),
            store
                .faces(c.id)
                .map_err(internal)?
                .into_iter()
                .map(|f| ShownFace {
                    time: f.time,
                    rect: f.rect,
                    score: f.score,
                    age: f.age,
                    person: f.person,
                    name: f.name,
                })
                .collect(),
            store
                .thumbnails(c.id)
                .map_err(internal)?
                .into_iter()
                .map(|(t, rel)| {
                    (
                        t,
                        WirePath::new(&shared.data_dir.join("thumbnails").join(rel)),
                    )
                })
                .collect(),
        ),
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let content = match content {
        Some(c) => Some(ContentInfo {
            hash: hex(&c.hash),
            kind: c.meta.kind,
            format: c.meta.format,
            duration: c.meta.duration,
            width: c.meta.width,
            height: c.meta.height,
            video_codec: c.meta.video_codec,
            audio_codec: c.meta.audio_codec,
            taken: c.meta.taken,
            location: c.meta.location,
            place: c.meta.place.map(|p| p.name),
            camera: c.meta.camera,
            copies: store
                .files_of_content(c.id)
                .map_err(internal)?
                .into_iter()
                .filter(|q| *q != file.path)
                .map(|q| WirePath::new(&q))
                .collect(),
        }),
        None => None,
    };
    Ok(FileDetails {
        path: WirePath::new(&file.path),
        root,
        state: file.state,
        message: file.message,
        size: file.stat.size,
        mtime: file.stat.mtime_ns / 1_000_000_000,
        content,
        extractions,
        segments,
        headings: extractors::ALL
            .iter()
            .filter_map(|e| e.segments())
            .map(|s| (s.source.to_string(), s.heading.to_string()))
            .collect(),
        measures,
        faces,
        thumbnails,
        live_partner: vx_indexer::live::pair_of(store, &file.path)
            .map_err(internal)?
            .map(|pair| {
                WirePath::new(if pair.still == file.path {
                    &pair.clip
                } else {
                    &pair.still
                })
            }),
    })
}

impl Vx for Server {
    async fn hello(self, _: Context, client_protocol: u32) -> Result<Hello, RpcError> {
        if client_protocol != PROTOCOL_VERSION {
            return Err(RpcError::VersionMismatch {
                client: client_protocol,
                daemon: PROTOCOL_VERSION,
                daemon_version: env!("CARGO_PKG_VERSION").into(),
            });
        }
        Ok(Hello {
            daemon_version: env!("CARGO_PKG_VERSION").into(),
            protocol: PROTOCOL_VERSION,
            pid: std::process::id(),
            data_dir: WirePath::new(&self.shared.data_dir),
        })
    }

    async fn add_root(
        self,
        _: Context,
        path: WirePath,
        exclude: Vec<String>,
    ) -> Result<RootInfo, RpcError> {
        let (reply, rx) = oneshot::channel();
        self.catalog.send(CatalogCmd::AddRoot {
            path: path.to_path_buf(),
            exclude,
            reply,
        });
        rx.await.map_err(|_| RpcError::ShuttingDown)?
    }

    async fn remove_root(self, _: Context, path: WirePath) -> Result<u64, RpcError> {
        let (reply, rx) = oneshot::channel();
        self.catalog.send(CatalogCmd::RemoveRoot {
            path: path.to_path_buf(),
            reply,
        });
        rx.await.map_err(|_| RpcError::ShuttingDown)?
    }

    async fn roots(self, _: Context) -> Result<Vec<RootInfo>, RpcError> {
        self.blocking(|store, _| {
            let counts = store.root_file_counts().map_err(internal)?;
            Ok(store
                .roots()
                .map_err(internal)?
                .iter()
                .map(|r| root_info(store, r, &counts))
                .collect())
        })
        .await
    }

    async fn status(self, _: Context) -> Result<Status, RpcError> {
        self.blocking(status).await
    }

    async fn search(self, _: Context, request: SearchRequest) -> Result<SearchResponse, RpcError> {
        let pool = self.pool.clone();
        self.blocking(move |store, shared| {
            let started = Instant::now();
            if let Some(person) = &request.person {
                let key = vx_indexer::people::person_key(person);
                if store.people_matching(&key).map_err(internal)?.is_empty() {
                    return Err(RpcError::NoSuchPerson(format!(
                        "no person is called {person:?}; `vx people` lists them and `vx people name ID NAME` names one"
                    )));
                }
            }
            let limit = request.limit.clamp(1, 10_000) as usize;
            let near = match &request.near {
                Some(place) => Some(near_centres(store, place)?),
                None => None,
            };
            let camera: Option<Vec<String>> = request
                .camera
                .as_ref()
                .map(|c| c.split_whitespace().map(str::to_lowercase).collect());
            for m in &request.measures {
                if extractors::measure(&m.name).is_none() {
                    let known: Vec<&str> = extractors::ALL
                        .iter()
                        .flat_map(|e| e.measures())
                        .map(|m| m.name)
                        .collect();
                    return Err(RpcError::BadQuery(format!(
                        "no measure is called {:?}; there are: {}",
                        m.name,
                        known.join(", ")
                    )));
                }
            }
            // Place, camera and measure filters are applied to the fused results: the channels
            // look further.
            let filtered = near.is_some() || camera.is_some() || !request.measures.is_empty();
            let wide = SearchRequest {
                limit: if filtered { 10_000 } else { (limit * 2) as u32 },
                ..request.clone()
            };
            let wants = |c: &str| {
                request.channels.is_empty() || request.channels.iter().any(|x| x == c)
            };
            let has_words = !request.query.trim().is_empty();
            // The channels run side by side: the query embeddings take longest.
            let (text, semantic, visual) = std::thread::scope(|s| {
                let text = s.spawn(|| {
                    if wants("text") {
                        shared.text.search(&wide)
                    } else {
                        Ok(Vec::new())
                    }
                });
                let visual = s.spawn(|| {
                    if wants("visual") && has_words {
                        pool.with(|s| vector_channel(s, shared, &wide, Channel::Visual))
                    } else {
                        Ok(Vec::new())
                    }
                });
                let semantic = if wants("semantic") && has_words {
                    vector_channel(store, shared, &wide, Channel::Semantic)
                } else {
                    Ok(Vec::new())
                };
                (
                    text.join().expect("text search does not panic"),
                    semantic,
                    visual.join().expect("visual search does not panic"),
                )
            });
            let text = text.map_err(|e| RpcError::BadQuery(e.to_string()))?;
            let fused = if filtered { wide.limit as usize } else { limit };
            let mut results = vx_indexer::semantic::fuse(vec![text, semantic?, visual?], fused);
            if filtered {
                let km = if request.km > 0.0 { request.km } else { 25.0 };
                let mut kept = Vec::new();
                for hit in results {
                    let (at, took) = store
                        .origin_of(&hit.path.to_path_buf())
                        .map_err(internal)?;
                    let near_ok = near.as_ref().is_none_or(|centres| {
                        at.is_some_and(|at| centres.iter().any(|c| distance_km(*c, at) <= km))
                    });
                    let camera_ok = camera.as_ref().is_none_or(|words| {
                        took.map(|c| c.to_lowercase())
                            .is_some_and(|c| words.iter().all(|w| c.contains(w.as_str())))
                    });
                    let mut measures_ok = true;
                    for m in &request.measures {
                        let value = store
                            .measure_of(&hit.path.to_path_buf(), &m.name)
                            .map_err(internal)?;
                        measures_ok &= value.is_some_and(|v| m.holds(v));
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
            let mut results = vx_indexer::live::merge_pairs(store, results).map_err(internal)?;
            attach_thumbnails(store, shared, &mut results).map_err(internal)?;
            Ok(SearchResponse {
                results,
                took_ms: started.elapsed().as_secs_f64() * 1000.0,
            })
        })
        .await
    }

    async fn show(self, _: Context, path: WirePath) -> Result<FileDetails, RpcError> {
        self.blocking(move |store, shared| show(store, shared, &path))
            .await
    }

    async fn similar(
        self,
        _: Context,
        path: WirePath,
        at: Option<f64>,
        limit: u32,
    ) -> Result<SearchResponse, RpcError> {
        self.blocking(move |store, shared| {
            let started = Instant::now();
            let details = show(store, shared, &path)?;
            let at_moment = |start: f64, end: f64| {
                at.is_none_or(|t| start <= t + 1e-3 && t <= end.max(start) + 1e-3)
            };
            let mut own: Vec<WirePath> = vec![details.path.clone()];
            own.extend(
                details
                    .content
                    .iter()
                    .flat_map(|c| c.copies.iter().cloned()),
            );
            let request = |query: String, person: Option<String>| SearchRequest {
                query,
                kind: None,
                path_prefix: None,
                after: None,
                before: None,
                has: Vec::new(),
                person,
                near: None,
                km: 0.0,
                camera: None,
                measures: Vec::new(),
                channels: Vec::new(),
                limit: limit.saturating_add(own.len() as u32),
            };
            let search = |r: &SearchRequest| {
                shared
                    .text
                    .search(r)
                    .map_err(|e| RpcError::BadQuery(e.to_string()))
            };
            let mut channels = Vec::new();
            // What the file (or that moment of it) shows, in words: its tags' names and objects.
            let words: Vec<String> = details
                .segments
                .iter()
                .filter(|s| at_moment(s.start, s.end))
                .filter_map(|s| extractors::seen(&s.source, &s.text).map(str::to_string))
                .collect();
            if !words.is_empty() {
                channels.push(search(&request(words.join(" "), None))?);
            }
            // Who is in it: every file showing the same people.
            let mut people: Vec<i64> = details
                .faces
                .iter()
                .filter(|f| at_moment(f.time, f.time))
                .filter_map(|f| f.person)
                .collect();
            people.sort_unstable();
            people.dedup();
            for id in people {
                channels.push(search(&request(String::new(), Some(format!("#{id}"))))?);
            }
            // How it looks, when CLIP is installed: its frames' embeddings against all frames.
            let content = store
                .file_by_path(&details.path.to_path_buf())
                .map_err(internal)?
                .and_then(|f| f.content_id);
            if let Some(content) = content {
                let frames = store.frame_embeddings(content).map_err(internal)?;
                // A moment is seen by the last embedded frame at or before it (scenes are
                // embedded once, at their start); a whole file by all of them.
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
                if let Some(query) = vx_indexer::semantic::mean_direction(&mine) {
                    let frames = shared.frames.read();
                    channels.push(
                        vx_indexer::semantic::semantic_hits(
                            store,
                            &frames,
                            &query,
                            &request(String::new(), None),
                        )
                        .map_err(internal)?,
                    );
                }
            }
            let mut results = vx_indexer::semantic::fuse(channels, limit as usize + own.len());
            results.retain(|h| !own.contains(&h.path));
            results.truncate(limit as usize);
            let mut results = vx_indexer::live::merge_pairs(store, results).map_err(internal)?;
            attach_thumbnails(store, shared, &mut results).map_err(internal)?;
            Ok(SearchResponse {
                results,
                took_ms: started.elapsed().as_secs_f64() * 1000.0,
            })
        })
        .await
    }

    async fn reindex(self, _: Context, rebuild_index: bool) -> Result<ReindexReport, RpcError> {
        self.blocking(move |store, shared| {
            let requeued = store.requeue_failed().map_err(internal)?;
            let reindexed = if rebuild_index {
                shared.rebuild_index.store(true, Ordering::SeqCst);
                store.root_file_counts().map_err(internal)?.values().sum()
            } else {
                0
            };
            shared.workers_wake.wake();
            shared.index_wake.wake();
            Ok(ReindexReport {
                requeued,
                reindexed,
            })
        })
        .await
    }

    async fn people(self, _: Context) -> Result<Vec<Person>, RpcError> {
        self.blocking(|store, shared| {
            Ok(store
                .people()
                .map_err(internal)?
                .into_iter()
                .map(|p| person_info(p, shared))
                .collect())
        })
        .await
    }

    async fn name_person(
        self,
        _: Context,
        id: i64,
        name: Option<String>,
    ) -> Result<Person, RpcError> {
        let name = name.map(|n| n.trim().to_string());
        if name
            .as_deref()
            .is_some_and(|n| n.is_empty() || n.starts_with('#') || n.parse::<i64>().is_ok())
        {
            return Err(RpcError::BadQuery(
                "a name needs a letter and cannot start with '#' (those mean group numbers)".into(),
            ));
        }
        let result = self
            .people_change(id, move |store| store.name_person(id, name.as_deref()))
            .await;
        if let Ok(p) = &result {
            tracing::info!(id, name = ?p.name, "person named");
        }
        result
    }

    async fn merge_people(self, _: Context, into: i64, from: i64) -> Result<Person, RpcError> {
        let result = self
            .people_change(into, move |store| store.merge_people(into, from))
            .await;
        if result.is_ok() {
            tracing::info!(into, from, "people merged");
        }
        result
    }

    async fn pause(self, _: Context) -> Result<(), RpcError> {
        self.shared.paused.store(true, Ordering::SeqCst);
        tracing::info!("indexing paused");
        Ok(())
    }

    async fn resume(self, _: Context) -> Result<(), RpcError> {
        self.shared.paused.store(false, Ordering::SeqCst);
        self.shared.workers_wake.wake();
        tracing::info!("indexing resumed");
        Ok(())
    }

    async fn shutdown(self, _: Context) -> Result<(), RpcError> {
        tracing::info!("shutdown requested over the socket");
        let _ = self.shutdown.send(true);
        Ok(())
    }
}

/// The points `--near` means: "LAT,LON", or the places of that name where files in the
/// catalogue were taken.
fn near_centres(store: &Store, place: &str) -> Result<Vec<(f64, f64)>, RpcError> {
    if let Some((lat, lon)) = place.split_once(',')
        && let (Ok(lat), Ok(lon)) = (lat.trim().parse::<f64>(), lon.trim().parse::<f64>())
    {
        return vx_indexer::geo::checked(lat, lon)
            .map(|c| vec![c])
            .ok_or_else(|| {
                RpcError::BadQuery(format!(
                    "--near {place}: latitude must be within ±90 and longitude within ±180"
                ))
            });
    }
    let centres = store.place_centres(place).map_err(internal)?;
    if centres.is_empty() {
        return Err(RpcError::BadQuery(format!(
            "no photo or video here was taken in a place called {place:?} (places come from \
             GPS; `vx show FILE` shows a file's); give coordinates instead: --near 41.89,12.49"
        )));
    }
    Ok(centres.into_iter().map(|(_, at)| at).collect())
}
