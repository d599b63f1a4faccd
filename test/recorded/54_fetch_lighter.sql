-- fetch_* against the mock Lighter (test/mock/venues/lighter.py) of the
-- recorded tier (test/services/recorded.sh), which serves
-- the recorded payloads of ../shared/fixtures/lighter for ETH (market 0) and
-- documented-format data for BTC (market 1: an order-level book with orders
-- at equal prices), recentTrades and the generated histories.  Expected
-- values are worked out by hand from those payloads.
BEGIN;
SELECT plan(31);

\getenv mock_url PERPS_RECORDED_MOCK_URL
-- earlier tests insert markets with explicit ids (test/sql/10_partitions.sql):
-- move the identity past them so that refresh_markets can insert
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1)) \gset
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/lighter' WHERE name = 'lighter';

-- markets: orderBookDetails; the market id is the native symbol
SELECT is(perps_stats.refresh_markets('lighter'), 4, 'refresh_markets upserts ETH, BTC, SOL and CRV');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, min_notional,
             max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('lighter') WHERE symbol = 'ETH'$$,
    $$VALUES ('ETH'::text, '0'::text, 'ETH'::text, 'USDC'::text, 1::numeric, 0.01::numeric, 0.0001::numeric,
              0.005::numeric, 10::numeric, 50::numeric, 1::numeric)$$,
    'ETH is market 0: price_decimals 2, size_decimals 4, min_base_amount 0.0050, min_quote_amount 10, min IMF 200 = 2 % = 50x, hourly funding');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'lighter' AND m.symbol = 'BTC'), '1', 'markets maps BTC to market id 1');

-- ticker: orderBookDetails?market_id=0
SELECT results_eq(
    $$SELECT exchange, symbol, last_price, volume_24h, turnover_24h, open_interest, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('lighter', 'ETH')$$,
    $$VALUES ('lighter'::text, 'ETH'::text, 3550.69::numeric, 481297.3509::numeric, 1671431095.263844::numeric,
              39559.3278::numeric, 0.005294300840859545::numeric, 3571.45::numeric, 3402.41::numeric)$$,
    'ticker: last, base and quote volume, open interest, daily_price_change 0.529... % as a fraction');
SELECT results_eq(
    $$SELECT ts, mark_price, index_price, best_bid_price, best_ask_price, price_change_24h
        FROM perps_stats.fetch_ticker('lighter', 'ETH')$$,
    $$VALUES (NULL::timestamptz, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric)$$,
    'ticker: what the details do not carry is null, not zero');
SELECT results_eq(
    $$SELECT symbol, price_change_pct FROM perps_stats.fetch_tickers('lighter') ORDER BY symbol$$,
    $$VALUES ('BTC'::text, -0.0125::numeric), ('CRV', 0.025), ('ETH', 0.005294300840859545), ('SOL', -0.0125)$$,
    'fetch_tickers: every market, symbols mapped back from market ids');

-- order book: orderBookOrders lists orders; the caller merges equal prices
SELECT results_eq(
    $$SELECT bids, asks, seq FROM perps_stats.fetch_orderbook('lighter', 'ETH')$$,
    $$VALUES ('{{3429.80,1.3237}}'::numeric[], '{{3430.00,0.2000}}'::numeric[], NULL::bigint)$$,
    'ETH book: one order a side; the remaining amount (1.3237), not the initial (1.7361)');
SELECT results_eq(
    $$SELECT bids, asks FROM perps_stats.fetch_orderbook('lighter', 'BTC')$$,
    $$VALUES ('{{104000.4,0.355},{104000.0,1},{103999.5,0.3002}}'::numeric[],
              '{{104000.6,0.5},{104001.0,2}}'::numeric[])$$,
    'BTC book: 0.1 + 0.25 + 0.005 = 0.355 at 104000.4; 0.0002 + 0.3 = 0.3002 at 103999.5; 0.05 + 0.45 = 0.5 at 104000.6; the emptied order is no level');
SELECT results_eq(
    $$SELECT bids, asks FROM perps_stats.fetch_orderbook('lighter', 'BTC', 1)$$,
    $$VALUES ('{{104000.4,0.355}}'::numeric[], '{{104000.6,0.5}}'::numeric[])$$,
    'BTC book, depth 1: the best level is the sum of its three orders');

-- funding rate: funding-rates, Lighter's row for the market (other venues' rows skipped)
SELECT results_eq(
    $$SELECT symbol, rate, predicted_rate, interval_hours FROM perps_stats.fetch_funding_rate('lighter', 'ETH')$$,
    $$VALUES ('ETH'::text, 0.00009599999999999999::numeric, NULL::numeric, 8::numeric)$$,
    'funding: the recorded rate to the last digit, over 8 hours');
SELECT is((SELECT rate FROM perps_stats.fetch_funding_rate('lighter', 'BTC')), 0.0001::numeric,
    'funding: BTC takes the lighter row, not the binance one');
SELECT ok((SELECT next_funding_time - funding_time = interval '1 hour'
                  AND funding_time <= clock_timestamp() AND next_funding_time > clock_timestamp() - interval '1 second'
                  AND date_trunc('hour', funding_time) = funding_time
             FROM perps_stats.fetch_funding_rate('lighter', 'ETH')),
    'funding: hourly settlements on the hour around now');

