-- Order-book analytics: the worked example of issue 3 (hand-checked),
-- further hand-computed books, empty sides and the vwap aggregate.  Error
-- cases, a 1000-level book against set-based SQL, and vwap against
-- sum(price*qty)/sum(qty) are in test/pgtap/20_analytics.sql.
SET search_path = perps_stats, public;

-- The worked example: mid 100.01
CREATE TEMP TABLE ex (bids numeric[], asks numeric[]);
INSERT INTO ex VALUES (
    '{{100.00,2},{99.99,5},{99.95,10},{99.90,20},{99.00,100}}',
    '{{100.02,1},{100.03,4},{100.10,10},{100.20,30},{101.00,100}}');

SELECT mid_price(bids, asks), spread_bps(bids, asks) FROM ex;

-- bid 100 bps: threshold 99.0099, the deepest bid 99.00 lies beyond it
-- (complete); ask 100 bps: threshold 101.0099, the deepest ask 101.00 lies
-- inside it, so 14607.14 is only a lower bound
SELECT d.* FROM ex, liquidity_depth(bids, asks) d;

-- buy 1000: 100.02*1 + 100.03*4 = 500.14, then 499.86 of the 100.10 level
-- (4.99360639... base): avg = 1000*100.10/1000.36
SELECT s.* FROM ex, slippage(bids, asks, 'buy', 1000) s;
SELECT s.* FROM ex, slippage(bids, asks, 'sell', 1000) s;
-- the bids hold 13597.45 quote (137 base): 20000 cannot be filled
SELECT s.* FROM ex, slippage(bids, asks, 'sell', 20000) s;
-- exactly the whole bid side
SELECT s.* FROM ex, slippage(bids, asks, 'sell', 13597.45) s;

SELECT d.* FROM ex, market_depth(bids, asks) d;
SELECT d.* FROM ex, liquidity_depth(bids, asks, '{0, 1.5, 10000, 20000}') d;
SELECT d.* FROM ex, liquidity_depth(bids, asks, '{}') d;

-- the C API's rows (what ingestion stores)
\x on
SELECT r.* FROM ex, liquidity_depth_row(bids, asks) r;
\x off
SELECT r.* FROM ex, slippage_rows(bids, asks) r;

-- One level per side: mid 100, bid 99 x 3, ask 101 x 2.
CREATE TEMP TABLE one (bids numeric[], asks numeric[]);
INSERT INTO one VALUES ('{{99,3}}', '{{101,2}}');
SELECT mid_price(bids, asks), spread_bps(bids, asks) FROM one;
-- 100 bps puts the thresholds exactly on both levels (included, complete);
-- 50 bps leaves both out (notional 0, and the book reaches that far)
SELECT d.* FROM one, liquidity_depth(bids, asks, '{50, 100, 1000}') d;
SELECT d.* FROM one, market_depth(bids, asks, '{0.005, 0.01}') d;
-- buy 100 quote at 101: base 100/101, avg 101, 100 bps
SELECT s.* FROM one, slippage(bids, asks, 'buy', 100) s;
-- exactly the whole level, and one unit more
SELECT s.* FROM one, slippage(bids, asks, 'buy', 202) s;
SELECT s.* FROM one, slippage(bids, asks, 'buy', 203) s;
SELECT s.* FROM one, slippage(bids, asks, 'sell', 297) s;

-- Exact threshold hits: mid 100, levels at 1, 10 and 100 bps on each side
CREATE TEMP TABLE hits (bids numeric[], asks numeric[]);
INSERT INTO hits VALUES ('{{99.99,1},{99.9,2},{99,3}}', '{{100.01,1},{100.1,2},{101,3}}');
SELECT d.* FROM hits, liquidity_depth(bids, asks, '{0.99, 1, 9.99, 10, 99.99, 100}') d;
SELECT d.* FROM hits, market_depth(bids, asks, '{0.0001, 0.001, 0.01}') d;

-- Scales follow numeric's rules: the notional of 100.5 x 0.001 has scale 4
SELECT d.* FROM liquidity_depth('{{100.5,0.001},{100,2.0}}', '{{101,1}}', '{50, 100}') d;
-- an odd sum of best prices gives mid one more decimal
SELECT mid_price('{{100.01,1}}', '{{100.02,1}}');
-- equal prices on one side are allowed; zero quantities too
SELECT d.* FROM liquidity_depth('{{100,1},{100,2},{99,0}}', '{{102,1},{102,0}}', '{100}') d;

-- An empty side leaves mid undefined: NULL, or no rows
SELECT mid_price('{{100,1}}', '{}') IS NULL AS no_mid,
       spread_bps('{}', '{{100,1}}') IS NULL AS no_spread,
       liquidity_depth_row('{}', '{}') IS NULL AS no_row;
SELECT count(*) FROM liquidity_depth('{{100,1}}', '{}');
SELECT count(*) FROM market_depth('{}', '{{100,1}}');
SELECT count(*) FROM slippage('{}', '{{100,1}}', 'buy', 10);
SELECT count(*) FROM slippage_rows('{{100,1}}', '{}');

-- vwap: sum(price*qty)/sum(qty); NULL for no rows, NULL for sum(qty) = 0
SELECT vwap(p, q) FROM (VALUES (100.5, 2), (101.25, 1.5), (99, 0.5)) v(p, q);
SELECT vwap(p, q) FROM (VALUES (1.0, 1)) v(p, q) WHERE false;
SELECT vwap(p, q) FROM (VALUES (100.0, 0), (101.0, 0.00)) v(p, q);
-- rows with a NULL price or qty are skipped
SELECT vwap(p, q) FROM (VALUES (100, 1), (NULL, 5), (200, NULL), (103, 2)) v(p, q);

-- vwap runs in parallel: partial aggregates in the workers, combined by the leader
CREATE TABLE vwap_par AS
    SELECT round(1000 + (i % 1000) / 100.0, 2) AS price,
           round((i * 7919) % 5000 / 1000.0, 3) AS qty
      FROM generate_series(1, 50000) i;
ALTER TABLE vwap_par SET (parallel_workers = 2);
ANALYZE vwap_par;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT vwap(price, qty) FROM vwap_par;
SELECT vwap(price, qty) AS parallel_vwap FROM vwap_par;
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 0;
SELECT vwap(price, qty) AS serial_vwap, sum(price * qty) / sum(qty) AS sql_vwap FROM vwap_par;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE vwap_par;
