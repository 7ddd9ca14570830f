//! whisper_q8 against ggml's own q8_0 (`ggml_quantize_chunk`, which whisper.cpp's `quantize`
//! tool calls): the same bytes for every block, on varied values and on the real tiny.en.

use vx_model_store::whisper_q8::quantize;
use whisper_rs_sys as ggml;

const BLOCK_BYTES: usize = 34;

/// ggml's q8_0 of `rows` rows of `f16` values (little-endian), `per_row` each.
fn ggml_q8_0(f16: &[u8], per_row: usize) -> Vec<u8> {
    let n = f16.len() / 2;
    let (mut f32s, mut out) = (vec![0f32; n], vec![0u8; n / 32 * BLOCK_BYTES]);
    // SAFETY: `f16` holds n halves and `f32s` n floats; `out` has room for n/32 blocks, which
    // is what ggml writes for n values.
    let written = unsafe {
        ggml::ggml_fp16_to_fp32_row(f16.as_ptr().cast(), f32s.as_mut_ptr(), n as i64);
        ggml::ggml_quantize_chunk(
            ggml::ggml_type_GGML_TYPE_Q8_0,
            f32s.as_ptr(),
            out.as_mut_ptr().cast(),
            0,
            (n / per_row) as i64,
            per_row as i64,
            std::ptr::null(),
        )
    };
    assert_eq!(written, out.len());
    out
}

/// A one-matrix ggml file (whisper.cpp layout, no mel filters or tokens) around `f16`.
fn one_matrix(f16: &[u8], per_row: usize) -> Vec<u8> {
    let mut f = 0x6767_6d6cu32.to_le_bytes().to_vec();
    let ints = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 1, 1];
    let ints = [
        &ints[..],
        &[per_row as i32, (f16.len() / 2 / per_row) as i32],
    ]
    .concat();
    ints.iter()
        .for_each(|v| f.extend_from_slice(&v.to_le_bytes()));
    f.push(b'w');
    f.extend_from_slice(f16);
    f
}

#[test]
fn blocks_match_ggml_on_varied_values() {
    // Halves of every exponent, subnormals included, in blocks whose largest value ranges
    // from 2^-24 to 65504 (so scales are subnormal, normal and everything between).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut halves = Vec::new();
    for block in 0..4096 {
        let top_exponent = block % 31;
        for _ in 0..32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let exponent = (seed >> 20) as u16 % (top_exponent as u16 + 1);
            let h = ((seed >> 32) as u16 & 0x83ff) | (exponent << 10);
            halves.extend_from_slice(&h.to_le_bytes());
        }
    }
    halves[..64].fill(0); // an all-zero block: scale 0
    let per_row = 256;
    let file = one_matrix(&halves, per_row);
    let ours = quantize(&file).unwrap();
    let header = 4 + 11 * 4 + 8 + 4 + 5 * 4 + 1;
    let reference = ggml_q8_0(&halves, per_row);
    assert_eq!(ours.len(), header + reference.len());
    for (i, (a, b)) in ours[header..]
        .chunks(BLOCK_BYTES)
        .zip(reference.chunks(BLOCK_BYTES))
        .enumerate()
    {
        assert_eq!(a, b, "block {i}");
    }
}

#[test]
fn tiny_en_quantises_as_ggml_does() {
    let Some(pack) = vx_testkit::model("transcriber") else {
        return;
    };
    let f16 = std::fs::read(pack.join("whisper/ggml-tiny.en.bin")).unwrap();
    let ours = quantize(&f16).unwrap();
    assert!(
        ours.len() < f16.len() * 6 / 10,
        "{} of {} bytes",
        ours.len(),
        f16.len()
    );
    // Walk both files' tensors: each matrix's blocks must equal ggml's of the f16 data.
    let tensors = |b: &[u8]| -> Vec<(String, i32, Vec<usize>, std::ops::Range<usize>)> {
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let mut at = 48;
        at += 8 + 4 * (i32_at(48) * i32_at(52)) as usize;
        let tokens = i32_at(at);
        at += 4;
        for _ in 0..tokens {
            at += 4 + i32_at(at) as usize;
        }
        let mut out = Vec::new();
        while at < b.len() {
            let (dims, name_len, ttype) =
                (i32_at(at) as usize, i32_at(at + 4) as usize, i32_at(at + 8));
            let shape: Vec<usize> = (0..dims)
                .map(|d| i32_at(at + 12 + 4 * d) as usize)
                .collect();
            at += 12 + 4 * dims;
            let name = String::from_utf8_lossy(&b[at..at + name_len]).into_owned();
            at += name_len;
            let n: usize = shape.iter().product();
            let size = match ttype {
                0 => 4 * n,
                1 => 2 * n,
                8 => n / 32 * BLOCK_BYTES,
                t => panic!("type {t}"),
            };
            out.push((name, ttype, shape, at..at + size));
            at += size;
        }
        out
    };
    let (src, dst) = (tensors(&f16), tensors(&ours));
    assert_eq!(src.len(), dst.len());
    let mut quantised = 0;
    for ((name, ttype, shape, from), (name2, ttype2, shape2, to)) in src.into_iter().zip(dst) {
        assert_eq!((&name, &shape), (&name2, &shape2));
        if ttype2 == 8 {
            assert_eq!(ttype, 1, "{name}");
            assert!(
                ours[to.clone()] == ggml_q8_0(&f16[from], shape[0])[..],
                "{name}"
            );
            quantised += 1;
        } else {
            assert_eq!(ttype, ttype2, "{name}");
            assert_eq!(f16[from], ours[to], "{name} kept as it was");
        }
    }
    // Every attention and MLP matrix of 4+4 layers (cross-attention too) and the token embedding.
    assert_eq!(quantised, 4 * 6 + 4 * 10 + 1);
}
