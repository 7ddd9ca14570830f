use super::*;
use std::collections::HashSet;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    (dir, store)
}

fn stat(inode: u64, size: u64) -> FileStat {
    FileStat {
        dev: 1,
        inode,
        size,
        mtime_ns: 1_000,
    }
}

#[test]
fn migrations_are_idempotent_and_wal_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    drop(Store::open(&path).unwrap());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap() as usize, MIGRATIONS.len());
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    drop(Store::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999")
        .unwrap();
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::TooNew { found: 999, .. })
    ));
}

#[test]
fn queue_claims_each_job_once_and_backs_off() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let a = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let b = store
        .insert_file(root, Path::new("/r/b.jpg"), &stat(2, 10))
        .unwrap();
    let j1 = store.claim_job().unwrap().unwrap();
    let j2 = store.claim_job().unwrap().unwrap();
    assert_eq!((j1.file_id, j2.file_id), (a, b));
    assert!(store.claim_job().unwrap().is_none());
    assert_eq!(store.queue_depth().unwrap(), (2, 0));

    // Transient failure: waits for the backoff, then gives up after max attempts.
    assert!(!store.retry_or_fail(&j1, "disk hiccup", 2, 60).unwrap());
    assert_eq!(store.queue_depth().unwrap(), (1, 1));
    assert!(
        store.claim_job().unwrap().is_none(),
        "backoff not respected"
    );
    store
        .conn()
        .exec("UPDATE jobs SET next_attempt = 0", [])
        .unwrap();
    let again = store.claim_job().unwrap().unwrap();
    assert_eq!(again.attempts, 1);
    assert!(store.retry_or_fail(&again, "disk hiccup", 2, 60).unwrap());
    let f = store.file(a).unwrap().unwrap();
    assert_eq!(f.state, FileState::Failed);
    assert!(f.message.unwrap().contains("gave up after 2 attempts"));

    // A crash leaves running jobs; they go back to the queue.
    assert_eq!(store.requeue_running().unwrap(), 1);
    assert_eq!(store.claim_job().unwrap().unwrap().file_id, b);
}

#[test]
fn finish_is_refused_when_the_file_changed_meanwhile() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let id = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let job = store.claim_job().unwrap().unwrap();
    let (content, _) = store
        .insert_content(b"h", 10, &ContentMeta::default())
        .unwrap();
    store.mark_changed(id, &stat(1, 20)).unwrap();
    assert!(
        !store
            .finish_file(&job, content, &stat(1, 10), FileState::Indexed, None)
            .unwrap()
    );
    assert_eq!(store.file(id).unwrap().unwrap().state, FileState::Pending);
    assert!(
        store.claim_job().unwrap().is_some(),
        "the job must stay queued"
    );
}

#[test]
fn a_new_extractor_queues_only_the_kinds_of_media_it_applies_to() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    for (i, (name, kind)) in [("a.jpg", MediaKind::Image), ("b.m4a", MediaKind::Audio)]
        .into_iter()
        .enumerate()
    {
        let path = Path::new("/r").join(name);
        store
            .insert_file(root, &path, &stat(i as u64 + 1, 10))
            .unwrap();
        let job = store.claim_job().unwrap().unwrap();
        let meta = ContentMeta {
            kind: Some(kind),
            ..ContentMeta::default()
        };
        let (content, _) = store.insert_content(name.as_bytes(), 10, &meta).unwrap();
        store
            .finish_file(
                &job,
                content,
                &stat(i as u64 + 1, 10),
                FileState::Indexed,
                None,
            )
            .unwrap();
        store
            .record_extraction(content, "metadata", 4, None)
            .unwrap();
    }
    // An extractor that hears sound (kinds: video, audio) and one that applies to everything.
    let sound = crate::extractors::ALL
        .iter()
        .find(|e| e.kinds().contains(&MediaKind::Audio) && !e.kinds().contains(&MediaKind::Image))
        .expect("an extractor for sound only");
    let wanted = vec![(sound.name().to_string(), sound.version())];
    assert_eq!(
        store
            .enqueue_for_new_extractors(&wanted, ("metadata", 4))
            .unwrap(),
        1
    );
    let job = store.claim_job().unwrap().unwrap();
    assert_eq!(
        store.file(job.file_id).unwrap().unwrap().path,
        Path::new("/r/b.m4a")
    );
    store.drop_job(job.id).unwrap();
    let all = vec![("thumbnails".to_string(), 1)];
    assert_eq!(
        store
            .enqueue_for_new_extractors(&all, ("metadata", 4))
            .unwrap(),
        2
    );
}

