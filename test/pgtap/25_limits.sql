-- What a caller may hand the book functions, which PUBLIC (and so
-- perps_anon, over HTTP) can execute: at most 100 000 levels a side and
-- 1000 thresholds, beyond that program_limit_exceeded (54000); the largest
-- accepted input answers within statement_timeout = 1s, on the fast path and
-- on the general one, thresholds in any order (sorted in O(n log n)).
BEGIN;
SELECT plan(14);
SET LOCAL search_path = perps_stats, public;

-- 100 000 levels a side, 0.01 apart around 100 000; 1000 thresholds given highest first
CREATE TEMP TABLE lim AS
SELECT (SELECT array_agg(ARRAY[100000 - i * 0.01, 1] ORDER BY i) FROM generate_series(1, 100000) i) AS bids,
       (SELECT array_agg(ARRAY[100000 + i * 0.01, 1] ORDER BY i) FROM generate_series(1, 100000) i) AS asks,
       (SELECT array_agg(ARRAY[100000 - i * 0.01, 1] ORDER BY i) FROM generate_series(1, 100001) i) AS bids_over,
       (SELECT array_agg(i * 0.1 ORDER BY i DESC) FROM generate_series(1, 1000) i) AS bps,
       (SELECT array_agg(i * 0.1 ORDER BY i DESC) FROM generate_series(1, 1001) i) AS bps_over;

-- ---- beyond the limits: 54000 ----
SELECT throws_ok($$SELECT count(*) FROM lim, liquidity_depth(lim.bids, lim.asks, lim.bps_over)$$,
                 '54000', 'bps has 1001 thresholds, more than the 1000 allowed',
                 'liquidity_depth: 1001 thresholds');
SELECT throws_ok($$SELECT count(*) FROM lim, market_depth(lim.bids, lim.asks, lim.bps_over)$$,
                 '54000', 'pct has 1001 thresholds, more than the 1000 allowed',
                 'market_depth: 1001 fractions');
SELECT throws_ok($$SELECT count(*) FROM lim, liquidity_depth(lim.bids_over, lim.asks, '{1}')$$,
                 '54000', 'order book bids have 100001 levels, more than the 100000 allowed',
                 'liquidity_depth: 100 001 bid levels');
SELECT throws_ok($$SELECT count(*) FROM lim, market_depth(lim.asks, lim.bids_over, '{0.01}')$$,
                 '54000', 'order book asks have 100001 levels, more than the 100000 allowed',
                 'market_depth: 100 001 ask levels');
SELECT throws_ok($$SELECT mid_price(bids_over, asks) FROM lim$$, '54000', NULL, 'mid_price: 100 001 levels');
SELECT throws_ok($$SELECT spread_bps(bids_over, asks) FROM lim$$, '54000', NULL, 'spread_bps: 100 001 levels');
SELECT throws_ok($$SELECT count(*) FROM lim, slippage(lim.bids_over, lim.asks, 'buy', 1000)$$, '54000', NULL,
                 'slippage: 100 001 levels');
SELECT throws_ok($$SELECT liquidity_depth_row(bids_over, asks) FROM lim$$, '54000', NULL,
                 'liquidity_depth_row: 100 001 levels');
SELECT throws_ok($$SELECT count(*) FROM lim, slippage_rows(lim.bids_over, lim.asks)$$, '54000', NULL,
                 'slippage_rows: 100 001 levels');

-- ---- the largest accepted input ----
CREATE TEMP TABLE took (what text, ms float8, rows bigint, first_bps numeric, bid_at_first numeric);
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    INSERT INTO took
    SELECT 'largest', NULL, count(*), (array_agg(d.bps))[1], (array_agg(d.bid_notional))[1]
      FROM lim, liquidity_depth(lim.bids, lim.asks, lim.bps) d;
    UPDATE took SET ms = extract(epoch FROM clock_timestamp() - t0) * 1000 WHERE what = 'largest';
END $$;
SELECT is((SELECT rows FROM took WHERE what = 'largest'), 1000::bigint,
          'liquidity_depth: 100 000 levels a side and 1000 thresholds answer a row per threshold');
-- the first row is the first threshold given (100 bps), the thresholds were sorted only inside:
-- mid (99999.99 + 100000.01) / 2 = 100000, 100 bps below it is 99000, where the last level
-- (100000 - 1000.00) stands: all 100 000 bids of qty 1 count, notional = sum(100000 - 0.01 i)
-- = 10^10 - 0.01 * 100000 * 100001 / 2 = 10 000 000 000 - 50 000 500
SELECT is((SELECT first_bps || ' ' || bid_at_first FROM took WHERE what = 'largest'),
          '100.0 9949999500.00',
          'results in the order given: the first row is the highest threshold, with every level in it');
SELECT cmp_ok((SELECT ms FROM took WHERE what = 'largest'), '<', 1500::float8,
              'and within 1.5 s');

-- ---- the general path, with the largest input ----
-- prices beyond 128 bits and quantities of 30 decimals leave the fast one-pass walk
CREATE TEMP TABLE big AS
SELECT (SELECT array_agg(ARRAY[1e40 - i * 1e-30, 1e-30 * i] ORDER BY i) FROM generate_series(1, 100000) i) AS bids,
       (SELECT array_agg(ARRAY[1e40 + i * 1e-30, 1e-30 * i] ORDER BY i) FROM generate_series(1, 100000) i) AS asks;
SET LOCAL statement_timeout = '1s';
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM big, lim, liquidity_depth(big.bids, big.asks, lim.bps);
    INSERT INTO took VALUES ('general', extract(epoch FROM clock_timestamp() - t0) * 1000, n);
EXCEPTION WHEN query_canceled THEN
    INSERT INTO took VALUES ('general cancelled', extract(epoch FROM clock_timestamp() - t0) * 1000);
END $$;
RESET statement_timeout;
SELECT is((SELECT what || ' ' || rows FROM took WHERE what LIKE 'general%'), 'general 1000',
          'the general path with 100 000 levels of 40-digit prices and 1000 thresholds answers within statement_timeout = 1s');
SELECT cmp_ok((SELECT ms FROM took WHERE what LIKE 'general%'), '<', 1500::float8,
              'within 1.5 s of its start');

SELECT * FROM finish();
ROLLBACK;
