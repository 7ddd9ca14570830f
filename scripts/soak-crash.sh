#!/usr/bin/env bash
# Soak (not a test run by CI): the crash test at length: vxd and its workers killed with SIGKILL
# KILLS times (alternately) while pictures, recordings and videos are indexed, new files added
# whenever the queue runs dry; then nothing may be lost, listed twice, or left unsettled, and
# SQLite's integrity check must pass.
#   scripts/soak-crash.sh [KILLS (200)] [SEED (random)]
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-200}
seed=${2:-$RANDOM}
cargo build -q --workspace --bins
VX_CRASH_KILLS=$kills VX_CRASH_SEED=$seed cargo test -q -p vx-tests --test e2e crash::kills -- --nocapture 2>&1 |
  grep -E '^crash:|panicked|FAILED|assert' || true
