-- The history RPCs of perps_api (sql/install/42_api_history.sql) and
-- slippage over every venue: rows of hand-made markets, each expectation
-- worked out by hand in the comments; the argument checks with their
-- SQLSTATEs; what perps_anon may call; the plans (inlined, partitions pruned,
-- also as PostgREST sends the arguments).
BEGIN;
SELECT plan(75);

-- ---------------------------------------------------------------------------
-- The contract
-- ---------------------------------------------------------------------------
SELECT has_function('perps_api', 'tickers_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('perps_api', 'liquidity_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('perps_api', 'slippage_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone']);
SELECT has_function('perps_api', 'orderbook_at', ARRAY['text', 'text', 'timestamp with time zone', 'interval', 'text']);
-- SETOF a view's row type, so that PostgREST's filters, order=, select= and
-- CSV apply; STABLE, so that GET works
SELECT is((SELECT array_agg(format('%s %s %s %s', p.proname, p.proretset, p.prorettype::regtype, p.provolatile) ORDER BY p.proname)
             FROM pg_proc p
            WHERE p.pronamespace = 'perps_api'::regnamespace
              AND p.proname IN ('tickers_history', 'liquidity_history', 'slippage_history', 'orderbook_at')),
          ARRAY['liquidity_history t perps_api.liquidity_depth s', 'orderbook_at t perps_api.orderbooks s',
                'slippage_history t perps_api.slippage s', 'tickers_history t perps_api.tickers s'],
          'each returns SETOF a perps_api view''s rows, STABLE');
-- what PostgreSQL inlines: SQL, not SECURITY DEFINER, no SET, not STRICT
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'perps_api'::regnamespace
              AND p.proname IN ('tickers_history', 'liquidity_history', 'slippage_history')
              AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')
              AND NOT p.prosecdef AND p.proconfig IS NULL AND NOT p.proisstrict),
          ARRAY['liquidity_history', 'slippage_history', 'tickers_history'],
          'the history functions are inlinable: LANGUAGE sql, SECURITY INVOKER, no SET, not STRICT');
SELECT ok((SELECT p.prosecdef AND p.proconfig = ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc p
            WHERE p.oid = 'perps_api.orderbook_at(text, text, timestamptz, interval, text)'::regprocedure),
          'orderbook_at: SECURITY DEFINER with a fixed search_path');
SELECT function_privs_are('perps_api', 'tickers_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'liquidity_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'slippage_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'orderbook_at', ARRAY['text', 'text', 'timestamp with time zone', 'interval', 'text'], 'perps_anon', ARRAY['EXECUTE']);
CREATE ROLE perps_tap_history;
SELECT function_privs_are('perps_api', 'orderbook_at', ARRAY['text', 'text', 'timestamp with time zone', 'interval', 'text'],
                          'perps_tap_history', '{}'::text[], 'PUBLIC cannot call orderbook_at (it reads the tables)');
SELECT function_privs_are('perps_api', 'tickers_history', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone'],
                          'perps_tap_history', '{}'::text[], 'PUBLIC cannot call tickers_history');
-- the old positional call of slippage still resolves to the one function
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'perps_api'::regnamespace AND proname = 'slippage'), 1,
          'one perps_api.slippage, no overload');
SELECT is((SELECT pronargdefaults::int FROM pg_proc WHERE pronamespace = 'perps_api'::regnamespace AND proname = 'slippage'), 4,
          'slippage: every argument has a default, so exchange can be omitted over HTTP');

