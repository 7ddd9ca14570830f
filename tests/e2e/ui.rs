//! `vx ui` over real HTTP: the page, search with thumbnails and moments, files served by
//! number with Range requests for playing from a second, and the guard: no token, a wrong
//! token, a foreign Host header, a path in place of a number, a POST from another origin or
//! without the page's header are each refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::*;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

/// One HTTP/1.1 request as written, `headers` each ending in CRLF.
fn http(port: u16, method: &str, target: &str, headers: &str, body: &str) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let has_host = headers.to_ascii_lowercase().contains("host:");
    let host = if has_host {
        String::new()
    } else {
        format!("Host: 127.0.0.1:{port}\r\n")
    };
    write!(
        s,
        "{method} {target} HTTP/1.1\r\n{host}{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v == "chunked")
    {
        body = unchunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[line_end + 2..line_end + 2 + size]);
        b = &b[line_end + 4 + size..];
    }
}

/// `vx ui --no-open` on any free port: the child, its port and token.
fn start_ui(d: &Daemon) -> (Child, u16, String) {
    let mut child = d
        .vx_command(&["ui", "--no-open"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("vx ui: ")
        .unwrap_or_else(|| panic!("{line}"));
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    let (port, token) = rest.split_once("/?token=").unwrap();
    (child, port.parse().unwrap(), token.to_string())
}

#[test]
fn the_page_searches_serves_by_number_and_refuses_strangers() {
    let Some(pack) = pack_with("transcriber") else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    std::fs::copy(pack.media.join("coffee.png"), d.media.join("cup.png")).unwrap();
    // A video whose words are only spoken: the cat picture with the reading over it.
    let video = d.media.join("clip.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-framerate",
        "5",
        "-i",
        pack.media.join("chelsea.png").to_str().unwrap(),
        "-i",
        pack.media.join("librivox-0870.wav").to_str().unwrap(),
        "-vf",
        "scale=320:-2",
        "-shortest",
        "-g",
        "5",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        video.to_str().unwrap(),
    ]);
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let (mut ui, port, token) = start_ui(&d);

    // The guard.
    assert_eq!(http(port, "GET", "/", "", "").status, 403, "no token");
    assert_eq!(
        http(port, "GET", "/?token=0000", "", "").status,
        403,
        "a wrong token"
    );
    let t = format!("/?token={token}");
    let foreign = format!("Host: evil.example:{port}\r\n");
    assert_eq!(
        http(port, "GET", &t, &foreign, "").status,
        403,
        "DNS rebinding"
    );
    let page = http(port, "GET", &t, "", "");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(page.header("access-control-allow-origin").is_none());
    let cookie = page.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = format!("Cookie: {}\r\n", cookie.split(';').next().unwrap());
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("/app.js") && html.contains(&token),
        "the page carries its token"
    );
    assert_eq!(
        http(port, "GET", "/app.js", &cookie, "").status,
        200,
        "the cookie is enough"
    );
    assert_eq!(
        http(port, "GET", "/app.js", "Cookie: vx_token=00\r\n", "").status,
        403
    );

    // Search: the spoken words find the video, with the moment and a thumbnail to load.
    let found = http(
        port,
        "GET",
        "/api/search?q=dashwood&kind=video",
        &cookie,
        "",
    )
    .json();
    let hits = found["results"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{found}");
    let hit = &hits[0];
    assert_eq!(hit["name"], "clip.mp4");
    let moment = &hit["moments"][0];
    assert!(
        moment["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("dashwood"),
        "{hit}"
    );
    let thumb = hit["thumb"].as_str().unwrap();
    let image = http(port, "GET", thumb, &cookie, "");
    assert_eq!(image.status, 200);
    assert_eq!(image.header("content-type"), Some("image/jpeg"));
    assert_eq!(&image.body[..2], b"\xff\xd8", "a JPEG");

    // The video plays from any second: Range requests.
    let media = hit["media"].as_str().unwrap();
    let size = std::fs::metadata(&video).unwrap().len();
    let part = http(
        port,
        "GET",
        media,
        &format!("{cookie}Range: bytes=100-199\r\n"),
        "",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body, std::fs::read(&video).unwrap()[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{size}").as_str())
    );
    let shown = http(
        port,
        "GET",
        &format!("/api/show/{}", hit["id"]),
        &cookie,
        "",
    )
    .json();
    assert!(
        shown["headings"].to_string().contains("transcript"),
        "{shown}"
    );

    // Nothing but numbers it handed out.
    for target in [
        "/file/99999",
        "/file/..%2F..%2Fetc%2Fpasswd",
        "/file/%2Fetc%2Fpasswd",
        "/file/-1",
    ] {
        assert_eq!(
            http(port, "GET", target, &cookie, "").status,
            404,
            "{target}"
        );
    }
    assert_eq!(
        http(port, "GET", "/../../etc/passwd", &cookie, "").status,
        404
    );

    // Changes: POST from this page only, with the token in its header.
    let name = r#"{"name":"Elinor"}"#;
    let json = "Content-Type: application/json\r\n";
    let with_header = format!("{cookie}{json}X-VX-Token: {token}\r\n");
    let evil = format!("{with_header}Origin: http://evil.example\r\n");
    let refused = http(port, "POST", "/api/people/1/name", &evil, name);
    assert_eq!(refused.status, 403, "a cross-origin POST");
    let refused = http(
        port,
        "POST",
        "/api/people/1/name",
        &format!("{cookie}{json}"),
        name,
    );
    assert_eq!(
        refused.status, 403,
        "a POST with the cookie alone (a form elsewhere)"
    );
    let mine = format!("{with_header}Origin: http://127.0.0.1:{port}\r\n");
    let allowed = http(port, "POST", "/api/people/1/name", &mine, name);
    assert_ne!(
        allowed.status,
        403,
        "{}",
        String::from_utf8_lossy(&allowed.body)
    );
    assert_eq!(
        http(port, "PUT", "/api/people/1/name", &mine, name).status,
        405
    );

    ui.kill().unwrap();
    ui.wait().unwrap();
}
