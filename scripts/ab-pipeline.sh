#!/usr/bin/env bash
# Benchmark (not a test): two builds' indexing throughput, end to end with the model pack, in
# one run, alternated round by round so that both see the same state of this noisy machine.
# Each round, each build gets a fresh data dir and: 30 photos (2048 px JPEG; its workers load
# their models), 30 more photos (warm: photos/s), the 60 s 1080p talk video with a keyframe
# every 2 s (x real time), a 60 s video of 40 s of music then 20 s of speech, and one of music
# alone.
#   scripts/ab-pipeline.sh OLD_TREE NEW_TREE [ROUNDS]   (each tree with target/release/{vx,vxd})
# Prints each figure per build (median of the rounds) and NEW/OLD.
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd); rounds=${3:-3}
cd "$(dirname "$0")/.."
MEDIA="$(cd ../shared/media && pwd)"
export VX_MODELS_DIR="${VX_MODELS_DIR:-$(cd ../shared/models && pwd)}"
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0 VX_LOG=warn
work=$(mktemp -d /tmp/vx-ab-pipeline.XXXXXX)
vx() { local tree=$1; shift
  VX_DATA_DIR="$work/data" VX_SOCKET="$work/vxd.sock" VX_CONFIG="$work/none.toml" "$tree/target/release/vx" "$@"; }
trap 'vx "$old" daemon stop >/dev/null 2>&1 || true; vx "$new" daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

mkdir -p "$work/media/warmup" "$work/media/photos" "$work/media/talk" "$work/media/music" "$work/media/music-only"
for img in astronaut chelsea coffee; do
  for q in 2 3 4 5 6 7 8 9 10 11; do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=2048:-2" -q:v "$q" "$work/media/warmup/$img-q$q.jpg"
  done
  for q in 12 13 14 15 16 17 18 19 20 21; do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=2048:-2" -q:v "$q" "$work/media/photos/$img-q$q.jpg"
  done
done
./scripts/make-bench-videos.sh "$work/videos"
mv "$work/videos/talk_1080p.mp4" "$work/media/talk/"
mv "$work/videos/music_then_speech.mp4" "$work/media/music/"
mv "$work/videos/music_only.mp4" "$work/media/music-only/"

# Seconds for one build to catalogue DIR, from `vx add` to an empty queue.
timed() { local tree=$1 dir=$2 t0 t1
  t0=$(date +%s.%N); vx "$tree" add "$dir" >/dev/null; vx "$tree" wait --timeout 3600 >/dev/null; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'; }
results="$work/results"
for round in $(seq 1 "$rounds"); do
  for b in old new; do
    tree=$old; [[ $b == new ]] && tree=$new
    rm -rf "$work/data"
    vx "$tree" daemon start >/dev/null
    timed "$tree" "$work/media/warmup" >/dev/null
    echo "$b photos $(timed "$tree" "$work/media/photos")" >>"$results"
    echo "$b talk $(timed "$tree" "$work/media/talk")" >>"$results"
    echo "$b music $(timed "$tree" "$work/media/music")" >>"$results"
    echo "$b music-only $(timed "$tree" "$work/media/music-only")" >>"$results"
    vx "$tree" daemon stop >/dev/null
  done
  echo "round $round done" >&2
done
python3 - "$results" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    b, what, s = line.split()
    t.setdefault((b, what), []).append(float(s))
rate = {"photos": (30, "photos/s"), "talk": (60, "x real time"), "music": (60, "x real time"),
        "music-only": (60, "x real time")}
for what, (n, unit) in rate.items():
    old, new = (statistics.median(t[(b, what)]) for b in ("old", "new"))
    print(f"{what:10} old {old:6.2f} s ({n / old:5.2f} {unit})  new {new:6.2f} s ({n / new:5.2f} {unit})  new/old time {new / old:.2f}x")
PY
