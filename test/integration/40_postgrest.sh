#!/usr/bin/env bash
# The HTTP API through a real PostgREST (test/services/postgrest.sh): rows
# inserted here with psql come back over HTTP as JSON and CSV, with filters,
# ordering and pagination; each RPC answers with hand-computed figures; the
# anonymous role cannot write nor reach anything outside perps_api.
# Prints TAP.
#
# The test starts from empty tables (whatever earlier tests left behind is
# truncated: the assertions count markets and look at newest rows) and
# leaves them empty for the tests after it.
set -uo pipefail
. "$(dirname "$0")/../lib/postgrest.sh"

U=${PERPS_POSTGREST_URL:?PostgREST is not running (test/services/postgrest.sh)}
: "${PERPS_POSTGREST_LOG:?}"
n=0 failures=0

ok() {      # ok CONDITION-STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failures=$((failures + 1)); fi
}
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
# j JQ-FILTER: the filter over the last body, compact
j() { if [ "$1" = -S ]; then jq -c -S "$2" <<<"$body"; else jq -c "$1" <<<"$body"; fi; }

# --- data ------------------------------------------------------------------
empty_tables() {
    psql -X -q -v ON_ERROR_STOP=1 -c 'TRUNCATE perps_stats.markets, perps_stats.ingest_events,
        perps_stats.tickers, perps_stats.orderbooks, perps_stats.trades, perps_stats.funding_rates,
        perps_stats.open_interest, perps_stats.klines, perps_stats.liquidity_depth, perps_stats.slippage'
}
trap empty_tables EXIT
empty_tables || { echo "Bail out! could not empty the tables"; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || { echo "Bail out! could not insert the test data"; exit 1; }
SELECT perps_stats.create_partitions_for_range('2026-01-05', '2026-01-05');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote, active) VALUES
    (101, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT', true),
    (102, 2, 'BTC', 'BTCUSDT', 'BTC', 'USDT', true),
    (103, 1, 'ETH', 'ETHUSDT', 'ETH', 'USDT', true),
    (104, 3, 'BTC', 'BTC', 'BTC', 'USD', false),
    (105, 1, 'SOL', 'SOLUSDT', 'SOL', 'USDT', true);
INSERT INTO perps_stats.tickers (market_id, ts, last_price, best_bid_price, best_ask_price) VALUES
    (101, '2026-01-05 10:00:00+00', 100.1, 100.0, 100.2),
    (101, '2026-01-05 10:00:10+00', 100.2, 100.1, 100.3),
    (101, '2026-01-05 10:00:20+00', 100.3, 100.2, 100.4),
    (102, '2026-01-05 10:00:05+00', 100.15, 100.1, 100.2),
    (102, '2026-01-05 10:00:15+00', 100.25, 100.2, 100.3),
    (103, '2026-01-05 10:00:00+00', 3000.5, 3000.0, 3001.0);
-- 1500 SOL tickers, one per second: more than the row cap of 1000
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT 105, '2026-01-05 12:00:00+00'::timestamptz + i * interval '1 second', 150 + i
  FROM generate_series(0, 1499) i;
INSERT INTO perps_stats.trades VALUES
    (101, '2026-01-05 10:00:01+00', 't1', 100, 1, 'buy'),
    (101, '2026-01-05 10:00:02+00', 't2', 101, 3, 'sell'),
    (101, '2026-01-05 10:05:00+00', 't3', 200, 1, 'buy'),
    (102, '2026-01-05 10:00:03+00', 'u1', 50, 10, 'buy');
-- binance: an older book, then the worked example of issue 3 (mid 100.01);
-- bybit: one level per side, mid 100.01
INSERT INTO perps_stats.orderbooks VALUES
    (101, '2026-01-05 10:00:00+00', '{{99,1}}', '{{101,1}}', 1),
    (101, '2026-01-05 10:00:30+00', '{{100.00,2},{99.99,5},{99.95,10},{99.90,20},{99.00,100}}',
                                    '{{100.02,1},{100.03,4},{100.10,10},{100.20,30},{101.00,100}}', 2),
    (102, '2026-01-05 10:00:30+00', '{{100.00,2}}', '{{100.02,1}}', 7);
INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, bid_1bps, ask_1bps) VALUES
    (101, '2026-01-05 10:00:00+00', 100, 99, 101),
    (101, '2026-01-05 10:00:30+00', 100.01, 200.00, 100.02);
