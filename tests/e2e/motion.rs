//! Motion from poses over a run of kept frames, on a real photo of a man standing (from the
//! ultralytics wheel) made into videos with a keyframe a second: lifted off the ground for one
//! second (jumping), bending from side to side while a real fiddle tune plays (dancing), the
//! same bending without music, and leaning still with the music (neither). The motion is
//! made up; the man, the music and every model on them are real.

use std::path::Path;

use crate::support::*;

/// The man (whole, 200x560 pixels of bus.jpg, scaled to 450 high) on the pavement of the same
/// photo, 1280x720, a keyframe every second; `graph` follows the man's filters and places him
/// on `[bg]` as `[v]`. File names say nothing: search must find what the frames show.
fn video(out: &Path, bus: &Path, music: Option<&Path>, secs: u32, graph: &str) {
    let secs = secs.to_string();
    let (bus, out) = (bus.to_str().unwrap(), out.to_str().unwrap());
    let mut args = vec!["-loop", "1", "-framerate", "25", "-t", &secs, "-i", bus];
    if let Some(m) = music {
        args.extend(["-i", m.to_str().unwrap()]);
    }
    let graph = format!(
        "[0]split[a][b];[a]crop=810:180:0:900,scale=1280:720,setsar=1[bg];\
         [b]crop=200:560:20:370,scale=-2:450{graph}"
    );
    args.extend(["-filter_complex", &graph, "-map", "[v]"]);
    if music.is_some() {
        args.extend(["-map", "1:a", "-c:a", "aac"]);
    }
    args.extend([
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-keyint_min",
        "25",
    ]);
    args.extend(["-sc_threshold", "0", "-pix_fmt", "yuv420p", out]);
    ffmpeg(&args);
}

/// The man standing, lifted 160 pixels (over a torso) during the third second.
const JUMP: &str =
    "[man];[bg][man]overlay=x=560:y='if(between(t,2,2.96),90,250)',format=yuv420p[v]";

/// The man's top half (above the hips) turned about the hips by `angle` radians (an
/// expression of t) over his legs.
fn bending(angle: &str) -> String {
    format!(
        ",split[t][l];[t]crop=160:257:0:0,format=rgba,pad=320:514:80:0:color=black@0,\
         rotate=a='{angle}':c=black@0:ow=320:oh=514[turned];[l]crop=160:193:0:257[legs];\
         [bg][legs]overlay=x=560:y=507[c];[c][turned]overlay=x=480:y=250,format=yuv420p[v]"
    )
}

#[test]
fn a_jump_and_a_dance_are_found_where_they_happen() {
    let Some(pack) = pack_with("pose") else {
        return;
    };
    let (Some(bus), Some(fiddle)) = (
        vx_testkit::package_media("bus.jpg"),
        vx_testkit::package_media("ireland.ogg"),
    ) else {
        return;
    };
    let mut d = Daemon::with_models(&pack.models);
    let media = d.media.clone();
    let at = |n: &str| media.join(n);
    // Side to side, 34 degrees each way, a second each.
    let side_to_side = bending("0.6*(2*mod(floor(t),2)-1)");
    video(&at("a.mp4"), &bus, None, 6, JUMP);
    video(&at("b.mp4"), &bus, Some(&fiddle), 8, &side_to_side);
    video(&at("c.mp4"), &bus, None, 8, &side_to_side);
    video(&at("d.mp4"), &bus, Some(&fiddle), 8, &bending("0.3"));
    d.start();
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    let path = |n: &str| at(n).to_str().unwrap().to_string();
    let pose_moments = |q: &str| -> Vec<(String, f64)> {
        d.json(&["search", q])["results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| {
                let path = r["path"].as_str().unwrap().to_string();
                r["moments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m.to_string().contains("\"pose\""))
                    .map(move |m| (path.clone(), m["start"].as_f64().unwrap()))
            })
            .collect()
    };
    let jumps = pose_moments("jumping");
    assert!(!jumps.is_empty(), "no jump found");
    for (p, start) in &jumps {
        assert_eq!(p, &path("a.mp4"), "{jumps:?}");
        assert!((1.5..=2.5).contains(start), "the jump is at 2 s: {jumps:?}");
    }
    let dances = pose_moments("dancing");
    assert!(!dances.is_empty(), "no dance found");
    assert!(
        dances.iter().all(|(p, _)| p == &path("b.mp4")),
        "only the bending to music dances (not without music, not still): {dances:?}"
    );
    let shown = d.show(&at("b.mp4"));
    let stored: i64 = d
        .db()
        .query_row(
            "SELECT count(DISTINCT p.time) FROM poses p JOIN files f ON f.content_id = p.content_id
             WHERE f.path LIKE '%b.mp4'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored >= 6, "every kept frame posed: {stored} {shown}");
}
