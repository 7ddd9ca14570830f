#!/usr/bin/env bash
# Benchmark (not a test): how vx's cost grows with the size of the library.
#   scripts/bench-scale.sh [N...]        default: 10000 100000 500000
# One tree of small distinct PNGs (1,000 a folder) grows to each N in turn; at each N a fresh
# daemon without models (only the metadata extractor, so the catalogue is what is measured):
#   - first scan: `vx add` until `vx wait` returns, per file, and vxd's own CPU during it (% of
#     one core; the worker processes are not vxd)
#   - no-change rescan: a restart until `vx wait` returns, and vxd's own scan in it (its log's
#     "scan finished"), against a bare stat walk (find), all with the tree in the page cache
#   - peak RSS of vxd (VmHWM) over the first scan and over the rescan
#   - `vx status --json` and `vx search photo` latency: median of 21 calls, less the median
#     start of the client itself (`vx --version`), so the figure is the daemon's answer
# then each N's per-file cost against the first N's, and the least-squares slope of the
# per-file cost in N (ms per file, per 100,000 files more).
# VX_BIN=DIR runs the vx and vxd in DIR (another build, for a before/after) instead of building.
# VX_SCALE_LIMIT=R fails (exit 1) when the last N's per-file cost is over R times the first's:
# .ci/run's regression check, a ratio within one run so that the machine's speed cancels out.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(10000 100000 500000)

if [[ -z ${VX_BIN:-} ]]; then cargo build --release --bins -q; fi
BIN="${VX_BIN:-$PWD/target/release}"
WORK="$(mktemp -d /tmp/vx-scale.XXXXXX)"
trap '"$BIN/vx" daemon stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export VX_DATA_DIR="$WORK/data" VX_SOCKET="$WORK/run/vxd.sock" VX_CONFIG="$WORK/none.toml"
export VX_MODELS_DIR="$WORK/no-models" VX_LOG=warn
MEDIA="$WORK/media"
mkdir -p "$MEDIA" "$VX_MODELS_DIR"
ffmpeg -loglevel error -f lavfi -i testsrc=size=64x48 -frames:v 1 "$WORK/seed.png"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
hwm_mib() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
cpu_secs() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
pid() { "$BIN/vx" daemon status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }
# Median milliseconds of 21 runs of a command.
latency_ms() {
  python3 - "$@" <<'PY'
import statistics, subprocess, sys, time
times = []
for _ in range(21):
    t = time.perf_counter()
    subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(times):.2f}")
PY
}

grow_to() {
  python3 - "$WORK/seed.png" "$MEDIA" "$1" <<'PY'
import os, sys
seed, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(seed, "rb").read()
for i in range(n):
    d = os.path.join(out, f"d{i // 1000:04d}")
    path = os.path.join(d, f"photo-{i:06d}.png")
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data + b"vx%08d" % i)  # PNG ignores bytes after IEND: distinct contents
PY
}

rows=()
for n in "${SIZES[@]}"; do
  grow_to "$n"
  rm -rf "$VX_DATA_DIR"
  "$BIN/vx" daemon start > /dev/null
  p=$(pid)
  c0=$(cpu_secs "$p")
  t=$(now)
  "$BIN/vx" add "$MEDIA" > /dev/null
  "$BIN/vx" wait --timeout 36000
  first=$(calc "$(now) - $t")
  share=$(calc "($(cpu_secs "$p") - $c0) * 100 / $first")
  first_mem=$(hwm_mib "$p")
  indexed=$("$BIN/vx" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"]["indexed"])')
  [[ "$indexed" == "$n" ]] || { echo "expected $n indexed files, got $indexed" >&2; exit 1; }
  client=$(latency_ms "$BIN/vx" --version)
  status=$(calc "$(latency_ms "$BIN/vx" status --json) - $client")
  search=$(calc "$(latency_ms "$BIN/vx" search photo --json) - $client")
  "$BIN/vx" daemon stop > /dev/null

  # The walk and the rescan both find the tree in the page cache, as a restart of vxd does.
  find "$MEDIA" -type f -printf '%s %T@\n' > /dev/null
  t=$(now); find "$MEDIA" -type f -printf '%s %T@\n' > /dev/null; walk=$(calc "$(now) - $t")
  t=$(now)
  VX_LOG=info "$BIN/vx" daemon start > /dev/null
  "$BIN/vx" wait --timeout 36000
  rescan=$(calc "$(now) - $t")
  scan_ms=$(grep -h "scan finished" "$VX_DATA_DIR"/logs/vxd.log.* | tail -1 | sed -E 's/.* ms=([0-9]+).*/\1/' || true)
  [[ -n $scan_ms ]] || { echo "no \"scan finished\" in vxd's log; its scan is shown as 0" >&2; scan_ms=0; }
  scan=$(calc "$scan_ms / 1000")
  rescan_mem=$(hwm_mib "$(pid)")
  "$BIN/vx" daemon stop > /dev/null
  per_file=$(calc "$first * 1000 / $n")
  rows+=("$n $first $per_file $share $first_mem $rescan $scan $walk $rescan_mem $status $search")
  echo "N=$n: first scan ${first} s (${per_file} ms/file, vxd ${share} % of a core, ${first_mem} MiB)," \
    "rescan ${rescan} s (its scan ${scan} s, walk ${walk} s, ${rescan_mem} MiB), status ${status} ms, search ${search} ms" >&2
done

echo "cores: $(nproc), $(date -u +%Y-%m-%d)"
printf '%s\n' "${rows[@]}" | python3 -c '
import sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
base = rows[0][2]
print("| files | first scan | per file | x first N | vxd CPU | peak RSS | restart to idle | its scan | stat walk | scan/walk | restart/walk | rescan RSS | status | search |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for n, first, per, share, mem, rescan, scan, walk, rmem, status, search in rows:
    print(f"| {int(n):,} | {first:.1f} s | {per:.2f} ms | {per / base:.2f}x | {share:.0f} % | {int(mem)} MiB "
          f"| {rescan:.2f} s | {scan:.2f} s | {walk:.2f} s | {scan / walk:.2f}x | {rescan / walk:.2f}x | {int(rmem)} MiB "
          f"| {status:.2f} ms | {search:.2f} ms |")
if len(rows) > 1:
    xs = [r[0] / 1e5 for r in rows]; ys = [r[2] for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print(f"\nslope of the per-file cost: {slope:+.3f} ms per file for each 100,000 files more "
          f"({slope / base * 100:+.1f} % of the first N per 100,000)")
'
if [[ -n ${VX_SCALE_LIMIT:-} ]]; then
  printf '%s\n' "${rows[0]}" "${rows[-1]}" | python3 -c '
import sys
limit = float(sys.argv[1])
(n0, per0), (n1, per1) = [(int(l.split()[0]), float(l.split()[2])) for l in sys.stdin]
ratio = per1 / per0
verdict = "ok" if ratio <= limit else "REGRESSION"
print(f"scale check: {per1:.2f} ms a file at {n1:,} files, {per0:.2f} at {n0:,}: {ratio:.2f}x (limit {limit}x): {verdict}")
sys.exit(0 if ratio <= limit else 1)
' "$VX_SCALE_LIMIT"
fi
