#!/bin/sh
# Builds one C test for wasm32-wasi (clang, SIMD128, Debian wasi-libc) and runs it under Node's
# node:wasi with the fixtures preopened at their native path, so the wasm32-only code paths (the
# 4 GiB address-space limit of the memory plan) run in the real target.
# usage: wasm32_run.sh CLANG NODE SOURCE_DIR BINARY_DIR TEST_NAME
set -eu
CC=$1 NODE=$2 SRC=$3 BIN=$4 T=$5
FIX="$SRC/tests/fixtures"
mkdir -p "$BIN/wasm32"
"$CC" --target=wasm32-wasi -Wno-deprecated -msimd128 -O2 -std=c11 -I"$SRC/src" \
  -DBERT_FIXTURES="\"$FIX\"" -DBERT_TMP="\"/tmp\"" -DBERT_GEN="\"none\"" \
  "$SRC"/src/*.c "$SRC/tests/$T.c" -lm -Wl,-z,stack-size=1048576 -Wl,--max-memory=4294967296 \
  -o "$BIN/wasm32/$T.wasm"
exec "$NODE" "$SRC/tests/wasm32_run.mjs" "$BIN/wasm32/$T.wasm" "$FIX"
