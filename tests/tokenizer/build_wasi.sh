#!/bin/sh
# Builds the tokenizer driver (tokenize_lines.c + the tokenizer sources) for wasm32-wasi with clang-22
# (Debian wasi-libc), for the wasm figure of tests/tokenizer/bench.mjs. Run under Node's node:wasi.
#   tests/tokenizer/build_wasi.sh [OUT]   (default: ${BERT_BUILD_DIR:-build}/tokenize_lines.wasm)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/${BERT_BUILD_DIR:-build}/tokenize_lines.wasm}
mkdir -p "$(dirname "$OUT")"
clang-22 --target=wasm32-wasi -Wno-deprecated -msimd128 -O3 -I"$ROOT/src" \
  "$ROOT/tests/tokenizer/tokenize_lines.c" "$ROOT/src/tokenizer.c" "$ROOT/src/unicode.c" \
  "$ROOT/src/unicode_tables.c" "$ROOT/src/json.c" "$ROOT/src/common.c" \
  -Wl,--strip-all -o "$OUT"
echo "$OUT"
