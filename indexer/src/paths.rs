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

/// Photo libraries kept by apps as one folder (a package on macOS): Apple Photos, iPhoto and
/// Aperture. Only their originals are the user's photos; the rest (derivatives, thumbnails,
/// caches, databases) would find each photo three to five times.
const LIBRARY_PACKAGES: &[&str] = &[".photoslibrary", ".photolibrary", ".aplibrary"];
/// Where such a library keeps the originals: Photos 5 and later, then iPhoto and Aperture.
const LIBRARY_ORIGINALS: &[&str] = &["originals", "Masters"];
/// Folders of previews and caches that apps keep beside a catalogue (Lightroom's `.lrdata`).
const CACHE_FOLDERS: &[&str] = &[".lrdata"];

fn ends_with_ignore_case(name: &[u8], suffix: &str) -> bool {
    name.len() > suffix.len()
        && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Why vx leaves a path alone on its own accord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// A hidden or temporary name: never counted.
    Hidden,
    /// An app's previews and caches (Lightroom's `.lrdata`).
    AppCache,
    /// A photo library package outside its originals.
    LibraryDerivatives,
}

/// Why a path below `root` is ignored, if it is: a component with a hidden or temporary name,
/// an app's cache folder, or anything in a photo library package outside its originals.
pub fn ignored_why(root: &Path, path: &Path) -> Option<Ignored> {
    let Some(rel) = relative_bytes(root, path) else {
        return Some(Ignored::Hidden);
    };
    // Split by bytes rather than `Path::components` (a scan asks this of every entry): the
    // paths here come from walks and notifications, never with `.` or `//` in them.
    let mut parts = rel
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .peekable();
    while let Some(name) = parts.next() {
        if is_ignored_name(name) {
            return Some(Ignored::Hidden);
        }
        if CACHE_FOLDERS.iter().any(|s| ends_with_ignore_case(name, s)) {
            return Some(Ignored::AppCache);
        }
        if LIBRARY_PACKAGES
            .iter()
            .any(|s| ends_with_ignore_case(name, s))
            && parts
                .peek()
                .is_some_and(|next| !LIBRARY_ORIGINALS.iter().any(|o| o.as_bytes() == *next))
        {
            return Some(Ignored::LibraryDerivatives);
        }
    }
    None
}

/// `path` below `root`, as bytes ("" for the root itself); None when it is not below it.
pub fn relative_bytes<'a>(root: &Path, path: &'a Path) -> Option<&'a [u8]> {
    let (root, path) = (root.as_os_str().as_bytes(), path.as_os_str().as_bytes());
    let rest = path.strip_prefix(root)?;
    if rest.is_empty() || root.ends_with(b"/") {
        return Some(rest);
    }
    rest.strip_prefix(b"/")
}

/// Files that tell media scanners to leave their folder alone: Android's `.nomedia`, and vx's
/// own `.vxignore`.
const IGNORE_MARKERS: &[&str] = &[".nomedia", ".vxignore"];

/// Whether `path` names an ignore marker file.
pub fn is_ignore_marker(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| IGNORE_MARKERS.iter().any(|m| n == *m))
}

/// The ignore marker the folder `dir` holds, if any.
pub fn ignore_marker(dir: &Path) -> Option<&'static str> {
    IGNORE_MARKERS
        .iter()
        .copied()
        .find(|m| dir.join(m).exists())
}

/// Formats vx knows but cannot decode this file of, by extension: a camera RAW that LibRaw
/// does not recognise (a camera newer than it) is skipped with this reason, not failed as
/// damaged.
pub fn unsupported_format(path: &Path) -> Option<String> {
    let ext = path.extension()?.to_str()?;
    crate::raw::is_raw(path).then(|| {
        format!(
            "unsupported format: camera RAW (.{ext}) that LibRaw {} does not recognise (a camera \
             newer than it, or not a RAW at all; the file is kept and read again when a newer \
             vx is installed)",
            crate::raw::libraw_version()
        )
    })
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
        assert!(ignored_why(root, Path::new("/r/.git/x.jpg")).is_some());
        assert!(ignored_why(root, Path::new("/r/a/x.jpg")).is_none());
        assert!(ignored_why(root, Path::new("/elsewhere/x.jpg")).is_some());
        assert!(ignored_why(root, Path::new("/rx/a.jpg")).is_some());
        assert!(ignored_why(root, root).is_none());
        assert!(ignored_why(Path::new("/"), Path::new("/a/.b")).is_some());
        assert!(ignored_why(Path::new("/"), Path::new("/a/b")).is_none());
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
