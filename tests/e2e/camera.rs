//! Files as phones and cameras make them: HEIC and AVIF stills, portrait HEVC video turned by
//! its display matrix. Each must be indexed standing upright, checked on the pixels of its
//! thumbnail.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (scripts/setup.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// HEVC as iPhones store it in MOV.
const HEVC: [&str; 6] = [
    "-c:v",
    "libx265",
    "-x265-params",
    "log-level=error",
    "-tag:v",
    "hvc1",
];

/// A HEIC of `picture` as a phone user's tools make one: a JPEG of it in `tmp` (returned), then
/// heif-enc.
fn heic_of(picture: &str, tmp: &Path, out: &Path) -> PathBuf {
    let name = out.file_stem().unwrap().to_str().unwrap();
    let jpeg = tmp.join(format!("{name}.jpg"));
    ffmpeg(&["-i", picture, jpeg.to_str().unwrap()]);
    run(
        "heif-enc",
        &[jpeg.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    jpeg
}

/// `seconds` of a still picture (scaled by `vf`) with speech, as a phone records it: HEVC and
/// AAC; `tags` are output options before the file name.
fn speaking_clip(still: &str, speech: &str, seconds: &str, vf: &str, tags: &[&str], out: &Path) {
    let mut args = vec!["-loop", "1", "-i", still, "-i", speech, "-t", seconds];
    args.extend(["-vf", vf, "-r", "10"]);
    args.extend(HEVC);
    args.extend(["-c:a", "aac"]);
    args.extend(tags);
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
}

/// Red above blue, 96x128, made by `filter` from the two halves (as a still or 3 s of video).
fn red_over_blue(out: &Path, filter: &str, still: bool) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "color=red:s=96x64:d=3",
        "-f",
        "lavfi",
        "-i",
        "color=blue:s=96x64:d=3",
        "-filter_complex",
        filter,
    ];
    if still {
        args.extend(["-frames:v", "1"]);
    } else {
        args.extend(HEVC);
    }
    args.push(out.to_str().unwrap());
    ffmpeg(&args);
}

/// Whether a picture stands upright: taller than wide, red at the top, blue at the bottom.
fn upright(picture: &Path) -> bool {
    let out = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-i"])
        .arg(picture)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    let (w, h) = dimensions(picture);
    let (w, h) = (w as usize, h as usize);
    let px = |x: usize, y: usize| &out.stdout[(y * w + x) * 3..(y * w + x) * 3 + 3];
    let red = |p: &[u8]| p[0] > 150 && p[2] < 100;
    let blue = |p: &[u8]| p[2] > 150 && p[0] < 100;
    h > w && red(px(w / 2, h / 10)) && blue(px(w / 2, h - 1 - h / 10))
}

#[test]
fn phone_photos_and_portrait_videos_are_indexed_upright() {
    let d = Daemon::started();
    let tmp = d.dir.path();
    // The sensor's view, turned a quarter anticlockwise, with the turn back in EXIF (as
    // heif-enc keeps it from the JPEG it converts).
    red_over_blue(&tmp.join("side.jpg"), "[0][1]vstack,transpose=cclock", true);
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-Orientation#=6",
            tmp.join("side.jpg").to_str().unwrap(),
        ],
    );
    run(
        "heif-enc",
        &[
            tmp.join("side.jpg").to_str().unwrap(),
            "-o",
            d.media.join("IMG_0001.HEIC").to_str().unwrap(),
        ],
    );
    red_over_blue(&tmp.join("up.png"), "[0][1]vstack", true);
    run(
        "heif-enc",
        &[
            tmp.join("up.png").to_str().unwrap(),
            "-o",
            d.media.join("IMG_0002.avif").to_str().unwrap(),
        ],
    );
    // A portrait video as an iPhone writes it: stored sideways, HEVC in MOV, the turn in the
    // track's display matrix.
    let mov = d.media.join("IMG_0003.MOV");
    red_over_blue(&mov, "[0][1]vstack,transpose=cclock,format=yuv420p", false);
    run(
        "exiftool",
        &[
            "-q",
            "-overwrite_original",
            "-Rotation=90",
            mov.to_str().unwrap(),
        ],
    );
    d.add_media_root();
    d.wait_idle();
    for name in ["IMG_0001.HEIC", "IMG_0002.avif", "IMG_0003.MOV"] {
        let shown = d.show(&d.media.join(name));
        assert_eq!(shown["state"], "indexed", "{shown}");
        let content = &shown["content"];
        assert_eq!(
            (&content["width"], &content["height"]),
            (&96.into(), &128.into()),
            "{name}"
        );
        let thumbs = shown["thumbnails"].as_array().unwrap();
        assert!(!thumbs.is_empty(), "{name}: {shown}");
        for t in thumbs {
            let thumb = t["path"].as_str().unwrap();
            assert!(
                upright(Path::new(thumb)),
                "{name}: thumbnail {thumb} is not upright"
            );
        }
    }
    assert_eq!(d.show(&mov)["content"]["kind"], "video");
}

