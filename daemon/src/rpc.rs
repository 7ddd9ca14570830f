//! The tarpc service over the Unix socket. Handlers never block tokio: catalogue reads run on
//! the blocking pool with pooled SQLite connections.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use parking_lot::Mutex;
use tarpc::context::Context;
use tokio::sync::{oneshot, watch};
use vx_indexer::Store;
use vx_indexer::extractors;
use vx_indexer::hash::hex;
use vx_indexer::job::{METADATA_EXTRACTOR, METADATA_VERSION};
use vx_indexer::people::PEOPLE;
use vx_indexer::voices::VOICES;
use vx_protocol::*;

use crate::scanner::{CatalogCmd, CatalogHandle, root_info};
use crate::shared::Shared;
use crate::wire::{self, ToWire};

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

    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T, RpcError>) -> Result<T, RpcError> {
        let mut store = match self.idle.lock().pop() {
            Some(s) => s,
            None => Store::open(&self.db).map_err(internal)?,
        };
        let result = f(&mut store);
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

    /// Applies a change to people or voices (on its own connection: it writes) and wakes the
    /// index writer to re-index their files.
    async fn group_change(
        &self,
        change: impl FnOnce(&mut Store) -> Result<(), vx_indexer::StoreError> + Send + 'static,
    ) -> Result<(), RpcError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&shared.db_path).map_err(internal)?;
            change(&mut store).map_err(|e| match e {
                vx_indexer::StoreError::NoSuchGroup(..) | vx_indexer::StoreError::SameGroup(..) => {
                    RpcError::NoSuchGroup(e.to_string())
                }
                e => internal(e),
            })?;
            shared.index_wake.wake();
            Ok(())
        })
        .await
        .map_err(internal)?
    }

    /// Person `id` as it now is.
    async fn person(&self, id: i64) -> Result<Person, RpcError> {
        self.blocking(move |store, shared| {
            store
                .people()
                .map_err(internal)?
                .into_iter()
                .find(|p| p.id == id)
                .map(|p| person_info(p, shared))
                .ok_or_else(|| RpcError::NoSuchGroup(format!("there is no person {id}")))
        })
        .await
    }

    /// Voice `id` as it now is.
    async fn voice(&self, id: i64) -> Result<Voice, RpcError> {
        self.blocking(move |store, _| {
            store
                .voices()
                .map_err(internal)?
                .into_iter()
                .find(|v| v.id == id)
                .map(voice_info)
                .ok_or_else(|| RpcError::NoSuchGroup(format!("there is no voice {id}")))
        })
        .await
    }
}

/// A name for a person or a voice, or why it cannot be one.
fn group_name(name: Option<String>) -> Result<Option<String>, RpcError> {
    let name = name.map(|n| n.trim().to_string());
    if name
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.starts_with('#') || n.parse::<i64>().is_ok())
    {
        return Err(RpcError::BadQuery(
            "a name needs a letter and cannot start with '#' (those mean group numbers)".into(),
        ));
    }
    Ok(name)
}

fn voice_info(v: vx_indexer::voices::VoiceRow) -> Voice {
    Voice {
        id: v.id,
        name: v.name,
        files: v.files,
        seconds: v.seconds,
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

fn status(store: &Store, shared: &Shared) -> Result<Status, RpcError> {
    let counts = store.state_counts().map_err(internal)?;
    let files = vx_indexer::FileState::ALL
        .into_iter()
        .map(|state| StateCount {
            state: state.to_wire(),
            count: counts
                .iter()
                .find(|(s, _)| *s == state)
                .map(|c| c.1)
                .unwrap_or(0),
        })
        .collect();
    let (queue_depth, retry_waiting) = store.queue_depth().map_err(internal)?;
    // Faces and speakers not yet grouped are indexed again once they are: not idle until then.
    let index_pending = store.index_pending().map_err(internal)?
        + store.ungrouped(&PEOPLE).map_err(internal)?
        + store.ungrouped(&VOICES).map_err(internal)?;
    let pending = counts
        .iter()
        .find(|(s, _)| *s == vx_indexer::FileState::Pending)
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
        state: f.state.to_wire(),
        message: f.message.unwrap_or_default(),
    };
    let retrying = store
        .files_in_states(&[vx_indexer::FileState::Pending], 200)
        .map_err(internal)?
        .into_iter()
        .filter(|f| f.message.is_some())
        .take(10);
    let mut problems: Vec<FileProblem> = retrying.map(problem).collect();
    problems.extend(
        store
            .files_in_states(&[vx_indexer::FileState::Failed], 20)
            .map_err(internal)?
            .into_iter()
            .map(problem),
    );
    problems.extend(
        store
            .files_in_states(&[vx_indexer::FileState::Skipped], 10)
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
        vector_lists: (shared.vectors.read().lists() + shared.frames.read().lists()) as u64,
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
            &shared.extractor_setup(),
            |n, v| store.extraction_done_count(n, v).unwrap_or(0),
        ))
        .collect(),
        roots,
        problems,
    })
}

