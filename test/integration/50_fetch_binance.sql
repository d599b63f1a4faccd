-- fetch_* against the Binance USD-M mock (test/mock/venues/binance.py)
-- serving the project's own payloads (test/payloads/binance and
-- test/payloads/websocket/binance_usdm, written from Binance's USD-M API
-- documentation).  Expected values are worked out by hand from those
-- payloads and from the formulas of the mock's generated history, never
-- from this code's output.  The mock's "now" is the close of the last 1m
-- kline of fetchOHLCV.swap.json: 2026-11-23 14:37:59.999 UTC.
-- (test/recorded/50_fetch_binance.sql is this test on the recorded payloads.)
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(47);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/binance' WHERE name = 'binance';

-- ---- markets: fetchMarkets.exchangeInfo.json (27 symbols) and fetchMarkets.fundingInfo.json
-- 23 USDT-margined perpetuals: the 22 TRADING ones and ALPACAUSDT (SETTLING); left out are
-- BTCUSDT_261225 (CURRENT_QUARTER), ETHUSDT_270326 (NEXT_QUARTER), BTCUSDC (quote USDC) and
-- EOSUSDT (contractType "", a delisted symbol)
SELECT is((SELECT count(*) FROM perps_stats.fetch_markets('binance')), 23::bigint,
          'fetch_markets: the 23 USDT perpetuals of exchangeInfo');
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('binance') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTCUSDT', 'BTC', 'USDT', 1::numeric, 0.10::numeric, 0.001::numeric, 0.001::numeric,
              1000::numeric, 100::numeric, NULL::numeric, 8::numeric)$$,
    'fetch_markets: BTCUSDT filters (PRICE_FILTER tickSize, LOT_SIZE, MIN_NOTIONAL), 8 h funding');
SELECT is((SELECT string_agg(symbol || ' ' || tick_size || ' ' || lot_size || ' ' || max_qty, ', ' ORDER BY symbol)
             FROM perps_stats.fetch_markets('binance') WHERE symbol IN ('SOL', 'DOGE', '1000PEPE')),
          '1000PEPE 0.0000001 1 800000000, DOGE 0.000010 1 50000000, SOL 0.0100 1 1000000',
          'fetch_markets: tick sizes exactly as sent, trailing zeros kept');
SELECT results_eq(
    $$SELECT symbol, funding_interval_hours FROM perps_stats.fetch_markets('binance')
       WHERE symbol IN ('1000PEPE', 'ALPACA', 'ETH', 'SUSHI') ORDER BY symbol$$,
    $$VALUES ('1000PEPE', 4::numeric), ('ALPACA', 1), ('ETH', 8), ('SUSHI', 4)$$,
    'fetch_markets: fundingInfo''s adjusted intervals (1000PEPEUSDT and SUSHIUSDT 4 h, ALPACAUSDT 1 h), else 8 h');
SELECT is(perps_stats.refresh_markets('binance'), 23, 'refresh_markets upserts 23 markets');
SELECT is((SELECT native_symbol FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'binance' AND m.symbol = '1000PEPE'), '1000PEPEUSDT',
          'markets: global 1000PEPE is native 1000PEPEUSDT');
SELECT is((SELECT string_agg(m.symbol || ' ' || m.active, ', ' ORDER BY m.symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'binance' AND m.symbol IN ('ALPACA', 'BTC')),
          'ALPACA false, BTC true', 'markets: a SETTLING symbol is inactive, a TRADING one active');
SELECT is(perps_stats.refresh_markets('binance'), 23, 'refresh_markets again: idempotent upsert');

-- ---- ticker: ETHUSDT from its 24 h ticker (24hrTicker.arr.json), mark price
-- (markPriceUpdate.arr.json), book ticker (bookTicker.ethusdt.json) and open interest
-- (fetchOpenInterest.ethusdt.json); ts is the latest of closeTime 14:37:58.437, the mark
-- price's 14:37:59.000, the book ticker's 14:37:59.207 and the open interest's 14:37:58.906
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('binance', 'ETH')$$,
    $$VALUES ('binance', 'ETH', '2026-11-23 14:37:59.207+00'::timestamptz, 3604.18::numeric, 3603.89127355::numeric,
              3604.47761905::numeric, 3604.17::numeric, 48.906::numeric, 3604.18::numeric, 12.033::numeric,
              2418906.233::numeric, 8666004132.77::numeric, 1893412.806::numeric, NULL::numeric,
              52.32::numeric, 0.01473::numeric, 3619.95::numeric, 3538.40::numeric)$$,
    'fetch_ticker: every field, P 1.473 % as the fraction 0.01473, ts the latest of the four');