#[test]
fn only_extractors_new_since_the_last_start_check_the_whole_library() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let job = store.claim_job().unwrap().unwrap();
    let meta = ContentMeta {
        kind: Some(MediaKind::Image),
        ..ContentMeta::default()
    };
    let (content, _) = store.insert_content(b"h", 10, &meta).unwrap();
    store
        .finish_file(&job, content, &stat(1, 10), FileState::Indexed, None)
        .unwrap();
    store
        .record_extraction(content, "metadata", 4, None)
        .unwrap();
    let tags = vec![("tags".to_string(), 1)];
    let start = |enabled: &[(String, u32)]| {
        let n = store
            .enqueue_for_new_extractors(enabled, ("metadata", 4))
            .unwrap();
        if let Some(job) = store.claim_job().unwrap() {
            store.record_extraction(content, "tags", 1, None).unwrap();
            store.drop_job(job.id).unwrap();
        }
        n
    };
    assert_eq!(start(&[]), 0, "metadata 4 is done");
    assert_eq!(start(&tags), 1, "a model installed: its extractor runs");
    store
        .conn()
        .exec("DELETE FROM extractions WHERE extractor = 'tags'", [])
        .unwrap();
    assert_eq!(start(&tags), 0, "the same set as last time: no join");
    assert_eq!(start(&[]), 0);
    assert_eq!(
        start(&tags),
        1,
        "removed, then installed again: checked again"
    );
    assert_eq!(start(&tags), 0);
    // A new decoder version redoes metadata the older one wrote.
    assert_eq!(
        store
            .enqueue_for_new_extractors(&tags, ("metadata", 5))
            .unwrap(),
        1
    );
}

#[test]
fn every_visible_change_lands_in_the_index_outbox() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let id = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    store
        .move_file(id, root, Path::new("/r/b.jpg"), &stat(1, 10))
        .unwrap();
    let (last, ids) = store.index_backlog(100).unwrap();
    assert_eq!(ids, vec![id]);
    store.index_ack(last).unwrap();
    assert_eq!(store.index_pending().unwrap(), 0);
    store.delete_files(&[id]).unwrap();
    assert_eq!(store.index_backlog(100).unwrap().1, vec![id]);
    assert!(store.index_doc(id).unwrap().is_none());
}

#[test]
fn orphaned_contents_are_collected_after_grace() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let id = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let job = store.claim_job().unwrap().unwrap();
    let (c, _) = store
        .insert_content(b"h", 10, &ContentMeta::default())
        .unwrap();
    store.record_extraction(c, "metadata", 1, None).unwrap();
    assert!(
        store
            .finish_file(&job, c, &stat(1, 10), FileState::Skipped, None)
            .unwrap()
    );
    store.delete_files(&[id]).unwrap();
    assert_eq!(store.collect_orphans(3600).unwrap(), 0, "grace period");
    assert_eq!(store.collect_orphans(-1).unwrap(), 1);
    assert!(
        store.extractions(c).unwrap().is_empty(),
        "results go with their content"
    );
}

#[test]
fn every_pending_file_keeps_a_job_that_will_run() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let a = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let job = store.claim_job().unwrap().unwrap();
    // A job ended while its file is still pending is put back.
    store.drop_job(job.id).unwrap();
    assert_eq!(store.pending_without_job().unwrap(), 0);
    assert_eq!(store.claim_job().unwrap().unwrap().file_id, a);
    // A failed file made pending again gets its failed job back in the queue.
    let job = Job {
        id: store
            .conn
            .one("SELECT id FROM jobs", [], |r| r.get(0))
            .unwrap(),
        file_id: a,
        attempts: 0,
    };
    store.fail_job(&job, "broken").unwrap();
    assert_eq!(store.queue_depth().unwrap(), (0, 0));
    store.mark_changed(a, &stat(1, 11)).unwrap();
    assert_eq!(store.queue_depth().unwrap(), (1, 0));
    // Back from offline as pending: a job again.
    store.set_root_offline(root).unwrap();
    store.conn.exec("DELETE FROM jobs", []).unwrap();
    store.set_root_online(root).unwrap();
    assert_eq!(store.file(a).unwrap().unwrap().state, FileState::Pending);
    assert_eq!(store.queue_depth().unwrap(), (1, 0));
    // A deleted file takes its job with it, for good.
    store.delete_files(&[a]).unwrap();
    assert_eq!(store.queue_depth().unwrap(), (0, 0));
    assert_eq!(
        store
            .conn
            .one("SELECT count(*) FROM jobs", [], |r| r.get::<_, i64>(0))
            .unwrap(),
        0
    );
}

