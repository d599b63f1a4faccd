-- Order-book analytics contracts: declarations and privileges, every error
-- with its SQLSTATE, a 1000-level book against independent set-based SQL
-- over unnest (exact figures equal in value and scale, divisions against a
-- 100-decimal computation), the C API rows against the SQL functions, and
-- vwap against sum(price*qty)/sum(qty), serial and parallel.
BEGIN;
SELECT plan(155);
SET LOCAL search_path = perps_stats, public;

-- ---------------------------------------------------------------------------
-- Declarations
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE pronamespace = 'perps_stats'::regnamespace
              AND proname IN ('mid_price', 'spread_bps', 'liquidity_depth', 'market_depth',
                              'slippage', 'liquidity_depth_row', 'slippage_rows')
              AND provolatile = 'i' AND proisstrict AND proparallel = 's'),
          7, 'the book functions are IMMUTABLE STRICT PARALLEL SAFE');
SELECT is((SELECT ARRAY[aggcombinefn, aggserialfn, aggdeserialfn]
             FROM pg_aggregate WHERE aggfnoid = 'perps_stats.vwap(numeric,numeric)'::regprocedure),
          ARRAY['perps_stats._vwap_combine'::regproc, 'perps_stats._vwap_serialize', 'perps_stats._vwap_deserialize'],
          'vwap has combine, serial and deserial functions');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'perps_stats.vwap(numeric,numeric)'::regprocedure),
          's', 'vwap is PARALLEL SAFE');

CREATE ROLE perps_test_analyst;
SET LOCAL ROLE perps_test_analyst;
SELECT is(mid_price('{{1,1}}', '{{3,1}}'), 2::numeric, 'anybody may run the math');
SELECT is((SELECT vwap(p, q) FROM (VALUES (1, 1), (4, 2)) v(p, q)), 3.0000000000000000, 'anybody may run vwap');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Errors, each with its SQLSTATE and message
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT mid_price('{100,1}', '{{101,1}}')$$, '2202E',
    'order book bids must be a two-dimensional array with two columns', 'a 1-D side');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{101,1,7}}')$$, '2202E',
    'order book asks must be a two-dimensional array with two columns', 'three columns');
SELECT throws_ok($$SELECT mid_price('{{{100,1}}}', '{{101,1}}')$$, '2202E',
    'order book bids must be a two-dimensional array with two columns', 'a 3-D side');
SELECT throws_ok($$SELECT * FROM liquidity_depth('{{100,1},{99,NULL}}', '{{101,1}}')$$, '22004',
    'order book bids level 2 has a NULL quantity', 'a NULL quantity');
SELECT throws_ok($$SELECT * FROM slippage('{{100,1}}', '{{NULL,1}}', 'buy', 10)$$, '22004',
    'order book asks level 1 has a NULL price', 'a NULL price');
SELECT throws_ok($$SELECT mid_price('{{100,1},{0,1}}', '{{101,1}}')$$, '22003',
    'order book bids level 2 has a price that is not positive', 'a zero price');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{-101,1}}')$$, '22003',
    'order book asks level 1 has a price that is not positive', 'a negative price');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{101,1},{102,-0.5}}')$$, '22003',
    'order book asks level 2 has a negative quantity', 'a negative quantity');
SELECT throws_ok($$SELECT mid_price('{{NaN,1}}', '{{101,1}}')$$, '22023',
    'order book bids level 1 has a price that is not a finite number', 'a NaN price');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{101,Infinity}}')$$, '22023',
    'order book asks level 1 has a quantity that is not a finite number', 'an infinite quantity');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{-Infinity,1}}')$$, '22023',
    'order book asks level 1 has a price that is not a finite number', 'an infinite price');
SELECT throws_ok($$SELECT mid_price('{{99,1},{100,1}}', '{{101,1}}')$$, '22023',
    'order book bids are not sorted best first', 'bids ascending');
SELECT throws_ok($$SELECT mid_price('{{100,1}}', '{{101,1},{102,1},{101.5,1}}')$$, '22023',
    'order book asks are not sorted best first', 'asks out of order');
SELECT throws_ok($$SELECT mid_price('{{99,1},{100,1}}', '{}')$$, '22023',
    'order book bids are not sorted best first', 'a side is checked even when the other is empty');
SELECT throws_ok($$SELECT mid_price('{{101,1}}', '{{101,1}}')$$, '22023',
    'order book is crossed', 'best bid = best ask');
SELECT throws_ok($$SELECT * FROM market_depth('{{102,1}}', '{{101,1}}')$$, '22023',
    'order book is crossed', 'best bid > best ask');
SELECT throws_ok($$SELECT * FROM slippage('{{100,1}}', '{{101,1}}', 'BUY', 10)$$, '22023',
    'side must be "buy" or "sell", not "BUY"', 'side other than buy/sell');
SELECT throws_ok($$SELECT * FROM slippage('{{100,1}}', '{{101,1}}', 'sell', 0)$$, '22023',
    'notional must be a positive number', 'notional 0');
SELECT throws_ok($$SELECT * FROM slippage('{{100,1}}', '{{101,1}}', 'buy', -5)$$, '22023',
    'notional must be a positive number', 'a negative notional');
