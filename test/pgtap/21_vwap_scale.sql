-- vwap on any numeric scale (issue 20, point 5): values worked out by hand
-- at high scale (20, 25, 40, 80 decimals), mixed scales in one aggregate,
-- negative quantities, huge and tiny magnitudes, NaN and infinities, the
-- bounds of numeric's format, a running (window) vwap, and parallel
-- partial states of the general path combined by the leader.
--
-- The result is sum(price*qty) / sum(qty) as PostgreSQL computes it: each
-- product has the sum of its factors' scales, each sum the largest scale of
-- its terms, and the division numeric_div's scale: max(16 - 4 * w, scale of
-- the dividend, scale of the divisor), w the weight of the quotient's first
-- base-10000 digit, rounded half away from zero.
BEGIN;
SELECT plan(27);
SET LOCAL search_path = perps_stats, public;

-- ---------------------------------------------------------------------------
-- High scale
-- ---------------------------------------------------------------------------
-- 50000.01 * 1.5 + 49999.99 * 0.5 = 75000.015 + 24999.995 = 100000.010,
-- sum(qty) = 2: 50000.005; products of scale 20 + 20 = 40, so 40 decimals
SELECT is((SELECT vwap(p, q)::text FROM (VALUES
              (50000.01000000000000000000, 1.50000000000000000000),
              (49999.99000000000000000000, 0.50000000000000000000)) v(p, q)),
          '50000.0050000000000000000000000000000000000000',
          'scale 20 x scale 20: exact quotient at 40 decimals');

-- 50000.01 * 1.001 + 50000.02 * 1.002 = 50050.01001 + 50100.02004 = 100150.03005,
-- sum(qty) = 2.003; 2.003 * 50000 = 100150, 0.03005 / 2.003 = 0.015 + 0.000005 / 2.003
-- and 5 / 2.003 = 2.49625561657513729405891163255117324013979...: the quotient is
-- 50000.0150024962556165751372940589116325511732|40 (40 decimals, next digit 4: down)
SELECT is((SELECT vwap(p, q)::text FROM (VALUES
              (50000.01000000000000000000, 1.00100000000000000000),
              (50000.02000000000000000000, 1.00200000000000000000)) v(p, q)),
          '50000.0150024962556165751372940589116325511732',
          'scale 20 x scale 20: a rounded quotient at 40 decimals');

-- 1e-25 (scale 25) * 2 (scale 20) = 2e-25 at scale 45; / 2 = 1e-25, whose first
-- base-10000 digit (1000) has weight -7: 16 + 28 = 44 < 45 decimals
SELECT is((SELECT vwap(0.0000000000000000000000001, 2.00000000000000000000)::text),
          '0.000000000000000000000000100000000000000000000',
          'scale 25 x scale 20: 45 decimals');

-- ---------------------------------------------------------------------------
-- Mixed scales in one aggregate (64-bit rows and general rows together)
-- ---------------------------------------------------------------------------
-- 1.5 * 2 = 3.0 (scale 1), 0.25 * 4.000 = 1.00000 (scale 5), 3.00000000000000000000001 * 1
-- (scale 23): 7.00000000000000000000001 at scale 23; sum(qty) = 7.000;
-- 7.00000000000000000000001 / 7 = 1.00000000000000000000000142857...: 23 decimals
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (1.5, 2), (0.25, 4.000),
              (3.00000000000000000000001, 1)) v(p, q)),
          '1.00000000000000000000000',
          'mixed scales 1, 5 and 23 in one aggregate');
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (3.00000000000000000000001, 1), (1.5, 2),
              (0.25, 4.000)) v(p, q)),
          '1.00000000000000000000000',
          'the same rows, the general one first');

-- ---------------------------------------------------------------------------
-- Negative quantities (and prices) are numbers like any other
-- ---------------------------------------------------------------------------
-- 10.00000000000000000001 * 3 + 20 * -1 = 30.00000000000000000003 - 20 = 10.00000000000000000003,
-- sum(qty) = 2: 5.000000000000000000015, 20 decimals, half away from zero: ...02
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (10.00000000000000000001, 3), (20, -1)) v(p, q)),
          '5.00000000000000000002', 'a negative quantity, rounding half away from zero');
-- 2.5 * -1e-20 = -2.5e-20 (scale 21), sum(qty) = -1e-20: 2.5 at 21 decimals
SELECT is((SELECT vwap(2.5, -0.00000000000000000001)::text), '2.500000000000000000000',
          'negative sums on both sides');
