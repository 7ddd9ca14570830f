//! Checking model files and importing a pack.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{FileSpec, ModelSpec, StoreError, file_path, part_path};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileState {
    /// There, of the right size; not hashed.
    Present,
    /// There, hash checked.
    Verified,
    Missing,
    /// Wrong size or hash; the reason says which.
    Corrupt(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelState {
    Present,
    Verified,
    /// Files that are not there.
    Missing(Vec<String>),
    /// The first damaged file and why.
    Corrupt(String),
}

impl ModelState {
    pub fn usable(&self) -> bool {
        matches!(self, ModelState::Present | ModelState::Verified)
    }

    pub fn label(&self) -> &'static str {
        match self {
            ModelState::Present => "present",
            ModelState::Verified => "verified",
            ModelState::Missing(_) => "missing",
            ModelState::Corrupt(_) => "corrupt",
        }
    }

    /// Why the model cannot be used, if it cannot.
    pub fn reason(&self) -> Option<String> {
        match self {
            ModelState::Present | ModelState::Verified => None,
            ModelState::Missing(files) if files.len() == 1 => Some(format!("missing {}", files[0])),
            ModelState::Missing(files) => Some(format!("{} files missing", files.len())),
            ModelState::Corrupt(why) => Some(why.clone()),
        }
    }
}

pub fn sha256_file(path: &Path) -> Result<String, StoreError> {
    let mut f = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| StoreError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_file(dir: &Path, spec: &FileSpec, hash: bool) -> FileState {
    let path = file_path(dir, spec);
    let size = match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => m.len(),
        _ => return FileState::Missing,
    };
    let Some(expected) = spec.expected_sha256(size) else {
        return FileState::Corrupt(format!(
            "{}: {size} bytes, expected {}",
            spec.path, spec.size
        ));
    };
    if !hash {
        return FileState::Present;
    }
    match sha256_file(&path) {
        Ok(h) if h == expected => FileState::Verified,
        Ok(h) => FileState::Corrupt(format!("{}: sha256 {h}, expected {expected}", spec.path)),
        Err(e) => FileState::Corrupt(e.to_string()),
    }
}

/// A model's state in `dir`; `hash` checks contents, otherwise only sizes.
pub fn check_model(dir: &Path, model: &ModelSpec, hash: bool) -> ModelState {
    let mut missing = Vec::new();
    let mut verified = true;
    for f in &model.files {
        match check_file(dir, f, hash) {
            FileState::Missing => missing.push(f.path.clone()),
            FileState::Corrupt(why) => return ModelState::Corrupt(why),
            FileState::Present => verified = false,
            FileState::Verified => {}
        }
    }
    if !missing.is_empty() {
        ModelState::Missing(missing)
    } else if verified {
        ModelState::Verified
    } else {
        ModelState::Present
    }
}

/// Copies `from` to `dest` through a temporary file, hashing on the way; renames only when
/// the hash matches.
pub(crate) fn copy_verified(from: &Path, dest: &Path, spec: &FileSpec) -> Result<(), StoreError> {
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let part = part_path(dest);
    let result = (|| {
        let mut src = File::open(from).map_err(|e| StoreError::io(from, e))?;
        let mut out = File::create(&part).map_err(|e| StoreError::io(&part, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = src.read(&mut buf).map_err(|e| StoreError::io(from, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| StoreError::io(&part, e))?;
            total += n as u64;
        }
        out.sync_all().map_err(|e| StoreError::io(&part, e))?;
        finish(&part, dest, spec, total, &hex(&hasher.finalize()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Checks a fully written temporary file and moves it into place.
pub(crate) fn finish(
    part: &Path,
    dest: &Path,
    spec: &FileSpec,
    size: u64,
    sha: &str,
) -> Result<(), StoreError> {
    let Some(expected) = spec.expected_sha256(size) else {
        return Err(StoreError::SizeMismatch {
            path: spec.path.clone(),
            expected: spec.size,
            actual: size,
        });
    };
    if sha != expected {
        return Err(StoreError::HashMismatch {
            path: spec.path.clone(),
            expected: expected.to_string(),
            actual: sha.to_string(),
        });
    }
    std::fs::rename(part, dest).map_err(|e| StoreError::io(dest, e))
}

/// Imports every model of `models` found in `src` (a pack such as ../shared/models) into
/// `dest`, checking every hash. Models already verified in `dest` are skipped. Returns each
/// model with its outcome; one model's failure leaves the others usable.
pub fn import<'m>(
    src: &Path,
    dest: &Path,
    models: &'m [ModelSpec],
) -> Vec<(&'m ModelSpec, Result<bool, StoreError>)> {
    install_missing(dest, models, |_, f, to| {
        let from = file_path(src, f);
        if !from.is_file() {
            return Err(StoreError::NotInSource(format!(
                "{} is not in {}",
                f.path,
                src.display()
            )));
        }
        copy_verified(&from, to, f)
    })
}

/// Calls `install` for every file of `models` not already verified in `dest` (each file is
/// hashed once). Returns each model with Ok(true) when a file was installed, Ok(false) when
/// all were there, or the first error (the model's other files are left as they are).
pub(crate) fn install_missing<'m>(
    dest: &Path,
    models: &'m [ModelSpec],
    mut install: impl FnMut(&ModelSpec, &FileSpec, &Path) -> Result<(), StoreError>,
) -> Vec<(&'m ModelSpec, Result<bool, StoreError>)> {
    models
        .iter()
        .map(|m| {
            let mut outcome = Ok(false);
            for f in &m.files {
                if check_file(dest, f, true) == FileState::Verified {
                    continue;
                }
                if let Err(e) = install(m, f, &file_path(dest, f)) {
                    outcome = Err(e);
                    break;
                }
                outcome = Ok(true);
            }
            (m, outcome)
        })
        .collect()
}
