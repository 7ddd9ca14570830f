#!/usr/bin/env bash
# Builds vx (release), starts the daemon, catalogues a folder and shows a search.
#   scripts/run.sh [FOLDER] [QUERY]
# FOLDER defaults to sample media (../shared/media when present, else clips generated here).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh >/dev/null
cargo build --release --bins
BIN="$PWD/target/release"

folder="${1:-}"
query="${2:-}"
if [[ -z "$folder" ]]; then
  if [[ -d ../shared/media ]]; then
    folder="$(cd ../shared/media && pwd)"
    query="${query:-astronaut}"
  else
    folder="$PWD/target/sample-media"
    mkdir -p "$folder"
    [[ -f "$folder/beach_sunset.mp4" ]] || ffmpeg -loglevel error -y -f lavfi \
      -i testsrc=size=640x360:rate=25 -t 5 -g 25 -pix_fmt yuv420p "$folder/beach_sunset.mp4"
    [[ -f "$folder/beach_photo.png" ]] || ffmpeg -loglevel error -y -f lavfi \
      -i testsrc=size=640x480 -frames:v 1 "$folder/beach_photo.png"
    [[ -f "$folder/voice_memo.mp3" ]] || ffmpeg -loglevel error -y -f lavfi \
      -i sine=frequency=440 -t 3 "$folder/voice_memo.mp3"
    query="${query:-beach}"
  fi
fi
query="${query:-}"

"$BIN/vx" daemon start
"$BIN/vx" add "$folder"
"$BIN/vx" wait --timeout 600
"$BIN/vx" status
echo
echo "\$ vx search \"$query\""
"$BIN/vx" search "$query"
echo
echo "vxd keeps running and watching $folder. Try: $BIN/vx search WORDS; stop it with: $BIN/vx daemon stop"