INSERT INTO perps_stats.slippage VALUES
    (101, '2026-01-05 10:00:30+00', 1000, 'buy', 100.01, 100.06, 5.4, true),
    (101, '2026-01-05 10:00:30+00', 1000, 'sell', 100.01, 99.98, 3.0, true),
    (101, '2026-01-05 10:00:30+00', 1000000, 'buy', 100.01, NULL, NULL, false);
INSERT INTO perps_stats.funding_rates VALUES
    (101, '2026-01-05 08:00:00+00', 0.0001, 0.00012, 8),
    (101, '2026-01-05 16:00:00+00', -0.00005, NULL, 8);
INSERT INTO perps_stats.open_interest VALUES (101, '2026-01-05 10:00:00+00', 1234.5, 123450);
INSERT INTO perps_stats.klines VALUES
    (101, '1m', '2026-01-05 10:00:00+00', '2026-01-05 10:00:59.999+00', 100, 101, 99.5, 100.5, 4, 403, 2);
INSERT INTO perps_stats.ingest_events (ts, exchange_id, market_id, source, kind, message)
VALUES ('2026-01-05 10:00:40+00', NULL, 101, 'stream', 'gap', 'seq 5 -> 7');
SQL
# PostgREST's schema cache may predate the extension
pgrst_reload /rpc/health

# --- reading ---------------------------------------------------------------
get /rpc/health
is "$status" 200 "health answers"
is "$(j '[.status, .version, .markets, .newest_ticker]')" \
   '["ok","0.2.0",4,"2026-01-05T12:24:59+00:00"]' "health: status, version, active markets, newest ticker"
is "$(j .statement_timeout)" '"5s"' "requests run with perps_anon's statement_timeout"
# the stream workers' states, as perps_stats.stream_status has them in SQL
# (none, or those a stream test in this cluster left; 60_stream_bybit.sh reads
# a live one)
sq() { psql -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
is "$(j -S .streams)" "$(sq "SELECT coalesce(jsonb_object_agg(exchange, state), '{}') FROM perps_stats.stream_status" | jq -c -S .)" \
   "health: the stream workers' states by venue, as stream_status has them"
get '/stream_status?select=exchange,state,messages&order=exchange'
is "$status $(j .)" "200 $(sq "SELECT coalesce(jsonb_agg(jsonb_build_object('exchange', exchange, 'state', state, 'messages', messages) ORDER BY exchange), '[]') FROM perps_stats.stream_status" | jq -c .)" \
   "stream_status: a view of perps_api, the rows of perps_stats.stream_status"

get '/exchanges?select=exchange&order=exchange.desc&limit=3'
is "$(j '[.[].exchange]')" '["tradexyz","paradex","pacifica"]' "exchanges: order and limit"

get '/markets?exchange=eq.binance&order=symbol&select=exchange,symbol,native_symbol'
is "$body" '[{"exchange":"binance","symbol":"BTC","native_symbol":"BTCUSDT"}, 
 {"exchange":"binance","symbol":"ETH","native_symbol":"ETHUSDT"}, 
 {"exchange":"binance","symbol":"SOL","native_symbol":"SOLUSDT"}]' "markets: names, not ids"

get '/symbols?order=symbol'
is "$(j .)" '[{"symbol":"BTC","exchanges":["binance","bybit"]},{"symbol":"ETH","exchanges":["binance"]},{"symbol":"SOL","exchanges":["binance"]}]' \
   "symbols: active markets only (hyperliquid BTC is inactive)"

get '/latest_tickers?symbol=eq.BTC&order=exchange&select=exchange,ts,last_price,best_bid_price'
is "$(j .)" '[{"exchange":"binance","ts":"2026-01-05T10:00:20+00:00","last_price":100.3,"best_bid_price":100.2},{"exchange":"bybit","ts":"2026-01-05T10:00:15+00:00","last_price":100.25,"best_bid_price":100.2}]' \
   "latest_tickers: the newest row per market"
