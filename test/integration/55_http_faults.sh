#!/usr/bin/env bash
# perps-test: long (test/run.sh starts it first)
# TAP: the HTTP layer against the mock's injected faults (POST /_mock/faults):
# retries after Retry-After, a retry budget that ends an endless 500, bodies
# that are truncated, wrong-typed, oversized or garbage, dropped connections,
# slow answers, and a query cancel in the middle of a fetch.  Every failure
# must be an error with its SQLSTATE: never a crash, never a half-parsed row.
set -u
MOCK=${PERPS_MOCK_URL:?PERPS_MOCK_URL is not set}
n=0 fails=0
echo "1..83"

ok() {  # ok COND-EXIT-STATUS DESCRIPTION [DIAG]
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); [ -n "${3:-}" ] && echo "$3" | sed 's/^/# /'; fi
}
fault() { curl -sf -X POST "$MOCK/_mock/faults" -d "$1" >/dev/null; }
clear_faults() { curl -sf -X DELETE "$MOCK/_mock/faults" >/dev/null; curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null; }
requests() {  # number of logged requests to a binance path
    curl -sf "$MOCK/_mock/log?venue=binance" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r['path']=='$1'))"
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($2 - $1, 3))"; }
ge() { python3 -c "import sys; sys.exit(0 if $1 >= $2 else 1)"; }
lt() { python3 -c "import sys; sys.exit(0 if $1 < $2 else 1)"; }

# sql SETTINGS QUERY: runs QUERY with binance pointed at the mock, prints the
# result rows or "ERROR:  <sqlstate>" lines
sql() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance' WHERE name = 'binance';
$1
$2;
ROLLBACK;
SQL
}

OI="SELECT open_interest FROM perps_stats.fetch_open_interest('binance', 'BTC')"

# 1-3: 429 with Retry-After: 1 is retried after a second and succeeds
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"status","status":429,"retry_after":1,"count":1}'
t0=$(now); out=$(sql "" "$OI"); t1=$(now)
ok $([ "$out" = "84213.507" ]; echo $?) "429 + Retry-After: 1 then success returns the row" "$out"
ge "$(elapsed "$t0" "$t1")" 1.0; ok $? "the retry waited Retry-After (took $(elapsed "$t0" "$t1") s)"
ok $([ "$(requests /fapi/v1/openInterest)" = 2 ]; echo $?) "two requests reached the venue"

# 4-5: 418 (Binance's IP ban) with Retry-After is retried too
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"status","status":418,"retry_after":1,"count":1}'
t0=$(now); out=$(sql "" "$OI"); t1=$(now)
ok $([ "$out" = "84213.507" ]; echo $?) "418 + Retry-After: 1 then success returns the row" "$out"
ge "$(elapsed "$t0" "$t1")" 1.0; ok $? "the 418 retry waited a second"

# 6-9: an endless 500 ends in a clear error within the budget
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"status","status":500,"count":-1}'
t0=$(now); out=$(sql "SET perps_stats.http_retry_budget = '2s'; SET perps_stats.http_max_retries = 100;" "$OI"); t1=$(now)
ok $([ "$out" = "ERROR:  08006" ]; echo $?) "an endless 500 is an error with SQLSTATE 08006" "$out"
lt "$(elapsed "$t0" "$t1")" 3.5; ok $? "within the 2 s budget plus one request (took $(elapsed "$t0" "$t1") s)"
r=$(requests /fapi/v1/openInterest)
ge "$r" 3; ok $? "it was retried with backoff ($r attempts)"
msg=$(psql -X -q -t -A 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance' WHERE name = 'binance';
SET perps_stats.http_retry_budget = '500ms';
$OI;
ROLLBACK;
SQL
)
echo "$msg" | grep -q 'binance answered GET /fapi/v1/openInterest?symbol=BTCUSDT with HTTP status 500'
ok $? "the error names the venue, the path and the status" "$msg"

# 10-11: truncated JSON and garbage are 22032
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/depth$","kind":"truncate","count":1}'
out=$(sql "" "SELECT bids FROM perps_stats.fetch_orderbook('binance', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "a truncated body is invalid_json_text (22032), no row" "$out"
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"garbage","count":1}'
out=$(sql "" "$OI")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "a garbage body is 22032" "$out"

