//! Live Photos: a still (HEIC or JPEG) and a short clip (MOV) an iPhone takes together, kept as
//! two files with one name and, in their metadata, one content identifier. Search shows the
//! pair as one result, the still, with the clip's speech and moments attached.
//!
//! Two files are a pair when they lie in one folder under one name (IMG_0001.HEIC and
//! IMG_0001.MOV, as every export and the camera roll keep them), the clip is at most
//! `CLIP_MAX_SECS` long, and their content identifiers, when both have one, agree.
//! (Google's and Samsung's motion photos are one JPEG with the clip appended: decoded as the
//! JPEG they start with.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::media::{FileState, MediaKind};
use crate::search::Hit;

use crate::store::{ContentMeta, Result, Store};

/// Live Photo clips run about three seconds.
pub const CLIP_MAX_SECS: f64 = 6.0;

const STILL_EXTENSIONS: &[&str] = &["HEIC", "heic", "JPG", "jpg", "JPEG", "jpeg", "HEIF", "heif"];
const CLIP_EXTENSIONS: &[&str] = &["MOV", "mov", "MP4", "mp4"];

fn has_extension(path: &Path, list: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| list.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Whether `path` is named as a still, and the names its other half would have
/// (IMG_0001.MOV and the rest for IMG_0001.HEIC); None for a file of neither kind.
fn other_half_names(path: &Path) -> Option<(bool, Vec<PathBuf>)> {
    let (is_still_name, others) = if has_extension(path, STILL_EXTENSIONS) {
        (true, CLIP_EXTENSIONS)
    } else if has_extension(path, CLIP_EXTENSIONS) {
        (false, STILL_EXTENSIONS)
    } else {
        return None;
    };
    Some((
        is_still_name,
        others.iter().map(|e| path.with_extension(e)).collect(),
    ))
}

/// An indexed file's content.
fn indexed_meta(store: &Store, path: &Path) -> Result<Option<ContentMeta>> {
    let Some(file) = store.file_by_path(path)? else {
        return Ok(None);
    };
    if file.state != FileState::Indexed {
        return Ok(None);
    }
    let Some(id) = file.content_id else {
        return Ok(None);
    };
    Ok(store.content(id)?.map(|c| c.meta))
}

fn is_still(meta: &ContentMeta) -> bool {
    meta.kind == Some(MediaKind::Image)
}

fn is_clip(meta: &ContentMeta) -> bool {
    meta.kind == Some(MediaKind::Video) && meta.duration.is_some_and(|d| d <= CLIP_MAX_SECS)
}

fn same_identifier(a: &ContentMeta, b: &ContentMeta) -> bool {
    match (&a.pair_id, &b.pair_id) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => true,
    }
}

/// The two halves of a Live Photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub still: PathBuf,
    pub clip: PathBuf,
}

/// The Live Photo `path` is half of, if it is one.
pub fn pair_of(store: &Store, path: &Path) -> Result<Option<Pair>> {
    let Some((is_still_name, others)) = other_half_names(path) else {
        return Ok(None);
    };
    let fits = |meta: &ContentMeta, still: bool| {
        if still { is_still(meta) } else { is_clip(meta) }
    };
    // Most files have no namesake of the other kind: their own content is read only for one
    // that has.
    let mut own: Option<Option<ContentMeta>> = None;
    for other in others {
        let Some(other_meta) = indexed_meta(store, &other)? else {
            continue;
        };
        if !fits(&other_meta, !is_still_name) {
            continue;
        }
        let meta = match own {
            Some(ref m) => m,
            None => own.insert(indexed_meta(store, path)?),
        };
        let Some(meta) = meta.as_ref().filter(|m| fits(m, is_still_name)) else {
            return Ok(None);
        };
        if same_identifier(meta, &other_meta) {
            let (still, clip) = if is_still_name {
                (path.to_path_buf(), other)
            } else {
                (other, path.to_path_buf())
            };
            return Ok(Some(Pair { still, clip }));
        }
    }
    Ok(None)
}

