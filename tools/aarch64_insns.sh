#!/usr/bin/env bash
# Instructions per inference of the benchmark models M1–M6 on aarch64, static-keras against
# tract 0.23, counted under QEMU user mode (no ARM hardware needed): BENCHMARKS.md's section
# "aarch64: instructions per inference (qemu, proxy)".
#
#   bash tools/aarch64_insns.sh [MODEL...]     # default: m1_mlp … m6_conv3d
#   TRACT=0 bash tools/aarch64_insns.sh        # static-keras only: tract is not even compiled
#
# 1. builds `benches/examples/insns.rs` for aarch64-unknown-linux-gnu in release (static and
#    not position-independent, so the marker addresses `nm` prints are the addresses QEMU runs);
#    the first build compiles tract, which takes a while;
# 2. compiles the instruction-count plugin `insn_window.c` (from the shared/embedded folder beside
#    the repository, as .ci/embedded.sh finds measure.sh, or INSN_WINDOW_C);
# 3. for each model, batch (1, 64) and engine (static-keras, tract), runs the example under
#    `qemu-aarch64 -cpu cortex-a72` with the plugin windowed on `bench_begin`…`bench_end`: the
#    example checks the engine's outputs against Keras's before and after, and runs exactly one
#    inference (the batch-64 one is one call over the 64 samples) in the window after a warm-up;
# 4. prints the table: instructions per sample and the ratio static-keras / tract.
#
# Needs qemu-user and gcc-aarch64-linux-gnu (with its binutils; .ci/aarch64.sh installs them), gcc, and the
# benchmark models (shared/bench-models beside the repository, or STATIC_KERAS_BENCH_MODELS).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=aarch64-unknown-linux-gnu
CPU=${CPU:-cortex-a72}
INSN_WINDOW_C=${INSN_WINDOW_C:-$ROOT/../shared/embedded/insn_window.c}
export STATIC_KERAS_BENCH_MODELS=${STATIC_KERAS_BENCH_MODELS:-$ROOT/../shared/bench-models}
TRACT=${TRACT:-1}
MODELS=("$@")
[ ${#MODELS[@]} -gt 0 ] || MODELS=(m1_mlp m2_cnn m3_lstm m4_gru m5_conv1d m6_conv3d)

[ -f "$INSN_WINDOW_C" ] || { echo "no $INSN_WINDOW_C: set INSN_WINDOW_C to insn_window.c" >&2; exit 2; }
[ -d "$STATIC_KERAS_BENCH_MODELS" ] || {
  echo "no benchmark models in $STATIC_KERAS_BENCH_MODELS: set STATIC_KERAS_BENCH_MODELS" >&2
  exit 2
}

echo "building benches/examples/insns.rs for $TARGET (release, static, non-PIE)" >&2
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static"
export CARGO_INCREMENTAL=0
features=()
[ "$TRACT" = 1 ] || features=(--no-default-features) # the benches crate's feature `tract`
(cd "$ROOT/benches" && cargo build -q --release --target "$TARGET" --example insns "${features[@]}")
BIN=$ROOT/benches/target/$TARGET/release/examples/insns
# A static non-PIE executable (ELF type EXEC, no interpreter): nm's addresses are QEMU's.
aarch64-linux-gnu-readelf -h "$BIN" | grep -q "EXEC (Executable file)" &&
  ! aarch64-linux-gnu-readelf -l "$BIN" | grep -q "INTERP" ||
  { echo "$BIN is not a static non-PIE executable" >&2; exit 1; }

PLUGIN=$(mktemp -d)/libinsn_window.so
gcc -O2 -shared -fPIC -fvisibility=hidden -o "$PLUGIN" "$INSN_WINDOW_C"
sym() { aarch64-linux-gnu-nm "$BIN" | awk -v s="$1" '$3 == s {print "0x" $1}'; }
BEGIN=$(sym bench_begin) END=$(sym bench_end)
[ -n "$BEGIN" ] && [ -n "$END" ] || { echo "$BIN has no bench_begin/bench_end" >&2; exit 1; }

# Instructions in the window of one run; fails unless the run passed its checks and the window
# closed exactly once.
count() { # model batch engine
  local log out
  log=$(mktemp)
  out=$(qemu-aarch64 -cpu "$CPU" -plugin "$PLUGIN,begin=$BEGIN,end=$END" -d plugin -D "$log" \
    "$BIN" "$1" "$2" "$3" 2>&1) || { echo "$out" >&2; cat "$log" >&2; exit 1; }
  echo "$out" >&2
  grep -q "windows closed: 1)" "$log" || { cat "$log" >&2; echo "window not closed once" >&2; exit 1; }
  awk '$1 == "insns_window" {print $2}' "$log"
  rm -f "$log"
}

rows=()
for model in "${MODELS[@]}"; do
  for batch in 1 64; do
    ours=$(count "$model" "$batch" static-keras)
    per() { awk -v n="$1" -v b="$batch" 'BEGIN {printf "%.0f", n / b}'; }
    if [ "$TRACT" = 1 ]; then
      tract=$(count "$model" "$batch" tract)
      ratio=$(awk -v a="$ours" -v b="$tract" 'BEGIN {printf "%.2f", a / b}')
      met=$(awk -v a="$ours" -v b="$tract" 'BEGIN {print (a <= b ? "met" : "missed")}')
      rows+=("| $model | $batch | $(per "$ours") | $(per "$tract") | $ratio | $met |")
      echo "$model batch $batch: static-keras $ours, tract $tract instructions (ratio $ratio)" >&2
    else
      rows+=("| $model | $batch | $(per "$ours") | not measured | – | not measured |")
      echo "$model batch $batch: static-keras $ours instructions" >&2
    fi
  done
done
echo
echo "qemu-aarch64 $(qemu-aarch64 --version | head -n 1 | awk '{print $3}') -cpu $CPU, one thread;" \
  "instructions per sample (a batch-64 call / 64), target ratio <= 1.00"
echo "| model | batch | static-keras | tract 0.23 | ratio | target |"
echo "|---|--:|--:|--:|--:|---|"
printf '%s\n' "${rows[@]}"
