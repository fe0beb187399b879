#!/usr/bin/env bash
# Builds the WASI command-line tool (wasm32-wasi preview1, clang-22 + Debian wasi-libc):
#   dist/bertwasm-wasi.wasm          -msimd128
#   dist/bertwasm-wasi-relaxed.wasm  -msimd128 -mrelaxed-simd (the same C; clang then emits
#                                    f32x4.relaxed_madd/min/max in the f32 math - docs/bench.md says
#                                    why the integer dot products stay on i32x4.dot_i16x8_s)
# Then checks both with wasm-validate and that they import only wasi_snapshot_preview1.
# Env: CC_WASI (default clang-22), BERT_WASI_CFLAGS (extra flags), BERT_WASI_BUILD_DIR (default build-wasi).
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC_WASI:-clang-22}
BUILD_DIR=${BERT_WASI_BUILD_DIR:-build-wasi}
mkdir -p "$BUILD_DIR" dist

# -disable-lsr (as Emscripten passes by default): LLVM's loop strength reduction rewrites
# pointer + constant addresses into adds that wasm load offsets cannot absorb, and V8 then spends
# an extra instruction per load in the GEMM micro-kernels.
CFLAGS=(--target=wasm32-wasi -Wno-deprecated -std=c11 -O3 -DNDEBUG -Isrc -mllvm -disable-lsr -Wno-unused-command-line-argument
        -Wall -Wextra -Wno-unused-parameter ${BERT_WASI_CFLAGS:-})
# 1 MiB stack (the default 64 KiB is tight for the JSON parser's recursion); memory may grow to
# wasm32's 4 GiB so large plans fail in the plan, not in memory.grow.
LDFLAGS=(-Wl,--strip-all -Wl,-z,stack-size=1048576 -Wl,--max-memory=4294967296 -lm)

SOURCES=(src/*.c wasi/*.c)

build() { # out, extra flags...
  local out=$1; shift
  local objdir="$BUILD_DIR/obj-$(basename "$out" .wasm)"
  mkdir -p "$objdir"
  local objs=()
  # Compile per file (up to 2 at a time: the machine is shared), then link.
  local pids=()
  for src in "${SOURCES[@]}"; do
    local obj="$objdir/$(basename "$src" .c).o"
    objs+=("$obj")
    "$CC" "${CFLAGS[@]}" "$@" -c "$src" -o "$obj" &
    pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  done
  for p in "${pids[@]}"; do wait "$p"; done
  "$CC" "${CFLAGS[@]}" "$@" "${objs[@]}" "${LDFLAGS[@]}" -o "$out"
}

# SIMD128: clang runs /usr/bin/wasm-opt (binaryen 108) after an -O link, which is fine here.
build dist/bertwasm-wasi.wasm -msimd128
# Relaxed SIMD: binaryen 108 cannot parse the relaxed opcodes, so no wasm-opt.
build dist/bertwasm-wasi-relaxed.wasm -msimd128 -mrelaxed-simd -Wno-unused-command-line-argument --no-wasm-opt

for f in dist/bertwasm-wasi.wasm dist/bertwasm-wasi-relaxed.wasm; do
  wasm-validate --enable-relaxed-simd "$f"
  bad=$(wasm-objdump -x -j Import "$f" | grep -- '<-' | grep -v 'wasi_snapshot_preview1\.' || true)
  if [ -n "$bad" ]; then echo "build-wasi: $f imports more than wasi_snapshot_preview1:" >&2; echo "$bad" >&2; exit 1; fi
  printf '%-36s %8d bytes\n' "$f" "$(stat -c %s "$f")"
done
