//! `whisper-ct2-to-ggml`: whisper.cpp's ggml file from a CTranslate2 Whisper model plus the mel
//! filters and GPT-2 tokens of openai-whisper's assets, byte for byte as the model pack's
//! (models/convert/README.md has the layout of both files).

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;

use crate::bytes::Reader;
use crate::half::f16_to_f32;

/// Whisper tiny.en's shape: the hparams header, and the sizes the tensors are split at.
const HPARAMS: [i32; 11] = [51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1];
const STATE: usize = 384;
const LAYERS: usize = 4;
const N_MELS: i32 = 80;
const N_FFT_BINS: i32 = 201;
const GGML_MAGIC: u32 = 0x6767_6d6c;

/// A CTranslate2 variable: shape and raw little-endian data.
struct Var<'a> {
    dims: Vec<usize>,
    data: &'a [u8],
}

/// A CTranslate2 name: u16 length, then the bytes (NUL-terminated).
fn read_name(r: &mut Reader) -> Result<String, String> {
    let n = r.u16()? as usize;
    let raw = r.take(n)?;
    Ok(String::from_utf8_lossy(raw)
        .trim_end_matches('\0')
        .to_string())
}

/// The variables of a CTranslate2 `model.bin` (binary version 6).
fn read_ct2(b: &[u8]) -> Result<HashMap<String, Var<'_>>, String> {
    let mut r = Reader::new(b);
    let version = r.u32()?;
    if version != 6 {
        return Err(format!("CTranslate2 binary version {version}, expected 6"));
    }
    let spec = read_name(&mut r)?;
    if spec != "WhisperSpec" {
        return Err(format!("a {spec} model, not Whisper"));
    }
    r.u32()?;
    let count = r.u32()?;
    let mut vars = HashMap::new();
    for _ in 0..count {
        let name = read_name(&mut r)?;
        let rank = r.u8()? as usize;
        let dims = (0..rank)
            .map(|_| r.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        r.u8()?;
        let size = r.u32()? as usize;
        let data = r.take(size)?;
        vars.insert(name, Var { dims, data });
    }
    Ok(vars)
}

struct Ggml {
    out: Vec<u8>,
}

