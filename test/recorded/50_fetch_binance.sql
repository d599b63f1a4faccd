-- fetch_* against the Binance USD-M mock (test/mock/venues/binance.py)
-- serving the payloads recorded from Binance (the recorded tier: the second
-- REST mock, test/services/recorded.sh).
-- Expected values are worked out by hand from the payloads in
-- ../shared/fixtures (binance/ and websocket/binance_usdm/) and from the
-- formulas of the mock's generated history, never from this code's output.
\getenv mock_url PERPS_RECORDED_MOCK_URL
BEGIN;
SELECT plan(40);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/binance' WHERE name = 'binance';

-- markets: exchangeInfo lists 117 USDT-margined perpetuals (BTCBUSD, ETHBUSD,
-- the two quarterlies and BTCSTUSDT with contractType "" are left out)
SELECT is((SELECT count(*) FROM perps_stats.fetch_markets('binance')), 117::bigint,
          'fetch_markets: the 117 USDT perpetuals of exchangeInfo');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('binance') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTCUSDT', 'BTC', 'USDT', 1::numeric, 0.01::numeric, 0.001::numeric, 0.001::numeric,
              1000::numeric, 5::numeric, NULL::numeric, 8::numeric)$$,
    'fetch_markets: BTCUSDT filters (PRICE_FILTER tickSize, LOT_SIZE, MIN_NOTIONAL), 8 h funding');
SELECT is((SELECT funding_interval_hours FROM perps_stats.fetch_markets('binance') WHERE symbol = 'BLZ'),
          4::numeric, 'fetch_markets: fundingInfo''s adjusted interval (BLZUSDT, 4 h)');
SELECT is(perps_stats.refresh_markets('binance'), 117, 'refresh_markets upserts 117 markets');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'binance' AND m.symbol = '1000SHIB'), '1000SHIBUSDT',
          'markets: global 1000SHIB is native 1000SHIBUSDT');
SELECT is(perps_stats.refresh_markets('binance'), 117, 'refresh_markets again: idempotent upsert');

-- ticker: ETHUSDT from the 24 h ticker, mark price, book ticker and open interest
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('binance', 'ETH')$$,
    $$VALUES ('binance', 'ETH', '2022-05-29 09:51:00+00'::timestamptz, 1782.02::numeric, 1981.15704420::numeric,
              1978.08197502::numeric, 1778.54::numeric, 15.164::numeric, 1778.55::numeric, 7.289::numeric,
              1678290.411::numeric, 2990736920.72::numeric, 1234567.890::numeric, NULL::numeric,
              24.69::numeric, 0.01405::numeric, 1809.33::numeric, 1750.45::numeric)$$,
    'fetch_ticker: every field, P 1.405 % as the fraction 0.01405, ts the latest of the four');
SELECT is((SELECT price_change_pct::text FROM perps_stats.fetch_ticker('binance', 'ETH')), '0.01405',
          'fetch_ticker: the percentage shifted exactly');

-- all tickers: the 24 h list has ETHUSDT, IOTXUSDT (not in exchangeInfo) and BTCUSDT
-- (BTCUSDT's book ticker is the mock's top of the recorded depth: 42651.10 x 470.672)
SELECT results_eq(
    $$SELECT symbol, ts, last_price, best_bid_qty, open_interest FROM perps_stats.fetch_tickers('binance') ORDER BY symbol$$,
    $$VALUES ('BTC', '2024-04-10 08:43:59.999+00'::timestamptz, 71481.90::numeric, 470.672::numeric, NULL::numeric),
             ('ETH', '2022-05-29 09:50:55.284+00'::timestamptz, 1782.02::numeric, 15.164::numeric, NULL::numeric)$$,
    'fetch_tickers: known markets only, joined by symbol');

