#!/usr/bin/env bash
# The history RPCs through a real PostgREST (test/services/postgrest.sh):
# tickers, liquidity and slippage history of a market over start/end with
# PostgREST's limit/offset, filters, order=, select=, Range and CSV; slippage
# on the newest book of every venue; the stored book nearest to a time; the
# errors' HTTP statuses and SQLSTATEs.  Every expected value is worked out by
# hand from the rows inserted here.  Prints TAP.
#
# The test's rows are those of its own markets (ids 4301 and 4302, symbol
# HTTPH), deleted before and after: other tests' rows are left alone.
set -uo pipefail
. "$(dirname "$0")/../lib/tap.sh"
. "$(dirname "$0")/../lib/postgrest.sh"

U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_POSTGREST_LOG:?}"

j() { jq -c "$1" <<<"$body"; }

cleanup() {
    q "DELETE FROM perps_stats.tickers WHERE market_id IN (4301, 4302);
       DELETE FROM perps_stats.liquidity_depth WHERE market_id IN (4301, 4302);
       DELETE FROM perps_stats.slippage WHERE market_id IN (4301, 4302);
       DELETE FROM perps_stats.orderbooks WHERE market_id IN (4301, 4302);
       DELETE FROM perps_stats.markets WHERE id IN (4301, 4302)" >/dev/null
}
trap cleanup EXIT
cleanup
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || { echo "Bail out! could not insert the test data"; exit 1; }
SELECT perps_stats.create_partitions_for_range('2026-03-01', '2026-03-03');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote) VALUES
    (4301, 1, 'HTTPH', 'HTTPHUSDT', 'HTTPH', 'USDT'), (4302, 2, 'HTTPH', 'HTTPHUSDT', 'HTTPH', 'USDT');
-- binance: five tickers on March 2, one on March 1, one on March 3; bybit one;
-- one an hour ago (for the default window)
INSERT INTO perps_stats.tickers (market_id, ts, last_price, best_bid_price) VALUES
    (4301, '2026-03-01 23:00:00+00', 0.5, 0.4),
    (4301, '2026-03-02 01:00:00+00', 1.5, 1.4), (4301, '2026-03-02 02:00:00+00', 2.5, 2.4),
    (4301, '2026-03-02 03:00:00+00', 3.5, 3.4), (4301, '2026-03-02 04:00:00+00', 4.5, 4.4),
    (4301, '2026-03-02 05:00:00+00', 5.5, 5.4),
    (4301, '2026-03-03 00:00:00+00', 9.5, 9.4),
    (4302, '2026-03-02 01:30:00+00', 7.5, 7.4),
    (4301, now() - interval '1 hour', 42.25, 42);
-- bybit: 1500 tickers on March 2, one a second from 12:00: more than db-max-rows
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT 4302, '2026-03-02 12:00:00+00'::timestamptz + i * interval '1 second', 100 + i FROM generate_series(0, 1499) i;
INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, bid_10bps, ask_10bps) VALUES
    (4301, '2026-03-02 00:00+00', 100, 1000.25, 2000.5), (4301, '2026-03-02 06:00+00', 101, 1100, 2100),
    (4301, '2026-03-02 18:00+00', 102, 1200, 2200);
INSERT INTO perps_stats.slippage VALUES
    (4301, '2026-03-02 00:00+00', 1000, 'buy', 100, 100.1, 10, true),
    (4301, '2026-03-02 00:00+00', 1000, 'sell', 100, 99.9, 10, true),
    (4301, '2026-03-02 00:00+00', 100000, 'buy', 100, NULL, NULL, false),
    (4301, '2026-03-02 01:00+00', 1000, 'buy', 100, 100.05, 5, true);
