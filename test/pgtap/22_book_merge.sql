-- Books of one market at several resolutions (issue 19): liquidity_depth_merged
-- and slippage_merged on a hand-made market at three resolutions, every
-- figure worked out by hand below, then the errors with their SQLSTATEs.
--
-- The market: mid = (9999.5 + 10000.5) / 2 = 10000, so 1 bps = 1 price unit.
--   A, the finest book, stops at 8 bps:
--     bids 9999.5 x1, 9999 x1, 9998 x1, 9995 x2, 9992 x1
--     asks 10000.5 x1, 10001 x1, 10002 x1, 10005 x2, 10008 x1
--   B, buckets of 5 (bids labelled by the bucket's lowest price, asks by its
--   highest), reaches 20 bps:
--     bids 9995 x5 (= 1+1+1+2 of A), 9990 x3, 9985 x4, 9980 x4
--     asks 10005 x5, 10010 x3, 10015 x4, 10020 x4
--   C, buckets of 50, reaches 100 bps:
--     bids 9950 x26 (B's 16 and 10 more), 9900 x30
--     asks 10050 x26, 10100 x30
BEGIN;
SELECT plan(45);
SET LOCAL search_path = perps_stats, public;

CREATE TEMP TABLE mkt AS SELECT ARRAY[
    ROW('{{9999.5,1},{9999,1},{9998,1},{9995,2},{9992,1}}',
        '{{10000.5,1},{10001,1},{10002,1},{10005,2},{10008,1}}')::order_book,
    ROW('{{9995,5},{9990,3},{9985,4},{9980,4}}',
        '{{10005,5},{10010,3},{10015,4},{10020,4}}')::order_book,
    ROW('{{9950,26},{9900,30}}', '{{10050,26},{10100,30}}')::order_book] AS books;

-- ---------------------------------------------------------------------------
-- Declarations
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE pronamespace = 'perps_stats'::regnamespace
              AND proname IN ('liquidity_depth_merged', 'slippage_merged')
              AND provolatile = 'i' AND proisstrict AND proparallel = 's'),
          2, 'the merged book functions are IMMUTABLE STRICT PARALLEL SAFE');
SELECT has_column('perps_stats', 'liquidity_depth', 'resolution', 'liquidity_depth says which resolution served it');
SELECT has_column('perps_stats', 'slippage', 'resolution', 'slippage says which resolution served it');

-- ---------------------------------------------------------------------------
-- Depth, 1 to 100 bps (thresholds: bids >= 10000 - bps, asks <= 10000 + bps)
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE d AS SELECT r.* FROM mkt, liquidity_depth_merged(mkt.books, '{1,2.5,5,8,10,20,50,100,150}') r;
-- 1 bps, from A (its deepest 9992 / 10008 reaches): bids >= 9999: 9999.5 + 9999 = 19998.5;
-- asks <= 10001: 10000.5 + 10001 = 20001.5
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 1$$,
                  $$VALUES (19998.5, 20001.5, true, true, 1, 1)$$, '1 bps from the finest book');
-- 2.5 bps: + 9998 = 29996.5; + 10002 = 30003.5
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_resolution, ask_resolution FROM d WHERE bps = 2.5$$,
                  $$VALUES (29996.5, 30003.5, 1, 1)$$, '2.5 bps from the finest book');
-- 5 bps: + 9995 * 2 = 19990 -> 49986.5; + 10005 * 2 = 20010 -> 50013.5
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_resolution, ask_resolution FROM d WHERE bps = 5$$,
                  $$VALUES (49986.5, 50013.5, 1, 1)$$, '5 bps from the finest book');
-- 8 bps, where A ends exactly: + 9992 = 59978.5; + 10008 = 60021.5, complete
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 8$$,
                  $$VALUES (59978.5, 60021.5, true, true, 1, 1)$$, '8 bps: the finest book reaches it exactly');
-- 10 bps: A ends at 8, B reaches: bids >= 9990: 9995 * 5 + 9990 * 3 = 49975 + 29970 = 79945;
-- asks <= 10010: 10005 * 5 + 10010 * 3 = 50025 + 30030 = 80055
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 10$$,
                  $$VALUES (79945::numeric, 80055::numeric, true, true, 2, 2)$$, '10 bps from the second book');
-- 20 bps, B ends there: 79945 + 9985 * 4 + 9980 * 4 = 79945 + 39940 + 39920 = 159805;
-- 80055 + 10015 * 4 + 10020 * 4 = 80055 + 40060 + 40080 = 160195
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 20$$,
                  $$VALUES (159805::numeric, 160195::numeric, true, true, 2, 2)$$, '20 bps from the second book');