-- ---------------------------------------------------------------------------
-- Hand rows: symbol HIST on binance (id 1) and bybit (id 2), days 2026-03-01..03
-- ---------------------------------------------------------------------------
DO $$ BEGIN PERFORM perps_stats.create_partitions_for_range('2026-03-01', '2026-03-03'); END $$;
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote) VALUES
    (4201, 1, 'HIST', 'HISTUSDT', 'HIST', 'USDT'), (4202, 2, 'HIST', 'HISTUSDT', 'HIST', 'USDT');
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES
    (4201, '2026-03-01 23:59:50+00', 1), (4201, '2026-03-02 00:00:00+00', 2), (4201, '2026-03-02 00:00:10+00', 3),
    (4201, '2026-03-02 12:00:00+00', 4), (4201, '2026-03-03 00:00:00+00', 5),
    (4202, '2026-03-02 00:00:05+00', 9),
    -- relative to now() (the transaction's start): for the default window
    (4201, now() + interval '1 minute', 6), (4201, now() - interval '1 hour', 7), (4201, now() - interval '25 hours', 8);

-- [start, end): 00:00:00 is in, 03-03 00:00 (= end) is out, 03-01 23:59:50 is
-- before start, 9 is bybit's; newest first
SELECT results_eq($$SELECT ts, last_price FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 00:00+00', '2026-03-03 00:00+00')$$,
                  $$VALUES ('2026-03-02 12:00:00+00'::timestamptz, 4::numeric), ('2026-03-02 00:00:10+00', 3), ('2026-03-02 00:00:00+00', 2)$$,
                  'tickers_history: the market''s rows in [start, end), newest first');
SELECT results_eq($$SELECT exchange, symbol FROM perps_api.tickers_history('bybit', 'HIST', '2026-03-02 00:00+00', '2026-03-03 00:00+00')$$,
                  $$VALUES ('bybit', 'HIST')$$, 'tickers_history: names, one market');
-- the page after the first row: the second newest (3)
SELECT is((SELECT last_price FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 00:00+00', '2026-03-03 00:00+00') LIMIT 1 OFFSET 1),
          3::numeric, 'tickers_history: LIMIT 1 OFFSET 1 is the second newest row');
-- no start, no end: [now - 24 h, now): 7 (an hour ago) only; 8 is 25 h old, 6 is in the future
SELECT results_eq($$SELECT last_price FROM perps_api.tickers_history('binance', 'HIST')$$, $$VALUES (7::numeric)$$,
                  'tickers_history: end defaults to now, start to end - 24 h');
-- end only: [2026-03-01 12:00, 2026-03-02 12:00): 3, 2, 1 (12:00 itself is out)
SELECT results_eq($$SELECT last_price FROM perps_api.tickers_history('binance', 'HIST', "end" => '2026-03-02 12:00+00')$$,
                  $$VALUES (3::numeric), (2), (1)$$, 'tickers_history: start defaults to end - 24 h');
SELECT is_empty($$SELECT * FROM perps_api.tickers_history('binance', 'NOPE', '2026-03-02 00:00+00', '2026-03-03 00:00+00')$$,
                'tickers_history: an unknown market has no rows');
-- exactly 31 days is allowed, a microsecond more is not
SELECT lives_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-02-01 00:00+00', '2026-03-04 00:00+00')$$,
                'tickers_history: a window of 31 days');
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-02-01 00:00+00', '2026-03-04 00:00:00.000001+00')$$,
                 '54000', 'time range too long', 'tickers_history: 31 days and 1 µs: 54000');
-- start only: end is now (December 2026), months after March
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 00:00+00')$$,
                 '54000', 'time range too long', 'tickers_history: start alone reaches to now, too long here');
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 00:00+00', '2026-03-02 00:00+00')$$,
                 '22023', 'start must be before end', 'tickers_history: start = end: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-03-03 00:00+00', '2026-03-02 00:00+00')$$,
                 '22023', 'start must be before end', 'tickers_history: start after end: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('binance', 'HIST', '-infinity', '2026-03-02 00:00+00')$$,
                 '22023', 'start and end must be finite times', 'tickers_history: -infinity: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history(NULL, 'HIST')$$,
                 '22023', 'exchange and symbol are required', 'tickers_history: no exchange: 22023');
-- the checks run even when no market matches (a one-time filter, before any scan)
SELECT throws_ok($$SELECT * FROM perps_api.tickers_history('nowhere', 'NOPE', '2026-03-03 00:00+00', '2026-03-02 00:00+00')$$,
                 '22023', 'start must be before end', 'tickers_history: the checks run for an unknown market too');

