//! `vx ui` over real HTTP: the page, search with thumbnails and moments, files served by
//! number with Range requests for playing from a second, and the guard: no token, a wrong
//! token, a foreign Host header, a path in place of a number, a POST from another origin or
//! without the page's header are each refused. Then the page itself in headless Chromium.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::http::http;
use crate::support::*;
use crate::webdriver::Browser;

/// A running `vx ui`, stopped when dropped (a failed assertion included).
struct UiServer(Child);

impl Drop for UiServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `vx ui --no-open` on any free port: the server, its port and token.
fn start_ui(d: &Daemon) -> (UiServer, u16, String) {
    let mut child = d
        .vx_command(&["ui", "--no-open"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Read on to the end: a closed pipe would end vx at its next line (SIGPIPE).
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let url = line
        .trim()
        .strip_prefix("vx ui: ")
        .unwrap_or_else(|| panic!("{line}"));
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    let (port, token) = rest.split_once("/?token=").unwrap();
    (UiServer(child), port.parse().unwrap(), token.to_string())
}

/// A daemon that has indexed a photo, a face and a video whose words are only spoken (the cat
/// picture with the reading over it, from its fourth second).
fn library(pack: &Pack) -> (Daemon, std::path::PathBuf) {
    let mut d = Daemon::with_models(&pack.models);
    std::fs::copy(pack.media.join("coffee.png"), d.media.join("cup.png")).unwrap();
    std::fs::copy(
        pack.media.join("astronaut.png"),
        d.media.join("portrait.png"),
    )
    .unwrap();
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
        "-af",
        "adelay=4000:all=1,apad=pad_dur=1",
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
    (d, video)
}

#[test]
fn the_page_searches_serves_by_number_and_refuses_strangers() {
    let Some(pack) = pack_with("transcriber") else {
        return;
    };
    let (d, video) = library(&pack);
    let (_ui, port, token) = start_ui(&d);

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
}

/// In a real browser: type a query, see the right thumbnails, play a moment from its second,
/// name a person, reload and keep the query. With VX_UI_SCREENSHOTS=DIR, the main views are
/// saved there (scripts/ui-screenshots.sh makes docs/ui/ this way).
#[test]
fn in_a_browser_a_query_plays_its_moment_and_a_person_is_named() {
    let Some(pack) = pack_with("transcriber") else {
        return;
    };
    let Some(browser) = Browser::start() else {
        return;
    };
    let shots = std::env::var_os("VX_UI_SCREENSHOTS").map(std::path::PathBuf::from);
    let shot = |name: &str| {
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(name), browser.screenshot()).unwrap();
        }
    };
    let (d, _) = library(&pack);
    let (_ui, port, token) = start_ui(&d);
    browser.go(&format!("http://127.0.0.1:{port}/?token={token}"));
    browser.until("the page", "return document.readyState === 'complete'");
    assert_eq!(
        browser.eval("return location.search"),
        "",
        "the token leaves the address once the cookie has it"
    );

    browser.type_into("#q", "dashwood");
    let names = browser.until(
        "results",
        "const n = [...document.querySelectorAll('.card .name')].map(e => e.textContent); \
         return n.length ? n : null",
    );
    assert_eq!(names, serde_json::json!(["clip.mp4"]));
    browser.until(
        "thumbnails",
        "const i = [...document.querySelectorAll('.card img')]; \
         return i.length > 0 && i.every(i => i.complete && i.naturalWidth > 0)",
    );
    assert_eq!(browser.eval("return location.search"), "?q=dashwood");
    shot("results.png");

    // The moment's chip plays the video from the second the words are spoken (about 4 s).
    browser.click(".chip");
    let at = browser.until(
        "the video playing from the moment",
        "const v = document.querySelector('#player video'); \
         return v && v.readyState >= 1 && v.currentTime >= 3.5 ? v.currentTime : null",
    );
    assert!(at.as_f64().unwrap() < 8.0, "{at}");
    browser.until(
        "the transcript in the details",
        "return document.querySelector('#details').textContent.includes('Dashwood')",
    );
    shot("moment.png");

    // Name the person in the portrait.
    browser.click("#show-people");
    browser.until(
        "a face",
        "return document.querySelector('.person img')?.naturalWidth > 0",
    );
    shot("people.png");
    browser.type_into(".person input[type=text]", "Eileen\u{E007}");
    d.eventually(30, "the name to reach vxd", || {
        d.json(&["people"]).to_string().contains("Eileen")
    });

    // Reload: the same query, the same results.
    browser.refresh();
    browser.until(
        "results after reload",
        "return document.querySelectorAll('.card').length",
    );
    assert_eq!(
        browser.eval("return document.querySelector('#q').value"),
        "dashwood"
    );
    d.eventually(30, "the named portrait to be found by its name", || {
        d.json(&["search", "eileen"])
            .to_string()
            .contains("portrait.png")
    });
}

/// `vx search --open N` starts the player at the moment: mpv or VLC when on PATH, else the
/// desktop's opener from the start, saying so. (Stand-ins on PATH record how they were called:
/// no player can run on this headless machine.)
#[test]
fn search_open_starts_the_player_at_the_moment() {
    let Some(pack) = pack_with("transcriber") else {
        return;
    };
    let (d, video) = library(&pack);
    let bin = d.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = d.dir.path().join("calls");
    let stand_in = |name: &str| {
        let p = bin.join(name);
        let script = format!("#!/bin/sh\necho {name} \"$@\" >> {}\n", calls.display());
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    let open = |first: &str| {
        let out = d
            .vx_command(&["search", "dashwood", "--open", first])
            .env("PATH", &bin)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let called = || {
        // The shell creates the file before it writes the line: wait for the whole line.
        d.eventually(10, "the player to be started", || {
            std::fs::read_to_string(&calls).is_ok_and(|c| c.ends_with('\n'))
        });
        let c = std::fs::read_to_string(&calls).unwrap();
        std::fs::remove_file(&calls).unwrap();
        c
    };

    stand_in("xdg-open");
    let (ok, said) = open("1");
    assert!(ok && said.contains("from the start"), "{said}");
    assert_eq!(called().trim(), format!("xdg-open {}", video.display()));

    stand_in("mpv");
    let (ok, said) = open("1");
    assert!(ok && said.contains("at 00:0"), "{said}");
    let call = called();
    let start: f64 = call
        .split("--start=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (3.0..6.0).contains(&start),
        "the spoken name is about 4 s in: {call}"
    );
    assert!(
        call.trim().ends_with(&format!("-- {}", video.display())),
        "{call}"
    );

    let (ok, said) = open("9");
    assert!(!ok && said.contains("found 1 result"), "{said}");
}
