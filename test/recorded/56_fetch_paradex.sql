-- The recorded tier: fetch_* against the second mock Paradex
-- (test/services/recorded.sh, PERPS_RECORDED_MOCK_URL; test/mock/venues/paradex.py),
-- which serves the recorded payloads of ../shared/fixtures/paradex for
-- BTC-USD-PERP and documented-format data for ETH/SOL, funding data and older
-- trades.  Expected values are worked out by hand from those payloads (times
-- are ms).  test/integration/56_fetch_paradex.sql is the same on the
-- project's own payloads.
BEGIN;
SELECT plan(29);

\getenv mock_url PERPS_RECORDED_MOCK_URL
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
    $$VALUES ('BTC'::text, 'BTC-USD-PERP'::text, 'BTC'::text, 'USD'::text, 1::numeric, 0.1::numeric, 0.001::numeric,
              0.001::numeric, 100::numeric, 500::numeric, NULL::numeric, 8::numeric)$$,
    'BTC-USD-PERP: tick 0.1, size increment 0.001, max order 100, min notional 500, 8 h funding period');
SELECT is(perps_stats.refresh_markets('paradex'), 3, 'refresh_markets upserts BTC, ETH and SOL');

-- ticker: /v1/markets/summary?market=BTC-USD-PERP
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_ask_price
        FROM perps_stats.fetch_ticker('paradex', 'BTC')$$,
    $$VALUES ('paradex'::text, 'BTC'::text, '2024-06-14 15:12:57.698+00'::timestamptz, 66821.1::numeric,
              67275.25940213::numeric, 66814.28166666::numeric, 66821.1::numeric, 67643.2::numeric)$$,
    'ticker: created_at 1718377977698 ms; last, mark, underlying as index, bid, ask');
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h, open_interest, price_change_pct, best_bid_qty, best_ask_qty
        FROM perps_stats.fetch_ticker('paradex', 'BTC')$$,
    $$VALUES (NULL::numeric, 2611476.262600002::numeric, 152.777::numeric, -0.036863::numeric, NULL::numeric, NULL::numeric)$$,
    'ticker: volume_24h is USD (turnover); open interest in BTC; price_change_rate_24h is a fraction');
SELECT results_eq(
    $$SELECT symbol, ts, mark_price FROM perps_stats.fetch_tickers('paradex') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, '2024-06-14 15:12:42.698+00'::timestamptz, 67307.7225876::numeric),
             ('ETH', '2024-06-14 15:13:27.937+00', 3500.5), ('SOL', '2024-06-14 15:13:27.937+00', 150.25)$$,
    'fetch_tickers: summary of ALL, the recorded BTC row (created_at 1718377962698)');

-- order book
SELECT results_eq(
    $$SELECT ts, seq, bids, asks FROM perps_stats.fetch_orderbook('paradex', 'BTC', 3)$$,
    $$VALUES ('2024-06-14 15:13:05.388+00'::timestamptz, 14139427::bigint,
              '{{66810,0.078},{66762.2,0.979},{66691.4,0.025}}'::numeric[],
              '{{67643.2,3.734},{79981,0.5},{83681,0.5}}'::numeric[])$$,
    'book: last_updated_at 1718377985388 ms, seq_no, three levels a side');
SELECT results_eq(
    $$SELECT array_length(bids, 1), array_length(asks, 1), bids[20:20][1:2] FROM perps_stats.fetch_orderbook('paradex', 'BTC')$$,
    $$VALUES (20, 3, '{{66131.9,0.109}}'::numeric[])$$,
    'book: all 20 recorded bids (the last 66131.9 x 0.109) and 3 asks');

-- funding rate: from the summary
SELECT results_eq(
    $$SELECT symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('paradex', 'BTC')$$,
    $$VALUES ('BTC'::text, '2024-06-14 15:12:57.698+00'::timestamptz, 0.00689938923192::numeric, NULL::numeric,
              NULL::timestamptz, 8::numeric)$$,
    'funding: funding_rate of the summary, continuous funding: no next settlement time');