-- liquidity_depth: rows at 00:00, 06:00, 18:00 of March 2, one on March 3
INSERT INTO perps_stats.liquidity_depth (market_id, ts, mid_price, bid_1bps, ask_1bps) VALUES
    (4201, '2026-03-02 00:00+00', 100, 10, 11), (4201, '2026-03-02 06:00+00', 101, 20, 21),
    (4201, '2026-03-02 18:00+00', 102, 30, 31), (4201, '2026-03-03 00:00+00', 103, 40, 41),
    (4202, '2026-03-02 06:00+00', 200, 50, 51);
-- [03-02 06:00, 03-03 00:00): 18:00 then 06:00
SELECT results_eq($$SELECT ts, mid_price, bid_1bps, ask_1bps FROM perps_api.liquidity_history('binance', 'HIST', '2026-03-02 06:00+00', '2026-03-03 00:00+00')$$,
                  $$VALUES ('2026-03-02 18:00+00'::timestamptz, 102::numeric, 30::numeric, 31::numeric),
                           ('2026-03-02 06:00+00', 101, 20, 21)$$,
                  'liquidity_history: the market''s rows in [start, end), newest first');
SELECT throws_ok($$SELECT * FROM perps_api.liquidity_history('binance', 'HIST', '2026-03-03 00:00+00', '2026-03-02 00:00+00')$$,
                 '22023', 'start must be before end', 'liquidity_history: start after end: 22023');

-- slippage stored at ingest: two sizes, both sides, two times
INSERT INTO perps_stats.slippage VALUES
    (4201, '2026-03-02 00:00+00', 1000, 'buy', 100, 100.1, 10, true),
    (4201, '2026-03-02 00:00+00', 1000, 'sell', 100, 99.9, 10, true),
    (4201, '2026-03-02 00:00+00', 10000, 'buy', 100, NULL, NULL, false),
    (4201, '2026-03-02 01:00+00', 10000, 'sell', 100, 99, 100, true),
    (4201, '2026-03-02 01:00+00', 1000, 'sell', 100, 99.95, 5, true),
    (4202, '2026-03-02 00:30+00', 1000, 'buy', 100, 100.2, 20, true);
-- newest first, then by amount, then side
SELECT results_eq($$SELECT ts, amount, side, avg_price, feasible FROM perps_api.slippage_history('binance', 'HIST', '2026-03-02 00:00+00', '2026-03-02 02:00+00')$$,
                  $$VALUES ('2026-03-02 01:00+00'::timestamptz, 1000::numeric, 'sell'::text, 99.95::numeric, true),
                           ('2026-03-02 01:00+00', 10000, 'sell', 99, true),
                           ('2026-03-02 00:00+00', 1000, 'buy', 100.1, true),
                           ('2026-03-02 00:00+00', 1000, 'sell', 99.9, true),
                           ('2026-03-02 00:00+00', 10000, 'buy', NULL, false)$$,
                  'slippage_history: newest first, then amount, then side');
SELECT results_eq($$SELECT ts FROM perps_api.slippage_history('binance', 'HIST', '2026-03-02 00:30+00', '2026-03-02 02:00+00') WHERE amount = 1000 AND side = 'sell'$$,
                  $$VALUES ('2026-03-02 01:00+00'::timestamptz)$$,
                  'slippage_history: a filter on amount and side, as PostgREST adds it');
SELECT throws_ok($$SELECT * FROM perps_api.slippage_history('binance', 'HIST', '2026-01-01 00:00+00', '2026-03-02 00:00+00')$$,
                 '54000', 'time range too long', 'slippage_history: 60 days: 54000');