# kept at ingest (perps_stats.latest_tickers): a newer row replaces the
# newest, an older one does not; deleting it brings the previous one back
psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES
    (102, '2026-01-05 10:00:25+00', 100.35), (101, '2026-01-05 09:00:00+00', 99)"
get '/latest_tickers?symbol=eq.BTC&order=exchange&select=exchange,ts,last_price'
is "$(j .)" '[{"exchange":"binance","ts":"2026-01-05T10:00:20+00:00","last_price":100.3},{"exchange":"bybit","ts":"2026-01-05T10:00:25+00:00","last_price":100.35}]' \
   "latest_tickers: right after an insert (newer row for bybit, older for binance)"
psql -X -q -v ON_ERROR_STOP=1 -c "DELETE FROM perps_stats.tickers
    WHERE (market_id, ts) IN ((102, '2026-01-05 10:00:25+00'), (101, '2026-01-05 09:00:00+00'))"
get '/latest_tickers?symbol=eq.BTC&order=exchange&select=exchange,ts,last_price'
is "$(j '[.[] | [.exchange, .ts, .last_price]]')" '[["binance","2026-01-05T10:00:20+00:00",100.3],["bybit","2026-01-05T10:00:15+00:00",100.25]]' \
   "latest_tickers: deleting the newest row brings back the previous one"

get '/tickers?exchange=eq.binance&symbol=eq.BTC&ts=gte.2026-01-05T10:00:05Z&ts=lt.2026-01-05T10:00:20Z&select=ts,last_price'
is "$(j .)" '[{"ts":"2026-01-05T10:00:10+00:00","last_price":100.2}]' "tickers: time range [from, to)"

get '/tickers?symbol=eq.BTC&order=ts.desc&limit=2&offset=1&select=exchange,ts'
is "$(j '[.[] | [.exchange, .ts]]')" '[["bybit","2026-01-05T10:00:15+00:00"],["binance","2026-01-05T10:00:10+00:00"]]' \
   "tickers: order=ts.desc with limit and offset"

get '/tickers?symbol=eq.BTC&order=ts&select=ts' -H 'Range-Unit: items' -H 'Range: 2-3' -H 'Prefer: count=exact'
is "$status" 206 "Range header: 206 Partial Content"
is "$(header Content-Range)" '2-3/5' "Range header: Content-Range with the exact count"
is "$(j '[.[].ts]')" '["2026-01-05T10:00:10+00:00","2026-01-05T10:00:15+00:00"]' "Range header: items 2 and 3"

get '/tickers?symbol=eq.SOL&select=ts' -H 'Prefer: count=exact'
is "$(j length)/$(header Content-Range)" '1000/0-999/1500' "db-max-rows caps a response at 1000 rows"

get '/tickers?exchange=eq.bybit&order=ts&select=symbol,ts,last_price' -H 'Accept: text/csv'
is "$(header Content-Type)" 'text/csv; charset=utf-8' "CSV: content type"
is "$body" 'symbol,ts,last_price
BTC,"2026-01-05 10:00:05+00",100.15
BTC,"2026-01-05 10:00:15+00",100.25' "CSV: header and rows, text with spaces quoted"

get '/orderbooks?exchange=eq.binance&symbol=eq.BTC'
is "$(j '[length, .[0].ts, .[0].seq, .[0].bids[0], .[0].asks[4]]')" '[1,"2026-01-05T10:00:30+00:00",2,[100,2],[101,100]]' \
   "orderbooks: the newest book of the market"

get '/trades?exchange=eq.binance&symbol=eq.BTC&side=eq.buy&order=ts&select=trade_id,price,qty'
is "$(j .)" '[{"trade_id":"t1","price":100,"qty":1},{"trade_id":"t3","price":200,"qty":1}]' "trades: filter on side"

get '/liquidity_depth?exchange=eq.binance&symbol=eq.BTC&order=ts&select=ts,bid_1bps'
is "$(j '[.[].bid_1bps]')" '[99,200]' "liquidity_depth: history"
get '/latest_liquidity?symbol=eq.BTC&select=exchange,ts,mid_price,bid_1bps,ask_1bps'
is "$(j .)" '[{"exchange":"binance","ts":"2026-01-05T10:00:30+00:00","mid_price":100.01,"bid_1bps":200,"ask_1bps":100.02}]' \
   "latest_liquidity: the newest row, markets without rows absent"

