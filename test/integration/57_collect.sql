-- collect(): one snapshot round against the mock.  Expected values worked
-- out by hand from the payloads the mock serves for BTCUSDT on Binance
-- (test/payloads/binance and websocket/binance_usdm):
--   depth: fetchOrderBook.swap.json (7 levels a side),
--   mark price and funding: websocket/binance_usdm/markPriceUpdate.json,
--   open interest: fetchOpenInterest.json, 24 h ticker: 24hrTicker.json
--   (last 97214.30, change 1.463 %).
-- Book math, by hand (checked with Python's decimal at 50 digits):
--   mid = (97214.20 + 97214.30) / 2 = 97214.25
--   bids, cumulative p*q by distance from mid: 1 bps (>= 97204.528575): 97214.20 x 3.417
--     + 97213.10 x 0.052 + 97208.50 x 1.208 = 454663.8706; 2.5 bps (>= 97189.946...):
--     + 97199.90 x 0.615 = 514441.8091; 5 bps: + 97187.40 x 7.940 = 1286109.7651;
--     10 bps: + 97160.00 x 0.003 = 1286401.2451; 20 bps and more: + 97105.30 x 12.466 = 2496915.9149
--   asks: 1 bps (<= 97223.971425): 97214.30 x 2.188 + 97215.80 x 0.120 + 97221.60 x 0.734
--     = 295731.4388; 2.5 bps: + 97233.00 x 4.551 = 738238.8218; 5 bps: + 97251.70 x 0.009
--     = 739114.0871; 10 bps: + 97290.00 x 1.377 = 873082.4171; 20 bps and more: + 97340.20 x 9.802
--     = 1827211.0575
--   max_bid_bps = (97214.25 - 97105.30) / 97214.25 * 1e4 = 11.207204705071530...
--   max_ask_bps = (97340.20 - 97214.25) / 97214.25 * 1e4 = 12.955919528258460...
--   buy 1M: the first six ask levels (873082.4171 for 8.979 BTC), the rest, 126917.5829, at
--           97340.20: avg 97249.24873903325..., 3.60016551409... bps
--   buy 5M: infeasible (the asks hold 1827211.0575)
--   sell 10K: at 97214.20, (97214.25 - 97214.20) / 97214.25 * 1e4 = 0.00514327891... bps
\getenv mock_url PERPS_MOCK_URL
SET TimeZone = 'UTC';
SELECT plan(28);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || name,
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE :'mock_url' || '/' || name || '/aux' END;
SELECT perps_stats.refresh_markets('binance') > 0 AS binance_markets \gset

SELECT clock_timestamp() AS t0 \gset
CREATE TEMP TABLE r1 AS
    SELECT * FROM perps_stats.collect('{binance,bybit,hyperliquid}', '{BTC}');
SELECT clock_timestamp() AS t1 \gset
CREATE TEMP TABLE m AS
    SELECT id FROM perps_stats.markets
     WHERE symbol = 'BTC' AND exchange_id = (SELECT id FROM perps_stats.exchanges WHERE name = 'binance');

SELECT results_eq(
    $$SELECT exchange, kind, rows, error FROM r1 WHERE exchange = 'binance' ORDER BY kind$$,
    $$VALUES ('binance', 'funding', 1, NULL::text), ('binance', 'open_interest', 1, NULL),
             ('binance', 'orderbook', 18, NULL), ('binance', 'ticker', 1, NULL)$$,
    'binance BTC: ticker, open interest, funding, and a book with 1 depth row and 16 slippage rows');
SELECT is((SELECT count(*)::int FROM r1 WHERE error IS NULL AND rows > 0), 12,
          'all four kinds written on binance, bybit and hyperliquid');

-- one batch timestamp for every row of the round (rows of this round: the
-- collector worker of the test cluster may add rounds of its own)
SELECT is((SELECT count(DISTINCT ts)::int FROM (
              SELECT ts FROM perps_stats.tickers UNION ALL SELECT ts FROM perps_stats.open_interest
              UNION ALL SELECT ts FROM perps_stats.orderbooks UNION ALL SELECT ts FROM perps_stats.liquidity_depth
              UNION ALL SELECT ts FROM perps_stats.slippage) t
            WHERE ts BETWEEN :'t0' AND :'t1'), 1, 'one batch timestamp');
SELECT is((SELECT count(*)::int FROM perps_stats.liquidity_depth WHERE ts BETWEEN :'t0' AND :'t1'), 3,
          'a depth row for each of the three books');

SELECT is((SELECT last_price FROM perps_stats.tickers WHERE market_id = (SELECT id FROM m)), 97214.30,
          'ticker last price');
SELECT is((SELECT price_change_pct FROM perps_stats.tickers WHERE market_id = (SELECT id FROM m)), 0.01463,
          'ticker 24 h change 1.463 % as a fraction');
SELECT is((SELECT mark_price FROM perps_stats.tickers WHERE market_id = (SELECT id FROM m)), 97226.41580435,
          'ticker mark price from the premium index');
SELECT is((SELECT open_interest FROM perps_stats.open_interest WHERE market_id = (SELECT id FROM m)), 84213.507,
          'open interest in BTC');
SELECT is((SELECT rate FROM perps_stats.funding_rates WHERE market_id = (SELECT id FROM m)), 0.00007513,
          'funding rate');
SELECT is((SELECT bids FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM m)),
          '{{97214.20,3.417},{97213.10,0.052},{97208.50,1.208},{97199.90,0.615},{97187.40,7.940},{97160.00,0.003},{97105.30,12.466}}'::numeric[],
          'stored book: bids best first');

