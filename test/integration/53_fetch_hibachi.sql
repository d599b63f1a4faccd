-- fetch_* against the Hibachi mock (test/mock/venues/hibachi.py) serving the
-- project's own payloads (test/payloads/hibachi, written from Hibachi's API
-- documentation, api-doc.hibachi.xyz, and its SDK's types).  Hibachi's
-- public market data, exchange-info included, is on one host, the data API
-- (rest_url), pointed at <mock>/hibachi; the venue has no aux_url.
-- Expected values are worked out by hand from the payloads and from the
-- formulas of the mock's generated history (its docstring), never from
-- this code's output.  The mock's "now" is 2026-12-01 09:15:00 UTC =
-- 1796116500 s (2026-12-01 00:00 is 1796083200).
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SELECT plan(30);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hibachi' WHERE name = 'hibachi';

-- ---- the venue row
SELECT results_eq(
    $$SELECT id, rest_url LIKE '%/hibachi', aux_url IS NULL, ws_url, maker_fee, taker_fee
        FROM perps_stats.exchanges WHERE name = 'hibachi'$$,
    $$VALUES (10::smallint, true, true, 'wss://data-api.hibachi.xyz/ws/market', 0::numeric, 0.0002::numeric)$$,
    'exchanges: hibachi is id 10, one host (no aux_url), the fees of exchange-info''s feeConfig (0, 2 bps)');

-- ---- markets: exchangeInfo.json lists BTC, ETH, SOL, PEPE (LIVE) and SUI (CLOSED, left out)
SELECT is((SELECT string_agg(symbol, ',' ORDER BY symbol) FROM perps_stats.fetch_markets('hibachi')),
          'BTC,ETH,PEPE,SOL', 'fetch_markets: the LIVE perpetuals only');
-- BTC/USDT-P: tickSize 0.1, stepSize = minOrderSize 0.0000000001, minNotional 1; no maximum
-- size or leverage in the contract; funding every hour
SELECT results_eq(
    $$SELECT symbol, native_symbol, base, quote, contract_size, tick_size, lot_size, min_qty, max_qty,
             min_notional, max_leverage, funding_interval_hours
        FROM perps_stats.fetch_markets('hibachi') WHERE symbol = 'BTC'$$,
    $$VALUES ('BTC', 'BTC/USDT-P', 'BTC', 'USDT', 1::numeric, 0.1::numeric, 0.0000000001::numeric,
              0.0000000001::numeric, NULL::numeric, 1::numeric, NULL::numeric, 1::numeric)$$,
    'fetch_markets: BTC/USDT-P, base units, 1 h funding');
SELECT is((SELECT tick_size::text || ' ' || lot_size::text || ' ' || min_notional::text
             FROM perps_stats.fetch_markets('hibachi') WHERE symbol = 'PEPE'),
          '0.00000000000000000001 1000 1.000000', 'fetch_markets: a 20-decimal tick size exactly as sent');
SELECT is(perps_stats.refresh_markets('hibachi'), 4, 'refresh_markets upserts 4 markets');
SELECT is((SELECT string_agg(m.native_symbol, ',' ORDER BY m.native_symbol) FROM perps_stats.markets m
             JOIN perps_stats.exchanges e ON e.id = m.exchange_id WHERE e.name = 'hibachi' AND m.active),
          'BTC/USDT-P,ETH/USDT-P,PEPE/USDT-P,SOL/USDT-P', 'markets: native symbols, all active; no SUI');

-- ---- ticker: prices.BTC.json + stats.BTC.json + openInterest.BTC.json; no time in any of them;
-- volume24h is the USDT notional (turnover); no base volume, no book sizes, no 24 h change
SELECT results_eq(
    $$SELECT exchange, symbol, ts, last_price, mark_price, index_price, best_bid_price, best_bid_qty,
             best_ask_price, best_ask_qty, volume_24h, turnover_24h, open_interest, open_interest_notional,
             price_change_24h, price_change_pct, high_24h, low_24h
        FROM perps_stats.fetch_ticker('hibachi', 'BTC')$$,
    $$VALUES ('hibachi', 'BTC', NULL::timestamptz, 97251.2::numeric, 97251.08412345678901234567::numeric,
              97262.40::numeric, 97250.9::numeric, NULL::numeric, 97251.3::numeric, NULL::numeric, NULL::numeric,
              7503062.418230987654321012::numeric, 9.1134205713::numeric, NULL::numeric, NULL::numeric,
              NULL::numeric, 98433.7::numeric, 95870.2::numeric)$$,
    'fetch_ticker: tradePrice, markPrice, spotPrice as index, bid/ask, stats, open interest');
