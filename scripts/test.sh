#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing, builds every
# target (native with ASan+UBSan, WASI, web), then runs every stage: ctest, bounded fuzzing, and the
# Node suites (web API, WASI CLI, tokenizer differential, browser). All stages run even if one
# fails; the last line counts them and the exit code is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
export BERT_BUILD_DIR=${BERT_BUILD_DIR:-build}
BERT_CMAKE_ARGS="-DBERT_SANITIZE=ON" bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 failed_names=()
stage() {
  local name=$1; shift
  echo "== $name =="
  local t0=$SECONDS
  if "$@"; then passed=$((passed + 1)); echo "== $name: ok ($((SECONDS - t0)) s) =="
  else failed=$((failed + 1)); failed_names+=("$name"); echo "== $name: FAILED ($((SECONDS - t0)) s) =="; fi
}

stage "ctest (native, ASan+UBSan)" bash -c "cd '$BERT_BUILD_DIR' && ctest --output-on-failure -j2"
stage "fuzz (60 s per target)" bash scripts/fuzz.sh --quick
mapfile -t node_tests < <(find tests -name '*.test.mjs' -not -path '*/node_modules/*' | sort)
stage "node --test" node --test --test-concurrency=1 "${node_tests[@]}"
stage "benchmark quick mode (figures only)" bash -c '[[ ! -f tests/bench/run.mjs ]] || node tests/bench/run.mjs --quick'

((failed)) && echo "failed stages: ${failed_names[*]}"
echo "stages: $passed passed, $failed failed"
((failed == 0))
