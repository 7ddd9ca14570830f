#!/usr/bin/env bash
# Benchmark (not a test): search latency of two builds on one small real library, alternated
# query by query so that both see the same moment of this noisy machine. Each daemon catalogues
# the sample media with the model pack, then the same queries run against one and the other in
# turn; each answer's own `took_ms` (vxd's time, not the CLI's start) is compared.
#   scripts/ab-search.sh OLD_TREE NEW_TREE [ROUNDS]   (each tree with target/release/{vx,vxd} built)
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd); rounds=${3:-15}
cd "$(dirname "$0")/.."
MEDIA="$(cd ../shared/media && pwd)"
export VX_MODELS_DIR="${VX_MODELS_DIR:-$(cd ../shared/models && pwd)}"
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0 VX_LOG=warn
work=$(mktemp -d /tmp/vx-ab-search.XXXXXX)
vx() { local tree=$1 name=$2; shift 2
  VX_DATA_DIR="$work/$name-data" VX_SOCKET="$work/$name.sock" VX_CONFIG="$work/none.toml" "$tree/target/release/vx" "$@"; }
trap 'vx "$old" old daemon stop >/dev/null 2>&1 || true; vx "$new" new daemon stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/lib"
cp "$MEDIA"/*.png "$MEDIA"/*.wav "$work/lib/"
for b in old new; do
  tree=$old; [[ $b == new ]] && tree=$new
  vx "$tree" $b daemon start >/dev/null
  vx "$tree" $b add "$work/lib" >/dev/null
  vx "$tree" $b wait --timeout 600 >/dev/null
done
queries=("how much money to give" "a cat" "coffee on a table" "reading aloud" "segmentation of images" "young man" "astronaut in space" "morning espresso")
for _ in $(seq 1 "$rounds"); do
  for q in "${queries[@]}"; do
    for b in old new; do
      tree=$old; [[ $b == new ]] && tree=$new
      echo "$b $(vx "$tree" $b search "$q" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["took_ms"])')"
    done
  done
done > "$work/times.txt"
python3 - "$work/times.txt" <<'P'
import statistics, sys
t = {"old": [], "new": []}
for line in open(sys.argv[1]):
    b, v = line.split()
    t[b].append(float(v))
for b, v in t.items():
    v.sort()
    print(f"{b}: {len(v)} searches, p50 {statistics.median(v):.2f} ms, p90 {v[int(len(v) * 0.9)]:.2f} ms")
print(f"new / old p50: {statistics.median(t['new']) / statistics.median(t['old']):.2f}")
P