SELECT is((SELECT mark_price::text || ' ' || turnover_24h::text || ' ' || index_price::text
             FROM perps_stats.fetch_ticker('hibachi', 'BTC')),
          '97251.08412345678901234567 7503062.418230987654321012 97262.40',
          'fetch_ticker: a 20-decimal mark price and an 18-decimal notional exactly as sent');

-- ---- all tickers: inventory.json; change = priceLatest - price24hAgo:
-- BTC 97251.2 - 96014.5 = 1236.7; ETH 3521.40 - 3569.65 = -48.25; SOL 187.430 - 184.312 = 3.118;
-- PEPE 0.00001033190000000000 - 0.00001102300000000000 = -0.00000069110000000000
SELECT results_eq(
    $$SELECT symbol, ts, last_price, mark_price, price_change_24h, price_change_pct
        FROM perps_stats.fetch_tickers('hibachi') ORDER BY symbol$$,
    $$VALUES ('BTC', NULL::timestamptz, 97251.2::numeric, 97251.08412345678901234567::numeric, 1236.7::numeric, NULL::numeric),
             ('ETH', NULL, 3521.40, 3521.399871, -48.25, NULL),
             ('PEPE', NULL, 0.00001033190000000000, 0.00001033184501234567, -0.00000069110000000000, NULL),
             ('SOL', NULL, 187.430, 187.431260, 3.118, NULL)$$,
    'fetch_tickers: the LIVE markets of inventory, the 24 h change exact, no fraction');
SELECT is((SELECT price_change_24h::text FROM perps_stats.fetch_tickers('hibachi') WHERE symbol = 'PEPE'),
          '-0.00000069110000000000', 'fetch_tickers: the change at the operands'' 20 decimals');

-- ---- order book: orderbook.BTC.json (5 levels a side, best first)
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bids, asks, seq FROM perps_stats.fetch_orderbook('hibachi', 'BTC', 3)$$,
    $$VALUES ('hibachi', 'BTC', NULL::timestamptz,
              '{{97250.9,0.4127},{97250.1,0.0012},{97249.0,3.25}}'::numeric[],
              '{{97251.3,0.2318},{97251.9,0.03},{97253.0,1.105}}'::numeric[], NULL::bigint)$$,
    'fetch_orderbook: 3 levels a side, best first, no time and no sequence (the answer has neither)');
SELECT is((SELECT bids[5][1] || '/' || bids[5][2] || ' ' || bids[4][2] || ' ' || asks[5][1] || '/' || asks[5][2]
             FROM perps_stats.fetch_orderbook('hibachi', 'BTC')),
          '97245.1/12.7500000000 0.0000000001 97256.0/2.0000000000', 'fetch_orderbook: the whole book, exact');
-- ETH (generated, P = 3521.40): asks P + 1, 2, 3 of 1.5, bids P - 1, 2, 3 of 2.5, bids sent worst
-- first: put best first
SELECT is((SELECT bids::text || ' ' || asks[1][1]::text FROM perps_stats.fetch_orderbook('hibachi', 'ETH', 2)),
          '{{3520.40,2.5},{3519.40,2.5}} 3522.40', 'fetch_orderbook: a bid side sent worst first, best first');

-- ---- funding rate: prices' fundingRateEstimation: 0.000012 for nextFundingTimestamp 1796119200
-- (= 2026-12-01 10:00), an hourly rate
SELECT results_eq(
    $$SELECT exchange, symbol, funding_time, rate, predicted_rate, next_funding_time, interval_hours
        FROM perps_stats.fetch_funding_rate('hibachi', 'BTC')$$,
    $$VALUES ('hibachi', 'BTC', '2026-12-01 10:00:00+00'::timestamptz, 0.000012::numeric, NULL::numeric,
              '2026-12-01 10:00:00+00'::timestamptz, 1::numeric)$$,
    'fetch_funding_rate: the estimate for the next hourly settlement, seconds to timestamptz');
