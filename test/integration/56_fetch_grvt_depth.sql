-- GRVT's order book at the deepest documented depth (issue 19, point 3):
-- full/v1/book takes depth 10, 50, 100 or 500 (ApiOrderbookLevelsRequest of
-- GRVT's current api-spec; older versions capped it at 100), so collect()
-- (1000 levels wanted) asks for 500.  The mock's /grvt/deep serves a BTC
-- book of 600 levels a side (test/mock/venues/grvt.py, module docstring):
-- bid i at 79999.5 - i, ask i at 80000.5 + i (i = 0..599), size 1 each, the
-- first `depth` of them.  GRVT documents no coarser book any more, so the
-- stored row names no resolution.
--
-- By hand, with the 500 levels a side the venue serves: mid = (79999.5 +
-- 80000.5) / 2 = 80000, 1 bps = 8 USD; bids >= 80000 - 8 x bps, asks <=
-- 80000 + 8 x bps; n levels from the best sum to n x (first + last) / 2:
--   1 bps (8 USD):     8 levels, bids 8 x (79999.5 + 79992.5) / 2 = 639968,
--                      asks 8 x (80000.5 + 80007.5) / 2 = 640032
--   2.5 bps (20 USD):  20 levels, 20 x 79990 = 1599800; 20 x 80010 = 1600200
--   5 bps (40 USD):    40 levels, 40 x 79980 = 3199200; 40 x 80020 = 3200800
--   10 bps (80 USD):   80 levels, 80 x 79960 = 6396800; 80 x 80040 = 6403200
--   20 bps (160 USD):  160 levels, 160 x 79920 = 12787200; 160 x 80080 = 12812800
--   50 bps (400 USD):  400 levels, 400 x 79800 = 31920000; 400 x 80200 = 32080000
--   100 bps (800 USD): more than the 500 levels: all of them, a lower bound,
--                      500 x (79999.5 + 79500.5) / 2 = 39875000;
--                      500 x (80000.5 + 80499.5) / 2 = 40125000
--   reach: (80000 - 79500.5) / 8 = 62.4375 bps a side (at depth 100, as the
--   adapter asked before, it would have been (80000 - 79900.5) / 8 = 12.4375)
-- slippage 10M buy: S(n) = n x 80000.5 + n (n - 1) / 2 for the first n asks;
--   S(124) = 9920062 + 7626 = 9927688 <= 1e7 < S(125) = 10007812.5; the rest,
--   72312, at 80124.5: avg = 1e7 / (124 + 72312 / 80124.5) = 80062.4516000100,
--   (avg - 80000) / 8 = 7.8064500012 bps (feasible: the 500 asks hold 40125000;
--   at depth 100 they held 100 x 80050 = 8005000, not enough)
-- slippage 10M sell: T(n) = n x 79999.5 - n (n - 1) / 2; T(125) = 9999937.5 - 7750
--   = 9992187.5 <= 1e7 < T(126) = 10072062; the rest, 7812.5, at 79874.5:
--   avg = 1e7 / (125 + 7812.5 / 79874.5) = 79937.4507424597,
--   (80000 - avg) / 8 = 7.8186571925 bps
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(10);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/grvt/deep' WHERE name = 'grvt';

-- fetch_orderbook: the venue answers the documented depth that covers the depth asked
SELECT is((SELECT array_length(bids, 1) || ' ' || array_length(asks, 1) || ' ' || bids[300][1] || ' ' || asks[300][1]
             FROM perps_stats.fetch_orderbook('grvt', 'BTC', 300)),
          '300 300 79700.5 80299.5',
          'fetch_orderbook 300 levels: depth 500 asked, 300 kept; level 300 at 79999.5 - 299 and 80000.5 + 299');
SELECT is((SELECT array_length(bids, 1) || ' ' || bids[50][1] FROM perps_stats.fetch_orderbook('grvt', 'BTC', 50)),
          '50 79950.5', 'fetch_orderbook 50 levels: depth 50, the documented value');

SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{grvt}', '{BTC}');
SELECT clock_timestamp() AS t1 \gset
CREATE TEMP TABLE m AS
    SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = 'grvt' AND m.symbol = 'BTC';

SELECT results_eq($$SELECT kind, rows, error FROM r WHERE kind = 'orderbook'$$,
                  $$VALUES ('orderbook', 18, NULL::text)$$,
                  'collect: a book, its depth row and 16 slippage rows');

CREATE TEMP TABLE l AS SELECT * FROM perps_stats.liquidity_depth
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT results_eq($$SELECT mid_price, bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps FROM l$$,
                  $$VALUES (80000::numeric, 639968::numeric, 1599800::numeric, 3199200::numeric, 6396800::numeric,
                            12787200::numeric, 31920000::numeric, 39875000::numeric)$$,
                  'bid depth 1 to 100 bps from the 500 levels');
SELECT results_eq($$SELECT ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps FROM l$$,
                  $$VALUES (640032::numeric, 1600200::numeric, 3200800::numeric, 6403200::numeric,
                            12812800::numeric, 32080000::numeric, 40125000::numeric)$$,
                  'ask depth 1 to 100 bps from the 500 levels');
SELECT results_eq($$SELECT max_bid_bps, max_ask_bps, resolution FROM l$$,
                  $$VALUES (62.4375::numeric, 62.4375::numeric, NULL::text)$$,
                  'the 500 levels reach 62.4375 bps a side (100 levels: 12.4375); one book, no resolution');

CREATE TEMP TABLE s AS SELECT * FROM perps_stats.slippage
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), feasible FROM s
                     WHERE amount = 10000000 AND side = 'buy'$$,
                  $$VALUES (80062.4516000100, 7.8064500012, true)$$,
                  'buy 10M fills in the 500 asks (100 would hold 8005000)');
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), feasible FROM s
                     WHERE amount = 10000000 AND side = 'sell'$$,
                  $$VALUES (79937.4507424597, 7.8186571925, true)$$,
                  'sell 10M fills in the 500 bids');
SELECT is((SELECT count(*)::int FROM s WHERE feasible), 16, 'every standard size fills');

-- depth 1000 asked: the request's depth is 500, the deepest documented value
SELECT is((SELECT array_length(bids, 1) FROM perps_stats.fetch_orderbook('grvt', 'BTC', 1000)), 500,
          'fetch_orderbook 1000 levels: the venue''s 500, all it serves');

SELECT * FROM finish();
ROLLBACK;