-- 50 bps: B ends at 20, C reaches: 9950 * 26 = 258700; 10050 * 26 = 261300
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 50$$,
                  $$VALUES (258700::numeric, 261300::numeric, true, true, 3, 3)$$, '50 bps from the third book');
-- 100 bps: 258700 + 9900 * 30 = 258700 + 297000 = 555700; 261300 + 10100 * 30 = 261300 + 303000 = 564300
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 100$$,
                  $$VALUES (555700::numeric, 564300::numeric, true, true, 3, 3)$$, '100 bps from the third book, complete');
-- 150 bps: no book reaches; the lower bound of C, which reaches farthest
SELECT results_eq($$SELECT bid_notional, ask_notional, bid_complete, ask_complete, bid_resolution, ask_resolution
                    FROM d WHERE bps = 150$$,
                  $$VALUES (555700::numeric, 564300::numeric, false, false, 3, 3)$$, '150 bps: a lower bound from the book that reaches farthest');
SELECT is((SELECT count(*)::int FROM mkt, liquidity_depth_merged(mkt.books) r), 7, 'the default thresholds are the seven standard ones');

-- the finest book alone ends short: 10 bps and beyond are lower bounds there
SELECT results_eq($$SELECT bid_notional, bid_complete FROM mkt, liquidity_depth((mkt.books[1]).bids, (mkt.books[1]).asks, '{100}')$$,
                  $$VALUES (59978.5, false)$$, 'liquidity_depth of the finest book alone: 100 bps is a lower bound');
-- a coarser book that reaches less far than the finest adds nothing: A (to 9992) then
-- a book ending at 9995: 10 bps stays A's lower bound 59978.5, from book 1
SELECT results_eq($$SELECT bid_notional, bid_complete, bid_resolution
                    FROM mkt, liquidity_depth_merged(ARRAY[mkt.books[1], ROW('{{9995,5}}', '{{10005,5}}')::order_book], '{10}')$$,
                  $$VALUES (59978.5, false, 1)$$, 'a shallower coarse book does not replace a deeper finer one');
-- one book: the same figures as liquidity_depth
SELECT results_eq($$SELECT bps, bid_notional, ask_notional, bid_complete, ask_complete
                    FROM mkt, liquidity_depth_merged(ARRAY[mkt.books[2]], '{1,10,20,30}')$$,
                  $$SELECT r.* FROM mkt, liquidity_depth((mkt.books[2]).bids, (mkt.books[2]).asks, '{1,10,20,30}') r$$,
                  'one book: liquidity_depth''s figures');
-- the first book decides mid; an empty side of it: no rows
SELECT is((SELECT count(*)::int FROM mkt, liquidity_depth_merged(ARRAY[ROW('{}', '{{10000.5,1}}')::order_book, mkt.books[3]]) r),
          0, 'no rows when the finest book has no mid');

-- ---------------------------------------------------------------------------
-- Slippage, 1K to 10M.  The merged asks: A's five, then B's beyond 10008
-- (10010 x3, 10015 x4, 10020 x4), then C's beyond 10020 (10050 x26, 10100 x30).
-- Cumulative quote: 10000.5, 20001.5, 30003.5, 50013.5, 60021.5 | 90051.5,
-- 130111.5, 170191.5 | 431491.5, 734491.5.  The merged bids likewise:
-- 9999.5, 19998.5, 29996.5, 49986.5, 59978.5 | 89948.5, 129888.5, 169808.5 |
-- 428508.5, 725508.5.  avg = notional / base, slippage = |avg - 10000| (bps of 10000).
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE s AS
    SELECT n, sd, r.* FROM mkt, unnest('{1000,10000,50000,100000,500000,1000000,5000000,10000000}'::numeric[]) n,
           unnest('{buy,sell}'::text[]) sd, slippage_merged(mkt.books, sd, n) r;
-- 1K buy: all at 10000.5, 0.5 bps; sell at 9999.5, 0.5 bps
SELECT results_eq($$SELECT avg_price, slippage_bps, levels_used, resolution, feasible FROM s WHERE n = 1000 ORDER BY sd$$,
                  $$VALUES (10000.5, 0.5, 1, 1, true), (9999.5, 0.5, 1, 1, true)$$, '1K in the best level');
-- 10K buy: 10000.5 >= 10000, level 1; sell: 9999.5 then 0.5 at 9999: base 1 + 0.5/9999,
-- avg 10000 * 9999 / 9999.5 = 9999.499974999 (9 decimals), slippage 0.500025001
SELECT results_eq($$SELECT round(avg_price, 9), round(slippage_bps, 9), levels_used, resolution FROM s WHERE n = 10000 ORDER BY sd$$,
                  $$VALUES (10000.5, 0.5, 1, 1), (9999.499974999, 0.500025001, 2, 1)$$, '10K in the finest book');
