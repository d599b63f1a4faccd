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
    # each payload prefixed with a method byte, a status byte and a query-variant byte;
    # one python process a venue (a shell pipeline a seed took minutes)
    for t in "${SEED_TREES[@]}"; do
        for f in "$t/$(fixdir "$v")"/*.json "$t/websocket/$(fixdir "$v")"*/*.json; do if [ -f "$f" ]; then echo "$f"; fi; done
    done |
        python3 -c '
import hashlib, os, sys
out = sys.argv[1]
for f in sys.stdin.read().split():
    if not os.path.isfile(f):
        continue
    data = open(f, "rb").read()
    tag = hashlib.md5((f + "\n").encode()).hexdigest()[:8]
    name = os.path.basename(f)[:-5] if f.endswith(".json") else os.path.basename(f)
    for m in range(9):
        for q in (0, 96, 145, 5):    # 5: the sixth market reference (BTC/USDT-P)
            with open(os.path.join(out, "%s.%s.%d.%d" % (tag, name, m, q)), "wb") as o:
                o.write(bytes((m, 0, q)) + data)
' "$corpus"
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
