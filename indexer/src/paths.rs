//! Paths as bytes (file names need not be UTF-8) and the rules for which files vx ignores.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

pub fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

pub fn bytes_to_path(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(OsString::from_vec(bytes))
}

/// The byte range `[dir + "/", dir + "0")` that holds exactly the paths below `dir`
/// ('0' is the byte after '/').
pub fn prefix_upper_bound(dir: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut from = dir.to_vec();
    if from.last() != Some(&b'/') {
        from.push(b'/');
    }
    let mut to = from.clone();
    *to.last_mut().expect("non-empty") = b'0';
    (from, to)
}

/// Temporary, partial and hidden files that vx never catalogues. A hidden directory hides
/// everything below it.
pub fn is_ignored_name(name: &[u8]) -> bool {
    const SUFFIXES: &[&[u8]] = &[
        b".part",
        b".crdownload",
        b".download",
        b".partial",
        b".tmp",
        b".temp",
        b".swp",
        b"~",
    ];
    name.first() == Some(&b'.')
        || name.starts_with(b"~$")
        || SUFFIXES
            .iter()
            .any(|s| name.len() > s.len() && name.ends_with(s))
}

/// True when any component of `path` below `root` is ignored.
pub fn is_ignored_path(root: &Path, path: &Path) -> bool {
    path.strip_prefix(root)
        .map(|rel| {
            rel.components()
                .any(|c| is_ignored_name(c.as_os_str().as_bytes()))
        })
        .unwrap_or(true)
}

/// Extensions that promise media: a file with one that cannot be decoded is reported as failed
/// (corrupt), one without is simply skipped as "not media".
pub fn has_media_extension(path: &Path) -> bool {
    const EXTS: &[&str] = &[
        "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif", "dng",
        "cr2", "nef", "arw", "mp4", "m4v", "mov", "mkv", "webm", "avi", "wmv", "mpg", "mpeg",
        "3gp", "mts", "m2ts", "ts", "flv", "mp3", "m4a", "aac", "wav", "flac", "ogg", "oga",
        "opus", "wma", "aif", "aiff", "amr",
    ];
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| EXTS.iter().any(|x| x.eq_ignore_ascii_case(e)))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_temporary_and_hidden_names() {
        for n in [
            ".DS_Store",
            ".hidden.jpg",
            "movie.mp4.part",
            "a.crdownload",
            "~$doc.docx",
            "x~",
        ] {
            assert!(is_ignored_name(n.as_bytes()), "{n}");
        }
        for n in ["beach.jpg", "a.part.jpg", "tmp", "~x.png", "part"] {
            assert!(!is_ignored_name(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn hidden_directory_hides_its_contents() {
        let root = Path::new("/r");
        assert!(is_ignored_path(root, Path::new("/r/.git/x.jpg")));
        assert!(!is_ignored_path(root, Path::new("/r/a/x.jpg")));
        assert!(is_ignored_path(root, Path::new("/elsewhere/x.jpg")));
    }

    #[test]
    fn prefix_range_holds_only_descendants() {
        let (lo, hi) = prefix_upper_bound(b"/a/b");
        let inside = |p: &[u8]| p >= lo.as_slice() && p < hi.as_slice();
        assert!(inside(b"/a/b/c"));
        assert!(inside(b"/a/b/c/d\xff"));
        assert!(!inside(b"/a/bc"));
        assert!(!inside(b"/a/b-x"));
        assert!(!inside(b"/a/b"));
    }
}
