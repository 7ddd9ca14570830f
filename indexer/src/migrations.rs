//! Versioned schema migrations, applied in order inside one transaction each.
//! `PRAGMA user_version` records how many have run. Never edit a released step: add one.

pub const MIGRATIONS: &[&str] = &[
    // 1: the catalogue, the durable job queue, per-extractor results and the index outbox.
    r#"
    CREATE TABLE roots (
        id        INTEGER PRIMARY KEY,
        path      BLOB NOT NULL UNIQUE,
        dev       INTEGER NOT NULL,          -- st_dev when added: a change means "unmounted"
        state     TEXT NOT NULL DEFAULT 'watching',
        message   TEXT,
        added_at  INTEGER NOT NULL
    );
    CREATE TABLE contents (
        id          INTEGER PRIMARY KEY,
        hash        BLOB NOT NULL UNIQUE,    -- BLAKE3 of the bytes: the identity for extraction
        size        INTEGER NOT NULL,
        kind        TEXT,                    -- image | video | audio | NULL when not media
        format      TEXT,
        duration    REAL,
        width       INTEGER,
        height      INTEGER,
        video_codec TEXT,
        audio_codec TEXT,
        taken       INTEGER,                 -- creation time from EXIF or the container
        error       TEXT,                    -- why it is not usable media
        orphaned_at INTEGER                  -- set when its last file went away
    );
    CREATE TABLE files (
        id         INTEGER PRIMARY KEY,
        root_id    INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path       BLOB NOT NULL UNIQUE,
        name       TEXT NOT NULL,            -- lossy UTF-8 file name, for the text index
        dev        INTEGER NOT NULL,
        inode      INTEGER NOT NULL,
        size       INTEGER NOT NULL,
        mtime_ns   INTEGER NOT NULL,
        content_id INTEGER REFERENCES contents(id),
        state      TEXT NOT NULL,            -- pending | indexed | skipped | failed | offline
        offline_from TEXT,                   -- the state to return to when back online
        message    TEXT,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX files_root ON files(root_id);
    CREATE INDEX files_inode ON files(dev, inode);
    CREATE INDEX files_content ON files(content_id);
    CREATE INDEX files_state ON files(state);

    CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY,
        file_id      INTEGER NOT NULL UNIQUE REFERENCES files(id) ON DELETE CASCADE,
        state        TEXT NOT NULL DEFAULT 'queued',   -- queued | running | failed
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        created_at   INTEGER NOT NULL
    );
    CREATE INDEX jobs_ready ON jobs(state, next_attempt);

    CREATE TABLE extractions (
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        extractor  TEXT NOT NULL,
        version    INTEGER NOT NULL,
        status     TEXT NOT NULL,            -- done | failed
        error      TEXT,
        runs       INTEGER NOT NULL DEFAULT 1,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (content_id, extractor, version)
    );

    -- Timed results of extractors (transcripts, OCR lines, tags...), filled by later extractors.
    CREATE TABLE segments (
        id         INTEGER PRIMARY KEY,
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        extractor  TEXT NOT NULL,
        source     TEXT NOT NULL,
        start      REAL NOT NULL,
        end        REAL NOT NULL,
        text       TEXT NOT NULL,
        confidence REAL
    );
    CREATE INDEX segments_content ON segments(content_id);

    -- Outbox for the text index: every change to a file that search can see adds a row in the
    -- same transaction; the indexer drains it after each tantivy commit. A crash in between
    -- replays rows, and replaying is idempotent.
    CREATE TABLE index_queue (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL
    );
    CREATE TRIGGER files_ins AFTER INSERT ON files
        BEGIN INSERT INTO index_queue(file_id) VALUES (NEW.id); END;
    CREATE TRIGGER files_upd AFTER UPDATE OF path, state, content_id ON files
        BEGIN INSERT INTO index_queue(file_id) VALUES (NEW.id); END;
    CREATE TRIGGER files_del AFTER DELETE ON files
        BEGIN INSERT INTO index_queue(file_id) VALUES (OLD.id); END;

    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    "#,
    // 2: what extractors produce beyond timed text: embeddings, frames, faces.
    r#"
    ALTER TABLE segments ADD COLUMN embedding BLOB;     -- f32 little-endian, text embedding
    CREATE INDEX segments_source ON segments(content_id, extractor);
    CREATE TABLE frames (
        id         INTEGER PRIMARY KEY,
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        time       REAL NOT NULL,
        thumb      TEXT,                                 -- relative to the thumbnails dir
        clip       BLOB                                  -- CLIP image embedding, f32 LE
    );
    CREATE INDEX frames_content ON frames(content_id);
    CREATE TABLE faces (
        id         INTEGER PRIMARY KEY,
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        time       REAL NOT NULL,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        score      REAL NOT NULL,
        descriptor BLOB NOT NULL,                        -- 1024 f32 LE, unit length
        age        REAL,
        male       REAL,
        person_id  INTEGER
    );
    CREATE INDEX faces_content ON faces(content_id);
    "#,
    // 3: faces grouped into people.
    r#"
    CREATE TABLE people (
        id         INTEGER PRIMARY KEY,
        name       TEXT,
        centroid   BLOB NOT NULL,                       -- sum of member descriptors, f32 LE
        faces      INTEGER NOT NULL DEFAULT 0,
        pinned     INTEGER NOT NULL DEFAULT 0,           -- named or merged by the user: kept whole
        created_at INTEGER NOT NULL
    );
    ALTER TABLE faces ADD COLUMN thumb TEXT;            -- face crop, relative to the thumbnails dir
    CREATE INDEX faces_person ON faces(person_id);
    "#,
    // 4: count changes to loaded embeddings (deleted, or a frame's CLIP vector set later), so
    // the in-memory vector stores reload in full only when appending cannot catch up.
    r#"
    INSERT OR IGNORE INTO counters(name, value) VALUES ('vectors_changed', 0);
    CREATE TRIGGER segments_vector_gone AFTER DELETE ON segments WHEN OLD.embedding IS NOT NULL
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'vectors_changed'; END;
    CREATE TRIGGER frames_vector_gone AFTER DELETE ON frames WHEN OLD.clip IS NOT NULL
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'vectors_changed'; END;
    CREATE TRIGGER frames_vector_set AFTER UPDATE OF clip ON frames
        WHEN OLD.clip IS NOT NEW.clip
        BEGIN UPDATE counters SET value = value + 1 WHERE name = 'vectors_changed'; END;
    "#,
    // 5: every pending file has a job that will run it (queued or running), kept by the
    // database in the same transaction as every change that makes a file pending or ends a job:
    // a file made pending gets one (or its failed one back in the queue), and a job deleted
    // while its file is still pending is put back. Without this, a job that ended early (its
    // file renamed while queued) left the file pending for good.
    r#"
    CREATE TRIGGER pending_gets_job_ins AFTER INSERT ON files WHEN NEW.state = 'pending'
        BEGIN
            INSERT INTO jobs(file_id, created_at) SELECT NEW.id, unixepoch()
                WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE file_id = NEW.id);
        END;
    CREATE TRIGGER pending_gets_job_upd AFTER UPDATE OF state ON files WHEN NEW.state = 'pending'
        BEGIN
            INSERT INTO jobs(file_id, created_at) SELECT NEW.id, unixepoch()
                WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE file_id = NEW.id);
            UPDATE jobs SET state = 'queued', attempts = 0, next_attempt = 0
                WHERE file_id = NEW.id AND state = 'failed';
        END;
    CREATE TRIGGER pending_keeps_job AFTER DELETE ON jobs
        WHEN EXISTS (SELECT 1 FROM files WHERE id = OLD.file_id AND state = 'pending')
        BEGIN
            INSERT INTO jobs(file_id, created_at) VALUES (OLD.file_id, unixepoch());
        END;
    "#,
    // 6: where a photo or video was taken (GPS) and the place there; what took it.
    r#"
    ALTER TABLE contents ADD COLUMN camera TEXT;       -- "Apple iPhone 15, ... front camera ..."
    ALTER TABLE contents ADD COLUMN latitude REAL;
    ALTER TABLE contents ADD COLUMN longitude REAL;
    ALTER TABLE contents ADD COLUMN place TEXT;        -- "Rome, Latium, Italy"
    ALTER TABLE contents ADD COLUMN place_terms TEXT;  -- every word search finds the place by
    "#,
    // 7: what the user excluded in each folder (glob patterns, one a line), and what scans and
    // notices left out and why (a pruned folder is one row, whatever it holds).
    r#"
    ALTER TABLE roots ADD COLUMN exclude TEXT NOT NULL DEFAULT '';
    CREATE TABLE left_out (
        path    BLOB PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        reason  TEXT NOT NULL,
        folder  INTEGER NOT NULL
    );
    CREATE INDEX left_out_root ON left_out(root_id);
    "#,
    // 8: the content identifier a Live Photo's still and clip share.
    r#"
    ALTER TABLE contents ADD COLUMN pair_id TEXT;
    "#,
    // 9: tallies kept by the database in the same transaction as every change they count, so
    // `vx status` and the job loop read totals in constant time instead of counting a library of
    // a million files on every poll. Files by root and state ('unsupported' for skipped files in
    // a format this vx cannot read yet), what each root leaves out, jobs by state, contents.
    r#"
    CREATE TABLE file_tally (
        root_id INTEGER NOT NULL,
        bucket  TEXT NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (root_id, bucket)
    ) WITHOUT ROWID;
    INSERT INTO file_tally
        SELECT root_id, CASE WHEN files.state = 'skipped' AND files.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE files.state END, count(*) FROM files GROUP BY 1, 2;
    CREATE TRIGGER file_tally_ins AFTER INSERT ON files BEGIN
        INSERT INTO file_tally VALUES (NEW.root_id, CASE WHEN NEW.state = 'skipped' AND NEW.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE NEW.state END, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER file_tally_del AFTER DELETE ON files BEGIN
        UPDATE file_tally SET n = n - 1
            WHERE root_id = OLD.root_id AND bucket = CASE WHEN OLD.state = 'skipped' AND OLD.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE OLD.state END;
    END;
    CREATE TRIGGER file_tally_upd AFTER UPDATE OF root_id, state, message ON files
        WHEN OLD.root_id IS NOT NEW.root_id OR (CASE WHEN OLD.state = 'skipped' AND OLD.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE OLD.state END) IS NOT (CASE WHEN NEW.state = 'skipped' AND NEW.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE NEW.state END)
    BEGIN
        UPDATE file_tally SET n = n - 1
            WHERE root_id = OLD.root_id AND bucket = CASE WHEN OLD.state = 'skipped' AND OLD.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE OLD.state END;
        INSERT INTO file_tally VALUES (NEW.root_id, CASE WHEN NEW.state = 'skipped' AND NEW.message LIKE 'unsupported format:%' THEN 'unsupported' ELSE NEW.state END, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

    CREATE TABLE left_out_tally (
        root_id INTEGER NOT NULL,
        reason  TEXT NOT NULL,
        folder  INTEGER NOT NULL,
        n       INTEGER NOT NULL,
        PRIMARY KEY (root_id, reason, folder)
    ) WITHOUT ROWID;
    INSERT INTO left_out_tally
        SELECT root_id, reason, folder, count(*) FROM left_out GROUP BY 1, 2, 3;
    CREATE TRIGGER left_out_tally_ins AFTER INSERT ON left_out BEGIN
        INSERT INTO left_out_tally VALUES (NEW.root_id, NEW.reason, NEW.folder, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER left_out_tally_del AFTER DELETE ON left_out BEGIN
        UPDATE left_out_tally SET n = n - 1
            WHERE root_id = OLD.root_id AND reason = OLD.reason AND folder = OLD.folder;
    END;
    CREATE TRIGGER left_out_tally_upd AFTER UPDATE OF root_id, reason, folder ON left_out BEGIN
        UPDATE left_out_tally SET n = n - 1
            WHERE root_id = OLD.root_id AND reason = OLD.reason AND folder = OLD.folder;
        INSERT INTO left_out_tally VALUES (NEW.root_id, NEW.reason, NEW.folder, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER tallies_of_root_gone AFTER DELETE ON roots BEGIN
        DELETE FROM file_tally WHERE root_id = OLD.id;
        DELETE FROM left_out_tally WHERE root_id = OLD.id;
    END;

    CREATE TABLE job_tally (state TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO job_tally SELECT state, count(*) FROM jobs GROUP BY 1;
    CREATE TRIGGER job_tally_ins AFTER INSERT ON jobs BEGIN
        INSERT INTO job_tally VALUES (NEW.state, 1) ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER job_tally_del AFTER DELETE ON jobs BEGIN
        UPDATE job_tally SET n = n - 1 WHERE state = OLD.state;
    END;
    CREATE TRIGGER job_tally_upd AFTER UPDATE OF state ON jobs WHEN OLD.state IS NOT NEW.state
    BEGIN
        UPDATE job_tally SET n = n - 1 WHERE state = OLD.state;
        INSERT INTO job_tally VALUES (NEW.state, 1) ON CONFLICT DO UPDATE SET n = n + 1;
    END;

    INSERT OR REPLACE INTO counters(name, value) VALUES ('contents', (SELECT count(*) FROM contents));
    CREATE TRIGGER contents_tally_ins AFTER INSERT ON contents BEGIN
        UPDATE counters SET value = value + 1 WHERE name = 'contents';
    END;
    CREATE TRIGGER contents_tally_del AFTER DELETE ON contents BEGIN
        UPDATE counters SET value = value - 1 WHERE name = 'contents';
    END;

    -- The newest files of a state (`vx status`'s problems) without sorting all of them.
    DROP INDEX files_state;
    CREATE INDEX files_state_updated ON files(state, updated_at, id);
    "#,
    // 10: contents each extractor version has done, for `vx status` (it counted them).
    r#"
    CREATE TABLE extraction_tally (
        extractor TEXT NOT NULL,
        version   INTEGER NOT NULL,
        n         INTEGER NOT NULL,
        PRIMARY KEY (extractor, version)
    ) WITHOUT ROWID;
    INSERT INTO extraction_tally
        SELECT extractor, version, count(*) FROM extractions WHERE status = 'done' GROUP BY 1, 2;
    CREATE TRIGGER extraction_tally_ins AFTER INSERT ON extractions WHEN NEW.status = 'done'
    BEGIN
        INSERT INTO extraction_tally VALUES (NEW.extractor, NEW.version, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER extraction_tally_del AFTER DELETE ON extractions WHEN OLD.status = 'done'
    BEGIN
        UPDATE extraction_tally SET n = n - 1
            WHERE extractor = OLD.extractor AND version = OLD.version;
    END;
    CREATE TRIGGER extraction_tally_upd AFTER UPDATE OF extractor, version, status ON extractions
    BEGIN
        UPDATE extraction_tally SET n = n - 1
            WHERE OLD.status = 'done' AND extractor = OLD.extractor AND version = OLD.version;
        INSERT INTO extraction_tally SELECT NEW.extractor, NEW.version, 1
            WHERE NEW.status = 'done'
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
    "#,
    // 11: numbers measured over a whole content (loudness, ...), for `vx show` and `--where`.
    r#"
    CREATE TABLE measures (
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        extractor  TEXT NOT NULL,
        name       TEXT NOT NULL,
        value      REAL NOT NULL
    );
    CREATE INDEX measures_content ON measures(content_id, name);
    "#,
    // 12: measures per audio track (0: the one decoded for speech, which search filters on).
    r#"
    ALTER TABLE measures ADD COLUMN track INTEGER NOT NULL DEFAULT 0;
    "#,
    // 13: people's poses: 17 keypoints as (x, y, score) f32 little-endian, in frame pixels.
    r#"
    CREATE TABLE poses (
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        time       REAL NOT NULL,
        score      REAL NOT NULL,
        keypoints  BLOB NOT NULL
    );
    CREATE INDEX poses_content ON poses(content_id);
    "#,
    // 14: each face's expression: the likeliest class and its probability.
    r#"
    ALTER TABLE faces ADD COLUMN expression TEXT;
    ALTER TABLE faces ADD COLUMN expression_score REAL;
    "#,
    // 15: a video's scenes, from cut to cut.
    r#"
    CREATE TABLE scenes (
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        start      REAL NOT NULL,
        end        REAL NOT NULL
    );
    CREATE INDEX scenes_content ON scenes(content_id, start);
    "#,
    // 16: a recording's speakers (their turns: (start, end) f32 pairs, LE) and voices, the
    // speakers grouped across recordings the way faces are grouped into people.
    r#"
    CREATE TABLE voices (
        id         INTEGER PRIMARY KEY,
        name       TEXT,
        centroid   BLOB NOT NULL,                       -- sum of member descriptors, f32 LE
        speakers   INTEGER NOT NULL DEFAULT 0,
        pinned     INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE speakers (
        id         INTEGER PRIMARY KEY,
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        speaker    INTEGER NOT NULL,                    -- 1, 2, ... within the content
        seconds    REAL NOT NULL,
        descriptor BLOB NOT NULL,                       -- 256 f32 LE, unit length
        turns      BLOB NOT NULL,
        voice_id   INTEGER
    );
    CREATE INDEX speakers_content ON speakers(content_id);
    CREATE INDEX speakers_voice ON speakers(voice_id);
    "#,
    // 17: each kept frame's difference hash, to know near-duplicate pictures by.
    r#"
    ALTER TABLE frames ADD COLUMN fingerprint INTEGER;
    "#,
];