SELECT throws_ok($$SELECT * FROM slippage('{{100,1}}', '{{101,1}}', 'buy', 'NaN')$$, '22023',
    'notional must be a positive number', 'a NaN notional');
SELECT throws_ok($$SELECT * FROM liquidity_depth('{{100,1}}', '{{101,1}}', '{1,NULL}')$$, '22004',
    'bps must not contain NULLs', 'a NULL threshold');
SELECT throws_ok($$SELECT * FROM liquidity_depth('{{100,1}}', '{{101,1}}', '{-1}')$$, '22023',
    'bps must be finite and not negative', 'a negative threshold');
SELECT throws_ok($$SELECT * FROM market_depth('{{100,1}}', '{{101,1}}', '{{0.01}}')$$, '2202E',
    'pct must be a one-dimensional array', 'a 2-D pct');
SELECT throws_ok($$SELECT * FROM market_depth('{{100,1}}', '{{101,1}}', '{Infinity}')$$, '22023',
    'pct must be finite and not negative', 'an infinite pct');
SELECT throws_ok($$SELECT liquidity_depth_row('{{100,1}}', '{{99,1}}')$$, '22023',
    'order book is crossed', 'the C API checks the book too');

-- ---------------------------------------------------------------------------
-- Independent set-based SQL over unnest (mid as (b + a) * 0.5, exact: numeric
-- division by 2 rounds values of 17 digits and more)
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ld_sql(bids numeric[], asks numeric[], bps numeric[])
RETURNS TABLE (bps text, bid_notional text, ask_notional text, bid_complete boolean, ask_complete boolean)
LANGUAGE sql AS $$
    WITH b AS (SELECT p, q FROM unnest(bids[:][1:1], bids[:][2:2]) u(p, q)),
         a AS (SELECT p, q FROM unnest(asks[:][1:1], asks[:][2:2]) u(p, q)),
         m AS (SELECT (bids[1][1] + asks[1][1]) * 0.5 AS mid),
         t AS (SELECT x, o FROM unnest(bps) WITH ORDINALITY u(x, o))
    SELECT t.x::text,
           coalesce((SELECT sum(p * q) FROM b WHERE p >= m.mid * (1 - t.x / 10000)), 0)::text,
           coalesce((SELECT sum(p * q) FROM a WHERE p <= m.mid * (1 + t.x / 10000)), 0)::text,
           (SELECT min(p) FROM b) <= m.mid * (1 - t.x / 10000),
           (SELECT max(p) FROM a) >= m.mid * (1 + t.x / 10000)
      FROM t, m ORDER BY t.o
$$;

CREATE FUNCTION pg_temp.md_sql(bids numeric[], asks numeric[], pct numeric[])
RETURNS TABLE (percentage text, bid_volume text, ask_volume text)
LANGUAGE sql AS $$
    WITH b AS (SELECT p, q FROM unnest(bids[:][1:1], bids[:][2:2]) u(p, q)),
         a AS (SELECT p, q FROM unnest(asks[:][1:1], asks[:][2:2]) u(p, q)),
         m AS (SELECT (bids[1][1] + asks[1][1]) * 0.5 AS mid),
         t AS (SELECT x, o FROM unnest(pct) WITH ORDINALITY u(x, o))
    SELECT t.x::text,
           coalesce((SELECT sum(q) FROM b WHERE p >= m.mid * (1 - t.x)), 0)::text,
           coalesce((SELECT sum(q) FROM a WHERE p <= m.mid * (1 + t.x)), 0)::text
      FROM t, m ORDER BY t.o
$$;

-- slippage with 100-decimal divisions: avg, bps and filled base rounded to
-- the scale the C function chose must equal the C function's figures
CREATE FUNCTION pg_temp.slip_check(bids numeric[], asks numeric[], side text, notional numeric)
RETURNS TABLE (ok boolean, detail text)
LANGUAGE sql AS $$
    WITH l AS (SELECT p, q, i, sum(p * q) OVER w AS cq, sum(q) OVER w AS cb
                 FROM unnest(CASE side WHEN 'buy' THEN asks[:][1:1] ELSE bids[:][1:1] END,
                             CASE side WHEN 'buy' THEN asks[:][2:2] ELSE bids[:][2:2] END)
                      WITH ORDINALITY u(p, q, i)
               WINDOW w AS (ORDER BY i)),
         m AS (SELECT (bids[1][1] + asks[1][1]) * 0.5 AS mid),
         k AS (SELECT * FROM l WHERE cq >= notional ORDER BY i LIMIT 1),
         hp AS (SELECT k.i, k.cb - k.q + round(notional - (k.cq - k.p * k.q), 100) / k.p AS base FROM k),
         hp2 AS (SELECT hp.*, round(notional, 100) / hp.base AS avg FROM hp),
         c AS (SELECT * FROM slippage(bids, asks, side, notional))
    SELECT CASE WHEN hp2.i IS NULL THEN
                NOT c.feasible AND c.avg_price IS NULL AND c.slippage_bps IS NULL
                AND c.filled_quote::text = (SELECT sum(p * q) FROM l)::text
                AND c.filled_base::text = (SELECT sum(q) FROM l)::text
                AND c.levels_used = (SELECT count(*) FROM l)
           ELSE
                c.feasible AND c.levels_used = hp2.i AND c.filled_quote::text = notional::text
                AND c.filled_base = round(hp2.base, scale(c.filled_base))
                AND c.avg_price = round(hp2.avg, scale(c.avg_price))
                AND c.slippage_bps = round(CASE side WHEN 'buy' THEN hp2.avg - m.mid ELSE m.mid - hp2.avg END
                                           / m.mid * 10000, scale(c.slippage_bps))
                AND scale(c.avg_price) >= 16 - 4 * floor(log(c.avg_price) / 4)
           END,
           format('C: %s %s %s %s; 100 decimals: %s %s', c.avg_price, c.slippage_bps, c.filled_base,
                  c.levels_used, hp2.avg, hp2.base)
      FROM c CROSS JOIN m LEFT JOIN hp2 ON true
