#!/usr/bin/env bash
# Miri CI step: the kernels' unit tests under Miri, which stops at undefined behaviour (a pointer
# moved out of its allocation, an out-of-bounds or unaligned read, a data race). Called from
# .ci/run; runs on its own from a clean clone:
#
#   bash .ci/miri.sh
#
# 1. installs a nightly toolchain with Miri and the standard library's sources (idempotent) and
#    builds Miri's standard library;
# 2. the portable kernels: the unit tests of runtime/src/kernels.rs, the convolution and
#    depthwise kernels, pooling and the normalisation math, as the CPU-independent build runs
#    them (Miri reports no SIMD instruction set, so `is_x86_feature_detected!` is false);
# 3. the x86 SIMD kernels: the same tests with AVX2 + FMA enabled at compile time, which makes
#    `is_x86_feature_detected!` report them, so the SIMD paths and their pointer arithmetic run
#    in Miri's interpreter of the intrinsics.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n=== miri: %s\n' "$*"; }

step "toolchain: nightly with miri and rust-src"
rustup toolchain install nightly --profile minimal --component miri,rust-src
cargo +nightly miri --version
cargo +nightly miri setup

# The kernels' unit tests, by test path (libtest runs a test whose path contains a filter and
# none of the --skip ones). Left out: the convolution's `matches_the_definition` (over 13 minutes
# in Miri; `portable_chunks…` and `panels…` run the same tiles on smaller cases), the
# norm-math tests of sqrt/rsqrt (2 million samples each, and libm's x86 sqrt is inline assembly,
# which Miri cannot run), the SIMD gemm and sigmoid/tanh sweeps (over 6 minutes each; the
# dispatching gemm runs on every edge tile in `kernels::choice`'s small cases), and the AVX-512
# tests (see below). Not covered yet: the convolution's SIMD tiles, whose only test is the
# 13-minute one.
tests=(
  kernels::
  layers::conv::kernel::
  layers::depthwise::kernel::
  layers::pool::tests::two_d_windows_over_the_edge
  layers::norm::math::tests::sums
  --skip layers::conv::kernel::tests::matches_the_definition
  --skip kernels::simd_tests::gemm_matches_the_portable_kernel
  --skip kernels::simd_tests::sigmoid_and_tanh
  # Safe code only (the AVX2 build is its portable body under `target_feature`), and about two
  # minutes under Miri: the rest of the depthwise tests still run.
  --skip layers::depthwise::kernel::tests::agrees_with_the_definition
)

step "portable kernels"
cargo +nightly miri test -p static-keras-runtime --lib -- "${tests[@]}"

# Winograd is a SIMD-only kernel (the portable build never chooses it, and its test asserts that
# some instruction set runs it), so it joins the list for the SIMD step only.
tests=(layers::conv::winograd::tests::winograd_matches_the_direct_kernel_at_the_edges "${tests[@]}")

# AVX2 + FMA only: Miri implements the AVX2 and FMA intrinsics these kernels use, but not all of
# AVX-512's (`llvm.x86.avx512.max.ps.512`, in the AVX-512 exp, is unsupported). Its own target
# directory, so that the two builds do not replace each other.
step "x86 SIMD kernels (AVX2 + FMA)"
RUSTFLAGS="-C target-feature=+avx2,+fma" CARGO_TARGET_DIR=target/miri-avx2 \
  cargo +nightly miri test -p static-keras-runtime --lib -- "${tests[@]}"
