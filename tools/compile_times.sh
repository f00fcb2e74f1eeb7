#!/usr/bin/env bash
# Compile-time figures of BENCHMARKS.md: the 30-layer example (examples/deep.rs) cold and after a
# one-line change, in debug and release, and the test suite. Builds in a target folder of its own
# (so nothing already built is reused), and restores examples/deep.rs afterwards.
#
#   bash tools/compile_times.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target="$(mktemp -d)"
trap 'git checkout -q -- examples/deep.rs; rm -rf "$target"' EXIT
export CARGO_TARGET_DIR="$target"
export CARGO_INCREMENTAL=1

seconds() { # runs "$@", prints the wall-clock seconds it took
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}
edit() { # the one-line change: the width of one Dense layer, from $1 to $2
    sed -i "s/Dense($1, activation = \"relu\")/Dense($2, activation = \"relu\")/" examples/deep.rs
    grep -q "Dense($2, activation = \"relu\")" examples/deep.rs
}

cargo fetch -q
echo "| build | seconds |"
echo "|---|--:|"
echo "| debug, cold (every dependency) | $(seconds cargo build --example deep) |"
edit 16 17
echo "| debug, after a one-line change | $(seconds cargo build --example deep) |"
echo "| release, cold (after the debug build: build scripts and proc-macros are reused) | $(seconds cargo build --release --example deep) |"
edit 17 16
echo "| release, after a one-line change | $(seconds cargo build --release --example deep) |"
echo "| test suite, \`cargo test --workspace --no-run\` (dependencies already built) | $(seconds cargo test --workspace --no-run) |"
touch tests/parity_conv.rs
echo "| one test file touched (parity_conv, 91 models) | $(seconds cargo test --test parity_conv --no-run) |"