impl Ggml {
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    /// A tensor of numpy shape `dims` from float16 `data`: kept float16 when it has two or
    /// more dimensions, else widened to float32 (whisper.cpp's convention).
    fn tensor(&mut self, name: &str, dims: &[usize], data: &[u8]) {
        let f16 = dims.len() >= 2 && !name.ends_with(".bias") && !name.contains("positional");
        self.i32(dims.len() as i32);
        self.i32(name.len() as i32);
        self.i32(i32::from(f16));
        for d in dims.iter().rev() {
            self.i32(*d as i32);
        }
        self.out.extend_from_slice(name.as_bytes());
        if f16 {
            self.out.extend_from_slice(data);
        } else {
            for h in data.chunks_exact(2) {
                let v = f16_to_f32(u16::from_le_bytes([h[0], h[1]]));
                self.out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// Rows `a..b` of a float16 variable (row-major), with its shape; an error when the variable
/// has no such rows.
fn rows<'a>(v: &Var<'a>, a: usize, b: usize) -> Result<(Vec<usize>, &'a [u8]), String> {
    let short = || format!("a variable of shape {:?} has no rows {a}..{b}", v.dims);
    let (first, rest) = v.dims.split_first().ok_or_else(short)?;
    let per = rest
        .iter()
        .try_fold(2usize, |n, d| n.checked_mul(*d))
        .ok_or_else(short)?;
    if a > b || b > *first {
        return Err(short());
    }
    let data = v.data.get(a * per..b * per).ok_or_else(short)?;
    let mut dims = v.dims.clone();
    dims[0] = b - a;
    Ok((dims, data))
}

/// Builds the ggml file from `model_bin` and openai-whisper's `assets` folder.
pub(crate) fn convert(model_bin: &Path, assets: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(model_bin).map_err(|e| format!("{}: {e}", model_bin.display()))?;
    let vars = read_ct2(&bytes).map_err(|e| format!("{}: {e}", model_bin.display()))?;
    let var = |name: &str| -> Result<&Var, String> {
        vars.get(name)
            .ok_or_else(|| format!("{name} is not in the CTranslate2 model"))
    };
    let mut g = Ggml { out: Vec::new() };
    g.out.extend_from_slice(&GGML_MAGIC.to_le_bytes());
    for h in HPARAMS {
        g.i32(h);
    }
    g.i32(N_MELS);
    g.i32(N_FFT_BINS);
    g.out.extend_from_slice(&mel_filters(assets)?);
    let tokens = std::fs::read_to_string(assets.join("gpt2.tiktoken"))
        .map_err(|e| format!("gpt2.tiktoken: {e}"))?;
    let tokens: Vec<&str> = tokens
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    g.i32(tokens.len() as i32);
    for t in tokens {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|e| format!("gpt2.tiktoken: {e}"))?;
        g.i32(raw.len() as i32);
        g.out.extend_from_slice(&raw);
    }
    // Copies a variable (or some of its rows) under its OpenAI name.
    let put = |g: &mut Ggml, name: &str, from: &str, span: Option<(usize, usize)>| {
        let v = var(from)?;
        let (dims, data) = match span {
            Some((a, b)) => rows(v, a, b)?,
            None => (v.dims.clone(), v.data),
        };
        let dims = if name.ends_with("conv1.bias") || name.ends_with("conv2.bias") {
            vec![*dims.first().ok_or(format!("{from} has no shape"))?, 1]
        } else {
            dims
        };
        g.tensor(name, &dims, data);
        Ok::<(), String>(())
    };
    let s = STATE;
    for conv in ["conv1", "conv2"] {
        put(
            &mut g,
            &format!("encoder.{conv}.weight"),
            &format!("encoder/{conv}/weight"),
            None,
        )?;
        put(
            &mut g,
            &format!("encoder.{conv}.bias"),
            &format!("encoder/{conv}/bias"),
            None,
        )?;
    }
    put(
        &mut g,
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
        None,
    )?;
    for side in ["encoder", "decoder"] {
        if side == "decoder" {
            put(
                &mut g,
                "encoder.ln_post.weight",
                "encoder/layer_norm/gamma",
                None,
            )?;
            put(
                &mut g,
                "encoder.ln_post.bias",
                "encoder/layer_norm/beta",
                None,
            )?;
            put(
                &mut g,
                "decoder.token_embedding.weight",
                "decoder/embeddings/weight",
                None,
            )?;
            put(
                &mut g,
                "decoder.positional_embedding",
                "decoder/position_encodings/encodings",
                None,
            )?;
        }
        for l in 0..LAYERS {
            let (to, from) = (format!("{side}.blocks.{l}"), format!("{side}/layer_{l}"));
            // Self-attention: query, key and value stacked in one matrix; the key has no bias.
            let qkv = format!("{from}/self_attention/linear_0");
            let attn = [
                ("attn.query.weight", format!("{qkv}/weight"), Some((0, s))),
                ("attn.query.bias", format!("{qkv}/bias"), Some((0, s))),
                ("attn.key.weight", format!("{qkv}/weight"), Some((s, 2 * s))),
                (
                    "attn.value.weight",
                    format!("{qkv}/weight"),
                    Some((2 * s, 3 * s)),
                ),
                (
                    "attn.value.bias",
                    format!("{qkv}/bias"),
                    Some((2 * s, 3 * s)),
                ),
                (
                    "attn.out.weight",
                    format!("{from}/self_attention/linear_1/weight"),
                    None,
                ),
                (
                    "attn.out.bias",
                    format!("{from}/self_attention/linear_1/bias"),
                    None,
                ),
                (
                    "attn_ln.weight",
                    format!("{from}/self_attention/layer_norm/gamma"),
                    None,
                ),
                (
                    "attn_ln.bias",
                    format!("{from}/self_attention/layer_norm/beta"),
                    None,
                ),
            ];
            // Cross-attention (decoder): the query alone, then key and value stacked.
            let a = format!("{from}/attention");
            let cross = [
                (
                    "cross_attn.query.weight",
                    format!("{a}/linear_0/weight"),
                    None,
                ),
                ("cross_attn.query.bias", format!("{a}/linear_0/bias"), None),
                (
                    "cross_attn.key.weight",
                    format!("{a}/linear_1/weight"),
                    Some((0, s)),
                ),
                (
                    "cross_attn.value.weight",
                    format!("{a}/linear_1/weight"),
                    Some((s, 2 * s)),
                ),
                (
                    "cross_attn.value.bias",
                    format!("{a}/linear_1/bias"),
                    Some((s, 2 * s)),
                ),
                (
                    "cross_attn.out.weight",
                    format!("{a}/linear_2/weight"),
                    None,
                ),
                ("cross_attn.out.bias", format!("{a}/linear_2/bias"), None),
                (
                    "cross_attn_ln.weight",
                    format!("{a}/layer_norm/gamma"),
                    None,
                ),
                ("cross_attn_ln.bias", format!("{a}/layer_norm/beta"), None),
            ];
            let f = format!("{from}/ffn");
            let mlp = [
                ("mlp.0.weight", format!("{f}/linear_0/weight"), None),
                ("mlp.0.bias", format!("{f}/linear_0/bias"), None),
                ("mlp.2.weight", format!("{f}/linear_1/weight"), None),
                ("mlp.2.bias", format!("{f}/linear_1/bias"), None),
                ("mlp_ln.weight", format!("{f}/layer_norm/gamma"), None),
                ("mlp_ln.bias", format!("{f}/layer_norm/beta"), None),
            ];
            let cross: &[_] = if side == "decoder" { &cross } else { &[] };
            for (name, src, span) in attn.iter().chain(cross).chain(&mlp) {
                put(&mut g, &format!("{to}.{name}"), src, *span)?;
            }
        }
    }
    put(
        &mut g,
        "decoder.ln.weight",
        "decoder/layer_norm/gamma",
        None,
    )?;
    put(&mut g, "decoder.ln.bias", "decoder/layer_norm/beta", None)?;
    Ok(g.out)
}

/// The 80 x 201 float32 filters `mel_80` of `mel_filters.npz` (a zip of .npy files, unpacked
/// with Python's zipfile, which pip already needs).
fn mel_filters(assets: &Path) -> Result<Vec<u8>, String> {
    let tmp = tempdir_in(assets)?;
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(assets.join("mel_filters.npz"))
        .arg(&tmp)
        .status()
        .map_err(|e| format!("python3: {e}"))?;
    let npy = if status.success() {
        std::fs::read(tmp.join("mel_80.npy")).map_err(|e| format!("mel_80.npy: {e}"))
    } else {
        Err("cannot unpack mel_filters.npz".to_string())
    };
    let _ = std::fs::remove_dir_all(&tmp);
    mel_npy_data(&npy?)
}

/// The data of an .npy 1.0 file holding 80 x 201 float32: magic (6), version (2), u16 header
/// length, header, data. Every length is checked: a truncated download is an error, not a panic.
fn mel_npy_data(npy: &[u8]) -> Result<Vec<u8>, String> {
    let mut r = Reader::new(npy);
    let magic = r.take(6)?;
    if magic != b"\x93NUMPY" {
        return Err("mel_80.npy is not a .npy file".into());
    }
    r.take(2)?;
    let header_len = r.u16()? as usize;
    let text = String::from_utf8_lossy(r.take(header_len)?);
    if !text.contains("'<f4'") || !text.contains("(80, 201)") || text.contains("True") {
        return Err(format!("mel_80.npy is not 80 x 201 float32: {text}"));
    }
    let data = r.take((N_MELS * N_FFT_BINS) as usize * 4)?;
    if !r.is_done() {
        return Err("mel_80.npy has bytes after its 80 x 201 floats".into());
    }
    Ok(data.to_vec())
}

fn tempdir_in(near: &Path) -> Result<std::path::PathBuf, String> {
    let dir = near.with_file_name(format!(
        "{}.mel.{}",
        near.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An .npy 1.0 file of 80 x 201 float32, as numpy writes it.
    fn npy() -> Vec<u8> {
        let mut header =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (80, 201), }".to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        b.extend((0..80 * 201).flat_map(|i| (i as f32).to_le_bytes()));
        b
    }

    #[test]
    fn every_truncation_of_the_mel_filters_is_an_error() {
        let whole = npy();
        let data = mel_npy_data(&whole).unwrap();
        assert_eq!(data.len(), 80 * 201 * 4);
        assert_eq!(&data[4..8], &1f32.to_le_bytes());
        for n in 0..whole.len() {
            assert!(mel_npy_data(&whole[..n]).is_err(), "cut at {n}");
        }
        let mut longer = whole.clone();
        longer.push(0);
        assert!(mel_npy_data(&longer).is_err());
        // A header length past the end of the file.
        let mut lying = whole[..12].to_vec();
        lying[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(mel_npy_data(&lying).is_err());
    }

    #[test]
    fn rows_outside_a_variable_are_an_error() {
        let data = [0u8; 2 * 3 * 4];
        let v = Var {
            dims: vec![3, 4],
            data: &data,
        };
        assert_eq!(rows(&v, 1, 3).unwrap().0, vec![2, 4]);
        assert!(rows(&v, 2, 4).is_err());
        assert!(rows(&v, 2, 1).is_err());
        let short = Var {
            dims: vec![3, 4],
            data: &data[..10],
        };
        assert!(rows(&short, 0, 3).is_err());
        let scalar = Var {
            dims: vec![],
            data: &data,
        };
        assert!(rows(&scalar, 0, 1).is_err());
    }
}