/// The file names `vx search ARGS` finds, sorted.
fn names(d: &Daemon, args: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = d
        .search(args)
        .iter()
        .map(|p| {
            Path::new(p)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    found
}

/// Tags a file with exiftool.
fn exiftool(file: &Path, tags: &[&str]) {
    let mut args = vec!["-q", "-overwrite_original"];
    args.extend_from_slice(tags);
    args.push(file.to_str().unwrap());
    run("exiftool", &args);
}

#[test]
fn photos_and_videos_are_found_by_where_they_were_taken() {
    let d = Daemon::started();
    let tmp = d.dir.path();
    // A photo taken in Rome (EXIF GPS), the same scene as an iPhone HEIC, a clip from Paris
    // as an iPhone writes it (QuickTime's ISO 6709 key), and one from Tokyo as an MP4 (©xyz).
    let rome = d.media.join("DSC_0001.JPG");
    red_over_blue(&rome, "[0][1]vstack", true);
    exiftool(
        &rome,
        &[
            "-GPSLatitude=41.8902",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=12.4922",
            "-GPSLongitudeRef=E",
            "-DateTimeOriginal=2023:06:10 12:00:00",
        ],
    );
    let heic_src = tmp.join("heic.jpg");
    red_over_blue(&heic_src, "[0][1]hstack", true);
    exiftool(
        &heic_src,
        &[
            "-GPSLatitude=41.9022",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=12.4539",
            "-GPSLongitudeRef=E",
        ],
    );
    run(
        "heif-enc",
        &[
            heic_src.to_str().unwrap(),
            "-o",
            d.media.join("IMG_0002.HEIC").to_str().unwrap(),
        ],
    );
    let paris = d.media.join("IMG_0003.MOV");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=s=160x120:d=2",
        paris.to_str().unwrap(),
    ]);
    exiftool(&paris, &["-Keys:GPSCoordinates=48.8584, 2.2945, 30"]);
    let tokyo = d.media.join("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x120:d=2",
        "-metadata",
        "location=+35.6586+139.7454/",
        tokyo.to_str().unwrap(),
    ]);
    // GPS without a fix (0, 0): no place.
    let nowhere = d.media.join("nowhere.jpg");
    make_image(&nowhere);
    exiftool(&nowhere, &["-GPSLatitude=0", "-GPSLongitude=0"]);
    d.add_media_root();
    d.wait_idle();

    let shown = d.show(&rome);
    assert_eq!(shown["content"]["place"], "Rome, Latium, Italy", "{shown}");
    let loc = &shown["content"]["location"];
    assert!(
        (loc["latitude"].as_f64().unwrap() - 41.8902).abs() < 1e-4,
        "{shown}"
    );
    let text = d.ok(&["show", rome.to_str().unwrap()]);
    assert!(
        text.contains("place:    Rome, Latium, Italy (41.89020, 12.49220)"),
        "{text}"
    );
    assert_eq!(
        d.show(&nowhere)["content"]["place"],
        serde_json::Value::Null
    );

    assert_eq!(names(&d, &["rome"]), ["DSC_0001.JPG", "IMG_0002.HEIC"]);
    assert_eq!(names(&d, &["italy 2023"]), ["DSC_0001.JPG"]);
    assert_eq!(names(&d, &["paris"]), ["IMG_0003.MOV"]);
    assert_eq!(names(&d, &["tokyo japan"]), ["clip.mp4"]);
    // By distance: from a place where photos here were taken, or from coordinates.
    assert_eq!(
        names(&d, &["--near", "Rome"]),
        ["DSC_0001.JPG", "IMG_0002.HEIC"]
    );
    assert_eq!(
        names(&d, &["--near", "rome, italy", "--km", "1"]),
        ["DSC_0001.JPG"]
    );
    assert_eq!(
        names(&d, &["--near", "48.86,2.29", "--km", "5"]),
        ["IMG_0003.MOV"]
    );
    assert_eq!(
        names(&d, &["--near", "41.89,12.49", "--km", "2000"]),
        ["DSC_0001.JPG", "IMG_0002.HEIC", "IMG_0003.MOV"]
    );
    let out = d.vx(&["search", "--near", "Atlantis"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no photo or video here was taken in a place called"),
        "{err}"
    );
}

