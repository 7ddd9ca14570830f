#!/usr/bin/env bash
# Benchmark (not a test): camera formats.
#  1. in-process (cargo bench -p vx-indexer --bench stills): ms per photo to decode 12 MP JPEG
#     and HEIC, a Canon CR2 through its preview and 12 MP DNGs through half-size demosaicing,
#     against heif-convert, simple_dcraw -e and dcraw_emu -h on the same files;
#  2. end to end: the release vxd (default settings) indexing 30 HEIC photos against the same 30
#     photos as JPEG (distinct contents, models loaded by a warm-up), images/s and their ratio.
#   scripts/bench-camera.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
MEDIA="${VX_TEST_MEDIA:-$(cd ../shared/media && pwd)}"
CAMERA="$(VX_TEST_MEDIA="$MEDIA" ./scripts/fetch-camera-media.sh)"
WORK="$(mktemp -d /tmp/vx-bench-camera.XXXXXX)"
trap 'target/release/vx daemon stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
S="$WORK/stills"
mkdir -p "$S/jpeg" "$S/heic" "$S/cr2" "$S/dng" "$WORK/warm" "$WORK/lib-jpeg" "$WORK/lib-heic"

# 12 MP (4032x3024, an iPhone's size) photos: each sample photo at a few JPEG qualities, and
# the same pictures as HEIC (heif-enc at quality 50, near what phones use).
n=0
for img in astronaut chelsea coffee; do
  for q in 2 4 6 8 10 12 14 16 18 20; do
    n=$((n + 1))
    out="$WORK/lib-jpeg/IMG_$n.jpg"
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=4032:3024" -q:v "$q" "$out"
    heif-enc -q 50 "$out" -o "$WORK/lib-heic/IMG_$n.heic" >/dev/null
  done
done
cp "$WORK"/lib-jpeg/IMG_{1,11,21}.jpg "$S/jpeg/"
cp "$WORK"/lib-heic/IMG_{1,11,21}.heic "$S/heic/"
cp "$CAMERA/IMG_5952.CR2" "$S/cr2/"
python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install --quiet pidng==4.0.9 pillow
for img in astronaut coffee; do
  ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=4032:3024" "$WORK/$img-12mp.png"
  "$WORK/venv/bin/python" tests/media/make_dng.py "$WORK/$img-12mp.png" "$S/dng/$img.dng"
done
# The warm-up: other pictures, so that the timed runs start with models loaded.
for q in 3 5 7 9 11 13; do
  ffmpeg -loglevel error -y -i "$MEDIA/page.png" -vf "scale=2048:-2" -q:v "$q" "$WORK/warm/page-q$q.jpg"
done

echo "=== in-process"
VX_BENCH_STILLS="$S" cargo bench -q -p vx-indexer --bench stills

echo
echo "=== end to end (release vxd, default settings)"
cargo build --release --bins -q
export VX_DATA_DIR="$WORK/data" VX_SOCKET="$WORK/run/vxd.sock" VX_CONFIG="$WORK/none.toml" VX_LOG=warn
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0
V=target/release/vx
$V daemon start >/dev/null
$V add "$WORK/warm" >/dev/null; $V wait --timeout 3600
rate() {
  local t0 t1
  t0=$(date +%s.%N); $V add "$1" >/dev/null; $V wait --timeout 3600; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v n=30 'BEGIN { printf "%.3f", n / (b - a) }'
}
jpeg=$(rate "$WORK/lib-jpeg")
heic=$(rate "$WORK/lib-heic")
awk -v j="$jpeg" -v h="$heic" 'BEGIN {
  printf "30 photos, 12 MP: JPEG %.2f images/s, HEIC %.2f images/s: HEIC at %.0f%% of the JPEG rate (target: 80%%)\n", j, h, 100 * h / j }'
$V search "cat" | sed -n 1,3p
