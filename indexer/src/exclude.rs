//! What a scan leaves out, and why: the user's glob patterns (the configuration's `exclude`, and
//! each folder's `vx add --exclude`), folders marked with `.nomedia` or `.vxignore`, and the
//! parts of app libraries that are not the user's photos. What is left out is recorded (the
//! catalogue's `left_out`) and counted by reason in `vx status`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

use crate::paths::{Ignored, ignore_marker, ignored_why, relative_bytes};

/// One exclusion pattern. Without a `/` it matches a file or folder name anywhere ("*.psd",
/// "node_modules"); with one, the path below the added folder ("Exports/**", "/2019/Raw").
/// A trailing `/` matches folders only. `*` stays within a name; `**` crosses folders.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    matcher: GlobMatcher,
    by_name: bool,
    folders_only: bool,
}

impl Pattern {
    fn new(text: &str) -> Result<Pattern, String> {
        let body = text.trim();
        let folders_only = body.ends_with('/');
        let body = body.trim_end_matches('/');
        let by_name = !body.contains('/');
        let body = body.trim_start_matches('/');
        if body.is_empty() {
            return Err(format!("exclusion pattern {text:?} is empty"));
        }
        let glob = GlobBuilder::new(body)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("exclusion pattern {text:?} is not a valid glob: {e}"))?;
        Ok(Pattern {
            text: text.trim().to_string(),
            matcher: glob.compile_matcher(),
            by_name,
            folders_only,
        })
    }

    fn matches(&self, rel: &Path, is_dir: bool) -> bool {
        if self.folders_only && !is_dir {
            return false;
        }
        if self.by_name {
            rel.file_name()
                .is_some_and(|n| self.matcher.is_match(Path::new(n)))
        } else {
            self.matcher.is_match(rel)
        }
    }
}

/// Checks that each pattern compiles; the message names the first that does not.
pub fn validate(patterns: &[String]) -> Result<(), String> {
    patterns.iter().try_for_each(|p| Pattern::new(p).map(drop))
}

/// Why a path is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// Hidden or temporary: not worth reporting.
    Hidden,
    /// A reason worth telling the user, in their words.
    Told(String),
}

/// The rules of one root.
#[derive(Debug, Clone)]
pub struct Exclusions {
    patterns: Vec<Pattern>,
}

impl Exclusions {
    /// The configuration's patterns and the root's. A pattern that does not compile (checked
    /// when it was given) is dropped with a warning rather than stopping the scan.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a String>) -> Exclusions {
        let patterns = patterns
            .into_iter()
            .filter_map(|p| {
                Pattern::new(p)
                    .inspect_err(|e| tracing::warn!("{e}; ignored"))
                    .ok()
            })
            .collect();
        Exclusions { patterns }
    }

    /// Why the scan leaves `path` (below `root`) out, judging the entry itself: its own name
    /// and path, and its marker file when it is a folder.
    pub fn why(&self, root: &Path, path: &Path, is_dir: bool) -> Option<Why> {
        match ignored_why(root, path) {
            Some(Ignored::Hidden) => return Some(Why::Hidden),
            Some(Ignored::AppCache) => {
                return Some(Why::Told("an app's previews and caches".into()));
            }
            Some(Ignored::LibraryDerivatives) => {
                return Some(Why::Told(
                    "a photo library's derivatives and caches (its originals are indexed)".into(),
                ));
            }
            None => {}
        }
        if !self.patterns.is_empty() {
            let rel = Path::new(OsStr::from_bytes(relative_bytes(root, path)?));
            if let Some(p) = self.patterns.iter().find(|p| p.matches(rel, is_dir)) {
                return Some(Why::Told(format!("pattern {}", p.text)));
            }
        }
        if is_dir && path != root {
            return ignore_marker(path).map(|m| Why::Told(format!("{m} file")));
        }
        None
    }

    /// Why `path` is left out, judging it and every folder between it and `root`: for a path a
    /// notification names, which no walk from the root has pruned.
    pub fn why_within(&self, root: &Path, path: &Path, is_dir: bool) -> Option<Why> {
        let mut dirs: Vec<&Path> = path
            .ancestors()
            .skip(1)
            .take_while(|d| *d != root && d.starts_with(root))
            .collect();
        dirs.reverse();
        dirs.into_iter()
            .find_map(|d| self.why(root, d, true))
            .or_else(|| self.why(root, path, is_dir))
    }
}

impl Why {
    /// The reason to record, for one worth telling.
    pub fn told(&self) -> Option<&str> {
        match self {
            Why::Hidden => None,
            Why::Told(reason) => Some(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn told(s: &str) -> Option<Why> {
        Some(Why::Told(s.into()))
    }

    #[test]
    fn patterns_match_names_anywhere_or_paths_from_the_root() {
        let patterns: Vec<String> = ["*.psd", "node_modules/", "Exports/**", "/2019/Raw"]
            .map(String::from)
            .to_vec();
        let x = Exclusions::new(&patterns);
        let root = Path::new("/p");
        let why = |p: &str, dir| x.why(root, Path::new(p), dir);
        assert_eq!(why("/p/a/b/c.psd", false), told("pattern *.psd"));
        assert_eq!(
            why("/p/a/node_modules", true),
            told("pattern node_modules/")
        );
        // Folders only: a file of that name is kept.
        assert_eq!(why("/p/a/node_modules", false), None);
        assert_eq!(why("/p/Exports/x/y.jpg", false), told("pattern Exports/**"));
        // A path pattern is anchored at the root, and `*` does not cross folders.
        assert_eq!(why("/p/a/Exports/y.jpg", false), None);
        assert_eq!(why("/p/2019/Raw", true), told("pattern /2019/Raw"));
        assert_eq!(why("/p/2019/Raw/x.jpg", false), None);
        assert_eq!(
            x.why_within(root, Path::new("/p/2019/Raw/x.jpg"), false),
            told("pattern /2019/Raw")
        );
        assert_eq!(why("/p/a/.DS_Store", false), Some(Why::Hidden));
        assert_eq!(why("/p/a/photo.jpg", false), None);
    }

    #[test]
    fn bad_patterns_are_refused_with_their_text() {
        let e = validate(&["ok/*".into(), "[oops".into()]).unwrap_err();
        assert!(e.contains("[oops"), "{e}");
        assert!(validate(&["/".into()]).is_err());
    }
}