$$;

-- the books: 1000 levels per side around 50000 with prices of scale 1 or 2
-- and quantities of scale 0 to 3 (some zero), and a book of huge values
-- that take the numeric fallback of the 128-bit arithmetic
CREATE TEMP TABLE books (name text, bids numeric[], asks numeric[]);
INSERT INTO books
SELECT 'deep',
       (SELECT array_agg(ARRAY[round(50000 - i * 0.37 - (i % 3) * 0.01, 1 + i % 2),
                                round(((i * 7919) % 10007) / 1000.0, i % 4)] ORDER BY i)
          FROM generate_series(1, 1000) i),
       (SELECT array_agg(ARRAY[round(50000.5 + i * 0.41 + (i % 5) * 0.01, 2 - i % 2),
                                round(((i * 104729) % 10009) / 1000.0, (i + 1) % 4)] ORDER BY i)
          FROM generate_series(1, 1000) i);
INSERT INTO books
SELECT 'grid',
       (SELECT array_agg(ARRAY[50000 - i * 0.5, round(((i * 7919) % 10007) / 1000.0, i % 4)] ORDER BY i)
          FROM generate_series(1, 1000) i),
       (SELECT array_agg(ARRAY[50000 + i * 0.5, round(((i * 104729) % 10009) / 1000.0, i % 3)] ORDER BY i)
          FROM generate_series(1, 1000) i);
-- 'wide': every value fits in 64 bits but the bid sums overflow 128 bits,
-- and one ask needs a decimal that does not fit at the side's scale
INSERT INTO books
SELECT 'wide',
       (SELECT array_agg(ARRAY[900000000000000000 - i, 900000000000000000 + i] ORDER BY i)
          FROM generate_series(1, 1000) i),
       (SELECT array_agg(ARRAY[CASE WHEN i = 500 THEN 900000000000000500.5 ELSE 900000000000000001 + i END,
                               1000 + i] ORDER BY i)
          FROM generate_series(1, 1000) i);
INSERT INTO books VALUES
    ('huge', '{{1e30,1e10},{9e29,2.5},{8.5e29,0.000000000000000000000000000000000000000001}}',
             '{{1.1e30,3e-45},{2e30,3},{2.00000000000000000000000000000000000000000001e30,7e12}}');

SELECT is(array_length(bids, 1), 1000, 'the deep book has 1000 bid levels') FROM books WHERE name = 'deep';
SELECT is(array_length(asks, 1), 1000, 'the deep book has 1000 ask levels') FROM books WHERE name = 'deep';
SELECT is(mid_price(bids, asks), (bids[1][1] + asks[1][1]) * 0.5, name || ': mid') FROM books ORDER BY name;

SELECT results_eq(
    format($$SELECT bps::text, bid_notional::text, ask_notional::text, bid_complete, ask_complete
               FROM liquidity_depth(%L, %L, '{0.5,1,2.5,5,10,20,37,50,73.9,74,75,100,150,20000}')$$, bids, asks),
    format($$SELECT * FROM pg_temp.ld_sql(%L, %L, '{0.5,1,2.5,5,10,20,37,50,73.9,74,75,100,150,20000}')$$, bids, asks),
    name || ': liquidity_depth equals set-based SQL (value and scale)') FROM books ORDER BY name;

SELECT results_eq(
    format($$SELECT percentage::text, bid_volume::text, ask_volume::text
               FROM market_depth(%L, %L, '{0,0.0001,0.001,0.0025,0.005,0.0074,0.01,0.5,2}')$$, bids, asks),
    format($$SELECT * FROM pg_temp.md_sql(%L, %L, '{0,0.0001,0.001,0.0025,0.005,0.0074,0.01,0.5,2}')$$, bids, asks),
    name || ': market_depth equals set-based SQL (value and scale)') FROM books ORDER BY name;

-- exact threshold hits deep in a book: on the grid book (mid 50000, a level
-- every 0.5) the threshold of k/10 bps lies exactly on level k of each side,
-- and the deepest levels (49500, 50500) lie at or beyond every threshold
SELECT is(l.bid_notional::text || ' ' || l.ask_notional::text || ' ' || l.bid_complete || ' ' || l.ask_complete,
          (SELECT sum(p * q)::text FROM unnest(bids[1:k][1:1], bids[1:k][2:2]) u(p, q)) || ' ' ||
          (SELECT sum(p * q)::text FROM unnest(asks[1:k][1:1], asks[1:k][2:2]) u(p, q)) || ' ' ||
          'true true',
          format('grid: %s bps takes exactly %s levels per side', l.bps, k))
  FROM books, unnest('{1,15,16,17,32,33,500,999,1000}'::int[]) k,
       liquidity_depth(bids, asks, ARRAY[k / 10.0]) l
 WHERE name = 'grid' ORDER BY k;
