//! HEIF stills (HEIC from phones, AVIF): the primary image only, decoded by libheif, which
//! assembles grid images and applies the file's transforms (irot, imir, clap). EXIF orientation
//! is applied only to a file without such transforms: in HEIF the transforms are normative and
//! writers that set them (iPhones) also leave the camera's EXIF orientation, which applied on
//! top would turn the picture twice; tools that convert a JPEG (heif-enc) keep its EXIF
//! orientation and write no transform.

use std::path::Path;
use std::sync::atomic::Ordering;

use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};
use vx_models::RgbImage;

use crate::decode::{DECODE_OPENS, DecodePolicy, Decoded};
use crate::orientation::{exif_orientation, orient};
use crate::probe::ProbeError;

/// ftyp brands of HEIF images and sequences (ISO/IEC 23008-12) and of AVIF.
const BRANDS: [&[u8; 4]; 13] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
    b"mif2", b"avif", b"avis",
];

/// Whether a file that starts with `head` is HEIF or AVIF: an ftyp box whose major brand is
/// one of theirs, or lists `mif1` among its compatible brands.
pub fn is_heif(head: &[u8]) -> bool {
    if head.len() < 12 || &head[4..8] != b"ftyp" {
        return false;
    }
    let brand = |b: &[u8]| BRANDS.iter().any(|x| x.as_slice() == b);
    if brand(&head[8..12]) {
        return true;
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    head.get(16..size.min(head.len()))
        .is_some_and(|c| c.chunks_exact(4).any(|b| b == b"mif1"))
}

/// The container's name for a file `is_heif` accepted.
fn format_name(head: &[u8]) -> &'static str {
    if head.get(8..12) == Some(b"avif") || head.get(8..12) == Some(b"avis") {
        "avif"
    } else {
        "heif"
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ProbeError {
    ProbeError::Corrupt(format!("damaged {what} ({e})"))
}

pub fn decode_heif(path: &Path, head: &[u8], policy: &DecodePolicy) -> Result<Decoded, ProbeError> {
    let format = format_name(head);
    let what = if format == "avif" { "AVIF" } else { "HEIF" };
    let name = path
        .to_str()
        .ok_or_else(|| ProbeError::Io("the path is not UTF-8, which libheif needs".into()))?;
    DECODE_OPENS.fetch_add(1, Ordering::Relaxed);
    let ctx = HeifContext::read_from_file(name).map_err(|e| corrupt(what, e))?;
    let handle = ctx.primary_image_handle().map_err(|e| corrupt(what, e))?;
    let (w, h) = (handle.width(), handle.height());
    if w as u64 * h as u64 > policy.max_pixels {
        return Err(ProbeError::Corrupt(format!(
            "{w}x{h} pixels is over the {} megapixel limit (a decompression bomb?)",
            policy.max_pixels / 1_000_000
        )));
    }
    let image = LibHeif::new()
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(|e| match truncation(path) {
            // libheif reads lazily: a cut file fails in its decoder plugin, saying little.
            Some(cut) => corrupt(what, format!("{cut}; libheif: {e}")),
            None => corrupt(what, e),
        })?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| corrupt(what, "no RGB picture"))?;
    let (pw, ph) = (plane.width as usize, plane.height as usize);
    let mut data = Vec::with_capacity(pw * ph * 3);
    for row in 0..ph {
        let start = row * plane.stride;
        let line = plane
            .data
            .get(start..start + pw * 3)
            .ok_or_else(|| corrupt(what, "short pixel data"))?;
        data.extend_from_slice(line);
    }
    let mut picture = RgbImage {
        width: pw as u32,
        height: ph as u32,
        data,
    };
    let exif = crate::probe::read_exif(path);
    if !has_transforms(path) {
        let o = exif.as_ref().and_then(exif_orientation).unwrap_or(1);
        picture = orient(picture, o);
    }
    let (full_w, full_h) = (picture.width, picture.height);
    let picture = crate::decode::fit(picture, policy)?;
    let codec = if format == "avif" { "av1" } else { "hevc" };
    let size = (full_w, full_h);
    Ok(crate::decode::still(
        picture,
        size,
        (format, codec),
        exif.as_ref(),
        path,
    ))
}

/// Whether the file's item properties include a rotation or mirroring (`irot`, `imir`): looked
/// for as box headers inside its top-level `meta` box, which holds every item property.
fn has_transforms(path: &Path) -> bool {
    let Ok(bytes) = read_meta_box(path) else {
        return false;
    };
    bytes.windows(8).any(|w| {
        let size = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
        // Both are 9 bytes: the box header and one byte of angle or axis.
        size == 9 && (&w[4..8] == b"irot" || &w[4..8] == b"imir")
    })
}

/// "truncated: ..." when a top-level box runs past the end of the file.
fn truncation(path: &Path) -> Option<String> {
    let mut cut = None;
    walk_boxes(path, |kind, at, size, len| {
        if at + size > len {
            cut = Some(format!(
                "truncated: the file ends {} bytes into its {} box of {size}",
                len - at,
                String::from_utf8_lossy(kind)
            ));
        }
        false
    })
    .ok()?;
    cut
}

/// Calls `visit(kind, offset, size, file length)` for each top-level box until it returns true.
fn walk_boxes(
    path: &Path,
    mut visit: impl FnMut(&[u8], u64, u64, u64) -> bool,
) -> std::io::Result<Option<(u64, u64, u64)>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut at = 0u64;
    while at + 8 <= len {
        let mut header = [0u8; 16];
        f.seek(SeekFrom::Start(at))?;
        f.read_exact(&mut header[..8])?;
        let mut size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as u64;
        let mut body = 8;
        if size == 1 {
            f.read_exact(&mut header[8..16])?;
            size = u64::from_be_bytes(header[8..16].try_into().expect("8 bytes"));
            body = 16;
        } else if size == 0 {
            size = len - at;
        }
        if size < body {
            break;
        }
        if visit(&header[4..8], at, size, len) {
            return Ok(Some((at, size, body)));
        }
        at += size;
    }
    Ok(None)
}