#[test]
fn pending_files_without_a_job_are_found_and_repaired() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let a = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    // A catalogue written before the triggers existed.
    store
        .conn
        .execute_batch("DROP TRIGGER pending_keeps_job; DELETE FROM jobs;")
        .unwrap();
    assert_eq!(store.pending_without_job().unwrap(), 1);
    assert_eq!(store.repair_pending_jobs().unwrap(), 1);
    assert_eq!(store.pending_without_job().unwrap(), 0);
    assert_eq!(store.claim_job().unwrap().unwrap().file_id, a);
    assert_eq!(store.repair_pending_jobs().unwrap(), 0);
}

#[test]
fn a_vanished_file_is_forgotten_unless_it_was_moved_meanwhile() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let a = store
        .insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))
        .unwrap();
    let job = store.claim_job().unwrap().unwrap();
    // The rename's notice came first: the job runs again, at the new place.
    store
        .move_file(a, root, Path::new("/r/b.jpg"), &stat(1, 10))
        .unwrap();
    assert!(!store.forget_vanished(&job, Path::new("/r/a.jpg")).unwrap());
    let again = store.claim_job().unwrap().unwrap();
    assert_eq!(again.file_id, a);
    // Gone from where it is catalogued: forgotten, job and all.
    assert!(
        store
            .forget_vanished(&again, Path::new("/r/b.jpg"))
            .unwrap()
    );
    assert!(store.file(a).unwrap().is_none());
    assert_eq!(store.queue_depth().unwrap(), (0, 0));
}

