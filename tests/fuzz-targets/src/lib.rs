//! The fuzz targets: each parser of bytes vx did not write itself (or that come from a process
//! that may have gone wrong), behind a function that must
//! return (never panic, never hang) on any input. `fuzz/` runs them under libFuzzer
//! (`scripts/fuzz.sh`, nightly Rust); the tests below replay seeds and thousands of seeded
//! mutations of them on stable Rust in every test run.

use std::path::Path;

/// A request frame as vxd decodes it from a client (tarpc over bincode, the transport's
/// default options), and a response frame as vx decodes it.
pub fn rpc_frame(data: &[u8]) {
    use bincode::Options;
    let options = bincode::DefaultOptions::new();
    // What vxd lets through to tarpc (which panics on deadlines it cannot add).
    if vx_client::connect::deadline_in_range(data) {
        let _ = options.deserialize::<tarpc::ClientMessage<vx_client::VxRequest>>(data);
    }
    let _ = options.deserialize::<tarpc::Response<vx_client::VxResponse>>(data);
}

/// A search query as the text channel parses it (against an empty index made once).
pub fn query(data: &[u8]) {
    static INDEX: std::sync::OnceLock<vx_indexer::textindex::TextIndex> =
        std::sync::OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let index = INDEX.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("vx-fuzz-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        vx_indexer::textindex::TextIndex::open(&dir)
            .expect("an empty index")
            .0
    });
    let request = vx_indexer::search::Query {
        query: text.to_string(),
        limit: 20,
        ..Default::default()
    };
    let _ = index.search(&request);
}

/// Dates on the command line (`--after`, `--before`).
pub fn dates(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = vx_client::dates::parse_date(s);
    }
}

/// QuickTime's ISO 6709 locations.
pub fn iso6709(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data)
        && let Some((lat, lon)) = vx_indexer::geo::iso6709(s)
    {
        assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0, "{s:?}");
    }
}

/// A picture's EXIF (a TIFF structure): GPS, orientation, camera, Live Photo identifier.
pub fn exif(data: &[u8]) {
    let Ok(exif) = exif::Reader::new().read_raw(data.to_vec()) else {
        return;
    };
    if let Some((lat, lon)) = vx_indexer::geo::exif_coordinates(&exif) {
        assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0);
    }
    let _ = vx_indexer::orientation::exif_orientation(&exif);
    let _ = vx_indexer::camera::describe(Some(&exif), Path::new("/p/IMG_0001.HEIC"));
    let _ = vx_indexer::live::apple_content_identifier(&exif);
}

/// An Apple maker note (the Live Photo identifier inside it).
pub fn maker_note(data: &[u8]) {
    let _ = vx_indexer::live::maker_note_identifier(data);
}

/// A video's display matrix (36 bytes of side data).
pub fn display_matrix(data: &[u8]) {
    let mut m = [0i32; 9];
    for (v, b) in m.iter_mut().zip(data.chunks_exact(4)) {
        *v = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    }
    if let Ok(o) = vx_indexer::orientation::display_matrix_orientation(&m) {
        assert!((1..=8).contains(&o));
    }
}

/// A model manifest (models/manifest.toml, or one downloaded with a model pack).
pub fn manifest(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = vx_model_store::Manifest::parse(s);
    }
}

/// vxd's configuration file.
pub fn config(data: &[u8]) {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = vx_daemon::config::Config::parse(s);
    }
}

/// The worker protocol, both ways: a line from the daemon, a line from a worker (which may be
/// a worker gone wrong).
pub fn worker_protocol(data: &[u8]) {
    let _ = serde_json::from_slice::<vx_daemon::worker_protocol::Request>(data);
    let _ = serde_json::from_slice::<vx_daemon::worker_protocol::Response>(data);
}

/// A ggml Whisper model quantised to q8 (a downloaded or converted file).
pub fn q8(data: &[u8]) {
    let _ = vx_model_store::whisper_q8::quantize(data);
}

/// A fuzz target: takes any bytes, returns.
pub type Target = fn(&[u8]);

