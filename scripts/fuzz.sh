#!/usr/bin/env bash
# Fuzzing (not a test run by CI): every target of tests/fuzz-targets under libFuzzer, SECONDS each
# (default 300), with cargo-fuzz on nightly Rust (installed by this script when missing). A
# crash is saved under fuzz/artifacts/TARGET/; turn it into a test in tests/fuzz-targets.
# Corpora grow in fuzz/corpus/TARGET/ from run to run. CI replays seeds and mutations of every
# target on stable Rust instead (cargo test -p vx-fuzz-targets).
#   scripts/fuzz.sh [SECONDS] [TARGET...]      FUZZ_SANITIZER=address for ASan (slower build)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-300}
shift || true
rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
sanitizer=${FUZZ_SANITIZER:-none}
targets=("$@")
((${#targets[@]})) || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build -s "$sanitizer" -O
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  out=$(cargo +nightly fuzz run -s "$sanitizer" -O "$t" "corpus/$t" -- -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 2>&1) || { echo "$out" | tail -30; echo "fuzz: $t FAILED"; exit 1; }
  echo "$out" | grep -E '^#[0-9]+.*(DONE|pulse)' | tail -1 | sed "s/^/fuzz: $t ${seconds}s: /"
done