-- binance: bids 99 x 2, 98 x 5, asks 101 x 1, 102 x 4 (mid 100), newest at
-- 10:00:20, older at 10:00:00 and 10:00:10; bybit: bids 99.5 x 1, asks
-- 100.5 x 10 (mid 100) at 10:00:15
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) VALUES
    (4301, '2026-03-02 10:00:00+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 1),
    (4301, '2026-03-02 10:00:10+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 2),
    (4301, '2026-03-02 10:00:20+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 3),
    (4302, '2026-03-02 10:00:15+00', '{{99.5,1}}', '{{100.5,10}}', 70);
SQL
# PostgREST's schema cache may predate the extension
pgrst_reload '/rpc/tickers_history?exchange=binance&symbol=HTTPH' || { echo "Bail out! PostgREST does not serve tickers_history"; exit 1; }

M='exchange=binance&symbol=HTTPH'
DAY='start=2026-03-02T00:00:00Z&end=2026-03-03T00:00:00Z'

# --- tickers_history ---------------------------------------------------------
# March 2 [00:00, 24:00): 1.5 .. 5.5, newest first; 0.5 (March 1), 9.5 (= end)
# and bybit's 7.5 are out
get "/rpc/tickers_history?$M&$DAY&select=ts,last_price"
is "$status $(dec '[(r["ts"][11:16], r["last_price"]) for r in d]')" \
   "200 [[05:00,5.5],[04:00,4.5],[03:00,3.5],[02:00,2.5],[01:00,1.5]]" \
   "tickers_history: the market's rows in [start, end), newest first"
get "/rpc/tickers_history?$M&$DAY&select=last_price&limit=2&offset=1"
is "$(dec '[r["last_price"] for r in d]')" "[4.5,3.5]" "tickers_history: limit=2&offset=1, the 2nd and 3rd newest"
# PostgREST 12.0.2 filters and orders an RPC's rows after select= (PostgREST
# issue 3965, fixed after 12.0.2): the columns of filters and order= are selected
get "/rpc/tickers_history?$M&$DAY&select=ts,last_price&order=ts.asc&limit=2"
is "$(dec '[r["last_price"] for r in d]')" "[1.5,2.5]" "tickers_history: order=ts.asc, the two oldest"
get "/rpc/tickers_history?$M&$DAY&select=last_price,best_bid_price&last_price=gt.2&best_bid_price=lt.4"
is "$(dec '[(r["last_price"], r["best_bid_price"]) for r in d]')" "[[3.5,3.4],[2.5,2.4]]" \
   "tickers_history: filters on columns (last_price > 2 and best bid < 4)"
get "/rpc/tickers_history?$M&$DAY&select=exchange,symbol&limit=1"
is "$(j .)" '[{"exchange":"binance","symbol":"HTTPH"}]' "tickers_history: rows carry names, as the tickers view"
get "/rpc/tickers_history?$M&$DAY&select=ts" -H 'Range-Unit: items' -H 'Range: 1-2' -H 'Prefer: count=exact'
is "$status $(header Content-Range) $(j '[.[].ts]')" \
   '206 1-2/5 ["2026-03-02T04:00:00+00:00","2026-03-02T03:00:00+00:00"]' \
   "tickers_history: a Range header, 206 with the exact count"
# no start, no end: the last 24 h, the ticker of an hour ago only
get "/rpc/tickers_history?$M&select=last_price"
is "$(dec '[r["last_price"] for r in d]')" "[42.25]" "tickers_history: by default the last 24 hours"
# end only: [2026-03-01 02:00, 2026-03-02 02:00): 1.5 (01:00) and 0.5 (March 1, 23:00)
get "/rpc/tickers_history?$M&end=2026-03-02T02:00:00Z&select=last_price"
is "$(dec '[r["last_price"] for r in d]')" "[1.5,0.5]" "tickers_history: start defaults to end - 24 hours"
# bybit's 1501 rows on March 2 (1500 from 12:00 and one at 01:30): 1000 served
get "/rpc/tickers_history?exchange=bybit&symbol=HTTPH&$DAY&select=ts" -H 'Prefer: count=exact'
is "$(j length) $(header Content-Range)" "1000 0-999/1501" "tickers_history: db-max-rows caps a response at 1000 rows"
# POST: the arguments as JSON
req POST "/rpc/tickers_history?select=last_price&limit=1" -H 'Content-Type: application/json' \
    -d '{"exchange":"binance","symbol":"HTTPH","start":"2026-03-01T00:00:00Z","end":"2026-03-02T01:30:00Z"}'
is "$status $(dec '[r["last_price"] for r in d]')" "200 [1.5]" "tickers_history: POST with the arguments as JSON"

# --- errors ---------------------------------------------------------------------
get "/rpc/tickers_history?$M&start=2026-03-02T00:00:00Z&end=2026-03-02T00:00:00Z"
is "$status $(j .code) $(j .message)" '400 "22023" "start must be before end"' "start = end: 400, 22023"
get "/rpc/tickers_history?$M&start=2026-01-01T00:00:00Z&end=2026-03-02T00:00:00Z"
is "$status $(j .code) $(j .message)" '413 "54000" "time range too long"' "60 days: 413, 54000"
req POST /rpc/tickers_history -H 'Content-Type: application/json' -d '{"exchange":null,"symbol":"HTTPH"}'
is "$status $(j .code) $(j .message)" '400 "22023" "exchange and symbol are required"' "exchange null: 400, 22023"
get "/rpc/tickers_history?symbol=HTTPH"
is "$status $(j .code)" '404 "PGRST202"' "no exchange: no such function (PostgREST 404)"
get "/rpc/tickers_history?$M&start=yesterday-ish"
is "$status $(j .code)" '400 "22007"' "a start that is no time: 400, 22007"

# --- liquidity_history -------------------------------------------------------------
get "/rpc/liquidity_history?$M&start=2026-03-02T00:00:00Z&end=2026-03-02T18:00:00Z&select=ts,mid_price,bid_10bps,ask_10bps"
is "$(dec '[(r["ts"][11:16], r["mid_price"], r["bid_10bps"], r["ask_10bps"]) for r in d]')" \
   "[[06:00,101,1100,2100],[00:00,100,1000.25,2000.5]]" "liquidity_history: [start, end) newest first (18:00 = end is out)"

# --- slippage_history -------------------------------------------------------------
# filtered as the stored rows are: amount 1000, buy
get "/rpc/slippage_history?$M&$DAY&amount=eq.1000&side=eq.buy&select=ts,amount,side,avg_price,slippage_bps"
is "$(dec '[(r["ts"][11:16], r["avg_price"], r["slippage_bps"]) for r in d]')" "[[01:00,100.05,5],[00:00,100.1,10]]" \
   "slippage_history: filters on amount and side"
# CSV: PostgREST 12.0.2 writes the header of an RPC's select= in alphabetical
# order (PostgREST issue 3627), so the columns are listed that way here
get "/rpc/slippage_history?$M&$DAY&select=amount,avg_price,feasible,side,ts&order=ts,amount,side" -H 'Accept: text/csv'
is "$(header Content-Type)" 'text/csv; charset=utf-8' "slippage_history as CSV: content type"
is "$body" 'amount,avg_price,feasible,side,ts
1000,100.1,t,buy,"2026-03-02 00:00:00+00"
1000,99.9,t,sell,"2026-03-02 00:00:00+00"
100000,,f,buy,"2026-03-02 00:00:00+00"
1000,100.05,t,buy,"2026-03-02 01:00:00+00"' "slippage_history as CSV: header, rows in order=, infeasible without a price"
get "/rpc/tickers_history?exchange=bybit&symbol=HTTPH&$DAY&order=ts&limit=2" -H 'Accept: text/csv'
is "$body" 'exchange,symbol,ts,last_price,mark_price,index_price,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,volume_24h,turnover_24h,open_interest,open_interest_notional,price_change_24h,price_change_pct,high_24h,low_24h
bybit,HTTPH,"2026-03-02 01:30:00+00",7.5,,,7.4,,,,,,,,,,,
bybit,HTTPH,"2026-03-02 12:00:00+00",100,,,,,,,,,,,,,,' "tickers_history as CSV, every column: the tickers view's"

# --- slippage over every venue ----------------------------------------------------
# buy 250 on binance's newest book: 101 x 1, then 149 of quote at 102;
# base 1 + 149/102 = 251/102 = 2.4607843137..., avg 25500/251 = 101.5936254980...,
# (avg - 100)/100 x 10^4 = 40000/251 = 159.3625498007... bps.  bybit: 100.5, 50 bps.
get "/rpc/slippage?symbol=HTTPH&amount=250&side=buy"
is "$status $(dec '[(r["exchange"], r["ts"], round(r["avg_price"], 10), round(r["slippage_bps"], 10), round(r["filled_base"], 10), r["levels_used"], r["feasible"]) for r in d]')" \
   "200 [[binance,2026-03-02T10:00:20+00:00,101.593625498,159.3625498008,2.4607843137,2,True],[bybit,2026-03-02T10:00:15+00:00,100.5,50,2.4875621891,1,True]]" \
   "rpc/slippage without exchange: every venue's newest book"
# sell 250: binance 99 x 2 (198) then 52 at 98, avg 24500/248 = 98.7903225806...,
# 120.9677419354... bps; bybit's bids hold 99.5: infeasible.  Filtered to feasible ones.
get "/rpc/slippage?symbol=HTTPH&amount=250&side=sell&feasible=is.true&select=exchange,avg_price,slippage_bps,feasible"
is "$(dec '[(r["exchange"], round(r["avg_price"], 10), round(r["slippage_bps"], 10)) for r in d]')" \
   "[[binance,98.7903225806,120.9677419355]]" "rpc/slippage without exchange, filtered: feasible=is.true"
get "/rpc/slippage?symbol=HTTPH&amount=250&select=exchange,side"
is "$(j '[.[] | [.exchange, .side]]')" '[["binance","buy"],["binance","sell"],["bybit","buy"],["bybit","sell"]]' \
   "rpc/slippage without exchange and side: each venue, buy then sell"
get "/rpc/slippage?exchange=bybit&symbol=HTTPH&amount=250&side=buy&select=exchange,avg_price"
is "$(dec '[(r["exchange"], r["avg_price"]) for r in d]')" "[[bybit,100.5]]" "rpc/slippage with exchange: that venue, as before"
get "/rpc/slippage?symbol=HTTPH"
is "$status $(j .code) $(j .message)" '400 "22023" "symbol and amount are required"' "rpc/slippage without amount: 400, 22023"

# --- orderbook_at -------------------------------------------------------------------
# 10:00:04: 4 s after 10:00:00, 6 s before 10:00:10
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:04Z"
is "$status $(dec '[(r["ts"], r["seq"], r["bids"], r["asks"]) for r in d]')" \
   "200 [[2026-03-02T10:00:00+00:00,1,[[99,2],[98,5]],[[101,1],[102,4]]]]" "orderbook_at: the nearest book"
# 10:00:05: 5 s from both: the earlier
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:05Z&select=seq"
is "$(j .)" '[{"seq":1}]' "orderbook_at: equally far, the earlier"
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:01Z&direction=after&select=seq"
is "$(j .)" '[{"seq":2}]' "orderbook_at: direction=after"
# 10:00:30: 10 s after the newest book; within=PT9S finds nothing, PT10S it
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:30Z&within=PT9S&select=seq"
is "$status $body" '200 []' "orderbook_at: nothing within the window, no rows"
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:30Z&within=PT10S&select=seq"
is "$(j .)" '[{"seq":3}]' "orderbook_at: within=PT10S, the bound included"
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:30Z&within=8%20days"
is "$status $(j .code)" '413 "54000"' "orderbook_at: within 8 days: 413, 54000"
get "/rpc/orderbook_at?$M&at=2026-03-02T10:00:30Z&direction=sideways"
is "$status $(j .code)" '400 "22023"' "orderbook_at: a bad direction: 400, 22023"

tap_done
