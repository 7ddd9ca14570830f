//! Shared by the real-model tests: the pack, the sample media, decoding them.

#![allow(dead_code)]

use std::path::PathBuf;

use vx_models::{RgbImage, Runtime, RuntimeOptions};

/// The model pack or store, with the sample media beside it: None after the test was skipped at
/// the caller's request (see vx_testkit); without either, the test fails saying what is missing.
pub fn pack() -> Option<PathBuf> {
    let pack = vx_testkit::models_dir()?;
    vx_testkit::media_dir()?;
    Some(pack)
}

/// The pack when it holds the model `name`, which a store built from packages may lack.
pub fn pack_with(name: &str) -> Option<PathBuf> {
    vx_testkit::media_dir()?;
    vx_testkit::model(name)
}

pub fn runtime() -> std::sync::Arc<Runtime> {
    Runtime::get(&RuntimeOptions::default()).expect("ONNX Runtime (scripts/setup.sh installs it)")
}

/// A sample media file; call after [`pack`], which checked that the media are there.
pub fn media(name: &str) -> PathBuf {
    vx_testkit::media(name).expect("sample media (checked by pack())")
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
