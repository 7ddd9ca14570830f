#!/usr/bin/env bash
# Soak (not a test run by CI): the churn test at length. Each run applies OPS generated file-system
# operations over two watched roots while vxd indexes them, then checks that the catalogue and
# search equal the disk and that nothing was extracted twice; prints the time to converge.
#   scripts/soak-churn.sh [OPS (20000)] [RUNS (3)]     seeds: the run number plus $SEED (random)
set -euo pipefail
cd "$(dirname "$0")/.."
ops=${1:-20000}
runs=${2:-3}
base=${SEED:-$RANDOM}
cargo build -q --workspace --bins
for i in $(seq 1 "$runs"); do
  seed=$((base + i))
  VX_CHURN_OPS=$ops VX_CHURN_SEED=$seed cargo test -q -p vx-tests --test e2e churn -- --nocapture 2>&1 |
    grep -E '^churn:|panicked|FAILED|missing|extracted' || true
done