-- funding history: /v1/funding/data (documented format: hourly, newest first, cursor pages of up to 5000)
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('paradex', 'BTC', '2024-06-14 00:00+00', '2024-06-14 02:00+00')
       ORDER BY funding_time$$,
    $$VALUES ('2024-06-14 00:00+00'::timestamptz, 0.00002::numeric), ('2024-06-14 01:00+00', 0.00003),
             ('2024-06-14 02:00+00', 0.00004)$$,
    'funding history: hour h pays ((h mod 9) - 4) x 0.00001 (h = 1718323200 / 3600 = 477312 at 2024-06-14 00:00, mod 9 = 6)');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('paradex', 'BTC', '2023-11-01 00:00+00', '2024-06-14 00:00+00')$$,
    $$VALUES (5425, 5425, '2023-11-01 00:00+00'::timestamptz, '2024-06-14 00:00+00'::timestamptz)$$,
    'funding history: 226 days x 24 + 1 = 5425 rows, two cursor pages of at most 5000');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_funding_history('paradex', 'BTC', NULL, '2024-06-14 00:00+00', 250)), 250,
    'funding history: max_rows');

-- open interest
SELECT results_eq(
    $$SELECT symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('paradex', 'BTC')$$,
    $$VALUES ('BTC'::text, '2024-06-14 15:12:57.698+00'::timestamptz, 152.777::numeric, NULL::numeric)$$,
    'open interest: 152.777 BTC at created_at');

-- klines
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2024-07-03 08:01+00', '2024-07-03 08:01+00')$$,
    $$VALUES ('2024-07-03 08:01+00'::timestamptz, '2024-07-03 08:01:59.999+00'::timestamptz, 60823.3::numeric,
              60823.3::numeric, 60823.3::numeric, 60823.3::numeric, 4561::numeric, NULL::numeric, NULL::bigint)$$,
    'klines: the recorded candle, 1719993660000 ms');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('paradex', 'BTC', '1m', '2024-07-01 00:00+00', '2024-07-03 00:00+00')$$,
    $$VALUES (2881, 2881, '2024-07-01 00:00+00'::timestamptz, '2024-07-03 00:00+00'::timestamptz)$$,
    'klines: two days of minutes = 2881 candles, ranges of 1000');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_klines('paradex', 'BTC', '1h', '2024-07-01 00:00+00', '2024-07-02 00:00+00')), 25,
    'klines: 1h is resolution 60');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('paradex', 'BTC', '4h')$$, '22023', NULL,
    'klines: 4h is not a Paradex resolution');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('paradex', 'BTC', '1d')$$, '22023', NULL,
    'klines: nor is 1d');

-- trades: /v1/trades, cursor-paged
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('paradex', 'BTC', 1)$$,
    $$VALUES ('1718377985380201703994000001'::text, '2024-06-14 15:13:05.388+00'::timestamptz, 67643.2::numeric,
              0.026::numeric, 'buy'::text)$$,
    'trades: the 28-digit id exact, created_at ms, taker side BUY');
SELECT results_eq(
    $$SELECT trade_id, side FROM perps_stats.fetch_trades('paradex', 'BTC', 3)$$,
    $$VALUES ('1718377985380201703994000001'::text, 'buy'::text), ('1718377985138000000000099999', 'sell'),
             ('1718377984888000000000099998', 'buy')$$,
    'trades: the recorded trade, then older ones');
SELECT is((SELECT count(DISTINCT trade_id)::int FROM perps_stats.fetch_trades('paradex', 'ETH', 6000)), 6000,
    'trades: 6000 distinct trades over two cursor pages');

-- symbols both ways, errors
SELECT is((SELECT symbol FROM perps_stats.fetch_orderbook('paradex', 'ETH', 1)), 'ETH', 'ETH-USD-PERP answers as ETH');
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
SELECT is((SELECT price_change_pct FROM perps_stats.fetch_ticker('paradex', 'ETH')), 0.0125::numeric,
    'ETH ticker (documented format)');

-- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/orderbook/BTC-USD-PERP$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('paradex', 'BTC')$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/trades$","kind":"garbage","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('paradex', 'BTC')$$, '22032', NULL,
    'garbage: an HTML page instead of JSON is an invalid-JSON error');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"paradex","path":"^/v1/markets/summary$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('paradex', 'BTC')$$, '22000', NULL,
    'wrong_types: wrong-typed fields are a data exception');
\! curl -sf -X DELETE "$PERPS_RECORDED_MOCK_URL/_mock/faults" >/dev/null
SELECT ok((SELECT count(*) FROM perps_stats.fetch_orderbook('paradex', 'BTC')) > 0, 'the same call succeeds once the fault is spent');

SELECT * FROM finish();
ROLLBACK;
