#!/usr/bin/env bash
# Soak (not a test run by CI): the adversarial corpus at size: COPIES damaged copies of each of
# eight samples (truncated, bit-flipped, noise), plus bombs, gigabyte headers, odd names, a deep
# folder, a symlink loop, a FIFO and a file still being written: 1,039 files with 42.
#   scripts/soak-adversarial.sh [COPIES (42)] [SEED (random)]
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-42}
seed=${2:-$RANDOM}
cargo build -q --workspace --bins
VX_ADVERSARIAL_COPIES=$copies VX_ADVERSARIAL_SEED=$seed cargo test -q -p vx-tests --test e2e adversarial -- --nocapture 2>&1 |
  grep -E '^adversarial:|panicked|FAILED|assert|left|right' || true
