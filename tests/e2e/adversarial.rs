//! An adversarial corpus, generated here (nothing committed): truncated and bit-flipped copies of
//! every kind of media the tests make, empty files and noise under media names, decompression
//! bombs, headers that claim gigabytes, a FIFO and a device file, files still being written, names with odd
//! bytes, a 60-deep folder, a symlink loop. vxd must not die, its memory stays bounded, every
//! file ends indexed, failed or skipped with a message, and the queue drains.
//!
//! VX_ADVERSARIAL_COPIES (default 4: 127 files) sets how many damaged copies of each sample
//! are made (24 files a copy); scripts/soak-adversarial.sh runs 42 (1,039 files).

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::time::Duration;

use crate::support::*;

/// CRC-32 (IEEE), for PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    c.extend_from_slice(&body);
    c.extend_from_slice(&crc32(&body).to_be_bytes());
    c
}

/// A valid PNG header claiming `w` x `h` pixels, with a few bytes of image data.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    // zlib: an empty stored block.
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 1],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

/// A WAV header whose data chunk claims 4 GB.
fn wav_claiming_gigabytes() -> Vec<u8> {
    let mut w = b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec();
    w.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0]);
    w.extend_from_slice(&16000u32.to_le_bytes());
    w.extend_from_slice(&32000u32.to_le_bytes());
    w.extend_from_slice(&[2, 0, 16, 0]);
    w.extend_from_slice(b"data\xf0\xff\xff\xff");
    w.extend(std::iter::repeat_n(0u8, 64_000));
    w
}

/// An MP4 whose first box claims a terabyte.
fn mp4_claiming_a_terabyte() -> Vec<u8> {
    let mut m = 1u32.to_be_bytes().to_vec();
    m.extend_from_slice(b"ftyp");
    m.extend_from_slice(&(1u64 << 40).to_be_bytes());
    m.extend_from_slice(b"isomisomiso2mp41");
    m.extend(std::iter::repeat_n(0u8, 4096));
    m
}

