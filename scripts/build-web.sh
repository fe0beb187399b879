#!/usr/bin/env bash
# Builds the npm package's web modules (Emscripten 3.1.6) into build-web/ and copies them to dist/:
#   dist/bertwasm.js + .wasm (single-threaded), dist/bertwasm-mt.js + .wasm + .worker.cjs (pthreads).
# Env: BERT_WEB_BUILD_DIR (default build-web), BERT_WEB_CMAKE_ARGS (extra cmake -D flags).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # emcc needs Debian's acorn with a non-Debian node
BUILD=${BERT_WEB_BUILD_DIR:-build-web}
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
  emcmake cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBERT_TESTS=OFF \
    -DCMAKE_CROSSCOMPILING_EMULATOR="$(command -v node)" ${BERT_WEB_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$BUILD" -j2 --target bertwasm_web bertwasm_web_mt
mkdir -p dist
for f in bertwasm.js bertwasm.wasm bertwasm-mt.js bertwasm-mt.wasm bertwasm-mt.worker.cjs; do
  cp "$BUILD/dist/$f" dist/
done
ls -l dist/bertwasm.wasm dist/bertwasm-mt.wasm | awk '{printf "web: %s %d bytes\n", $9, $5}'
