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
# 3. the x86 SIMD kernels: the tests that run an instruction set, with AVX2 + FMA enabled at
#    compile time, which makes `is_x86_feature_detected!` report them, so the SIMD paths and
#    their pointer arithmetic run in Miri's interpreter of the intrinsics.
#
# Miri interprets one thread at a time, so the runs go side by side, one per core: the portable
# run and then the convolution's SIMD tests on one, the other SIMD tests on the other: 680 and
# 694 s of Miri's clock (2026-12-06; before, the two runs went one after the other, 612 +
# 1,164 s, and each also ran tests that check nothing on its build: see below). Each run has
# its own target folder and log; the logs are printed when both lanes have finished, and the
# step fails if either did.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
STEP_PREFIX="miri: "
source .ci/step.sh # step TEXT: a heading with the time so far

step "toolchain: nightly with miri and rust-src"
rustup toolchain install nightly --profile minimal --component miri,rust-src
cargo +nightly miri --version
cargo +nightly miri setup

# The kernels' unit tests, by test path (libtest runs a test whose path contains a filter and
# none of the --skip ones). Left out everywhere: the convolution's `matches_the_definition` (over
# 13 minutes in Miri; `portable_chunks…`, `portable_direct_rows…`, `simd_windows…` and
# `the_epilogue…` run the same tiles on smaller cases), the norm-math tests of sqrt/rsqrt (2
# million samples each, and libm's x86 sqrt is inline assembly, which Miri cannot run), the SIMD
# gemm and sigmoid/tanh sweeps (over 6 minutes each; the dispatching gemm runs on every edge tile
# in `kernels::choice`'s small cases), the depthwise `agrees_with_the_definition` (safe code
# only, two minutes; the rest of the depthwise tests still run), and the AVX-512 tests (see
# below).
skips=(
  --skip layers::conv::kernel::tests::matches_the_definition
  --skip kernels::simd_tests::gemm_matches_the_portable_kernel
  --skip kernels::simd_tests::sigmoid_and_tanh
  --skip layers::depthwise::kernel::tests::agrees_with_the_definition
)
# The portable run leaves out the tests that compare each instruction set this CPU has with the
# portable kernel: with none detected they compare nothing (the depthwise one spent 224 of the
# run's 612 s computing its references).
portable=(
  kernels::choice::
  kernels::tests::
  layers::conv::kernel::
  layers::pool::tests::two_d_windows_over_the_edge
  layers::norm::math::tests::sums
  "${skips[@]}"
  --skip layers::conv::kernel::tests::simd_windows_match_the_portable_kernel
)
# The SIMD runs leave out the tests of the portable kernel alone (the portable run has them).
# Winograd is a SIMD-only kernel (the portable build never chooses it, and its test asserts that
# some instruction set runs it). The convolution's tests on one lane, the rest on the other.
simd_conv=(
  layers::conv::kernel::tests::simd_windows_match_the_portable_kernel
  layers::conv::kernel::tests::the_epilogue_computes_the_bits_of_the_unfused_layers
)
simd_rest=(
  kernels::
  layers::depthwise::kernel::
  layers::conv::winograd::tests::winograd_matches_the_direct_kernel_at_the_edges
  layers::pool::tests::two_d_windows_over_the_edge
  layers::norm::math::tests::sums
  "${skips[@]}"
  --skip kernels::tests::
  --skip kernels::choice::tests::portable_is_the_portable_kernel_bit_for_bit
)

# miri NAME TARGET_DIR RUSTFLAGS TESTS...: one `cargo miri test` of the runtime's unit tests.
miri() {
  local name=$1 dir=$2 flags=$3
  shift 3
  echo "--- $name"
  RUSTFLAGS=$flags CARGO_TARGET_DIR=$dir cargo +nightly miri test -p static-keras-runtime --lib -- "$@"
}
# AVX2 + FMA only: Miri implements the AVX2 and FMA intrinsics these kernels use, but not all of
# AVX-512's (`llvm.x86.avx512.max.ps.512`, in the AVX-512 exp, is unsupported).
avx2="-C target-feature=+avx2,+fma"

step "portable kernels, then the convolution's SIMD tests | the other SIMD tests (AVX2 + FMA)"
mkdir -p target
(
  miri portable target/miri "" "${portable[@]}"
  miri "AVX2 + FMA: convolution" target/miri-avx2 "$avx2" "${simd_conv[@]}"
) >target/miri-lane1.log 2>&1 &
lane1=$!
miri "AVX2 + FMA: the rest" target/miri-avx2-rest "$avx2" "${simd_rest[@]}" >target/miri-lane2.log 2>&1 &
lane2=$!
status=0
wait "$lane1" || status=1
wait "$lane2" || status=1
cat target/miri-lane1.log target/miri-lane2.log
step "done"
exit "$status"