/// A catalogue written by a vx that could not read HEIC (metadata version 1) is decoded again
/// by this one: the photo it called corrupt is indexed, and a JPEG's GPS becomes a place.
#[test]
fn files_an_older_decoder_misread_are_decoded_again() {
    let mut d = Daemon::started();
    let tmp = d.dir.path();
    red_over_blue(&tmp.join("up.png"), "[0][1]vstack", true);
    let heic = d.media.join("IMG_0001.HEIC");
    run(
        "heif-enc",
        &[
            tmp.join("up.png").to_str().unwrap(),
            "-o",
            heic.to_str().unwrap(),
        ],
    );
    let jpeg = d.media.join("DSC_0002.JPG");
    red_over_blue(&jpeg, "[0][1]hstack", true);
    exiftool(
        &jpeg,
        &[
            "-GPSLatitude=41.8902",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=12.4922",
            "-GPSLongitudeRef=E",
        ],
    );
    d.add_media_root();
    d.wait_idle();
    d.stop();
    // What the older vx left: the HEIC failed as not media, no places, metadata version 1.
    let db = d.db();
    db.execute_batch(
        "UPDATE contents SET kind = NULL, format = NULL, width = NULL, height = NULL,
           error = 'not a media file: ffmpeg does not recognise it'
           WHERE id = (SELECT content_id FROM files WHERE name = 'IMG_0001.HEIC');
         UPDATE files SET state = 'failed', message = 'corrupt: named like media, but ffmpeg does not recognise it'
           WHERE name = 'IMG_0001.HEIC';
         UPDATE contents SET latitude = NULL, longitude = NULL, place = NULL, place_terms = NULL;
         UPDATE extractions SET version = 1 WHERE extractor = 'metadata';
         DELETE FROM counters WHERE name LIKE 'enabled:%';",
    )
    .unwrap();
    drop(db);
    d.start();
    d.wait_idle();
    let shown = d.show(&heic);
    assert_eq!(shown["state"], "indexed", "{shown}");
    assert_eq!(shown["content"]["format"], "heif", "{shown}");
    assert_eq!(d.show(&jpeg)["content"]["place"], "Rome, Latium, Italy");
    assert_eq!(d.search(&["rome"]).len(), 1);
    assert_eq!(d.count("failed"), 0);
}

#[test]
fn pictures_are_found_by_what_took_them() {
    let d = Daemon::started();
    let selfie = d.media.join("IMG_0001.JPG");
    red_over_blue(&selfie, "[0][1]vstack", true);
    exiftool(
        &selfie,
        &[
            "-Make=Apple",
            "-Model=iPhone 15",
            "-LensModel=iPhone 15 front camera 2.69mm f/1.9",
        ],
    );
    let canon = d.media.join("_MG_0002.JPG");
    red_over_blue(&canon, "[0][1]hstack", true);
    exiftool(
        &canon,
        &[
            "-Make=Canon",
            "-Model=Canon EOS R5",
            "-LensModel=RF24-105mm F4 L IS USM",
        ],
    );
    std::fs::create_dir(d.media.join("Screenshots")).unwrap();
    make_image(&d.media.join("Screenshots/Screenshot_20230101-101010.png"));
    // A video says what filmed it in QuickTime's keys.
    let tmp = d.dir.path().join("clip.mov");
    red_over_blue(&tmp, "[0][1]vstack,format=yuv420p", false);
    ffmpeg(&[
        "-i",
        tmp.to_str().unwrap(),
        "-c",
        "copy",
        "-movflags",
        "use_metadata_tags",
        "-metadata",
        "com.apple.quicktime.make=Apple",
        "-metadata",
        "com.apple.quicktime.model=iPhone 15 Pro",
        d.media.join("IMG_0003.MOV").to_str().unwrap(),
    ]);
    d.add_media_root();
    d.wait_idle();
    let shown = d.ok(&["show", selfie.to_str().unwrap()]);
    assert!(
        shown.contains("camera:   Apple iPhone 15, selfie, iPhone 15 front camera 2.69mm f/1.9"),
        "{shown}"
    );
    assert_eq!(names(&d, &["iphone 15"]), ["IMG_0001.JPG", "IMG_0003.MOV"]);
    assert_eq!(names(&d, &["--camera", "iphone 15 pro"]), ["IMG_0003.MOV"]);
    assert_eq!(names(&d, &["canon r5"]), ["_MG_0002.JPG"]);
    assert_eq!(names(&d, &["--camera", "selfie"]), ["IMG_0001.JPG"]);
    assert_eq!(names(&d, &["--camera", "canon"]), ["_MG_0002.JPG"]);
    assert_eq!(
        names(&d, &["--camera", "screenshot"]),
        ["Screenshot_20230101-101010.png"]
    );
}

