//! The manifest: every model vx knows, its files, hashes, sizes, licence and origin.

use std::path::Path;

use serde::Deserialize;

use crate::StoreError;

/// The manifest shipped with this vx.
pub const BUILTIN: &str = include_str!("../../manifest.toml");

#[derive(Clone, Debug, Deserialize)]
pub struct Manifest {
    #[serde(rename = "model")]
    pub models: Vec<ModelSpec>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ModelSpec {
    pub name: String,
    /// The extractor this model serves.
    pub extractor: String,
    pub task: String,
    pub licence: String,
    pub origin: String,
    #[serde(rename = "file")]
    pub files: Vec<FileSpec>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FileSpec {
    /// Relative to the models dir, with forward slashes.
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// Where the file can be built from when no mirror is reachable.
    pub package: Option<crate::PackageSource>,
}

impl FileSpec {
    /// The SHA-256 a good copy of `size` bytes has: the file's own, or what its package source
    /// builds when that differs (a converted model; see `PackageSource::sha256`).
    pub fn expected_sha256(&self, size: u64) -> Option<&str> {
        if size == self.size {
            return Some(&self.sha256);
        }
        let p = self.package.as_ref()?;
        (p.size == Some(size))
            .then_some(p.sha256.as_deref())
            .flatten()
    }
}

impl Manifest {
    pub fn builtin() -> Manifest {
        Manifest::parse(BUILTIN).expect("the built-in manifest parses (a unit test checks it)")
    }

    pub fn parse(text: &str) -> Result<Manifest, toml::de::Error> {
        toml::from_str(text)
    }

    pub fn load(path: &Path) -> Result<Manifest, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| StoreError::io(path, e))?;
        Manifest::parse(&text).map_err(|e| StoreError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The model serving an extractor.
    pub fn for_extractor(&self, extractor: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.extractor == extractor)
    }
}

impl ModelSpec {
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifest_is_complete() {
        let m = Manifest::builtin();
        assert!(m.models.len() >= 7);
        for model in &m.models {
            assert!(!model.files.is_empty(), "{}", model.name);
            for f in &model.files {
                assert_eq!(f.sha256.len(), 64, "{}", f.path);
                assert!(f.size > 0 && !f.path.starts_with('/') && !f.path.contains(".."));
            }
        }
        let extractors: Vec<&str> = m.models.iter().map(|m| m.extractor.as_str()).collect();
        for e in ["tags", "objects", "faces", "ocr", "semantic", "transcript"] {
            assert!(extractors.contains(&e), "{e}");
        }
    }
}
