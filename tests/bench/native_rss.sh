#!/usr/bin/env bash
# Peak RSS of the native CLI while loading generated MiniLM-L6 and BERT-base models as q8_0,
# next to the memory plan. Requirement (engine-core issue):
#   peak RSS <= plan total + 32 MiB + process baseline   (baseline = peak RSS of `bertwasm --version`)
# The load is `bertwasm embed --model DIR --dtype q8 "hello world"`: every weight byte streamed in
# 1 MiB reads, quantized into the arena, then one short text embedded. A second run embeds a full
# batch (8 texts truncated to the maximum length), which touches the whole activation workspace.
#
# usage: tests/bench/native_rss.sh [--keep]      (BERT_BUILD_DIR: build dir of the CLI, default
#        build-cli; use a build without sanitizers. Models go to a temp dir, removed unless --keep.)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BERT_BUILD_DIR:-build-cli}/bertwasm
TIME=/usr/bin/time
[[ -x $BIN ]] || { echo "native_rss: $BIN not found (cmake -S . -B build-cli && cmake --build build-cli --target bertwasm)" >&2; exit 1; }
[[ -x $TIME ]] || { echo "native_rss: $TIME not found (apt-get install time)" >&2; exit 1; }
if nm -C "$BIN" 2>/dev/null | grep -q __asan_init; then echo "native_rss: $BIN is built with ASan; RSS figures would be meaningless" >&2; exit 1; fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bertwasm-rss-XXXXXX")
[[ ${1:-} == --keep ]] || trap 'rm -rf "$TMP"' EXIT

peak_kib() { # command... -> peak RSS in KiB (stdout of the command discarded)
  "$TIME" -f '%M' -o "$TMP/time.txt" "$@" >/dev/null
  tail -1 "$TMP/time.txt"
}

base_kib=$(peak_kib "$BIN" --version)
echo "baseline (bertwasm --version): ${base_kib} KiB"
for i in 1 2 3 4 5 6 7 8; do printf 'the quick brown fox %.0s' $(seq 200); echo; done > "$TMP/long.txt"
printf '%-10s %-5s %10s %10s %10s %12s %10s %s\n' model dtype "file MiB" "plan MiB" "load MiB" "full-batch" "limit MiB" result
fail=0
for shape in minilm bert-base; do
  dir="$TMP/$shape"
  /usr/bin/python3 tests/gen/gen_model.py --shape "$shape" --dtype F32 -q --out "$dir"
  file_b=$(stat -c %s "$dir/model.safetensors")
  for dtype in q8; do
    plan_b=$("$BIN" plan --model "$dir" --dtype "$dtype" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
    peak=$(peak_kib "$BIN" embed --model "$dir" --dtype "$dtype" "hello world")
    full=$("$TIME" -f '%M' -o "$TMP/time.txt" "$BIN" embed --model "$dir" --dtype "$dtype" --batch 8 < "$TMP/long.txt" >/dev/null; tail -1 "$TMP/time.txt")
    peak_b=$((peak * 1024)); full_b=$((full * 1024))
    limit_b=$((plan_b + 32 * 1024 * 1024 + base_kib * 1024))
    res=ok; ((peak_b <= limit_b && full_b <= limit_b)) || { res=FAIL; fail=1; }
    awk -v m="$shape" -v d="$dtype" -v f="$file_b" -v p="$plan_b" -v k="$peak_b" -v u="$full_b" -v l="$limit_b" -v r="$res" \
      'BEGIN { printf "%-10s %-5s %10.1f %10.1f %10.1f %12.1f %10.1f %s\n", m, d, f/1048576, p/1048576, k/1048576, u/1048576, l/1048576, r }'
  done
done
exit $fail
