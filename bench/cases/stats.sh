#!/usr/bin/env bash
# The analyst's statistics (issue 20) against the hand-written SQL an
# analyst would use, in the same run, over BENCH_STATS_ROWS ticker rows
# (default 10 million: BENCH_STATS_MARKETS markets of one row a second):
#   - market_stats oi_rate, all markets in one summary and per market, vs
#     count/min/avg/max and four percentile_cont(...) WITHIN GROUP (ORDER BY
#     x::float8) (PostgreSQL shares one sort among them), and vs the same
#     figures computed exactly in SQL (array_agg(x ORDER BY x), positions
#     picked as percentile_cont picks them): the exact baseline must be
#     equal, the float one is compared after rounding to 8 significant digits;
#   - market_histogram oi_rate, 20 bins, vs min/max then width_bucket, with
#     work_mem 1GB (the function's one scan) and 4MB (its two);
#   - funding_stats over BENCH_STATS_FUNDING funding rows vs avg, min, max,
#     stddev_samp and regr_slope (double precision).
# Medians of BENCH_RUNS runs (default 3) of each, wall time of psql -c,
# with work_mem = 1GB for every statement (so the baselines sort in memory)
# but the second histogram line's.
# Usable alone against any cluster with the extension: PGHOST, PGPORT,
# PGDATABASE from the environment (bench/run.sh sets them).
# BENCH_STATS_ONLY: a regular expression choosing the lines measured (of
# "all", "per market", "histogram", "funding"; default all of them).
set -uo pipefail

ROWS=${BENCH_STATS_ROWS:-10000000}
MARKETS=${BENCH_STATS_MARKETS:-20}
FUNDING=${BENCH_STATS_FUNDING:-1000000}
RUNS=${BENCH_RUNS:-3}
ONLY=${BENCH_STATS_ONLY:-.}
PER=$(( (ROWS + MARKETS - 1) / MARKETS ))
SINCE='2026-01-01 00:00+00'
UNTIL="$(date -u -d "2026-01-01 + $(( PER / 86400 + 2 )) days" '+%Y-%m-%d') 00:00+00"

q() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }
# ms STATEMENT: the median wall time of RUNS runs, in ms
ms() {   # ms STATEMENT [WORK_MEM]
    local i t0 t1 times=()
    for ((i = 0; i < RUNS; i++)); do
        t0=$(date +%s%N)
        q -c "SET work_mem = '${2:-1GB}'" -c "$1" >/dev/null || { echo NaN; return; }
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.0f\n", m}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# the rows are the case's own: gone when it ends, whatever happened
cleanup() { q -c "TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.funding_rates CASCADE" 2>/dev/null; }
trap cleanup EXIT

echo "generating $ROWS ticker rows ($MARKETS markets, one row a second from $SINCE) and $FUNDING funding rows"
t0=$(date +%s)
q >/dev/null <<SQL || { echo "could not generate the rows"; exit 1; }
SET session_replication_role = replica;   -- no latest_tickers triggers for a bulk load
SET client_min_messages = warning;
TRUNCATE perps_stats.markets, perps_stats.tickers, perps_stats.funding_rates CASCADE;
SELECT perps_stats.create_partitions_for_range('$SINCE', '$UNTIL');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote, funding_interval_hours)
SELECT 10000 + i, e.id, 'S' || (i / 2), 'S' || (i / 2) || 'USDT', 'S' || (i / 2), 'USDT', 8
  FROM generate_series(0, $MARKETS - 1) i
  JOIN perps_stats.exchanges e ON e.id = 1 + i % 2;
-- exchange-scale numerics: prices of 1 decimal around 60000 (or 6 around
-- 0.5 for half the markets), sizes of 3 decimals, notionals of 2
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, index_price, volume_24h,
                                 turnover_24h, open_interest, open_interest_notional)
SELECT m, ts, p + d, p, p - d, v, round(v * p, 2), oi, round(oi * p, 2)
  FROM (SELECT 10000 + (g % $MARKETS) AS m,
               '$SINCE'::timestamptz + (g / $MARKETS) * interval '1 second' AS ts,
               CASE WHEN g % 2 = 0 THEN round((60000 + 1000 * sin(g / 1e5))::numeric + (hashint8(g) % 1000) / 10.0, 1)
                    ELSE round((0.5 + 0.1 * sin(g / 1e5))::numeric + (hashint8(g) % 1000) / 1e6, 6) END AS p,
               CASE WHEN g % 2 = 0 THEN (hashint8(g * 7) % 50) / 10.0 ELSE (hashint8(g * 7) % 50) / 1e6 END AS d,
               round(1e5 + abs(hashint8(g * 3) % 100000000) / 1000.0, 3) AS v,
               round(2e4 + abs(hashint8(g * 5) % 100000000) / 1000.0, 3) AS oi
          FROM generate_series(0, $ROWS - 1) g) s;
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate, interval_hours)
SELECT 10000 + (g % $MARKETS), '$SINCE'::timestamptz + (g / $MARKETS) * interval '1 second',
       (hashint8(g) % 10000) / 1e8, 8
  FROM generate_series(0, $FUNDING - 1) g;
