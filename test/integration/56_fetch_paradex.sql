-- fetch_* against the mock Paradex (test/mock/venues/paradex.py) serving the
-- project's own payloads, test/payloads/paradex (written from Paradex's
-- documentation: BTC, ETH and SOL perpetuals and a perpetual option; prices
-- and sizes as strings, candles as JSON numbers, times in ms, 28-digit trade
-- ids), with the mock's documented-format funding data, older trades and
-- other candles.  Expected values are worked out by hand from those files and
-- the mock's docstring.  test/recorded/56_fetch_paradex.sql is the same on
-- the recorded payloads.
BEGIN;
SELECT plan(34);

\getenv mock_url PERPS_MOCK_URL
-- earlier tests insert markets with explicit ids (test/sql/10_partitions.sql):
-- move the identity past them so that refresh_markets can insert
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1)) \gset
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/paradex' WHERE name = 'paradex';

-- markets: /v1/markets, PERP only; BTC <-> BTC-USD-PERP by rule
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty, min_notional,
             max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('paradex') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC'::text, 'BTC-USD-PERP'::text, 'BTC'::text, 'USD'::text, 1::numeric, 0.1::numeric, 0.0001::numeric,
              0.0001::numeric, 35::numeric, 100::numeric, NULL::numeric, 8::numeric)$$,
    'BTC-USD-PERP: tick 0.1, size increment 0.0001 (also the minimum size), max order 35, min notional 100, 8 h (no funding_period_hours: the documented period)');
SELECT results_eq(
    $$SELECT symbol, tick_size, lot_size, max_qty, funding_interval_hours FROM perps_stats.fetch_markets('paradex') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, 0.1::numeric, 0.0001::numeric, 35::numeric, 8::numeric), ('ETH', 0.01, 0.001, 500, 8),
             ('SOL', 0.001, 0.01, 20000, 8)$$,
    'three perpetuals; the PERP_OPTION BTC-USD-100000-C is not a market here');
SELECT is(perps_stats.refresh_markets('paradex'), 3, 'refresh_markets upserts BTC, ETH and SOL');

-- ticker: /v1/markets/summary?market=BTC-USD-PERP
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_ask_price
        FROM perps_stats.fetch_ticker('paradex', 'BTC')$$,
    $$VALUES ('paradex'::text, 'BTC'::text, '2026-11-17 14:32:05.418+00'::timestamptz, 97126.3::numeric,
              97131.06422958::numeric, 97124.90713355::numeric, 97126.4::numeric, 97126.5::numeric)$$,
    'ticker: created_at 1794925925418 ms; last, mark, underlying as index, bid, ask');
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h::text, open_interest, price_change_pct, best_bid_qty, best_ask_qty
        FROM perps_stats.fetch_ticker('paradex', 'BTC')$$,
    $$VALUES (NULL::numeric, '187425630.418275901'::text, 1842.3071::numeric, -0.012746::numeric, NULL::numeric, NULL::numeric)$$,
    'ticker: volume_24h is USD (turnover, all 9 decimals); open interest in BTC; price_change_rate_24h is a fraction; no sizes in the REST summary');
SELECT results_eq(
    $$SELECT symbol, ts, mark_price, price_change_pct FROM perps_stats.fetch_tickers('paradex') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, '2026-11-17 14:31:50.418+00'::timestamptz, 97121.58230907::numeric, -0.012824::numeric),
             ('ETH', '2026-11-17 14:31:50.431+00', 3612.4718, 0.021307),
             ('SOL', '2026-11-17 14:31:50.447+00', 187.2351, -0.0043)$$,
    'fetch_tickers: the summary of ALL, each row at its own created_at; the option BTC-USD-100000-C is left out');
SELECT is((SELECT turnover_24h::text FROM perps_stats.fetch_tickers('paradex') WHERE symbol = 'ETH'), '96325714.08810000000000',
    'fetch_tickers: ETH volume_24h with its 14 decimals, trailing zeros kept');

-- order book: the payload's 14 bids and 10 asks
SELECT results_eq(
    $$SELECT ts, seq, bids, asks FROM perps_stats.fetch_orderbook('paradex', 'BTC', 3)$$,
    $$VALUES ('2026-11-17 14:32:04.962+00'::timestamptz, 48213577::bigint,
              '{{97126.3,0.4182},{97126,1.2075},{97125.1,0.0031}}'::numeric[],
              '{{97126.5,0.9637},{97126.9,0.0502},{97127.7,1.4418}}'::numeric[])$$,
    'book: last_updated_at 1794925924962 ms, seq_no, three levels a side');