-- order book: fetchOrderBook.swap.json
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('binance', 'BTC', 3)$$,
    $$VALUES ('binance', 'BTC', '2024-02-01 16:11:57.258+00'::timestamptz,
              '{{42651.10,470.672},{42650.00,66.452},{42646.80,126.261}}'::numeric[],
              '{{42878.00,7.011},{42950.90,0.005},{42980.90,0.061}}'::numeric[], 35263532345::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, T as ts, lastUpdateId as seq');
SELECT is((SELECT array_length(bids, 1) || 'x' || array_length(bids, 2) || ' ' || array_length(asks, 1)
             FROM perps_stats.fetch_orderbook('binance', 'BTC')), '5x2 5',
          'fetch_orderbook: the whole recorded book (5 levels a side) as a 2-D array');
SELECT is((SELECT asks[5][1]::text || ' ' || asks[5][2]::text FROM perps_stats.fetch_orderbook('binance', 'BTC')),
          '42998.10 0.071', 'fetch_orderbook: the last ask, exact text');
SELECT is((SELECT bids[1][1] || '/' || bids[1][2] || ' ' || asks[1][1] || '/' || asks[1][2]
             FROM perps_stats.fetch_orderbook('binance', 'SUSHI', 1000)),
          '7.6110/6 7.6120/297', 'fetch_orderbook: SUSHIUSDT recorded book, best levels');

-- funding rate: markPriceUpdate (BTCUSDT) r and T
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('binance', 'BTC')$$,
    $$VALUES ('binance', 'BTC', '2021-04-02 00:00:00+00'::timestamptz, 0.00058455::numeric, NULL::numeric,
              '2021-04-02 00:00:00+00'::timestamptz, 8::numeric)$$,
    'fetch_funding_rate: lastFundingRate for nextFundingTime, 8 h');

-- open interest: fetchOpenInterest.json
SELECT results_eq(
    $$SELECT exchange, symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('binance', 'BTC')$$,
    $$VALUES ('binance', 'BTC', '2022-06-04 10:00:44.754+00'::timestamptz, 84617.188::numeric, NULL::numeric)$$,
    'fetch_open_interest: openInterest in BTC, time to the millisecond');

-- klines: the three recorded 1m candles (fetchOHLCV.swap.json)
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2024-04-10 08:41:00+00', '2024-04-10 08:43:00+00')$$,
    $$VALUES ('2024-04-10 08:41:00+00'::timestamptz, '2024-04-10 08:41:59.999+00'::timestamptz,
              71481.90::numeric, 71481.90::numeric, 71481.90::numeric, 71481.90::numeric, 0.002::numeric, 142.96380::numeric, 1::bigint),
             ('2024-04-10 08:42:00+00', '2024-04-10 08:42:59.999+00', 71471.00, 71471.00, 70459.40, 70459.40, 0.120, 8518.17600, 9),
             ('2024-04-10 08:43:00+00', '2024-04-10 08:43:59.999+00', 71470.70, 71470.90, 70459.40, 70459.40, 1.542, 108661.55840, 8)$$,
    'fetch_klines: the recorded candles, exact');
-- paging: 2024-04-09 00:00 .. 2024-04-10 08:43 is 1440 + 523 + 1 = 1964 one-minute candles,
-- more than Binance's page of 1500
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2024-04-09 00:00:00+00', '2024-04-10 08:43:00+00')),
          '1964 1964 2024-04-09 00:00:00+00 2024-04-10 08:43:00+00', 'fetch_klines: two pages, no gap, no duplicate');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2024-04-09 00:00:00+00',
                                                          '2024-04-10 08:43:00+00', 1600)),
          1600::bigint, 'fetch_klines: max_rows across pages');
-- a generated 1h candle: k = 1712736000000 / 3600000 = 475760, open = 60000 + 760, volume = 1 + 475760 mod 7 = 1 + 5 (475755 = 7 x 67965), trades = 475760 mod 50 + 1 = 11
SELECT results_eq(
    $$SELECT open, high, low, close, volume, trade_count
        FROM perps_stats.fetch_klines('binance', 'BTC', '1h', '2024-04-10 08:00:00+00', '2024-04-10 08:00:00+00')$$,
    $$VALUES (60760.00::numeric, 60765.00::numeric, 60755.00::numeric, 60761.50::numeric, 6.000::numeric, 11::bigint)$$,
    'fetch_klines: 1h interval');
-- without since, pages go backwards from the newest: 2000 rows = 1500 + 500 ending at 08:43,
-- the first at 08:43 - 1999 min = 2024-04-08 23:24
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', max_rows => 2000)),
          '2000 2000 2024-04-08 23:24:00+00 2024-04-10 08:43:00+00', 'fetch_klines: max_rows without since pages backwards');
-- funding until 2024-04-10 08:00 backwards: 1200 settlements, the first 1199 x 8 h = 399 d 16 h earlier
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time) || ' ' || min(funding_time)
             FROM perps_stats.fetch_funding_history('binance', 'BTC', NULL, '2024-04-10 08:43:00+00', 1200)),
          '1200 1200 2023-03-07 16:00:00+00', 'fetch_funding_history: until and max_rows page backwards');
