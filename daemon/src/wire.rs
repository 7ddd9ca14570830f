//! The indexer's types as the protocol's, and back: the one place the two meet.

use vx_indexer::SearchError;
use vx_indexer::search::{self, Hit, Query};
use vx_protocol::{
    Compare, Evidence, FileState, MeasureFilter, MediaKind, Moment, RpcError, SearchHit,
    SearchRequest, WirePath,
};

/// A value of the indexer as the protocol carries it. (A trait of the daemon's own: `From`
/// between two crates' types could live in neither.)
pub trait ToWire {
    type Wire;
    fn to_wire(self) -> Self::Wire;
}

impl ToWire for vx_indexer::MediaKind {
    type Wire = MediaKind;
    fn to_wire(self) -> MediaKind {
        match self {
            vx_indexer::MediaKind::Image => MediaKind::Image,
            vx_indexer::MediaKind::Video => MediaKind::Video,
            vx_indexer::MediaKind::Audio => MediaKind::Audio,
        }
    }
}

impl ToWire for vx_indexer::FileState {
    type Wire = FileState;
    fn to_wire(self) -> FileState {
        match self {
            vx_indexer::FileState::Pending => FileState::Pending,
            vx_indexer::FileState::Indexed => FileState::Indexed,
            vx_indexer::FileState::Skipped => FileState::Skipped,
            vx_indexer::FileState::Failed => FileState::Failed,
            vx_indexer::FileState::Offline => FileState::Offline,
        }
    }
}

impl ToWire for search::Moment {
    type Wire = Moment;
    fn to_wire(self) -> Moment {
        Moment {
            start: self.start,
            end: self.end,
            text: self.text,
            sources: self.sources,
            thumbnail: self.thumbnail.as_deref().map(WirePath::new),
            scene: self.scene,
            speaker: self.speaker,
        }
    }
}

impl ToWire for Hit {
    type Wire = SearchHit;
    fn to_wire(self) -> SearchHit {
        SearchHit {
            path: WirePath::new(&self.path),
            kind: self.kind.to_wire(),
            score: self.score,
            evidence: self
                .evidence
                .iter()
                .map(|(c, score)| Evidence {
                    channel: c.name().to_string(),
                    score: *score,
                    relevance: c.relevance(*score),
                })
                .collect(),
            online: self.online,
            moments: self.moments.into_iter().map(ToWire::to_wire).collect(),
            thumbnail: self.thumbnail.as_deref().map(WirePath::new),
            clip: self.clip.as_deref().map(WirePath::new),
        }
    }
}

impl ToWire for SearchError {
    type Wire = RpcError;
    fn to_wire(self) -> RpcError {
        match self {
            SearchError::BadQuery(m) => RpcError::BadQuery(m),
            SearchError::NoSuchGroup(m) => RpcError::NoSuchGroup(m),
            SearchError::NotFound(p) => RpcError::NotFound(WirePath::new(&p)),
            e => RpcError::Internal(e.to_string()),
        }
    }
}

fn media_kind(k: MediaKind) -> vx_indexer::MediaKind {
    match k {
        MediaKind::Image => vx_indexer::MediaKind::Image,
        MediaKind::Video => vx_indexer::MediaKind::Video,
        MediaKind::Audio => vx_indexer::MediaKind::Audio,
    }
}

fn measure_filter(m: MeasureFilter) -> search::MeasureFilter {
    search::MeasureFilter {
        name: m.name,
        compare: match m.compare {
            Compare::Less => search::Compare::Less,
            Compare::LessOrEqual => search::Compare::LessOrEqual,
            Compare::Equal => search::Compare::Equal,
            Compare::GreaterOrEqual => search::Compare::GreaterOrEqual,
            Compare::Greater => search::Compare::Greater,
        },
        value: m.value,
    }
}

/// A search request as the indexer's query.
pub fn query(r: SearchRequest) -> Query {
    Query {
        query: r.query,
        kind: r.kind.map(media_kind),
        path_prefix: r.path_prefix.map(|p| p.to_path_buf()),
        after: r.after,
        before: r.before,
        has: r.has,
        person: r.person,
        voice: r.voice,
        channels: r.channels,
        near: r.near,
        km: r.km,
        camera: r.camera,
        measures: r.measures.into_iter().map(measure_filter).collect(),
        limit: r.limit,
    }
}
