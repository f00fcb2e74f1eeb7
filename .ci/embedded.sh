#!/usr/bin/env bash
# Embedded CI step: the models on a Cortex-M4F under QEMU, their footprint and cost, and the
# runtime built for bare-metal targets. Called from .ci/run; runs on its own from a clean clone:
#
#   bash .ci/embedded.sh
#
# 1. installs qemu-system-arm (Debian's 7.2, without recommends) and the Rust targets;
# 2. builds the no_std runtime for riscv32imac-unknown-none-elf;
# 3. `cargo test --release` in examples/firmware, which builds the runtime for
#    thumbv7em-none-eabihf: every model against Keras's outputs and bit for bit against the host,
#    on the emulated MCU ("N passed, N failed"; a failure, panic, HardFault or hang exits
#    non-zero);
#    `tests/qemu_train.rs` fine-tunes two heads on the MCU (src/tune.rs): the loss falls, the
#    held-back accuracy rises, the trained weights equal the host's bit for bit;
# 4. footprint and exact instruction count of one inference per model with the shared
#    `embedded/measure.sh` (from the shared/ folder next to the repository; skipped with a
#    notice if it is not there), and a check that the weights take no static RAM.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
MEASURE=${MEASURE:-$ROOT/../shared/embedded/measure.sh}
FIRMWARE=examples/firmware
ELF_DIR=$FIRMWARE/target/thumbv7em-none-eabihf/release
BENCHES=(harness sine digits_mlp digits_cnn sensor stream) # harness first: the others are compared with it
BENCHES+=(train_digits train_sensor) # one fine-tuning step each; their RAM is stack, not static

step() { printf '\n=== embedded: %s\n' "$*"; }

step "install"
if ! command -v qemu-system-arm >/dev/null; then
  # --no-install-recommends: 25 packages instead of 165 (no GUI, gstreamer or UEFI firmware).
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi
qemu-system-arm --version | head -n 1
rustup target add thumbv7em-none-eabihf riscv32imac-unknown-none-elf

step "runtime for riscv32imac-unknown-none-elf"
# For thumbv7em-none-eabihf the firmware below builds the runtime (and .ci/run's no_std step builds
# it on its own). Dependencies unoptimised here (the dev profile optimises them): this build only
# proves that the runtime compiles for a RISC-V MCU, and nothing else shares its artefacts.
cargo build -p static-keras-runtime --no-default-features --target riscv32imac-unknown-none-elf \
  --config 'profile.dev.package."*".opt-level=0'

step "models on the MCU (qemu-system-arm -machine mps2-an386)"
(cd "$FIRMWARE" && cargo fmt -- --check && cargo test --release </dev/null)

step "footprint and instructions per inference"
(cd "$FIRMWARE" && cargo build --release --bins)
SIZE=$(command -v llvm-size || ls /usr/bin/llvm-size* 2>/dev/null | head -n 1 || true)
if [ ! -f "$MEASURE" ]; then
  echo "measure.sh not found at $MEASURE: instruction counts skipped"
fi
harness_ram=
rows=()
# The figures of BENCHMARKS.md (flash B, peak stack B, instructions per inference). A model may
# exceed them by 3% before this fails, so that a change making a model bigger or slower on the MCU
# is seen here rather than in a later table; update them with the table when that is the intent.
declare -A DOC_FLASH=([sine]=8948 [digits_mlp]=20352 [digits_cnn]=42572 [sensor]=23004 [stream]=19604)
declare -A DOC_STACK=([sine]=96 [digits_mlp]=604 [digits_cnn]=15480 [sensor]=5980 [stream]=1176)
declare -A DOC_INSNS=([sine]=1135 [digits_mlp]=9075 [digits_cnn]=180626 [sensor]=148153 [stream]=30544)
DOC_FLASH+=([train_digits]=155796 [train_sensor]=181444)
DOC_STACK+=([train_digits]=66304 [train_sensor]=108236)
DOC_INSNS+=([train_digits]=3132721 [train_sensor]=2380242)
over_budget() { # name, measured, documented: fails when measured > documented + 3%
  [[ "$2" =~ ^[0-9]+$ && -n "$3" ]] || return 1
  (($2 * 100 > $3 * 103))
}
budget_fail=0
for bench in "${BENCHES[@]}"; do
  elf=$ELF_DIR/$bench
  if [ -f "$MEASURE" ]; then
    out=$(bash "$MEASURE" "$elf" </dev/null)
  else
    # Footprint from llvm-size and the firmware's own report, without the instruction count.
    out=$(
      [ -n "$SIZE" ] && "$SIZE" "$elf" | tail -n 1 |
        awk '{print "flash_bytes=" $1 + $2 " ram_static_bytes=" $2 + $3}'
      timeout 60 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
        -semihosting-config enable=on,target=native -kernel "$elf" </dev/null
    )
  fi
  echo "$out"
  field() { grep -o "$1[= ][0-9]*" <<<"$out" | head -n 1 | grep -o '[0-9]*$' || echo "n/a"; }
  flash=$(field flash_bytes) ram=$(field ram_static_bytes)
  stack=$(field stack_peak_bytes) insns=$(field insns_window)
  rows+=("| $bench | $flash | $ram | $stack | $insns |")
  if [ "$bench" = harness ]; then
    harness_ram=$ram
  elif [ "$ram" != "$harness_ram" ]; then
    echo "FAIL: $bench uses $ram B of static RAM, the harness $harness_ram B: weights were copied to RAM"
    exit 1
  fi
  for what in flash stack insns; do
    case $what in
      flash) got=$flash doc=${DOC_FLASH[$bench]:-} ;;
      stack) got=$stack doc=${DOC_STACK[$bench]:-} ;;
      insns) got=$insns doc=${DOC_INSNS[$bench]:-} ;;
    esac
    if over_budget "$bench" "$got" "$doc"; then
      echo "FAIL: $bench $what is $got, more than 3% over the documented $doc (BENCHMARKS.md)"
      budget_fail=1
    fi
  done
done
if [ "$budget_fail" = 1 ]; then
  exit 1
fi
echo
echo "Cortex-M4F (mps2-an386), opt-level 2, fat LTO; flash = text + data, static RAM = data + bss"
echo "| binary | flash B | static RAM B | peak stack B | instructions / inference |"
echo "|---|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
echo "(train_*: instructions per training step, not per inference)"
