#!/usr/bin/env bash
# Benchmark (not a test): catalogue N small media files (default 10,000).
# Reports, as medians of RUNS runs: wall time and peak memory (VmHWM) of vxd for the first scan
# and for a no-change rescan (restart), the idle CPU of vxd once done, and a baseline measured in
# the same run: a bare `find -printf` stat walk and a `cat` of every byte of the same tree.
#   scripts/bench-catalogue.sh [N] [RUNS]
# VX_BIN=DIR runs the vx and vxd in DIR (another build, for a before/after) instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
RUNS="${2:-3}"

if [[ -z ${VX_BIN:-} ]]; then cargo build --release --bins -q; fi
BIN="${VX_BIN:-$PWD/target/release}"
WORK="$(mktemp -d /tmp/vx-bench.XXXXXX)"
trap '"$BIN/vx" daemon stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export VX_DATA_DIR="$WORK/data" VX_SOCKET="$WORK/run/vxd.sock" VX_CONFIG="$WORK/none.toml"
export VX_LOG=warn

# N distinct small PNGs: one picture with a different trailer each (PNG ignores bytes after IEND).
MEDIA="$WORK/media"; mkdir -p "$MEDIA"
ffmpeg -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 "$WORK/seed.png"
python3 - "$WORK/seed.png" "$MEDIA" "$N" <<'PY'
import os, sys
seed, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(seed, "rb").read()
for i in range(n):
    d = os.path.join(out, f"d{i // 1000:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"photo-{i:05d}.png"), "wb") as f:
        f.write(data + b"vx%08d" % i)
PY

now() { date +%s.%N; }
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
pid() { "$BIN/vx" daemon status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

first=(); rescan=(); first_mem=(); rescan_mem=(); idle=(); walk=(); readall=()
for run in $(seq "$RUNS"); do
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  t=$(now); find "$MEDIA" -type f -printf '%s %T@\n' > /dev/null; walk+=("$(calc "$(now) - $t")")
  t=$(now); find "$MEDIA" -type f -exec cat {} + > /dev/null; readall+=("$(calc "$(now) - $t")")

  rm -rf "$VX_DATA_DIR"
  "$BIN/vx" daemon start > /dev/null
  t=$(now)
  "$BIN/vx" add "$MEDIA" > /dev/null
  "$BIN/vx" wait --timeout 3600
  first+=("$(calc "$(now) - $t")")
  p=$(pid); first_mem+=("$(hwm_kib "$p")")
  # Idle CPU: ticks used over 10 s once everything is done.
  a=$(awk '{print $14+$15}' "/proc/$p/stat"); sleep 10; b=$(awk '{print $14+$15}' "/proc/$p/stat")
  idle+=("$(calc "($b - $a) * 100 / $(getconf CLK_TCK) / 10")")
  "$BIN/vx" daemon stop > /dev/null

  # No-change rescan: the start-up reconciliation over an unchanged tree.
  t=$(now)
  "$BIN/vx" daemon start > /dev/null
  "$BIN/vx" wait --timeout 3600
  rescan+=("$(calc "$(now) - $t")")
  p=$(pid); rescan_mem+=("$(hwm_kib "$p")")
  indexed=$("$BIN/vx" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"]["indexed"])')
  [[ "$indexed" == "$N" ]] || { echo "expected $N indexed files, got $indexed" >&2; exit 1; }
  "$BIN/vx" daemon stop > /dev/null
done

m() { printf '%s\n' "$@" | median; }
F=$(m "${first[@]}"); R=$(m "${rescan[@]}"); W=$(m "${walk[@]}"); C=$(m "${readall[@]}")
echo "files: $N, runs: $RUNS, cores: $(nproc)"
echo "first scan (add + wait until indexed): ${F} s  ($(calc "$N / $F") files/s), peak RSS $(( $(m "${first_mem[@]}") / 1024 )) MiB"
echo "no-change rescan (start + wait):       ${R} s, peak RSS $(( $(m "${rescan_mem[@]}") / 1024 )) MiB"
echo "idle CPU once done:                    $(m "${idle[@]}") %"
echo "baseline stat walk (find -printf):     ${W} s   rescan/walk = $(calc "$R / $W")x"
echo "baseline read every byte (cat):        ${C} s   first/cat   = $(calc "$F / $C")x"
