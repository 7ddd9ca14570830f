//! What `vx` prints: status, search results, a file's details, people.

use std::time::Duration;

use anyhow::{Context, Result};
use vx_client::*;

pub(crate) fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialise")
    );
}

pub(crate) fn print_root(r: &RootInfo) {
    println!("{}  {}  {} files", r.path, r.state.as_str(), r.files);
    if let Some(m) = &r.message {
        println!("    {m}");
    }
    if !r.exclude.is_empty() {
        println!("    excluding {}", r.exclude.join(", "));
    }
    for x in &r.excluded {
        let mut what = Vec::new();
        if x.folders > 0 {
            what.push(plural(x.folders, "folder"));
        }
        if x.files > 0 {
            what.push(plural(x.files, "file"));
        }
        println!("    left out: {} ({})", what.join(" and "), x.reason);
    }
}

pub(crate) fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub(crate) fn count(s: &Status, state: FileState) -> u64 {
    s.files
        .iter()
        .find(|c| c.state == state)
        .map(|c| c.count)
        .unwrap_or(0)
}

pub(crate) fn print_status(s: &Status) {
    let activity = if s.paused {
        format!(
            "paused ({})",
            s.pause_reason.as_deref().unwrap_or("by request")
        )
    } else if s.idle {
        "idle: everything is catalogued".into()
    } else {
        "working".into()
    };
    println!("vxd {} (pid {}): {activity}", s.daemon_version, s.pid);
    let files: Vec<String> = s
        .files
        .iter()
        .map(|c| format!("{} {}", c.count, c.state))
        .collect();
    println!(
        "files:      {} ({} distinct contents)",
        files.join(", "),
        s.contents
    );
    if s.skipped_not_media > 0 {
        println!(
            "            {} skipped files are not media or empty",
            s.skipped_not_media
        );
    }
    if s.skipped_unsupported > 0 {
        println!(
            "            {} skipped files are in a format this vx cannot read yet (`vx show FILE` says which)",
            s.skipped_unsupported
        );
    }
    if s.vectors > 0 {
        let searched = match s.vector_lists {
            0 => String::new(),
            n => format!(", partitioned into {n} lists"),
        };
        println!(
            "semantic:   {} text embeddings in memory ({:.1} MiB{searched})",
            s.vectors,
            s.vector_bytes as f64 / (1 << 20) as f64
        );
    }
    println!(
        "queue:      {} ready or running, {} waiting to retry, {} waiting for the text index",
        s.queue_depth, s.retry_waiting, s.index_pending
    );
    for p in &s.current {
        println!("now:        {p}");
    }
    if s.rate > 0.0 {
        let eta = s
            .eta_secs
            .map(|e| format!(", about {} left", dates::clock(e)))
            .unwrap_or_default();
        println!("rate:       {:.1} files/s{eta}", s.rate);
    }
    println!("extractors:");
    for e in &s.extractors {
        let state = if e.enabled {
            format!("enabled, {} contents done", e.done)
        } else {
            format!("disabled: {}", e.reason.as_deref().unwrap_or(""))
        };
        println!("  {:<13} v{:<2} {state}", e.name, e.version);
    }
    println!("folders:");
    if s.roots.is_empty() {
        println!("  none yet: add one with `vx add PATH`");
    }
    for r in &s.roots {
        print!("  ");
        print_root(r);
    }
    if s.pending_without_job > 0 {
        println!(
            "problem:    {} pending files had no job to run them at vxd's last check, which \
             queued them again: a fault worth reporting with `vx doctor`'s output",
            s.pending_without_job
        );
    }
    if !s.problems.is_empty() {
        println!("problems (`vx show PATH` for details; `vx reindex` retries failed files):");
        for p in &s.problems {
            println!("  {} {}: {}", p.state, p.path, p.message);
        }
    }
}

