-- fetch_* against the mock KuCoin Futures (test/mock/venues/kucoin.py) of the
-- recorded tier (test/services/recorded.sh), which serves the recorded
-- payloads of ../shared/fixtures/kucoinfutures.  Every
-- expected value below is worked out by hand from those payloads:
-- sizes are contracts x multiplier 0.001 BTC (XBTUSDTM), 19-digit "ts"
-- fields are nanoseconds, kline/funding times are milliseconds.
BEGIN;
SELECT plan(42);

\getenv mock_url PERPS_RECORDED_MOCK_URL
-- earlier tests insert markets with explicit ids (test/sql/10_partitions.sql):
-- move the identity past them so that refresh_markets can insert
SELECT setval(pg_get_serial_sequence('perps_stats.markets', 'id'),
              greatest((SELECT max(id) FROM perps_stats.markets), 1)) \gset
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/kucoin' WHERE name = 'kucoin';

-- markets: contracts/active lists XBTUSDTM (linear) and XBTUSDM (inverse: not served)
SELECT is(perps_stats.refresh_markets('kucoin'), 3, 'refresh_markets upserts the 3 linear perpetuals (BTC, ETH, SOL)');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('kucoin') WHERE native_symbol = 'XBTUSDTM'$$,
    $$VALUES ('BTC'::text, 'XBTUSDTM'::text, 'BTC'::text, 'USDT'::text, 0.001::numeric, 1::numeric,
              0.001::numeric, 0.001::numeric, 1000::numeric, 100::numeric, 8::numeric)$$,
    'XBTUSDTM: XBT is BTC; multiplier 0.001; lot 1 contract = 0.001 BTC; max 1000000 contracts = 1000 BTC; 8 h funding (.XBTUSDTMFPI8H)');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_markets('kucoin') WHERE native_symbol = 'XBTUSDM'), 0,
    'the inverse XBTUSDM contract is not listed');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'kucoin' AND m.symbol = 'BTC'), 'XBTUSDTM', 'markets maps BTC to XBTUSDTM');

-- ticker: contracts/XBTUSDTM (detail) + ticker?symbol=XBTUSDTM
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES ('kucoin'::text, 'BTC'::text, '2024-03-13 11:10:43.26+00'::timestamptz, 73400::numeric,
              29538.28::numeric, 29538.62::numeric)$$,
    'ticker: ts 1710328243260000000 ns, last price of /ticker, mark and index of the contract');
SELECT results_eq(
    $$SELECT best_bid_price, best_bid_qty, best_ask_price, best_ask_qty FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (73399.9::numeric, 2.146::numeric, 73400::numeric, 0.004::numeric)$$,
    'ticker: best bid 2146 contracts = 2.146 BTC, best ask 4 contracts = 0.004 BTC');
SELECT results_eq(
    $$SELECT volume_24h, turnover_24h, open_interest, open_interest_notional FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (25408.111::numeric, 751931474.3287792::numeric, 9876.432::numeric, 291732813.81696::numeric)$$,
    'ticker: volumeOf24h is BTC already; open interest 9876432 contracts = 9876.432 BTC, x mark 29538.28');
SELECT results_eq(
    $$SELECT price_change_24h, price_change_pct, high_24h, low_24h FROM perps_stats.fetch_ticker('kucoin', 'BTC')$$,
    $$VALUES (13::numeric, 0.0004::numeric, 29880::numeric, 29275::numeric)$$,
    'ticker: priceChg 13, priceChgPct is a fraction, high and low');

-- all tickers: contracts/active + allTickers
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_tickers('kucoin')), 3, 'fetch_tickers: one row per market');
SELECT results_eq(
    $$SELECT symbol, best_bid_qty, open_interest FROM perps_stats.fetch_tickers('kucoin') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC'::text, 2.146::numeric, 9876.432::numeric)$$,
    'fetch_tickers: BTC row in base units');

-- order book: level2 depth20 for depth <= 20
SELECT results_eq(
    $$SELECT ts, seq, bids, asks FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)$$,
    $$VALUES ('2022-06-04 07:15:22.830525+00'::timestamptz, 1645045405918::bigint,
              '{{29640,13.007},{29639,1.072},{29638,0.169}}'::numeric[],
              '{{29641,30.109},{29642,7.922},{29643,5.82}}'::numeric[])$$,
    'book: ts 1654326922830525196 ns (to the microsecond), sequence, sizes x 0.001');
