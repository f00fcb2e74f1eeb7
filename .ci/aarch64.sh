#!/usr/bin/env bash
# aarch64 CI step: the runtime's tests and the Keras parity suites built for
# aarch64-unknown-linux-gnu and run under QEMU user mode. Called from .ci/run; runs on its own
# from a clean clone:
#
#   bash .ci/aarch64.sh
#
# 1. installs Debian's qemu-user (qemu-aarch64 7.2) and cross gcc (gcc-aarch64-linux-gnu, the
#    linker; it brings the aarch64 glibc in /usr/aarch64-linux-gnu), and the Rust target;
# 2. cargo runs every test binary through qemu-aarch64 on an emulated Cortex-A72: ARMv8.0-A with
#    Advanced SIMD (NEON) and FP, which every aarch64 CPU has and Rust's aarch64 targets assume,
#    and nothing newer (no SVE, no dot product), so a kernel chosen at run time is one real
#    Cortex-A72/A53-class boards (Raspberry Pi 3/4, Graviton 1) would run;
# 3. `cargo test -p static-keras-runtime --lib` (unit tests, among them every NEON kernel against
#    the portable one; the host runs the doctests), then the facade's Keras parity suites
#    `tests/parity_*.rs`, all of them, on the NEON kernels (the default choice there).
#
# Built in its own target folder (target/aarch64), so the host's artefacts stay as they are.
# Cost, cold, on the shared 2-core machine (2026-12-05, load average 7.5 rising to 24): 71 min
# wall, 12.7 min of CPU, nearly all of it compiling; the tests themselves run in about 3 min
# under QEMU (runtime doctests 139 s, unit tests 11 s, each parity suite under 5 s). The
# runtime's doctests (compiled one by one) are the first thing to drop if the step is too slow.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
CPU=cortex-a72

STEP_PREFIX="aarch64: "
source .ci/step.sh # step TEXT: a heading with the time so far
start=$SECONDS

step "install"
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
qemu-aarch64 --version | head -n 1
aarch64-linux-gnu-gcc --version | head -n 1
rustup target add "$TARGET"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT -cpu $CPU"
export CARGO_TARGET_DIR=$ROOT/target/aarch64
export CARGO_INCREMENTAL=0

step "runtime tests under qemu-aarch64 -cpu $CPU"
# Unit tests only: its doctests compile one binary each, which under qemu cost more than all of
# the parity suites together (139 s of 3 min, measured); the host runs them.
cargo test --target "$TARGET" -p static-keras-runtime --lib

step "Keras parity suites under qemu-aarch64 -cpu $CPU"
suites=()
for f in tests/parity_*.rs; do
  suites+=(--test "$(basename "$f" .rs)")
done
cargo test --target "$TARGET" -p static-keras "${suites[@]}"

echo "aarch64 step: $((SECONDS - start)) s"
