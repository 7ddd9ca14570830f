//! JSON forms of the protocol types for `--json`: paths as strings, times in seconds.
//! Search's shape is a promise to scripts:
//! `{"results":[{"path","kind","score","weak","evidence","online","thumbnail","clip",
//!   "moments":[{"start","end","text","sources","thumbnail","scene","speaker"}]}]}`, "score"
//! being the relevance (0 to 1, the same scale for every query), "weak" true under
//! `CONFIDENT`, "evidence" each channel's own score and the relevance it gives
//! (`{"text": {"score": 0.3, "relevance": 0.99}}`), a video's "scene"
//! `[start, end]` of the scene the moment falls in, "speaker" who says it.

use serde_json::{Value, json};
use vx_client::*;

fn path(p: &WirePath) -> Value {
    Value::String(p.to_path_buf().to_string_lossy().into_owned())
}

pub fn search(r: &SearchResponse) -> Value {
    json!({
        "results": r.results.iter().map(|h| json!({
            "path": path(&h.path),
            "kind": h.kind.as_str(),
            "score": h.score,
            "weak": h.weak(),
            "evidence": h.evidence.iter()
                .map(|e| (e.channel.clone(), json!({"score": e.score, "relevance": e.relevance})))
                .collect::<serde_json::Map<String, Value>>(),
            "online": h.online,
            "thumbnail": h.thumbnail.as_ref().map(path),
            "clip": h.clip.as_ref().map(path),
            "moments": h.moments.iter().map(|m| json!({
                "start": m.start, "end": m.end, "text": m.text, "sources": m.sources,
                "thumbnail": m.thumbnail.as_ref().map(path),
                "scene": m.scene.map(|(a, b)| [a, b]),
                "speaker": m.speaker,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "took_ms": r.took_ms,
    })
}

pub fn root(r: &RootInfo) -> Value {
    json!({
        "path": path(&r.path),
        "state": r.state.as_str(),
        "message": r.message,
        "files": r.files,
        "exclude": r.exclude,
        "excluded": r.excluded.iter().map(|x| json!({"reason": x.reason, "folders": x.folders, "files": x.files})).collect::<Vec<_>>(),
    })
}

pub fn status(s: &Status) -> Value {
    json!({
        "daemon_version": s.daemon_version,
        "pid": s.pid,
        "paused": s.paused,
        "pause_reason": s.pause_reason,
        "idle": s.idle,
        "files": s.files.iter().map(|c| (c.state.as_str().to_string(), json!(c.count))).collect::<serde_json::Map<_, _>>(),
        "contents": s.contents,
        "vectors": s.vectors,
        "vector_bytes": s.vector_bytes,
        "vector_lists": s.vector_lists,
        "queue_depth": s.queue_depth,
        "retry_waiting": s.retry_waiting,
        "index_pending": s.index_pending,
        "pending_without_job": s.pending_without_job,
        "skipped_not_media": s.skipped_not_media,
        "skipped_unsupported": s.skipped_unsupported,
        "current": s.current.iter().map(path).collect::<Vec<_>>(),
        "rate": s.rate,
        "eta_secs": s.eta_secs,
        "extractors": s.extractors.iter().map(|e| json!({
            "name": e.name, "version": e.version, "enabled": e.enabled, "reason": e.reason, "done": e.done,
        })).collect::<Vec<_>>(),
        "roots": s.roots.iter().map(root).collect::<Vec<_>>(),
        "problems": s.problems.iter().map(|p| json!({
            "path": path(&p.path), "state": p.state.as_str(), "message": p.message,
        })).collect::<Vec<_>>(),
    })
}

pub fn details(d: &FileDetails) -> Value {
    json!({
        "path": path(&d.path),
        "root": path(&d.root),
        "state": d.state.as_str(),
        "message": d.message,
        "size": d.size,
        "mtime": d.mtime,
        "content": d.content.as_ref().map(|c| json!({
            "hash": c.hash,
            "kind": c.kind.map(|k| k.as_str()),
            "format": c.format,
            "duration": c.duration,
            "width": c.width,
            "height": c.height,
            "video_codec": c.video_codec,
            "audio_codec": c.audio_codec,
            "taken": c.taken,
            "location": c.location.map(|(lat, lon)| json!({"latitude": lat, "longitude": lon})),
            "place": c.place,
            "camera": c.camera,
            "copies": c.copies.iter().map(path).collect::<Vec<_>>(),
        })),
        "extractions": d.extractions.iter().map(|e| json!({
            "extractor": e.extractor, "version": e.version, "status": e.status,
            "error": e.error, "runs": e.runs,
        })).collect::<Vec<_>>(),
        "segments": d.segments.iter().map(|s| json!({
            "source": s.source, "start": s.start, "end": s.end, "text": s.text, "confidence": s.confidence,
            "speaker": s.speaker,
        })).collect::<Vec<_>>(),
        "measures": d.measures.iter().map(|m| json!({
            "extractor": m.extractor, "name": m.name, "track": m.track, "value": m.value,
        })).collect::<Vec<_>>(),
        "faces": d.faces.iter().map(|f| json!({
            "time": f.time, "rect": f.rect, "score": f.score, "age": f.age,
            "person": f.person, "name": f.name,
            "expression": f.expression.as_ref().map(|(e, p)| json!({"label": e, "probability": p})),
        })).collect::<Vec<_>>(),
        "scenes": d.scenes.iter().map(|s| json!({
            "start": s.start, "end": s.end, "thumbnail": s.thumbnail.as_ref().map(path),
        })).collect::<Vec<_>>(),
        "thumbnails": d.thumbnails.iter().map(|(t, p)| json!({"time": t, "path": path(p)})).collect::<Vec<_>>(),
        "live_partner": d.live_partner.as_ref().map(path),
    })
}

pub fn person(p: &Person) -> Value {
    json!({
        "id": p.id, "name": p.name, "faces": p.faces, "files": p.files,
        "thumbnail": p.thumbnail.as_ref().map(path),
    })
}

pub fn voice(v: &Voice) -> Value {
    json!({"id": v.id, "name": v.name, "files": v.files, "seconds": v.seconds})
}

pub fn hello(h: &Hello, socket: &std::path::Path) -> Value {
    json!({
        "running": true,
        "daemon_version": h.daemon_version,
        "protocol": h.protocol,
        "pid": h.pid,
        "data_dir": path(&h.data_dir),
        "socket": socket.to_string_lossy(),
    })
}
