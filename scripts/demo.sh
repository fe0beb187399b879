#!/usr/bin/env bash
# The main job on the bundled model, from a fresh Debian 12 machine: install what is missing, build,
# then (1) show the memory plan, (2) embed a few texts with the WASI command under node:wasi,
# (3) semantic search over tests/fixtures/sentences.txt with the npm package's JS API in Node,
# (4) rerank with the bundled cross-encoder. Pass MODEL=DIR to use your own model folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
bash scripts/build.sh
MODEL=${MODEL:-tests/fixtures/tiny}

echo; echo "== 1. memory plan (reads config, tokenizer and the safetensors header only) =="
node wasi/run.mjs plan --model "$MODEL" --dtype q8

echo; echo "== 2. embed with the WASI command (lines cut at 160 characters) =="
node wasi/run.mjs embed --model "$MODEL" "The cat sits on the mat." "A dog runs in the park." \
  | cut -c1-160

echo; echo "== 3. semantic search with the JS API (web build in Node) =="
node examples/node/nearest.mjs --model "$MODEL" --query "where is the cat?" -k 3 tests/fixtures/sentences.txt

echo; echo "== 4. rerank with the bundled cross-encoder =="
printf 'The cat sleeps on the sofa.\nStock markets fell sharply today.\nA kitten naps on a couch.\n' \
  | node wasi/run.mjs rerank --model tests/fixtures/tiny-cross --query "Where is the cat sleeping?"

echo
echo "The bundled models have random weights: the pipeline is real, the rankings are noise."
echo "Browser demo: node examples/browser/serve.mjs, then open http://127.0.0.1:8080/examples/browser/"
