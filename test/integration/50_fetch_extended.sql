-- fetch_* against the mock Extended (test/mock/venues/extended.py) serving the
-- project's own payloads, test/payloads/extended (written from Extended's API
-- documentation, api.docs.extended.exchange): the markets list (BTC, ETH,
-- SOL, DOGE reduce-only, FTM delisted, MON prelisted, EUR a spot market),
-- BTC-USD's statistics, book, latest trades, three 1m candles and three
-- hourly funding rates; what the payloads do not hold the module generates
-- from the formulas in its docstring.  Expected values are worked out by hand
-- from those payloads and formulas.  The mock refuses a request without a
-- User-Agent (as the venue does): every call here that succeeds had one.
BEGIN;
SELECT plan(43);

\getenv mock_url PERPS_MOCK_URL
-- earlier tests insert markets with explicit ids (test/sql/10_partitions.sql):
-- move the identity past them so that refresh_markets can insert
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1)) \gset
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/extended' WHERE name = 'extended';

-- the seed row: Extended's own URLs and base-tier fees
SELECT results_eq(
    $$SELECT id, maker_fee, taker_fee, ws_url FROM perps_stats.exchanges WHERE name = 'extended'$$,
    $$VALUES (8::smallint, 0::numeric, 0.00025::numeric, 'wss://api.starknet.extended.exchange/stream.extended.exchange/v1'::text)$$,
    'exchanges: extended is id 8, maker 0, taker 0.025 %');

-- the adapter's pages and limit: 1000 candles and 1000 funding hours a request
-- (the documented maximum is 10 000 records), no trade pages, 1000 requests a
-- minute per IP ("Rate Limits"); backfill of trades refused up front with the reason
SELECT is((SELECT row(kline_page, funding_page, trades_page, rate_weight, rate_window_ms, no_trades_history IS NOT NULL)::text
             FROM perps_stats.adapter_limits('extended')),
          row(1000, 1000, NULL::int, 1000, 60000, true)::text, 'extended: pages of 1000, 1000 requests a minute');
SELECT matches((SELECT no_trades_history FROM perps_stats.adapter_limits('extended')), 'only the latest trades',
    'extended: why trade history is not served');

-- markets: /api/v1/info/markets; seven listed, four kept: FTM (DELISTED, active
-- false), MON (PRELISTED) and EUR ("type": "SPOT") are left out, DOGE (REDUCE_ONLY) stays
SELECT is(perps_stats.refresh_markets('extended'), 4, 'refresh_markets upserts BTC, ETH, SOL and DOGE');
-- tick = minPriceChange, lot = minOrderSizeChange, min_qty = minOrderSize,
-- max leverage = maxLeverage; no max_qty or min_notional (the limits are order
-- values); hourly funding; sizes in base units (contract size 1)
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty, min_notional,
             max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('extended') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, 'BTC-USD'::text, 'BTC'::text, 'USD'::text, 1::numeric, 0.1::numeric, 0.00001::numeric,
              0.0001::numeric, NULL::numeric, NULL::numeric, 50::numeric, 1::numeric),
             ('DOGE', 'DOGE-USD', 'DOGE', 'USD', 1, 0.00001, 10, 100, NULL, NULL, 10, 1),
             ('ETH', 'ETH-USD', 'ETH', 'USD', 1, 0.01, 0.001, 0.01, NULL, NULL, 50, 1),
             ('SOL', 'SOL-USD', 'SOL', 'USD', 1, 0.001, 0.01, 0.1, NULL, NULL, 25, 1)$$,
    'markets: perpetuals that trade, global symbol = assetName, the trading config as tick, lot and minimum');
SELECT is((SELECT count(*)::int FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'extended' AND m.symbol IN ('FTM', 'MON', 'EUR')), 0,
    'the delisted, the prelisted and the spot market are not stored');