ANALYZE perps_stats.tickers;
ANALYZE perps_stats.funding_rates;
SQL
echo "generated in $(( $(date +%s) - t0 )) s"

FROM="perps_stats.tickers t JOIN perps_stats.markets m ON m.id = t.market_id
      JOIN perps_stats.exchanges e ON e.id = m.exchange_id"
WHERE="t.ts >= '$SINCE' AND t.ts < '$UNTIL' AND t.open_interest > 0 AND t.volume_24h > 0"
SRC="$FROM WHERE $WHERE"
X="t.open_interest * 100 / t.volume_24h"

# the C summary, in one group or per market
fn_all="SELECT * FROM perps_stats.market_stats('{oi_rate}', since => '$SINCE', until => '$UNTIL', \"by\" => 'all')"
fn_mkt="SELECT * FROM perps_stats.market_stats('{oi_rate}', since => '$SINCE', until => '$UNTIL')"
# hand-written, double precision percentiles
pc() {   # pc GROUP-COLUMNS
    echo "SELECT $1 count(*), min(x), avg(x), percentile_cont(0.5) WITHIN GROUP (ORDER BY x::float8),
                 percentile_cont(0.05) WITHIN GROUP (ORDER BY x::float8),
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY x::float8),
                 percentile_cont(0.99) WITHIN GROUP (ORDER BY x::float8), max(x)
            FROM (SELECT e.name AS exchange, m.symbol, $X AS x FROM $SRC) s
           ${2:-}"
}
# hand-written, exact: one sorted array, positions as percentile_cont's
ex() {   # ex GROUP-COLUMNS [GROUP BY ...]
    local at='a[floor((n - 1) * P)::bigint + 1] + ((n - 1) * P - floor((n - 1) * P)) * (a[ceil((n - 1) * P)::bigint + 1] - a[floor((n - 1) * P)::bigint + 1])'
    echo "SELECT $1 n, a[1], mean, ${at//P/0.5}, ${at//P/0.05}, ${at//P/0.95}, ${at//P/0.99}, a[n]
            FROM (SELECT $1 array_agg(x ORDER BY x) AS a, count(*) AS n, avg(x) AS mean
                    FROM (SELECT e.name AS exchange, m.symbol, $X AS x FROM $SRC) s ${2:-}) z"
}
pc_all=$(pc "")
pc_mkt=$(pc "exchange, symbol," "GROUP BY 1, 2")
ex_all=$(ex "")
ex_mkt=$(ex "exchange, symbol," "GROUP BY 1, 2")

# the results: the exact baseline equal value for value, the float one after rounding
same() {   # same A B [DIGITS]: the two statements' rows equal (numbers to DIGITS significant digits)
    local a b
    a=$(q -c "SET work_mem = '1GB'" -c "$1" | tr '|' '\n' | awk -v d="${3:-0}" '/^-?[0-9.]+(e[-+]?[0-9]+)?$/ && d > 0 { printf "%.*g\n", d, $1; next } { print }')
    b=$(q -c "SET work_mem = '1GB'" -c "$2" | tr '|' '\n' | awk -v d="${3:-0}" '/^-?[0-9.]+(e[-+]?[0-9]+)?$/ && d > 0 { printf "%.*g\n", d, $1; next } { print }')
    [ -n "$a" ] && [ "$a" = "$b" ] && echo yes || echo NO
}
# compares numeric values, not text (50.0000 = 50)
exact_same() {   # exact_same FUNCTION-STATEMENT EXACT-STATEMENT [COLUMNS PREFIXED TO THE LATTER]
    q -c "SET work_mem = '1GB'" -c "SELECT CASE WHEN
        (SELECT array_agg(r ORDER BY r::text) FROM (SELECT exchange, symbol, count, min, mean, median, p5, p95, p99, max FROM ($1) f) r)
        IS NOT DISTINCT FROM
        (SELECT array_agg(r ORDER BY r::text) FROM (SELECT ${3:-} * FROM ($2) z) r)
        THEN 'yes' ELSE 'NO' END"
}

