#!/usr/bin/env bash
# The statistics RPCs (sql/install/44_api_stats.sql) through a real
# PostgREST (test/services/postgrest.sh): market_stats, market_histogram,
# funding_stats and liquidity_distribution answer GET and POST with figures
# worked out by hand (numbers compared as exact decimals, not doubles), and
# bad arguments come back as HTTP errors with their SQLSTATE.  Prints TAP.
#
# Starts from empty tables and leaves them empty.
set -uo pipefail
. "$(dirname "$0")/../lib/postgrest.sh"

U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_POSTGREST_LOG:?}"
n=0 failures=0

is() {      # is GOT EXPECTED DESCRIPTION
    n=$((n + 1))
    if [ "$1" == "$2" ]; then
        echo "ok $n - $3"
    else
        echo "not ok $n - $3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
        failures=$((failures + 1))
    fi
}

empty_tables() {
    psql -X -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'TRUNCATE perps_stats.markets,
        perps_stats.tickers, perps_stats.funding_rates, perps_stats.liquidity_depth CASCADE'
}
trap empty_tables EXIT
empty_tables || { echo "Bail out! could not empty the tables"; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || { echo "Bail out! could not insert the test data"; exit 1; }
SELECT perps_stats.create_partitions_for_range('2026-04-01', '2026-04-02');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote, funding_interval_hours) VALUES
    (301, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT', 8),
    (302, 2, 'BTC', 'BTCUSDT', 'BTC', 'USDT', 8);
-- oi_rate = open_interest * 100 / volume_24h: binance 10, 30, 50, 70; bybit 40
-- |last - mark| * 100 / mark: binance 0.5, 0, 1, 2 (mark 200); bybit 0
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price, index_price, volume_24h, open_interest) VALUES
    (301, '2026-04-01 00:00+00', 201, 200, 200, 1000, 100),
    (301, '2026-04-01 01:00+00', 200, 200, 200, 1000, 300),
    (301, '2026-04-01 02:00+00', 202, 200, 200, 1000, 500),
    (301, '2026-04-01 03:00+00', 204, 200, 200, 1000, 700),
    (302, '2026-04-01 00:00+00', 200, 200, 200, 500, 200);
-- binance: 0.0001, 0.0003 every 8 h; bybit: 0.0002
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate) VALUES
    (301, '2026-04-01 00:00+00', 0.0001),
    (301, '2026-04-01 08:00+00', 0.0003),
    (302, '2026-04-01 00:00+00', 0.0002);
INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, bid_5bps, ask_5bps, max_bid_bps, max_ask_bps) VALUES
    (301, '2026-04-01 10:00+00', 200, 150, 150, 100, 100),
    (302, '2026-04-01 10:00+00', 200, 100, 100, 3, 100);
SQL
# PostgREST's schema cache may predate the extension or these functions
pgrst_reload '/rpc/market_stats?since=2026-04-01T00:00:00Z&until=2026-04-02T00:00:00Z' || echo "# the schema cache did not reload"

R='since=2026-04-01T00:00:00Z&until=2026-04-02T00:00:00Z'

# binance {10, 30, 50, 70}: mean 40, median 30 + 0.5 * 20 = 40, p5 h = 0.15: 10 + 0.15 * 20 = 13,
# p95 h = 2.85: 50 + 0.85 * 20 = 67, p99 h = 2.97: 50 + 0.97 * 20 = 69.4; bybit {40}
req GET "/rpc/market_stats?$R"
is "$status" 200 "GET market_stats answers"
is "$(dec '[[r["exchange"], r["symbol"], r["metric"], r["count"], r["min"], r["mean"], r["median"], r["p5"], r["p95"], r["p99"], r["max"]] for r in d]')" \
   "[[binance,BTC,oi_rate,4,10,40,40,13,67,69.4,70],[bybit,BTC,oi_rate,1,40,40,40,40,40,40,40]]" \
   "market_stats: oi_rate per market, hand-computed"

# all together {10, 30, 40, 50, 70}: median 40, mean 200 / 5 = 40, p95 h = 3.8: 50 + 0.8 * 20 = 66
# mark deviation, binance {0.5, 0, 1, 2} and bybit {0}: {0, 0, 0.5, 1, 2}: median 0.5, mean 3.5 / 5 = 0.7,
# p95 h = 3.8: 1 + 0.8 * 1 = 1.8, max 2
req POST /rpc/market_stats -H 'Content-Type: application/json' \
    -d '{"metrics": ["oi_rate", "mark_deviation"], "symbol": "BTC", "by": "all",
         "since": "2026-04-01T00:00:00Z", "until": "2026-04-02T00:00:00Z"}'
is "$status" 200 "POST market_stats answers"
is "$(dec '[[r["metric"], r["count"], r["median"], r["mean"], r["p95"], r["max"]] for r in d]')" \
   "[[oi_rate,5,40,40,66,70],[mark_deviation,5,0.5,0.7,1.8,2]]" \
   "market_stats: two metrics over all markets in one request"

# 3 bins over [10, 70]: [10, 30): 10; [30, 50): 30, 40; [50, 70]: 50, 70
req GET "/rpc/market_histogram?metric=oi_rate&bins=3&$R"
is "$status $(dec '[[r["bin"], r["lower"], r["upper"], r["count"]] for r in d]')" \
   "200 [[1,10,30,1],[2,30,50,2],[3,50,70,2]]" "market_histogram: equal-width bins"

# binance: mean 0.0002, annualized 0.0002 * 8760 / 8 * 100 = 21.9 %, slope 0.0002 / (1/3 day) = 0.0006
req GET "/rpc/funding_stats?symbol=BTC&$R"
is "$status $(dec '[[r["exchange"], r["count"], r["mean"], r["annualized_pct"], r["slope_per_day"]] for r in d]')" \
   "200 [[binance,2,0.0002,21.9,0.0006],[bybit,1,0.0002,21.9,None]]" "funding_stats: venues side by side"

# 5 bps: binance 300, bybit 200 (partial: its bids reach 3 bps): shares 60 %, 40 %
req GET "/rpc/liquidity_distribution?as_of=2026-04-01T12:00:00Z"
is "$status $(dec '[[r["exchange"], r["notional"], r["symbol_share_pct"], r["exchange_share_pct"], r["partial"]] for r in d]')" \
   "200 [[binance,300,60,100,False],[bybit,200,40,100,True]]" "liquidity_distribution: shares and partial"

# errors: PostgREST answers with the SQLSTATE in "code"
req GET "/rpc/market_stats?metrics=%7Bbogus%7D&$R"
is "$status $(dec 'd["code"]')" "400 22023" "an unknown metric: 400, 22023"
# (PostgREST 12.0 answers 54xxx with 413; later versions with 500: PostgREST issue 3255)
req GET "/rpc/market_stats?since=2020-01-01T00:00:00Z&until=2026-04-02T00:00:00Z"
is "$status $(dec 'd["code"]')" "413 54000" "more than a year: 413, 54000"
req GET "/rpc/liquidity_distribution?bps=%7B3%7D"
is "$status $(dec 'd["code"]')" "400 0A000" "a level that is not stored: 400, 0A000"

echo "1..$n"
[ "$failures" -eq 0 ]