-- ticker: /api/v1/info/markets/BTC-USD/stats (fetchTicker.json), every figure as sent:
-- volume = dailyVolumeBase, turnover = dailyVolume (USD), open interest =
-- openInterestBase, its notional = openInterest (USD); price_change_pct =
-- dailyPriceChangePercentage, a fraction already (1203.7 / (97014.3 - 1203.7) =
-- 0.01256..., sent rounded as 0.0126); decimals of 21 and 22 places kept exactly
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty, best_ask_price,
             best_ask_qty FROM perps_stats.fetch_ticker('extended', 'BTC')$$,
    $$VALUES ('extended'::text, 'BTC'::text, NULL::timestamptz, 97014.3::numeric,
              97012.345678901234567890123::numeric, 97010.12::numeric, 97014.2::numeric, NULL::numeric,
              97014.4::numeric, NULL::numeric)$$,
    'ticker: last, mark (21 decimals, exact), index, best bid and ask; no time and no best sizes in the statistics');
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h, open_interest, open_interest_notional, price_change_24h, price_change_pct,
             high_24h, low_24h FROM perps_stats.fetch_ticker('extended', 'BTC')$$,
    $$VALUES (29338.12345::numeric, 2841067535.8920375::numeric, 12725.4321::numeric,
              1234567890.123456789012345678::numeric, 1203.7::numeric, 0.0126::numeric, 97488.5::numeric,
              95620.0::numeric)$$,
    'ticker: base and USD volume, open interest in base and USD (18 decimals), change, fraction, high, low');
SELECT is((SELECT mark_price::text FROM perps_stats.fetch_ticker('extended', 'BTC')), '97012.345678901234567890123',
    'the mark price keeps all 21 decimals (never through a double)');
SELECT results_eq(
    $$SELECT symbol, last_price, price_change_pct FROM perps_stats.fetch_tickers('extended') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, 97014.3::numeric, 0.0126::numeric), ('DOGE', 0.30012, 0),
             ('ETH', 3612.47, -0.0081), ('SOL', 151.234, 0.0141)$$,
    'fetch_tickers: the marketStats of every kept market of the markets list');
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h, open_interest, open_interest_notional, price_change_24h
        FROM perps_stats.fetch_ticker('extended', 'ETH')$$,
    $$VALUES (141520.125::numeric, 511234567.25::numeric, 27340.5::numeric, 98765432.1::numeric, -29.53::numeric)$$,
    'ETH ticker: its own statistics (the mock''s, from the markets list)');

-- order book: /api/v1/info/markets/BTC-USD/orderbook, levels {"qty", "price"}, best first
SELECT results_eq(
    $$SELECT ts, bids, asks, seq FROM perps_stats.fetch_orderbook('extended', 'BTC')$$,
    $$VALUES (NULL::timestamptz,
              '{{97014.2,0.51234},{97013.0,1.2},{97010.5,0.00001},{97005.0,3.75}}'::numeric[],
              '{{97014.4,0.25},{97015.0,2.04817},{97020.9,0.5},{97030.0,10}}'::numeric[], NULL::bigint)$$,
    'BTC book: objects of qty and price, best first; no time, no sequence number');
SELECT results_eq(
    $$SELECT bids, asks, perps_stats.mid_price(bids, asks) FROM perps_stats.fetch_orderbook('extended', 'BTC', 2)$$,
    $$VALUES ('{{97014.2,0.51234},{97013.0,1.2}}'::numeric[], '{{97014.4,0.25},{97015.0,2.04817}}'::numeric[],
              97014.3::numeric)$$,
    'BTC book, depth 2: two levels a side; mid (97014.2 + 97014.4) / 2 = 97014.3');
-- ETH (generated): mark 3612.5, tick 0.01 x 10 = 0.1: bids 3612.4, 3612.3, 3612.2 of 2.5, asks 3612.6 .. 3612.8 of 1.5
SELECT results_eq(
    $$SELECT bids, asks FROM perps_stats.fetch_orderbook('extended', 'ETH')$$,
    $$VALUES ('{{3612.4,2.5},{3612.3,2.5},{3612.2,2.5}}'::numeric[], '{{3612.6,1.5},{3612.7,1.5},{3612.8,1.5}}'::numeric[])$$,
    'ETH book: the market in the path is the one answered');

-- funding rate: the statistics' fundingRate (a 1-hour rate, as sent), keyed by
-- nextFundingRate 1795446000000 ms = 2026-11-23 15:00 UTC
SELECT results_eq(
    $$SELECT symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('extended', 'BTC')$$,
    $$VALUES ('BTC'::text, '2026-11-23 15:00+00'::timestamptz, 0.000013::numeric, NULL::numeric,
              '2026-11-23 15:00+00'::timestamptz, 1::numeric)$$,
    'funding: the hourly rate, paid at the next funding time (ms)');