SELECT results_eq(
    $$SELECT bids, asks FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 2)$$,
    $$VALUES ('{{29640,13.007},{29639,1.072}}'::numeric[], '{{29641,30.109},{29642,7.922}}'::numeric[])$$,
    'book: depth 2 keeps the two best levels per side');
SELECT results_eq(
    $$SELECT bids[1:1][1:2] FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 500)$$,
    $$VALUES ('{{29640,13.007}}'::numeric[])$$,
    'book: depth 500 uses the full snapshot');

-- funding rate
SELECT results_eq(
    $$SELECT symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('kucoin', 'BTC')$$,
    $$VALUES ('BTC'::text, '2024-01-22 04:00:00+00'::timestamptz, 0.000136::numeric, 0.00008::numeric,
              '2024-01-22 12:00:00+00'::timestamptz, 8::numeric)$$,
    'funding: timePoint 1705896000000 ms, value, predictedValue, + granularity 28800000 ms = 8 h');

-- open interest: from the contract detail
SELECT results_eq(
    $$SELECT symbol, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('kucoin', 'BTC')$$,
    $$VALUES ('BTC'::text, 9876.432::numeric, 291732813.81696::numeric)$$,
    'open interest: "9876432" contracts = 9876.432 BTC; notional at mark 29538.28');
SELECT ok((SELECT ts IS NULL FROM perps_stats.fetch_open_interest('kucoin', 'BTC')),
    'open interest: the contract detail has no time, so ts is null (not invented)');

-- klines: the recorded 1h candles
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('kucoin', 'BTC', '1h', '2024-01-30 16:00+00', '2024-01-30 18:00+00')$$,
    $$VALUES ('2024-01-30 16:00+00'::timestamptz, '2024-01-30 16:59:59.999+00'::timestamptz,
              43375.2::numeric, 43514.2::numeric, 43219::numeric, 43492::numeric, 354.348::numeric,
              NULL::numeric, NULL::bigint),
             ('2024-01-30 17:00+00', '2024-01-30 17:59:59.999+00', 43495.6, 43598.9, 43301.8, 43392.3, 282.425, NULL, NULL),
             ('2024-01-30 18:00+00', '2024-01-30 18:59:59.999+00', 43392.4, 43492.9, 43278.9, 43359.9, 296.246, NULL, NULL)$$,
    'klines: 1706630400000 ms = 16:00, volumes 354348/282425/296246 contracts x 0.001');
-- a day of 1m candles: 1441 candles, pages of 500 (documented limit)
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT open_time)::int, min(open_time), max(open_time)
        FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2024-01-01 00:00+00', '2024-01-02 00:00+00')$$,
    $$VALUES (1441, 1441, '2024-01-01 00:00+00'::timestamptz, '2024-01-02 00:00+00'::timestamptz)$$,
    'klines: 1441 one-minute candles over a day, paged 500 at a time without gaps or repeats');
SELECT ok((SELECT count(*) FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2024-01-01 00:00+00', NULL, 700)) = 700,
    'klines: max_rows 700 over two pages');
SELECT ok((SELECT bool_and(volume = (1000 + (extract(epoch FROM open_time)::bigint / 60) % 13) * 0.001)
             FROM perps_stats.fetch_klines('kucoin', 'BTC', '1m', '2024-01-01 00:00+00', '2024-01-01 10:00+00')),
    'klines: generated volumes (1000 + minute mod 13 contracts) come out x 0.001');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('kucoin', 'BTC', '2h')$$, '22023', NULL,
    'klines: an interval outside 1m..1d is refused');

-- trades: the recorded trade history
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('kucoin', 'BTC')$$,
    $$VALUES ('1738233312958'::text, '2024-03-13 11:00:49.901+00'::timestamptz, 73266.7::numeric, 0.001::numeric, 'sell'::text)$$,
    'trades: ts 1710327649901000000 ns, size 1 contract = 0.001 BTC, taker sold');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_trades('kucoin', 'ETH', 10)), 10, 'trades: max_rows bounds the rows');
SELECT results_eq(
    $$SELECT qty FROM perps_stats.fetch_trades('kucoin', 'ETH', 2)$$,
    $$VALUES (0.01::numeric), (0.02::numeric)$$,
    'trades: ETHUSDTM sizes 1 and 2 contracts x multiplier 0.01');

-- funding history (documented-format mock: settlements at 04, 12, 20 UTC, newest first, 100 per page)
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2023-11-01 00:00+00', '2023-11-01 23:59+00')
       ORDER BY funding_time$$,
    $$VALUES ('2023-11-01 04:00+00'::timestamptz, 0.000025::numeric),
             ('2023-11-01 12:00+00', 0.000050), ('2023-11-01 20:00+00', 0.000075)$$,
    'funding history: timepoint ms; rate of settlement n = ((n mod 7) - 3) x 0.000025 (n = ms / 28800000)');