fn show(store: &Store, shared: &Shared, path: &WirePath) -> Result<FileDetails, RpcError> {
    let file = vx_indexer::search::find_file(store, &path.to_path_buf())
        .map_err(internal)?
        .ok_or_else(|| RpcError::NotFound(path.clone()))?;
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
            .map(|(extractor, name, track, value)| {
                let text = match extractors::measure(&name) {
                    Some((e, m)) => e.show(m, value),
                    None => format!("{name}: {value}"),
                };
                ShownMeasure {
                    extractor,
                    name,
                    track,
                    value,
                    text,
                }
            })
            .collect(),
        None => Vec::new(),
    };
    let turns = match &content {
        Some(c) => store.turns(c.id).map_err(internal)?,
        None => Vec::new(),
    };
    let (segments, faces, thumbnails) = match &content {
        Some(c) => (
            store
                .segments(c.id)
                .map_err(internal)?
                .into_iter()
                .map(|s| ShownSegment {
                    speaker: vx_indexer::voices::said_by(&turns, &s.source, s.start, s.end)
                        .map(vx_indexer::voices::label),
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
                    expression: f.expression,
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
    let scenes = match &content {
        Some(c) => store
            .scenes(c.id)
            .map_err(internal)?
            .into_iter()
            .map(|(start, end)| ShownScene {
                start,
                end,
                thumbnail: thumbnails
                    .iter()
                    .rev()
                    .find(|(t, _)| *t <= start + 1e-3)
                    .map(|(_, p)| p.clone()),
            })
            .collect(),
        None => Vec::new(),
    };
    let content = match content {
        Some(c) => Some(ContentInfo {
            hash: hex(&c.hash),
            kind: c.meta.kind.map(ToWire::to_wire),
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
        state: file.state.to_wire(),
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
        scenes,
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

fn response(hits: Vec<vx_indexer::search::Hit>, started: Instant) -> SearchResponse {
    SearchResponse {
        results: hits.into_iter().map(ToWire::to_wire).collect(),
        took_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
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
            let query = wire::query(request);
            let hits = pool.with(|other| {
                shared
                    .with_searcher(|s| s.search(store, other, &query))
                    .map_err(ToWire::to_wire)
            })?;
            Ok(response(hits, started))
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
            let hits = shared
                .with_searcher(|s| s.similar(store, &path.to_path_buf(), at, limit))
                .map_err(ToWire::to_wire)?;
            Ok(response(hits, started))
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
        let name = group_name(name)?;
        self.group_change(move |store| store.name_group(&PEOPLE, id, name.as_deref()))
            .await?;
        let person = self.person(id).await?;
        tracing::info!(id, name = ?person.name, "person named");
        Ok(person)
    }

    async fn merge_people(self, _: Context, into: i64, from: i64) -> Result<Person, RpcError> {
        self.group_change(move |store| store.merge_groups(&PEOPLE, into, from))
            .await?;
        tracing::info!(into, from, "people merged");
        self.person(into).await
    }

    async fn voices(self, _: Context) -> Result<Vec<Voice>, RpcError> {
        self.blocking(|store, _| {
            Ok(store
                .voices()
                .map_err(internal)?
                .into_iter()
                .map(voice_info)
                .collect())
        })
        .await
    }

    async fn name_voice(
        self,
        _: Context,
        id: i64,
        name: Option<String>,
    ) -> Result<Voice, RpcError> {
        let name = group_name(name)?;
        self.group_change(move |store| store.name_group(&VOICES, id, name.as_deref()))
            .await?;
        let voice = self.voice(id).await?;
        tracing::info!(id, name = ?voice.name, "voice named");
        Ok(voice)
    }

    async fn merge_voices(self, _: Context, into: i64, from: i64) -> Result<Voice, RpcError> {
        self.group_change(move |store| store.merge_groups(&VOICES, into, from))
            .await?;
        tracing::info!(into, from, "voices merged");
        self.voice(into).await
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