SELECT results_eq(
    $$SELECT array_length(bids, 1), array_length(asks, 1), bids[14:14][1:2], asks[10:10][1:2]
        FROM perps_stats.fetch_orderbook('paradex', 'BTC')$$,
    $$VALUES (14, 10, '{{97075.4,7.5}}'::numeric[], '{{97163.5,9.2}}'::numeric[])$$,
    'book: all 14 bids (the last 97075.4 x 7.5) and 10 asks (the last 97163.5 x 9.2)');

-- funding rate: from the summary, its 20 decimals exact
SELECT results_eq(
    $$SELECT symbol, funding_time, rate::text, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('paradex', 'BTC')$$,
    $$VALUES ('BTC'::text, '2026-11-17 14:32:05.418+00'::timestamptz, '0.00001251873049216537'::text, NULL::numeric,
              NULL::timestamptz, 8::numeric)$$,
    'funding: funding_rate of the summary (20 decimals), continuous funding: no next settlement time');

-- funding history: /v1/funding/data (documented format: hourly, newest first, cursor pages of up to 5000)
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('paradex', 'BTC', '2026-11-17 00:00+00', '2026-11-17 02:00+00')
       ORDER BY funding_time$$,
    $$VALUES ('2026-11-17 00:00+00'::timestamptz, -0.00001::numeric), ('2026-11-17 01:00+00', 0),
             ('2026-11-17 02:00+00', 0.00001)$$,
    'funding history: hour h pays ((h mod 9) - 4) x 0.00001 (h = 1794873600 / 3600 = 498576 at 2026-11-17 00:00, mod 9 = 3)');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('paradex', 'BTC', '2026-04-01 00:00+00', '2026-11-17 00:00+00')$$,
    $$VALUES (5521, 5521, '2026-04-01 00:00+00'::timestamptz, '2026-11-17 00:00+00'::timestamptz)$$,
    'funding history: 230 days x 24 + 1 = 5521 rows, two cursor pages (5000 + 521)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_funding_history('paradex', 'BTC', NULL, '2026-11-17 00:00+00', 250)), 250,
    'funding history: max_rows');

-- open interest
SELECT results_eq(
    $$SELECT symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('paradex', 'BTC')$$,
    $$VALUES ('BTC'::text, '2026-11-17 14:32:05.418+00'::timestamptz, 1842.3071::numeric, NULL::numeric)$$,
    'open interest: 1842.3071 BTC at created_at');

-- klines: the payload's three 1-minute candles (JSON numbers, their text kept)
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume::text, turnover, trade_count
        FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2026-11-17 14:29+00', '2026-11-17 14:31+00') ORDER BY open_time$$,
    $$VALUES ('2026-11-17 14:29+00'::timestamptz, '2026-11-17 14:29:59.999+00'::timestamptz, 97088.2::numeric,
              97104.6::numeric, 97081.9::numeric, 97101.3::numeric, '12.4187'::text, NULL::numeric, NULL::bigint),
             ('2026-11-17 14:30+00', '2026-11-17 14:30:59.999+00', 97101.3, 97119.8, 97097.0, 97115.5, '8.90571', NULL, NULL),
             ('2026-11-17 14:31+00', '2026-11-17 14:31:59.999+00', 97115.5, 97131.2, 97110.4, 97126.4, '15.730418266405713', NULL, NULL)$$,
    'klines: the three candles from 1794925740000 ms, close time + 59.999 s; a 17-digit volume no double holds, exact');
SELECT results_eq(
    $$SELECT low::text, volume::text FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2026-11-17 14:30+00', '2026-11-17 14:30+00')$$,
    $$VALUES ('97097.0'::text, '8.90571'::text)$$,
    'klines: one candle alone (the mock writes it from the payload), 97097.0 with its trailing zero');
-- a generated candle: i = 1794787200000 / 60000 = 29913120, i mod 71 = 39, i mod 11 = 6:
-- open 97000 + 3.9 = 97003.9, high + 5, low - 5, close + 1, volume 100 + 6
SELECT results_eq(
    $$SELECT open, high, low, close, volume FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2026-11-16 00:00+00', '2026-11-16 00:00+00')$$,
    $$VALUES (97003.9::numeric, 97008.9::numeric, 96998.9::numeric, 97004.9::numeric, 106::numeric)$$,
    'klines: a documented-format candle (2026-11-16 00:00) has the generator''s values');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2026-11-15 00:00+00', '2026-11-17 00:00+00')$$,
    $$VALUES (2881, 2881, '2026-11-15 00:00+00'::timestamptz, '2026-11-17 00:00+00'::timestamptz)$$,
    'klines: two days of minutes = 2881 candles, ranges of 1000');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_klines('paradex', 'BTC', '1h', '2026-11-16 00:00+00', '2026-11-17 00:00+00')), 25,
    'klines: 1h is resolution 60');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('paradex', 'BTC', '4h')$$, '22023', NULL,
    'klines: 4h is not a Paradex resolution');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('paradex', 'BTC', '1d')$$, '22023', NULL,
    'klines: nor is 1d');