SELECT is((SELECT price_change_pct::text || ' ' || mark_price::text FROM perps_stats.fetch_ticker('binance', 'ETH')),
          '0.01473 3603.89127355', 'fetch_ticker: the percentage shifted exactly, the 8-decimal mark price as sent');

-- ---- all tickers: the 24 h list has BTCUSDT (24hrTicker.json), ETHUSDT, SUSHIUSDT and
-- BTCUSDT_261225 (not a market: left out).  BTC: the mark price of markPriceUpdate.json
-- (14:37:59.000) is the latest; SUSHI: no book ticker, P "-2.250" is -0.02250
SELECT results_eq(
    $$SELECT symbol, ts, last_price, best_bid_qty, price_change_pct::text, open_interest
        FROM perps_stats.fetch_tickers('binance') ORDER BY symbol$$,
    $$VALUES ('BTC', '2026-11-23 14:37:59+00'::timestamptz, 97214.30::numeric, 3.391::numeric, '0.01463', NULL::numeric),
             ('ETH', '2026-11-23 14:37:59.207+00', 3604.18, 48.906, '0.01473', NULL),
             ('SUSHI', '2026-11-23 14:37:59+00', 0.8124, NULL, '-0.02250', NULL)$$,
    'fetch_tickers: known markets only, joined by symbol, without open interest');
SELECT is((SELECT mark_price::text || ' ' || index_price::text FROM perps_stats.fetch_tickers('binance') WHERE symbol = 'BTC'),
          '97226.41580435 97241.03718182',
          'fetch_tickers: BTCUSDT''s premium index from its own mark price event (the later !markPrice@arr one is not used)');

-- ---- order book: fetchOrderBook.swap.json (7 levels a side; lastUpdateId, E and T as numbers)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('binance', 'BTC', 3)$$,
    $$VALUES ('binance', 'BTC', '2026-11-23 14:37:52.118+00'::timestamptz,
              '{{97214.20,3.417},{97213.10,0.052},{97208.50,1.208}}'::numeric[],
              '{{97214.30,2.188},{97215.80,0.120},{97221.60,0.734}}'::numeric[], 9185240417733::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, T as ts, lastUpdateId as seq');
SELECT is((SELECT array_length(bids, 1) || 'x' || array_length(bids, 2) || ' ' || array_length(asks, 1)
             FROM perps_stats.fetch_orderbook('binance', 'BTC')), '7x2 7',
          'fetch_orderbook: the whole book (7 levels a side) as a 2-D array');
SELECT is((SELECT asks[7][1]::text || ' ' || asks[7][2]::text || ' ' || bids[7][1]::text || ' ' || bids[7][2]::text
             FROM perps_stats.fetch_orderbook('binance', 'BTC')),
          '97340.20 9.802 97105.30 12.466', 'fetch_orderbook: the last ask and bid, exact text');
-- fetchOrderBook.depth_sushiusdt.json sends lastUpdateId, E and T as strings
SELECT is((SELECT bids[1][1] || '/' || bids[1][2] || ' ' || asks[1][1] || '/' || asks[1][2] || ' ' || seq || ' ' || ts
                  || ' ' || array_length(bids, 1) || ' ' || bids[10][1]
             FROM perps_stats.fetch_orderbook('binance', 'SUSHI', 1000)),
          '0.8123/4211 0.8124/2950 8815502214460 2026-11-23 14:37:51.604+00 10 0.8110',
          'fetch_orderbook: SUSHIUSDT, lastUpdateId and T sent as strings, 10 levels');

-- ---- funding rate: premium index lastFundingRate for nextFundingTime (2026-11-23 16:00)
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('binance', 'BTC')$$,
    $$VALUES ('binance', 'BTC', '2026-11-23 16:00:00+00'::timestamptz, 0.00007513::numeric, NULL::numeric,
              '2026-11-23 16:00:00+00'::timestamptz, 8::numeric)$$,
    'fetch_funding_rate: lastFundingRate for nextFundingTime, 8 h');
