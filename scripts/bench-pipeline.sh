#!/usr/bin/env bash
# Benchmark (not a test): decoding and the extraction pipeline, with the model pack.
#  1. in-process (cargo bench -p vx-indexer --bench pipeline): keyframe decoding against the
#     ffmpeg CLI, the fused pass against one pass per extractor, each extractor's share, images/s
#     for one worker; a video of music then speech with and without the audio-event model;
#  2. end to end: the release vxd (default settings: a worker process per core) cataloguing
#     and extracting 70 pictures, then two 60 s 1080p videos with speech (one returning to its
#     pictures, one never); images/s and real-time factor.
#   scripts/bench-pipeline.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
MEDIA="$(cd ../shared/media && pwd)"
WORK="$(mktemp -d /tmp/vx-bench-pipeline.XXXXXX)"
trap 'target/release/vx daemon stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/images/photos" "$WORK/images/photos-again" "$WORK/images/pages" "$WORK/video" "$WORK/video-unique"

# 40 pictures: the sample photos and the printed page scaled to a 2048-pixel long side, JPEG at
# 10 qualities each (distinct contents); 30 photos, 10 pages of text.
for img in astronaut chelsea coffee page; do
  dir=photos; [[ $img == page ]] && dir=pages
  for q in 2 3 4 5 6 7 8 9 10 11; do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=2048:-2" -q:v "$q" "$WORK/images/$dir/$img-q$q.jpg"
  done
done
# 30 more photos (other qualities, so other contents) for a second, warm round.
for img in astronaut chelsea coffee; do
  for q in 12 13 14 15 16 17 18 19 20 21; do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=2048:-2" -q:v "$q" "$WORK/images/photos-again/$img-q$q.jpg"
  done
done
# 60 s of 1080p H.264, a keyframe every 2 s, speech throughout, from the four pictures (5 s of
# each) arranged by a filter graph ending in [v]: talk FILTER OUT.
scale='scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p'
talk() {
  ffmpeg -loglevel error -y \
    -loop 1 -framerate 25 -t 5 -i "$MEDIA/astronaut.png" -loop 1 -framerate 25 -t 5 -i "$MEDIA/chelsea.png" \
    -loop 1 -framerate 25 -t 5 -i "$MEDIA/coffee.png" -loop 1 -framerate 25 -t 5 -i "$MEDIA/page.png" \
    -stream_loop -1 -i "$MEDIA/librivox-0870.wav" -filter_complex "$1" \
    -map "[v]" -map 4:a -t 60 -r 25 -g 50 -keyint_min 50 -sc_threshold 0 -c:v libx264 -pix_fmt yuv420p -c:a aac \
    "$2"
}
# Nothing shown twice: each picture as is, mirrored and upside down (12 scenes that all differ,
# so no look is reused).
looks=""; order=""
for i in 0 1 2 3; do
  looks+="[$i]$scale,split=3[p$i][m$i][u$i];[m$i]hflip[h$i];[u$i]vflip[v$i];"
done
for k in p h v; do for i in 0 1 2 3; do order+="[$k$i]"; done; done
talk "$looks${order}concat=n=12:v=1:a=0[v]" "$WORK/video-unique/talk_unique_1080p.mp4"
# The pictures in turn, three rounds; music then speech; music alone (scripts/make-bench-videos.sh).
./scripts/make-bench-videos.sh "$WORK/music"
mv "$WORK/music/talk_1080p.mp4" "$WORK/video/"

echo "=== in-process"
VX_BENCH_VIDEO="$WORK/video/talk_1080p.mp4" VX_BENCH_IMAGES="$WORK/images/photos" \
  VX_BENCH_MUSIC="$WORK/music/music_then_speech.mp4:$WORK/music/music_only.mp4" cargo bench -q -p vx-indexer --bench pipeline

echo
echo "=== end to end (release vxd, default settings)"
cargo build --release --bins -q
export VX_DATA_DIR="$WORK/data" VX_SOCKET="$WORK/run/vxd.sock" VX_CONFIG="$WORK/none.toml" VX_LOG=warn
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0
V=target/release/vx
$V daemon start >/dev/null
t0=$(date +%s.%N); $V add "$WORK/images/photos" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "30 photos (2048 px JPEG), fresh daemon (the workers load their models in the first jobs): %.1f s, %.2f images/s\n", b - a, 30 / (b - a) }'
t0=$(date +%s.%N); $V add "$WORK/images/photos-again" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "30 more photos, models loaded: %.1f s, %.2f images/s\n", b - a, 30 / (b - a) }'
t0=$(date +%s.%N); $V add "$WORK/images/pages" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "10 pages of text (2048 px JPEG, 5-7 lines to read each): %.1f s, %.2f images/s\n", b - a, 10 / (b - a) }'
t0=$(date +%s.%N); $V add "$WORK/video" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "60 s 1080p video with speech: %.1f s, %.1fx real time\n", b - a, 60 / (b - a) }'
t0=$(date +%s.%N); $V add "$WORK/video-unique" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "60 s 1080p video with speech, 12 scenes that all differ: %.1f s, %.1fx real time\n", b - a, 60 / (b - a) }'
$V search "espresso" | sed -n 1,3p