-- -3.00000000000000000001 * 2 = -6.00000000000000000002, / 2 = -3.00000000000000000001
SELECT is((SELECT vwap(-3.00000000000000000001, 2)::text), '-3.00000000000000000001',
          'a negative vwap');
-- 1.00000000000000000001 * 1 + 2 * -1 = -0.99999999999999999999, sum(qty) = 0: NULL
SELECT is((SELECT vwap(p, q) FROM (VALUES (1.00000000000000000001, 1), (2, -1)) v(p, q)),
          NULL, 'sum(qty) = 0 on the general path: NULL');

-- ---------------------------------------------------------------------------
-- Huge and tiny magnitudes
-- ---------------------------------------------------------------------------
-- 1e40 * 3 + 2e40 * 1 = 5e40, / 4 = 1.25e40: weight 10, 16 - 40 < 0: no decimals
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (1e40, 3), (2e40, 1)) v(p, q)),
          '12500000000000000000000000000000000000000', 'huge prices');
-- (10^400 - 1) * 3 + 1 * 1 = 3 * 10^400 - 2, / 4 = 7.5 * 10^399 - 0.5, no decimals,
-- half away from zero: 7.5 * 10^399 (factors of 100 base-10000 digits: numeric_mul's path)
SELECT is((SELECT vwap(p, q) FROM (VALUES (repeat('9', 400)::numeric, 3), (1, 1)) v(p, q)),
          75 * 10::numeric ^ 398, 'a 400-digit price: the value');
SELECT is((SELECT scale(vwap(p, q)) FROM (VALUES (repeat('9', 400)::numeric, 3), (1, 1)) v(p, q)),
          0, 'a 400-digit price: the scale');
-- 1e-40 * 1e-40 + 3e-40 * 1e-40 = 4e-80 (scale 80), sum(qty) = 2e-40: 2e-40, whose
-- first digit has weight -10: 16 + 40 = 56 < 80 decimals
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (1e-40, 1e-40), (3e-40, 1e-40)) v(p, q)),
          '0.' || repeat('0', 39) || '2' || repeat('0', 40), 'tiny prices and sizes: 80 decimals');

-- ---------------------------------------------------------------------------
-- NaN and infinities: numeric's rules for the products, the sums and the division
-- ---------------------------------------------------------------------------
-- Infinity * 1 + 1 * 1.00000000000000000001 = Infinity; / 2.00000000000000000001 = Infinity
SELECT is((SELECT vwap(p, q)::text FROM (VALUES ('Infinity'::numeric, 1), (1, 1.00000000000000000001)) v(p, q)),
          'Infinity', 'Infinity');
-- Infinity + -Infinity = NaN
SELECT is((SELECT vwap(p, q)::text FROM (VALUES ('Infinity'::numeric, 1), ('-Infinity', 1.00000000000000000001)) v(p, q)),
          'NaN', 'Infinity and -Infinity: NaN');
-- 1 * Infinity = Infinity; Infinity / Infinity = NaN
SELECT is((SELECT vwap(1.00000000000000000001, 'Infinity')::text), 'NaN', 'an infinite quantity: NaN');
-- 1e-20 * Infinity = Infinity, over sum(qty) = Infinity
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (0.00000000000000000001, 'Infinity'::numeric)) v(p, q)),
          'NaN', 'a tiny price times an infinite quantity: Infinity / Infinity = NaN');
SELECT is((SELECT vwap(p, q)::text FROM (VALUES (2, 'NaN'::numeric), (1.00000000000000000001, 1)) v(p, q)),
          'NaN', 'a NaN quantity: NaN');

-- ---------------------------------------------------------------------------
-- The bounds of numeric's format
-- ---------------------------------------------------------------------------
-- 10^70000 * 10^70000 = 10^140000: numeric holds 131072 digits before the point
SELECT throws_ok($$SELECT vwap(p, p) FROM (VALUES (10::numeric ^ 70000)) v(p)$$,
                 '22003', 'value overflows numeric format', 'a product beyond numeric''s range: 22003');
-- 9 * 10^131071 twice is 1.8 * 10^131072: the sum leaves numeric's range
SELECT throws_ok($$SELECT vwap(p, 1) FROM (VALUES (9 * 10::numeric ^ 131071), (9 * 10::numeric ^ 131071)) v(p)$$,
                 '22003', 'value overflows numeric format', 'a sum beyond numeric''s range: 22003');
