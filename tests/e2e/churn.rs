//! Churn: a seeded, generated sequence of file-system operations (creates, renames, moves across
//! folders and roots, overwrites, copies, deletes, folder creations, renames and deletions) run
//! against two watched roots while vxd indexes them. Afterwards the catalogue and the search
//! listing equal the disk exactly, and no content was extracted twice.
//!
//! VX_CHURN_OPS (default 1,500) and VX_CHURN_SEED (default 1) set the run;
//! scripts/soak-churn.sh runs 20,000 operations with fresh seeds.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::*;

/// A valid PNG of its own content: a small picture with bytes appended after its end, which
/// decoders ignore.
fn picture(pool: &[Vec<u8>], rng: &mut Rng, serial: u64) -> Vec<u8> {
    let mut bytes = rng.pick(pool).unwrap().clone();
    bytes.extend_from_slice(format!("churn {serial}").as_bytes());
    bytes
}

#[test]
fn churn_over_two_roots_converges_to_the_disk() {
    let ops = env_or("VX_CHURN_OPS", 1500);
    let seed = env_or("VX_CHURN_SEED", 1);
    let d = Daemon::started();
    let roots = [d.media.clone(), d.dir.path().join("media2")];
    fs::create_dir_all(&roots[1]).unwrap();
    for r in &roots {
        fs::create_dir_all(r.join("a/b")).unwrap();
        d.ok(&["add", r.to_str().unwrap()]);
    }
    let pool: Vec<Vec<u8>> = (0..8)
        .map(|i| {
            let p = d.dir.path().join(format!("pool{i}.png"));
            ffmpeg(&[
                "-f",
                "lavfi",
                "-i",
                &format!("testsrc=s=64x48:d=1,hue=h={}", i * 45),
                "-frames:v",
                "1",
                p.to_str().unwrap(),
            ]);
            fs::read(&p).unwrap()
        })
        .collect();

    let mut rng = Rng(seed);
    let mut serial = 0u64;
    let started = Instant::now();
    for _ in 0..ops {
        serial += 1;
        let root = &roots[rng.below(2)];
        let (files, mut dirs) = walk(root);
        dirs.push(root.clone());
        let dir = rng.pick(&dirs).unwrap().clone();
        let other_root = &roots[rng.below(2)];
        let (_, mut other_dirs) = walk(other_root);
        other_dirs.push(other_root.clone());
        let elsewhere = rng.pick(&other_dirs).unwrap().clone();
        // Failures (a path another operation just took away) are part of churn: ignored.
        let _ = match rng.below(100) {
            0..=29 => fs::write(
                dir.join(format!("IMG_{serial}.png")),
                picture(&pool, &mut rng, serial),
            ),
            30..=41 => match rng.pick(&files) {
                Some(f) => fs::rename(f, f.with_file_name(format!("renamed_{serial}.png"))),
                None => Ok(()),
            },
            42..=53 => match rng.pick(&files) {
                Some(f) => fs::rename(f, elsewhere.join(format!("moved_{serial}.png"))),
                None => Ok(()),
            },
            54..=61 => match rng.pick(&files) {
                Some(f) => fs::write(f, picture(&pool, &mut rng, serial)),
                None => Ok(()),
            },
            62..=71 => match rng.pick(&files) {
                Some(f) => fs::copy(f, elsewhere.join(format!("copy_{serial}.png"))).map(drop),
                None => Ok(()),
            },
            72..=83 => match rng.pick(&files) {
                Some(f) => fs::remove_file(f),
                None => Ok(()),
            },
            84..=91 => fs::create_dir_all(dir.join(format!("d{serial}/e{serial}"))),
            92..=97 if dir != *root => {
                let to = if rng.below(2) == 0 {
                    dir.with_file_name(format!("renamed_dir_{serial}"))
                } else {
                    elsewhere.join(format!("moved_dir_{serial}"))
                };
                if to.starts_with(&dir) {
                    Ok(())
                } else {
                    fs::rename(&dir, to)
                }
            }
            98..=99 if dir != *root && rng.below(4) == 0 => fs::remove_dir_all(&dir),
            _ => Ok(()),
        };
        if rng.below(10) == 0 {
            std::thread::sleep(Duration::from_millis(rng.below(20) as u64));
        }
    }
    let applied = started.elapsed();
    d.ok(&["wait", "--timeout", "600"]);
    let converged = started.elapsed();

    // The catalogue holds exactly the files on disk, every one settled as indexed.
    let on_disk: BTreeSet<PathBuf> = roots.iter().flat_map(|r| walk(r).0).collect();
    let db = d.db();
    let mut st = db.prepare("SELECT path, state FROM files").unwrap();
    let rows: Vec<(PathBuf, String)> = st
        .query_map([], |r| {
            let p: Vec<u8> = r.get(0)?;
            let path: std::ffi::OsString = std::os::unix::ffi::OsStringExt::from_vec(p);
            Ok((PathBuf::from(path), r.get(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let catalogued: BTreeSet<PathBuf> = rows.iter().map(|(p, _)| p.clone()).collect();
    let missing: Vec<_> = on_disk.difference(&catalogued).take(5).collect();
    let extra: Vec<_> = catalogued.difference(&on_disk).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} on disk, {} catalogued; missing {missing:?}, extra {extra:?}",
        on_disk.len(),
        catalogued.len()
    );
    let unsettled: Vec<_> = rows
        .iter()
        .filter(|(_, s)| s != "indexed")
        .take(5)
        .collect();
    assert!(unsettled.is_empty(), "{unsettled:?}");
    // Search lists the same files.
    let listed: BTreeSet<PathBuf> = d
        .search(&["--kind", "image", "--limit", "100000"])
        .into_iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(listed.len(), on_disk.len(), "search lists every file once");
    assert!(listed == on_disk, "search and disk differ");
    // Renames, moves and copies re-extracted nothing: every content ran its extractors once.
    let twice: i64 = db
        .query_row("SELECT count(*) FROM extractions WHERE runs > 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    if twice > 0 {
        let mut st = db
            .prepare(
                "SELECT e.extractor, e.runs, e.status, (SELECT group_concat(f.name) FROM files f
                 WHERE f.content_id = e.content_id) FROM extractions e WHERE runs > 1",
            )
            .unwrap();
        let rows: Vec<String> = st
            .query_map([], |r| {
                Ok(format!(
                    "{} runs={} {} files={:?}",
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        panic!("contents extracted more than once: {rows:#?}");
    }
    eprintln!(
        "churn: {ops} operations (seed {seed}) in {:.1} s; {} files on disk; converged {:.1} s \
         after the last operation",
        applied.as_secs_f64(),
        on_disk.len(),
        (converged - applied).as_secs_f64()
    );
}
