#!/usr/bin/env bash
# End-to-end stream ingest: the Bybit stream worker against the WebSocket
# mock, which writes a burst of trades as fast as the socket takes them;
# the figure is trades committed per second (from the burst's request to
# stream_status.rows_written counting the last of them, less the time the
# mock spent encoding the frames before it sent the first), next to COPY of
# the rows the worker stored into the same table, timed in turns with it in
# the same run.  The mock's own
# send rate is measured separately, with a client that only reads frames
# (bench/ws_drain.py), so the product's figure is not the generator's.
# Book deltas: one level per frame, applied to the local book, counted by
# stream_status.messages.  Medians of REPS rounds; default settings
# (flush_rows 1000, flush_interval 200 ms); book snapshots off during the
# runs so that rows_written counts trades only.
set -uo pipefail
N=${BENCH_STREAM_TRADES:-200000}
PER=${BENCH_STREAM_PER_FRAME:-100}
D=${BENCH_STREAM_DELTAS:-50000}
REPS=${BENCH_REPS:-3}

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m}'; }
burst() { curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"venue\":\"bybit\",\"action\":\"burst\",\"kind\":\"$1\",\"count\":$2,\"per_frame\":$3}" "$PERPS_MOCK_WS_CONTROL/action"; }
st() { q "SELECT $1 FROM perps_stats.stream_status WHERE exchange = 'bybit'"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- the mock alone (no stream worker connected) ----
mock_tr=$(for _ in $(seq "$REPS"); do python3 bench/ws_drain.py "$PERPS_MOCK_WS_URL" "$PERPS_MOCK_WS_CONTROL" trades "$N" "$PER" | awk '{printf "%.1f\n", $2 * 1000}'; done | median)
mock_dl=$(for _ in $(seq "$REPS"); do python3 bench/ws_drain.py "$PERPS_MOCK_WS_URL" "$PERPS_MOCK_WS_CONTROL" deltas "$D" 1 | awk '{printf "%.1f\n", $2 * 1000}'; done | median)

# ---- the stream worker ----
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
UPDATE perps_stats.exchanges SET ws_url = '$PERPS_MOCK_WS_URL/bybit/v5/public/linear' WHERE name = 'bybit';
UPDATE perps_stats.watchlist SET stream = (exchange = 'bybit' AND symbol = 'BTC');
ALTER SYSTEM SET perps_stats.stream_workers = on;
ALTER SYSTEM SET perps_stats.book_snapshot_interval = 3600;
SELECT pg_reload_conf();
SQL
for _ in $(seq 300); do [ "$(st state)" = streaming ] && break; sleep 0.1; done
[ "$(st state)" = streaming ] || { echo "the stream worker did not start: $(st last_error)"; exit 1; }

# run_worker KIND COUNT PER COUNTER TARGET_INCREMENT: ms from the burst to the counter's increment
run_worker() {
    local c0 t0 t1 build
    c0=$(st "$4")
    t0=$(now_ms)
    build=$(burst "$1" "$2" "$3" | python3 -c 'import json,sys; print(json.load(sys.stdin)["build_seconds"])')
    while [ "$(st "$4")" -lt $((c0 + $5)) ]; do sleep 0.02; done
    t1=$(now_ms)
    awk -v a="$t0" -v b="$t1" -v s="$build" 'BEGIN {printf "%.1f\n", b - a - s * 1000}'
}
# The worker and COPY are timed in turns, a run of each per round, so that
# both sample the machine at the same times (its speed drifts from one
# minute to the next).  COPY loads the rows the worker stored in a first,
# untimed run, into the same table emptied; the worker stays connected
# (and idle) while COPY runs.
data=$PERPS_RUN/bench_trades.copy
q "TRUNCATE perps_stats.trades" >/dev/null
run_worker trades "$N" "$PER" rows_written "$N" >/dev/null
q "COPY (SELECT * FROM perps_stats.trades WHERE trade_id LIKE 'burst-%') TO STDOUT" > "$data"
times=() cps=()
for _ in $(seq "$REPS"); do
    q "TRUNCATE perps_stats.trades" >/dev/null
    times+=("$(run_worker trades "$N" "$PER" rows_written "$N")")
    stored=$(q "SELECT count(*) FROM perps_stats.trades WHERE trade_id LIKE 'burst-%'")
    q "TRUNCATE perps_stats.trades" >/dev/null
    t0=$(now_ms); psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.trades FROM STDIN" < "$data" >/dev/null; t1=$(now_ms)
    cps+=($((t1 - t0)))
done
w_ms=$(printf '%s\n' "${times[@]}" | median)
cp_ms=$(printf '%s\n' "${cps[@]}" | median)
dl_ms=$(for _ in $(seq "$REPS"); do run_worker deltas "$D" 1 messages "$D"; done | median)
errors=$(st parse_errors)

psql -X -q >/dev/null <<SQL
ALTER SYSTEM RESET perps_stats.book_snapshot_interval;
ALTER SYSTEM SET perps_stats.stream_workers = off;
SELECT pg_reload_conf();
SQL
rm -f "$data"

awk -v n="$N" -v per="$PER" -v d="$D" -v w="$w_ms" -v cp="$cp_ms" -v mt="$mock_tr" -v md="$mock_dl" -v dl="$dl_ms" \
    -v stored="$stored" -v reps="$REPS" -v pe="$errors" 'BEGIN {
    printf "stream ingest (bybit, WebSocket mock on loopback), %d trades in frames of %d, median of %d runs\n", n, per, reps
    printf "  stream worker, committed:   %8.1f ms  %9.0f rows/s  (%d rows stored of the last run, %d parse errors)\n", w, n / (w / 1000), stored, pe
    printf "  COPY of the same rows:      %8.1f ms  %9.0f rows/s\n", cp, n / (cp / 1000)
    printf "  the mock alone (a reader that only counts frames): %9.0f trades/s\n", n / (mt / 1000)
    printf "  stream / COPY throughput: %.2f (target >= 0.5)\n", cp / w
    printf "book deltas (one level per frame), %d, median of %d runs\n", d, reps
    printf "  stream worker, applied:     %8.1f ms  %9.0f deltas/s\n", dl, d / (dl / 1000)
    printf "  the mock alone:                          %9.0f deltas/s\n", d / (md / 1000)
}'