-- 50K buy: 30003.5 over 3 levels (base 3), 19996.5 more at 10005: base 3 + 19996.5/10005
-- = 4.998650675, avg 50000 * 10005 / 50011.5 = 10002.699379143, 2.699379143 bps;
-- sell: 49986.5 over 4 levels (base 5), 13.5 at 9992: avg 50000 * 9992 / (5 * 9992 + 13.5)
-- = 9997.298568241, 2.701431759 bps
SELECT results_eq($$SELECT round(avg_price, 9), round(slippage_bps, 9), round(filled_base, 9), levels_used, resolution
                    FROM s WHERE n = 50000 ORDER BY sd$$,
                  $$VALUES (10002.699379143, 2.699379143, 4.998650675, 4, 1),
                           (9997.298568241, 2.701431759, 5.001351081, 5, 1)$$, '50K in the finest book');
-- 100K buy: 90051.5 over 6 levels (base 9), 9948.5 at B's 10015: avg 100000 * 10015 /
-- (9 * 10015 + 9948.5) = 1001500000 / 100083.5 = 10006.644451883, 6.644451883 bps;
-- sell: 89948.5 (base 9), 10051.5 at 9985: avg 100000 * 9985 / 100061.5 = 9993.344442610
SELECT results_eq($$SELECT round(avg_price, 9), round(slippage_bps, 9), round(filled_base, 9), levels_used, resolution
                    FROM s WHERE n = 100000 ORDER BY sd$$,
                  $$VALUES (10006.644451883, 6.644451883, 9.993359960, 7, 2),
                           (9993.344442610, 6.655557390, 10.006659990, 7, 2)$$, '100K walks into the second book');
-- 500K buy: 431491.5 over 9 levels (base 43), 68508.5 at C's 10100: avg 500000 * 10100 /
-- (43 * 10100 + 68508.5) = 5050000000 / 502808.5 = 10043.585182033; sell: 428508.5 (base 43),
-- 71491.5 at 9900: avg 500000 * 9900 / (43 * 9900 + 71491.5) = 4950000000 / 497191.5 = 9955.922416212
SELECT results_eq($$SELECT round(avg_price, 9), round(slippage_bps, 9), round(filled_base, 9), levels_used, resolution
                    FROM s WHERE n = 500000 ORDER BY sd$$,
                  $$VALUES (10043.585182033, 43.585182033, 49.783019802, 10, 3),
                           (9955.922416212, 44.077583788, 50.221363636, 10, 3)$$, '500K walks into the third book');
-- 1M, 5M, 10M: more than the merged book holds (734491.5 asks, 725508.5 bids; base 73 each)
SELECT results_eq($$SELECT n, sd, feasible, avg_price IS NULL, filled_quote, filled_base, levels_used, resolution
                    FROM s WHERE n >= 1000000 ORDER BY n, sd$$,
                  $$VALUES (1000000::numeric, 'buy', false, true, 734491.5, 73::numeric, 10, 3),
                           (1000000, 'sell', false, true, 725508.5, 73, 10, 3),
                           (5000000, 'buy', false, true, 734491.5, 73, 10, 3),
                           (5000000, 'sell', false, true, 725508.5, 73, 10, 3),
                           (10000000, 'buy', false, true, 734491.5, 73, 10, 3),
                           (10000000, 'sell', false, true, 725508.5, 73, 10, 3)$$,
                  '1M to 10M: infeasible, all the merged book holds');
SELECT is((SELECT mid_price FROM s LIMIT 1), 10000::numeric, 'mid is the finest book''s');
-- the finest book alone cannot fill 100K
SELECT is((SELECT feasible FROM mkt, slippage((mkt.books[1]).bids, (mkt.books[1]).asks, 'buy', 100000)),
          false, 'the finest book alone cannot fill 100K');
-- one book: slippage's figures
SELECT results_eq($$SELECT mid_price, avg_price, slippage_bps, filled_base, filled_quote, levels_used, feasible
                    FROM mkt, slippage_merged(ARRAY[mkt.books[2]], 'sell', 30000)$$,
                  $$SELECT r.* FROM mkt, slippage((mkt.books[2]).bids, (mkt.books[2]).asks, 'sell', 30000) r$$,
                  'one book: slippage''s figures');