#[test]
fn camera_raws_are_indexed_upright_and_found_by_what_they_show() {
    let (Some(shared), Some(cr2), Some(dng)) = (
        pack(),
        vx_testkit::camera_media("IMG_5952.CR2"),
        vx_testkit::camera_media("chelsea-turned.dng"),
    ) else {
        return;
    };
    let mut d = Daemon::with_models(&shared.models);
    d.start();
    let canon = d.media.join("IMG_5952.CR2");
    std::fs::copy(&cr2, &canon).unwrap();
    // Where the tower stands (exiftool writes GPS into the CR2's EXIF).
    exiftool(
        &canon,
        &[
            "-GPSLatitude=49.2",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=16.6",
            "-GPSLongitudeRef=E",
        ],
    );
    let cat = d.media.join("DSC_0001.DNG");
    std::fs::copy(&dng, &cat).unwrap();
    d.add_media_root();
    d.wait_idle();
    let shown = d.show(&canon);
    assert_eq!(shown["state"], "indexed", "{shown}");
    assert_eq!(shown["content"]["format"], "cr2");
    assert_eq!(shown["content"]["place"], "Brno, South Moravian, Czechia");
    let shown = d.show(&cat);
    assert_eq!(shown["state"], "indexed", "{shown}");
    assert_eq!(
        (&shown["content"]["width"], &shown["content"]["height"]),
        (&450.into(), &300.into())
    );
    // The thumbnail stands as the cat does: wider than tall.
    let thumb = shown["thumbnails"][0]["path"].as_str().unwrap();
    let (w, h) = dimensions(Path::new(thumb));
    assert!(w > h, "{w}x{h}");
    assert_eq!(names(&d, &["cat"]), ["DSC_0001.DNG"]);
    assert_eq!(names(&d, &["brno"]), ["IMG_5952.CR2"]);
    assert_eq!(names(&d, &["--camera", "canon eos 30d"]), ["IMG_5952.CR2"]);
    assert_eq!(d.count("failed"), 0);
}

