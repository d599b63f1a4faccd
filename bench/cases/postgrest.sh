#!/usr/bin/env bash
# The HTTP API under load: PostgREST (test/services/postgrest.sh, started by
# bench/run.sh) over BENCH_TICKERS ticker rows in 30 daily partitions, with
# wrk on loopback, BENCH_SECONDS per run:
#   - /latest_tickers?symbol=eq.BTC      newest row of each BTC market
#   - /tickers?...                       one market over one hour
#   - /rpc/slippage                      100 000 quote on the newest book
# each next to PostgREST serving a trivial one-row view, measured just
# before it in the same run; the ratio is requests/s against that baseline
# (target >= 0.8 for the latest and range endpoints), the median of
# BENCH_RUNS such pairs.  Next to latest and range, the same rows served
# from a plain table with the same filters: what the payload alone allows.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

ROWS=${BENCH_TICKERS:-10000000}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
RUNS=${BENCH_RUNS:-3}
CONNS=${BENCH_CONNECTIONS:-8}
U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}

command -v wrk >/dev/null || PERPS_EXTRA_PACKAGES=wrk bash "$ROOT/scripts/deps.sh" || exit 1
q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

# 200 markets (5 venues x 40 symbols: BTC, ETH, S3..S40), rows spread evenly
# over the 30 days that end with today: 50 000 rows per market, one every
# 51.84 s -- about the density collect() writes at its default interval
# (one ticker per market per minute), so one hour of one market is ~69 rows.
SYMBOLS=40
MARKETS=$((5 * SYMBOLS))
STEP_MS=$(( 30 * 86400 * 1000 / (ROWS / MARKETS) ))
echo "setup: $ROWS tickers, $MARKETS markets, 30 daily partitions, one row per ${STEP_MS} ms per market"
t0=$(date +%s)
# the cases before this one (collect) leave markets and rows behind: this one starts empty
q <<SQL >/dev/null || exit 1
TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.orderbooks, perps_stats.liquidity_depth,
         perps_stats.slippage, perps_stats.trades, perps_stats.funding_rates, perps_stats.open_interest,
         perps_stats.klines CASCADE;
SQL
q <<SQL >/dev/null || exit 1
SELECT perps_stats.create_partitions_for_range(date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '29 days', now());
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
SELECT (e - 1) * $SYMBOLS + s, e, sym, sym || 'USDT', sym, 'USDT'
  FROM generate_series(1, 5) e,
       LATERAL (SELECT s, CASE s WHEN 1 THEN 'BTC' WHEN 2 THEN 'ETH' ELSE 'S' || s END AS sym
                  FROM generate_series(1, $SYMBOLS) s) x;
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'), 1000);
CREATE VIEW perps_api.bench_one AS SELECT 1 AS one;
GRANT SELECT ON perps_api.bench_one TO perps_anon;
SQL
# two loaders, one per core, half the markets each
start="date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '29 days'"
load() {
    q -c "SET synchronous_commit = off" -c "
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, best_bid_price, best_bid_qty,
                                 best_ask_price, best_ask_qty, volume_24h, open_interest)
SELECT m, $start + i * interval '$STEP_MS milliseconds',
       p, p, p - 0.5, 1.5, p + 0.5, 2.5, 12345.678, 9876.5
  FROM generate_series($1, $2) m,
       LATERAL (SELECT i, round(60000 + (i % 1000) * 0.1, 1) AS p FROM generate_series(0, $((ROWS / MARKETS - 1))) i) g"
}
load 1 $((MARKETS / 2)) & l1=$!
load $((MARKETS / 2 + 1)) $MARKETS & l2=$!
wait $l1 && wait $l2 || exit 1
# books of 100 levels per side for the slippage RPC, one per minute of the last hour
q <<SQL >/dev/null || exit 1
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks)
SELECT 1, now() - k * interval '1 minute',
       (SELECT array_agg(ARRAY[60000 - i * 0.5, 0.1 + (i % 7) * 0.25] ORDER BY i) FROM generate_series(0, 99) i),
       (SELECT array_agg(ARRAY[60000.5 + i * 0.5, 0.1 + (i % 5) * 0.3] ORDER BY i) FROM generate_series(0, 99) i)
  FROM generate_series(0, 59) k;
