//! Reading a model's side files: labels (one name per line, line i+1 for class i) and text.

use std::path::Path;

use crate::error::{ModelError, Result};

/// A side file's text: a missing file is `Missing`, anything else a `Load` error.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ModelError::Missing(path.to_path_buf()),
        _ => ModelError::Load {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    })
}

pub(crate) fn read_labels(path: &Path, expected: usize) -> Result<Vec<String>> {
    let text = read_text(path)?;
    let labels: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    if labels.len() < expected {
        return Err(ModelError::Load {
            path: path.to_path_buf(),
            message: format!("expected {expected} labels, found {}", labels.len()),
        });
    }
    Ok(labels)
}