# 12-14: wrong types are data_exception (22000); a half-parsed market list writes nothing
fault '{"venue":"binance","path":"^/fapi/v1/klines$","kind":"wrong_types","count":1}'
out=$(sql "" "SELECT count(*) FROM perps_stats.fetch_klines('binance', 'BTC', '1m')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "wrong-typed klines are 22000, no row" "$out"
MARKETS="SELECT count(*) || ' ' || coalesce(max(updated_at)::text, '-') FROM perps_stats.markets WHERE exchange_id = 1"
before=$(psql -X -q -t -A -c "$MARKETS")
fault '{"venue":"binance","path":"^/fapi/v1/exchangeInfo$","kind":"wrong_types","count":1}'
out=$(psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance' WHERE name = 'binance';
SELECT perps_stats.refresh_markets('binance');
SQL
)
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "a wrong-typed exchangeInfo fails refresh_markets with 22000" "$out"
after=$(psql -X -q -t -A -c "$MARKETS")
ok $([ "$before" = "$after" ]; echo $?) "... and wrote no market" "$before / $after"

# 15: an oversized body is program_limit_exceeded (54000)
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"oversize","bytes":2000000,"count":1}'
out=$(sql "SET perps_stats.http_max_response_size = '1MB';" "$OI")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "a body over http_max_response_size is 54000" "$out"

# 16: a dropped connection is retried
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"drop","count":1}'
out=$(sql "" "$OI")
ok $([ "$out" = "84213.507" ]; echo $?) "a dropped connection is retried and succeeds" "$out"

# 17-18: a slow answer times out (08006) after http_timeout
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"slow","delay_ms":4000,"count":-1}'
t0=$(now); out=$(sql "SET perps_stats.http_timeout = '500ms'; SET perps_stats.http_retry_budget = 0;" "$OI"); t1=$(now)
ok $([ "$out" = "ERROR:  08006" ]; echo $?) "a slow answer times out: 08006" "$out"
lt "$(elapsed "$t0" "$t1")" 2.0; ok $? "after http_timeout (took $(elapsed "$t0" "$t1") s)"

# 19-20: a query cancel stops a fetch within a second
t0=$(now); out=$(sql "SET statement_timeout = '700ms';" "$OI"); t1=$(now)
ok $([ "$out" = "ERROR:  57014" ]; echo $?) "statement_timeout cancels a fetch in flight (57014)" "$out"
lt "$(elapsed "$t0" "$t1")" 1.7; ok $? "within a second of the cancel (took $(elapsed "$t0" "$t1") s)"

# 21: a cancel during a backoff wait, then the same session fetches again (no handle leaked)
clear_faults
fault '{"venue":"binance","path":"^/fapi/v1/openInterest$","kind":"status","status":503,"retry_after":20,"count":1}'
out=$(psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance' WHERE name = 'binance';
SET perps_stats.http_retry_budget = '60s';
SET statement_timeout = '1s';
$OI;
RESET statement_timeout;
$OI;
$OI;
SQL
)
ok $([ "$(echo $out)" = "ERROR: 57014 84213.507 84213.507" ]; echo $?) "cancel during Retry-After, then two fetches in the same backend" "$out"

# 22: requests of one call run concurrently: with 300 ms added to every answer,
# the ticker's four requests all reach the venue within those 300 ms (one
# after another, each would come at least 300 ms after the one before).  The
# mock's arrival times, not the client's clock: a busy machine makes the
# call slower, not its requests sequential.
# spread VENUE: how many requests the mock's log holds of it, and the seconds from the first to the last
spread() {
    curl -sf "$MOCK/_mock/log?venue=$1" | python3 -c '
import json, sys
t = [r["t"] for r in json.load(sys.stdin)]
print(len(t), round(max(t) - min(t), 3) if t else 0)'
}
clear_faults
curl -sf -X POST "$MOCK/_mock/config" -d '{"latency_ms": 300}' >/dev/null
curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null
t0=$(now); out=$(sql "" "SELECT last_price FROM perps_stats.fetch_ticker('binance', 'ETH')"); t1=$(now)
curl -sf -X POST "$MOCK/_mock/config" -d '{"latency_ms": 0}' >/dev/null
read -r nreq spr <<<"$(spread binance)"
[ "$nreq" = 4 ] && lt "$spr" 0.3; ok $? "a call's 4 requests run concurrently ($nreq requests within $spr s at the venue, 300 ms each; the call took $(elapsed "$t0" "$t1") s; $out)"

# 23-25: many jobs of perps_fetch_many (what collect() uses) in one concurrent run:
# each job's failure is its own, the others' rows are there
MANY="SELECT string_agg(concat_ws(':', symbol, method, ok, n, sqlstate), ' ' ORDER BY ord)
        FROM perps_stats._fetch_many('{binance,binance,binance,binance,nosuch}', '{ETH,BTC,BTC,NOPE,BTC}',
                                     '{ticker,orderbook,open_interest,ticker,ticker}') WITH ORDINALITY AS t(exchange, symbol, method, ok, n, sqlstate, message, ord)"
clear_faults
out=$(sql "" "$MANY")
ok $([ "$out" = "ETH:ticker:t:1 BTC:order book:t:1 BTC:open interest:t:1 NOPE:ticker:f:38000 BTC:ticker:f:42704" ]; echo $?) \
   "per-job results and errors (unknown symbol 38000, unknown exchange 42704)" "$out"
