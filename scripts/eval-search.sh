#!/usr/bin/env bash
# Search quality on the judged set (tests/eval/judged.json): builds the evaluation media, indexes
# them with the real models, runs every query per channel and fused, and prints the tables of
# docs/search-quality.md (also written to target/search-quality.md). Fails below the floor.
#   scripts/eval-search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
cargo build --workspace --bins
VX_EVAL_REPORT="$PWD/target/search-quality.md" \
  cargo test -p vx-tests --test e2e search_quality -- --nocapture 2>/dev/null
cat target/search-quality.md