SELECT is(m.bid_volume::text || ' ' || m.ask_volume::text,
          (SELECT sum(q)::text FROM unnest(bids[1:k][2:2]) q) || ' ' ||
          (SELECT sum(q)::text FROM unnest(asks[1:k][2:2]) q),
          format('grid: market_depth %s takes exactly %s levels per side', m.percentage, k))
  FROM books, unnest('{1,777}'::int[]) k,
       market_depth(bids, asks, ARRAY[k / 100000.0]) m
 WHERE name = 'grid' ORDER BY k;

SELECT ok(c.ok, b.name || ': slippage ' || s.side || ' ' || s.notional || ' (' || c.detail || ')')
  FROM books b
 CROSS JOIN (VALUES ('buy', 1000::numeric), ('sell', 1000), ('buy', 1000000), ('sell', 1000000),
                    ('buy', 50000000), ('sell', 120000000), ('buy', 1e12), ('sell', 1e12)) s(side, notional)
 CROSS JOIN LATERAL pg_temp.slip_check(b.bids, b.asks, s.side, s.notional) c
 WHERE b.name = 'deep'
 ORDER BY s.side, s.notional;

-- whole levels, on both sides of the points where the walk decodes more
-- levels (16, 32, ...), and one unit of the next level past them
SELECT ok(c.ok, format('deep: slippage %s filling exactly %s whole levels%s (%s)', s.side, k, x, c.detail))
  FROM books b, unnest('{10,16,17,32,33,1000}'::int[]) k, (VALUES ('buy'), ('sell')) s(side),
       (VALUES (''), (' and a bit')) e(x),
       LATERAL (SELECT sum(p * q) + CASE WHEN e.x = '' THEN 0 ELSE 0.01 END AS n
                  FROM unnest(CASE s.side WHEN 'buy' THEN b.asks[1:k][1:1] ELSE b.bids[1:k][1:1] END,
                              CASE s.side WHEN 'buy' THEN b.asks[1:k][2:2] ELSE b.bids[1:k][2:2] END) u(p, q)) t,
       LATERAL pg_temp.slip_check(b.bids, b.asks, s.side, t.n) c
 WHERE b.name = 'deep'
 ORDER BY k, s.side, e.x;

-- ---------------------------------------------------------------------------
-- The one-pass walks (liquidity_depth, market_depth, slippage from the
-- arrays; figures worked out by hand)
-- ---------------------------------------------------------------------------
-- thresholds out of order and repeated: rows in the order given, figures of
-- the worked example
SELECT is((SELECT array_agg(row(bps, bid_notional, ask_notional, bid_complete, ask_complete)::text)
             FROM liquidity_depth('{{100.00,2},{99.99,5},{99.95,10},{99.90,20},{99.00,100}}',
                                  '{{100.02,1},{100.03,4},{100.10,10},{100.20,30},{101.00,100}}',
                                  '{100,1,2.5,1}')),
          ARRAY['(100,3697.45,14607.14,t,f)', '(1,200.00,100.02,t,t)', '(2.5,699.95,500.14,t,t)',
                '(1,200.00,100.02,t,t)'],
          'thresholds out of order and repeated');
-- mid 100; 100 bps: bids >= 99, asks <= 101 (levels exactly at the
-- thresholds count); 200: 98 and 102, 99 + 98*2 = 295, 101 + 102*2 = 305;
-- 299: 97.01 and 102.99, the same levels; 300: 97 and 103, every level,
-- 295 + 97*3 = 586, 305 + 103*3 = 614, the deepest levels exactly at the
-- thresholds (complete); 400: 96 and 104, not complete; 0: no level
SELECT is((SELECT array_agg(row(bps, bid_notional, ask_notional, bid_complete, ask_complete)::text)
             FROM liquidity_depth('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}',
                                  '{300,0,100,299,200,400}')),
          ARRAY['(300,586,614,t,t)', '(0,0,0,t,t)', '(100,99,101,t,t)', '(299,295,305,t,t)',
                '(200,295,305,t,t)', '(400,586,614,f,f)'],
          'levels exactly at a threshold count, and complete when the deepest is at it');
SELECT is((SELECT array_agg(row(percentage, bid_volume, ask_volume)::text)
             FROM market_depth('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', '{0.03,0.01,0.0299}')),
          ARRAY['(0.03,6,6)', '(0.01,1,1)', '(0.0299,3,3)'],
          'market_depth at the thresholds, inclusive');
-- 20000 bps: bids down to 100 * (1 - 2) = -100, asks up to 300
SELECT is((SELECT row(bid_notional, ask_notional, bid_complete, ask_complete)::text
             FROM liquidity_depth('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', '{20000}')),
          '(586,614,f,f)', 'a threshold below zero for the bids');
