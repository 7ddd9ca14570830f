//! Who may talk to `vx ui`'s server: a local web server is an attack surface. Every request
//! must name this server by its loopback address and port (no DNS rebinding) and carry the
//! token `vx ui` printed, in the URL or in the cookie set after the first request; a request
//! that changes something (naming, merging) must be a POST from this page's own origin with
//! the token in a header, which another site's form or script cannot send. No response allows
//! another origin (no CORS), and every one carries a strict Content-Security-Policy.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Ui;

pub const COOKIE: &str = "vx_token";
/// The header the page's script sends the token in with a POST.
pub const TOKEN_HEADER: &str = "x-vx-token";

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// Whether a Host header names this server: a loopback address (or localhost) and its port.
pub fn host_allowed(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>().ok() == Some(port) && matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Whether an Origin header is this server's own.
fn origin_allowed(origin: &str, port: u16) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|host| host_allowed(host, port))
}

/// Compares in time that depends only on the lengths, so that the token cannot be guessed a
/// byte at a time from how long a refusal takes.
pub fn same_token(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The `token` parameter of a query string.
fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
}

/// The value of the token cookie.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, format!("vx ui: {why}\n")).into_response()
}

/// The middleware every request goes through.
pub async fn check(State(ui): State<Arc<Ui>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| host_allowed(h, ui.port)) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this server answers only to its own address",
        );
    }
    let from_query = query_token(req.uri().query()).is_some_and(|t| same_token(t, &ui.token));
    let from_cookie = cookie_token(headers).is_some_and(|t| same_token(t, &ui.token));
    if !from_query && !from_cookie {
        return refuse(
            StatusCode::FORBIDDEN,
            "open the address `vx ui` printed: it carries the token this page needs",
        );
    }
    match *req.method() {
        Method::GET | Method::HEAD => {}
        Method::POST => {
            let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
            let header_token = headers
                .get(TOKEN_HEADER)
                .and_then(|t| t.to_str().ok())
                .is_some_and(|t| same_token(t, &ui.token));
            if origin.is_some_and(|o| !origin_allowed(o, ui.port)) || !header_token {
                return refuse(StatusCode::FORBIDDEN, "changes come only from this page");
            }
        }
        _ => return refuse(StatusCode::METHOD_NOT_ALLOWED, "GET or POST only"),
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The token is in the address: never send it on.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if from_query && !from_cookie {
        let cookie = format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", ui.token);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.insert(header::SET_COOKIE, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_with_this_port_are_this_server() {
        assert!(host_allowed("127.0.0.1:8123", 8123));
        assert!(host_allowed("localhost:8123", 8123));
        assert!(host_allowed("[::1]:8123", 8123));
        assert!(!host_allowed("127.0.0.1:8124", 8123));
        assert!(!host_allowed("evil.example:8123", 8123));
        assert!(!host_allowed("127.0.0.1", 8123));
        assert!(!host_allowed("127.0.0.1.evil.example:8123", 8123));
        assert!(origin_allowed("http://127.0.0.1:8123", 8123));
        assert!(!origin_allowed("https://127.0.0.1:8123", 8123));
        assert!(!origin_allowed("http://evil.example", 8123));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc123", "abc123"));
        assert!(!same_token("abc124", "abc123"));
        assert!(!same_token("abc12", "abc123"));
        assert!(!same_token("", "abc123"));
    }

    #[test]
    fn the_token_is_read_from_the_query_and_the_cookie() {
        assert_eq!(query_token(Some("q=cat&token=xyz")), Some("xyz"));
        assert_eq!(query_token(Some("q=cat")), None);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; vx_token=xyz; b=2"),
        );
        assert_eq!(cookie_token(&h), Some("xyz"));
    }
}
