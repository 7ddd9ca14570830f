//! Downloading models from a mirror of the store's layout (`BASE/tags/...`), with resume of
//! interrupted downloads (HTTP Range) and a hash check before anything lands in the store.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::verify::{finish, hex};
use crate::{FileSpec, ModelSpec, StoreError, part_path};

/// Progress reports for a caller's progress bar.
#[derive(Debug)]
pub enum FetchEvent<'a> {
    /// A file starts (or resumes at `offset` bytes).
    File {
        model: &'a str,
        path: &'a str,
        size: u64,
        offset: u64,
    },
    /// More bytes of the current file arrived.
    Bytes(u64),
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(15))
        .timeout_read(Duration::from_secs(60))
        .build()
}

/// Downloads every model of `models` that is not already verified in `dest`. Returns each
/// model with its outcome (Ok(true) fetched, Ok(false) already there).
pub fn fetch<'m>(
    base_url: &str,
    dest: &Path,
    models: &'m [ModelSpec],
    on: &mut dyn FnMut(FetchEvent),
) -> Vec<(&'m ModelSpec, Result<bool, StoreError>)> {
    let agent = agent();
    crate::verify::install_missing(dest, models, |m, f, to| {
        fetch_file(&agent, base_url, to, m, f, on)
    })
}

fn fetch_file(
    agent: &ureq::Agent,
    base_url: &str,
    dest: &Path,
    model: &ModelSpec,
    spec: &FileSpec,
    on: &mut dyn FnMut(FetchEvent),
) -> Result<(), StoreError> {
    let url = format!("{}/{}", base_url.trim_end_matches('/'), spec.path);
    let fail = |message: String| StoreError::Download {
        url: url.clone(),
        message,
    };
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let part = part_path(dest);
    // Resume: hash what an earlier attempt left, then ask for the rest.
    let (mut hasher, mut offset) = hash_existing(&part)?;
    if offset > spec.size {
        (hasher, offset) = (Sha256::new(), 0);
    }
    let total = if offset == spec.size {
        offset
    } else {
        let mut request = agent.get(&url);
        if offset > 0 {
            request = request.set("Range", &format!("bytes={offset}-"));
        }
        let response = request.call().map_err(|e| fail(e.to_string()))?;
        let out = if response.status() == 206 {
            OpenOptions::new().append(true).open(&part)
        } else {
            // The server sent the whole file: start over.
            (hasher, offset) = (Sha256::new(), 0);
            File::create(&part)
        }
        .map_err(|e| StoreError::io(&part, e))?;
        on(FetchEvent::File {
            model: &model.name,
            path: &spec.path,
            size: spec.size,
            offset,
        });
        stream(response, out, &mut hasher, offset, on, &part).map_err(|e| map_stream(e, &url))?
    };
    let result = finish(&part, dest, spec, total, &hex(&hasher.finalize()));
    if result.is_err() {
        // A complete but wrong file must not be resumed next time.
        let _ = std::fs::remove_file(&part);
    }
    result
}

fn hash_existing(part: &Path) -> Result<(Sha256, u64), StoreError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let Ok(mut f) = File::open(part) else {
        return Ok((hasher, 0));
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| StoreError::io(part, e))?;
        if n == 0 {
            return Ok((hasher, size));
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

enum StreamError {
    Net(std::io::Error),
    Disk(StoreError),
}

fn map_stream(e: StreamError, url: &str) -> StoreError {
    match e {
        StreamError::Net(e) => StoreError::Download {
            url: url.to_string(),
            message: format!("{e} (what arrived is kept; run the command again to resume)"),
        },
        StreamError::Disk(e) => e,
    }
}

/// Appends the response body to `out`; returns the bytes in the file in all.
fn stream(
    response: ureq::Response,
    mut out: File,
    hasher: &mut Sha256,
    mut total: u64,
    on: &mut dyn FnMut(FetchEvent),
    part: &Path,
) -> Result<u64, StreamError> {
    let mut body = response.into_reader();
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = body.read(&mut buf).map_err(StreamError::Net)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])
            .map_err(|e| StreamError::Disk(StoreError::io(part, e)))?;
        hasher.update(&buf[..n]);
        total += n as u64;
        on(FetchEvent::Bytes(n as u64));
    }
    out.sync_all()
        .map_err(|e| StreamError::Disk(StoreError::io(part, e)))?;
    Ok(total)
}