-- prices finer deeper in the side (frame 0, 1, then 2 at 99.00005, after
-- two thresholds were taken); mid 100.5: 50 bps 99.9975, 100 bps 99.495,
-- 148 bps 99.0126 (taken at 99.00005, complete), 150 bps 98.9925 (every
-- level: 100 + 99.5 + 99.25 + 99.00005, not complete); the ask 101 lies
-- within each threshold (101.0025 and up), never complete
SELECT is((SELECT array_agg(row(bps, bid_notional, ask_notional, bid_complete, ask_complete)::text)
             FROM liquidity_depth('{{100,1},{99.5,1},{99.25,1},{99.00005,1}}', '{{101,1}}',
                                  '{150,50,148,100}')),
          ARRAY['(150,397.75005,101,f,f)', '(50,100,101,t,f)', '(148,298.75,101,t,f)',
                '(100,199.5,101,t,f)'],
          'a finer price after thresholds were taken');
-- zero quantities: 99 * 1 + 98 * 0 = 99 (scale 0 + 1), 101 * 0.0 + 102 * 1
SELECT is((SELECT row(bid_notional::text, ask_notional::text)::text
             FROM liquidity_depth('{{99,1},{98,0.0}}', '{{101,0.0},{102,1}}', '{300}')),
          '(99.0,102.0)', 'zero quantities keep their scale');
-- slippage: an order that takes a level exactly whole (buy 101 at 101:
-- 1 base, avg 101, 100 bps), the second level exactly (buy 305: 1 + 204/102
-- = 3 base, avg 305/3, (305/3 - 100)/100 * 10^4 = 500/3 bps), the whole
-- side exactly (sell 586: 6 base, avg 586/6), one more than a side holds
SELECT is((SELECT row(avg_price, slippage_bps, filled_base, filled_quote, levels_used, feasible)::text
             FROM slippage('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', 'buy', 101)),
          '(101.0000000000000000,100.0000000000000000,1.00000000000000000000,101,1,t)',
          'slippage: an order that takes the best level exactly');
SELECT is((SELECT row(round(avg_price, 12), round(slippage_bps, 12), round(filled_base, 12), filled_quote, levels_used, feasible)::text
             FROM slippage('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', 'buy', 305)),
          '(101.666666666667,166.666666666667,3.000000000000,305,2,t)',
          'slippage: an order that takes two levels exactly');
SELECT is((SELECT row(round(avg_price, 12), round(slippage_bps, 12), round(filled_base, 12), filled_quote, levels_used, feasible)::text
             FROM slippage('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', 'sell', 586)),
          '(97.666666666667,233.333333333333,6.000000000000,586,3,t)',
          'slippage: an order that takes the whole side exactly');
SELECT is((SELECT row(avg_price, slippage_bps, filled_base, filled_quote, levels_used, feasible)::text
             FROM slippage('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3}}', 'sell', 586.01)),
          '(,,6,586,3,f)', 'slippage: one cent more than the side holds');
SELECT is((SELECT row(avg_price, slippage_bps, filled_base, filled_quote, levels_used, feasible)::text
             FROM slippage('{{99,1},{98,2},{97,3}}', '{{101,1},{102,2},{103,3.5}}', 'buy', 1e6)),
          '(,,6.5,665.5,3,f)', 'slippage: a buy larger than the asks');

-- ---------------------------------------------------------------------------
-- The edges of the 64-bit lane (figures worked out by hand)
-- ---------------------------------------------------------------------------
-- quantities finer level by level move the column to 0, 1, 2 and 4
-- fractional digit groups: 100*5 + 99.5*0.5 + 99*0.00000001 + 98*1e-16 =
-- 500 + 49.75 + 0.00000099 + 0.0000000000000098, at scale 16
SELECT is((SELECT row(bid_notional::text, ask_notional::text, bid_complete, ask_complete)::text
             FROM liquidity_depth('{{100,5},{99.5,0.5},{99,0.00000001},{98,0.0000000000000001}}',
                                  '{{101,1}}', '{10000}')),
          '(549.7500009900000098,101,f,f)', 'finer quantities deeper in a side: exact notional and scale');
SELECT is((SELECT bid_volume::text FROM market_depth('{{100,5},{99.5,0.5},{99,0.00000001},{98,0.0000000000000001}}',
                                                       '{{101,1}}', '{1}')),
          '5.5000000100000001', 'finer quantities deeper in a side: exact volume and scale');
-- 1e-17 needs five fractional groups: the general path
SELECT is((SELECT bid_volume::text FROM market_depth('{{100,5},{99,0.00000000000000001}}', '{{101,1}}', '{1}')),
          '5.00000000000000001', 'a quantity of five fractional digit groups (general path)');
-- 9210000000000000000 is the largest leading group that fits at frame 0
-- (921 * 10^16), 9220000000000000000 does not: 2 * 9.21e18 + 1 * 9.22e18
SELECT is((SELECT bid_notional::text FROM liquidity_depth('{{2,9210000000000000000},{1,9220000000000000000}}',
                                                            '{{3,1}}', '{10000}')),
          '27640000000000000000', 'a quantity beyond 64 bits at frame 0 (general path)');
