#!/bin/sh
# Regenerate the ONNX exports of the test fixtures (and the F32/BF16/outlier variants of
# tests/fixtures/tiny, in a temporary folder) with tests/gen/gen_model.py --onnx, then write
# tests/fixtures/*/goldens*.json from transformers.js, cross-checked against ref_numpy.py.
# usage: tests/gen/make_goldens.sh [--only tiny,tiny-f32,tiny-bf16,tiny-outliers,tiny-cross]
set -eu
cd "$(dirname "$0")/../.."
export PYTHON="${PYTHON:-/usr/bin/python3}"
"$PYTHON" -c 'import numpy, onnx' || { echo "make_goldens: $PYTHON needs numpy and onnx (apt-get install python3-numpy python3-onnx)" >&2; exit 1; }
[ -d node_modules/@huggingface/transformers ] || { echo "make_goldens: run 'ONNXRUNTIME_NODE_INSTALL=skip npm install' first" >&2; exit 1; }
node tests/gen/make_goldens.mjs "$@"
# the committed fixture files must not change when regenerated (same seed, same bytes)
git diff --stat --exit-code -- tests/fixtures/tiny tests/fixtures/tiny-cross ':!*goldens*.json' >/dev/null ||
  echo "make_goldens: warning: regenerated fixture files differ from the committed ones" >&2
