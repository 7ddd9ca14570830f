//! `vx models` on the real model pack: list, verify, import; status names what is missing.

use std::path::PathBuf;

use crate::support::*;

fn pack() -> Option<PathBuf> {
    let pack = std::env::var_os("VX_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/models"));
    if pack.join("SHA256SUMS").is_file() {
        Some(pack)
    } else {
        eprintln!(
            "skipped: no model pack at {} (scripts/test.sh sets VX_MODELS_DIR)",
            pack.display()
        );
        None
    }
}

#[test]
fn import_verify_and_report_models() {
    let Some(pack) = pack() else { return };
    let mut d = Daemon::new();
    // Without models: every model extractor says what is missing.
    let listed = d.json(&["models"]);
    assert!(
        listed["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "missing")
    );

    let out = d.ok(&["models", "import", pack.to_str().unwrap()]);
    assert!(
        out.contains("tagger") && out.contains("copied and verified"),
        "{out}"
    );
    let verified = d.json(&["models", "verify"]);
    let models = verified["models"].as_array().unwrap();
    assert!(
        models
            .iter()
            .filter(|m| m["extractor"] != "visual")
            .all(|m| m["state"] == "verified"),
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
    let out = d.ok(&["models", "import", pack.to_str().unwrap()]);
    assert!(
        out.contains("detector       copied") && out.contains("tagger         already verified"),
        "{out}"
    );
}