SELECT ok((SELECT row(mid_price, bid_1bps, bid_2_5bps, bid_5bps, bid_10bps, bid_20bps, bid_100bps,
                      ask_1bps, ask_2_5bps, ask_5bps, ask_10bps, ask_20bps, ask_100bps)
                    = row(97214.25, 454663.8706, 514441.8091, 1286109.7651, 1286401.2451, 2496915.9149, 2496915.9149,
                          295731.4388, 738238.8218, 739114.0871, 873082.4171, 1827211.0575, 1827211.0575)
              FROM perps_stats.liquidity_depth WHERE market_id = (SELECT id FROM m)),
          'liquidity depth from the full book');
SELECT is((SELECT round(max_bid_bps, 12) FROM perps_stats.liquidity_depth WHERE market_id = (SELECT id FROM m)),
          11.207204705072, 'deepest bid level in bps');
SELECT is((SELECT round(max_ask_bps, 12) FROM perps_stats.liquidity_depth WHERE market_id = (SELECT id FROM m)),
          12.955919528258, 'deepest ask level in bps');

SELECT is((SELECT count(*)::int FROM perps_stats.slippage WHERE market_id = (SELECT id FROM m)), 16,
          'sixteen slippage rows: 8 sizes, buy and sell');
SELECT is((SELECT row(round(avg_price, 10), round(slippage_bps, 10), feasible)::text FROM perps_stats.slippage
            WHERE market_id = (SELECT id FROM m) AND amount = 1000000 AND side = 'buy'),
          row(97249.2487390333::numeric, 3.6001655141::numeric, true)::text, 'buy 1M');
SELECT is((SELECT row(avg_price, slippage_bps, feasible)::text FROM perps_stats.slippage
            WHERE market_id = (SELECT id FROM m) AND amount = 5000000 AND side = 'buy'),
          row(NULL::numeric, NULL::numeric, false)::text, 'buy 5M is infeasible');
SELECT ok((SELECT row(avg_price, round(slippage_bps, 10)) = row(97214.20, 0.0051432789)
              FROM perps_stats.slippage WHERE market_id = (SELECT id FROM m) AND amount = 10000 AND side = 'sell'),
          'sell 10K');

-- a venue answering garbage (no such path) or nothing at all leaves the
-- others' rows written and an ingest_events row for itself
UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/nowhere' WHERE name = 'bybit';
UPDATE perps_stats.exchanges SET rest_url = 'http://127.0.0.1:9' WHERE name = 'hyperliquid';
SET perps_stats.http_retry_budget = 500;
CREATE TEMP TABLE r2 AS
    SELECT * FROM perps_stats.collect('{binance,bybit,hyperliquid}', '{BTC}');