/// Every target by name, for the replay test.
pub const TARGETS: &[(&str, Target)] = &[
    ("rpc_frame", rpc_frame),
    ("query", query),
    ("dates", dates),
    ("iso6709", iso6709),
    ("exif", exif),
    ("maker_note", maker_note),
    ("display_matrix", display_matrix),
    ("manifest", manifest),
    ("config", config),
    ("worker_protocol", worker_protocol),
    ("q8", q8),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid inputs to start from, per target.
    fn seeds(target: &str) -> Vec<Vec<u8>> {
        let text = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect();
        match target {
            "query" => text(&[
                "dog on beach",
                "\"quarterly budget\" -draft",
                "café 2023 rome",
                "a AND (b OR c)",
            ]),
            "dates" => text(&["2024", "2024-07", "2024-07-14", "2024-07-14T10:00:00+02:00"]),
            "iso6709" => text(&[
                "+41.8902+012.4922+020.000/",
                "-33.8688+151.2093/",
                "+90-180/",
            ]),
            "manifest" => vec![include_bytes!("../../../models/manifest.toml").to_vec()],
            "config" => vec![vx_daemon::config::DEFAULT_CONFIG.as_bytes().to_vec()],
            "worker_protocol" => text(&[
                r#"{"path":[47,120],"hash_hex":"00ff","wanted":[["tags",2]],"spare_threads":1}"#,
                r#"{"Decoded":{"media_seconds":3.5}}"#,
                r#"{"Corrupt":"damaged JPEG"}"#,
            ]),
            "display_matrix" => {
                // A quarter turn: 0 1 0 / -1 0 0 / 0 0 1 in 16.16 and 2.30 fixed point.
                let m: [i32; 9] = [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30];
                vec![m.iter().flat_map(|v| v.to_ne_bytes()).collect()]
            }
            "exif" => vec![tiff_with_gps()],
            "maker_note" => {
                let mut n = b"Apple iOS\0\0\x01MM\0\x01\0\x11\0\x02\0\0\0\x04abc\0".to_vec();
                n.extend_from_slice(&[0; 8]);
                vec![n]
            }
            "rpc_frame" => {
                use bincode::Options;
                let hello = tarpc::ClientMessage::Request(tarpc::Request {
                    context: tarpc::context::current(),
                    id: 7,
                    message: vx_client::VxRequest::Hello { client_protocol: 6 },
                });
                vec![bincode::DefaultOptions::new().serialize(&hello).unwrap()]
            }
            _ => vec![Vec::new()],
        }
    }

    /// A little-endian TIFF with an IFD0 pointing to a GPS IFD (Rome).
    fn tiff_with_gps() -> Vec<u8> {
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        // IFD0: one entry, GPSInfo (0x8825) -> offset 26.
        t.extend_from_slice(&[1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0]);
        // GPS IFD at 26: LatitudeRef N, Latitude 41/1 53/1 0/1, LongitudeRef E, Longitude 12/1.
        let entries: [(u16, u16, u32, u32); 4] = [
            (1, 2, 2, u32::from_le_bytes(*b"N\0\0\0")),
            (2, 5, 3, 80),
            (3, 2, 2, u32::from_le_bytes(*b"E\0\0\0")),
            (4, 5, 3, 104),
        ];
        t.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, ty, n, v) in entries {
            t.extend_from_slice(&tag.to_le_bytes());
            t.extend_from_slice(&ty.to_le_bytes());
            t.extend_from_slice(&n.to_le_bytes());
            t.extend_from_slice(&v.to_le_bytes());
        }
        t.extend_from_slice(&[0; 4]);
        t.resize(80, 0);
        for (num, den) in [(41u32, 1u32), (53, 1), (0, 1), (12, 1), (29, 1), (0, 1)] {
            t.extend_from_slice(&num.to_le_bytes());
            t.extend_from_slice(&den.to_le_bytes());
        }
        t
    }

    /// splitmix64.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A seed with a few bytes flipped, cut, duplicated or set to extremes.
    fn mutate(seed: &[u8], state: &mut u64) -> Vec<u8> {
        let mut v = seed.to_vec();
        for _ in 0..1 + next(state) % 4 {
            let at = |state: &mut u64, len: usize| (next(state) as usize) % len.max(1);
            match next(state) % 6 {
                0 if !v.is_empty() => {
                    let i = at(state, v.len());
                    v[i] ^= 1 << (next(state) % 8);
                }
                1 if !v.is_empty() => {
                    let i = at(state, v.len());
                    v[i] = [0, 0xff, 0x7f, 0x80][(next(state) % 4) as usize];
                }
                2 => v.truncate(at(state, v.len() + 1)),
                3 if !v.is_empty() => {
                    let (a, b) = (at(state, v.len()), at(state, v.len()));
                    let chunk = v[a.min(b)..a.max(b)].to_vec();
                    let i = at(state, v.len());
                    v.splice(i..i, chunk);
                }
                4 => v.insert(at(state, v.len() + 1), next(state) as u8),
                _ => v.extend((0..next(state) % 16).map(|_| next(state) as u8)),
            }
        }
        v
    }

    #[test]
    fn every_target_survives_its_seeds_and_their_mutations() {
        for (name, target) in TARGETS {
            let mut state = 0x5eed;
            for seed in seeds(name) {
                target(&seed);
                for _ in 0..3000 {
                    target(&mutate(&seed, &mut state));
                }
            }
            // And plain noise.
            for len in 0..200 {
                let noise: Vec<u8> = (0..len).map(|_| next(&mut state) as u8).collect();
                target(&noise);
            }
        }
    }

    #[test]
    fn found_by_fuzzing() {
        // A request whose deadline overflows an Instant: tarpc 0.38 panics reading it.
        rpc_frame(&[0, 253, 101, 236, 3, 112, 252, 238, 204, 253, 0]);
        assert!(!vx_client::connect::deadline_in_range(&[
            0, 253, 101, 236, 3, 112, 252, 238, 204, 253, 0
        ]));
        assert!(vx_client::connect::deadline_in_range(
            &seeds("rpc_frame")[0]
        ));
    }

    #[test]
    fn the_seeds_are_what_the_parsers_accept() {
        assert!(vx_client::dates::parse_date("2024-07-14").is_ok());
        let exif = exif::Reader::new().read_raw(tiff_with_gps()).unwrap();
        let (lat, lon) = vx_indexer::geo::exif_coordinates(&exif).unwrap();
        assert!((lat - 41.8833).abs() < 1e-3 && (lon - 12.4833).abs() < 1e-3);
        assert_eq!(
            vx_indexer::live::maker_note_identifier(&seeds("maker_note")[0]).as_deref(),
            Some("abc")
        );
    }
}
