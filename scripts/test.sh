#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds every
# target (native with ASan+UBSan), runs ctest, then the Node tests (web, WASI, tokenizer, browser).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
export BERT_BUILD_DIR=${BERT_BUILD_DIR:-build}
BERT_CMAKE_ARGS="-DBERT_SANITIZE=ON" bash scripts/build.sh

echo "== ctest (native, ASan+UBSan) =="
(cd "$BERT_BUILD_DIR" && ctest --output-on-failure -j2)

if [[ -f scripts/fuzz.sh ]]; then
  echo "== fuzz (bounded) =="
  bash scripts/fuzz.sh --quick
fi

echo "== node --test =="
mapfile -t node_tests < <(find tests -name '*.test.mjs' -not -path '*/node_modules/*' | sort)
node --test --test-concurrency=1 "${node_tests[@]}"