SELECT is((SELECT bid_notional::text FROM liquidity_depth('{{2,9210000000000000000},{1,9220000000000000000}}',
                                                            '{{3,1}}', '{5000}')),
          '18420000000000000000', 'a quantity of 921 * 10^16 stays in the lane');
-- 900000000000 fits at frame 0, but 0.0000001 moves the column to frame 2,
-- where 9e11 * 10^8 overflows 64 bits: 10 * 9e11 + 9 * 1e-7
SELECT is((SELECT row(bid_notional::text, bid_complete)::text
             FROM liquidity_depth('{{10,900000000000},{9,0.0000001}}', '{{11,1}}', '{10000}')),
          '(9000000000000.0000009,f)', 'a finer value that does not fit with the values before it');
SELECT is((SELECT bid_volume::text FROM market_depth('{{10,900000000000},{9,0.0000001}}', '{{11,1}}', '{1}')),
          '900000000000.0000001', 'the same, as a volume');
-- a display scale of 19 (more than the lane keeps): 100 * 1.0000000000000000000
SELECT is((SELECT row(bid_notional::text, ask_notional::text, bid_complete, ask_complete)::text
             FROM liquidity_depth('{{100,1.0000000000000000000}}', '{{101,2}}', '{100}')),
          '(100.0000000000000000000,202,f,f)', 'a quantity of scale 19 keeps its scale');
-- a price of five digit groups: mid (1234567890123.5 + 1234567890124) / 2,
-- 1 bps below it is 1234444433334.737625, both bids lie within:
-- 1234567890123.5 * 2 + 1234567890123 * 1
SELECT is((SELECT row(bid_notional::text, bid_complete)::text
             FROM liquidity_depth('{{1234567890123.5,2},{1234567890123,1}}', '{{1234567890124,1}}', '{1}')),
          '(3703703670370.0,f)', 'prices of five digit groups (general path)');
SELECT is(mid_price('{{1234567890123.5,2},{1234567890123,1}}', '{{1234567890124,1}}'),
          1234567890123.75, 'mid of prices of five digit groups');
-- prices across a digit group boundary, in order: 10000.5 (weight 1, three
-- groups), 10000 (weight 1, one group), 9999.5 (weight 0); mid 10000.75,
-- 10 bps below it 9990.74925: 10000.5 + 2 * 10000 + 3 * 9999.5
SELECT is((SELECT bid_notional::text FROM liquidity_depth('{{10000.5,1},{10000,2},{9999.5,3}}', '{{10001,1}}', '{10}')),
          '59999.0', 'bids across a digit group boundary are in order');
SELECT throws_ok($$SELECT mid_price('{{10000,1},{10000.5,1}}', '{{10001,1}}')$$, '22023',
    'order book bids are not sorted best first', 'bids out of order within one weight, different digit counts');
SELECT throws_ok($$SELECT mid_price('{{0.9,1}}', '{{1.5,1},{1.25,1}}')$$, '22023',
    'order book asks are not sorted best first', 'asks out of order within one digit group');
SELECT throws_ok($$SELECT mid_price('{{1,1}}', '{{9999,1},{10000,1},{9999.99,1}}')$$, '22023',
    'order book asks are not sorted best first', 'asks out of order across a digit group boundary');
-- a buy walks only the first asks, but every level of both sides is checked
SELECT throws_ok(format($$SELECT * FROM slippage(%L, '{{50001,100}}', 'buy', 10)$$,
    (SELECT array_agg(ARRAY[CASE WHEN i = 900 THEN 50000 ELSE 50000 - i END, 1] ORDER BY i)
       FROM generate_series(1, 1000) i)), '22023',
    'order book bids are not sorted best first', 'a buy checks the order of the bids, level 900');
