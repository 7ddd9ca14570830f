#!/usr/bin/env bash
# Benchmark (not a test): memory and the daemon's own CPU while indexing with every model on.
#   scripts/bench-footprint.sh [ROUNDS]     default 2
# A library of 40 photos (2,048 px JPEGs of the sample photos at several qualities, 10 of them
# printed pages), a 60 s 1080p video with speech and a 10-minute recording, indexed by a fresh
# release vxd (default settings: a worker process per core) with the model pack. Measured:
#   - peak resident memory of vxd and its worker processes together (sampled every 50 ms), and
#     each process's own peak (VmHWM)
#   - wall time per part (photos, video, recording), and photos per second
#   - vxd's own CPU while the photos are indexed, in % of one core (its workers are apart)
# Each round runs the build twice, ONNX Runtime's CPU arena on (VX_ORT_CPU_ARENA=1, the old
# behaviour) and off (the default), alternated; medians per setting.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-2}"
./scripts/setup.sh > /dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
[[ -n "${VX_MODELS_DIR:-}" ]] || { echo "needs the model pack (VX_MODELS_DIR)" >&2; exit 1; }
MEDIA="$(cd "${VX_TEST_MEDIA:-../shared/media}" && pwd)"
cargo build --release --bins -q
V="$PWD/target/release/vx"
WORK="$(mktemp -d /tmp/vx-footprint.XXXXXX)"
trap '"$V" daemon stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export VX_SOCKET="$WORK/run/vxd.sock" VX_CONFIG="$WORK/none.toml" VX_LOG=warn
export VX_PAUSE_ON_BATTERY=false VX_MIN_FREE_DISK_MB=0

mkdir -p "$WORK/lib/photos" "$WORK/lib/video" "$WORK/lib/recording"
for img in astronaut chelsea coffee page; do
  for q in 2 3 4 5 6 7 8 9 10 11; do
    ffmpeg -loglevel error -y -i "$MEDIA/$img.png" -vf "scale=2048:-2" -q:v "$q" "$WORK/lib/photos/$img-q$q.jpg"
  done
done
scale='scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p'
ffmpeg -loglevel error -y \
  -loop 1 -framerate 25 -t 15 -i "$MEDIA/astronaut.png" -loop 1 -framerate 25 -t 15 -i "$MEDIA/chelsea.png" \
  -loop 1 -framerate 25 -t 15 -i "$MEDIA/coffee.png" -loop 1 -framerate 25 -t 15 -i "$MEDIA/page.png" \
  -stream_loop -1 -i "$MEDIA/librivox-0870.wav" \
  -filter_complex "[0]$scale[a];[1]$scale[b];[2]$scale[c];[3]$scale[d];[a][b][c][d]concat=n=4:v=1:a=0[v]" \
  -map "[v]" -map 4:a -t 60 -r 25 -g 50 -c:v libx264 -pix_fmt yuv420p -c:a aac "$WORK/lib/video/talk.mp4"
ffmpeg -loglevel error -y -stream_loop -1 -i "$MEDIA/librivox-0880.wav" -t 600 -c:a aac \
  "$WORK/lib/recording/lecture.m4a"

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
cpu_secs() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# Samples vxd and its children every 50 ms until vxd exits; prints the peak of the sum (MiB).
sampler() {
  python3 - "$1" <<'PY'
import os, sys, time
root, peak, each = int(sys.argv[1]), 0, {}
def rss(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
while os.path.exists(f"/proc/{root}"):
    kids = []  # worker processes are started by vxd's job threads: children of any task
    try:
        for tid in os.listdir(f"/proc/{root}/task"):
            kids += open(f"/proc/{root}/task/{tid}/children").read().split()
    except OSError:
        pass
    sizes = {p: rss(p) for p in [str(root)] + kids}
    peak = max(peak, sum(sizes.values()))
    for p, s in sizes.items():
        each[p] = max(each.get(p, 0), s)
    time.sleep(0.05)
workers = sorted((v for p, v in each.items() if p != str(root)), reverse=True)
print(f"{peak // 1024} {each.get(str(root), 0) // 1024} {workers[0] // 1024 if workers else 0}")
PY
}

run() {  # ARENA -> "photos_s video_s recording_s vxd_cpu_pct peak_total vxd_peak worker_peak"
  export VX_ORT_CPU_ARENA="$1" VX_DATA_DIR="$WORK/data-$1"
  rm -rf "$VX_DATA_DIR"
  "$V" daemon start > /dev/null
  local p; p=$("$V" daemon status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
  sampler "$p" > "$WORK/peak" &
  local times=() c0 t
  c0=$(cpu_secs "$p")
  for part in photos video recording; do
    t=$(now)
    "$V" add "$WORK/lib/$part" > /dev/null
    "$V" wait --timeout 3600
    times+=("$(calc "$(now) - $t")")
    [[ $part == photos ]] && cpu=$(calc "($(cpu_secs "$p") - $c0) * 100 / ${times[0]}")
  done
  "$V" daemon stop > /dev/null
  wait
  echo "${times[*]} $cpu $(cat "$WORK/peak")"
}

declare -A rows
for round in $(seq "$ROUNDS"); do
  for arena in 1 0; do
    r=$(run "$arena")
    echo "round $round, arena $arena: $r" >&2
    rows[$arena]+="$r"$'\n'
  done
done

col() { printf '%s' "${rows[$1]}" | awk -v c="$2" 'NF {print $c}' | median; }
echo "cores: $(nproc), $(date -u +%Y-%m-%d), rounds: $ROUNDS (medians)"
echo "| ONNX Runtime CPU arena | 40 photos | photos/s | 60 s video | 10 min recording | vxd CPU (photos) | peak RSS, all processes | vxd peak | largest worker peak |"
echo "|---|---|---|---|---|---|---|---|---|"
for arena in 1 0; do
  name=$([[ $arena == 1 ]] && echo "on (before)" || echo "off (now)")
  echo "| $name | $(col $arena 1) s | $(calc "40 / $(col $arena 1)") | $(col $arena 2) s | $(col $arena 3) s | $(col $arena 4) % | $(col $arena 5) MiB | $(col $arena 6) MiB | $(col $arena 7) MiB |"
done