echo
printf '%-34s %10s %10s %7s %10s %7s %s\n' "statistic ($ROWS rows)" "function" "pct_cont" "ratio" "exact SQL" "ratio" "equal (exact; float to 8 digits, funding 6)"
if [[ all =~ $ONLY ]]; then
a=$(ms "$fn_all"); b=$(ms "$pc_all"); c=$(ms "$ex_all")
eq1=$(exact_same "$fn_all" "$ex_all" "NULL::text, NULL::text,")
eq2=$(same "SELECT count, min, mean, median, p5, p95, p99, max FROM ($fn_all) f" "$pc_all" 8)
printf '%-34s %8s ms %7s ms %6sx %7s ms %6sx %s, %s\n' "market_stats oi_rate, all" "$a" "$b" "$(ratio "$b" "$a")" "$c" "$(ratio "$c" "$a")" "$eq1" "$eq2"
fi
if [[ "per market" =~ $ONLY ]]; then
a=$(ms "$fn_mkt"); b=$(ms "$pc_mkt"); c=$(ms "$ex_mkt")
eq1=$(exact_same "$fn_mkt" "$ex_mkt" "")
eq2=$(same "SELECT exchange, symbol, count, min, mean, median, p5, p95, p99, max FROM ($fn_mkt) f ORDER BY 1, 2" "$pc_mkt ORDER BY 1, 2" 8)
printf '%-34s %8s ms %7s ms %6sx %7s ms %6sx %s, %s\n' "market_stats oi_rate, per market" "$a" "$b" "$(ratio "$b" "$a")" "$c" "$(ratio "$c" "$a")" "$eq1" "$eq2"
fi

# histogram: 20 bins over [min, max]
fn_h="SELECT * FROM perps_stats.market_histogram('oi_rate', 20, since => '$SINCE', until => '$UNTIL')"
hand_h="WITH r AS (SELECT min($X) AS lo, max($X) AS hi FROM $SRC)
        SELECT least(width_bucket($X, r.lo, r.hi, 20), 20) AS bin, count(*) FROM $FROM CROSS JOIN r WHERE $WHERE GROUP BY 1 ORDER BY 1"
if [[ histogram =~ $ONLY ]]; then
a=$(ms "$fn_h"); b=$(ms "$hand_h")
eq=$(same "SELECT bin, count FROM ($fn_h) f WHERE count > 0" "$hand_h")
printf '%-34s %8s ms %7s ms %6sx %10s %7s %s\n' "market_histogram oi_rate, 20 bins" "$a" "$b" "$(ratio "$b" "$a")" "" "" "$eq"
# the same with PostgreSQL's default work_mem (4 MB): the function's values
# do not fit, and go to a temporary file in batches
a=$(ms "$fn_h" 4MB); b=$(ms "$hand_h" 4MB)
eq=$([ "$(q -c "SET work_mem = '4MB'" -c "SELECT bin, count FROM ($fn_h) f WHERE count > 0")" = "$(q -c "SET work_mem = '4MB'" -c "$hand_h")" ] && echo yes || echo NO)
printf '%-34s %8s ms %7s ms %6sx %10s %7s %s\n' "market_histogram, work_mem 4MB" "$a" "$b" "$(ratio "$b" "$a")" "" "" "$eq"
fi

# funding: the hand-written figures in double precision (regr_slope)
fn_f="SELECT * FROM perps_stats.funding_stats(since => '$SINCE', until => '$UNTIL')"
hand_f="SELECT e.name, m.symbol, count(*), avg(f.rate), min(f.rate), max(f.rate), stddev_samp(f.rate),
               avg(f.rate * 8760 / f.interval_hours) * 100,
               regr_slope(f.rate::float8, extract(epoch FROM f.funding_time)::float8 / 86400)
          FROM perps_stats.funding_rates f JOIN perps_stats.markets m ON m.id = f.market_id
          JOIN perps_stats.exchanges e ON e.id = m.exchange_id
         WHERE f.funding_time >= '$SINCE' AND f.funding_time < '$UNTIL'
         GROUP BY 1, 2 ORDER BY 2, 1"
if [[ funding =~ $ONLY ]]; then
a=$(ms "$fn_f"); b=$(ms "$hand_f")
eq=$(same "SELECT exchange, symbol, count, mean, min, max, stddev, annualized_pct, slope_per_day FROM ($fn_f) f" "$hand_f" 6)
printf '%-34s %8s ms %7s ms %6sx %10s %7s %s\n' "funding_stats ($FUNDING rows)" "$a" "$b" "$(ratio "$b" "$a")" "" "" "$eq"
fi
echo "(ratio: baseline time / function time; above 1 the function is faster)"
