//! The page's JSON: vxd's answers with every path replaced by the number the page loads it by
//! (see `served`).

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path as UrlPart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use vx_client::dates::parse_date;
use vx_client::{FileDetails, MediaKind, SearchRequest, WirePath, context};

use super::Ui;

/// A failed call, as the page shows it: a status and a sentence.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl<E: std::fmt::Display> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(StatusCode::BAD_GATEWAY, format!("vxd: {e}"))
    }
}

fn bad(why: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, why.into())
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    kind: Option<String>,
    /// Comma-separated: speech, text, faces.
    has: Option<String>,
    person: Option<String>,
    after: Option<String>,
    before: Option<String>,
    folder: Option<String>,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub async fn search(
    State(ui): State<Arc<Ui>>,
    Query(p): Query<SearchParams>,
) -> Result<Json<Value>, ApiError> {
    let date = |s: &Option<String>| given(s).map(parse_date).transpose().map_err(bad);
    let request = SearchRequest {
        query: p.q.trim().to_string(),
        kind: match given(&p.kind) {
            Some(k) => Some(MediaKind::parse(k).ok_or_else(|| bad(format!("no kind {k:?}")))?),
            None => None,
        },
        has: given(&p.has)
            .map(|h| h.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        person: given(&p.person).map(str::to_string),
        after: date(&p.after)?,
        before: date(&p.before)?,
        path_prefix: given(&p.folder).map(|f| WirePath::new(Path::new(f))),
        limit: 60,
        ..SearchRequest::default()
    };
    if request.query.is_empty() && request.kind.is_none() && request.person.is_none() {
        return Ok(Json(json!({ "results": [], "took_ms": 0.0 })));
    }
    let r = ui.client.search(context(), request).await??;
    let results: Vec<Value> = r
        .results
        .iter()
        .map(|h| {
            let path = h.path.to_path_buf();
            json!({
                "id": ui.served.id(&path),
                "name": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                "folder": path.parent().map(|p| p.display().to_string()),
                "kind": h.kind.as_str(),
                // The relevance, the same scale for every query.
                "score": h.score,
                "weak": h.weak(),
                "online": h.online,
                "thumb": h.thumbnail.as_ref().map(|t| ui.served.url(t)),
                "media": ui.served.url(&h.path),
                "clip": h.clip.as_ref().map(|c| ui.served.url(c)),
                "moments": h.moments.iter().map(|m| json!({
                    "start": m.start, "end": m.end, "text": m.text, "sources": m.sources,
                    "speaker": m.speaker, "scene": m.scene,
                    "thumb": m.thumbnail.as_ref().map(|t| ui.served.url(t)),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "results": results, "took_ms": r.took_ms })))
}

/// What `vx show` knows of a file the page was given.
pub async fn show(
    State(ui): State<Arc<Ui>>,
    UrlPart(id): UrlPart<usize>,
) -> Result<Json<Value>, ApiError> {
    let path = ui
        .served
        .path(id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "no such file".into()))?;
    let d: FileDetails = ui.client.show(context(), WirePath::new(&path)).await??;
    let url = |p: &WirePath| ui.served.url(p);
    let headings: Vec<Value> = d
        .headings
        .iter()
        .map(|(source, heading)| {
            let segments: Vec<Value> = d
                .segments
                .iter()
                .filter(|s| &s.source == source)
                .map(|s| {
                    json!({ "start": s.start, "end": s.end, "text": s.text,
                            "confidence": s.confidence, "speaker": s.speaker })
                })
                .collect();
            json!({ "source": source, "heading": heading, "segments": segments })
        })
        .collect();
    let c = d.content.as_ref();
    Ok(Json(json!({
        "id": id,
        "path": d.path.display(),
        "media": url(&d.path),
        "state": d.state.as_str(),
        "message": d.message,
        "size": d.size,
        "kind": c.and_then(|c| c.kind).map(|k| k.as_str()),
        "duration": c.and_then(|c| c.duration),
        "width": c.and_then(|c| c.width),
        "height": c.and_then(|c| c.height),
        "taken": c.and_then(|c| c.taken).map(vx_client::dates::format_time),
        "place": c.and_then(|c| c.place.clone()),
        "camera": c.and_then(|c| c.camera.clone()),
        "headings": headings,
        "measures": d.measures.iter().map(|m| &m.text).collect::<Vec<_>>(),
        "faces": d.faces.iter().map(|f| json!({
            "time": f.time, "person": f.person, "name": f.name,
            "expression": f.expression.as_ref().map(|e| &e.0),
        })).collect::<Vec<_>>(),
        "scenes": d.scenes.iter().map(|s| json!({
            "start": s.start, "end": s.end, "thumb": s.thumbnail.as_ref().map(url),
        })).collect::<Vec<_>>(),
    })))
}

/// Indexing progress for the page's status line.
pub async fn status(State(ui): State<Arc<Ui>>) -> Result<Json<Value>, ApiError> {
    let s = ui.client.status(context()).await??;
    let count = |state| crate::render::count(&s, state);
    Ok(Json(json!({
        "idle": s.idle,
        "paused": s.pause_reason,
        "indexed": count(vx_client::FileState::Indexed),
        "pending": count(vx_client::FileState::Pending),
        "failed": count(vx_client::FileState::Failed),
        "rate": s.rate,
        "eta_secs": s.eta_secs,
    })))
}

pub async fn people(State(ui): State<Arc<Ui>>) -> Result<Json<Value>, ApiError> {
    let people = ui.client.people(context()).await??;
    Ok(Json(Value::Array(
        people
            .iter()
            .map(|p| {
                json!({ "id": p.id, "name": p.name, "faces": p.faces, "files": p.files,
                        "thumb": p.thumbnail.as_ref().map(|t| ui.served.url(t)) })
            })
            .collect(),
    )))
}

#[derive(Deserialize)]
pub struct Naming {
    /// None or empty: forget the name.
    name: Option<String>,
}

pub async fn name_person(
    State(ui): State<Arc<Ui>>,
    UrlPart(id): UrlPart<i64>,
    Json(n): Json<Naming>,
) -> Result<Json<Value>, ApiError> {
    let name = given(&n.name).map(str::to_string);
    let p = ui.client.name_person(context(), id, name).await??;
    Ok(Json(json!({ "id": p.id, "name": p.name })))
}

#[derive(Deserialize)]
pub struct Merging {
    into: i64,
    from: i64,
}

pub async fn merge_people(
    State(ui): State<Arc<Ui>>,
    Json(m): Json<Merging>,
) -> Result<Json<Value>, ApiError> {
    let p = ui.client.merge_people(context(), m.into, m.from).await??;
    Ok(Json(
        json!({ "id": p.id, "name": p.name, "faces": p.faces }),
    ))
}