-- Divisions (spread_bps, slippage's averages and bps) are numeric_div's,
-- result scale and rounding included: spread_bps against PostgreSQL's own
-- division of the same figures, 3000 books of prices from 1e-9 to 1e11
-- with 0 to 12 decimals
SELECT is((SELECT count(*) FILTER (WHERE spread_bps(bk, ak)::text <> (((a - b) * 10000) / mid_price(bk, ak))::text)
                  || ' of ' || count(*) || ', ' || count(DISTINCT scale(spread_bps(bk, ak)))
             FROM (SELECT b, a, ARRAY[[b, 1]] AS bk, ARRAY[[a, 1]] AS ak
                     FROM (SELECT b, trim_scale(b + round(((i * 104729) % 9973 + 1)::numeric * 10::numeric ^ (i % 9 - 6), i % 11)
                                              + 10::numeric ^ (-(i % 11))) AS a
                             FROM (SELECT i, trim_scale(round(((i * 7919) % 100003 + 1)::numeric * 10::numeric ^ (i % 21 - 9), i % 13)
                                                        + 10::numeric ^ (-(i % 13))) AS b
                                     FROM generate_series(1, 3000) i) x) y) z),
          '0 of 3000, 6', 'spread_bps: numeric_div''s value and scale on 3000 books (results of 6 scales, 12 to 32)');
-- 1000 bids from 10100 down by 0.5: 10000 (weight 1) at level 201, 9999.5
-- (weight 0) at level 202, in order; with those two swapped, 9999.5 comes
-- before 10000; a sell of 10 fills at the best bid, the rest is only checked
SELECT is((SELECT levels_used || ' ' || (avg_price = 10100) || ' ' || feasible FROM slippage(
              (SELECT array_agg(ARRAY[10100 - i * 0.5, 1] ORDER BY i) FROM generate_series(0, 999) i),
              '{{10101,1}}', 'sell', 10)),
          '1 true true', 'a long side across a digit group boundary, in order');
SELECT throws_ok(format($$SELECT * FROM slippage(%L, '{{10101,1}}', 'sell', 10)$$,
    (SELECT array_agg(ARRAY[10100 - (CASE i WHEN 200 THEN 201 WHEN 201 THEN 200 ELSE i END) * 0.5, 1] ORDER BY i)
       FROM generate_series(0, 999) i)), '22023',
    'order book bids are not sorted best first', 'a long side: bids rising across a digit group boundary, level 202');
-- 1000 asks from 9900 up by 0.5 with 10000 (level 201) and 9999.5 (level
-- 200) swapped: the digit groups of 9999.5 exceed those of 10000, only the
-- weights tell them apart
SELECT throws_ok(format($$SELECT * FROM slippage('{{9899,1}}', %L, 'buy', 10)$$,
    (SELECT array_agg(ARRAY[9900 + (CASE i WHEN 199 THEN 200 WHEN 200 THEN 199 ELSE i END) * 0.5, 1] ORDER BY i)
       FROM generate_series(0, 999) i)), '22023',
    'order book asks are not sorted best first', 'a long side: asks falling across a digit group boundary, level 201');
SELECT throws_ok(format($$SELECT * FROM slippage(%L, '{{50001,100}}', 'buy', 10)$$,
    (SELECT array_agg(ARRAY[50000 - i, CASE WHEN i = 999 THEN -1 ELSE 1 END] ORDER BY i)
       FROM generate_series(1, 1000) i)), '22003',
    'order book bids level 999 has a negative quantity', 'a buy checks the bid quantities, level 999');
SELECT throws_ok(format($$SELECT * FROM slippage('{{49999,100}}', %L, 'sell', 10)$$,
    (SELECT array_agg(ARRAY[50000 + i, CASE WHEN i = 1000 THEN NULL ELSE 1 END] ORDER BY i)
       FROM generate_series(1, 1000) i)), '22004',
    'order book asks level 1000 has a NULL quantity', 'a sell checks the asks for NULLs, level 1000');
SELECT throws_ok(format($$SELECT * FROM liquidity_depth(%L, '{{50001,100}}', '{1}')$$,
    (SELECT array_agg(ARRAY[CASE WHEN i = 1000 THEN 'NaN'::numeric ELSE 50000 - i END, 1] ORDER BY i)
       FROM generate_series(1, 1000) i)), '22023',
    'order book bids level 1000 has a price that is not a finite number',
    'liquidity_depth checks levels beyond its thresholds, level 1000');

SELECT ok(c.ok, b.name || ': slippage ' || s.side || ' ' || s.notional || ' (' || c.detail || ')')
  FROM books b
 CROSS JOIN (VALUES ('huge', 'buy', 1e30::numeric), ('huge', 'buy', 1e31), ('huge', 'sell', 1e40),
                    ('huge', 'sell', 9.5e39), ('wide', 'sell', 1e38), ('wide', 'sell', 5e38),
                    ('wide', 'buy', 1e24), ('wide', 'buy', 1e30)) s(book, side, notional)
 CROSS JOIN LATERAL pg_temp.slip_check(b.bids, b.asks, s.side, s.notional) c
 WHERE b.name = s.book
 ORDER BY b.name, s.side, s.notional;

-- ---------------------------------------------------------------------------
-- The C API rows equal the SQL functions
-- ---------------------------------------------------------------------------
SELECT results_eq(
    format($$SELECT u.x::text FROM liquidity_depth_row(%L, %L) r,
               unnest(ARRAY[r.bid_1bps, r.bid_2_5bps, r.bid_5bps, r.bid_10bps, r.bid_20bps, r.bid_50bps, r.bid_100bps,
                            r.ask_1bps, r.ask_2_5bps, r.ask_5bps, r.ask_10bps, r.ask_20bps, r.ask_50bps, r.ask_100bps])
               WITH ORDINALITY u(x, o) ORDER BY o$$, bids, asks),
    format($$SELECT x FROM (SELECT bid_notional AS x, 1 AS s, o FROM pg_temp.ld_sql(%1$L, %2$L, '{1,2.5,5,10,20,50,100}') WITH ORDINALITY t(a, bid_notional, c, d, e, o)
                            UNION ALL
                            SELECT ask_notional, 2, o FROM pg_temp.ld_sql(%1$L, %2$L, '{1,2.5,5,10,20,50,100}') WITH ORDINALITY t(a, b, ask_notional, d, e, o)) z
               ORDER BY s, o$$, bids, asks),
    name || ': liquidity_depth_row notionals equal set-based SQL') FROM books ORDER BY name;

SELECT ok(r.mid_price = mid_price(bids, asks)
          AND r.max_bid_bps = round((r.mid_price - bids[array_length(bids, 1)][1]) * round(10000, 100) / r.mid_price,
                                    scale(r.max_bid_bps))
          AND r.max_ask_bps = round((asks[array_length(asks, 1)][1] - r.mid_price) * round(10000, 100) / r.mid_price,
                                    scale(r.max_ask_bps)),
          name || ': liquidity_depth_row mid and max bps (' || r.max_bid_bps || ', ' || r.max_ask_bps || ')')
  FROM books, liquidity_depth_row(bids, asks) r ORDER BY name;

SELECT results_eq(
    format($$SELECT amount::text, side, mid_price::text, avg_price::text, slippage_bps::text, feasible
               FROM slippage_rows(%L, %L)$$, bids, asks),
    format($$SELECT a::text, s, x.mid_price::text, x.avg_price::text, x.slippage_bps::text, x.feasible
               FROM unnest('{1000,10000,50000,100000,500000,1000000,5000000,10000000}'::numeric[]) WITH ORDINALITY n(a, o),
                    unnest('{buy,sell}'::text[]) WITH ORDINALITY d(s, so),
                    slippage(%L, %L, s, a) x ORDER BY o, so$$, bids, asks),
    name || ': slippage_rows equal slippage() for the standard sizes') FROM books ORDER BY name;

-- ---------------------------------------------------------------------------
-- vwap equals sum(price*qty)/sum(qty), value and scale
-- ---------------------------------------------------------------------------
CREATE TABLE pg_temp.vw (g text, p numeric, q numeric);
INSERT INTO vw SELECT 'scales', round((i * 7919 % 100003) / 37.0, i % 9), round((i * 104729 % 1009) / 7.0, (i * 3) % 7)
                 FROM generate_series(1, 20000) i;
INSERT INTO vw SELECT 'negative', round(i / 3.0, 3), round(((i % 11) - 5) / 4.0, 2) FROM generate_series(1, 1000) i;
INSERT INTO vw SELECT 'overflow', 1e30 + i, 1e20 * i FROM generate_series(1, 1000) i;
INSERT INTO vw SELECT 'small then overflow', CASE WHEN i < 900 THEN 100.5 ELSE 1e35 END, 3.25 FROM generate_series(1, 1000) i;
INSERT INTO vw SELECT 'scale 50', 1 + i * 1e-50, 2 FROM generate_series(1, 100) i;
INSERT INTO vw SELECT 'tiny', 0.00000123 + i * 0.00000001, i * 1000000 FROM generate_series(1, 100) i;
INSERT INTO vw SELECT 'NaN', CASE WHEN i = 5 THEN 'NaN'::numeric ELSE i END, 1 FROM generate_series(1, 10) i;
INSERT INTO vw SELECT 'Infinity', CASE WHEN i = 5 THEN 'Infinity'::numeric ELSE i END, 1 FROM generate_series(1, 10) i;
INSERT INTO vw SELECT 'one row', 42.4242, 0.001;

SELECT is(vwap(p, q)::text, (sum(p * q) / sum(q))::text, 'vwap = sum(price*qty)/sum(qty): ' || g)
  FROM vw GROUP BY g ORDER BY g;
SELECT is(vwap(p, q), NULL, 'vwap is NULL when sum(qty) = 0')
  FROM (VALUES (1.5, 2), (2.5, -2)) v(p, q);

-- parallel: partial states of every kind (128-bit, numeric fallback, NaN)
-- are serialized by the workers and combined by the leader
CREATE TABLE vw_par AS SELECT * FROM vw;
INSERT INTO vw_par SELECT g, p, q FROM vw, generate_series(1, 4) WHERE g <> 'scales';
INSERT INTO vw_par SELECT 'scales', p, q FROM vw, generate_series(1, 4) WHERE g = 'scales';
ALTER TABLE vw_par SET (parallel_workers = 2);
ANALYZE vw_par;
CREATE TEMP TABLE serial_result AS
    SELECT g, vwap(p, q)::text AS v, (sum(p * q) / sum(q))::text AS s FROM vw_par GROUP BY g;
SELECT is(count(*) FILTER (WHERE v = s), count(*), 'serial vwap equals SQL on every group') FROM serial_result;

SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SET LOCAL enable_hashagg = off;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) ' || q INTO j;
    RETURN j::text;
END $$;
SELECT matches(pg_temp.plan_of('SELECT vwap(p, q) FROM vw_par'), '"Partial Mode": "Partial"',
               'vwap runs as a Partial Aggregate');
SELECT cmp_ok(substring(pg_temp.plan_of('SELECT g, vwap(p, q) FROM vw_par GROUP BY g')
                        FROM '"Workers Launched": ([0-9]+)')::int, '>', 0,
              'parallel workers ran the grouped vwap');
SELECT results_eq($$SELECT g, vwap(p, q)::text FROM vw_par GROUP BY g ORDER BY g$$,
                  $$SELECT g, v FROM serial_result ORDER BY g$$,
                  'parallel vwap equals serial vwap and SQL, every group');
SELECT is((SELECT vwap(p, q)::text FROM vw_par WHERE g = 'scales'),
          (SELECT s FROM serial_result WHERE g = 'scales'),
          'parallel ungrouped vwap equals SQL');

SELECT * FROM finish();
ROLLBACK;
