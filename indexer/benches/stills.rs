//! Still decoding per format, against the reference command-line decoders on the same files in
//! the same run (scripts/bench-camera.sh prepares the media): JPEG (mozjpeg), HEIC (libheif)
//! against `heif-convert`, camera RAW through its preview and through half-size demosaicing
//! against LibRaw's own `simple_dcraw -e` and `dcraw_emu -h`. Medians of several runs, in ms
//! per photo; vx's figure includes scaling to the models' 1,280-pixel side.
//!
//!   VX_BENCH_STILLS=DIR cargo bench -p vx-indexer --bench stills
//! DIR holds jpeg/, heic/, cr2/ and dng/ folders of photos.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vx_indexer::decode::{DecodePolicy, decode};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// Median over `runs` of the mean time per file of `f`, in ms.
fn per_file(files: &[PathBuf], runs: usize, mut f: impl FnMut(&Path)) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                for p in files {
                    f(p);
                }
                t.elapsed().as_secs_f64() * 1000.0 / files.len() as f64
            })
            .collect(),
    )
}

fn cli(cmd: &str, args: &[&str]) {
    let ok = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
        .status
        .success();
    assert!(ok, "{cmd} {args:?} failed");
}

fn main() {
    let dir = PathBuf::from(std::env::var("VX_BENCH_STILLS").expect("VX_BENCH_STILLS"));
    let runs: usize = std::env::var("VX_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let out = tempfile::tempdir().unwrap();
    let policy = DecodePolicy::default();
    let vx = |p: &Path| {
        decode(p, &policy).expect("decodes");
    };
    println!("ms per photo, median of {runs} runs:");
    let jpeg = files(&dir.join("jpeg"));
    let vx_jpeg = per_file(&jpeg, runs, vx);
    println!("  JPEG  vx {vx_jpeg:7.1}");

    let heic = files(&dir.join("heic"));
    let vx_heic = per_file(&heic, runs, vx);
    let y4m = out.path().join("x.y4m");
    let cli_heic = per_file(&heic, runs, |p| {
        cli(
            "heif-convert",
            &[p.to_str().unwrap(), y4m.to_str().unwrap()],
        )
    });
    println!(
        "  HEIC  vx {vx_heic:7.1}   heif-convert (to Y4M) {cli_heic:7.1}   ratio {:.2}; {:.2}x the JPEG path",
        vx_heic / cli_heic,
        vx_heic / vx_jpeg
    );

    let cr2 = files(&dir.join("cr2"));
    let vx_cr2 = per_file(&cr2, runs, vx);
    // simple_dcraw writes the preview beside its input: it reads copies in the scratch folder.
    let copies: Vec<PathBuf> = cr2
        .iter()
        .map(|p| {
            let copy = out.path().join(p.file_name().unwrap());
            std::fs::copy(p, &copy).unwrap();
            copy
        })
        .collect();
    let cli_cr2 = per_file(&copies, runs, |p| {
        cli("simple_dcraw", &["-e", p.to_str().unwrap()])
    });
    println!(
        "  CR2 (embedded preview)  vx {vx_cr2:7.1}   simple_dcraw -e (extract only) {cli_cr2:7.1}   ratio {:.2}",
        vx_cr2 / cli_cr2
    );

    let dng = files(&dir.join("dng"));
    let vx_dng = per_file(&dng, runs, vx);
    let cli_dng = per_file(&dng, runs, |p| {
        cli("dcraw_emu", &["-h", "-w", "-Z", "-", p.to_str().unwrap()])
    });
    println!(
        "  DNG (no preview, half-size demosaic)  vx {vx_dng:7.1}   dcraw_emu -h -w {cli_dng:7.1}   ratio {:.2}",
        vx_dng / cli_dng
    );
}
