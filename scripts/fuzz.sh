#!/usr/bin/env bash
# libFuzzer targets on the native build (clang-14, ASan + UBSan). Every target first replays its
# regression inputs (tests/fuzz/regressions/<target>/), then fuzzes from its seeds for a bounded time.
#   scripts/fuzz.sh --quick          60 s per target (CI)
#   scripts/fuzz.sh --seconds 1800   a long run; prints exec counts
#   scripts/fuzz.sh --only loader    one target
# A finding is saved under build-fuzz/findings/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=60
ONLY=""
while (($#)); do
  case $1 in
    --quick) SECONDS_PER_TARGET=${BERT_FUZZ_SECONDS:-60} ;;
    --seconds) SECONDS_PER_TARGET=$2; shift ;;
    --only) ONLY=$2; shift ;;
    *) echo "usage: $0 [--quick] [--seconds N] [--only TARGET]" >&2; exit 2 ;;
  esac
  shift
done
CC=${FUZZ_CC:-clang-14}
OUT=${BERT_FUZZ_OUT:-build-fuzz}
mkdir -p "$OUT"
CFLAGS=(-g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
        -fno-omit-frame-pointer -DSIMDE_ENABLE_NATIVE_ALIASES -msse4.1 -Isrc
        -DBERT_FUZZ_DIR="\"$PWD/tests/fuzz\"")
# target name -> source and extra defines
declare -A SRC=([json]=fuzz_json.c [loader]=fuzz_loader.c [loader_chunked]=fuzz_loader.c
                [files]=fuzz_files.c [tokenizer]=fuzz_tokenizer.c [embed]=fuzz_embed.c)
declare -A DEF=([loader_chunked]=-DFUZZ_CHUNKED)
status=0
for t in json loader loader_chunked files tokenizer embed; do
  [[ -n $ONLY && $ONLY != "$t" ]] && continue
  $CC "${CFLAGS[@]}" ${DEF[$t]:-} src/*.c "tests/fuzz/${SRC[$t]}" -lm -o "$OUT/fuzz_$t"
  reg=tests/fuzz/regressions/$t
  if [[ -d $reg ]] && compgen -G "$reg/*" >/dev/null; then
    "$OUT/fuzz_$t" "$reg"/* >"$OUT/$t.regress.log" 2>&1 || { echo "fuzz $t: regression input fails"; tail -30 "$OUT/$t.regress.log"; status=1; continue; }
  fi
  corpus=$OUT/corpus/$t; findings=$OUT/findings/$t
  mkdir -p "$corpus" "$findings"
  if "$OUT/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -artifact_prefix="$findings/" -print_final_stats=1 "$corpus" "tests/fuzz/seeds/$t" >"$OUT/$t.log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$OUT/$t.log" | awk '{print $2}')
    echo "fuzz $t: ${SECONDS_PER_TARGET}s, ${execs:-?} execs, 0 findings"
  else
    echo "fuzz $t: FINDING (see $findings and $OUT/$t.log)"; grep -m5 -E 'ERROR|runtime error|SUMMARY' "$OUT/$t.log" || tail -20 "$OUT/$t.log"
    status=1
  fi
done
exit $status