/// The top-level `meta` box (at most 1 MiB of it), found by walking the file's top-level boxes.
fn read_meta_box(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let Some((at, size, body)) = walk_boxes(path, |kind, _, _, _| kind == b"meta")? else {
        return Err(std::io::ErrorKind::NotFound.into());
    };
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(at + body))?;
    let mut out = Vec::new();
    f.take((size - body).min(1 << 20)).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heif_and_avif_are_told_from_mp4_and_mov() {
        let ftyp = |major: &[u8; 4], compatible: &[&[u8; 4]]| {
            let mut b = ((16 + 4 * compatible.len()) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(b"ftyp");
            b.extend_from_slice(major);
            b.extend_from_slice(&[0, 0, 0, 0]);
            for c in compatible {
                b.extend_from_slice(*c);
            }
            b
        };
        assert!(is_heif(&ftyp(b"heic", &[b"mif1", b"heic"])));
        assert!(is_heif(&ftyp(b"avif", &[b"mif1", b"avif"])));
        assert!(is_heif(&ftyp(b"miaf", &[b"mif1"])));
        assert_eq!(format_name(&ftyp(b"avif", &[])), "avif");
        assert!(!is_heif(&ftyp(b"isom", &[b"isom", b"mp41"])));
        assert!(!is_heif(&ftyp(b"qt  ", &[b"qt  "])));
        assert!(!is_heif(b"\x00\x00\x00\x0cftyphe"));
    }

    #[test]
    fn an_iphone_grid_missing_its_tiles_is_damaged_with_libheifs_reason() {
        let Some(park) = vx_testkit::camera_media("park.heic") else {
            return;
        };
        let head = std::fs::read(&park).unwrap()[..64].to_vec();
        assert!(is_heif(&head));
        match decode_heif(&park, &head, &DecodePolicy::default()) {
            Err(ProbeError::Corrupt(m)) => {
                assert!(
                    m.starts_with("damaged HEIF (truncated: the file ends"),
                    "{m}"
                )
            }
            other => panic!("{:?}", other.map(|d| d.meta)),
        }
    }

    #[test]
    fn a_grid_of_tiles_is_decoded_whole_with_each_tile_in_its_place() {
        let (Some(grid), Some(png)) = (
            vx_testkit::camera_media("coffee-grid.heic"),
            vx_testkit::media("coffee.png"),
        ) else {
            return;
        };
        let head = std::fs::read(&grid).unwrap()[..64].to_vec();
        let policy = DecodePolicy::default();
        let heic = decode_heif(&grid, &head, &policy).unwrap();
        let png = crate::decode::decode(&png, &policy).unwrap();
        assert_eq!((heic.meta.width, heic.meta.height), (Some(512), Some(384)));
        let (a, b) = (&heic.frames[0].image, &png.frames[0].image);
        assert_eq!((a.width, a.height), (512, 384));
        // Each 128 px tile against the same square of the source: a tile decoded into the
        // wrong place, or missing, differs by tens of levels on this photo; HEVC by ~2.
        for (row, col) in (0..3).flat_map(|r| (0..4).map(move |c| (r, c))) {
            let mut sum = 0u64;
            for y in row * 128..(row + 1) * 128 {
                for x in col * 128..(col + 1) * 128 {
                    let (i, j) = ((y * 512 + x) * 3, (y * b.width as usize + x) * 3);
                    for k in 0..3 {
                        sum += a.data[i + k].abs_diff(b.data[j + k]) as u64;
                    }
                }
            }
            let mean = sum as f64 / (128.0 * 128.0 * 3.0);
            assert!(
                mean < 6.0,
                "tile ({row}, {col}) differs by {mean:.1} levels"
            );
        }
    }
}
