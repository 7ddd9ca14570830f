//! The first run's demo library (scripts/make-demo-library.sh): the searches scripts/run.sh
//! shows are answered by what is in the files, since their names say nothing.

use std::process::Command;

use crate::support::*;

#[test]
fn the_demo_library_answers_what_no_file_name_could() {
    let Some(pack) = pack() else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/make-demo-library.sh");
    let ok = Command::new(script)
        .arg(&pack.media)
        .arg(&d.media)
        .status()
        .unwrap()
        .success();
    assert!(ok, "make-demo-library.sh failed");
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);
    let name = |p: &String| p.rsplit('/').next().unwrap().to_string();
    let top = |q: &str| -> Vec<String> { d.search(&[q]).iter().take(2).map(name).collect() };
    assert!(
        top("espresso").contains(&"IMG_0001.png".to_string()),
        "{:?}",
        top("espresso")
    );
    let spoken = top("picnic by the river");
    assert!(spoken.contains(&"Memo_002.wav".to_string()), "{spoken:?}");
    assert_eq!(top("segmentation")[0], "Scan_0001.png");
    assert_eq!(top("dashwood")[0], "Recording_001.wav");
}