-- p = 1 + 1e-10000 (scale 10000): p * p = 1 + 2e-10000 + 1e-20000 would have 20000
-- decimals, more than numeric's 16383, so numeric_mul rounds it to 1 + 2e-10000 (that path
-- is numeric_mul's own).  sum(qty) = p; the quotient 1 + 1e-10000 - 1e-20000 + ... gets
-- numeric_div's largest scale, 1000 decimals: 1.000...0 (decimals 1-1000 are zeros)
SELECT is((SELECT vwap(p, p)::text FROM (VALUES (('1.' || repeat('0', 9999) || '1')::numeric)) v(p)),
          '1.' || repeat('0', 1000), 'products of 20000 decimals, rounded as numeric_mul rounds them');

-- ---------------------------------------------------------------------------
-- A running vwap: the final function leaves the state as it was
-- ---------------------------------------------------------------------------
-- row 1: 1.00000000000000000001; row 2: (1.00000000000000000001 + 3) / 2 = 2.000000000000000000005,
-- 20 decimals: 2.00000000000000000001; row 3: + 5 * 2 = 14.00000000000000000001 / 4 = 3.5000000000000000000025
SELECT results_eq($$SELECT (vwap(p, q) OVER (ORDER BY i))::text FROM (VALUES
                      (1, 1.00000000000000000001, 1), (2, 3, 1), (3, 5, 2)) v(i, p, q) ORDER BY i$$,
                  ARRAY['1.00000000000000000001', '2.00000000000000000001', '3.50000000000000000000'],
                  'running vwap over general rows');

-- ---------------------------------------------------------------------------
-- Parallel: general-path partial states serialized by the workers
-- ---------------------------------------------------------------------------
-- 'scale 20': rows g = 1..200000, price 1 + g * 1e-20 (scale 20), qty 1.00000000000000000000:
-- sum(qty) = 200000, sum(price*qty) = 200000 + (200000 * 200001 / 2) * 1e-20 (scale 40),
-- vwap = 1 + 100000.5e-20 = 1.000000000000001000005, 40 decimals.
-- 'mixed': 2.00 * 1 on odd g (the 64-bit path), 4 at scale 25 * 1 on even g (the general path):
-- 100000 * 2 + 100000 * 4 = 600000 at scale 25, / 200000 = 3 at 25 decimals.
CREATE TABLE public.vwap_scale_par (g text, p numeric, q numeric);
INSERT INTO public.vwap_scale_par SELECT 'scale 20', 1 + i * 1e-20, 1.00000000000000000000 FROM generate_series(1, 200000) i;
INSERT INTO public.vwap_scale_par SELECT 'mixed', CASE WHEN i % 2 = 1 THEN 2.00 ELSE 4.0000000000000000000000000 END, 1
                 FROM generate_series(1, 200000) i;
ALTER TABLE public.vwap_scale_par SET (parallel_workers = 2);
ANALYZE public.vwap_scale_par;
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
SELECT cmp_ok(substring(pg_temp.plan_of($$SELECT vwap(p, q) FROM public.vwap_scale_par WHERE g = 'scale 20'$$)
                        FROM '"Workers Launched": ([0-9]+)')::int, '>', 0,
              'parallel workers ran the scale-20 vwap');
SELECT is((SELECT vwap(p, q)::text FROM public.vwap_scale_par WHERE g = 'scale 20'),
          '1.000000000000001000005' || repeat('0', 19), 'parallel vwap at scale 20');
SELECT is((SELECT vwap(p, q)::text FROM public.vwap_scale_par WHERE g = 'mixed'),
          '3.' || repeat('0', 25), 'parallel vwap over 64-bit and general rows');
SELECT results_eq($$SELECT g, vwap(p, q)::text FROM public.vwap_scale_par GROUP BY g ORDER BY g$$,
                  $$VALUES ('mixed', '3.' || repeat('0', 25)),
                           ('scale 20', '1.000000000000001000005' || repeat('0', 19))$$,
                  'parallel grouped vwap');

-- a sum whose carry runs past the limbs it had (found by make fuzz-analytics): qty 1 and
-- 99999999999999999999 at 20 decimals sum to 10^20, one limb above the highest; sum p*q =
-- 92233725690419.1 + 92233 * 99999999999999999999 = 9223300000092233725598186.1, over 10^20
SELECT is((SELECT perps_stats.vwap(p, q)
             FROM (VALUES (92233725690419.1::numeric(60,23), 1::numeric(60,20)), (92233, 99999999999999999999)) v(p, q)),
          92233.000000922337255981861, 'a carry past the top limb is kept (was NULL: the sum read as 0)');

SELECT * FROM finish();
ROLLBACK;
