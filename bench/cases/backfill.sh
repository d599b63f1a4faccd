#!/usr/bin/env bash
# Backfill throughput against the mock exchange (no added latency), next to
# COPY of the very same rows into the same table, in the same run.
#
# Both start from an empty klines table whose daily partitions exist (one
# untimed warm-up each); the timed part is the CALL (every HTTP request,
# JSON parse, insert and per-chunk commit included) and the COPY FROM of a
# file holding exactly the rows that backfill stored.  Median of REPS runs.
set -uo pipefail
V=${BENCH_VENUE:-binance}
SYMBOLS=${BENCH_SYMBOLS:-'{BTC,ETH}'}
DAYS=${BENCH_DAYS:-10}
REPS=${BENCH_REPS:-5}
UNTIL='2024-04-10 00:00+00'      # inside the binance mock's generated history (it ends on 2026-11-23 14:37)

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
q "UPDATE perps_stats.exchanges SET rest_url = '$PERPS_MOCK_URL/$V' WHERE name = '$V'" >/dev/null
q "SELECT perps_stats.refresh_markets('$V')" >/dev/null
curl -sf -X POST "$PERPS_MOCK_URL/_mock/config" -d '{"latency_ms": 0}' >/dev/null

CALL_SQL="CALL perps_stats.backfill('$V', '$SYMBOLS', timestamptz '$UNTIL' - interval '$DAYS days', '$UNTIL', '{klines}')"
reset() { q "TRUNCATE perps_stats.klines; TRUNCATE perps_stats.backfill_progress, perps_stats.backfill_empty_ranges" >/dev/null; }

# warm-up: creates the partitions, and gives the rows COPY will load
reset
psql -X -q -c "SET client_min_messages = warning" -c "$CALL_SQL" >/dev/null || { echo "backfill failed"; exit 1; }
rows=$(q "SELECT count(*) FROM perps_stats.klines")
data=$PERPS_RUN/bench_klines.copy
psql -X -q -v ON_ERROR_STOP=1 -c "COPY (SELECT * FROM perps_stats.klines) TO STDOUT" > "$data"


median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f\n", m}'; }
RESET=reset
timed() { # timed CMD...: resets the table ($RESET, untimed), then prints the wall time of CMD in ms
    $RESET
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null || echo "failed: $*" >&2; t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) | awk '{printf "%.1f\n", $1 / 1000}'
}
run_backfill() { psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "$CALL_SQL"; }
run_copy()     { psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.klines FROM STDIN" < "$data"; }

curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/log" >/dev/null
bf_ms=$(for _ in $(seq "$REPS"); do timed run_backfill; done | median)
# the mock's own share: the same kline requests of one run, replayed
# sequentially by one curl over one connection
urls=$PERPS_RUN/bench_urls.txt
curl -sf "$PERPS_MOCK_URL/_mock/log?venue=$V" | python3 -c '
import json, sys, urllib.parse
rows = [r for r in json.load(sys.stdin) if "klines" in r["path"]]
n = len(rows) // int(sys.argv[2])
for r in rows[:n]:
    print("url = \"%s/%s%s?%s\"" % (sys.argv[1], r["venue"], r["path"], urllib.parse.urlencode(r["query"])))
    print("output = /dev/null")' "$PERPS_MOCK_URL" "$REPS" > "$urls"
nreq=$(grep -c '^url' "$urls")
mock_ms=$(for _ in $(seq "$REPS"); do t0=$(date +%s%N); curl -sf -K "$urls"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )) | awk '{printf "%.1f\n", $1 / 1000}'; done | median)
cp_ms=$(for _ in $(seq "$REPS"); do timed run_copy; done | median)

awk -v rows="$rows" -v bf="$bf_ms" -v cp="$cp_ms" -v mk="$mock_ms" -v nreq="$nreq" -v reps="$REPS" -v v="$V" -v days="$DAYS" -v s="$SYMBOLS" 'BEGIN {
    printf "backfill %s %s, %d days of 1m klines: %d rows, median of %d runs\n", v, s, days, rows, reps
    printf "  backfill (mock, no added latency): %8.1f ms  %9.0f rows/s\n", bf, rows / (bf / 1000)
    printf "  COPY of the same rows:             %8.1f ms  %9.0f rows/s\n", cp, rows / (cp / 1000)
    printf "  the mock alone, same %d requests:  %8.1f ms  (curl, sequential)\n", nreq, mk
    printf "  backfill / COPY throughput: %.2f (target >= 0.3)\n", cp / bf
}'
rm -f "$data" "$urls"

# ---- trades: BENCH_TRADE_HOURS hours of Binance aggregate trades (the mock
# has one every 1.5 s: 2400 an hour, in hourly chunks of 3 pages of 1000),
# next to COPY of the same rows.
[ "$V" = binance ] || exit 0
H=${BENCH_TRADE_HOURS:-6}
TCALL="CALL perps_stats.backfill('$V', '{BTC}', timestamptz '$UNTIL' - interval '$H hours', '$UNTIL', '{trades}')"
treset() { q "TRUNCATE perps_stats.trades; TRUNCATE perps_stats.backfill_progress, perps_stats.backfill_covered" >/dev/null; }
treset
psql -X -q -c "SET client_min_messages = warning" -c "$TCALL" >/dev/null || { echo "trades backfill failed"; exit 1; }
trows=$(q "SELECT count(*) FROM perps_stats.trades")
psql -X -q -v ON_ERROR_STOP=1 -c "COPY (SELECT * FROM perps_stats.trades) TO STDOUT" > "$data"
RESET=treset
run_tbackfill() { psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "$TCALL"; }
run_tcopy()     { psql -X -q -v ON_ERROR_STOP=1 -c "COPY perps_stats.trades FROM STDIN" < "$data"; }
tbf_ms=$(for _ in $(seq "$REPS"); do timed run_tbackfill; done | median)
tcp_ms=$(for _ in $(seq "$REPS"); do timed run_tcopy; done | median)
treset
awk -v rows="$trows" -v bf="$tbf_ms" -v cp="$tcp_ms" -v reps="$REPS" -v v="$V" -v h="$H" 'BEGIN {
    printf "backfill %s {BTC}, %d hours of trades (aggTrades): %d rows, median of %d runs\n", v, h, rows, reps
    printf "  backfill (mock, no added latency): %8.1f ms  %9.0f rows/s\n", bf, rows / (bf / 1000)
    printf "  COPY of the same rows:             %8.1f ms  %9.0f rows/s\n", cp, rows / (cp / 1000)
    printf "  backfill / COPY throughput: %.2f\n", cp / bf
}'
rm -f "$data"
