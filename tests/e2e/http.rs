//! A plain HTTP/1.1 client for the tests of `vx ui` and for driving the browser over
//! WebDriver: one request per connection, the reply whole.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }
}

/// One HTTP/1.1 request as written, `headers` each ending in CRLF.
pub fn http(port: u16, method: &str, target: &str, headers: &str, body: &str) -> Reply {
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
    // Some servers (chromedriver) keep the connection open: read what the headers announce.
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let (split, head) = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (at, String::from_utf8_lossy(&raw[..at]).into_owned());
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed before the headers ended");
        raw.extend_from_slice(&buf[..n]);
    };
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
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let chunked = find("transfer-encoding").is_some_and(|v| v == "chunked");
    let length: Option<usize> = find("content-length").and_then(|v| v.parse().ok());
    let mut body = raw[split + 4..].to_vec();
    loop {
        let complete = match (chunked, length) {
            (true, _) => body.ends_with(b"0\r\n\r\n"),
            (false, Some(n)) => body.len() >= n,
            (false, None) => false,
        };
        if complete || method == "HEAD" {
            break;
        }
        match s.read(&mut buf).unwrap() {
            0 => break,
            n => body.extend_from_slice(&buf[..n]),
        }
    }
    if chunked {
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