-- ---------------------------------------------------------------------------
-- Errors, each with its SQLSTATE
-- ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT * FROM liquidity_depth_merged('{}')$$, '22023',
                 'books must hold at least one book', 'no book');
SELECT throws_ok($$SELECT * FROM slippage_merged('{}', 'buy', 1)$$, '22023',
                 'books must hold at least one book', 'no book (slippage)');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(array_fill(mkt.books[1], ARRAY[9]))$$, '54000',
                 'books has 9 books, more than the 8 allowed', 'nine books');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(array_fill(mkt.books[1], ARRAY[9]), 'buy', 1)$$, '54000',
                 'books has 9 books, more than the 8 allowed', 'nine books (slippage)');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(ARRAY[mkt.books[1], NULL])$$, '22004',
                 'book 2 of books is NULL', 'a NULL book');
SELECT throws_ok($$SELECT * FROM liquidity_depth_merged(ARRAY[ROW(NULL, '{{2,1}}')::order_book])$$, '22004',
                 'book 1 of books has NULL bids', 'a book with NULL bids');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(ARRAY[[mkt.books[1]], [mkt.books[2]]])$$, '2202E',
                 'books must be a one-dimensional array', 'a 2-D books array');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(ARRAY[mkt.books[1], ROW('{{9990,3},{9995,5}}', '{{10005,5}}')::order_book])$$,
                 '22023', 'order book bids are not sorted best first', 'an unsorted coarse book, even when not needed');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(ARRAY[mkt.books[1], ROW('{{10010,3}}', '{{10005,5}}')::order_book], 'buy', 1)$$,
                 '22023', 'order book is crossed', 'a crossed coarse book (slippage)');
SELECT throws_ok($$SELECT * FROM liquidity_depth_merged(ARRAY[ROW('{{1,-1}}', '{{2,1}}')::order_book])$$,
                 '22003', 'order book bids level 1 has a negative quantity', 'a negative quantity in the finest book');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(mkt.books, '{-1}')$$, '22023',
                 'bps must be finite and not negative', 'a negative threshold');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(mkt.books, '{1,NULL}')$$, '22004',
                 'bps must not contain NULLs', 'a NULL threshold');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(mkt.books, array_fill(1::numeric, ARRAY[1001]))$$, '54000',
                 'bps has 1001 thresholds, more than the 1000 allowed', '1001 thresholds');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(mkt.books, 'hold', 1)$$, '22023',
                 'side must be "buy" or "sell", not "hold"', 'a bad side');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(mkt.books, 'buy', 0)$$, '22023',
                 'notional must be a positive number', 'a zero notional');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(mkt.books, 'buy', 'NaN')$$, '22023',
                 'notional must be a positive number', 'a NaN notional');
SELECT throws_ok($$SELECT * FROM mkt, liquidity_depth_merged(ARRAY[mkt.books[1], ROW(array_fill(1::numeric, ARRAY[100001, 2]), '{}')::order_book])$$,
                 '54000', 'book 2 bids have 100001 levels, more than the 100000 allowed', 'a side beyond the level bound');
SELECT throws_ok($$SELECT * FROM mkt, slippage_merged(ARRAY[ROW('{}', array_fill(1::numeric, ARRAY[100001, 2]))::order_book], 'buy', 1)$$,
                 '54000', 'book 1 asks have 100001 levels, more than the 100000 allowed', 'a side beyond the level bound (slippage)');

-- cancellable: a merge that walks 100 000 levels of 40-digit prices twice (the finest
-- book cannot fill the order, so the walk goes on into the coarse book's tail) is
-- stopped by statement_timeout
CREATE TEMP TABLE big AS
SELECT (SELECT array_agg(ARRAY[1e40 - i * 1e-30, 1e-30 * i] ORDER BY i) FROM generate_series(1, 100000) i) AS bids,
       (SELECT array_agg(ARRAY[1e40 + i * 1e-30, 1e-30 * i] ORDER BY i) FROM generate_series(1, 100000) i) AS asks;
CREATE TEMP TABLE took (what text);
SET LOCAL statement_timeout = '100ms';
DO $$
BEGIN
    PERFORM count(*) FROM big, generate_series(1, 20) g,
        slippage_merged(ARRAY[ROW(big.bids, big.asks)::order_book, ROW(big.bids, big.asks)::order_book], 'buy', 1e80);
    INSERT INTO took VALUES ('finished');
EXCEPTION WHEN query_canceled THEN
    INSERT INTO took VALUES ('cancelled');
END $$;
RESET statement_timeout;
SELECT is((SELECT what FROM took), 'cancelled', 'statement_timeout cancels a long merge');

SELECT * FROM finish();
ROLLBACK;