#[test]
fn a_failed_transaction_leaves_nothing_and_no_lock() {
    let (d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    let files = |s: &Store| -> i64 {
        s.conn
            .one("SELECT count(*) FROM files", [], |r| r.get(0))
            .unwrap()
    };
    // An error half-way: the first insert is undone.
    let err = store.in_transaction(|s| {
        s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
        s.conn.exec("INSERT INTO no_such_table VALUES (1)", [])?;
        Ok(())
    });
    assert!(err.is_err());
    assert_eq!(files(&store), 0);
    // A panic half-way: undone too.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.in_transaction(|s| -> Result<()> {
            s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
            panic!("half-way");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(files(&store), 0);
    // A nested failure is undone alone; the outer transaction goes on.
    store
        .in_transaction(|s| {
            s.insert_file(root, Path::new("/r/a.jpg"), &stat(1, 10))?;
            let inner = s.in_transaction(|s| {
                s.insert_file(root, Path::new("/r/b.jpg"), &stat(2, 10))?;
                s.conn.exec("INSERT INTO no_such_table VALUES (1)", [])?;
                Ok(())
            });
            assert!(inner.is_err());
            Ok(())
        })
        .unwrap();
    assert_eq!(files(&store), 1);
    // And the write lock is free: another connection writes at once.
    let other = Store::open(&d.path().join("db")).unwrap();
    other.conn.busy_timeout(Duration::ZERO).unwrap();
    other
        .insert_file(root, Path::new("/r/c.jpg"), &stat(3, 10))
        .unwrap();
    assert_eq!(files(&other), 2);
}

/// The tallies against counting every row, after each of a long random run of the changes
/// the catalogue makes: a trigger missed by one statement would drift here.
#[test]
fn tallies_agree_with_counting_after_every_kind_of_change() {
    let (_d, store) = store();
    let mut roots = vec![store.add_root(Path::new("/a"), 1).unwrap()];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let counted =
        |store: &Store| -> String {
            let q = |sql: &str| -> Vec<String> {
                let mut st = store.conn().prepare(sql).unwrap();
                st.query_map([], |r| {
                    Ok(format!(
                        "{:?}/{:?}",
                        r.get::<_, Value>(0)?,
                        r.get::<_, Value>(1)?
                    ))
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
            };
            let mut files = q("SELECT state, count(*) FROM files GROUP BY 1 ORDER BY 1");
            files.extend(q(
                "SELECT root_id, count(*) FROM files GROUP BY 1 ORDER BY 1",
            ));
            files.extend(q(
                "SELECT message LIKE 'unsupported format:%', count(*) FROM files
             WHERE state = 'skipped' GROUP BY 1 ORDER BY 1",
            ));
            files.extend(q("SELECT root_id || reason, sum(folder) || '/' || count(*)
                        FROM left_out GROUP BY 1 ORDER BY 1"));
            files.extend(q("SELECT state, count(*) FROM jobs
                        WHERE state IN ('queued', 'running') GROUP BY 1 ORDER BY 1"));
            files.extend(q("SELECT 'contents', count(*) FROM contents"));
            files.extend(q("SELECT extractor || version, count(*) FROM extractions
                        WHERE status = 'done' GROUP BY 1 ORDER BY 1"));
            files.join(" ")
        };
    let tallied = |store: &Store| -> String {
        let mut out: Vec<String> = store
            .state_counts()
            .unwrap()
            .into_iter()
            .filter(|c| c.1 > 0)
            .map(|(s, n)| format!("Text({:?})/Integer({n})", s.as_str()))
            .collect();
        out.sort();
        let mut by_root: Vec<_> = store.root_file_counts().unwrap().into_iter().collect();
        by_root.sort();
        out.extend(
            by_root
                .into_iter()
                .filter(|c| c.1 > 0)
                .map(|(r, n)| format!("Integer({r})/Integer({n})")),
        );
        let (plain, unsupported) = store.skipped_counts().unwrap();
        for (flag, n) in [(0, plain), (1, unsupported)] {
            if n > 0 {
                out.push(format!("Integer({flag})/Integer({n})"));
            }
        }
        let mut left: Vec<String> = Vec::new();
        for r in store.roots().unwrap() {
            for (reason, folders, files) in store.left_out_counts(r.id).unwrap() {
                left.push(format!(
                    "Text(\"{}{reason}\")/Text(\"{folders}/{}\")",
                    r.id,
                    folders + files
                ));
            }
        }
        left.sort();
        out.extend(left);
        let running: i64 = store
            .conn()
            .query_row("SELECT n FROM job_tally WHERE state = 'running'", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        let (active, waiting) = store.queue_depth().unwrap();
        let queued = active + waiting - running as u64;
        for (state, n) in [("queued", queued), ("running", running as u64)] {
            if n > 0 {
                out.push(format!("Text({state:?})/Integer({n})"));
            }
        }
        out.push(format!(
            "Text(\"contents\")/Integer({})",
            store.content_count().unwrap()
        ));
        for (name, version) in [("ocr", 1), ("ocr", 2), ("tags", 1)] {
            let n = store.extraction_done_count(name, version).unwrap();
            if n > 0 {
                out.push(format!("Text(\"{name}{version}\")/Integer({n})"));
            }
        }
        out.join(" ")
    };
    let mut next = 0u64;
    for step in 0..600 {
        let files: Vec<FileRow> = roots
            .iter()
            .flat_map(|r| store.files_of_root(*r).unwrap())
            .collect();
        let file = (!files.is_empty()).then(|| &files[rand(files.len())]);
        let root = roots[rand(roots.len())];
        next += 1;
        match rand(13) {
            0 | 1 => {
                let path = format!("/a/{}/f{next}", rand(3));
                store
                    .insert_file(root, Path::new(&path), &stat(next, 10))
                    .unwrap();
            }
            2 => {
                if let Some(job) = store.claim_job().unwrap() {
                    let hash = blake3::hash(&job.file_id.to_le_bytes());
                    let (cid, _) = store
                        .insert_content(hash.as_bytes(), 10, &ContentMeta::default())
                        .unwrap();
                    let f = store.file(job.file_id).unwrap().unwrap();
                    store
                        .finish_file(&job, cid, &f.stat, FileState::Indexed, None)
                        .unwrap();
                }
            }
            3 => {
                if let Some(job) = store.claim_job().unwrap() {
                    let message = ["unsupported format: x (needs y)", "not media"][rand(2)];
                    store
                        .settle_without_content(&job, FileState::Skipped, message)
                        .unwrap();
                }
            }
            4 => {
                if let Some(job) = store.claim_job().unwrap() {
                    match rand(3) {
                        0 => store.fail_job(&job, "bad").unwrap(),
                        1 => drop(store.retry_or_fail(&job, "again", 2, 60).unwrap()),
                        _ => store.release_job(job.id).unwrap(),
                    }
                }
            }
            5 => {
                if let Some(f) = file {
                    store.mark_changed(f.id, &stat(next, 11)).unwrap();
                }
            }
            6 => {
                if let Some(f) = file {
                    let path = format!("/a/{}/moved{next}", rand(3));
                    store
                        .move_file(f.id, root, Path::new(&path), &f.stat)
                        .unwrap();
                }
            }
            7 => {
                if let Some(f) = file {
                    store.delete_files(&[f.id]).unwrap();
                }
            }
            8 => match rand(3) {
                0 => drop(store.set_root_offline(root).unwrap()),
                1 => drop(store.set_root_online(root).unwrap()),
                _ => drop(store.requeue_failed().unwrap()),
            },
            9 => {
                let dir = PathBuf::from(format!("/a/{}", rand(3)));
                let entries: Vec<(PathBuf, String, bool)> = (0..rand(4))
                    .map(|i| {
                        let reason = ["excluded", ".nomedia", "app library"][rand(3)];
                        (dir.join(format!("x{i}")), reason.to_string(), rand(2) == 0)
                    })
                    .collect();
                store.replace_left_out(root, &dir, &entries).unwrap();
            }
            10 => match rand(4) {
                0 if roots.len() < 3 => {
                    let path = format!("/r{next}");
                    roots.push(store.add_root(Path::new(&path), 1).unwrap());
                }
                1 if roots.len() > 1 => {
                    let inner = roots.pop().unwrap();
                    store.absorb_root(roots[0], inner).unwrap();
                }
                2 if roots.len() > 1 => {
                    let gone = roots.remove(rand(roots.len()));
                    store.remove_root(gone).unwrap();
                }
                _ => drop(store.collect_orphans(-1).unwrap()),
            },
            11 => {
                let content: Option<i64> = store
                    .conn()
                    .one(
                        "SELECT id FROM contents ORDER BY random() LIMIT 1",
                        [],
                        |r| r.get(0),
                    )
                    .optional()
                    .unwrap();
                if let Some(cid) = content {
                    let (name, version) = [("ocr", 1), ("ocr", 2), ("tags", 1)][rand(3)];
                    let error = (rand(3) == 0).then_some("model failed");
                    store.record_extraction(cid, name, version, error).unwrap();
                }
            }
            _ => drop(store.requeue_running().unwrap()),
        }
        assert_eq!(tallied(&store), counted(&store), "after step {step}");
    }
}

/// The semantic channel looks up the files of its nearest rows' contents: by the content
/// index, never by reading every file through the state index (what SQLite chose unprompted).
#[test]
fn files_of_contents_are_found_by_the_content_index() {
    let (_dir, store) = store();
    let plan: Vec<String> = store
        .conn()
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            vectors::files_of_sql(&[3, 5, 8])
        ))
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let files = plan.iter().find(|p| p.contains(" f ")).unwrap();
    assert!(files.contains("files_content"), "{plan:?}");
}

#[test]
fn a_new_version_s_run_replaces_the_older_one() {
    let (_d, store) = store();
    let (c, _) = store
        .insert_content(b"h", 1, &ContentMeta::default())
        .unwrap();
    let mut out = crate::semantic::tests::embedded("transcript", "hello", &[1.0], 1.0);
    store.save_output(c, &out).unwrap();
    out.outcomes[0].version = 2;
    store.save_output(c, &out).unwrap();
    let runs: Vec<(String, u32)> = store
        .extractions(c)
        .unwrap()
        .into_iter()
        .map(|e| (e.extractor, e.version))
        .collect();
    assert_eq!(runs, [("transcript".to_string(), 2)]);
}

#[test]
fn paths_present_finds_the_catalogued_among_many() {
    let (_d, store) = store();
    let root = store.add_root(Path::new("/r"), 1).unwrap();
    for (i, name) in ["IMG_0001.MOV", "odd name é.mp4"].iter().enumerate() {
        store
            .insert_file(root, &Path::new("/r").join(name), &stat(i as u64 + 1, 10))
            .unwrap();
    }
    // More names than one statement takes, the catalogued ones in the last chunk.
    let mut asked: Vec<PathBuf> = (0..1200)
        .map(|i| PathBuf::from(format!("/r/IMG_{i}.mov")))
        .collect();
    asked.push("/r/IMG_0001.MOV".into());
    asked.push("/r/odd name é.mp4".into());
    let present = store.paths_present(&asked).unwrap();
    let expected: HashSet<PathBuf> = ["/r/IMG_0001.MOV", "/r/odd name é.mp4"]
        .iter()
        .map(PathBuf::from)
        .collect();
    assert_eq!(present, expected);
}