-- until alone: one default page of 500 ending there, the first 499 minutes earlier
SELECT is((SELECT count(*) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', until => '2024-04-10 00:00:00+00')),
          '500 2024-04-09 15:41:00+00 2024-04-10 00:00:00+00', 'fetch_klines: until alone is one page ending there');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('binance', 'BTC', '1m')), 500::bigint,
          'fetch_klines: without a range, one page of Binance''s default 500');

-- funding history: every 8 h; 2024-04-01 is day 19814, k = 59442, k mod 5 = 2, rate 0.00012
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('binance', 'BTC', '2024-04-01 00:00:00+00', NULL, 3)$$,
    $$VALUES ('2024-04-01 00:00:00+00'::timestamptz, 0.00012000::numeric),
             ('2024-04-01 08:00:00+00', 0.00013000), ('2024-04-01 16:00:00+00', 0.00014000)$$,
    'fetch_funding_history: since and max_rows');
-- 2023-01-01 .. 2024-04-10 08:43: 465 whole days x 3 + 00:00 and 08:00 of 2024-04-10 = 1397 > one page of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time)
             FROM perps_stats.fetch_funding_history('binance', 'BTC', '2023-01-01 00:00:00+00', '2024-04-10 08:43:00+00')),
          '1397 1397', 'fetch_funding_history: pages through more than 1000 settlements');

-- trades: the generated recent trades (ids up to 5000000000; price 70000 + (id mod 100)/10,
-- qty (id mod 997 + 1)/1000, the buyer is the maker when 3 divides id)
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('binance', 'BTC', 3)$$,
    $$VALUES ('4999999998', '2024-04-10 08:43:59.725+00'::timestamptz, 70009.80::numeric, 0.134::numeric, 'sell'),
             ('4999999999', '2024-04-10 08:43:59.862+00', 70009.90, 0.135, 'buy'),
             ('5000000000', '2024-04-10 08:43:59.999+00', 70000.00, 0.136, 'buy')$$,
    'fetch_trades: id, time, price, qty, taker side');
SELECT is((SELECT count(*) FROM perps_stats.fetch_trades('binance', 'BTC')), 100::bigint,
          'fetch_trades: 100 by default');

-- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('binance', 'NOPE')$$, '38000',
                 'binance answered GET /fapi/v1/ticker/24hr?symbol=NOPEUSDT with HTTP status 400',
                 'an unknown symbol: Binance''s 400, naming venue, path and status');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('nosuch', 'BTC')$$, '42704',
                 'exchange "nosuch" does not exist', 'an unknown exchange');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('binance', 'BTC', '7m')$$, '22023',
                 'unsupported kline interval "7m"', 'an unsupported interval');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_orderbook('binance', 'BTC', 0)$$, '22023',
                 NULL, 'depth 0');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_ticker('binance', 'btc/x')$$, '42704',
                 NULL, 'a symbol Binance cannot name');

-- privileges: not PUBLIC, perps_collector yes
SELECT ok(NOT has_function_privilege('public', 'perps_stats.fetch_ticker(text, text)', 'EXECUTE'),
          'PUBLIC cannot run fetch_ticker');
SELECT ok(has_function_privilege('perps_collector', 'perps_stats.fetch_ticker(text, text)', 'EXECUTE'),
          'perps_collector can run fetch_ticker');
SELECT ok(has_function_privilege('perps_collector', 'perps_stats.refresh_markets(text)', 'EXECUTE'),
          'perps_collector can run refresh_markets');
SELECT ok(NOT has_function_privilege('public', 'perps_stats.refresh_markets(text)', 'EXECUTE'),
          'PUBLIC cannot run refresh_markets');
SELECT is((SELECT count(*) FROM pg_proc WHERE pronamespace = 'perps_stats'::regnamespace
             AND (proname LIKE 'fetch\_%' OR proname = 'refresh_markets')
             AND has_function_privilege('public', oid, 'EXECUTE')), 0::bigint,
          'no fetch function is executable by PUBLIC');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'perps_stats.refresh_markets(text)'::regprocedure), true,
          'refresh_markets is SECURITY DEFINER');
SELECT ok((SELECT proconfig FROM pg_proc WHERE oid = 'perps_stats.refresh_markets(text)'::regprocedure)
          @> ARRAY['search_path=pg_catalog, pg_temp'], '... with a fixed search_path');
SELECT is(current_setting('perps_stats.http_max_response_size'), '32MB', 'http GUCs are defined');

SELECT * FROM finish();
ROLLBACK;
