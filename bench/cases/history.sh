#!/usr/bin/env bash
# The history RPCs (sql/install/42_api_history.sql) under load through
# PostgREST, each next to the request that serves the same rows without
# the RPC, measured just before it in the same run (the baseline); the ratio
# is requests/s against it, the median of BENCH_RUNS pairs of wrk runs of
# BENCH_SECONDS (wrk -t2 -cBENCH_CONNECTIONS on loopback):
#   - tickers_history over one hour      vs /tickers with ts=gte/lt filters
#   - tickers_history, last 24 h, limit 100 vs /tickers ... order=ts.desc&limit=100
#   - orderbook_at                       vs /orderbooks (the newest book)
#   - slippage on every venue (5)        vs slippage on one venue
# Data: BENCH_HISTORY_DAYS days (default 30) of one ticker a minute for 20
# markets (5 venues x BTC, ETH, S3, S4) in daily partitions; a 100-level
# book a minute for the last 2 days of binance BTC, and one per venue now.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

DAYS=${BENCH_HISTORY_DAYS:-30}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-8}
U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}

command -v wrk >/dev/null || PERPS_EXTRA_PACKAGES=wrk bash "$ROOT/scripts/deps.sh" || exit 1
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

t0=$(date +%s)
q <<SQL >/dev/null || exit 1
TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.orderbooks CASCADE;
SELECT perps_stats.create_partitions_for_range(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '$((DAYS - 1)) days', now());
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
SELECT (e - 1) * 4 + s, e, sym, sym || 'USDT', sym, 'USDT'
  FROM generate_series(1, 5) e,
       LATERAL (SELECT s, CASE s WHEN 1 THEN 'BTC' WHEN 2 THEN 'ETH' ELSE 'S' || s END AS sym
                  FROM generate_series(1, 4) s) x;
SET synchronous_commit = off;
-- one ticker a minute per market, up to the last whole minute
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, best_bid_price, best_bid_qty,
                                 best_ask_price, best_ask_qty, volume_24h, open_interest)
SELECT m, date_trunc('minute', now()) - i * interval '1 minute', p, p, p - 0.5, 1.5, p + 0.5, 2.5, 12345.678, 9876.5
  FROM generate_series(1, 20) m,
       LATERAL (SELECT i, round(60000 + (i % 1000) * 0.1, 1) AS p FROM generate_series(1, $DAYS * 1440 - 1) i) g;
-- 100 levels a side; binance BTC a book a minute for 2 days, every venue's BTC one now
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks)
SELECT m, date_trunc('minute', now()) - k * interval '1 minute',
       (SELECT array_agg(ARRAY[60000 - i * 0.5, 0.1 + (i % 7) * 0.25] ORDER BY i) FROM generate_series(0, 99) i),
       (SELECT array_agg(ARRAY[60000.5 + i * 0.5, 0.1 + (i % 5) * 0.3] ORDER BY i) FROM generate_series(0, 99) i)
  FROM (SELECT 1 AS m, k FROM generate_series(0, 2879) k
        UNION ALL SELECT (e - 1) * 4 + 1, 0 FROM generate_series(2, 5) e) x;
VACUUM ANALYZE perps_stats.tickers;
VACUUM ANALYZE perps_stats.orderbooks;
VACUUM ANALYZE perps_stats.markets;
NOTIFY pgrst, 'reload schema';
SQL
echo "setup: $(q -c "SELECT count(*) FROM perps_stats.tickers") tickers (20 markets, $DAYS days), $(q -c "SELECT count(*) FROM perps_stats.orderbooks") books, in $(( $(date +%s) - t0 )) s"