get '/slippage?exchange=eq.binance&symbol=eq.BTC&feasible=is.false&select=amount,side,avg_price'
is "$(j .)" '[{"amount":1000000,"side":"buy","avg_price":null}]' "slippage (stored): filter on feasible"

get '/funding_rates?exchange=eq.binance&rate=lt.0&select=funding_time,rate'
is "$(dec 'd[0]["rate"]')/$(j '.[0].funding_time')" '-0.00005/"2026-01-05T16:00:00+00:00"' "funding_rates: filter on rate"
get '/open_interest?symbol=eq.BTC&select=exchange,open_interest,open_interest_notional'
is "$(j .)" '[{"exchange":"binance","open_interest":1234.5,"open_interest_notional":123450}]' "open_interest"
get '/klines?exchange=eq.binance&interval=eq.1m&select=open_time,open,high,low,close,trade_count'
is "$(j .)" '[{"open_time":"2026-01-05T10:00:00+00:00","open":100,"high":101,"low":99.5,"close":100.5,"trade_count":2}]' "klines"
get '/ingest_events?kind=eq.gap&select=exchange,symbol,source,message'
is "$(j .)" '[{"exchange":"binance","symbol":"BTC","source":"stream","message":"seq 5 -> 7"}]' \
   "ingest_events: exchange found through the market"
get '/table_stats?table_name=in.(tickers,trades)&order=table_name&select=table_name,oldest,newest'
is "$(j .)" '[{"table_name":"tickers","oldest":"2026-01-05T10:00:00+00:00","newest":"2026-01-05T12:24:59+00:00"},{"table_name":"trades","oldest":"2026-01-05T10:00:01+00:00","newest":"2026-01-05T10:05:00+00:00"}]' \
   "table_stats: oldest and newest"

# --- RPC -------------------------------------------------------------------
# issue 3's worked example: buy 1000 walks 100.02 x 1, 100.03 x 4, then
# 499.86 of quote at 100.10; avg = 1000 / 9.99360639360639... = 100.06397696829...
get '/rpc/slippage?exchange=binance&symbol=BTC&amount=1000&side=buy'
is "$status" 200 "rpc/slippage answers"
is "$(dec 'len(d), d[0]["ts"], d[0]["side"], d[0]["amount"], d[0]["mid_price"], round(d[0]["avg_price"], 12), round(d[0]["slippage_bps"], 10), round(d[0]["filled_base"], 12), d[0]["levels_used"], d[0]["feasible"]')" \
   "1 2026-01-05T10:00:30+00:00 buy 1000 100.01 100.063976968291 5.3971571134 9.993606393606 3 True" \
   "rpc/slippage buy 1000 on the newest book"
req POST /rpc/slippage -H 'Content-Type: application/json' -d '{"exchange":"binance","symbol":"BTC","amount":1000}'
is "$(dec '[(r["side"], round(r["avg_price"], 12), round(r["slippage_bps"], 10)) for r in d]')" \
   "[[buy,100.063976968291,5.3971571134],[sell,99.979993998199,3.00030015]]" \
   "rpc/slippage without side: buy and sell"
get '/rpc/slippage?exchange=binance&symbol=BTC&amount=20000&side=sell'
is "$(dec 'd[0]["feasible"], d[0]["avg_price"], d[0]["filled_quote"], d[0]["filled_base"]')" \
   "False None 13597.45 137" "rpc/slippage: a book too thin is infeasible, not an error"
get '/rpc/slippage?exchange=bybit&symbol=ETH&amount=1000'
is "$status/$body" '200/[]' "rpc/slippage: no stored book, no rows"

# trades t1 (100 x 1) and t2 (101 x 3) fall in [10:00, 10:01); t3 does not
req POST /rpc/vwap -H 'Content-Type: application/json' \
    -d '{"exchange":"binance","symbol":"BTC","since":"2026-01-05T10:00:00Z","until":"2026-01-05T10:01:00Z"}'