SELECT is((SELECT rate FROM perps_stats.fetch_funding_rate('extended', 'ETH')), -0.0000052::numeric,
    'funding: a rate in exponent notation (-5.2E-6) is read exactly');

-- funding history: /api/v1/info/BTC-USD/funding, newest first on the wire
-- (fetchFundingRateHistory.json: 14:00 0.000013, 13:00 -0.0000021, 12:00 a rate of 23 decimals)
SELECT results_eq(
    $$SELECT funding_time, rate, interval_hours
        FROM perps_stats.fetch_funding_history('extended', 'BTC', '2026-11-23 12:00+00', '2026-11-23 14:00+00')$$,
    $$VALUES ('2026-11-23 12:00+00'::timestamptz, 0.00001234567890123456789::numeric, 1::numeric),
             ('2026-11-23 13:00+00', -0.0000021, 1), ('2026-11-23 14:00+00', 0.000013, 1)$$,
    'funding history: the payload''s hourly rates, oldest first, 23 decimals kept');
-- generated: hour h = ms / 3600000 pays ((h mod 7) - 3) x 0.000005; 2026-11-22 00:00 is
-- 1795305600 s, h = 498696 = 7 x 71242 + 2 -> -0.000005, then 0, 0.000005, 0.00001, 0.000015
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('extended', 'SOL', '2026-11-22 00:00+00', '2026-11-22 04:00+00')$$,
    $$VALUES ('2026-11-22 00:00+00'::timestamptz, -0.000005::numeric), ('2026-11-22 01:00+00', 0),
             ('2026-11-22 02:00+00', 0.000005), ('2026-11-22 03:00+00', 0.00001), ('2026-11-22 04:00+00', 0.000015)$$,
    'funding history: the generated hours, by the mock''s formula');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('extended', 'ETH', '2026-10-01 00:00+00', '2026-11-14 00:00+00')$$,
    $$VALUES (1057, 1057, '2026-10-01 00:00+00'::timestamptz, '2026-11-14 00:00+00'::timestamptz)$$,
    'funding history: (31 + 13) days x 24 + 1 = 1057 hourly rows over two windows of 1000 hours');

-- open interest: the statistics' openInterestBase (BTC) and openInterest (USD), no time
SELECT results_eq(
    $$SELECT symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('extended', 'BTC')$$,
    $$VALUES ('BTC'::text, NULL::timestamptz, 12725.4321::numeric, 1234567890.123456789012345678::numeric)$$,
    'open interest: 12725.43210 BTC, 1234567890.123456789012345678 USD');

-- klines: /api/v1/info/candles/BTC-USD/trades?interval=PT1M, newest first on the
-- wire; the payload's candles open at 1795444500000, ..560000, ..620000 ms = 14:35, 14:36, 14:37
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('extended', 'BTC', '1m', '2026-11-23 14:35+00', '2026-11-23 14:37+00')$$,
    $$VALUES ('2026-11-23 14:35+00'::timestamptz, '2026-11-23 14:35:59.999+00'::timestamptz, 96990.2::numeric,
              97003.3::numeric, 96988.0::numeric, 97001.5::numeric, 0.0::numeric, NULL::numeric, NULL::bigint),
             ('2026-11-23 14:36+00', '2026-11-23 14:36:59.999+00', 97001.5, 97012.0, 96999.9, 97010.0, 8.5, NULL, NULL),
             ('2026-11-23 14:37+00', '2026-11-23 14:37:59.999+00', 97010.0, 97016.8, 97008.1, 97014.3, 12.34567, NULL, NULL)$$,
    'klines: oldest first, open time in ms, base volume; no turnover or trade count is served');