pub(crate) async fn watch_progress(client: &VxClient) -> Result<()> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files  {per_sec}  eta {eta}  {msg}",
        )
        .context("progress template")?,
    );
    loop {
        let s = client.status(context()).await??;
        let done = count(&s, FileState::Indexed)
            + count(&s, FileState::Skipped)
            + count(&s, FileState::Failed);
        bar.set_length(done + count(&s, FileState::Pending));
        bar.set_position(done);
        bar.set_message(s.current.first().map(|p| p.display()).unwrap_or_default());
        if s.idle {
            bar.finish_with_message("done");
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) fn print_search(r: &SearchResponse) {
    if r.results.is_empty() {
        println!(
            "no matches ({:.1} ms). Try fewer words, or check `vx status` that your folders are catalogued",
            r.took_ms
        );
        return;
    }
    // Ranked by relevance: the confident first, then the weaker; those with next to no
    // evidence are counted, not listed.
    let confident = r.results.iter().filter(|h| !h.weak()).count();
    let shown = r
        .results
        .iter()
        .filter(|h| h.score >= NEGLIGIBLE)
        .count()
        .max(confident);
    if confident == 0 && shown > 0 {
        println!("nothing matches confidently; the nearest:");
    }
    for (i, hit) in r.results.iter().take(shown).enumerate() {
        if i == confident && confident > 0 {
            println!("weaker matches:");
        }
        let offline = if hit.online { "" } else { "  [offline]" };
        let strength = if hit.listed() {
            String::new()
        } else {
            format!(", {}", strength(hit.score))
        };
        println!(
            "{:>3}. {}  ({}{strength}){offline}",
            i + 1,
            hit.path,
            hit.kind
        );
        if let Some(clip) = &hit.clip {
            println!("       live photo; its clip: {clip}");
        }
        for m in &hit.moments {
            // A still's moments have no time, unless it moves (a Live Photo's clip).
            let at = match hit.kind {
                MediaKind::Image if hit.clip.is_none() => String::new(),
                _ => format!("{}  ", dates::clock(m.start)),
            };
            let scene = match m.scene {
                Some((a, b)) if b > a => {
                    format!("  (scene {}-{})", dates::clock(a), dates::clock(b))
                }
                _ => String::new(),
            };
            let who = said_by(&m.speaker);
            println!(
                "       {at}{who}{}  [{}]{scene}",
                m.text,
                m.sources.join(", ")
            );
        }
    }
    let hidden = r.results.len() - shown;
    if hidden > 0 {
        println!("and {hidden} more with next to no evidence (`--json` lists them)");
    }
    if confident == 0 && shown == 0 {
        println!(
            "nothing matches ({:.1} ms): no file says or shows that",
            r.took_ms
        );
    } else {
        println!("{} results in {:.1} ms", r.results.len(), r.took_ms);
    }
}

/// Relevance under which a result is counted but not listed.
const NEGLIGIBLE: f32 = 0.02;

/// A relevance as a person reads it.
fn strength(relevance: f32) -> String {
    let word = match relevance {
        r if r >= 0.8 => "strong match",
        r if r >= CONFIDENT => "match",
        r if r >= 0.2 => "weak",
        _ => "very weak",
    };
    format!("{word} {:.0}%", relevance * 100.0)
}

pub(crate) fn print_details(d: &FileDetails) {
    println!("{}", d.path);
    println!("  folder:   {}", d.root);
    println!("  state:    {}", d.state);
    if let Some(m) = &d.message {
        println!("  message:  {m}");
    }
    println!(
        "  size:     {} bytes, modified {}",
        d.size,
        dates::format_time(d.mtime)
    );
    if let Some(c) = &d.content {
        if let Some(k) = c.kind {
            println!("  kind:     {k}");
        }
        if let Some(f) = &c.format {
            println!("  format:   {f}");
        }
        if let (Some(w), Some(h)) = (c.width, c.height) {
            println!("  size:     {w}x{h}");
        }
        if let Some(d) = c.duration {
            println!("  duration: {} ({d:.2} s)", dates::clock(d));
        }
        for (label, codec) in [("video", &c.video_codec), ("audio", &c.audio_codec)] {
            if let Some(codec) = codec {
                println!("  {label}:    {codec}");
            }
        }
        if let Some(t) = c.taken {
            println!("  taken:    {}", dates::format_time(t));
        }
        if let Some(camera) = &c.camera {
            println!("  camera:   {camera}");
        }
        if let Some((lat, lon)) = c.location {
            let place = c.place.as_deref().unwrap_or("no named place near");
            println!("  place:    {place} ({lat:.5}, {lon:.5})");
        }
        println!("  content:  {}", c.hash);
        for copy in &c.copies {
            println!("  same as:  {copy}");
        }
    }
    if let Some(partner) = &d.live_partner {
        let role = match d.content.as_ref().and_then(|c| c.kind) {
            Some(MediaKind::Image) => "its clip",
            _ => "its still, which search shows",
        };
        println!("  live photo: {role}: {partner}");
    }
    let timed = d
        .content
        .as_ref()
        .and_then(|c| c.kind)
        .is_some_and(|k| k != MediaKind::Image);
    let at = |start: f64, end: f64| {
        if timed {
            format!("{}-{}  ", dates::clock(start), dates::clock(end))
        } else {
            String::new()
        }
    };
    for (source, title) in &d.headings {
        let segs: Vec<_> = d.segments.iter().filter(|s| s.source == *source).collect();
        if segs.is_empty() {
            continue;
        }
        println!("  {title}:");
        for s in segs {
            let who = said_by(&s.speaker);
            println!(
                "    {}{who}{}  ({:.2})",
                at(s.start, s.end),
                s.text,
                s.confidence
            );
        }
    }
    if !d.measures.is_empty() {
        println!("  measured:");
        for m in &d.measures {
            // The name in brackets is what `vx search --where` calls it.
            // Tracks are named only when there are several.
            let track = if d.measures.iter().any(|m| m.track > 0) {
                format!("audio track {}: ", m.track + 1)
            } else {
                String::new()
            };
            println!("    {track}{}  [{}]", m.text, m.name);
        }
    }
    if !d.faces.is_empty() {
        println!("  faces:");
        for f in &d.faces {
            let [x, y, w, h] = f.rect;
            let who = match (&f.name, f.person) {
                (Some(name), _) => format!("{name}, "),
                (None, Some(id)) => format!("person #{id}, "),
                (None, None) => String::new(),
            };
            let expression = f
                .expression
                .as_ref()
                .map(|(e, p)| format!(", looks {e} ({p:.2})"))
                .unwrap_or_default();
            println!(
                "    {}{who}{w:.0}x{h:.0} at ({x:.0},{y:.0}), score {:.2}, age about {:.0}{expression}",
                at(f.time, f.time),
                f.score,
                f.age
            );
        }
    }
    if !d.scenes.is_empty() {
        println!("  scenes:");
        for s in &d.scenes {
            let thumb = s
                .thumbnail
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default();
            println!("    {}{thumb}", at(s.start, s.end));
        }
    }
    if let Some((_, first)) = d.thumbnails.first() {
        println!("  thumbnails: {} (first: {first})", d.thumbnails.len());
    }
    if !d.extractions.is_empty() {
        println!("  extractors:");
        for e in &d.extractions {
            let err = e
                .error
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            println!(
                "    {} v{}  {} (runs: {}){err}",
                e.extractor, e.version, e.status, e.runs
            );
        }
    }
}

/// "[Alice] " before what a speaker says, or nothing.
fn said_by(speaker: &Option<String>) -> String {
    speaker
        .as_ref()
        .map(|w| format!("[{w}] "))
        .unwrap_or_default()
}

pub(crate) fn print_voice(v: &Voice) {
    let name = v.name.as_deref().unwrap_or("(no name)");
    let files = if v.files == 1 { "file" } else { "files" };
    println!(
        "#{:<5} {name:<24} {} of speech in {} {files}",
        v.id,
        dates::clock(v.seconds),
        v.files
    );
}

pub(crate) fn print_person(p: &Person) {
    let name = p.name.as_deref().unwrap_or("(no name)");
    let thumb = p
        .thumbnail
        .as_ref()
        .map(|t| format!("  {t}"))
        .unwrap_or_default();
    println!(
        "#{:<5} {name:<24} {} faces in {} files{thumb}",
        p.id, p.faces, p.files
    );
}