fault '{"venue":"binance","path":"^/fapi/v1/depth$","kind":"status","status":500,"count":-1}'
out=$(sql "SET perps_stats.http_retry_budget = '1s';" "$MANY")
ok $([ "$out" = "ETH:ticker:t:1 BTC:order book:f:08006 BTC:open interest:t:1 NOPE:ticker:f:38000 BTC:ticker:f:42704" ]; echo $?) \
   "an endless 500 fails only the job it hits" "$out"
clear_faults
curl -sf -X POST "$MOCK/_mock/config" -d '{"latency_ms": 300}' >/dev/null
curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null
t0=$(now); out=$(sql "" "SELECT count(*) FILTER (WHERE ok) FROM perps_stats._fetch_many('{binance,binance,binance}', '{ETH,BTC,BTC}', '{ticker,orderbook,open_interest}')"); t1=$(now)
curl -sf -X POST "$MOCK/_mock/config" -d '{"latency_ms": 0}' >/dev/null
read -r nreq spr <<<"$(spread binance)"
[ "$nreq" = 6 ] && [ "$out" = 3 ] && lt "$spr" 0.3; ok $? "3 jobs, 6 requests of 300 ms each run concurrently ($nreq requests within $spr s at the venue; the run took $(elapsed "$t0" "$t1") s, $out ok)"

# 26-27: the per-venue rate limit: 2 weight per second, 4 open-interest requests of weight 1
# (four markets: the mock's benchmark markets are switched on for this):
# two go at once (the bucket starts full), the 3rd after 0.5 s, the 4th after 1 s
curl -sf -X POST "$MOCK/_mock/config" -d '{"bench_markets": true}' >/dev/null
curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null
t0=$(now)
out=$(sql "UPDATE perps_stats.exchanges SET rate_limit_weight = 2, rate_limit_window_ms = 1000 WHERE name = 'binance';" \
      "SELECT count(*) FILTER (WHERE ok) FROM perps_stats._fetch_many('{binance,binance,binance,binance}', '{BTC,ETH,XRP,DOGE}', '{open_interest,open_interest,open_interest,open_interest}')")
t1=$(now)
ok $([ "$out" = 4 ]; echo $?) "rate-limited jobs all succeed" "$out"
spread=$(curl -sf "$MOCK/_mock/log?venue=binance" | python3 -c "import json,sys; t=sorted(r['t'] for r in json.load(sys.stdin) if r['path']=='/fapi/v1/openInterest'); print(round(t[-1]-t[0],3))")
ge "$spread" 0.9; ok $? "the venue saw them spread over about a second ($spread s, $(elapsed "$t0" "$t1") s in all)"

# 28: the same request asked by several jobs of one batch goes out once, and
# every job gets the answer
curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null
out=$(sql "" "SELECT count(*) FILTER (WHERE ok) FROM perps_stats._fetch_many('{binance,binance,binance,binance}', '{BTC,BTC,BTC,BTC}', '{open_interest,open_interest,open_interest,open_interest}')")
sent=$(curl -sf "$MOCK/_mock/log?venue=binance" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r['path']=='/fapi/v1/openInterest'))")
ok $([ "$out|$sent" = "4|1" ]; echo $?) "four identical jobs: one request, four answers" "$out jobs ok, $sent requests"
curl -sf -X POST "$MOCK/_mock/config" -d '{"bench_markets": false}' >/dev/null

# 28: a member of perps_collector may fetch, and the markets refresh that needs runs as the owner
out=$(psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/binance', rate_limit_weight = NULL WHERE name = 'binance';
DELETE FROM perps_stats.markets WHERE exchange_id = 1;
CREATE ROLE perps_tap_collector IN ROLE perps_collector;
SET ROLE perps_tap_collector;
SELECT string_agg(symbol, ',' ORDER BY symbol) FROM perps_stats.fetch_tickers('binance');
RESET ROLE;
SELECT count(*) FROM perps_stats.markets WHERE exchange_id = 1;
ROLLBACK;
SQL
)
ok $([ "$(echo $out)" = "BTC,ETH,SUSHI 23" ]; echo $?) "perps_collector runs fetch_tickers; the markets refresh it needs writes as the owner" "$out"