SELECT is((SELECT string_agg(symbol || ' ' || rate::text || ' ' || interval_hours, ', ' ORDER BY symbol)
             FROM (SELECT * FROM perps_stats.fetch_funding_rate('binance', 'ETH')
                   UNION ALL SELECT * FROM perps_stats.fetch_funding_rate('binance', 'SUSHI')) f),
          'ETH -0.00002841 8, SUSHI 0.00012500 4',
          'fetch_funding_rate: a negative rate; SUSHIUSDT''s 4 h interval from fundingInfo');

-- ---- open interest: fetchOpenInterest.json
SELECT results_eq(
    $$SELECT exchange, symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('binance', 'BTC')$$,
    $$VALUES ('binance', 'BTC', '2026-11-23 14:37:55.412+00'::timestamptz, 84213.507::numeric, NULL::numeric)$$,
    'fetch_open_interest: openInterest in BTC, time to the millisecond');

-- ---- klines: the three 1m candles of fetchOHLCV.swap.json
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2026-11-23 14:35:00+00', '2026-11-23 14:37:00+00')$$,
    $$VALUES ('2026-11-23 14:35:00+00'::timestamptz, '2026-11-23 14:35:59.999+00'::timestamptz,
              97188.40::numeric, 97203.70::numeric, 97180.00::numeric, 97201.10::numeric, 61.408::numeric, 5968296.28514::numeric, 1423::bigint),
             ('2026-11-23 14:36:00+00', '2026-11-23 14:36:59.999+00', 97201.10, 97226.50, 97195.20, 97219.80, 88.731, 8625817.65933, 1987),
             ('2026-11-23 14:37:00+00', '2026-11-23 14:37:59.999+00', 97219.80, 97231.00, 97207.40, 97214.30, 42.066, 4089715.21890, 1106)$$,
    'fetch_klines: the candles of the payload, exact');
SELECT is((SELECT turnover::text FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2026-11-23 14:37:00+00', '2026-11-23 14:37:00+00')),
          '4089715.21890', 'fetch_klines: the quote volume''s trailing zero kept');
-- paging: 2026-11-22 00:00 .. 2026-11-23 14:37 is 1440 + 14 x 60 + 37 + 1 = 2318 one-minute
-- candles, more than Binance's page of 1500
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2026-11-22 00:00:00+00', '2026-11-23 14:37:00+00')),
          '2318 2318 2026-11-22 00:00:00+00 2026-11-23 14:37:00+00', 'fetch_klines: two pages, no gap, no duplicate');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('binance', 'BTC', '1m', '2026-11-22 00:00:00+00',
                                                          '2026-11-23 14:37:00+00', 1600)),
          1600::bigint, 'fetch_klines: max_rows across pages');
-- a generated 1h candle: k = 1795435200000 / 3600000 = 498732, open = 60000 + 732, high + 5,
-- low - 5, close + 1.5, volume = 1 + 498732 mod 7 = 1 + 3 (498729 = 7 x 71247), trades = 498732 mod 50 + 1 = 33
SELECT results_eq(
    $$SELECT open, high, low, close, volume, trade_count
        FROM perps_stats.fetch_klines('binance', 'BTC', '1h', '2026-11-23 12:00:00+00', '2026-11-23 12:00:00+00')$$,
    $$VALUES (60732.00::numeric, 60737.00::numeric, 60727.00::numeric, 60733.50::numeric, 4.000::numeric, 33::bigint)$$,
    'fetch_klines: 1h interval');
-- without since, pages go backwards from the newest: 2000 rows = 1500 + 500 ending at 14:37,
-- the first at 14:37 - 1999 min (33 h 19 min) = 2026-11-22 05:18
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', max_rows => 2000)),
          '2000 2000 2026-11-22 05:18:00+00 2026-11-23 14:37:00+00', 'fetch_klines: max_rows without since pages backwards');
-- until alone: one default page of 500 ending there, the first 499 minutes (8 h 19 min) earlier
SELECT is((SELECT count(*) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('binance', 'BTC', '1m', until => '2026-11-23 00:00:00+00')),
          '500 2026-11-22 15:41:00+00 2026-11-23 00:00:00+00', 'fetch_klines: until alone is one page ending there');
SELECT is((SELECT count(*) FROM perps_stats.fetch_klines('binance', 'BTC', '1m')), 500::bigint,
          'fetch_klines: without a range, one page of Binance''s default 500');