#[test]
fn what_the_user_excludes_is_left_out_and_counted() {
    let mut d = Daemon::new();
    std::fs::write(d.dir.path().join("config.toml"), "exclude = [\"*.gif\"]\n").unwrap();
    d.start();
    let m = &d.media;
    for dir in [
        "Exports",
        "web/node_modules",
        "Trip",
        "Trip/cache",
        "Phone/WhatsApp",
    ] {
        std::fs::create_dir_all(m.join(dir)).unwrap();
    }
    const PICTURES: [&str; 8] = [
        "Exports/a.png",
        "web/node_modules/b.png",
        "Trip/c.png",
        "Trip/cache/d.png",
        "Phone/WhatsApp/e.png",
        "f.gif",
        // Made later.
        "Trip/cache/g.png",
        "Trip/h.png",
    ];
    for file in &PICTURES[..6] {
        make_image(&m.join(file));
    }
    std::fs::write(m.join("Phone/WhatsApp/.nomedia"), b"").unwrap();
    let bad = d.vx(&["add", m.to_str().unwrap(), "--exclude", "[oops"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("[oops"));
    d.ok(&[
        "add",
        m.to_str().unwrap(),
        "--exclude",
        "Exports/**",
        "--exclude",
        "node_modules/",
    ]);
    d.wait_idle();
    // Which of the pictures are in the catalogue.
    let listed = || -> Vec<&str> {
        PICTURES
            .into_iter()
            .filter(|f| {
                d.vx(&["show", m.join(f).to_str().unwrap()])
                    .status
                    .success()
            })
            .collect()
    };
    assert_eq!(listed(), ["Trip/c.png", "Trip/cache/d.png"]);
    let excluded = |d: &Daemon| -> Vec<(String, u64, u64)> {
        d.status()["roots"][0]["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["reason"].as_str().unwrap().to_string(),
                    x["folders"].as_u64().unwrap(),
                    x["files"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        excluded(&d),
        [
            (".nomedia file".to_string(), 1, 0),
            ("pattern *.gif".to_string(), 0, 1),
            ("pattern Exports/**".to_string(), 0, 1),
            ("pattern node_modules/".to_string(), 1, 0),
        ]
    );
    // What notices bring is counted as well, and what is deleted no longer is.
    let staged = d.dir.path().join("Downloads");
    std::fs::create_dir(&staged).unwrap();
    make_image(&staged.join("x.png"));
    std::fs::write(staged.join(".nomedia"), b"").unwrap();
    std::fs::rename(&staged, m.join("Downloads")).unwrap();
    make_image(&m.join("g.gif"));
    std::fs::remove_dir_all(m.join("Phone")).unwrap();
    let want = [
        (".nomedia file".to_string(), 1, 0),
        ("pattern *.gif".to_string(), 0, 2),
        ("pattern Exports/**".to_string(), 0, 1),
        ("pattern node_modules/".to_string(), 1, 0),
    ];
    d.eventually(20, "notices' exclusions counted", || excluded(&d) == want);
    // A pattern added later forgets what it now leaves out; a file created under an excluded
    // folder (seen by the watcher, not a scan) stays out.
    d.ok(&["add", m.to_str().unwrap(), "--exclude", "cache/"]);
    d.wait_idle();
    make_image(&m.join("Trip/cache/g.png"));
    make_image(&m.join("Trip/h.png"));
    d.eventually(20, "h.png catalogued", || listed().contains(&"Trip/h.png"));
    d.wait_idle();
    assert_eq!(listed(), ["Trip/c.png", "Trip/h.png"]);
    // A .nomedia made later leaves its folder out; deleting it brings the folder back.
    std::fs::write(m.join("Trip/.nomedia"), b"").unwrap();
    d.eventually(20, "Trip left out", || listed().is_empty());
    std::fs::remove_file(m.join("Trip/.nomedia")).unwrap();
    d.eventually(20, "Trip back", || listed() == ["Trip/c.png", "Trip/h.png"]);
    d.wait_idle();
    let roots = d.ok(&["roots"]);
    assert!(
        roots.contains("excluding Exports/**, node_modules/, cache/"),
        "{roots}"
    );
    assert!(
        roots.contains("left out: 1 folder (pattern cache/)"),
        "{roots}"
    );
}

#[test]
fn a_live_photo_is_one_result_and_a_motion_photo_is_its_still() {
    let Some(shared) = pack() else { return };
    let mut d = Daemon::with_models(&shared.models);
    d.start();
    let (tmp, m) = (d.dir.path(), &d.media);
    let src = |n: &str| shared.media.join(n).to_str().unwrap().to_string();
    let at = |p: &Path| p.to_str().unwrap().to_string();
    // IMG_0001: the cat as a HEIC still, and three seconds of speech as its Live Photo clip
    // (HEVC in MOV, the content identifier in QuickTime's keys, as iPhones write them).
    let cat = heic_of(&src("chelsea.png"), tmp, &m.join("IMG_0001.HEIC"));
    let clip = |still: &str, seconds: &str, out: &Path| {
        let tags = [
            "-movflags",
            "use_metadata_tags",
            "-metadata",
            "com.apple.quicktime.content.identifier=6D1C7A35-9A5B-4C3E-8F1D",
        ];
        let (still, speech) = (src(still), src("librivox-0880.wav"));
        speaking_clip(
            &still,
            &speech,
            seconds,
            "scale=480:-2,format=yuv420p",
            &tags,
            out,
        );
    };
    clip("chelsea.png", "3", &m.join("IMG_0001.MOV"));
    // IMG_0002: a JPEG and a ten-second video of one name are not a Live Photo.
    ffmpeg(&["-i", &src("coffee.png"), &at(&m.join("IMG_0002.JPG"))]);
    clip("coffee.png", "10", &m.join("IMG_0002.MOV"));
    // A motion photo: the JPEG with its clip appended, as Google and Samsung cameras write it.
    let mut motion = std::fs::read(cat).unwrap();
    motion.extend(std::fs::read(m.join("IMG_0002.MOV")).unwrap());
    std::fs::write(m.join("PXL_20240101_000000000.MP.jpg"), motion).unwrap();
    d.add_media_root();
    d.wait_idle();

    let found = d.json(&["search", "ill disposed young man"]);
    let results = found["results"].as_array().unwrap();
    let paths: Vec<&str> = results
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    let still = at(&m.join("IMG_0001.HEIC"));
    assert!(paths.contains(&still.as_str()), "{found}");
    assert!(
        !paths.iter().any(|p| p.ends_with("IMG_0001.MOV")),
        "{found}"
    );
    // The still carries the clip's speech, timed in the clip.
    let live = results.iter().find(|r| r["path"] == still).unwrap();
    assert_eq!(live["kind"], "image");
    assert_eq!(live["clip"], at(&m.join("IMG_0001.MOV")));
    assert!(
        live["moments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|mo| mo["sources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "transcript")),
        "{live}"
    );
    // Not a pair: both halves are results of their own.
    assert!(paths.iter().any(|p| p.ends_with("IMG_0002.MOV")), "{found}");
    assert_eq!(
        d.show(&m.join("IMG_0001.MOV"))["live_partner"],
        still.as_str()
    );
    assert_eq!(
        d.show(&m.join("IMG_0001.HEIC"))["live_partner"],
        at(&m.join("IMG_0001.MOV"))
    );
    assert!(d.show(&m.join("IMG_0002.JPG"))["live_partner"].is_null());
    let shown = d.ok(&["show", &still]);
    assert!(shown.contains("live photo: its clip:"), "{shown}");
    // The motion photo is its still: a JPEG picture of the cat.
    let motion = d.show(&m.join("PXL_20240101_000000000.MP.jpg"));
    assert_eq!(motion["state"], "indexed", "{motion}");
    assert_eq!(motion["content"]["kind"], "image");
    assert_eq!(motion["content"]["format"], "jpeg");
    assert_eq!(d.count("failed"), 0);
}

/// Dimensions of a picture file, by ffprobe.
fn dimensions(picture: &Path) -> (u32, u32) {
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(picture)
        .output()
        .unwrap();
    let dims = String::from_utf8_lossy(&probe.stdout);
    let (w, h) = dims.trim().split_once(',').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

/// A phone's import and a Photos library, together: each file found by what it shows or says,
/// by where and when it was taken and by what took it, once, standing upright.
#[test]
fn a_phone_import_is_found_by_what_where_and_when() {
    let (Some(shared), Some(cr2)) = (pack(), vx_testkit::camera_media("IMG_5952.CR2")) else {
        return;
    };
    let mut d = Daemon::with_models(&shared.models);
    d.start();
    let tmp = d.dir.path().to_path_buf();
    let src = |n: &str| shared.media.join(n).to_str().unwrap().to_string();
    let at = |p: &Path| p.to_str().unwrap().to_string();
    let dcim = d.media.join("DCIM/100APPLE");
    std::fs::create_dir_all(&dcim).unwrap();
    // The cat, taken in Rome in June 2023, stored sideways with its turn in EXIF, as HEIC.
    let sideways = tmp.join("cat.jpg");
    ffmpeg(&[
        "-i",
        &src("chelsea.png"),
        "-vf",
        "transpose=cclock",
        &at(&sideways),
    ]);
    exiftool(
        &sideways,
        &[
            "-Orientation#=6",
            "-GPSLatitude=41.8902",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=12.4922",
            "-GPSLongitudeRef=E",
            "-DateTimeOriginal=2023:06:10 12:00:00",
            "-Make=Apple",
            "-Model=iPhone 14",
        ],
    );
    let cat = dcim.join("IMG_0001.HEIC");
    run("heif-enc", &[&at(&sideways), "-o", &at(&cat)]);
    // A portrait video with speech: HEVC stored sideways, the turn in its display matrix.
    let portrait = dcim.join("IMG_0002.MOV");
    speaking_clip(
        &src("page.png"),
        &src("librivox-0870.wav"),
        "7",
        "scale=300:-2,pad=300:400:0:(oh-ih)/2,transpose=cclock,format=yuv420p",
        &[],
        &portrait,
    );
    exiftool(&portrait, &["-Rotation=90"]);
    // A Live Photo: the astronaut and three seconds of speech.
    heic_of(&src("astronaut.png"), &tmp, &dcim.join("IMG_0003.HEIC"));
    speaking_clip(
        &src("astronaut.png"),
        &src("librivox-0880.wav"),
        "3",
        "scale=480:-2,format=yuv420p",
        &[],
        &dcim.join("IMG_0003.MOV"),
    );
    // A camera's RAW, and a screenshot.
    std::fs::copy(&cr2, dcim.join("IMG_5952.CR2")).unwrap();
    std::fs::create_dir_all(d.media.join("Screenshots")).unwrap();
    make_image(&d.media.join("Screenshots/Screenshot_20230611-090000.png"));
    // A Photos library: the coffee as an original, and Photos' derivative of it.
    let library = d.media.join("Photos Library.photoslibrary");
    std::fs::create_dir_all(library.join("originals/A")).unwrap();
    std::fs::create_dir_all(library.join("resources/derivatives/A")).unwrap();
    heic_of(
        &src("coffee.png"),
        &tmp,
        &library.join("originals/A/IMG_0004.HEIC"),
    );
    ffmpeg(&[
        "-i",
        &src("coffee.png"),
        "-vf",
        "scale=300:-2",
        &at(&library.join("resources/derivatives/A/IMG_0004_1_105_c.jpeg")),
    ]);
    d.add_media_root();
    d.ok(&["wait", "--timeout", "300"]);

    // The file a query ranks first (weaker matches may follow it).
    let first = |args: &[&str]| -> String {
        let found = d.search(args);
        assert!(!found.is_empty(), "{args:?} found nothing");
        let name = Path::new(&found[0]).file_name().unwrap();
        name.to_string_lossy().into_owned()
    };
    // What it shows, where and when, and what took it.
    assert_eq!(first(&["cat"]), "IMG_0001.HEIC");
    assert_eq!(first(&["rome"]), "IMG_0001.HEIC");
    assert_eq!(names(&d, &["--near", "Rome"]), ["IMG_0001.HEIC"]);
    let june = names(
        &d,
        &[
            "--after",
            "2023-06-01",
            "--before",
            "2023-07-01",
            "--kind",
            "image",
        ],
    );
    assert!(june.contains(&"IMG_0001.HEIC".to_string()), "{june:?}");
    assert_eq!(names(&d, &["--camera", "iphone 14"]), ["IMG_0001.HEIC"]);
    assert_eq!(names(&d, &["--camera", "canon"]), ["IMG_5952.CR2"]);
    assert_eq!(
        names(&d, &["--after", "2009", "--before", "2010"]),
        ["IMG_5952.CR2"]
    );
    assert_eq!(
        names(&d, &["--camera", "screenshot"]),
        ["Screenshot_20230611-090000.png"]
    );
    // What it says: the portrait video by its speech, the Live Photo once, as its still.
    assert_eq!(first(&["dashwood"]), "IMG_0002.MOV");
    // (Whisper tiny hears the clip as "He was not an old-sposed young man".)
    assert_eq!(first(&["young man"]), "IMG_0003.HEIC");
    let every = names(&d, &["--limit", "100"]);
    assert_eq!(
        every.iter().filter(|n| n.starts_with("IMG_0003")).count(),
        1,
        "{every:?}"
    );
    // The library gives its original only: the derivative is never catalogued.
    assert_eq!(first(&["espresso"]), "IMG_0004.HEIC");
    assert!(!every.iter().any(|n| n.contains("_1_105_c")), "{every:?}");
    // Upright: the cat's thumbnail as wide as the cat, the portrait video's as tall.
    let thumb = |p: &Path| PathBuf::from(d.show(p)["thumbnails"][0]["path"].as_str().unwrap());
    let (w, h) = dimensions(&thumb(&cat));
    assert!(w > h, "cat thumbnail {w}x{h}");
    let (w, h) = dimensions(&thumb(&portrait));
    assert!(h > w, "portrait thumbnail {w}x{h}");
    assert_eq!(d.count("failed"), 0);
}