/// VmHWM (peak resident memory) of a process, in MB.
fn peak_mb(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

#[test]
fn an_adversarial_corpus_settles_without_killing_the_daemon() {
    let copies = env_or("VX_ADVERSARIAL_COPIES", 4) as usize;
    let mut rng = Rng(env_or("VX_ADVERSARIAL_SEED", 1));
    let mut d = Daemon::new();
    d.start();
    let (tmp, m) = (d.dir.path().to_path_buf(), d.media.clone());
    // The samples: each kind of media the tests make.
    let p = |n: &str| tmp.join(n).to_str().unwrap().to_string();
    make_image(&tmp.join("s.png"));
    make_image(&tmp.join("s.jpg"));
    make_video(&tmp.join("s.mp4"));
    make_tone(&tmp.join("s.wav"), 2);
    ffmpeg(&["-i", &p("s.wav"), &p("s.mp3")]);
    ffmpeg(&["-f", "lavfi", "-i", "testsrc=s=64x48:d=2:r=5", &p("s.gif")]);
    ffmpeg(&["-i", &p("s.png"), &p("s.webp")]);
    let heif = std::process::Command::new("heif-enc")
        .args([p("s.jpg"), "-o".into(), p("s.heic")])
        .output()
        .unwrap();
    assert!(heif.status.success());
    let samples = ["png", "jpg", "mp4", "wav", "mp3", "gif", "webp", "heic"];
    let mut made = 0usize;
    let mut write = |name: &str, bytes: &[u8]| {
        fs::write(m.join(name), bytes).unwrap();
        made += 1;
    };
    for ext in samples {
        let good = fs::read(tmp.join(format!("s.{ext}"))).unwrap();
        write(&format!("good.{ext}"), &good);
        for i in 0..copies {
            // Cut anywhere, and with a few bytes flipped anywhere.
            let cut = 1 + rng.below(good.len() - 1);
            write(&format!("cut-{i}.{ext}"), &good[..cut]);
            let mut flipped = good.clone();
            for _ in 0..1 + rng.below(40) {
                let at = rng.below(flipped.len());
                flipped[at] ^= 1 << rng.below(8);
            }
            write(&format!("flipped-{i}.{ext}"), &flipped);
            // Noise and emptiness under its name.
            let noise: Vec<u8> = (0..rng.below(100_000)).map(|_| rng.next() as u8).collect();
            write(&format!("noise-{i}.{ext}"), &noise);
        }
        write(&format!("empty.{ext}"), b"");
    }
    write("bomb.png", &png_bomb(100_000, 100_000));
    write("wide.png", &png_bomb(u32::MAX >> 1, 1));
    write("huge.wav", &wav_claiming_gigabytes());
    write("huge.mp4", &mp4_claiming_a_terabyte());
    // Odd names: control bytes, invalid UTF-8, the longest name a file system takes.
    let good_png = fs::read(tmp.join("s.png")).unwrap();
    for b in [1u8, 9, 10, 13, 27, 0x7f, 0xff, 0xc3] {
        let mut name = vec![b'x', b];
        name.extend_from_slice(b".png");
        fs::write(m.join(OsStr::from_bytes(&name)), &good_png).unwrap();
        made += 1;
    }
    let long = format!("{}.png", "l".repeat(251));
    fs::write(m.join(long), &good_png).unwrap();
    made += 1;
    // 60 folders deep, a symlink loop, a FIFO (never read: not a regular file).
    let mut deep = m.join("deep");
    for i in 0..60 {
        deep = deep.join(format!("{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("bottom.png"), &good_png).unwrap();
    made += 1;
    std::os::unix::fs::symlink(&m, m.join("deep/loop")).unwrap();
    use rustix::fs::{CWD, FileType, Mode, makedev, mknodat};
    let mode = Mode::from_raw_mode(0o644);
    mknodat(CWD, m.join("stream.mp4"), FileType::Fifo, mode, 0).unwrap();
    // A device file under a media name (root makes one: /dev/zero's numbers, an endless read).
    if rustix::process::geteuid().is_root() {
        let zero = makedev(1, 5);
        mknodat(
            CWD,
            m.join("zero.mov"),
            FileType::CharacterDevice,
            mode,
            zero,
        )
        .unwrap();
    }

    d.add_media_root();
    // Files still being written while vxd looks at them.
    let growing = m.join("growing.mp4");
    let video = fs::read(tmp.join("s.mp4")).unwrap();
    for chunk in video.chunks(video.len() / 10 + 1) {
        use std::io::Write;
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&growing)
            .unwrap()
            .write_all(chunk)
            .unwrap();
        std::thread::sleep(Duration::from_millis(120));
    }
    made += 1;
    d.ok(&["wait", "--timeout", "600"]);

    let pid = d.child.as_mut().unwrap().id();
    assert!(
        d.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "vxd died: {}",
        tail(&d.stderr(), 40)
    );
    let peak = peak_mb(pid);
    let db = d.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM files"), made as i64);
    assert_eq!(
        count("SELECT count(*) FROM files WHERE state NOT IN ('indexed', 'failed', 'skipped')"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM files WHERE state != 'indexed' AND message IS NULL"),
        0,
        "every file not indexed says why"
    );
    assert_eq!(count("SELECT count(*) FROM jobs"), 0, "the queue drained");
    assert_eq!(d.show(&growing)["state"], "indexed", "the finished file");
    assert_eq!(d.show(&deep.join("bottom.png"))["state"], "indexed");
    for bomb in ["bomb.png", "wide.png", "huge.mp4"] {
        assert_eq!(d.show(&m.join(bomb))["state"], "failed", "{bomb}");
    }
    // The daemon holds no decoded media (workers do, each under its own limit).
    assert!(peak < 1024, "vxd peaked at {peak} MB");
    eprintln!(
        "adversarial: {made} files: {} indexed, {} failed, {} skipped; vxd peak {peak} MB",
        count("SELECT count(*) FROM files WHERE state = 'indexed'"),
        count("SELECT count(*) FROM files WHERE state = 'failed'"),
        count("SELECT count(*) FROM files WHERE state = 'skipped'"),
    );
}