SELECT is((SELECT rate::text FROM perps_stats.fetch_funding_rate('hibachi', 'ETH')), '-0.0000085',
          'fetch_funding_rate: a negative rate as sent');

-- ---- open interest: openInterest.BTC.json totalQuantity (base units), no time
SELECT results_eq(
    $$SELECT exchange, symbol, ts, open_interest, open_interest_notional FROM perps_stats.fetch_open_interest('hibachi', 'BTC')$$,
    $$VALUES ('hibachi', 'BTC', NULL::timestamptz, 9.1134205713::numeric, NULL::numeric)$$,
    'fetch_open_interest: totalQuantity');

-- ---- klines: the two 1h candles of klines.BTC.1h.json (timestamps 1796108400 = 07:00 and
-- 1796112000 = 08:00, seconds); volumeNotional is the turnover, the base volume is not sent
SELECT results_eq(
    $$SELECT open_time, close_time, open, high, low, close, volume, turnover, trade_count
        FROM perps_stats.fetch_klines('hibachi', 'BTC', '1h', '2026-12-01 07:00:00+00', '2026-12-01 08:00:00+00')$$,
    $$VALUES ('2026-12-01 07:00:00+00'::timestamptz, '2026-12-01 07:59:59.999+00'::timestamptz,
              97101.5::numeric, 97388.0::numeric, 96890.1::numeric, 97012.4::numeric, NULL::numeric,
              296804.439457::numeric, NULL::bigint),
             ('2026-12-01 08:00:00+00', '2026-12-01 08:59:59.999+00', 97012.4, 97301.2, 96977.0, 97250.8, NULL,
              360036.20957612345678901234, NULL)$$,
    'fetch_klines: the payload''s candles, seconds to timestamptz, the notional as turnover');
-- a generated 1m candle: 09:00 is 1796115600 s, i = 29935260, i mod 61 = 59 (61 x 490741 =
-- 29935201), o = 97000 + 5.9; high o + 6, low o - 4, close o + 0.5; i mod 13 = 4
-- (13 x 2302712 = 29935256): 50000.25 + 4000
SELECT results_eq(
    $$SELECT open, high, low, close, turnover
        FROM perps_stats.fetch_klines('hibachi', 'BTC', '1m', '2026-12-01 09:00:00+00', '2026-12-01 09:00:00+00')$$,
    $$VALUES (97005.9::numeric, 97011.9::numeric, 97001.9::numeric, 97006.4::numeric, 54000.25::numeric)$$,
    'fetch_klines: a 1m candle');
-- paging: 2026-11-30 00:00 .. 2026-12-01 09:14 is 1440 + 9 x 60 + 14 + 1 = 1995 candles, two
-- windows of 1000
SELECT is((SELECT count(*) || ' ' || count(DISTINCT open_time) || ' ' || min(open_time) || ' ' || max(open_time)
             FROM perps_stats.fetch_klines('hibachi', 'BTC', '1m', '2026-11-30 00:00:00+00', '2026-12-01 09:14:00+00')),
          '1995 1995 2026-11-30 00:00:00+00 2026-12-01 09:14:00+00', 'fetch_klines: two windows, no gap, no duplicate');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_klines('hibachi', 'BTC', '30m')$$, '22023', NULL,
                 'fetch_klines: Hibachi has no 30-minute candles');

-- ---- funding history (generated): rate ((t / 3600) mod 9 - 4) x 0.0000025; 06:00 is
-- 1796104800 s, 1796104800 / 3600 = 498918, digit sum 39, mod 9 = 3: -0.0000025; 07:00 0;
-- 08:00 0.0000025; 09:00 0.0000050
SELECT results_eq(
    $$SELECT funding_time, rate, interval_hours
        FROM perps_stats.fetch_funding_history('hibachi', 'BTC', '2026-12-01 06:00:00+00', '2026-12-01 09:00:00+00')$$,
    $$VALUES ('2026-12-01 06:00:00+00'::timestamptz, -0.0000025::numeric, 1::numeric),
             ('2026-12-01 07:00:00+00', 0.0000000, 1), ('2026-12-01 08:00:00+00', 0.0000025, 1),
             ('2026-12-01 09:00:00+00', 0.0000050, 1)$$,
    'fetch_funding_history: hourly settlements, both ends inclusive');
