//! Import and fetch with small files, fetch against a real HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use vx_model_store::{FetchEvent, Manifest, ModelState, check_model, fetch, import, sha256_file};

/// Files of a small fake pack: (path, content).
fn pack_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "a/alpha.onnx",
            (0..300_000u32).map(|i| (i % 251) as u8).collect(),
        ),
        ("a/labels.txt", b"cat\ndog\n".to_vec()),
        ("b/beta.bin", vec![7u8; 1000]),
    ]
}

fn manifest(files: &[(&str, Vec<u8>)]) -> Manifest {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (model, range) in [("alpha", 0..2), ("beta", 2..3)] {
        text += &format!(
            "[[model]]\nname = \"{model}\"\nextractor = \"{model}-x\"\ntask = \"t\"\nlicence = \"MIT\"\norigin = \"test\"\n"
        );
        for (path, content) in &files[range] {
            let p = tmp.path().join("f");
            std::fs::write(&p, content).unwrap();
            text += &format!(
                "[[model.file]]\npath = \"{path}\"\nsha256 = \"{}\"\nsize = {}\n",
                sha256_file(&p).unwrap(),
                content.len()
            );
        }
    }
    Manifest::parse(&text).unwrap()
}

fn write_pack(dir: &Path, files: &[(&str, Vec<u8>)]) {
    for (path, content) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

#[test]
fn import_checks_every_hash_and_keeps_good_models() {
    let files = pack_files();
    let m = manifest(&files);
    let src = tempfile::tempdir().unwrap();
    let dest = tempfile::tempdir().unwrap();
    write_pack(src.path(), &files);
    // beta is damaged in the source.
    std::fs::write(src.path().join("b/beta.bin"), vec![8u8; 1000]).unwrap();
    let out = import(src.path(), dest.path(), &m.models);
    assert!(matches!(out[0].1, Ok(true)));
    let err = out[1].1.as_ref().unwrap_err().to_string();
    assert!(err.contains("sha256"), "{err}");
    assert_eq!(
        check_model(dest.path(), &m.models[0], true),
        ModelState::Verified
    );
    assert!(matches!(
        check_model(dest.path(), &m.models[1], false),
        ModelState::Missing(_)
    ));
    assert!(
        !dest.path().join("b/beta.bin").exists() && !dest.path().join("b/beta.bin.part").exists()
    );
    // Again: nothing to do for alpha.
    assert!(matches!(
        import(src.path(), dest.path(), &m.models)[0].1,
        Ok(false)
    ));
    // A truncated file is corrupt by size without hashing.
    std::fs::write(dest.path().join("a/labels.txt"), b"cat\n").unwrap();
    assert!(matches!(
        check_model(dest.path(), &m.models[0], false),
        ModelState::Corrupt(_)
    ));
}

/// A minimal HTTP/1.1 file server with Range support. When `cut_once` is set, the first
/// response for alpha.onnx stops half-way (a dropped connection).
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(root: &Path, cut_once: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let root = root.to_path_buf();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let cuts = Arc::new(AtomicUsize::new(usize::from(cut_once)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut range: Option<u64> = None;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse().ok();
                }
            }
            log.lock().unwrap().push(format!("{path} {range:?}"));
            let Ok(mut body) = std::fs::read(root.join(path.trim_start_matches('/'))) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            let full = body.len();
            let head = match range {
                Some(from) => {
                    body.drain(..from as usize);
                    format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{full}\r\n",
                        full - 1
                    )
                }
                None => "HTTP/1.1 200 OK\r\n".to_string(),
            };
            let _ = stream.write_all(
                format!(
                    "{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            if path.ends_with("alpha.onnx") && cuts.load(Ordering::SeqCst) > 0 {
                cuts.fetch_sub(1, Ordering::SeqCst);
                let _ = stream.write_all(&body[..body.len() / 2]);
                continue; // dropped: the client sees a short body
            }
            let _ = stream.write_all(&body);
        }
    });
    Server { url, requests }
}

#[test]
fn fetch_resumes_after_a_dropped_connection_and_verifies() {
    let files = pack_files();
    let m = manifest(&files);
    let mirror = tempfile::tempdir().unwrap();
    write_pack(mirror.path(), &files);
    let server = serve(mirror.path(), true);
    let dest = tempfile::tempdir().unwrap();

    let mut bytes = 0u64;
    let first = fetch(&server.url, dest.path(), &m.models, &mut |e| {
        if let FetchEvent::Bytes(n) = e {
            bytes += n
        }
    });
    let err = first[0].1.as_ref().unwrap_err().to_string();
    assert!(err.contains("resume") || err.contains("bytes"), "{err}");
    assert!(matches!(first[1].1, Ok(true)), "beta is unaffected");
    assert!(
        !dest.path().join("a/alpha.onnx").exists(),
        "nothing half-written in place"
    );
    assert!(dest.path().join("a/alpha.onnx.part").exists());

    let second = fetch(&server.url, dest.path(), &m.models, &mut |_| {});
    assert!(matches!(second[0].1, Ok(true)), "{:?}", second[0].1);
    assert!(matches!(second[1].1, Ok(false)), "already verified");
    assert_eq!(
        check_model(dest.path(), &m.models[0], true),
        ModelState::Verified
    );
    let log = server.requests.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|r| r.starts_with("/a/alpha.onnx Some(150000)")),
        "resumed with Range: {log:?}"
    );
    assert!(bytes >= 150_000);
}

#[test]
fn fetch_refuses_a_wrong_file_and_a_missing_one() {
    let files = pack_files();
    let m = manifest(&files);
    let mirror = tempfile::tempdir().unwrap();
    write_pack(mirror.path(), &files);
    std::fs::write(mirror.path().join("a/labels.txt"), b"cow\ndog\n").unwrap();
    std::fs::remove_file(mirror.path().join("b/beta.bin")).unwrap();
    let server = serve(mirror.path(), false);
    let dest = tempfile::tempdir().unwrap();
    let out = fetch(&server.url, dest.path(), &m.models, &mut |_| {});
    assert!(
        out[0]
            .1
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("sha256")
    );
    assert!(out[1].1.as_ref().unwrap_err().to_string().contains("404"));
    assert!(
        !dest.path().join("a/labels.txt").exists()
            && !dest.path().join("a/labels.txt.part").exists()
    );
    let mut rest = Vec::new();
    std::fs::File::open(dest.path().join("a/alpha.onnx"))
        .unwrap()
        .read_to_end(&mut rest)
        .unwrap();
    assert_eq!(rest, files[0].1, "the good file of the model is kept");
}
