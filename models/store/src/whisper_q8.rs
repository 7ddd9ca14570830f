//! Whisper's weight matrices as 8-bit (ggml's q8_0: blocks of 32 values sharing one f16
//! scale), made in memory from the model's f16 ggml file each time it is loaded.
//!
//! whisper.cpp's tiny.en spends most of its time in matrix products; with q8_0 weights they
//! run through int8 kernels, faster with the same words on the sample clips
//! (docs/benchmarks.md). The stored file stays as verified. The blocks are byte for byte those
//! of ggml's `quantize_row_q8_0_ref`, which whisper.cpp's `quantize` tool uses (tests/q8.rs
//! compares them), computed here in a loop that vectorises: ggml's takes 0.28 s for tiny.en.

use std::borrow::Cow;

use crate::bytes::Reader;
use crate::half::{f16_to_f32, f32_to_f16};

const GGML_MAGIC: u32 = 0x6767_6d6c;
const TYPE_F16: i32 = 1;
const TYPE_Q8_0: i32 = 8;
/// whisper.cpp's hparams ftype: ggml's quantisation version times 1000 plus the file type.
const FTYPE_F16: i32 = 1;
const FTYPE_Q8_0: i32 = 2 * 1000 + 7;
const BLOCK: usize = 32;
const BLOCK_BYTES: usize = 2 + BLOCK;
/// The 2-D tensors whisper.cpp keeps in full precision (its `quantize` tool skips them too).
const KEEP: [&str; 2] = [
    "encoder.positional_embedding",
    "decoder.positional_embedding",
];

/// C's `roundf` (halves away from zero) of a block value, |x| <= 127 (larger is clamped).
#[inline(always)]
fn round_half_away(x: f32) -> i8 {
    let a = x.abs().min(127.0);
    // SAFETY: `a` is in 0..=127 (`min` also turns NaN into 127), so it fits an i32.
    let whole: i32 = unsafe { a.to_int_unchecked() };
    let r = whole + i32::from(a - whole as f32 >= 0.5);
    (if x < 0.0 { -r } else { r }) as i8
}

/// One q8_0 block from 32 little-endian f16 values.
#[inline(always)]
fn quantize_block(f16: &[u8], out: &mut [u8]) {
    let mut h = [0u16; BLOCK];
    for (v, b) in h.iter_mut().zip(f16.chunks_exact(2)) {
        *v = u16::from_le_bytes([b[0], b[1]]);
    }
    // The largest magnitude, found on the bits: for finite halves their order is the values'.
    let amax = f16_to_f32(h.iter().map(|v| v & 0x7fff).max().unwrap_or(0));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    out[..2].copy_from_slice(&f32_to_f16(d).to_le_bytes());
    for (q, v) in out[2..].iter_mut().zip(h) {
        *q = round_half_away(f16_to_f32(v) * id) as u8;
    }
}

fn quantize_blocks(f16: &[u8], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2.
        return unsafe { quantize_blocks_avx2(f16, out) };
    }
    quantize_blocks_portable(f16, out);
}

/// The same loop compiled for AVX2: 0.08 s for tiny.en, against 0.11 s with the baseline SSE2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn quantize_blocks_avx2(f16: &[u8], out: &mut [u8]) {
    quantize_blocks_portable(f16, out);
}

#[inline(always)]
fn quantize_blocks_portable(f16: &[u8], out: &mut [u8]) {
    for (src, dst) in f16
        .chunks_exact(2 * BLOCK)
        .zip(out.chunks_exact_mut(BLOCK_BYTES))
    {
        quantize_block(src, dst);
    }
}