-- funding history: fundings (s), rate in percent with the paying side
SELECT results_eq(
    $$SELECT funding_time, rate, interval_hours FROM perps_stats.fetch_funding_history('lighter', 'ETH', '2025-11-14 00:00+00', '2025-11-14 04:00+00')$$,
    $$VALUES ('2025-11-14 00:00+00'::timestamptz, -0.000017::numeric, 1::numeric),
             ('2025-11-14 01:00+00', 0.000001, 1), ('2025-11-14 02:00+00', 0.000005, 1),
             ('2025-11-14 03:00+00', 0.000009, 1), ('2025-11-14 04:00+00', 0.000013, 1)$$,
    'funding history: hour h (h = s / 3600) pays (h mod 5) x 0.0004 + 0.0001 %; mod 5 = 4 is paid by shorts: negative');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('lighter', 'ETH', '2025-10-01 00:00+00', '2025-11-14 00:00+00')$$,
    $$VALUES (1057, 1057, '2025-10-01 00:00+00'::timestamptz, '2025-11-14 00:00+00'::timestamptz)$$,
    'funding history: 44 days x 24 + 1 = 1057 hourly rows over two pages of 750');

-- open interest
SELECT results_eq(
    $$SELECT symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('lighter', 'ETH')$$,
    $$VALUES ('ETH'::text, NULL::timestamptz, 39559.3278::numeric, NULL::numeric)$$,
    'open interest: 39559.3278 ETH');

-- klines: the recorded candlestick (ms)
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('lighter', 'ETH', '1m', '2025-11-14 03:21+00', '2025-11-14 03:21+00')$$,
    $$VALUES ('2025-11-14 03:21+00'::timestamptz, '2025-11-14 03:21:59.999+00'::timestamptz, 3223.32::numeric,
              3224.61::numeric, 3221.1::numeric, 3223.56::numeric, 183.81289999999998::numeric,
              592414.835547::numeric, NULL::bigint)$$,
    'klines: timestamp 1763090460000 ms, volume0 (base) and volume1 (quote) as sent');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('lighter', 'ETH', '5m', '2025-11-01 00:00+00', '2025-11-05 00:00+00')$$,
    $$VALUES (1153, 1153, '2025-11-01 00:00+00'::timestamptz, '2025-11-05 00:00+00'::timestamptz)$$,
    'klines: 4 days of 5m candles = 1153, over pages of 500');
SELECT results_eq(
    $$SELECT open_time, open FROM perps_stats.fetch_klines('lighter', 'ETH', '1m', '2025-11-14 03:20+00', '2025-11-14 03:22+00')$$,
    $$VALUES ('2025-11-14 03:20+00'::timestamptz, 3016.5::numeric), ('2025-11-14 03:21+00', 3223.32),
             ('2025-11-14 03:22+00', 3017)$$,
    'klines: the recorded candle between generated ones (open = 3000 + (minute mod 89) / 4; 29384840 mod 89 = 66)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_klines('lighter', 'ETH', '4h', '2025-11-01 00:00+00', '2025-11-02 00:00+00')), 7,
    'klines: 4h candles (00, 04, ..., 24 h)');

-- trades: recentTrades (documented format, none recorded)
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('lighter', 'ETH', 2)$$,
    $$VALUES ('9007199254741993'::text, '2025-11-14 03:21:00+00'::timestamptz, 3550.69::numeric, 0.0001::numeric, 'buy'::text),
             ('9007199254741992', '2025-11-14 03:20:59+00', 3549.69, 0.0002, 'sell')$$,
    'trades: ids beyond 2^53 exact; timestamp ms; is_maker_ask true means the taker bought');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_trades('lighter', 'ETH')), 100, 'trades: 100 by default (the venue''s limit)');

-- symbols both ways, errors
SELECT is((SELECT symbol FROM perps_stats.fetch_ticker('lighter', 'BTC')), 'BTC', 'market id 1 answers as BTC');
SELECT is((SELECT last_price FROM perps_stats.fetch_ticker('lighter', 'BTC')), 104000.5::numeric, 'BTC ticker is market 1''s');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('lighter', 'NOPE')$$, '42704', NULL,
    'an unknown symbol is an undefined_object error');
INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote)
SELECT id, 'GONE', '99', 'GONE', 'USDC' FROM perps_stats.exchanges WHERE name = 'lighter';
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('lighter', 'GONE')$$, '38000', NULL,
    'Lighter''s error payload (code 21100) is an external_routine_exception');
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
SELECT matches(pg_temp.error_detail($$SELECT * FROM perps_stats.fetch_trades('lighter', 'GONE')$$), 'market not found',
    'the error detail carries Lighter''s message');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('lighter', 'GONE')$$, '42704', NULL,
    'a market without a funding row is not found, not a zero rate');

-- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"lighter","path":"^/api/v1/orderBookOrders$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('lighter', 'ETH')$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"lighter","path":"^/api/v1/recentTrades$","kind":"garbage","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('lighter', 'ETH')$$, '22032', NULL,
    'garbage: an HTML page instead of JSON is an invalid-JSON error');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"lighter","path":"^/api/v1/candlesticks$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('lighter', 'ETH', '1m', '2025-11-14 03:21+00', '2025-11-14 03:21+00')$$, '22000', NULL,
    'wrong_types: wrong-typed fields are a data exception');
\! curl -sf -X DELETE "$PERPS_RECORDED_MOCK_URL/_mock/faults" >/dev/null
SELECT ok((SELECT count(*) FROM perps_stats.fetch_orderbook('lighter', 'ETH')) > 0, 'the same call succeeds once the fault is spent');

SELECT * FROM finish();
ROLLBACK;
