#!/usr/bin/env bash
# `make fuzz`: builds a libFuzzer + AddressSanitizer + UBSan binary per
# adapter, one a file in src/venues/ (fuzz/fuzz_adapter.c), and runs each
# for FUZZ_SECONDS (default 30) from a seed corpus made of the project's
# own payloads (test/payloads) and, when present, the recorded ones
# (fuzz/common.sh), each prefixed with a method byte, a status byte and a
# query-variant byte.  FUZZ_VENUES="bybit hyperliquid"
# limits the venues.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${FUZZ_SECONDS:-30}
. fuzz/common.sh
venues=${FUZZ_VENUES:-$FUZZ_ALL_VENUES}
# payload folder of each venue
fixdir() { case $1 in kucoin) echo kucoinfutures ;; *) echo "$1" ;; esac; }
objs=$(fuzz_objects src/adapter.c src/venues/*.c src/perps_json.c)
status=0
for v in $venues; do
    bin=$OUT/fuzz_$v
    $CC $FUZZ_CFLAGS -DPERPS_FUZZ_VENUE="\"$v\"" fuzz/fuzz_adapter.c $objs $FUZZ_LDFLAGS -o "$bin"
    corpus=$OUT/corpus_$v
    rm -rf "$corpus"; mkdir -p "$corpus"
    for f in $(for t in "${SEED_TREES[@]}"; do echo "$t/$(fixdir "$v")"/*.json "$t/websocket/$(fixdir "$v")"*/*.json; done); do
        [ -f "$f" ] || continue
        for m in 0 1 2 3 4 5 6 7 8; do
            for q in 0 96 145; do
                printf "\\x$(printf %02x $m)\\x00\\x$(printf %02x $q)" | cat - "$f" > "$corpus/$(echo "$f" | md5sum | cut -c1-8).$(basename "$f" .json).$m.$q"
            done
        done
    done
    echo "== fuzzing $v for ${SECONDS_EACH}s ($(ls "$corpus" | wc -l) seeds)"
    if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=1048576 -rss_limit_mb=2048 \
            -artifact_prefix="$OUT/crash_${v}_" "$corpus" 2>"$OUT/fuzz_$v.log"; then
        tail -50 "$OUT/fuzz_$v.log"
        status=1
    else
        tail -1 "$OUT/fuzz_$v.log"
    fi
done
exit $status