# 30-32: Aster (test/mock/venues/aster.py) gets the same faults: a 429 on its
# premium index is waited out (fetch_funding_rate: lastFundingRate 0.00005417 of
# fetchTickers.premiumIndex.json), garbage is 22032, wrong-typed klines 22000
aster() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/aster' WHERE name = 'aster';
$1;
ROLLBACK;
SQL
}
clear_faults
fault '{"venue":"aster","path":"^/fapi/v1/premiumIndex$","kind":"status","status":429,"retry_after":1,"count":1}'
out=$(aster "SELECT rate FROM perps_stats.fetch_funding_rate('aster', 'BTC')")
ok $([ "$out" = "0.00005417" ]; echo $?) "aster: 429 + Retry-After: 1 then success returns the rate" "$out"
fault '{"venue":"aster","path":"^/fapi/v1/depth$","kind":"garbage","count":1}'
out=$(aster "SELECT bids FROM perps_stats.fetch_orderbook('aster', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "aster: a garbage book is 22032" "$out"
fault '{"venue":"aster","path":"^/fapi/v1/klines$","kind":"wrong_types","count":1}'
out=$(aster "SELECT count(*) FROM perps_stats.fetch_klines('aster', 'BTC', '1m')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "aster: wrong-typed klines are 22000, no row" "$out"

# 33-40: GRVT (test/mock/venues/grvt.py, POST JSON bodies to /full/v1/...) gets the
# same faults: a 429 on its ticker is waited out (fetch_funding_rate: funding_rate
# 0.0087 % of fetchTicker.BTC_USDT_Perp.json as the fraction 0.000087), a 500 with
# GRVT's error body is waited out too, garbage and truncated bodies are 22032,
# wrong-typed klines and an error body with HTTP 200 are refused (22000, 38000),
# and an oversized book is 54000
grvt() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/grvt' WHERE name = 'grvt';
$1;
ROLLBACK;
SQL
}
clear_faults
fault '{"venue":"grvt","path":"^/full/v1/ticker$","kind":"status","status":429,"retry_after":1,"count":1}'
t0=$(now); out=$(grvt "SELECT rate FROM perps_stats.fetch_funding_rate('grvt', 'BTC')"); t1=$(now)
ok $([ "$out" = "0.000087" ]; echo $?) "grvt: 429 + Retry-After: 1 then success returns the rate" "$out"
ge "$(elapsed "$t0" "$t1")" 1.0; ok $? "grvt: the retry waited Retry-After (took $(elapsed "$t0" "$t1") s)"
fault '{"venue":"grvt","path":"^/full/v1/book$","kind":"status","status":500,"body":"{\"code\":1001,\"message\":\"Internal Server Error\",\"status\":500}","count":1}'
out=$(grvt "SELECT array_length(bids, 1) FROM perps_stats.fetch_orderbook('grvt', 'BTC')")
ok $([ "$out" = "12" ]; echo $?) "grvt: a 500 with GRVT's error body is retried and succeeds" "$out"
fault '{"venue":"grvt","path":"^/full/v1/book$","kind":"garbage","count":1}'
out=$(grvt "SELECT bids FROM perps_stats.fetch_orderbook('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "grvt: a garbage book is 22032" "$out"
fault '{"venue":"grvt","path":"^/full/v1/funding$","kind":"truncate","count":1}'
out=$(grvt "SELECT count(*) FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-11-30 00:00+00', NULL)")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "grvt: a truncated funding history is 22032, no row" "$out"
fault '{"venue":"grvt","path":"^/full/v1/kline$","kind":"wrong_types","count":1}'
out=$(grvt "SELECT count(*) FROM perps_stats.fetch_klines('grvt', 'BTC', '1m', '2026-12-01 09:00+00', '2026-12-01 09:14+00')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "grvt: wrong-typed klines are 22000, no row" "$out"
fault '{"venue":"grvt","path":"^/full/v1/trades$","kind":"status","status":200,"body":"{\"code\":3000,\"message\":\"Invalid limit\",\"status\":400}","count":1}'
out=$(grvt "SELECT count(*) FROM perps_stats.fetch_trades('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  38000" ]; echo $?) "grvt: an error body answered with 200 is the venue's refusal (38000)" "$out"
fault '{"venue":"grvt","path":"^/full/v1/book$","kind":"oversize","bytes":2000000,"count":1}'
out=$(grvt "SET perps_stats.http_max_response_size = '1MB'; SELECT bids FROM perps_stats.fetch_orderbook('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "grvt: a book over http_max_response_size is 54000" "$out"
# 41-44: hostile answers with status 200: another instrument's ticker, a funding rate
# that is not a decimal, a taker side that is not a boolean, a 20-digit time (past
# 2262 in ns): each a data_exception (22000), never a row
fault '{"venue":"grvt","path":"^/full/v1/ticker$","kind":"status","status":200,"body":"{\"result\":{\"instrument\":\"ETH_USDT_Perp\",\"last_price\":\"1\"}}","count":1}'
out=$(grvt "SELECT last_price FROM perps_stats.fetch_ticker('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "grvt: a ticker of another instrument is 22000" "$out"
fault '{"venue":"grvt","path":"^/full/v1/funding$","kind":"status","status":200,"body":"{\"result\":[{\"instrument\":\"BTC_USDT_Perp\",\"funding_rate\":\"NaN\",\"funding_time\":\"1796112000000000000\"}],\"next\":\"\"}","count":1}'
out=$(grvt "SELECT count(*) FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-12-01 00:00+00', NULL)")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "grvt: a funding rate NaN is 22000" "$out"
fault '{"venue":"grvt","path":"^/full/v1/trades$","kind":"status","status":200,"body":"{\"result\":[{\"trade_id\":\"1-1\",\"price\":\"1\",\"size\":\"1\",\"event_time\":\"1796116499001000000\",\"is_taker_buyer\":\"true\"}]}","count":1}'
out=$(grvt "SELECT count(*) FROM perps_stats.fetch_trades('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "grvt: is_taker_buyer as a string is 22000" "$out"
fault '{"venue":"grvt","path":"^/full/v1/book$","kind":"status","status":200,"body":"{\"result\":{\"event_time\":\"99999999999999999999\",\"bids\":[],\"asks\":[]}}","count":1}'
out=$(grvt "SELECT bids FROM perps_stats.fetch_orderbook('grvt', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "grvt: a 20-digit nanosecond time is 22000" "$out"
# 45-46: what the documentation allows besides strings, read exactly: a funding rate
# as a JSON number in exponent form (3E-4 % = 0.000003, never through a double), a
# trade id as a JSON integer past 2^53 (9007199254740993 = 2^53 + 1, which a double
# would round to 2^53)
fault '{"venue":"grvt","path":"^/full/v1/funding$","kind":"status","status":200,"body":"{\"result\":[{\"instrument\":\"BTC_USDT_Perp\",\"funding_rate\":3E-4,\"funding_time\":\"1796112000000000000\",\"funding_interval_hours\":8}],\"next\":\"\"}","count":1}'
out=$(grvt "SELECT rate FROM perps_stats.fetch_funding_history('grvt', 'BTC', '2026-12-01 00:00+00', NULL)")
ok $([ "$out" = "0.000003" ]; echo $?) "grvt: a funding rate 3E-4 (a JSON number) is 0.000003 exactly" "$out"
fault '{"venue":"grvt","path":"^/full/v1/trades$","kind":"status","status":200,"body":"{\"result\":[{\"trade_id\":9007199254740993,\"price\":\"97000.1\",\"size\":\"0.5\",\"event_time\":\"1796116499001000000\",\"is_taker_buyer\":true}]}","count":1}'
out=$(grvt "SELECT trade_id || ' ' || side FROM perps_stats.fetch_trades('grvt', 'BTC')")
ok $([ "$out" = "9007199254740993 buy" ]; echo $?) "grvt: a trade id 2^53 + 1 sent as a JSON integer is kept to the last digit" "$out"

# 47-58: Hibachi (test/mock/venues/hibachi.py), one host: the data API at
# $MOCK/hibachi (rest_url), exchange-info included.  A 429 on a market-data
# path or on exchange-info is waited out (prices.BTC.json's estimate 0.000012;
# exchangeInfo.json's 4 LIVE markets); garbage and truncated bodies are 22032,
# wrong types 22000, an oversized body 54000, the venue's error payload 38000
# (with a 4xx, and with a 200 that says "failed"), a dropped connection is
# retried
hibachi() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/hibachi' WHERE name = 'hibachi';
$1;
ROLLBACK;
SQL
}
clear_faults
fault '{"venue":"hibachi","path":"^/market/data/prices$","kind":"status","status":429,"retry_after":1,"count":1}'
out=$(hibachi "SELECT rate FROM perps_stats.fetch_funding_rate('hibachi', 'BTC')")
ok $([ "$out" = "0.000012" ]; echo $?) "hibachi: 429 + Retry-After: 1 on the data API, then the rate" "$out"
curl -sf -X DELETE "$MOCK/_mock/log" >/dev/null
fault '{"venue":"hibachi","path":"^/market/exchange-info$","kind":"status","status":429,"retry_after":1,"count":1}'
out=$(hibachi "SELECT count(*) FROM perps_stats.fetch_markets('hibachi')")
n_ei=$(curl -sf "$MOCK/_mock/log?venue=hibachi" | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r['path']=='/market/exchange-info'))")
ok $([ "$out|$n_ei" = "4|2" ]; echo $?) "hibachi: 429 on exchange-info (the data API) waited out, asked there twice" "$out markets, $n_ei requests"
fault '{"venue":"hibachi","path":"^/market/data/orderbook$","kind":"garbage","count":1}'
out=$(hibachi "SELECT bids FROM perps_stats.fetch_orderbook('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "hibachi: a garbage book is 22032" "$out"
fault '{"venue":"hibachi","path":"^/market/inventory$","kind":"truncate","count":1}'
out=$(hibachi "SELECT count(*) FROM perps_stats.fetch_tickers('hibachi')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "hibachi: a truncated inventory is 22032" "$out"
fault '{"venue":"hibachi","path":"^/market/data/klines$","kind":"wrong_types","count":1}'
out=$(hibachi "SELECT count(*) FROM perps_stats.fetch_klines('hibachi', 'BTC', '1m', '2026-12-01 09:00+00', '2026-12-01 09:10+00')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "hibachi: wrong-typed klines are 22000, no row" "$out"
fault '{"venue":"hibachi","path":"^/market/data/stats$","kind":"wrong_types","count":1}'
out=$(hibachi "SELECT last_price FROM perps_stats.fetch_ticker('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "hibachi: one wrong-typed answer of a ticker's three is 22000" "$out"
fault '{"venue":"hibachi","path":"^/market/data/trades$","kind":"oversize","bytes":2000000,"count":1}'
out=$(hibachi "SET perps_stats.http_max_response_size = '1MB'; SELECT count(*) FROM perps_stats.fetch_trades('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "hibachi: an oversized trades answer is 54000" "$out"
fault '{"venue":"hibachi","path":"^/market/data/open-interest$","kind":"status","status":400,"body":{"errorCode":4,"message":"Invalid symbol","status":"failed"},"count":1}'
out=$(hibachi "SELECT open_interest FROM perps_stats.fetch_open_interest('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  38000" ]; echo $?) "hibachi: its error payload with a 400 is 38000" "$out"
fault '{"venue":"hibachi","path":"^/market/data/open-interest$","kind":"status","status":200,"body":{"errorCode":7,"message":"Maintenance","status":"failed"},"count":1}'
out=$(hibachi "SELECT open_interest FROM perps_stats.fetch_open_interest('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  38000" ]; echo $?) "hibachi: a 200 whose body says failed is 38000, not a row" "$out"
fault '{"venue":"hibachi","path":"^/market/data/open-interest$","kind":"drop","count":1}'
out=$(hibachi "SELECT open_interest FROM perps_stats.fetch_open_interest('hibachi', 'BTC')")
ok $([ "$out" = "9.1134205713" ]; echo $?) "hibachi: a dropped connection is retried" "$out"
fault '{"venue":"hibachi","path":"^/market/exchange-info$","kind":"status","status":404,"body":{"errorCode":404,"message":"Not found","status":"failed"},"count":1}'
out=$(hibachi "SELECT count(*) FROM perps_stats.fetch_markets('hibachi')")
ok $([ "$out" = "ERROR:  38000" ]; echo $?) "hibachi: a 404 with its error payload on exchange-info (the data API) is 38000" "$out"
fault '{"venue":"hibachi","path":"^/market/data/prices$","kind":"status","status":200,"body":{"askPrice":"3521.42","bidPrice":"3521.37","fundingRateEstimation":{"estimatedFundingRate":"0.0000010","nextFundingTimestamp":1796119200},"markPrice":"3521.4","spotPrice":"3522.1","symbol":"ETH/USDT-P","tradePrice":"3521.40"},"count":1}'
out=$(hibachi "SELECT rate FROM perps_stats.fetch_funding_rate('hibachi', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "hibachi: an answer about another market (ETH for BTC) is 22000, not BTC's rate" "$out"

# 67-73: Extended (test/mock/venues/extended.py) gets them too: a 429 on its
# statistics is waited out (fetch_funding_rate: fundingRate 0.000013 of
# test/payloads/extended/fetchTicker.json), garbage is 22032, wrong-typed
# candles 22000, an oversized book 54000, a dropped connection is retried;
# and the mock refuses a request without a User-Agent, as the venue does
# (its documentation, "Mandatory headers"), while the extension's pass
extended() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/extended' WHERE name = 'extended';
$1;
ROLLBACK;
SQL
}
clear_faults
fault '{"venue":"extended","path":"/stats$","kind":"status","status":429,"retry_after":1,"count":1}'
t0=$(now); out=$(extended "SELECT rate FROM perps_stats.fetch_funding_rate('extended', 'BTC')"); t1=$(now)
ok $([ "$out" = "0.000013" ]; echo $?) "extended: 429 + Retry-After: 1 then success returns the rate" "$out"
ge "$(elapsed "$t0" "$t1")" 1.0; ok $? "extended: the retry waited Retry-After (took $(elapsed "$t0" "$t1") s)"
fault '{"venue":"extended","path":"/orderbook$","kind":"garbage","count":1}'
out=$(extended "SELECT bids FROM perps_stats.fetch_orderbook('extended', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "extended: a garbage book is 22032" "$out"
fault '{"venue":"extended","path":"^/api/v1/info/candles/","kind":"wrong_types","count":1}'
out=$(extended "SELECT count(*) FROM perps_stats.fetch_klines('extended', 'BTC', '1m')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "extended: wrong-typed candles are 22000, no row" "$out"
fault '{"venue":"extended","path":"/orderbook$","kind":"oversize","bytes":2000000,"count":1}'
out=$(extended "SET perps_stats.http_max_response_size = '1MB'; SELECT bids FROM perps_stats.fetch_orderbook('extended', 'BTC')")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "extended: a book over http_max_response_size is 54000" "$out"
fault '{"venue":"extended","path":"/trades$","kind":"drop","count":1}'
out=$(extended "SELECT count(*) FROM perps_stats.fetch_trades('extended', 'BTC')")
ok $([ "$out" = "4" ]; echo $?) "extended: a dropped connection is retried and the four trades come" "$out"
ua=$(curl -s -o /dev/null -w '%{http_code}' -H 'User-Agent:' "$MOCK/extended/api/v1/info/markets")/$(curl -s -o /dev/null -w '%{http_code}' -A 'perps_stats/test' "$MOCK/extended/api/v1/info/markets")
ok $([ "$ua" = "400/200" ]; echo $?) "extended mock: 400 without a User-Agent, 200 with one" "$ua"

# 74-83: Pacifica (test/mock/venues/pacifica.py): a 429 on /info/prices is waited out
# (fetch_funding_rate: BTC's funding 0.0000125 of fetchTickers.prices.json), a garbage
# book is 22032, a truncated funding history 22032, wrong-typed klines 22000, an
# oversized trades answer 54000, the envelope's "success": false on HTTP 200 is the
# venue's refusal (38000, its error text the detail), an HTTP 500 whose body is not
# JSON is still the venue's status after the retries (08006)
pacifica() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/pacifica' WHERE name = 'pacifica';
$1;
ROLLBACK;
SQL
}
clear_faults
fault '{"venue":"pacifica","path":"^/api/v1/info/prices$","kind":"status","status":429,"retry_after":1,"count":1}'
out=$(pacifica "SELECT rate FROM perps_stats.fetch_funding_rate('pacifica', 'BTC')")
ok $([ "$out" = "0.0000125" ]; echo $?) "pacifica: 429 + Retry-After: 1 then success returns the rate" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/book$","kind":"garbage","count":1}'
out=$(pacifica "SELECT bids FROM perps_stats.fetch_orderbook('pacifica', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "pacifica: a garbage book is 22032" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/funding_rate/history$","kind":"truncate","count":1}'
out=$(pacifica "SELECT count(*) FROM perps_stats.fetch_funding_history('pacifica', 'BTC', NULL, NULL, 5)")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "pacifica: a truncated funding history is 22032" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/kline$","kind":"wrong_types","count":1}'
out=$(pacifica "SELECT count(*) FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', '2026-12-01 09:00+00', '2026-12-01 09:14+00')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "pacifica: wrong-typed klines are 22000, no row" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/trades$","kind":"oversize","bytes":2000000,"count":1}'
out=$(pacifica "SET perps_stats.http_max_response_size = '1MB'; SELECT count(*) FROM perps_stats.fetch_trades('pacifica', 'BTC')")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "pacifica: an oversized trades answer is 54000" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/info/prices$","kind":"status","status":200,"body":{"success":false,"data":null,"error":"Service temporarily paused","code":503},"count":1}'
out=$(psql -X -q -t -A 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/pacifica' WHERE name = 'pacifica';
\set VERBOSITY verbose
SELECT * FROM perps_stats.fetch_open_interest('pacifica', 'BTC');
ROLLBACK;
SQL
)
echo "$out" | grep -q '^ERROR:  38000' && echo "$out" | grep -q 'pacifica says: Service temporarily paused'
ok $? "pacifica: \"success\": false on HTTP 200 is 38000 with the venue's error text" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/book$","kind":"status","status":500,"body_hex":"3c68746d6c3e3c2f68746d6c3e","count":-1}'
out=$(pacifica "SET perps_stats.http_retry_budget = '1s'; SELECT bids FROM perps_stats.fetch_orderbook('pacifica', 'BTC')")
ok $([ "$out" = "ERROR:  08006" ]; echo $?) "pacifica: an endless 500 with an HTML body is 08006 once the budget is spent" "$out"
clear_faults
# 81-83: answers the documentation does not promise: "data": null in a successful envelope
# (22000), a trade whose event_type is neither fulfill_taker nor fulfill_maker (22000, not
# guessed), a 400 whose body is plain text (38000, the text as the venue's word)
fault '{"venue":"pacifica","path":"^/api/v1/book$","kind":"status","status":200,"body":{"success":true,"data":null,"error":null,"code":null},"count":1}'
out=$(pacifica "SELECT bids FROM perps_stats.fetch_orderbook('pacifica', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "pacifica: a successful envelope without data is 22000" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/trades$","kind":"status","status":200,"body":{"success":true,"data":[{"event_type":"fulfill_both","price":"97012","amount":"0.1","side":"open_long","cause":"normal","created_at":1796116498400}],"error":null,"code":null},"count":1}'
out=$(pacifica "SELECT count(*) FROM perps_stats.fetch_trades('pacifica', 'BTC')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "pacifica: a trade of an unknown event_type is 22000, not guessed" "$out"
fault '{"venue":"pacifica","path":"^/api/v1/kline$","kind":"status","status":400,"body_hex":"696e76616c696420696e74657276616c","count":1}'
out=$(psql -X -q -t -A 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/pacifica' WHERE name = 'pacifica';
\set VERBOSITY verbose
SELECT count(*) FROM perps_stats.fetch_klines('pacifica', 'BTC', '1m', '2026-12-01 09:00+00', '2026-12-01 09:14+00');
ROLLBACK;
SQL
)
echo "$out" | grep -q '^ERROR:  38000' && echo "$out" | grep -q 'invalid interval'
ok $? "pacifica: a 400 with a plain-text body is 38000 with that text" "$out"
clear_faults

psql -X -q -c "UPDATE perps_stats.exchanges SET rest_url = 'https://fapi.binance.com' WHERE name = 'binance'" >/dev/null

# 59-66: Nado (test/mock/venues/nado.py), a venue on two hosts: the gateway
# (rest_url .../nado) and the archive (aux_url .../nado/aux) each meet their
# faults.  A 429 on the archive's funding rate is waited out (2447900598160953
# / 24 x 10^-18, fetchFundingRate.json: see 56_fetch_nado.sql); a 429 on the
# gateway's book too (its best bid 97244 x 10^18 of fetchOrderBook.btc.json)
nado() {
    psql -X -q -t -A -v VERBOSITY=sqlstate 2>&1 <<SQL
BEGIN;
UPDATE perps_stats.exchanges SET rest_url = '$MOCK/nado', aux_url = '$MOCK/nado/aux' WHERE name = 'nado';
$1;
ROLLBACK;
SQL
}
clear_faults
# the markets first, outside the rolled-back transactions: the faults below then hit the
# requests they name, not a markets refresh
psql -X -q -t -A -c "UPDATE perps_stats.exchanges SET rest_url = '$MOCK/nado', aux_url = '$MOCK/nado/aux' WHERE name = 'nado'" \
     -c "SELECT perps_stats.refresh_markets('nado')" >/dev/null
fault '{"venue":"nado","path":"^/aux/v1$","kind":"status","status":429,"retry_after":1,"count":1}'
t0=$(now); out=$(nado "SELECT rate FROM perps_stats.fetch_funding_rate('nado', 'BTC')"); t1=$(now)
ok $([ "$out" = "0.000101995858256706375" ]; echo $?) "nado: a 429 on the archive, Retry-After: 1, then the rate" "$out"
ge "$(elapsed "$t0" "$t1")" 1.0; ok $? "nado: the archive's retry waited the second (took $(elapsed "$t0" "$t1") s)"
fault '{"venue":"nado","path":"^/v1/query$","kind":"status","status":429,"retry_after":1,"count":1}'
out=$(nado "SELECT bids[1][1] FROM perps_stats.fetch_orderbook('nado', 'BTC')")
ok $([ "$out" = "97244" ]; echo $?) "nado: a 429 on the gateway, Retry-After: 1, then the book" "$out"
fault '{"venue":"nado","path":"^/v1/query$","kind":"garbage","count":1}'
out=$(nado "SELECT bids FROM perps_stats.fetch_orderbook('nado', 'BTC')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "nado: a garbage book is 22032" "$out"
fault '{"venue":"nado","path":"^/aux/v1$","kind":"wrong_types","count":1}'
out=$(nado "SELECT count(*) FROM perps_stats.fetch_klines('nado', 'BTC', '1m')")
ok $([ "$out" = "ERROR:  22000" ]; echo $?) "nado: wrong-typed candlesticks (x18 strings turned objects) are 22000, no row" "$out"
fault '{"venue":"nado","path":"^/aux/v2/contracts$","kind":"truncate","count":1}'
out=$(nado "SELECT count(*) FROM perps_stats.fetch_tickers('nado')")
ok $([ "$out" = "ERROR:  22032" ]; echo $?) "nado: truncated contracts are 22032" "$out"
fault '{"venue":"nado","path":"^/aux/v2/contracts$","kind":"oversize","bytes":2000000,"count":1}'
out=$(nado "SET perps_stats.http_max_response_size = '1MB'; SELECT open_interest FROM perps_stats.fetch_open_interest('nado', 'BTC')")
ok $([ "$out" = "ERROR:  54000" ]; echo $?) "nado: an archive answer over http_max_response_size is 54000" "$out"
# the gateway's refusal in an HTTP 200 ({"status":"failure"}): the venue's error, 38000
fault '{"venue":"nado","path":"^/v1/query$","kind":"status","status":200,"count":1,"body":{"status":"failure","error":"Service is temporarily unavailable due to scheduled maintenance.","error_code":1004}}'
out=$(nado "SELECT bids FROM perps_stats.fetch_orderbook('nado', 'BTC')")
ok $([ "$out" = "ERROR:  38000" ]; echo $?) "nado: a failure answer with HTTP 200 is the venue's error (38000)" "$out"

psql -X -q -c "UPDATE perps_stats.exchanges SET rest_url = 'https://fapi.binance.com' WHERE name = 'binance'" \
     -c "UPDATE perps_stats.exchanges SET rest_url = 'https://gateway.prod.nado.xyz', aux_url = 'https://archive.prod.nado.xyz' WHERE name = 'nado'" >/dev/null
clear_faults
[ "$fails" -eq 0 ]