VACUUM ANALYZE perps_stats.tickers;
VACUUM ANALYZE perps_stats.orderbooks;
VACUUM ANALYZE perps_stats.markets;
NOTIFY pgrst, 'reload schema';
SQL
echo "loaded in $(( $(date +%s) - t0 )) s: $(q -c "SELECT count(*) FROM perps_stats.tickers") rows in $(q -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'perps_stats.tickers'::regclass AND inhrelid::regclass::text ~ '_p[0-9]{8}\$'") daily partitions, $(q -c "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'perps_stats.tickers'::regclass")"
for i in $(seq 50); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U/bench_one")" = 200 ] && break
    sleep 0.2
done

# one hour of one market, ending 2 hours ago (a full hour of rows)
from=$(date -u -d '-3 hours' +%Y-%m-%dT%H:00:00Z)
to=$(date -u -d '-2 hours' +%Y-%m-%dT%H:00:00Z)
LATEST="/latest_tickers?symbol=eq.BTC"
RANGE="/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.$from&ts=lt.$to&order=ts"
RANGE_NARROW="/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.$from&ts=lt.$to&order=ts&select=ts,last_price"
SLIP="/rpc/slippage?exchange=binance&symbol=BTC&amount=100000"
BASE="/bench_one"

# What the rows alone cost: the very rows of LATEST and RANGE copied into
# plain tables (no partitions, no join, nothing to look up), served with the
# same URL filters.  Not a baseline: a ceiling for the ratio, the cost of
# the payload (PostgREST's JSON of those rows, HTTP) that no view can remove.
q <<SQL >/dev/null || exit 1
CREATE TABLE public.bench_latest_copy AS SELECT * FROM perps_api.latest_tickers WHERE symbol = 'BTC';
CREATE TABLE public.bench_range_copy AS SELECT * FROM perps_api.tickers
 WHERE exchange = 'binance' AND symbol = 'BTC' AND ts >= '$from' AND ts < '$to';
ANALYZE public.bench_latest_copy, public.bench_range_copy;
CREATE VIEW perps_api.bench_latest_copy AS SELECT * FROM public.bench_latest_copy;
CREATE VIEW perps_api.bench_range_copy AS SELECT * FROM public.bench_range_copy;
GRANT SELECT ON perps_api.bench_latest_copy, perps_api.bench_range_copy TO perps_anon;
NOTIFY pgrst, 'reload schema';
SQL
LATEST_COPY="/bench_latest_copy?symbol=eq.BTC"
RANGE_COPY="/bench_range_copy?exchange=eq.binance&symbol=eq.BTC&ts=gte.$from&ts=lt.$to&order=ts"
for i in $(seq 50); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$U$RANGE_COPY")" = 200 ] && break
    sleep 0.2
done

echo "sanity: latest $(curl -s "$U$LATEST" | jq length) rows, range $(curl -s "$U$RANGE" | jq length) rows (row cap 1000), slippage $(curl -s "$U$SLIP" | jq -c '[.[] | [.side, .feasible]]')"
[ "$(curl -s "$U$LATEST")" = "$(curl -s "$U$LATEST_COPY")" ] && [ "$(curl -s "$U$RANGE")" = "$(curl -s "$U$RANGE_COPY")" ] \
    && echo "sanity: the copies answer byte for byte what the endpoints answer" \
    || echo "sanity: the copies answer differently (the ceilings below do not apply)"

