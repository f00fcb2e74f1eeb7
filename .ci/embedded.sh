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
#    non-zero), twice: linked for the STM32F405 (1 MiB flash, 128 KiB RAM; the default), and
#    for the STM32L4R5 (2 MiB, 640 KiB; feature stm32l4r5) with the MLPerf Tiny models that do
#    not fit the F405;
#    `tests/qemu_train.rs` (F405) fine-tunes two heads on the MCU (src/tune.rs): the loss falls,
#    the held-back accuracy rises, the trained weights equal the host's bit for bit;
# 4. footprint and exact instruction count of one inference per model with the shared
#    `embedded/measure.sh` (from the shared/ folder next to the repository; skipped with a
#    notice if it is not there), checks that the weights take no static RAM (static RAM = the
#    harness's + the model's workspace) and that static RAM + peak stack fit the part, and
#    for the L4R5 models how far they exceed the F405.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
MEASURE=${MEASURE:-$ROOT/../shared/embedded/measure.sh}
FIRMWARE=examples/firmware
ELF_DIR=$FIRMWARE/target/thumbv7em-none-eabihf/release
# harness first: the others are compared with it. The F405 binaries, then the L4R5 ones.
BENCHES=(harness sine digits_mlp digits_cnn sensor stream kws resnet8 vww ad01)
L4R5=(--no-default-features --features stm32l4r5)
declare -A LAYOUT=([resnet8]=l4r5 [vww]=l4r5 [ad01]=l4r5) # the others: f405
# Flash and RAM of each layout (memory-f405.x, memory-l4r5.x).
declare -A FLASH_OF=([f405]=$((1024 * 1024)) [l4r5]=$((2048 * 1024)))
declare -A RAM_OF=([f405]=$((128 * 1024)) [l4r5]=$((640 * 1024)))
BENCHES+=(train_digits train_sensor) # one fine-tuning step each (F405); their RAM is stack, not static

STEP_PREFIX="embedded: "
source .ci/step.sh # step TEXT: a heading with the time so far

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

step "models on the MCU (qemu-system-arm -machine mps2-an386), linked for the STM32F405"
(cd "$FIRMWARE" && cargo fmt -- --check && cargo test --release </dev/null)

step "MLPerf Tiny models that need more than the STM32F405, linked for the STM32L4R5"
(cd "$FIRMWARE" && cargo test --release "${L4R5[@]}" </dev/null)

step "footprint and instructions per inference"
# Already built by the tests (each layout builds its own binaries only).
(cd "$FIRMWARE" && cargo build --release --bins && cargo build --release "${L4R5[@]}" --bins)
NM=$(command -v llvm-nm || ls /usr/bin/llvm-nm* 2>/dev/null | head -n 1 || true)
SIZE=$(command -v llvm-size || ls /usr/bin/llvm-size* 2>/dev/null | head -n 1 || true)
if [ ! -f "$MEASURE" ]; then
  echo "measure.sh not found at $MEASURE: instruction counts skipped"
fi
harness_ram=
rows=()
# The figures of BENCHMARKS.md (flash B, peak stack B, instructions per inference). A model may
# exceed them by 3% before this fails, so that a change making a model bigger or slower on the MCU
# is seen here rather than in a later table; update them with the table when that is the intent.
declare -A DOC_FLASH=([sine]=8948 [digits_mlp]=20384 [digits_cnn]=42608 [sensor]=23760 [stream]=19632
  [kws]=139824 [resnet8]=355476 [vww]=1079088 [ad01]=1108444)
declare -A DOC_STACK=([sine]=96 [digits_mlp]=604 [digits_cnn]=15480 [sensor]=5980 [stream]=1176
  [kws]=7144 [resnet8]=17524 [vww]=116568 [ad01]=5316)
declare -A DOC_INSNS=([sine]=1135 [digits_mlp]=9071 [digits_cnn]=180626 [sensor]=149117 [stream]=30588
  [kws]=11903734 [resnet8]=44771139 [vww]=38030330 [ad01]=888066)
# The planned workspace (`Net::ACTIVATION_BYTES`, a `static` in .bss) of the models run with
# `predict_in`; the others keep their activations on the stack.
declare -A DOC_WORKSPACE=([kws]=64000 [resnet8]=196608 [vww]=221184 [ad01]=3072)
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
  layout=${LAYOUT[$bench]:-f405}
  # From the symbol table: the workspace static's size (0 for a model without one), and the
  # size of the binary's one test input `X`, kept in flash.
  workspace=0 input=0
  if [ -n "$NM" ]; then
    syms=$("$NM" -S "$elf")
    size=$(awk '!n && $4 ~ /9WORKSPACE17h[0-9a-f]+E$/ {print $2; n = 1}' <<<"$syms")
    workspace=$((16#${size:-0}))
    size=$(awk -v b="$bench" '!n && $4 ~ ("^_ZN" length(b) b "1X17h") {print $2; n = 1}' <<<"$syms")
    input=$((16#${size:-0}))
  fi
  if [ "$workspace" != "${DOC_WORKSPACE[$bench]:-0}" ]; then
    echo "FAIL: $bench has a workspace of $workspace B, the documented ACTIVATION_BYTES is ${DOC_WORKSPACE[$bench]:-0} B"
    exit 1
  fi
  if [ "$bench" = harness ]; then
    harness_ram=$ram
  elif [[ "$ram" =~ ^[0-9]+$ ]] && ((ram < harness_ram + workspace || ram > harness_ram + workspace + 8)); then
    # At most 8 B over: the workspace's taken-once flag (`static_workspace!`), aligned.
    echo "FAIL: $bench uses $ram B of static RAM, the harness $harness_ram B + its workspace $workspace B: weights were copied to RAM"
    exit 1
  fi
  if [[ "$ram" =~ ^[0-9]+$ && "$stack" =~ ^[0-9]+$ ]] && ((ram + stack > ${RAM_OF[$layout]})); then
    echo "FAIL: $bench needs $ram B static + $stack B stack, more than the $layout's ${RAM_OF[$layout]} B of RAM"
    exit 1
  fi
  # How far a model linked for the L4R5 exceeds the F405: RAM = static + peak stack (which holds
  # the input's copy); flash without the binary's test input (a device reads a sensor instead).
  if [ "$layout" = l4r5 ] && [[ "$flash" =~ ^[0-9]+$ && "$ram" =~ ^[0-9]+$ && "$stack" =~ ^[0-9]+$ ]]; then
    over_flash=$((flash - input - FLASH_OF[f405])) over_ram=$((ram + stack - RAM_OF[f405]))
    say() { if (($1 > 0)); then echo "$1 B over"; else echo "fits, $((-$1)) B spare"; fi; }
    echo "$bench on the STM32F405: flash $(say $over_flash) (without its $input B test input)," \
      "RAM $(say $over_ram)"
  fi
  rows+=("| $bench | $layout | $flash | $ram | $workspace | $stack | $insns |")
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
echo "(including the workspace); layout: memory-f405.x or memory-l4r5.x"
echo "| binary | layout | flash B | static RAM B | workspace B | peak stack B | instructions / inference |"
echo "|---|---|--:|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
echo "(train_*: instructions per training step, not per inference)"