/// Search results with each Live Photo once: a clip's hit becomes its still's (kind image,
/// `clip` set), and a pair found by both halves keeps the better place and all moments.
pub fn merge_pairs(store: &Store, hits: Vec<Hit>) -> Result<Vec<Hit>> {
    // Most hits have no namesake of the other kind: one lookup for them all finds those that
    // have (one per name cost up to 80 a search of photos).
    let names: Vec<Vec<PathBuf>> = hits
        .iter()
        .map(|h| other_half_names(&h.path).map_or_else(Vec::new, |(_, names)| names))
        .collect();
    let present = store.paths_present(&names.concat())?;
    let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
    let mut placed: HashMap<PathBuf, usize> = HashMap::new();
    for (mut hit, names) in hits.into_iter().zip(names) {
        let path = hit.path.clone();
        let has_namesake = names.iter().any(|n| present.contains(n));
        if has_namesake && let Some(pair) = pair_of(store, &path)? {
            if pair.clip == path {
                hit.kind = MediaKind::Image;
                hit.path = pair.still.clone();
            }
            hit.clip = Some(pair.clip.clone());
            if let Some(&i) = placed.get(&pair.still) {
                let kept = &mut out[i];
                kept.moments.extend(hit.moments);
                kept.score = kept.score.max(hit.score);
                continue;
            }
            placed.insert(pair.still, out.len());
        }
        out.push(hit);
    }
    Ok(out)
}

/// The content identifier an iPhone writes in a photo's Apple maker note (tag 0x0011): the
/// same as its Live Photo clip's `com.apple.quicktime.content.identifier`.
pub fn apple_content_identifier(exif: &exif::Exif) -> Option<String> {
    let field = exif.get_field(exif::Tag::MakerNote, exif::In::PRIMARY)?;
    let exif::Value::Undefined(ref note, _) = field.value else {
        return None;
    };
    maker_note_identifier(note)
}

/// Reads tag 0x0011 from an Apple maker note: "Apple iOS\0", a 2-byte version, the byte order
/// ("MM" or "II"), then an IFD whose offsets count from the note's start.
pub fn maker_note_identifier(note: &[u8]) -> Option<String> {
    if !note.starts_with(b"Apple iOS\0") {
        return None;
    }
    let big = match note.get(12..14)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = note.get(at..at + 2)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = note.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    const IFD: usize = 14;
    let count = u16_at(IFD)? as usize;
    (0..count.min(256)).find_map(|i| {
        let entry = IFD + 2 + i * 12;
        // An ASCII value: inline when it fits in four bytes, else at an offset.
        if u16_at(entry)? != 0x0011 || u16_at(entry + 2)? != 2 {
            return None;
        }
        let len = u32_at(entry + 4)? as usize;
        let at = if len <= 4 {
            entry + 8
        } else {
            u32_at(entry + 8)? as usize
        };
        let text = note.get(at..at.checked_add(len)?)?;
        let text = String::from_utf8_lossy(text)
            .trim_end_matches('\0')
            .trim()
            .to_string();
        (!text.is_empty()).then_some(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Apple maker note as iPhones write it: two entries, the identifier out of line.
    fn note(order: &[u8; 2], id: &str) -> Vec<u8> {
        let big = order == b"MM";
        let u16b = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let u32b = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let mut n = b"Apple iOS\0\0\x01".to_vec();
        n.extend_from_slice(order);
        n.extend_from_slice(&u16b(2));
        // 0x0001 (MakerNoteVersion), a SLONG inline.
        n.extend_from_slice(&u16b(0x0001));
        n.extend_from_slice(&u16b(9));
        n.extend_from_slice(&u32b(1));
        n.extend_from_slice(&u32b(14));
        // 0x0011, ASCII, its text after the IFD.
        let text_at = 14 + 2 + 2 * 12 + 4;
        n.extend_from_slice(&u16b(0x0011));
        n.extend_from_slice(&u16b(2));
        n.extend_from_slice(&u32b(id.len() as u32 + 1));
        n.extend_from_slice(&u32b(text_at as u32));
        n.extend_from_slice(&[0; 4]);
        n.extend_from_slice(id.as_bytes());
        n.push(0);
        n
    }

    #[test]
    fn the_content_identifier_is_read_from_apple_maker_notes() {
        let id = "A1B2C3D4-0000-4E5F-8A9B-0123456789AB";
        assert_eq!(maker_note_identifier(&note(b"MM", id)).as_deref(), Some(id));
        assert_eq!(maker_note_identifier(&note(b"II", id)).as_deref(), Some(id));
        let mut cut = note(b"MM", id);
        cut.truncate(40);
        assert_eq!(maker_note_identifier(&cut), None);
        assert_eq!(maker_note_identifier(b"Nikon\0\x02\x10\0\0MM"), None);
    }
}
