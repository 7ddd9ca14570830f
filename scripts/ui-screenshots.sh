#!/usr/bin/env bash
# The screenshots of docs/ui.md, made by the browser test of `vx ui` (tests/e2e/ui.rs) on the
# sample media: results, a moment playing with the file's details, the people view.
#   scripts/ui-screenshots.sh        (needs what scripts/test.sh needs: the model pack)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
export VX_MODELS_DIR="${VX_MODELS_DIR:-$(cd ../shared/models && pwd)}"
export VX_TEST_MEDIA="${VX_TEST_MEDIA:-$(cd ../shared/media && pwd)}"
shots=$(mktemp -d)
trap 'rm -rf "$shots"' EXIT
cargo build -q --workspace --bins
VX_UI_SCREENSHOTS="$shots" cargo test -q -p vx-tests --test e2e -- ui::in_a_browser
mkdir -p docs/ui
for png in "$shots"/*.png; do
  ffmpeg -loglevel error -y -i "$png" -q:v 3 "docs/ui/$(basename "${png%.png}").jpg"
done
ls -l docs/ui
