#!/usr/bin/env bash
# Benchmark (not a test): each model's latency per item at batch 1 and 8, MiniLM throughput and
# Whisper's real-time factor, under both threading policies, in one run (so ratios compare).
#   scripts/bench-models.sh      (needs the model pack: VX_MODELS_DIR or ../shared/models)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh >/dev/null
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi
# Baseline: the bare models through ONNX Runtime's Python API, same library version.
VENV="${VX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vx}/bench-venv"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "onnxruntime==${VX_ORT_VERSION:-1.31.1}" numpy
cargo bench -p vx-models --bench latency --no-run -q
for t in caller global:2; do
  echo "=== vx wrappers, VX_BENCH_THREADS=$t (pre- and post-processing included)"
  VX_BENCH_THREADS=$t cargo bench -q -p vx-models --bench latency
  echo
  echo "=== baseline"
  "$VENV/bin/python" scripts/bench_models_baseline.py "$([[ $t == caller ]] && echo 1 || echo 2)"
  echo
done