SELECT results_eq(
    $$SELECT count(*)::int, count(DISTINCT funding_time)::int, min(funding_time), max(funding_time)
        FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2023-11-01 00:00+00', '2024-01-15 00:00+00')$$,
    $$VALUES (225, 225, '2023-11-01 04:00+00'::timestamptz, '2024-01-14 20:00+00'::timestamptz)$$,
    'funding history: 75 days x 3 = 225 settlements, paging backwards 100 at a time');

-- ETH: another multiplier (0.01), documented-format contract
SELECT results_eq(
    $$SELECT best_bid_qty, best_ask_qty, open_interest FROM perps_stats.fetch_ticker('kucoin', 'ETH')$$,
    $$VALUES (1.2::numeric, 0.8::numeric, 1234.56::numeric)$$,
    'ETH ticker: 120 and 80 contracts, open interest 123456 contracts, x 0.01 ETH');
SELECT results_eq(
    $$SELECT bids[1:1][1:2] FROM perps_stats.fetch_orderbook('kucoin', 'ETH', 5)$$,
    $$VALUES ('{{1850.24,0.1}}'::numeric[])$$,
    'ETH book: 10 contracts x 0.01 at mark - tick');

-- symbols both ways and errors
SELECT is((SELECT symbol FROM perps_stats.fetch_ticker('kucoin', 'BTC')), 'BTC', 'fetch_ticker answers with the global symbol');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('kucoin', 'NOPE')$$, '42704', NULL,
    'an unknown symbol is an undefined_object error');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 0)$$, '22023', NULL,
    'depth 0 is refused');

-- a venue error payload is an error naming the venue, not a row
INSERT INTO perps_stats.markets (exchange_id, symbol, native_symbol, base, quote, contract_size)
SELECT id, 'GONE', 'GONEUSDTM', 'GONE', 'USDT', 1 FROM perps_stats.exchanges WHERE name = 'kucoin';
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('kucoin', 'GONE')$$, '38000', NULL,
    'KuCoin code 400100 becomes an external_routine_exception');
SELECT throws_like($$SELECT * FROM perps_stats.fetch_funding_rate('kucoin', 'GONE')$$, '%kucoin%',
    'the error names the venue');

-- more paths: depth100, allTickers times, limits of the other contracts
SELECT ok(EXISTS (SELECT 1 FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 100)), 'depth 100 book');
SELECT is((SELECT count(*)::int FROM perps_stats.fetch_tickers('kucoin') WHERE ts IS NOT NULL), 3,
    'every all-tickers row has the time of its allTickers entry');
SELECT is((SELECT interval_hours FROM perps_stats.fetch_funding_history('kucoin', 'BTC', '2023-11-01 00:00+00', '2023-11-01 12:00+00') LIMIT 1),
    NULL, 'funding history rows do not say their interval');
SELECT is((SELECT max_leverage FROM perps_stats.fetch_markets('kucoin') WHERE symbol = 'ETH'), 75::numeric,
    'ETH max leverage');
SELECT is((SELECT max_qty FROM perps_stats.fetch_markets('kucoin') WHERE symbol = 'SOL'), 100000::numeric,
    'SOL max order 1000000 contracts x 0.1');

-- faults injected by the mock (one request each): errors, never rows
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/level2/depth20$","kind":"truncate","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)$$, '22032', NULL,
    'truncate: a truncated book is an invalid-JSON error, not a half book');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/trade/history$","kind":"garbage","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('kucoin', 'BTC')$$, '22032', NULL,
    'garbage: an HTML page instead of JSON is an invalid-JSON error');
\! curl -sf -X POST "$PERPS_RECORDED_MOCK_URL/_mock/faults" -d '{"venue":"kucoin","path":"^/api/v1/funding-rate/XBTUSDTM/current$","kind":"wrong_types","count":1}' >/dev/null
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_funding_rate('kucoin', 'BTC')$$, '22000', NULL,
    'wrong_types: wrong-typed fields are a data exception');
\! curl -sf -X DELETE "$PERPS_RECORDED_MOCK_URL/_mock/faults" >/dev/null
SELECT ok((SELECT count(*) FROM perps_stats.fetch_orderbook('kucoin', 'BTC', 20)) > 0, 'the same call succeeds once the fault is spent');

SELECT * FROM finish();
ROLLBACK;