-- ---------------------------------------------------------------------------
-- slippage over every venue: the newest book of each market of the symbol
-- ---------------------------------------------------------------------------
-- binance: an older book, then bids 99 x 2, 98 x 5 and asks 101 x 1, 102 x 4;
-- bybit: bids 99.5 x 1, asks 100.5 x 10.  Both mids are 100.
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) VALUES
    (4201, '2026-03-02 09:00:00+00', '{{90,1}}', '{{110,1}}', 1),
    (4201, '2026-03-02 10:00:00+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 2),
    (4201, '2026-03-02 10:00:10+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 3),
    (4201, '2026-03-02 10:00:20+00', '{{99,2},{98,5}}', '{{101,1},{102,4}}', 4),
    (4202, '2026-03-02 10:00:15+00', '{{99.5,1}}', '{{100.5,10}}', 70);
-- buy 250: binance takes 101 x 1 (101), then 149 of quote at 102 (149/102 base):
-- base 1 + 149/102 = 251/102, avg 250 / (251/102) = 25500/251 = 101.59362549800796...,
-- (avg - 100) / 100 x 10^4 = 40000/251 = 159.36254980079681... bps, 2 levels.
-- bybit: all at 100.5, base 250/100.5 = 2.48756218905472..., 50 bps, 1 level.
SELECT results_eq($$SELECT exchange, ts, side, mid_price, round(avg_price, 10), round(slippage_bps, 10),
                           round(filled_base, 10), filled_quote, levels_used, feasible
                      FROM perps_api.slippage(symbol => 'HIST', amount => 250, side => 'buy')$$,
                  $$VALUES ('binance', '2026-03-02 10:00:20+00'::timestamptz, 'buy', 100::numeric, 101.5936254980, 159.3625498008, 2.4607843137, 250::numeric, 2, true),
                           ('bybit', '2026-03-02 10:00:15+00', 'buy', 100, 100.5000000000, 50.0000000000, 2.4875621891, 250, 1, true)$$,
                  'slippage without exchange: one row per venue from its newest book (buy 250)');
-- sell 250: binance sells 99 x 2 (198), then 52 of quote at 98 (52/98 base):
-- base 2 + 52/98 = 248/98, avg 250 / (248/98) = 24500/248 = 98.79032258064516...,
-- (100 - avg) / 100 x 10^4 = 120.96774193548387... bps; bybit holds 99.5 of
-- bids: infeasible, all it has is filled (1 base, 99.5 quote), no average.
SELECT results_eq($$SELECT exchange, round(avg_price, 10), round(slippage_bps, 10), round(filled_base, 10), filled_quote, feasible
                      FROM perps_api.slippage(NULL, 'HIST', 250, 'sell')$$,
                  $$VALUES ('binance', 98.7903225806::numeric, 120.9677419355::numeric, 2.5306122449::numeric, 250::numeric, true),
                           ('bybit', NULL, NULL, 1.0000000000, 99.5, false)$$,
                  'slippage without exchange: sell 250, bybit''s book too thin (infeasible, not an error)');
-- both sides, every venue: exchange, then buy before sell
SELECT results_eq($$SELECT exchange, side FROM perps_api.slippage(symbol => 'HIST', amount => 250)$$,
                  $$VALUES ('binance', 'buy'), ('binance', 'sell'), ('bybit', 'buy'), ('bybit', 'sell')$$,
                  'slippage without exchange and side: per venue, buy then sell');
-- the old call, one market, positional
SELECT results_eq($$SELECT exchange, side, round(avg_price, 10) FROM perps_api.slippage('bybit', 'HIST', 250, 'buy')$$,
                  $$VALUES ('bybit', 'buy', 100.5000000000::numeric)$$, 'slippage with exchange: that venue only, as before');
SELECT throws_ok($$SELECT * FROM perps_api.slippage(symbol => 'HIST')$$, '22023', 'symbol and amount are required',
                 'slippage without amount: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.slippage(amount => 250)$$, '22023', 'symbol and amount are required',
                 'slippage without symbol: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.slippage(NULL, 'HIST', -5)$$, '22023', NULL,
                 'slippage: a negative amount is refused (perps_stats.slippage''s check)');

-- ---------------------------------------------------------------------------
-- orderbook_at: binance books at 09:00:00, 10:00:00, 10:00:10, 10:00:20 on
-- March 2 (above) and one at 23:59:59 on March 1; bybit one at 10:00:15
-- ---------------------------------------------------------------------------
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks, seq) VALUES
    (4201, '2026-03-01 23:59:59+00', '{{80,1}}', '{{120,1}}', 0);
CREATE FUNCTION pg_temp.book(a timestamptz, w interval DEFAULT '1 hour', d text DEFAULT 'nearest', x text DEFAULT 'binance')
RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s %s %s', b.exchange, to_char(b.ts AT TIME ZONE 'UTC', 'MM-DD HH24:MI:SS'), b.seq), ', ')
      FROM perps_api.orderbook_at(x, 'HIST', a, w, d) b
$$;
-- 10:00:04 is 4 s after 10:00:00 and 6 s before 10:00:10
SELECT is(pg_temp.book('2026-03-02 10:00:04+00'), 'binance 03-02 10:00:00 2', 'orderbook_at: the nearest, before');
SELECT is(pg_temp.book('2026-03-02 10:00:06+00'), 'binance 03-02 10:00:10 3', 'orderbook_at: the nearest, after');
-- 10:00:05 is 5 s from both: the earlier
SELECT is(pg_temp.book('2026-03-02 10:00:05+00'), 'binance 03-02 10:00:00 2', 'orderbook_at: equally far: the earlier');
SELECT is(pg_temp.book('2026-03-02 10:00:10+00'), 'binance 03-02 10:00:10 3', 'orderbook_at: a book at that very time');
SELECT is(pg_temp.book('2026-03-02 10:00:10+00', d => 'after'), 'binance 03-02 10:00:10 3', 'orderbook_at after: at that very time counts');
SELECT is(pg_temp.book('2026-03-02 10:00:09+00', d => 'before'), 'binance 03-02 10:00:00 2', 'orderbook_at before: the newest at or before');
SELECT is(pg_temp.book('2026-03-02 10:00:01+00', d => 'after'), 'binance 03-02 10:00:10 3', 'orderbook_at after: the oldest at or after');
-- 10:00:30: the newest before is 10:00:20, 10 s away; nothing after
SELECT is(pg_temp.book('2026-03-02 10:00:30+00', '9 s'), NULL, 'orderbook_at: nothing within the window: no rows');
SELECT is(pg_temp.book('2026-03-02 10:00:30+00', '10 s'), 'binance 03-02 10:00:20 4', 'orderbook_at: the window''s bound is inclusive');
SELECT is(pg_temp.book('2026-03-02 10:00:21+00', d => 'after'), NULL, 'orderbook_at after: no later book: no rows');
-- midnight: 1 s before it on March 1 (another partition); the next after is 9 h later
SELECT is(pg_temp.book('2026-03-02 00:00:00+00'), 'binance 03-01 23:59:59 0', 'orderbook_at: across a day''s partition boundary');
SELECT is(pg_temp.book('2026-03-02 10:00:14+00', x => 'bybit'), 'bybit 03-02 10:00:15 70', 'orderbook_at: another venue''s books');
SELECT is(pg_temp.book('2026-03-02 10:00:14+00', x => 'paradex'), NULL, 'orderbook_at: a market that does not exist: no rows');
SELECT results_eq($$SELECT bids, asks FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00:04+00')$$,
                  $$VALUES ('{{99,2},{98,5}}'::numeric[], '{{101,1},{102,4}}'::numeric[])$$, 'orderbook_at: the book''s sides');
SELECT throws_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00+00', '0 s')$$,
                 '22023', 'within must be a positive interval', 'orderbook_at: within 0: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00+00', '7 days 1 second')$$,
                 '54000', 'search window too long', 'orderbook_at: within more than 7 days: 54000');