is "$(dec 'd[0]["vwap"], d[0]["volume"], d[0]["notional"], d[0]["trade_count"]')" \
   "100.75 4 403 2" "rpc/vwap: (100*1 + 101*3) / 4 over [since, until)"
get '/rpc/vwap?exchange=binance&symbol=BTC&since=2026-01-05T10:00:00Z&until=2026-01-05T11:00:00Z'
is "$(dec 'd[0]["vwap"], d[0]["trade_count"]')" "120.6 3" "rpc/vwap: (100 + 303 + 200) / 5 over an hour"

# 1 bps of mid 100.01 on both books: bids >= 100.00 (200.00), asks <= 100.02 (100.02)
get '/rpc/liquidity?symbol=BTC&bps=%7B1%7D'
is "$(dec '[(r["exchange"], r["bps"], r["bid_notional"], r["ask_notional"], r["notional"], r["share"]) for r in d]')" \
   "[[binance,1,200,100.02,300.02,0.5],[bybit,1,200,100.02,300.02,0.5]]" \
   "rpc/liquidity: two venues with equal books share half each"
get '/rpc/liquidity?symbol=BTC'
is "$(dec 'sorted(set(r["bps"] for r in d)), len(d)')" \
   "[1,2.5,5,10,20,50,100] 14" \
   "rpc/liquidity: the default thresholds, one row per venue"
# 100 bps: binance 3697.45 + 14607.14 = 18304.59, bybit 300.02; total 18604.61
is "$(dec '[(r["exchange"], r["notional"], round(r["share"], 10)) for r in d if r["bps"] == 100]')" \
   "[[binance,18304.59,0.9838738893],[bybit,300.02,0.0161261107]]" \
   "rpc/liquidity: each venue's share of the total at 100 bps"

# --- what the anonymous role may not do -------------------------------------
req POST /exchanges -H 'Content-Type: application/json' -d '{"exchange":"evil","enabled":false}'
is "$status/$(j .code)" '401/"42501"' "POST on a view: permission denied"
req PATCH '/exchanges?exchange=eq.binance' -H 'Content-Type: application/json' -d '{"enabled":false}'
is "$status/$(j .code)" '401/"42501"' "PATCH on a view: permission denied"
get '/exchanges?select=rest_url'
is "$status" "400" "the venues' URLs are not in the API (select=rest_url: 400)"
req DELETE '/exchanges?exchange=eq.binance'
is "$status/$(j .code)" '401/"42501"' "DELETE on a view: permission denied"
req DELETE '/tickers?symbol=eq.BTC'
is "$status/$(j .code)" '500/"55000"' "DELETE on a join view: not updatable"
req POST /tickers -H 'Content-Type: application/json' -d '{"exchange":"binance","symbol":"BTC","ts":"2026-01-05T11:00:00Z"}'
is "$status/$(j .code)" '500/"55000"' "POST on a join view: not updatable"
is "$(psql -X -A -t -c "SELECT rest_url FROM perps_stats.exchanges WHERE id = 1") $(psql -X -A -t -c 'SELECT count(*) FROM perps_stats.exchanges') $(psql -X -A -t -c 'SELECT count(*) FROM perps_stats.tickers WHERE market_id IN (101, 102)')" \
   "https://fapi.binance.com 13 5" "the refused writes changed nothing"
get '/rpc/fetch_ticker?exchange=binance&symbol=BTC'
is "$status/$(j .code)" '404/"PGRST202"' "rpc/fetch_ticker is not reachable"
req POST /rpc/create_partitions -H 'Content-Type: application/json' -d '{"days_ahead":1}'
is "$status/$(j .code)" '404/"PGRST202"' "rpc/create_partitions is not reachable"
get /tickers -H 'Accept-Profile: perps_stats'
is "$status/$(j .code)" '406/"PGRST106"' "perps_stats tables through Accept-Profile: refused"
req POST /rpc/clean -H 'Content-Profile: perps_stats' -H 'Content-Type: application/json' -d '{"older_than":"0 days"}'
is "$status/$(j .code)" '406/"PGRST106"' "perps_stats functions through Content-Profile: refused"
get /partitioned_tables
is "$status" 404 "perps_stats tables by name: not found"

echo "1..$n"
[ "$failures" -eq 0 ]