/// The ggml file `f16` with its weight matrices in q8_0. A file that is not f16 (already
/// quantised, or f32) is returned as it is.
pub fn quantize(f16: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let mut r = Reader::new(f16);
    if r.i32()? as u32 != GGML_MAGIC {
        return Err("not a ggml Whisper file (bad magic)".into());
    }
    let mut hparams = [0i32; 11];
    for h in &mut hparams {
        *h = r.i32()?;
    }
    if hparams[10] != FTYPE_F16 {
        return Ok(Cow::Borrowed(f16));
    }
    let (n_mels, n_fft) = (r.count()?, r.count()?);
    r.take(
        n_mels
            .checked_mul(n_fft)
            .and_then(|n| n.checked_mul(4))
            .ok_or("mel filters of impossible size")?,
    )?;
    for _ in 0..r.count()? {
        let len = r.count()?;
        r.take(len)?;
    }
    let mut out = Vec::with_capacity(f16.len() * 6 / 10);
    out.extend_from_slice(&f16[..4]);
    hparams[10] = FTYPE_Q8_0;
    for h in hparams {
        out.extend_from_slice(&h.to_le_bytes());
    }
    out.extend_from_slice(&f16[48..r.at]);
    while !r.is_done() {
        let start = r.at;
        let (n_dims, name_len, ttype) = (r.count()?, r.count()?, r.i32()?);
        let dims = (0..n_dims)
            .map(|_| r.count())
            .collect::<Result<Vec<_>, _>>()?;
        let name = String::from_utf8_lossy(r.take(name_len)?).into_owned();
        let width: usize = if ttype == TYPE_F16 { 2 } else { 4 };
        let bytes = dims
            .iter()
            .try_fold(width, |n, d| n.checked_mul(*d))
            .ok_or_else(|| format!("tensor {name}: impossible shape {dims:?}"))?;
        let data = r.take(bytes)?;
        // Vectors, f32 tensors (the convolutions' biases) and the embeddings above stay.
        if n_dims != 2 || ttype != TYPE_F16 || KEEP.contains(&name.as_str()) {
            out.extend_from_slice(&f16[start..r.at]);
            continue;
        }
        if dims[0] % BLOCK != 0 {
            return Err(format!(
                "tensor {name}: {} columns, not whole blocks of {BLOCK}",
                dims[0]
            ));
        }
        // The same header with the q8_0 type, then the blocks.
        let header_end = r.at - data.len();
        out.extend_from_slice(&f16[start..start + 8]);
        out.extend_from_slice(&TYPE_Q8_0.to_le_bytes());
        out.extend_from_slice(&f16[start + 12..header_end]);
        let at = out.len();
        out.resize(at + data.len() / (2 * BLOCK) * BLOCK_BYTES, 0);
        quantize_blocks(data, &mut out[at..]);
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(name: &str, dims: &[i32], ttype: i32, data: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        for v in [dims.len() as i32, name.len() as i32, ttype] {
            t.extend_from_slice(&v.to_le_bytes());
        }
        for d in dims {
            t.extend_from_slice(&d.to_le_bytes());
        }
        t.extend_from_slice(name.as_bytes());
        t.extend_from_slice(data);
        t
    }

    /// A tiny file in whisper.cpp's layout: hparams, 1x2 mel filters, two tokens, then tensors.
    pub(crate) fn file(ftype: i32, tensors: &[Vec<u8>]) -> Vec<u8> {
        let mut f = GGML_MAGIC.to_le_bytes().to_vec();
        for h in [10, 2, 3, 4, 5, 6, 7, 8, 9, 1, ftype] {
            f.extend_from_slice(&h.to_le_bytes());
        }
        for v in [1i32, 2] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&[0u8; 8]);
        f.extend_from_slice(&2i32.to_le_bytes());
        for tok in ["a", "bc"] {
            f.extend_from_slice(&(tok.len() as i32).to_le_bytes());
            f.extend_from_slice(tok.as_bytes());
        }
        tensors.iter().for_each(|t| f.extend_from_slice(t));
        f
    }

    #[test]
    fn rounding_is_c_roundf() {
        for (x, q) in [
            (0.5, 1),
            (-0.5, -1),
            (0.49999997, 0),
            (1.5, 2),
            (2.5, 3),
            (-126.5, -127),
            (f32::NAN, 127),
        ] {
            assert_eq!(round_half_away(x), q, "{x}");
        }
        assert_eq!(round_half_away(127.00001), 127);
    }

    #[test]
    fn matrices_become_q8_0_blocks_and_the_rest_is_kept() {
        // A 64x2 matrix: four blocks of -4..4 in various steps.
        let values: Vec<f32> = (0..128).map(|i| ((i % 33) as f32 - 16.0) / 4.0).collect();
        let half = |v: &[f32]| -> Vec<u8> {
            v.iter()
                .flat_map(|v| f32_to_f16(*v).to_le_bytes())
                .collect()
        };
        let bias: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let kept = [
            tensor("encoder.blocks.0.mlp.0.bias", &[2], 0, &bias),
            tensor(
                "decoder.positional_embedding",
                &[32, 2],
                TYPE_F16,
                &half(&values[..64]),
            ),
        ];
        let name = "encoder.blocks.0.mlp.0.weight";
        let matrix = tensor(name, &[64, 2], TYPE_F16, &half(&values));
        let whole = file(
            FTYPE_F16,
            &[kept[0].clone(), matrix.clone(), kept[1].clone()],
        );
        let q = quantize(&whole).unwrap();

        let src = file(FTYPE_F16, &[]);
        assert_eq!(&q[..44], &src[..44], "magic and hparams up to ftype");
        assert_eq!(
            i32::from_le_bytes(q[44..48].try_into().unwrap()),
            FTYPE_Q8_0
        );
        assert_eq!(&q[48..src.len()], &src[48..], "mel filters and vocabulary");
        let mut at = src.len();
        assert_eq!(&q[at..at + kept[0].len()], &kept[0][..], "biases stay f32");
        at += kept[0].len();
        let head = 5 * 4 + name.len();
        assert_eq!(&q[at..at + 8], &matrix[..8]);
        assert_eq!(
            i32::from_le_bytes(q[at + 8..at + 12].try_into().unwrap()),
            TYPE_Q8_0
        );
        assert_eq!(&q[at + 12..at + head], &matrix[12..head], "dims and name");
        let blocks = &q[at + head..at + head + 4 * BLOCK_BYTES];
        for (b, chunk) in blocks
            .chunks_exact(BLOCK_BYTES)
            .zip(values.chunks_exact(BLOCK))
        {
            let amax = chunk.iter().fold(0f32, |m, v| m.max(v.abs()));
            let d = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
            assert!(
                (d - amax / 127.0).abs() <= amax / 127.0 / 1024.0,
                "scale {d}"
            );
            let q: Vec<i8> = b[2..].iter().map(|&x| x as i8).collect();
            assert_eq!(q.iter().map(|x| x.unsigned_abs()).max(), Some(127));
            for (&qv, &v) in q.iter().zip(chunk) {
                assert!(
                    (f32::from(qv) * d - v).abs() <= d * 0.51,
                    "{v} became {qv} x {d}"
                );
            }
        }
        at += head + 4 * BLOCK_BYTES;
        assert_eq!(&q[at..], &kept[1][..], "positional embedding stays f16");
    }

    #[test]
    fn other_files_pass_through_and_bad_ones_are_refused() {
        let q8 = file(FTYPE_Q8_0, &[]);
        assert_eq!(quantize(&q8).unwrap(), q8);
        assert!(quantize(b"GGUF....").unwrap_err().contains("bad magic"));
        let mut cut = file(FTYPE_F16, &[tensor("w", &[32, 1], TYPE_F16, &[0; 64])]);
        cut.truncate(cut.len() - 10);
        assert!(quantize(&cut).unwrap_err().contains("truncated"));
        let odd = file(FTYPE_F16, &[tensor("w", &[33, 1], TYPE_F16, &[0; 66])]);
        assert!(quantize(&odd).unwrap_err().contains("whole blocks"));
        let huge = file(FTYPE_F16, &[tensor("w", &[i32::MAX; 3], TYPE_F16, &[])]);
        assert!(quantize(&huge).unwrap_err().contains("impossible shape"));
    }
}