-- generated neighbours: i = ms / 60000; 14:34 is i = 29924074 = 61 x 490558 + 36 ->
-- open 97000 + 3.6, volume 1 + (29924074 mod 9 = 1) = 2; 14:38 is 29924078: 40 -> 97004.0, 1 + 5 = 6
SELECT results_eq(
    $$SELECT open_time, open, high, low, close, volume
        FROM perps_stats.fetch_klines('extended', 'BTC', '1m', '2026-11-23 14:34+00', '2026-11-23 14:38+00')$$,
    $$VALUES ('2026-11-23 14:34+00'::timestamptz, 97003.6::numeric, 97007.6::numeric, 96999.6::numeric, 97004.1::numeric, 2::numeric),
             ('2026-11-23 14:35+00', 96990.2, 97003.3, 96988.0, 97001.5, 0.0),
             ('2026-11-23 14:36+00', 97001.5, 97012.0, 96999.9, 97010.0, 8.5),
             ('2026-11-23 14:37+00', 97010.0, 97016.8, 97008.1, 97014.3, 12.34567),
             ('2026-11-23 14:38+00', 97004.0, 97008.0, 97000.0, 97004.5, 6)$$,
    'klines: the payload''s candles between generated ones');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('extended', 'ETH', '5m', '2026-11-01 00:00+00', '2026-11-05 00:00+00')$$,
    $$VALUES (1153, 1153, '2026-11-01 00:00+00'::timestamptz, '2026-11-05 00:00+00'::timestamptz)$$,
    'klines: 4 days of 5m candles = 4 x 288 + 1 = 1153, over pages of 1000');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_klines('extended', 'ETH', '4h', '2026-11-01 00:00+00', '2026-11-02 00:00+00')), 7,
    'klines: 4h candles (PT4H: 00, 04, ..., 24 h)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_klines('extended', 'BTC', '1d', '2026-11-01 00:00+00', '2026-11-07 00:00+00')), 7,
    'klines: 1d candles (P1D)');
-- a since inside a candle: the first candle opening at or after it
SELECT results_eq(
    $$SELECT min(open_time), count(*)::int FROM perps_stats.fetch_klines('extended', 'BTC', '1m', '2026-11-23 14:35:30+00', '2026-11-23 14:37+00')$$,
    $$VALUES ('2026-11-23 14:36+00'::timestamptz, 2)$$,
    'klines: since 14:35:30 starts at the 14:36 candle');

-- trades: /api/v1/info/markets/BTC-USD/trades (fetchTrades.json): ids are JSON
-- integers beyond 2^53 (as doubles 1866123456789012345 would be 1866123456789012224);
-- T in ms; S the taker's side; liquidations and deleverages are trades too
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('extended', 'BTC') ORDER BY ts$$,
    $$VALUES ('1866123456789012345'::text, '2026-11-23 14:36:59.001+00'::timestamptz, 97014.4::numeric, 0.01::numeric, 'buy'::text),
             ('1866123456789012346', '2026-11-23 14:36:59.25+00', 97014.2, 0.25, 'sell'),
             ('1866123456789012399', '2026-11-23 14:36:59.8+00', 97013.0, 1.2, 'sell'),
             ('1866123456789012401', '2026-11-23 14:37:00+00', 97014.3, 0.00002, 'buy')$$,
    'trades: ids kept exactly as text, ms times, BUY/SELL as buy/sell');
SELECT results_eq(
    $$SELECT trade_id FROM perps_stats.fetch_trades('extended', 'BTC', 2) ORDER BY ts$$,
    $$VALUES ('1866123456789012399'::text), ('1866123456789012401')$$,
    'trades, max_rows 2: the newest two');
-- SOL (generated): 20 trades, the newest (k = 0) id 1866000000000001000 at 14:37:00, BUY,
-- 151.234 x 1 lot (0.01); the oldest (k = 19) id 1866000000000000981, 14:36:41, SELL, 20 lots = 0.20
SELECT results_eq(
    $$SELECT count(*)::int, min(trade_id), max(trade_id), min(ts), max(ts), sum(qty)
        FROM perps_stats.fetch_trades('extended', 'SOL')$$,
    $$VALUES (20, '1866000000000000981'::text, '1866000000000001000'::text, '2026-11-23 14:36:41+00'::timestamptz,
              '2026-11-23 14:37:00+00'::timestamptz, 2.10::numeric)$$,
    'SOL trades: 20, ids and times as generated, sizes 0.01 x (1 + ... + 20) = 2.10');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('extended', 'BTC', now() - interval '1 hour')$$, '0A000', NULL,
    'trade history over a time range is not served: 0A000');

