#!/usr/bin/env bash
# `make fuzz-stream`: a libFuzzer + ASAN + UBSan binary per venue with a
# stream side (fuzz/fuzz_stream.c), run for FUZZ_TIME seconds each (default
# 60) from the project's own frames (test/payloads/websocket; and the
# recorded ones when present, fuzz/common.sh) plus the seeds in
# fuzz/corpus_stream/<venue> (binary frames, frames no payload has).  Each seed is prefixed with the frame-type byte: 0 text, 1 binary
# (files named *.bin), 2 the answer to the venue's connect request (files
# named *.connect.json, e.g. KuCoin's bullet-public).  FUZZ_VENUES="bybit
# lighter" limits the venues.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=${FUZZ_TIME:-60}
. fuzz/common.sh
# venues whose adapter has a stream side
venues=${FUZZ_VENUES:-$(grep -lP '^\t\.stream = &' src/venues/*.c | sed 's#.*/\(.*\)\.c$#\1#')}
fixdir() { case $1 in binance) echo binance_usdm ;; bybit) echo bybit_v5_linear ;; kucoin) echo kucoinfutures ;; *) echo "$1" ;; esac; }
objs=$(fuzz_objects src/adapter.c src/venues/*.c src/perps_json.c src/stream_book.c)
status=0
for v in $venues; do
    bin=$OUT/fuzz_stream_$v
    $CC $FUZZ_CFLAGS -DPERPS_FUZZ_VENUE="\"$v\"" fuzz/fuzz_stream.c $objs $FUZZ_LDFLAGS -o "$bin"
    corpus=$OUT/corpus_stream_$v
    rm -rf "$corpus"; mkdir -p "$corpus"
    for f in $(for t in "${SEED_TREES[@]}"; do echo "$t/websocket/$(fixdir "$v")"/*; done) fuzz/corpus_stream/"$v"/*; do
        [ -f "$f" ] || continue
        case $f in *.bin) t='\x01' ;; *.connect.json) t='\x02' ;; *) t='\x00' ;; esac
        printf "$t" | cat - "$f" > "$corpus/$(echo "$f" | md5sum | cut -c1-8).$(basename "$f")"
    done
    echo "== fuzzing the $v stream parser for ${SECONDS_EACH}s ($(ls "$corpus" | wc -l) seeds)"
    if ! "$bin" -max_total_time="$SECONDS_EACH" -max_len=1048576 -rss_limit_mb=2048 \
        -artifact_prefix="$OUT/crash_stream_${v}_" "$corpus" 2>"$OUT/fuzz_stream_$v.log"; then
        tail -40 "$OUT/fuzz_stream_$v.log"
        status=1
    else
        grep -E '^Done|stat::number_of_executed_units' "$OUT/fuzz_stream_$v.log" | tail -1
    fi
done
exit $status