SELECT is((SELECT string_agg(kind || '=' || rows, ',' ORDER BY kind) FROM r2 WHERE exchange = 'binance' AND error IS NULL),
          'funding=0,open_interest=1,orderbook=18,ticker=1',
          'binance still collected (the funding row of this funding time is already stored)');
SELECT is((SELECT count(*)::int FROM r2 WHERE exchange IN ('bybit', 'hyperliquid') AND error IS NOT NULL), 8,
          'every kind of the failing venues reports its error');
-- (the collector worker of the test cluster records its own rounds too:
-- count the events of this round, whose range is its batch timestamp)
SELECT is((SELECT count(*)::int FROM perps_stats.ingest_events e JOIN perps_stats.exchanges x ON x.id = e.exchange_id
            WHERE e.source = 'collect' AND e.kind = 'error' AND x.name IN ('bybit', 'hyperliquid')
              AND e.market_id IS NOT NULL
              AND e.range_start = (SELECT max(ts) FROM perps_stats.tickers WHERE market_id = (SELECT id FROM m))),
          8, 'one ingest_events row per failed market and kind, naming the market');
SELECT is((SELECT count(DISTINCT ts)::int FROM perps_stats.tickers WHERE market_id = (SELECT id FROM m)), 2,
          'the second round added its binance ticker');

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || name,
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE :'mock_url' || '/' || name || '/aux' END;
RESET perps_stats.http_retry_budget;
-- all twelve venues in one round: every kind written for BTC on each
-- (funding rows of a funding time already stored are not written twice)
CREATE TEMP TABLE r3_time AS SELECT clock_timestamp() AS t;
CREATE TEMP TABLE r3 AS SELECT * FROM perps_stats.collect(NULL, '{BTC}');
SELECT is((SELECT string_agg(exchange || ':' || (count_ok)::text, ',' ORDER BY exchange)
             FROM (SELECT exchange, count(*) FILTER (WHERE error IS NULL) AS count_ok FROM r3 GROUP BY 1) x),
          'aster:3,binance:4,bybit:4,extended:4,grvt:4,hibachi:4,hyperliquid:4,kucoin:4,lighter:4,nado:4,pacifica:4,paradex:4',
          'collect() over all twelve venues: four kinds each without error (Aster: no open interest, see 50_fetch_aster)');
SELECT is((SELECT count(*)::int FROM r3 WHERE kind = 'orderbook' AND rows = 18), 12,
          'a book, its depth row and 16 slippage rows on each venue');
-- funding rows are keyed by the settlement the rate is paid at (the next
-- funding time), as the streams and the funding history key theirs: Binance
-- nextFundingTime 1795449600000 (2026-11-23 16:00), Bybit 1794931200000
-- (2026-11-17 16:00, test/payloads/bybit/fetchTicker.json), KuCoin timePoint 1794988800000 + 8 h (2026-11-18
-- 16:00), Extended nextFundingRate 1795446000000 (2026-11-23 15:00, test/payloads/extended/
-- fetchTicker.json), Hyperliquid and Lighter the next whole hour; Paradex funds
-- continuously (no settlement): the summary's time, 1794925925418 ms
SELECT results_eq(
    $$SELECT e.name, f.funding_time FROM perps_stats.funding_rates f
        JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id
       WHERE m.symbol = 'BTC' AND e.name IN ('binance', 'bybit', 'extended', 'kucoin', 'paradex') ORDER BY 1$$,
    $$VALUES ('binance'::text, '2026-11-23 16:00+00'::timestamptz), ('bybit', '2026-11-17 16:00+00'),
             ('extended', '2026-11-23 15:00+00'),
             ('kucoin', '2026-11-18 16:00+00'), ('paradex', '2026-11-17 14:32:05.418+00')$$,
    'funding rows keyed by the next funding time (Paradex: the time of the rate)');
