#!/usr/bin/env bash
# Where one inference's instructions go on aarch64: the top functions by instructions executed
# between `bench_begin` and `bench_end` for one model and batch (static-keras), under QEMU user
# mode with the TCG plugin `tools/qemu_insn_profile.c` (instructions per address), mapped to
# functions with `nm` (BENCHMARKS.md, "aarch64: instructions per inference").
#
#   bash tools/aarch64_profile.sh MODEL BATCH [TOP]    # e.g. m3_lstm 1; TOP functions (20)
#   ADDRS=1 bash tools/aarch64_profile.sh m3_lstm 1    # also the hottest addresses of the top
#                                                       # function, to read beside `objdump -d`
#
# The binary is the one `tools/aarch64_insns.sh` builds (release, static, non-PIE, so `nm`'s
# addresses are those QEMU runs), built here without tract (the benches crate's
# `--no-default-features`). Functions are symbols: whatever the compiler inlined into a function
# counts as that function (the kernels' `#[target_feature]` entries are where the SIMD bodies
# end up). Needs what `tools/aarch64_insns.sh` needs, and gcc.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=aarch64-unknown-linux-gnu
CPU=${CPU:-cortex-a72}
export STATIC_KERAS_BENCH_MODELS=${STATIC_KERAS_BENCH_MODELS:-$ROOT/../shared/bench-models}
[ $# -ge 2 ] || { echo "usage: $0 MODEL BATCH [TOP]" >&2; exit 2; }
MODEL=$1 BATCH=$2 TOP=${3:-20}
[ -d "$STATIC_KERAS_BENCH_MODELS" ] || {
  echo "no benchmark models in $STATIC_KERAS_BENCH_MODELS: set STATIC_KERAS_BENCH_MODELS" >&2
  exit 2
}

echo "building benches/examples/insns.rs for $TARGET (release, static, non-PIE, no tract)" >&2
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static"
export CARGO_INCREMENTAL=0
(cd "$ROOT/benches" && cargo build -q --release --target "$TARGET" --example insns --no-default-features)
BIN=$ROOT/benches/target/$TARGET/release/examples/insns
aarch64-linux-gnu-readelf -h "$BIN" | grep -q "EXEC (Executable file)" &&
  ! aarch64-linux-gnu-readelf -l "$BIN" | grep -q "INTERP" ||
  { echo "$BIN is not a static non-PIE executable" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$WORK/profile.so" "$ROOT/tools/qemu_insn_profile.c"
sym() { aarch64-linux-gnu-nm "$BIN" | awk -v s="$1" '$3 == s {print "0x" $1}'; }
BEGIN=$(sym bench_begin) END=$(sym bench_end)
[ -n "$BEGIN" ] && [ -n "$END" ] || { echo "$BIN has no bench_begin/bench_end" >&2; exit 1; }

qemu-aarch64 -cpu "$CPU" -plugin "$WORK/profile.so,begin=$BEGIN,end=$END" -d plugin \
  -D "$WORK/counts" "$BIN" "$MODEL" "$BATCH" static-keras >&2
grep -q "windows closed: 1)" "$WORK/counts" || { echo "window not closed once" >&2; exit 1; }

# Function symbols (text), sorted by address, demangled; each address goes to the last symbol
# at or below it. (python3: the aggregation needs more than POSIX awk.)
aarch64-linux-gnu-nm -n --demangle "$BIN" >"$WORK/symbols"
python3 - "$WORK/symbols" "$WORK/counts" "$TOP" "${ADDRS:-0}" <<'PY'
import bisect, sys
symbols, counts, top, addrs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
starts, names = [], []
for line in open(symbols):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) == 3 and parts[1] in "tTwW":
        starts.append(int(parts[0], 16))
        names.append(parts[2])
per, at, total = {}, {}, None
for line in open(counts):
    a, b = line.split()[:2]
    if a == "insns_window":
        total = int(b)
        continue
    pc, c = int(a, 16), int(b)
    i = bisect.bisect_right(starts, pc) - 1
    # The address too: the monomorphised copies of a generic share a demangled name.
    f = f"{starts[i]:x} {names[i]}" if i >= 0 else "?"
    per[f] = per.get(f, 0) + c
    at.setdefault(f, {})[pc] = c
if total is None or sum(per.values()) != total:
    sys.exit(f"the per-address counts ({sum(per.values())}) do not add up to the window ({total})")
print(f"{total} instructions in the window")
ranked = sorted(per.items(), key=lambda kv: -kv[1])
for f, c in ranked[:top]:
    print(f"{c:12d} {100 * c / total:6.2f}%  {f}")
if addrs:
    f = ranked[0][0]
    print(f"\nhottest addresses of {f}:")
    for pc, c in sorted(at[f].items(), key=lambda kv: -kv[1])[:40]:
        print(f"{c:12d}  {pc:x}")
PY