-- trades: /v1/trades, cursor-paged
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('paradex', 'BTC', 1)$$,
    $$VALUES ('1794925924731583016277000003'::text, '2026-11-17 14:32:04.731+00'::timestamptz, 97126.3::numeric,
              0.0137::numeric, 'sell'::text)$$,
    'trades: the 28-digit id exact, created_at ms, taker side SELL');
-- the older trades: BASE = 1794925924731 - 100000 x 250 = 1794900924731; seq 99999 at BASE + 24999750
-- = 1794925924481 (99999 mod 3 = 0: SELL, size 1 + 99999 mod 50 = 50 -> 0.050, price 97000 + 39 / 10),
-- seq 99998 at 1794925924231 (mod 3 = 2: BUY, 0.049, 97003.8)
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('paradex', 'BTC', 3)$$,
    $$VALUES ('1794925924731583016277000003'::text, '2026-11-17 14:32:04.731+00'::timestamptz, 97126.3::numeric, 0.0137::numeric, 'sell'::text),
             ('1794925924481000000000099999', '2026-11-17 14:32:04.481+00', 97003.9, 0.050, 'sell'),
             ('1794925924231000000000099998', '2026-11-17 14:32:04.231+00', 97003.8, 0.049, 'buy')$$,
    'trades: the payload''s trade, then older ones');
SELECT is((SELECT count(DISTINCT trade_id)::int FROM perps_stats.fetch_trades('paradex', 'ETH', 6000)), 6000,
    'trades: 6000 distinct trades over two cursor pages');

-- symbols both ways, errors
SELECT results_eq($$SELECT symbol, ts, bids[1:1][1:2] FROM perps_stats.fetch_orderbook('paradex', 'ETH', 1)$$,
    $$VALUES ('ETH'::text, '2026-11-17 14:31:50.431+00'::timestamptz, '{{3611.4718,2.5}}'::numeric[])$$,
    'ETH-USD-PERP answers as ETH (the mock''s book: mark 3612.4718 - 1 x 2.5)');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'paradex' AND m.symbol = 'SOL'), 'SOL-USD-PERP', 'markets maps SOL to SOL-USD-PERP');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('paradex', 'NOPE')$$, '38000', NULL,
    'a symbol Paradex does not list: its NOT_FOUND answer is an error');
CREATE FUNCTION pg_temp.error_detail(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END
$f$;
SELECT matches(pg_temp.error_detail($$SELECT * FROM perps_stats.fetch_trades('paradex', 'NOPE')$$),
    'market NOPE-USD-PERP not found', 'the error detail carries Paradex''s message');
SELECT results_eq($$SELECT last_price, price_change_pct, open_interest FROM perps_stats.fetch_ticker('paradex', 'SOL')$$,
    $$VALUES (187.233::numeric, -0.0043::numeric, 412907.35::numeric)$$,
    'SOL ticker: its row of the summary');

-- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/orderbook/BTC-USD-PERP$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('paradex', 'BTC')$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/trades$","kind":"garbage","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('paradex', 'BTC')$$, '22032', NULL,
    'garbage: an HTML page instead of JSON is an invalid-JSON error');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/markets/summary$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('paradex', 'BTC')$$, '22000', NULL,
    'wrong_types: wrong-typed fields are a data exception');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/markets$","kind":"status","status":400,"count":1,"body":{"error":"VALIDATION_ERROR","message":"invalid market filter"}}' >/dev/null
SELECT matches(pg_temp.error_detail($$SELECT * FROM perps_stats.fetch_markets('paradex')$$),
    'VALIDATION_ERROR \(HTTP 400\): invalid market filter',
    'a 400 with Paradex''s error body: an error naming its code, status and message, not an empty list of markets');
\! curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
SELECT ok((SELECT count(*) FROM perps_stats.fetch_orderbook('paradex', 'BTC')) = 1, 'the same call succeeds once the fault is spent');

SELECT * FROM finish();
ROLLBACK;