-- 2026-11-20 00:00 .. 2026-12-01 09:00: 11 x 24 + 10 = 274 settlements, three windows of 100 hours
SELECT is((SELECT count(*) || ' ' || count(DISTINCT funding_time) || ' ' || max(funding_time)
             FROM perps_stats.fetch_funding_history('hibachi', 'BTC', '2026-11-20 00:00:00+00', '2026-12-01 09:00:00+00')),
          '274 274 2026-12-01 09:00:00+00', 'fetch_funding_history: pages through more than 100 settlements');

-- ---- recent trades: trades.BTC.json (5, no ids): the synthetic id is seconds-side-price-qty-k,
-- k the earlier identical ones of the answer (two sells of 0.0090090093 at 97250.9 at 09:14:57)
SELECT results_eq(
    $$SELECT trade_id, ts, price, qty, side FROM perps_stats.fetch_trades('hibachi', 'BTC') ORDER BY ts, trade_id$$,
    $$VALUES ('1796116471-S-97249.0-0.0000000001-0', '2026-12-01 09:14:31+00'::timestamptz, 97249.0::numeric,
              0.0000000001::numeric, 'sell'),
             ('1796116490-B-97251.3-1.5000000000-0', '2026-12-01 09:14:50+00', 97251.3, 1.5, 'buy'),
             ('1796116497-S-97250.9-0.0090090093-0', '2026-12-01 09:14:57+00', 97250.9, 0.0090090093, 'sell'),
             ('1796116497-S-97250.9-0.0090090093-1', '2026-12-01 09:14:57+00', 97250.9, 0.0090090093, 'sell'),
             ('1796116498-B-97251.2-0.0124000000-0', '2026-12-01 09:14:58+00', 97251.2, 0.0124, 'buy')$$,
    'fetch_trades: taker side Buy/Sell, seconds, stable synthetic ids, identical trades kept apart');
SELECT is((SELECT count(*) FROM perps_stats.fetch_trades('hibachi', 'BTC', 2) WHERE ts >= '2026-12-01 09:14:57+00'),
          2::bigint, 'fetch_trades: max_rows keeps the newest');
SELECT is((SELECT array_agg(trade_id ORDER BY trade_id) FROM perps_stats.fetch_trades('hibachi', 'BTC')),
          (SELECT array_agg(trade_id ORDER BY trade_id) FROM perps_stats.fetch_trades('hibachi', 'BTC')),
          'fetch_trades: the same answer gives the same ids');
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_trades('hibachi', 'BTC', now() - interval '1 hour')$$, '0A000',
                 NULL, 'fetch_trades over a time range: Hibachi serves only recent trades');

-- ---- collect: one round for BTC (prices is asked once for ticker and funding)
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{hibachi}', '{BTC}');
SELECT results_eq(
    $$SELECT kind, rows, error IS NULL FROM r ORDER BY kind$$,
    $$VALUES ('funding', 1, true), ('open_interest', 1, true), ('orderbook', 18, true), ('ticker', 1, true)$$,
    'collect: ticker, open interest, funding and a book with its depth and 16 slippage rows');
SELECT is((SELECT last_price::text || ' ' || open_interest::text || ' ' || turnover_24h::text FROM perps_stats.tickers t
             JOIN perps_stats.markets m ON m.id = t.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'hibachi' AND m.symbol = 'BTC'),
          '97251.2 9.1134205713 7503062.418230987654321012', 'collect: the stored ticker');
SELECT is((SELECT f.rate::text || ' ' || f.funding_time FROM perps_stats.funding_rates f
             JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
            WHERE e.name = 'hibachi' AND m.symbol = 'BTC'),
          '0.000012 2026-12-01 10:00:00+00', 'collect: the funding estimate keyed by its settlement');

-- ---- errors
SELECT throws_ok($$SELECT * FROM perps_stats.fetch_open_interest('hibachi', 'NOPE')$$, '38000', NULL,
                 'an unknown symbol: Hibachi''s 400 {"status": "failed"}');

SELECT * FROM finish();
ROLLBACK;