SELECT is((SELECT count(*)::int FROM perps_stats.funding_rates f
             JOIN perps_stats.markets m ON m.id = f.market_id JOIN perps_stats.exchanges e ON e.id = m.exchange_id, r3_time
            WHERE m.symbol = 'BTC' AND e.name IN ('hyperliquid', 'lighter')
              AND f.funding_time > r3_time.t AND f.funding_time <= r3_time.t + interval '61 minutes'
              AND date_trunc('hour', f.funding_time) = f.funding_time), 2,
          'hyperliquid and lighter: the next whole hour after the round');
-- Extended's BTC-USD (test/payloads/extended): the statistics carry no time and
-- the book none either, so every row takes the round's batch time; open
-- interest 12725.43210 BTC (openInterestBase) and 1234567890.123456789012345678
-- USD, mark 97012.345678901234567890123, book mid (97014.2 + 97014.4) / 2 = 97014.3
SELECT results_eq(
    $$SELECT o.open_interest, o.open_interest_notional, t.mark_price, d.mid_price, t.ts = o.ts AND o.ts = d.ts
        FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
        JOIN perps_stats.open_interest o ON o.market_id = m.id
        JOIN perps_stats.tickers t ON t.market_id = m.id
        JOIN perps_stats.liquidity_depth d ON d.market_id = m.id
       WHERE e.name = 'extended' AND m.symbol = 'BTC'$$,
    $$VALUES (12725.4321::numeric, 1234567890.123456789012345678::numeric, 97012.345678901234567890123::numeric,
              97014.3::numeric, true)$$,
    'extended: open interest in BTC and USD, the exact mark price, the book''s mid, one batch time');
-- KuCoin's XBTUSDTM book is in contracts of 0.001 BTC (level2 snapshot of
-- test/payloads: 8 levels a side, best bid 97016.8 x 1873, best ask 97016.9
-- x 27); mid 97016.85, the 1 bps band 97007.148315 .. 97026.551685 holds 5
-- levels a side: bids 97016.8 x 1.873 + 97016.5 x 0.402 + 97015.0 x 0.005 +
-- 97011.2 x 12.040 + 97009.9 x 0.077 = 181712.4664 + 39000.633 + 485.075 +
-- 1168014.848 + 7469.7623 = 1396682.7847; asks 97016.9 x 0.027 + 97017.3 x
-- 1.190 + 97018.0 x 6.425 + 97020.6 x 0.300 + 97024.4 x 0.009 = 2619.4563 +
-- 115450.587 + 623340.65 + 29106.18 + 873.2196 = 771390.0929
CREATE TEMP TABLE kc AS
    SELECT m.id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = 'kucoin' AND m.symbol = 'BTC';
SELECT is((SELECT bids FROM perps_stats.orderbooks WHERE market_id = (SELECT id FROM kc) ORDER BY ts DESC LIMIT 1),
          '{{97016.8,1.873},{97016.5,0.402},{97015.0,0.005},{97011.2,12.040},{97009.9,0.077},{97004.1,3.150},{96998.7,0.860},{96990.0,25.000}}'::numeric[],
          'kucoin book in BTC, not contracts');
SELECT ok((SELECT row(mid_price, bid_1bps, ask_1bps) = row(97016.85, 1396682.7847, 771390.0929)
             FROM perps_stats.liquidity_depth WHERE market_id = (SELECT id FROM kc) ORDER BY ts DESC LIMIT 1),
          'kucoin depth within 1 bps, in quote currency');

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || name,
       aux_url = CASE WHEN aux_url IS NULL THEN NULL ELSE :'mock_url' || '/' || name || '/aux' END;
-- leave the tables as the tests after this one expect them: empty (the
-- venues' funding times are in the past, so those rows sit in default partitions)
TRUNCATE perps_stats.tickers, perps_stats.open_interest, perps_stats.funding_rates,
         perps_stats.orderbooks, perps_stats.liquidity_depth, perps_stats.slippage;
SELECT * FROM finish();