SELECT lives_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00+00', '7 days')$$,
                'orderbook_at: within 7 days');
SELECT throws_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00+00', direction => 'up')$$,
                 '22023', 'direction must be "nearest", "before" or "after"', 'orderbook_at: a bad direction: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', NULL)$$,
                 '22023', 'exchange, symbol and at are required', 'orderbook_at: no time: 22023');
SELECT throws_ok($$SELECT * FROM perps_api.orderbook_at('binance', 'HIST', 'infinity')$$,
                 '22023', 'at must be a finite time', 'orderbook_at: infinity: 22023');

-- ---------------------------------------------------------------------------
-- As perps_anon (no right on the tables)
-- ---------------------------------------------------------------------------
SET LOCAL ROLE perps_anon;
SELECT is((SELECT string_agg(last_price::text, ',') FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 00:00+00', '2026-03-03 00:00+00')),
          '4,3,2', 'perps_anon: tickers_history');
SELECT is((SELECT seq FROM perps_api.orderbook_at('binance', 'HIST', '2026-03-02 10:00:04+00')), 2::bigint, 'perps_anon: orderbook_at');
SELECT is((SELECT count(*)::int FROM perps_api.slippage(symbol => 'HIST', amount => 250)), 4, 'perps_anon: slippage over every venue');
SELECT throws_ok('SELECT * FROM perps_stats.orderbooks', '42501', NULL, 'perps_anon still cannot read the books table');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Plans: inlined into the caller's query, the time range pruned
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; o text := '';
BEGIN
    FOR l IN EXECUTE q LOOP o := o || l || E'\n'; END LOOP;
    RETURN o;
END
$$;
-- 10:00-11:00 on March 2: the tickers at 00:00:00, 00:00:10 and 12:00 are
-- outside, so that day's partition is read and yields no row
CREATE TEMP TABLE p AS SELECT pg_temp.plan($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT * FROM perps_api.tickers_history('binance', 'HIST', '2026-03-02 10:00+00', '2026-03-02 11:00+00') LIMIT 10$$) AS plan;
SELECT doesnt_match(plan, 'Function Scan on tickers_history', 'tickers_history is inlined (no function scan of it)') FROM p;
SELECT matches(plan, 'Nested Loop[^\n]*\n\s+->  Function Scan on _history_window w \(actual rows=1 loops=1\)',
               'tickers_history: the checked window first, the outer side of a nested loop') FROM p;
SELECT matches(plan, 'on tickers_p20260302 \S+ \(actual rows=0 loops=\d+\)', 'tickers_history: reads that day''s partition') FROM p;
SELECT matches(plan, 'on tickers_p20260301 \S+ \(never executed\)', 'tickers_history: the day before is pruned') FROM p;
SELECT matches(plan, 'on tickers_default \S+ \(never executed\)', 'tickers_history: the default partition is pruned') FROM p;

-- as PostgREST 12 calls it: the arguments from its JSON body through a
-- LATERAL json_to_recordset, PostgREST's filter, LIMIT and OFFSET outside;
-- a generic plan (perps_anon's plan_cache_mode).  Pruned for each call, at
-- run time: the other days' partitions are never executed.
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE pgrst_like(json, bigint, bigint) AS
    WITH pgrst_source AS (
        SELECT c.* FROM (SELECT $1 AS json_data) pl,
             LATERAL (SELECT "exchange", "symbol", "start", "end"
                        FROM json_to_recordset(json_build_array(pl.json_data))
                          AS _("exchange" text, "symbol" text, "start" timestamptz, "end" timestamptz) LIMIT 1) b,
             LATERAL perps_api.liquidity_history("exchange" := b."exchange", "symbol" := b."symbol",
                                                 "start" := b."start", "end" := b."end") c)
    SELECT count(*) FROM (SELECT * FROM pgrst_source s WHERE s.mid_price > 0 LIMIT $2 OFFSET $3) t;
TRUNCATE p;
INSERT INTO p SELECT pg_temp.plan($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    EXECUTE pgrst_like('{"exchange": "binance", "symbol": "HIST", "start": "2026-03-02T05:00:00Z", "end": "2026-03-02T19:00:00Z"}', 10, 0)$$);
SELECT doesnt_match(plan, 'Function Scan on liquidity_history', 'as PostgREST calls it: inlined') FROM p;
SELECT matches(plan, 'liquidity_depth_p20260302 \S+ \(actual rows=2 loops=\d+\)', 'as PostgREST calls it: the day''s partition read, its 2 rows') FROM p;
SELECT matches(plan, 'liquidity_depth_p20260301 \S+ \(never executed\)', 'as PostgREST calls it: the day before pruned at run time') FROM p;
SELECT matches(plan, 'liquidity_depth_default \S+ \(never executed\)', 'as PostgREST calls it: the default partition pruned at run time') FROM p;
SELECT is(pg_temp.plan($$EXECUTE pgrst_like('{"exchange": "binance", "symbol": "HIST", "start": "2026-03-02T05:00:00Z", "end": "2026-03-02T19:00:00Z"}', 1, 1)$$),
          E'1\n', 'as PostgREST calls it: LIMIT 1 OFFSET 1 of the two rows');
RESET plan_cache_mode;

SELECT * FROM finish();
ROLLBACK;
