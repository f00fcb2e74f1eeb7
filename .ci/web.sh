#!/usr/bin/env bash
# Web CI step: the facade for wasm32, and the digits page (examples/web) in a real browser.
# Called from .ci/run; runs on its own from a clean clone:
#
#   bash .ci/web.sh
#
# 1. installs the wasm32 target and Debian's chromium + chromium-driver;
# 2. builds the facade for wasm32-unknown-unknown without default features (no_std, no file
#    reader) and with `keras-file` (the page's `from_keras_bytes`);
# 3. examples/web/browser_test.py: headless Chromium over WebDriver on loopback draws a digit,
#    compares the page's probabilities with the host's predict (1e-5), loads a matching and a
#    non-matching .keras file in the second tab, and prints the .wasm size and the browser and
#    native time per inference.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

STEP_PREFIX="web: "
source .ci/step.sh # step TEXT: a heading with the time so far

step "install"
rustup target add wasm32-unknown-unknown
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version

step "the facade for wasm32-unknown-unknown"
cargo build -p static-keras --no-default-features --target wasm32-unknown-unknown
cargo build -p static-keras --no-default-features --features keras-file --target wasm32-unknown-unknown

step "examples/web: format, lints, the page in headless Chromium"
(cd examples/web && cargo fmt -- --check)
(cd examples/web && cargo clippy --release --lib --target wasm32-unknown-unknown -- -D warnings)
python3 examples/web/browser_test.py