# one hour of binance BTC ending 2 hours ago; the last 24 h; a time between two books 3 hours ago
from=$(date -u -d '-3 hours' +%Y-%m-%dT%H:00:00Z)
to=$(date -u -d '-2 hours' +%Y-%m-%dT%H:00:00Z)
at=$(date -u -d '-3 hours' +%Y-%m-%dT%H:17:25Z)
HIST_1H="/rpc/tickers_history?exchange=binance&symbol=BTC&start=$from&end=$to"
VIEW_1H="/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.$from&ts=lt.$to&order=ts.desc"
HIST_24H="/rpc/tickers_history?exchange=binance&symbol=BTC&limit=100"
# the view's request names the window's start; the RPC's is now() - 24 h
since=$(date -u -d '-24 hours' +%Y-%m-%dT%H:%M:%SZ)
VIEW_24H="/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.$since&order=ts.desc&limit=100"
BOOK_AT="/rpc/orderbook_at?exchange=binance&symbol=BTC&at=$at"
BOOK_NEW="/orderbooks?exchange=eq.binance&symbol=eq.BTC"
SLIP_ALL="/rpc/slippage?symbol=BTC&amount=100000"
SLIP_ONE="/rpc/slippage?exchange=binance&symbol=BTC&amount=100000"
for i in $(seq 50); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U$HIST_1H")" = 200 ] && break
    sleep 0.2
done
[ "$(curl -s "$U$HIST_1H")" = "$(curl -s "$U$VIEW_1H")" ] && echo "sanity: tickers_history over the hour answers byte for byte what the view does ($(curl -s "$U$HIST_1H" | jq length) rows)" \
    || echo "sanity: tickers_history and the view answer differently over the hour"
echo "sanity: last 24 h $(curl -s "$U$HIST_24H" | jq length) rows (view $(curl -s "$U$VIEW_24H" | jq length)); orderbook_at $(curl -s "$U$BOOK_AT" | jq -c '[.[] | .ts]'); slippage: $(curl -s "$U$SLIP_ALL" | jq length) rows on every venue, $(curl -s "$U$SLIP_ONE" | jq length) on one"

# run PATH: wrk for SECONDS_PER_RUN; prints "requests/s p50"
run() {
    local out
    out=$(wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$U$1") || return 1
    awk '/^Requests\/sec:/ { r = $2 }
         $1 == "50%" { v = $2; p = v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000 }
         /Non-2xx/ { bad = $NF }
         END { printf "%s %.2fms %d\n", r, p, bad }' <<<"$out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
wrk -t1 -c2 -d2s "$U$VIEW_1H" >/dev/null   # warm-up

printf '\n%-44s %9s %9s   %-36s %9s %9s %7s\n' "endpoint (wrk -t2 -c$CONNS, ${SECONDS_PER_RUN}s)" "req/s" "p50" "baseline" "req/s" "p50" "ratio"
for pair in "HIST_1H VIEW_1H" "HIST_24H VIEW_24H" "BOOK_AT BOOK_NEW" "SLIP_ALL SLIP_ONE"; do
    set -- $pair
    rs=() ps=() brs=() bps=() ratios=() bad=0
    for ((k = 0; k < RUNS; k++)); do
        read -r brps bp50 bb <<<"$(run "${!2}")"
        read -r rps p50 b <<<"$(run "${!1}")"
        brs+=("$brps") bps+=("$bp50") rs+=("$rps") ps+=("$p50")
        ratios+=("$(awk -v a="$rps" -v b="$brps" 'BEGIN { printf "%.2f", a / b }')")
        bad=$((bad + b + bb))
    done
    printf '%-44s %9s %9s   %-36s %9s %9s %6sx\n' "$1" "$(median "${rs[@]}")" "$(median "${ps[@]}")" "$2" \
        "$(median "${brs[@]}")" "$(median "${bps[@]}")" "$(median "${ratios[@]}")"
    echo "  (ratios of the $RUNS pairs: ${ratios[*]})"
    [ "$bad" != 0 ] && echo "  ($bad non-2xx answers)"
done
echo
for v in HIST_1H VIEW_1H HIST_24H VIEW_24H BOOK_AT BOOK_NEW SLIP_ALL SLIP_ONE; do printf '%-9s %s\n' "$v" "${!v}"; done

q <<SQL >/dev/null
TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.orderbooks CASCADE;
NOTIFY pgrst, 'reload schema';
SQL
