-- collect() for Hyperliquid BTC with coarser books (issue 19): the mock's
-- /hyperliquid/depth8 serves the project's hand-made BTC book at three
-- resolutions (test/payloads/hyperliquid/l2Book.depth8.*.json), the finest
-- stopping at 8 bps.  The collector asks for the finest, then nSigFigs 4
-- and 3, and stops there: 100 bps reached.
--
-- By hand, mid = (79999 + 80001) / 2 = 80000, 1 bps = 8 USD:
--   full  bids 79999 x0.5, 79990 x1, 79980 x1, 79960 x2, 79936 x1 (8 bps);
--         asks 80001 x0.5, 80010 x1, 80020 x1, 80040 x2, 80064 x1
--   nSigFigs=4 (10 USD buckets) bids 79990 x1.5, 79980 x1, 79960 x2, 79930 x3, 79920 x2,
--         79900 x3, 79840 x4 (20 bps); asks 80010 x1.5, 80020 x1, 80040 x2, 80070 x3,
--         80080 x2, 80100 x3, 80160 x4
--   nSigFigs=3 (100 USD buckets) bids 79900 x12.5, 79800 x10, 79600 x20, 79200 x30 (100 bps);
--         asks 80100 x12.5, 80200 x10, 80400 x20, 80800 x30
-- depth (bids >= 80000 - 8 * bps, asks <= 80000 + 8 * bps), from the finest book reaching:
--   1 bps (full): 79999 x0.5 = 39999.5; 80001 x0.5 = 40000.5
--   2.5 bps (full): + 79990 + 79980 = 199969.5; + 80010 + 80020 = 200030.5
--   5 bps (full): + 79960 x2 = 359889.5; + 80040 x2 = 360110.5
--   10 bps (nSigFigs=4, the full book ends at 8): 79990 x1.5 + 79980 + 79960 x2 + 79930 x3
--     + 79920 x2 = 119985 + 79980 + 159920 + 239790 + 159840 = 759515;
--     asks 120015 + 80020 + 160080 + 240210 + 160160 = 760485
--   20 bps (nSigFigs=4): + 79900 x3 + 79840 x4 = 759515 + 239700 + 319360 = 1318575;
--     + 80100 x3 + 80160 x4 = 760485 + 240300 + 320640 = 1321425
--   50 bps (nSigFigs=3): 79900 x12.5 + 79800 x10 + 79600 x20 = 998750 + 798000 + 1592000
--     = 3388750; 1001250 + 802000 + 1608000 = 3411250
--   100 bps (nSigFigs=3): + 79200 x30 = 5764750; + 80800 x30 = 5835250
--   max_bid_bps = (80000 - 79200) / 80000 * 1e4 = 100; max_ask_bps = 100
-- slippage (buy): the full asks (440174.5 quote, 5.5 BTC), then nSigFigs=4 beyond 80064:
--   80070 x3 (680384.5), 80080 x2 (840544.5), 80100 x3, 80160 x4 (1401484.5), then
--   nSigFigs=3 beyond 80160: 80200 x10 (2203484.5), 80400 x20 (3811484.5), 80800 x30 (6235484.5)
--   1M: 840544.5 for 10.5 BTC, 159455.5 at 80100: avg = 1e6 * 80100 / (10.5 * 80100 + 159455.5)
--       = 80100000000 / 1000505.5 = 80059.5299076317, (avg - 80000) / 8 = 7.4412384540 bps
--   5M: 3811484.5 for 47.5 BTC, 1188515.5 at 80800: avg = 404000000000 / 5026515.5
--       = 80373.7698610499, 46.7212326312 bps
--   10M: infeasible, the merged asks hold 6235484.5
\getenv mock_url PERPS_MOCK_URL
BEGIN;
SET LOCAL TimeZone = 'UTC';
SELECT plan(18);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hyperliquid/depth8' WHERE name = 'hyperliquid';
SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE r AS SELECT * FROM perps_stats.collect('{hyperliquid}', '{BTC}');
SELECT clock_timestamp() AS t1 \gset
CREATE TEMP TABLE m AS
    SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = 'hyperliquid' AND m.symbol = 'BTC';

SELECT results_eq($$SELECT kind, rows, error FROM r WHERE kind = 'orderbook'$$,
                  $$VALUES ('orderbook', 18, NULL::text)$$,
                  'hyperliquid BTC: a book, its depth row and 16 slippage rows');
-- (ingest_events.ts is the transaction's now(): a collect() event's range is its batch time)
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events
            WHERE market_id = (SELECT id FROM m) AND range_start BETWEEN :'t0' AND :'t1'), 0,
          'no coarser book failed');
