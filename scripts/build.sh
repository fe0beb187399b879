#!/usr/bin/env bash
# Builds everything: the native core + CLI + tests (build/), the web module (dist/bertwasm*.js/.wasm)
# and the WASI commands (dist/bertwasm-wasi*.wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
BUILD_DIR=${BERT_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BERT_BUILD_TYPE:-RelWithDebInfo} ${BERT_CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j2
[[ -f scripts/build-wasi.sh ]] && bash scripts/build-wasi.sh
[[ -f scripts/build-web.sh ]] && bash scripts/build-web.sh
echo "build: ok"