-- symbols and errors
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'extended' AND m.symbol = 'DOGE'), 'DOGE-USD', 'DOGE maps to DOGE-USD');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('extended', 'NOPE')$$, '38000', NULL,
    'a market the venue does not list: its NOT_FOUND answer (HTTP 404) is an external_routine_exception');
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
SELECT matches(pg_temp.error_detail($$SELECT * FROM perps_stats.fetch_orderbook('extended', 'NOPE')$$),
    'NOT_FOUND.*Market not found', 'the error detail carries Extended''s code and message');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('extended', 'BTC', '2w')$$, '22023', NULL,
    'an interval perps_stats does not know is refused before any request');

-- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/orderbook$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('extended', 'BTC')$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/stats$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('extended', 'BTC')$$, '22000', NULL,
    'wrong_types: wrong-typed statistics are a data exception');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/trades$","kind":"status","status":200,"body":{"status":"OK","data":{"i":1}},"count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('extended', 'BTC')$$, '22000', NULL,
    'data that is an object where a list is documented: a data exception');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/stats$","kind":"status","status":200,"body":{"status":"ERROR","error":{"code":1006,"message":"Internal error"}},"count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('extended', 'BTC')$$, '38000', NULL,
    'an ERROR envelope with HTTP 200 is the venue''s error, not rows');
-- hostile but well-formed answers (one request each, the venue's envelope):
-- an id past the signed 64-bit range (2^63 = 9223372036854775808) is still an
-- integer of the tape and is kept exactly; a fractional id is not an id
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/trades$","kind":"status","status":200,"body":{"status":"OK","data":[{"i":9223372036854775808,"m":"BTC-USD","S":"SELL","tT":"TRADE","T":1795444620000,"p":"97014.3","q":"0.5"}]},"count":1}' >/dev/null
SELECT results_eq($$SELECT trade_id, side FROM perps_stats.fetch_trades('extended', 'BTC')$$,
    $$VALUES ('9223372036854775808'::text, 'sell'::text)$$,
    'a trade id of 2^63 is kept exactly as text');
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/trades$","kind":"status","status":200,"body":{"status":"OK","data":[{"i":1.5,"m":"BTC-USD","S":"SELL","tT":"TRADE","T":1795444620000,"p":"97014.3","q":"0.5"}]},"count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('extended', 'BTC')$$, '22000', NULL,
    'a fractional trade id is a data exception, not a rounded id');
-- nextFundingRate in seconds (as two documentation examples write times) is
-- 1970-01-21 read as ms: refused as out of range, never moved
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/stats$","kind":"status","status":200,"body":{"status":"OK","data":{"fundingRate":"0.000013","nextFundingRate":1795446000}},"count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('extended', 'BTC')$$, '22008', NULL,
    'a next funding time in seconds is refused (22008), not taken for 1970');
-- a level of 25 decimals and a price of 22 stay exact through the book
\! curl -sf -X POST "$PERPS_MOCK_URL/_mock/faults" -d '{"venue":"extended","path":"/orderbook$","kind":"status","status":200,"body":{"status":"OK","data":{"market":"BTC-USD","bid":[{"qty":"0.1234567890123456789012345","price":"97014.2000000000000000000001"}],"ask":[{"qty":"1","price":"97014.4"}]}},"count":1}' >/dev/null
SELECT results_eq($$SELECT bids::text FROM perps_stats.fetch_orderbook('extended', 'BTC')$$,
    $$VALUES ('{{97014.2000000000000000000001,0.1234567890123456789012345}}'::text)$$,
    'book levels of 22 and 25 decimals are kept to the last digit');
\! curl -sf -X DELETE "$PERPS_MOCK_URL/_mock/faults" >/dev/null
SELECT results_eq($$SELECT bids[1:1], asks[1:1] FROM perps_stats.fetch_orderbook('extended', 'BTC')$$,
    $$VALUES ('{{97014.2,0.51234}}'::numeric[], '{{97014.4,0.25}}'::numeric[])$$,
    'the same call succeeds once the faults are spent');

SELECT * FROM finish();
ROLLBACK;