SELECT is((SELECT bids FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1'),
          '{{79999,0.5},{79990,1},{79980,1},{79960,2},{79936,1}}'::numeric[],
          'the orderbooks row keeps the finest book');

CREATE TEMP TABLE l AS SELECT * FROM perps_stats.liquidity_depth
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT results_eq($$SELECT mid_price, bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_50bps, bid_100bps FROM l$$,
                  $$VALUES (80000::numeric, 39999.5, 199969.5, 359889.5, 759515::numeric, 1318575::numeric,
                            3388750::numeric, 5764750::numeric)$$,
                  'bid depth 1 to 100 bps from the merged books');
SELECT results_eq($$SELECT ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_50bps, ask_100bps FROM l$$,
                  $$VALUES (40000.5, 200030.5, 360110.5, 760485::numeric, 1321425::numeric, 3411250::numeric,
                            5835250::numeric)$$,
                  'ask depth 1 to 100 bps from the merged books');
SELECT ok((SELECT max_bid_bps >= 100 AND max_ask_bps >= 100 FROM l), 'complete at 100 bps on both sides');
SELECT results_eq($$SELECT max_bid_bps, max_ask_bps, resolution FROM l$$,
                  $$VALUES (100::numeric, 100::numeric, 'nSigFigs=3')$$,
                  'max bps over the merged books; the row names the coarsest book it used');

CREATE TEMP TABLE s AS SELECT * FROM perps_stats.slippage
    WHERE market_id = (SELECT id FROM m) AND ts BETWEEN :'t0' AND :'t1';
SELECT is((SELECT count(*)::int FROM s), 16, 'sixteen slippage rows');
SELECT results_eq($$SELECT avg_price, resolution FROM s WHERE amount = 1000 ORDER BY side$$,
                  $$VALUES (80001::numeric, 'full'), (79999::numeric, 'full')$$,
                  '1K fills in the finest book');
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), resolution FROM s WHERE amount = 1000000 AND side = 'buy'$$,
                  $$VALUES (80059.5299076317, 7.4412384540, 'nSigFigs=4')$$,
                  'buy 1M walks into nSigFigs=4');
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), resolution FROM s WHERE amount = 5000000 AND side = 'buy'$$,
                  $$VALUES (80373.7698610499, 46.7212326312, 'nSigFigs=3')$$,
                  'buy 5M walks into nSigFigs=3');
-- sell 5M: the bids beyond 79840 go on in nSigFigs=3: 79800 x10, 79600 x20 (3788515.5 for
-- 47.5 BTC in all), 1211484.5 at 79200: avg = 5e6 * 79200 / (47.5 * 79200 + 1211484.5)
-- = 396000000000 / 4973484.5 = 79622.2447260065, (80000 - avg) / 8 = 47.2194092492 bps
SELECT results_eq($$SELECT round(avg_price, 10), round(slippage_bps, 10), resolution FROM s WHERE amount = 5000000 AND side = 'sell'$$,
                  $$VALUES (79622.2447260065, 47.2194092492, 'nSigFigs=3')$$,
                  'sell 5M walks into nSigFigs=3');
SELECT results_eq($$SELECT feasible, resolution FROM s WHERE amount = 10000000 ORDER BY side$$,
                  $$VALUES (false, 'nSigFigs=3'), (false, 'nSigFigs=3')$$,
                  '10M is more than the merged books hold');
SELECT is((SELECT count(*)::int FROM s WHERE feasible), 14, 'every size up to 5M fills in the merged books');

-- the same books at one resolution: the finest alone leaves 10 bps and beyond short
SELECT is((SELECT bid_complete FROM perps_stats.liquidity_depth(
              '{{79999,0.5},{79990,1},{79980,1},{79960,2},{79936,1}}',
              '{{80001,0.5},{80010,1},{80020,1},{80040,2},{80064,1}}', '{10}')),
          false, 'the finest book alone does not reach 10 bps');

-- a coarser book that cannot be had: /depth8fail answers 422 to nSigFigs 3.  The
-- rows come from the full book and nSigFigs=4, which ends at 20 bps: 50 and 100 bps
-- are its lower bounds (every bid of it, 1318575; every ask, 1321425),
-- max_bid_bps = (80000 - 79840) / 80000 * 1e4 = 20; the failure is recorded
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/hyperliquid/depth8fail' WHERE name = 'hyperliquid';
SELECT clock_timestamp() AS t2 \gset
CREATE TEMP TABLE r2 AS SELECT * FROM perps_stats.collect('{hyperliquid}', '{BTC}');
SELECT clock_timestamp() AS t3 \gset
SELECT results_eq($$SELECT rows, error FROM r2 WHERE kind = 'orderbook'$$, $$VALUES (18, NULL::text)$$,
                  'a coarser book missing: the book and its rows are still written');
SELECT results_eq($$SELECT bid_20bps, bid_50bps, bid_100bps, ask_100bps, max_bid_bps, resolution FROM perps_stats.liquidity_depth
                     WHERE market_id = (SELECT id FROM m) AND ts BETWEEN '$$ || :'t2' || $$' AND '$$ || :'t3' || $$'$$,
                  $$VALUES (1318575::numeric, 1318575::numeric, 1318575::numeric, 1321425::numeric, 20::numeric, 'nSigFigs=4')$$,
                  'the rows come from the books there are: lower bounds beyond 20 bps');
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events
            WHERE market_id = (SELECT id FROM m) AND kind = 'error' AND source = 'collect'
              AND message LIKE 'BTC orderbook nSigFigs=3: %' AND range_start BETWEEN :'t2' AND :'t3'), 1,
          'the coarser book that failed is recorded in ingest_events, named');

ROLLBACK;
