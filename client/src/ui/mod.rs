//! `vx ui`: a page in the browser for searching the library. This process is a client of vxd
//! like `vx search`; it serves the page (HTML, CSS and JavaScript compiled into the binary,
//! nothing from the network) and the files vxd answers with, on 127.0.0.1 only, to whoever
//! holds the token it prints (`guard`).

mod api;
mod guard;
mod served;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::extract::{Path as UrlPart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceExt;
use tower_http::services::ServeFile;
use vx_client::VxClient;

use served::Served;

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/app.css");

/// What every request handler shares.
pub struct Ui {
    client: VxClient,
    token: String,
    port: u16,
    served: Served,
}

pub struct Options {
    /// 0: any free port.
    pub port: u16,
    /// Print the address instead of opening the browser.
    pub no_open: bool,
}

/// Serves the page until Ctrl-C.
pub async fn run(client: VxClient, options: Options) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.port))?;
    let port = listener.local_addr()?.port();
    let ui = Arc::new(Ui {
        client,
        token: new_token()?,
        port,
        served: Served::default(),
    });
    let url = format!("http://127.0.0.1:{port}/?token={}", ui.token);
    let app = router(ui);
    println!("vx ui: {url}");
    println!("(Ctrl-C stops it; anyone with this address can search your library)");
    if !options.no_open
        && let Err(e) = crate::open::in_browser(&url)
    {
        println!("({e:#})");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the page's server stopped")
}

fn router(ui: Arc<Ui>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/app.js", get(|| async { page(SCRIPT, "text/javascript") }))
        .route("/app.css", get(|| async { page(STYLE, "text/css") }))
        .route("/api/search", get(api::search))
        .route("/api/show/{id}", get(api::show))
        .route("/api/status", get(api::status))
        .route("/api/people", get(api::people))
        .route("/api/people/{id}/name", post(api::name_person))
        .route("/api/people/merge", post(api::merge_people))
        .route("/file/{id}", get(file))
        .layer(middleware::from_fn_with_state(ui.clone(), guard::check))
        .with_state(ui)
}

/// The page, with the token its script sends with changes (the cookie is out of its reach).
async fn index(State(ui): State<Arc<Ui>>) -> Response {
    page(
        PAGE.replace("{{token}}", &ui.token),
        "text/html; charset=utf-8",
    )
}

fn page(body: impl IntoResponse, kind: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r
}

/// A file vxd answered with, by its number: with Range requests, so that the browser can play
/// a video from any second.
async fn file(State(ui): State<Arc<Ui>>, UrlPart(id): UrlPart<String>, req: Request) -> Response {
    let Some(path) = id.parse().ok().and_then(|id| ui.served.path(id)) else {
        return (StatusCode::NOT_FOUND, "vx ui: no such file\n").into_response();
    };
    match ServeFile::new(&path).oneshot(req).await {
        Ok(r) => r.map(axum::body::Body::new),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// 32 random bytes from the system, as hex.
fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
