#!/usr/bin/env bash
# Benchmark (not a test): search latency over RPC on synthetic catalogues of 100,000 and
# 1,000,000 text segments with embeddings, idle and while extracting photos (p50/p99 per mode,
# vector-store memory). Figures go to docs/benchmarks.md.
#   scripts/bench-search.sh [ITEMS...]      (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
MEDIA="$(cd ../shared/media && pwd)"
PHOTOS="$(mktemp -d /tmp/vx-bench-photos.XXXXXX)"
trap 'rm -rf "$PHOTOS"' EXIT
# Photos for the workers to extract while searches run: 4 pictures x 40 sizes (distinct contents).
for img in astronaut chelsea coffee page; do
  for w in $(seq 1000 24 1936); do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=$w:-2" -q:v 4 "$PHOTOS/$img-$w.jpg"
  done
done
cargo build --release --bins
set -- ${@:-100000 1000000}
for items in "$@"; do
  cargo bench -p vx-tests --bench search_latency -- "$items" "$PHOTOS"
done
