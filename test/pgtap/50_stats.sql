-- The analyst's statistics (sql/install/24_stats.sql, src/stats.c): the
-- summary aggregate, market_stats, market_histogram, funding_stats and
-- liquidity_distribution on small hand-made rows whose figures are worked
-- out by hand in the comments, the same through the perps_api RPCs as
-- perps_anon, the summary against an independent exact computation on
-- 20001 values, and every error with its SQLSTATE.
BEGIN;
SELECT plan(94);
SET LOCAL search_path = perps_stats, public;

-- ---------------------------------------------------------------------------
-- Declarations and privileges
-- ---------------------------------------------------------------------------
SELECT has_function('perps_stats', 'summary', ARRAY['numeric'], 'summary(numeric) exists');
SELECT is((SELECT aggfinalmodify FROM pg_aggregate WHERE aggfnoid = 'perps_stats.summary(numeric)'::regprocedure),
          'w', 'summary sorts its state in place: FINALFUNC_MODIFY = READ_WRITE');
SELECT ok(to_regproc('perps_api.market_stats') IS NOT NULL AND to_regproc('perps_api.market_histogram') IS NOT NULL
          AND to_regproc('perps_api.funding_stats') IS NOT NULL AND to_regproc('perps_api.liquidity_distribution') IS NOT NULL,
          'the statistics RPCs are in perps_api');
SELECT function_privs_are('perps_api', 'market_stats',
    ARRAY['text[]', 'text', 'text', 'timestamp with time zone', 'timestamp with time zone', 'text', 'boolean'],
    'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'liquidity_distribution',
    ARRAY['numeric[]', 'text[]', 'text[]', 'timestamp with time zone', 'interval'], 'perps_anon', ARRAY['EXECUTE']);
SELECT ok(NOT has_function_privilege('public', 'perps_api.funding_stats(text, text, timestamptz, timestamptz)', 'EXECUTE'),
          'PUBLIC may not call the RPCs');

-- ---------------------------------------------------------------------------
-- summary: hand-computed
-- ---------------------------------------------------------------------------
-- {1.5, 2, 3.25, 10} and a NULL: n = 4, mean 16.75 / 4 = 4.1875;
-- median h = 3 * 0.5 = 1.5: 2 + 0.5 * (3.25 - 2) = 2.625;
-- p5 h = 0.15: 1.5 + 0.15 * 0.5 = 1.575; p95 h = 2.85: 3.25 + 0.85 * 6.75 = 8.9875;
-- p99 h = 2.97: 3.25 + 0.97 * 6.75 = 9.7975
SELECT is((SELECT summary(x) FROM (VALUES (1.5), (2), (NULL), (3.25), (10)) v(x)),
          ROW(4, 1.5, 4.1875, 2.625, 1.575, 8.9875, 9.7975, 10)::numeric_summary,
          'summary of four values of mixed scales (a NULL skipped)');
SELECT is((SELECT (summary(x)).mean::text FROM (VALUES (1.5), (2), (3.25), (10)) v(x)),
          (SELECT avg(x)::text FROM (VALUES (1.5), (2), (3.25), (10)) v(x)),
          'the mean has avg(numeric)''s value and scale');
SELECT is((SELECT summary(x) FROM (VALUES (7.25)) v(x)), ROW(1, 7.25, 7.25, 7.25, 7.25, 7.25, 7.25, 7.25)::numeric_summary,
          'one value: every figure is that value');
