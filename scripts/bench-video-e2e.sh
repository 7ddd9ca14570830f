#!/usr/bin/env bash
# Benchmark (not a test): seconds for a release vxd to catalogue one video end to end, on a fresh
# data dir with its workers warmed by one photo first. For A/B runs, alternate two builds:
#   scripts/bench-video-e2e.sh BINDIR VIDEO [PHOTO]
# BINDIR holds vx and vxd (copy target/release/{vx,vxd} aside per build); VIDEO, for example the
# 60 s talk that scripts/bench-pipeline.sh makes; PHOTO defaults to ../shared/media/coffee.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "$1" && pwd)
video=$2
photo=${3:-../shared/media/coffee.png}
work=$(mktemp -d /tmp/vx-bench-video.XXXXXX)
trap '"$bin/vx" daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/video" "$work/warm"
cp "$video" "$work/video/"
cp "$photo" "$work/warm/"
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
export VX_DATA_DIR="$work/data" VX_SOCKET="$work/run/vxd.sock" VX_CONFIG="$work/none.toml" VX_LOG=warn
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0
"$bin/vx" daemon start >/dev/null
"$bin/vx" add "$work/warm" >/dev/null
"$bin/vx" wait --timeout 600 >/dev/null
duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$video")
t0=$(date +%s.%N)
"$bin/vx" add "$work/video" >/dev/null
"$bin/vx" wait --timeout 3600 >/dev/null
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v d="$duration" 'BEGIN { printf "%.2f s, %.1fx real time\n", b - a, d / (b - a) }'