# wrk's latencies (950.00us, 2.17ms, 1.20s) in ms
MS=' function ms(v) { return sprintf("%.2fms", v ~ /us$/ ? v / 1000 : v ~ /ms$/ ? v + 0 : v * 1000) }'
# CPU time so far, in clock ticks, of PostgREST (cpu_ticks rest) or of the
# database sessions of its pool (cpu_ticks db; application_name postgrest)
TICK=$(getconf CLK_TCK)
: "${PERPS_POSTGREST_PID:?}"
cpu_ticks() {
    local pids
    if [ "$1" = rest ]; then pids=$PERPS_POSTGREST_PID
    else pids=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name = 'postgrest'"); fi
    for p in $pids; do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'
}
# run PATH: wrk for SECONDS_PER_RUN; prints "rps p50 p99 non2xx rest_us db_us",
# the last two the CPU time PostgREST and the database spent per request
run() {
    local out r0 d0 r1 d1
    r0=$(cpu_ticks rest) d0=$(cpu_ticks db)
    out=$(wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$U$1") || return 1
    r1=$(cpu_ticks rest) d1=$(cpu_ticks db)
    local rps p50 p99 n
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print ms($2) }'"$MS" <<<"$out")
    p99=$(awk '$1 == "99%" { print ms($2) }'"$MS" <<<"$out")
    n=$(awk '/ requests in / { print $1 }' <<<"$out")
    local non2xx; non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
    awk -v n="$n" -v t="$TICK" -v r=$((r1 - r0)) -v d=$((d1 - d0)) -v line="$rps $p50 $p99 ${non2xx:-0}" \
        'BEGIN { printf "%s %.0f %.0f\n", line, r / t / n * 1e6, d / t / n * 1e6 }'
}
# median of the arguments (numbers, or durations with the same unit suffix)
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
wrk -t1 -c2 -d2s "$U$BASE" >/dev/null   # warm-up

# CPU columns: the CPU time PostgREST and the database spent per request
# (µs).  All three processes (wrk too) share the machine's cores, so the
# requests/s follow their sum: an endpoint whose PostgREST time alone
# exceeds the baseline's PostgREST + database time by more than 1/0.8
# cannot reach 0.8x whatever the database does ("no-database bound":
# baseline total over the endpoint's PostgREST time).
printf '\n%-58s %10s %9s %9s %8s %9s %9s\n' "endpoint (wrk -t2 -c$CONNS, ${SECONDS_PER_RUN}s, median of $RUNS)" "req/s" "p50" "p99" "ratio" "rest µs" "db µs"
for ep in LATEST LATEST_COPY RANGE RANGE_COPY RANGE_NARROW SLIP; do
    path=${!ep}
    brs=() bp50s=() bp99s=() brest=() bdb=() rs=() p50s=() p99s=() rest=() db=() ratios=() bounds=() bad=0
    # RUNS pairs, each endpoint run right after its baseline run
    for ((k = 0; k < RUNS; k++)); do
        read -r brps bp50 bp99 _ bre bdbu <<<"$(run "$BASE")"
        read -r rps p50 p99 nb re dbu <<<"$(run "$path")"
        brs+=("$brps") bp50s+=("$bp50") bp99s+=("$bp99") brest+=("$bre") bdb+=("$bdbu")
        rs+=("$rps") p50s+=("$p50") p99s+=("$p99") rest+=("$re") db+=("$dbu")
        ratios+=("$(awk -v a="$rps" -v b="$brps" 'BEGIN { printf "%.2f", a / b }')")
        bounds+=("$(awk -v a="$re" -v b=$((bre + bdbu)) 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')")
        bad=$((bad + nb))
    done
    printf '%-58s %10s %9s %9s %8s %9s %9s\n' "baseline /bench_one" "$(median "${brs[@]}")" "$(median "${bp50s[@]}")" \
        "$(median "${bp99s[@]}")" "" "$(median "${brest[@]}")" "$(median "${bdb[@]}")"
    label=$path
    case $ep in *_COPY) label="  same rows from a plain table (ceiling)" ;; esac
    [ ${#label} -gt 58 ] && label="${label:0:55}..."
    printf '%-58s %10s %9s %9s %8s %9s %9s\n' "$label" "$(median "${rs[@]}")" "$(median "${p50s[@]}")" "$(median "${p99s[@]}")" \
        "$(median "${ratios[@]}")x" "$(median "${rest[@]}")" "$(median "${db[@]}")"
    echo "  (ratios of the $RUNS runs: ${ratios[*]}; no-database bound: $(median "${bounds[@]}")x)"
    [ "$bad" != 0 ] && echo "  ($bad non-2xx answers)"
done
echo
echo "range: $RANGE"
echo "range (narrow): $RANGE_NARROW"

# leave the database as the case found it: no 10 M rows for the cases after
q <<SQL >/dev/null
SET client_min_messages = warning;
DROP VIEW perps_api.bench_latest_copy, perps_api.bench_range_copy, perps_api.bench_one;
DROP TABLE public.bench_latest_copy, public.bench_range_copy;
TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.orderbooks CASCADE;
NOTIFY pgrst, 'reload schema';
SQL