SELECT is((SELECT summary(x) FROM (SELECT 1::numeric WHERE false) v(x)),
          ROW(0, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::numeric_summary, 'no values: count 0, NULLs');
-- 1..100: median h = 49.5: 50.5; p5 h = 4.95: 5 + 0.95 = 5.95; p95 h = 94.05: 95.05; p99 h = 98.01: 99.01
SELECT is((SELECT summary(x::numeric) FROM generate_series(100, 1, -1) x),
          ROW(100, 1, 50.5, 50.5, 5.95, 95.05, 99.01, 100)::numeric_summary, '1..100 given in descending order');
-- negative values sort below positive ones: {-3, -1, 0.5, 2}: median -1 + 0.5 * 1.5 = -0.25,
-- mean -1.5 / 4 = -0.375, p5 h = 0.15: -3 + 0.15 * 2 = -2.7
SELECT is((SELECT summary(x) FROM (VALUES (2), (-1), (0.5), (-3)) v(x)),
          ROW(4, -3, -0.375, -0.25, -2.7, 1.775, 1.955, 2)::numeric_summary,
          'negative values (p95 h = 2.85: 0.5 + 0.85 * 1.5 = 1.775; p99 h = 2.97: 0.5 + 0.97 * 1.5 = 1.955)');
-- beyond 64 bits: {2, 1e30}: median (1e30 + 2) / 2, p5 2 + 0.05 * (1e30 - 2)
SELECT is((SELECT summary(x) FROM (VALUES (1e30), (2)) v(x)),
          ROW(2, 2, 500000000000000000000000000001, 500000000000000000000000000001,
              50000000000000000000000000001.9, 950000000000000000000000000000.1,
              990000000000000000000000000000.02, 1e30)::numeric_summary,
          'values beyond 64 bits take the numeric path, exactly');
-- 19 decimals: {0.0000000000000000001, 0.0000000000000000003}: median 2e-19
SELECT is((SELECT (summary(x)).median FROM (VALUES (0.0000000000000000001), (0.0000000000000000003)) v(x)),
          0.0000000000000000002, 'more than 18 decimals take the numeric path, exactly');
-- a value with more decimals than those before rescales them: {5, 0.001, 7}: median 5
SELECT is((SELECT summary(x) FROM (VALUES (5), (0.001), (7)) v(x)),
          ROW(3, 0.001, 12.001 / 3, 5, 0.001 + 0.1 * 4.999, 5 + 0.9 * 2, 5 + 0.98 * 2, 7)::numeric_summary,
          'a later value with more decimals rescales the earlier ones');
-- against an independent exact computation: percentile positions picked
-- from the sorted array, 20001 values of 0 to 6 decimals, some negative
CREATE TEMP TABLE big AS
    SELECT round((hashint4(i)::numeric / 1000), i % 7) AS x FROM generate_series(1, 20001) i;
SELECT is((SELECT summary(x) FROM big),
          (WITH s AS (SELECT array_agg(x ORDER BY x) AS a, count(*) AS n, avg(x) AS mean FROM big),
                p AS (SELECT s.*, k, (s.n - 1) * k AS h FROM s, unnest(ARRAY[0.5, 0.05, 0.95, 0.99]) WITH ORDINALITY u(k, o))
           SELECT ROW(min(n), min(a[1]), min(mean),
                      min(v) FILTER (WHERE k = 0.5), min(v) FILTER (WHERE k = 0.05),
                      min(v) FILTER (WHERE k = 0.95), min(v) FILTER (WHERE k = 0.99), min(a[n]))::numeric_summary
             FROM (SELECT p.*, a[floor(h)::int + 1] + (h - floor(h)) * (a[ceil(h)::int + 1] - a[floor(h)::int + 1]) AS v FROM p) q),
          '20001 values: equal to the exact figures computed from the sorted array');

SELECT throws_ok($$SELECT summary(x) FROM (VALUES (1::numeric), ('NaN')) v(x)$$, '22023',
    'summary does not accept NaN or infinity', 'NaN is refused');
SELECT throws_ok($$SELECT summary(x) FROM (VALUES ('-Infinity'::numeric)) v(x)$$, '22023',
    'summary does not accept NaN or infinity', 'infinity is refused');

-- ---------------------------------------------------------------------------
-- The rows: three markets, 2026-03-01 (partitions from 2026-02-27 to 2026-03-02)
-- ---------------------------------------------------------------------------
SET LOCAL client_min_messages = warning;
TRUNCATE markets, tickers, funding_rates, liquidity_depth CASCADE;
RESET client_min_messages;
DO $$ BEGIN PERFORM perps_stats.create_partitions_for_range('2026-02-27', '2026-03-02'); END $$;
INSERT INTO markets (id, exchange_id, symbol, native_symbol, base, quote, funding_interval_hours) VALUES
    (9201, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT', 8),      -- binance
    (9202, 2, 'BTC', 'BTCUSDT', 'BTC', 'USDT', 8),      -- bybit
    (9203, 1, 'ETH', 'ETHUSDT', 'ETH', 'USDT', NULL),   -- binance
    (9204, 2, 'ETH', 'ETHUSDT', 'ETH', 'USDT', 8);      -- bybit
INSERT INTO tickers (market_id, ts, last_price, mark_price, index_price, volume_24h, turnover_24h,
                     open_interest, open_interest_notional) VALUES
    -- binance BTC.  oi_rate = oi * 100 / volume: 50, 25, (volume 0: left out), 75;
    -- notional: 50500*100/101000 = 50, 51000*100/204000 = 25, -, 60000*100/76800 = 78.125;
    -- mark deviation |last - mark| * 100 / mark: 1, 2, 0, 4;
    -- index deviation: 1, 2, 25*100/125 = 20, 16*100/80 = 20
    (9201, '2026-03-01 00:00+00', 101, 100, 100, 1000, 101000, 500, 50500),
    (9201, '2026-03-01 01:00+00', 102, 100, 100, 2000, 204000, 500, 51000),
    (9201, '2026-03-01 02:00+00', 100, 100, 125,    0,      0, 400, 40000),
    (9201, '2026-03-01 03:00+00',  96, 100,  80,  800,  76800, 600, 60000),
    -- outside [2026-03-01, 2026-03-02): oi_rate 100 and 1000, never counted
    (9201, '2026-02-28 23:59:59+00', 50, 100, 100, 100, 10000, 100, 10000),
    (9201, '2026-03-02 00:00+00',    50, 100, 100, 100, 10000, 1000, 100000),
    -- bybit BTC: oi_rate 20, 40
    (9202, '2026-03-01 00:30+00', 100, 100, 100, 100, 10000, 20, 2000),
    (9202, '2026-03-01 01:30+00', 100, 100, 100, 100, 10000, 40, 4000),
    -- binance ETH: oi_rate 10
    (9203, '2026-03-01 00:00+00', 10, 10, 10, 10, 100, 1, 10);

-- ---------------------------------------------------------------------------
-- market_stats
-- ---------------------------------------------------------------------------
-- binance BTC oi_rate {25, 50, 75}: mean 50, median 50, p5 h = 0.1: 25 + 2.5 = 27.5,
-- p95 h = 1.9: 50 + 0.9 * 25 = 72.5, p99 h = 1.98: 50 + 0.98 * 25 = 74.5
-- bybit BTC {20, 40}: mean 30, median 30, p5 20 + 0.05 * 20 = 21, p95 39, p99 39.8
-- binance ETH {10}
SELECT results_eq(
    $$SELECT exchange, symbol, metric, count, min, mean, median, p5, p95, p99, max
        FROM market_stats('{oi_rate}', since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES ('binance', 'BTC', 'oi_rate', 3::bigint, 25::numeric, 50::numeric, 50::numeric, 27.5, 72.5, 74.5, 75::numeric),
             ('binance', 'ETH', 'oi_rate', 1, 10, 10, 10, 10, 10, 10, 10),
             ('bybit', 'BTC', 'oi_rate', 2, 20, 30, 30, 21, 39, 39.8, 40)$$,
    'oi_rate per market: rows with a zero volume and rows outside [since, until) left out');
-- notional {25, 50, 78.125}: p95 h = 1.9: 50 + 0.9 * 28.125 = 75.3125, p99 50 + 0.98 * 28.125 = 77.5625,
-- mean 153.125 / 3 = 51.041666...
SELECT results_eq(
    $$SELECT count, min, round(mean, 6), median, p5, p95, p99, max
        FROM market_stats('{oi_rate}', 'binance', 'BTC', '2026-03-01', '2026-03-02', notional => true)$$,
    $$VALUES (3::bigint, 25::numeric, 51.041667, 50::numeric, 27.5, 75.3125, 77.5625, 78.125)$$,
    'oi_rate in quote notional: open_interest_notional / turnover_24h');
-- price_deviation: mark {0, 1, 2, 4}: mean 1.75, median 1.5, p5 0.15, p95 h = 2.85: 2 + 0.85 * 2 = 3.7,
-- p99 2 + 0.97 * 2 = 3.94; index {1, 2, 20, 20}: mean 10.75, median 2 + 0.5 * 18 = 11, p5 1.15, p95 20
SELECT results_eq(
    $$SELECT metric, count, min, mean, median, p5, p95, p99, max
        FROM market_stats('{price_deviation}', 'binance', 'BTC', '2026-03-01', '2026-03-02')$$,
    $$VALUES ('mark_deviation', 4::bigint, 0::numeric, 1.75, 1.5, 0.15, 3.7, 3.94, 4::numeric),
             ('index_deviation', 4, 1, 10.75, 11, 1.15, 20, 20, 20)$$,
    'price_deviation: against mark and against index, in percent');
-- by symbol: BTC {20, 25, 40, 50, 75}: mean 42, median 40, p5 h = 0.2: 21, p95 h = 3.8: 70, p99 74
SELECT results_eq(
    $$SELECT exchange, symbol, count, min, mean, median, p5, p95, p99, max
        FROM market_stats(since => '2026-03-01', until => '2026-03-02', "by" => 'symbol')$$,
    $$VALUES (NULL::text, 'BTC', 5::bigint, 20::numeric, 42::numeric, 40::numeric, 21::numeric, 70::numeric, 74::numeric, 75::numeric),
             (NULL, 'ETH', 1, 10, 10, 10, 10, 10, 10, 10)$$,
    'by symbol: the venues of a symbol together');
-- by exchange: binance {10, 25, 50, 75}: mean 40, median 37.5, p5 10 + 0.15 * 15 = 12.25,
-- p95 50 + 0.85 * 25 = 71.25, p99 74.25
SELECT results_eq(
    $$SELECT exchange, symbol, count, mean, median, p5, p95, p99
        FROM market_stats(since => '2026-03-01', until => '2026-03-02', "by" => 'exchange')$$,
    $$VALUES ('binance', NULL::text, 4::bigint, 40::numeric, 37.5, 12.25, 71.25, 74.25),
             ('bybit', NULL, 2, 30, 30, 21, 39, 39.8)$$,
    'by exchange: the symbols of a venue together');
-- all: {10, 20, 25, 40, 50, 75}: median h = 2.5: 32.5, p5 h = 0.25: 12.5, p95 h = 4.75: 68.75, p99 73.75
SELECT results_eq(
    $$SELECT count, median, p5, p95, p99 FROM market_stats(since => '2026-03-01', until => '2026-03-02', "by" => 'all')$$,
    $$VALUES (6::bigint, 32.5, 12.5, 68.75, 73.75)$$, 'all markets together');
-- a ticker column: binance BTC open_interest {500, 500, 400, 600}
SELECT results_eq(
    $$SELECT metric, count, min, mean, median, max
        FROM market_stats('{open_interest,turnover_24h}', 'binance', 'BTC', '2026-03-01', '2026-03-02')$$,
    $$VALUES ('open_interest', 4::bigint, 400::numeric, 500::numeric, 500::numeric, 600::numeric),
             ('turnover_24h', 4, 0, 381800 / 4.0, (76800 + 101000) / 2.0, 204000)$$,
    'ticker columns: open interest (base) and turnover (quote)');
SELECT is((SELECT count(*)::int FROM market_stats(symbol => 'DOGE', since => '2026-03-01', until => '2026-03-02')),
          0, 'no rows for a symbol without tickers');

-- ---------------------------------------------------------------------------
-- market_histogram
-- ---------------------------------------------------------------------------
-- oi_rate {10, 20, 25, 40, 50, 75}, 4 bins over [10, 75], width 16.25:
-- [10, 26.25): 10, 20, 25; [26.25, 42.5): 40; [42.5, 58.75): 50; [58.75, 75]: 75
SELECT results_eq(
    $$SELECT bin, lower, upper, count FROM market_histogram('oi_rate', 4, since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES (1, 10::numeric, 26.25, 3::bigint), (2, 26.25, 42.5, 1), (3, 42.5, 58.75, 1), (4, 58.75, 75::numeric, 1)$$,
    'equal-width bins over [min, max], the maximum in the last bin');
-- edges {0, 25, 50}: below 0: none; [0, 25): 10, 20; [25, 50): 25, 40; 50 and above: 50, 75
SELECT results_eq(
    $$SELECT bin, lower, upper, count FROM market_histogram('oi_rate', edges => '{0,25,50}', since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES (0, NULL::numeric, 0::numeric, 0::bigint), (1, 0, 25, 2), (2, 25, 50, 2), (3, 50, NULL, 2)$$,
    'given edges, with the bins below the first and from the last');
-- one value: one bin [10, 10] holding it, the others empty
SELECT results_eq(
    $$SELECT bin, count FROM market_histogram('oi_rate', 2, symbol => 'ETH', since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES (1, 1::bigint), (2, 0)$$, 'min = max: every value in the first bin');
SELECT is((SELECT count(*)::int FROM market_histogram('oi_rate', 3, symbol => 'DOGE', since => '2026-03-01', until => '2026-03-02')),
          0, 'no values: no bins');

-- _histogram(x, bins), market_histogram's one scan: (lo, hi, counts).
-- {1.5, 2.25, 3, 2.250}, 3 bins over [1.5, 3], width 0.5: [1.5, 2): 1.5; [2, 2.5): 2.25, 2.250;
-- [2.5, 3]: 3.  lo and hi print as the values do (1.5, 3), not at the common scale (2)
SELECT is((SELECT ROW((s.h).lo::text, (s.h).hi::text, (s.h).counts)::text
             FROM (SELECT _histogram(x, 3) AS h FROM (VALUES (1.5), (2.25), (3), (2.250)) v(x)) s),
          '(1.5,3,"{1,2,1}")', '_histogram: min, max and counts, in one scan');
-- equal values of different scales: min() and max() keep the later one (1.00 and 2); every
-- value on a bin's lower edge is in that bin: {0, 1, 2, 3} in 3 bins: {1, 1, 2}
SELECT is((SELECT ROW((s.h).lo::text, (s.h).hi::text)::text
             FROM (SELECT _histogram(x, 1) AS h FROM (VALUES (2.0), (1), (2), (1.00)) v(x)) s),
          '(1.00,2)', '_histogram: of equal values, min and max are the later, as min() and max()');
SELECT is((SELECT (_histogram(x, 3)).counts FROM (VALUES (0), (1), (2), (3)) v(x)),
          '{1,1,2}'::bigint[], '_histogram: a value on an edge is in the bin above it, the maximum in the last');
-- just below an edge by 10^-30: still in the bin below (a double would round it up)
SELECT is((SELECT (_histogram(x, 3)).counts
             FROM (VALUES (0), (0.999999999999999999999999999999), (1), (3)) v(x)),
          '{2,1,1}'::bigint[], '_histogram: 1 - 1e-30 of [0, 3] in 3 bins is in bin 1');
SELECT is((SELECT ROW((s.h).lo, (s.h).hi, (s.h).counts)::text FROM (SELECT _histogram(x, 4) AS h FROM (VALUES (NULL::numeric)) v(x)) s),
          '(,,)', '_histogram: no values, all NULL');
SELECT is((SELECT (_histogram(x, 2)).counts FROM (VALUES (5), (5), (NULL)) v(x)),
          '{2,0}'::bigint[], '_histogram: min = max, every value in the first bin; NULLs skipped');
-- a value of 45 digits is outside the 128-bit form: lo and hi, no counts (market_histogram
-- then counts with width_bucket)
SELECT is((SELECT ROW((s.h).lo, (s.h).hi, (s.h).counts)::text
             FROM (SELECT _histogram(x, 2) AS h FROM (VALUES (1), (123456789012345678901234567890123456789012345), (-7)) v(x)) s),
          '(-7,123456789012345678901234567890123456789012345,)', '_histogram: beyond 128 bits, min and max only');
SELECT throws_ok($$SELECT _histogram(x, 0) FROM (VALUES (1)) v(x)$$, '22023',
    'bins must be between 1 and 1000', '_histogram: zero bins');
SELECT throws_ok($$SELECT _histogram(x, 2) FROM (VALUES (1::numeric), ('NaN')) v(x)$$, '22023',
    'market_histogram does not accept NaN or infinity', '_histogram: NaN is refused');
-- against width_bucket, on 20001 quotients of 20 significant digits (their scales differ
-- row to row): the one scan's counts are PostgreSQL's own, bin for bin
CREATE TABLE hist_q AS
    SELECT (hashint4(i) % 1000003)::numeric / 7919 AS x FROM generate_series(0, 20000) i;
SELECT is((SELECT (_histogram(x, 37)).counts FROM hist_q),
          (SELECT array_agg(coalesce(c.n, 0) ORDER BY b)
             FROM generate_series(1, 37) b
             LEFT JOIN (SELECT least(width_bucket(x, lo, hi, 37), 37) AS bin, count(*) AS n
                          FROM hist_q, (SELECT min(x) AS lo, max(x) AS hi FROM hist_q) r GROUP BY 1) c ON c.bin = b),
          '_histogram: 37 bins of 20001 quotients, as width_bucket counts them');
SELECT is((SELECT ROW((s.h).lo::text, (s.h).hi::text)::text FROM (SELECT _histogram(x, 5) AS h FROM hist_q) s),
          (SELECT ROW(min(x)::text, max(x)::text)::text FROM hist_q), '_histogram: min and max as min() and max() print them');
-- more values than work_mem holds (64 kB: 4096 values): batches of 4096 go to a temporary file,
-- read back by the final function: the same counts, min and max
SET LOCAL work_mem = '64kB';
CREATE TEMP TABLE hist_spilled AS SELECT _histogram(x, 37) AS h FROM hist_q;
RESET work_mem;
SELECT is((SELECT (h).counts FROM hist_spilled), (SELECT (_histogram(x, 37)).counts FROM hist_q),
          '_histogram: over work_mem, spilled batches give the same counts');
SELECT is((SELECT ROW((h).lo::text, (h).hi::text)::text FROM hist_spilled),
          (SELECT ROW(min(x)::text, max(x)::text)::text FROM hist_q), '_histogram: over work_mem, min and max as min() and max()');
-- a later batch of more decimals than the spilled ones: {0, 1, ..., 4999} then 0.5 (one more
-- decimal): 4 bins over [0, 4999] of width 1249.75: 0..1249 (1250 values and 0.5), 1250..2499,
-- 2500..3749 (1250 each), 3750..4999 (1250)
SET LOCAL work_mem = '64kB';
SELECT is((SELECT (_histogram(x, 4)).counts
             FROM (SELECT g::numeric AS x FROM generate_series(0, 4999) g UNION ALL SELECT 0.5) v),
          '{1251,1250,1250,1250}'::bigint[], '_histogram: spilled batches rescaled to a later, larger scale');
RESET work_mem;
-- market_histogram over 5000 rows, held in memory and, with work_mem at 64 kB, partly spilled
-- to a temporary file: bybit ETH on 2026-02-28, oi_rate = i * 100 / 100 = i for
-- i = 1..5000; 7 bins over [1, 5000], width 4999/7: i - 1 = 0..714 (715), 715..1428,
-- 1429..2142, 2143..2856, 2857..3570, 3571..4284 (714 each), 4285..4999 (715, 5000 in the last)
INSERT INTO tickers (market_id, ts, last_price, mark_price, index_price, volume_24h, open_interest)
    SELECT 9204, '2026-02-28 00:00+00'::timestamptz + i * interval '1 second', 10, 10, 10, 100, i
      FROM generate_series(1, 5000) i;
SELECT results_eq(
    $$SELECT bin, count FROM market_histogram('oi_rate', 7, exchange => 'bybit', symbol => 'ETH',
                                                since => '2026-02-28', until => '2026-02-28 02:00')$$,
    $$VALUES (1, 715::bigint), (2, 714), (3, 714), (4, 714), (5, 714), (6, 714), (7, 715)$$,
    'market_histogram of 5000 values in one scan');
SET LOCAL work_mem = '64kB';
SELECT results_eq(
    $$SELECT bin, count FROM market_histogram('oi_rate', 7, exchange => 'bybit', symbol => 'ETH',
                                                since => '2026-02-28', until => '2026-02-28 02:00')$$,
    $$VALUES (1, 715::bigint), (2, 714), (3, 714), (4, 714), (5, 714), (6, 714), (7, 715)$$,
    'market_histogram of 5000 values over work_mem: spilled, the same bins');
SELECT results_eq(
    $$SELECT round(lower, 6), round(upper, 6) FROM market_histogram('oi_rate', 7, exchange => 'bybit', symbol => 'ETH',
                                                since => '2026-02-28', until => '2026-02-28 02:00') WHERE bin IN (1, 7)$$,
    $$VALUES (1::numeric, 715.142857), (4285.857143, 5000)$$,
    'the bounds over work_mem: 1 + 4999/7 = 715.142857..., 1 + 4999 * 6/7 = 4285.857142857...');
RESET work_mem;

-- ---------------------------------------------------------------------------
-- funding_stats
-- ---------------------------------------------------------------------------
INSERT INTO funding_rates (market_id, funding_time, rate, interval_hours) VALUES
    -- binance BTC, interval from markets (8 h): 0.0001, 0.0002, 0.0006
    (9201, '2026-03-01 00:00+00', 0.0001, NULL),
    (9201, '2026-03-01 08:00+00', 0.0002, NULL),
    (9201, '2026-03-01 16:00+00', 0.0006, NULL),
    (9201, '2026-03-02 00:00+00', 0.01, NULL),          -- outside the range
    -- bybit BTC, 4 h by the row: 0.0001, -0.0001
    (9202, '2026-03-01 00:00+00', 0.0001, 4),
    (9202, '2026-03-01 04:00+00', -0.0001, 4),
    -- binance ETH: the interval changed from 8 h to 4 h
    (9203, '2026-03-01 00:00+00', 0.0001, 8),
    (9203, '2026-03-01 08:00+00', 0.0001, 4);
-- binance BTC: mean 0.0009 / 3 = 0.0003; deviations -2, -1, 3 (e-4): stddev sqrt(14e-8 / 2) = 2.6457513e-4;
-- annualized 0.0003 * 8760 / 8 * 100 = 32.85 %; slope: x = 0, 1/3, 2/3 day,
-- sum (x - 1/3)(y - 0.0003) = (0.0002 + 0.0003) / 3, sum (x - 1/3)^2 = 2/9: 0.0005 * 3 / 2 = 0.00075 a day
-- bybit BTC: mean 0, stddev sqrt(2e-8) = 1.4142136e-4, annualized 0, slope -0.0002 / (1/6 day) = -0.0012
-- binance ETH: interval NULL (changed), annualized (0.0001 * 1095 + 0.0001 * 2190) / 2 * 100 = 16.425, slope 0
SELECT results_eq(
    $$SELECT exchange, symbol, count, mean, min, max, round(stddev, 11), interval_hours, annualized_pct,
             slope_per_day
        FROM funding_stats(since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES ('binance', 'BTC', 3::bigint, 0.0003, 0.0001, 0.0006, 0.00026457513, 8::numeric, 32.85, 0.00075),
             ('bybit', 'BTC', 2, 0, -0.0001, 0.0001, 0.00014142136, 4, 0, -0.0012),
             ('binance', 'ETH', 2, 0.0001, 0.0001, 0.0001, 0, NULL, 16.425, 0)$$,
    'funding per market, venues of a symbol side by side');
SELECT results_eq(
    $$SELECT exchange, count FROM funding_stats('BTC', 'bybit', '2026-03-01', '2026-03-02')$$,
    $$VALUES ('bybit', 2::bigint)$$, 'funding of one market');
SELECT is((SELECT slope_per_day FROM funding_stats('BTC', 'binance', '2026-03-01 00:00+00', '2026-03-01 01:00+00')),
          NULL, 'one rate: no trend');
-- _funding, the one aggregate behind funding_stats, against PostgreSQL's own aggregates on
-- 200 groups of rates of 1 to 9 decimals (some negative): count, avg, min, max and
-- stddev_samp equal as text (value and scale), the interval as CASE min = max
CREATE TABLE fund_q AS
    SELECT g % 200 AS grp, round((hashint4(g) % 100000)::numeric / 1e8, g % 9 + 1) AS rate,
           (ARRAY[8, 4, 8, 8])[1 + (g / 200) % 4 * (g % 2)]::numeric AS ih,
           '2026-01-01 00:00+00'::timestamptz + g * interval '1 minute' AS t
      FROM generate_series(1, 20000) g;
SELECT is((SELECT count(*)::int FROM (SELECT grp, (_funding(rate, ih, t)).* FROM fund_q GROUP BY grp) c
             JOIN (SELECT grp, count(*) AS n, avg(rate)::text AS mean, min(rate)::text AS mi, max(rate)::text AS ma,
                          stddev_samp(rate)::text AS sd, CASE WHEN min(ih) = max(ih) THEN min(ih) END AS ih
                     FROM fund_q GROUP BY grp) s USING (grp)
            WHERE c.count = s.n AND c.mean::text = s.mean AND c.min::text = s.mi AND c.max::text = s.ma
              AND c.stddev::text = s.sd AND c.interval_hours IS NOT DISTINCT FROM s.ih),
          200, '_funding: count, mean, min, max, stddev (as text) and interval as PostgreSQL''s aggregates give them');
-- annualized with one division: 0.0001 three times at 7 h: 876000 * 0.0003 / (7 * 3) = 262.8 / 21
-- = 12.514285714285714285... (the hand-written mean of per-row quotients rounds each of them)
SELECT is((SELECT round((_funding(rate, ih, t)).annualized_pct, 15)
             FROM (VALUES (0.0001, 7::numeric, now()), (0.0001, 7, now()), (0.0001, 7, now())) v(rate, ih, t)),
          12.514285714285714, '_funding: annualized at 7 h, one division');
-- 20 intervals (1..20 h, more than the 16 summed apart), 0.0001 each: 87.6 * H(20) / 20 with
-- H(20) = 55835135 / 15519504 = 3.5977396571436819...: 15.75809969829...
SELECT is((SELECT round((_funding(0.0001, k::numeric, now())).annualized_pct, 10) FROM generate_series(1, 20) k),
          15.7580996983, '_funding: annualized over 20 intervals');
SELECT is((SELECT (_funding(rate, ih, t)).annualized_pct
             FROM (VALUES (0.0001, 0::numeric, now()), (0.0002, NULL, now())) v(rate, ih, t)),
          NULL, '_funding: no row with an interval other than 0, no annualized rate');
SELECT throws_ok($$SELECT _funding(rate, 8, now()) FROM (VALUES (0.0001), ('NaN')) v(rate)$$, '22023',
    'funding_stats does not accept NaN or infinity', '_funding: NaN is refused');

-- slope_per_day directly, serial and parallel: y = 0.5 + 0.01 * hour exactly, over 20000 rows an
-- hour apart with times in shuffled order (so the partial states have different origins):
-- the least-squares slope of points on a line is the line's: 0.01 * 24 = 0.24 a day
CREATE TABLE slope_par AS
    SELECT i % 3 AS g, '2026-01-01 00:00+00'::timestamptz + h * interval '1 hour' AS t, 0.5 + 0.01 * h AS y
      FROM (SELECT i, (hashint4(i) & 1048575) AS h FROM generate_series(1, 20000) i) s;
ALTER TABLE slope_par SET (parallel_workers = 2);
ANALYZE slope_par;
SELECT is((SELECT slope_per_day(y, t) FROM slope_par), 0.24::numeric, 'slope_per_day: points on a line, serial');
SELECT is(slope_per_day(y, t), NULL, 'slope_per_day: NULL for one time only')
  FROM (VALUES (1, '2026-01-01 00:00+00'::timestamptz), (3, '2026-01-01 00:00+00')) v(y, t);
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;
SELECT matches(pg_temp.plan_of('SELECT slope_per_day(y, t) FROM slope_par'), '"Partial Mode": "Partial"',
               'slope_per_day runs as a Partial Aggregate');
SELECT is((SELECT slope_per_day(y, t) FROM slope_par), 0.24::numeric, 'slope_per_day: parallel, partial states combined');
SELECT results_eq($$SELECT g, slope_per_day(y, t) FROM slope_par GROUP BY g ORDER BY g$$,
                  $$VALUES (0, 0.24::numeric), (1, 0.24), (2, 0.24)$$, 'slope_per_day: parallel, per group');
-- _funding in parallel: partial states combined, the same figures as serially
ALTER TABLE fund_q SET (parallel_workers = 2);
ANALYZE fund_q;
SELECT matches(pg_temp.plan_of('SELECT grp, _funding(rate, ih, t) FROM fund_q GROUP BY grp'), '"Partial Mode": "Partial"',
               '_funding runs as a Partial Aggregate');
CREATE TEMP TABLE fund_par AS SELECT grp, (_funding(rate, ih, t)).* FROM fund_q GROUP BY grp;
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is((SELECT count(*)::int FROM fund_par p
             JOIN (SELECT grp, (_funding(rate, ih, t)).* FROM fund_q GROUP BY grp) s USING (grp)
            WHERE (p.*) IS NOT DISTINCT FROM (s.*) AND p.mean::text = s.mean::text
              AND p.stddev::text IS NOT DISTINCT FROM s.stddev::text
              AND p.annualized_pct::text IS NOT DISTINCT FROM s.annualized_pct::text
              AND p.slope_per_day::text IS NOT DISTINCT FROM s.slope_per_day::text),
          200, '_funding: parallel, every figure as serial (mean, stddev, annualized and slope to the scale; of equal min or max values of different scales, any one, as min() and max() in parallel)');
SET LOCAL max_parallel_workers_per_gather = 2;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- ---------------------------------------------------------------------------
-- liquidity_distribution
-- ---------------------------------------------------------------------------
INSERT INTO liquidity_depth (market_id, ts, mid_price, bid_5bps, ask_5bps, bid_10bps, ask_10bps, max_bid_bps, max_ask_bps) VALUES
    (9201, '2026-03-01 09:00+00', 100, 999, 999, 999, 999, 100, 100),    -- not the newest
    (9201, '2026-03-01 10:00+00', 100, 100, 300, 400, 600, 50, 8),       -- asks reach 8 bps only
    (9202, '2026-03-01 10:00+00', 100, 200, 400, 300, 700, 100, 100),
    (9203, '2026-03-01 10:00+00', 10, 50, 50, 100, 100, 100, 100),
    (9204, '2026-02-27 10:00+00', 10, 7, 7, 7, 7, 100, 100),             -- older than max_age
    (9202, '2026-03-01 13:00+00', 100, 1, 1, 1, 1, 100, 100);            -- after as_of
-- 5 bps: binance BTC 100 + 300 = 400, bybit BTC 600, binance ETH 100.
-- of the symbol: BTC 1000: 40 %, 60 %; ETH: 100 %.  of the venue: binance 500: BTC 80 %, ETH 20 %; bybit 100 %
SELECT results_eq(
    $$SELECT exchange, symbol, ts, bps, bid_notional, ask_notional, notional, symbol_share_pct, exchange_share_pct, partial
        FROM liquidity_distribution(as_of => '2026-03-01 12:00+00')$$,
    $$VALUES ('binance', 'BTC', '2026-03-01 10:00+00'::timestamptz, 5::numeric, 100::numeric, 300::numeric, 400::numeric, 40::numeric, 80::numeric, false),
             ('bybit', 'BTC', '2026-03-01 10:00+00', 5, 200, 400, 600, 60, 100, false),
             ('binance', 'ETH', '2026-03-01 10:00+00', 5, 50, 50, 100, 100, 20, false)$$,
    'liq-dist at 5 bps: notional per venue and symbol, shares in percent');
-- 10 bps: binance BTC 1000 (partial: asks reach 8 bps), bybit BTC 1000, binance ETH 200.
-- of the symbol: BTC 50 %, 50 %; of the venue: binance 1200: BTC 83.33 %, ETH 16.67 %
SELECT results_eq(
    $$SELECT exchange, symbol, notional, symbol_share_pct, round(exchange_share_pct, 2), partial
        FROM liquidity_distribution('{10}', as_of => '2026-03-01 12:00+00')$$,
    $$VALUES ('binance', 'BTC', 1000::numeric, 50::numeric, 83.33, true),
             ('bybit', 'BTC', 1000, 50, 100, false),
             ('binance', 'ETH', 200, 100, 16.67, false)$$,
    'liq-dist at 10 bps: partial where the book does not reach the level');
SELECT results_eq(
    $$SELECT exchange, bps, symbol_share_pct, exchange_share_pct
        FROM liquidity_distribution('{5,10}', '{BTC}', '{bybit}', '2026-03-01 12:00+00')$$,
    $$VALUES ('bybit', 5::numeric, 100::numeric, 100::numeric), ('bybit', 10, 100, 100)$$,
    'shares over the venues and symbols asked for');
SELECT is((SELECT count(*)::int FROM liquidity_distribution(as_of => '2026-03-01 12:00+00', max_age => '1 hour')),
          0, 'rows older than max_age are left out');

-- ---------------------------------------------------------------------------
-- The RPCs, as perps_anon: the same figures through the perps_api views
-- ---------------------------------------------------------------------------
SET LOCAL ROLE perps_anon;
SELECT results_eq(
    $$SELECT exchange, symbol, count, median, p95 FROM perps_api.market_stats('{oi_rate}', since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES ('binance', 'BTC', 3::bigint, 50::numeric, 72.5), ('binance', 'ETH', 1, 10, 10), ('bybit', 'BTC', 2, 30, 39)$$,
    'perps_api.market_stats as perps_anon');
SELECT results_eq(
    $$SELECT bin, count FROM perps_api.market_histogram('oi_rate', 4, since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES (1, 3::bigint), (2, 1), (3, 1), (4, 1)$$, 'perps_api.market_histogram as perps_anon');
SELECT results_eq(
    $$SELECT exchange, annualized_pct, slope_per_day FROM perps_api.funding_stats('BTC', since => '2026-03-01', until => '2026-03-02')$$,
    $$VALUES ('binance', 32.85, 0.00075), ('bybit', 0, -0.0012)$$, 'perps_api.funding_stats as perps_anon');
SELECT results_eq(
    $$SELECT exchange, symbol, notional, symbol_share_pct FROM perps_api.liquidity_distribution(as_of => '2026-03-01 12:00+00')$$,
    $$VALUES ('binance', 'BTC', 400::numeric, 40::numeric), ('bybit', 'BTC', 600, 60), ('binance', 'ETH', 100, 100)$$,
    'perps_api.liquidity_distribution as perps_anon');
SELECT throws_ok($$SELECT * FROM market_stats(since => '2026-03-01', until => '2026-03-02')$$, '42501', NULL,
    'perps_anon cannot read the tables through the perps_stats functions');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM market_stats(since => '2026-03-02', until => '2026-03-01')$$, '22023',
    'since must be earlier than until', 'since after until');
SELECT throws_ok($$SELECT * FROM market_stats(since => '2026-03-01', until => '2026-03-01')$$, '22023',
    'since must be earlier than until', 'an empty range');
SELECT throws_ok($$SELECT * FROM market_stats(since => '2025-01-01', until => '2026-03-01')$$, '54000',
    'time range longer than 366 days', 'more than a year');
SELECT throws_ok($$SELECT * FROM market_stats('{oi_rate,bogus}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'unknown metric "bogus"', 'an unknown metric');
SELECT throws_ok($$SELECT * FROM market_stats('{"t.last_price); DROP TABLE x; --"}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'unknown metric "t.last_price); DROP TABLE x; --"', 'a metric is a name from the list, never SQL');
SELECT throws_ok($$SELECT * FROM market_stats('{}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'metrics must list 1 to 32 metrics', 'no metric');
SELECT throws_ok($$SELECT * FROM market_stats(array_fill('oi_rate'::text, ARRAY[33]), since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'metrics must list 1 to 32 metrics', '33 metrics');
SELECT throws_ok($$SELECT * FROM market_stats("by" => 'venue', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'unknown grouping "venue"', 'an unknown grouping');
SELECT throws_ok($$SELECT * FROM market_histogram('oi_rate', 0, since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'bins must be between 1 and 1000', 'zero bins');
SELECT throws_ok($$SELECT * FROM market_histogram('oi_rate', 1001, since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'bins must be between 1 and 1000', '1001 bins');
SELECT throws_ok($$SELECT * FROM market_histogram('oi_rate', edges => '{1,3,2}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'edges must be finite numbers in strictly ascending order', 'edges out of order');
SELECT throws_ok($$SELECT * FROM market_histogram('oi_rate', edges => '{1,NULL}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'edges must be finite numbers in strictly ascending order', 'a NULL edge');
SELECT throws_ok($$SELECT * FROM market_histogram('oi_rate', edges => '{1}', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'edges must be a list of 2 to 1001 numbers', 'one edge');
SELECT throws_ok($$SELECT * FROM market_histogram('price_deviation', since => '2026-03-01', until => '2026-03-02')$$, '22023',
    'unknown metric "price_deviation"', 'a histogram is of one metric');
SELECT throws_ok($$SELECT * FROM funding_stats(since => '2026-03-02', until => '2026-03-01')$$, '22023',
    'since must be earlier than until', 'funding: since after until');
SELECT throws_ok($$SELECT * FROM liquidity_distribution('{3}')$$, '0A000',
    'liquidity is stored for 1, 2.5, 5, 10, 20, 50 and 100 bps only', 'a level that is not stored');
SELECT throws_ok($$SELECT * FROM liquidity_distribution('{5,NULL}')$$, '0A000',
    'liquidity is stored for 1, 2.5, 5, 10, 20, 50 and 100 bps only', 'a NULL level');
SELECT throws_ok($$SELECT * FROM liquidity_distribution('{}')$$, '22023',
    'bps must list 1 to 16 levels', 'no level');
SELECT throws_ok($$SELECT * FROM liquidity_distribution(symbols => array_fill('BTC'::text, ARRAY[1001]))$$, '54000',
    'more than 1000 symbols or exchanges', '1001 symbols');
SELECT throws_ok($$SELECT * FROM liquidity_distribution(max_age => '-1 hour')$$, '22023',
    'as_of must be given and max_age be positive and at most 366 days', 'a negative max_age');
SET LOCAL ROLE perps_anon;
SELECT throws_ok($$SELECT * FROM perps_api.market_stats(since => '2020-01-01', until => '2026-03-01')$$, '54000',
    'time range longer than 366 days', 'the RPC is bounded too');
SELECT throws_ok($$SELECT * FROM perps_api.liquidity_distribution(exchanges => array_fill('bybit'::text, ARRAY[1001]))$$, '54000',
    'more than 1000 symbols or exchanges', 'huge arrays from perps_anon are refused');
RESET ROLE;

-- cancellable: a summary of 3 million values stopped by statement_timeout
-- (plpgsql's OTHERS does not catch a cancel, so throws_ok cannot either)
CREATE FUNCTION pg_temp.cancelled() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM perps_stats.summary(x::numeric) FROM generate_series(1, 3000000) x;
    RETURN 'finished';
EXCEPTION WHEN query_canceled THEN
    RETURN SQLSTATE;
END
$$;
SET LOCAL statement_timeout = '300ms';
SELECT is(pg_temp.cancelled(), '57014', 'a long summary can be cancelled');
RESET statement_timeout;

SELECT * FROM finish();
ROLLBACK;