-- ---- funding history: fetchFundingRateHistory.json has the settlements of 2026-11-22 16:00,
-- 2026-11-23 00:00 and 08:00; the others are generated: 2026-11-22 08:00 is k = 1795334400000 /
-- 28800000 = 62338, k mod 5 = 3, rate 0.0001 + 3 x 0.00001 = 0.00013
SELECT results_eq(
    $$SELECT funding_time, rate FROM perps_stats.fetch_funding_history('binance', 'BTC', '2026-11-22 08:00:00+00', NULL, 4)$$,
    $$VALUES ('2026-11-22 08:00:00+00'::timestamptz, 0.00013000::numeric),
             ('2026-11-22 16:00:00+00', 0.00006892), ('2026-11-23 00:00:00+00', -0.00001250),
             ('2026-11-23 08:00:00+00', 0.00010000)$$,
    'fetch_funding_history: since and max_rows; the payload''s rates where it has them');
SELECT is((SELECT string_agg(rate::text, ' ' ORDER BY funding_time)
             FROM perps_stats.fetch_funding_history('binance', 'BTC', '2026-11-22 16:00:00+00', '2026-11-23 08:00:00+00')),
          '0.00006892 -0.00001250 0.00010000', 'fetch_funding_history: since and until inclusive, rates exactly as sent');
-- until and max_rows, backwards from the settlement of 2026-11-23 08:00: 1200 settlements,
-- the first 1199 x 8 h = 399 d 16 h earlier, 2025-10-19 16:00
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time) || ' ' || min(funding_time)
             FROM perps_stats.fetch_funding_history('binance', 'BTC', NULL, '2026-11-23 14:37:00+00', 1200)),
          '1200 1200 2025-10-19 16:00:00+00', 'fetch_funding_history: until and max_rows page backwards');
-- 2025-10-01 .. 2026-11-23 14:37: 418 whole days x 3 + 00:00 and 08:00 of 2026-11-23 = 1256 > one page of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time)
             FROM perps_stats.fetch_funding_history('binance', 'BTC', '2025-10-01 00:00:00+00', '2026-11-23 14:37:00+00')),
          '1256 1256', 'fetch_funding_history: pages through more than 1000 settlements');

-- ---- recent trades: fetchTrades.json (ids 6914733185 .. 6914733190, beyond 2^32); the buyer
-- was the maker (isBuyerMaker true): the taker sold
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('binance', 'BTC', 4)$$,
    $$VALUES ('6914733187', '2026-11-23 14:37:56.954+00'::timestamptz, 97213.10::numeric, 1.118::numeric, 'sell'),
             ('6914733188', '2026-11-23 14:37:57.305+00', 97214.30, 0.006, 'buy'),
             ('6914733189', '2026-11-23 14:37:57.731+00', 97214.30, 2.471, 'buy'),
             ('6914733190', '2026-11-23 14:37:57.998+00', 97214.30, 0.015, 'buy')$$,
    'fetch_trades: the most recent 4: id, time, price, qty, taker side');
SELECT is((SELECT count(*) || ' ' || min(trade_id) || ' ' || count(*) FILTER (WHERE side = 'sell')
             FROM perps_stats.fetch_trades('binance', 'BTC')),
          '6 6914733185 3', 'fetch_trades: by default (up to 100) the 6 the venue has, 3 of them sells');
-- trade history by time (aggTrades, generated): trade a is at 2019-09-08 + (a - 1) x 1.5 s, so
-- 14:00:00.000 is a = (1795442400000 - 1567900800000) / 1500 + 1 = 151694401; up to 14:00:03.000
-- there are 3.  Price 60000 + (a mod 2000) / 10 . (a mod 10) x 10 = 60040.10, .20, .30; qty
-- (a mod 997 + 1) / 1000: 151694401 = 997 x 152150 + 851, so 0.852, 0.853, 0.854; 151694403
-- is divisible by 3 (digit sum 33): its buyer was the maker, a sell
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side
        FROM perps_stats.fetch_trades('binance', 'BTC', '2026-11-23 14:00:00+00', '2026-11-23 14:00:03+00')$$,
    $$VALUES ('151694401', '2026-11-23 14:00:00+00'::timestamptz, 60040.10::numeric, 0.852::numeric, 'buy'),
             ('151694402', '2026-11-23 14:00:01.5+00', 60040.20, 0.853, 'buy'),
             ('151694403', '2026-11-23 14:00:03+00', 60040.30, 0.854, 'sell')$$,
    'fetch_trades over a time range: the aggregate trades, both ends inclusive');

-- ---- errors
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

-- ---- privileges: not PUBLIC, perps_collector yes
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
