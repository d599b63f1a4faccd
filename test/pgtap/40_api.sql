-- The HTTP API's contract in the database: what perps_api holds, exactly
-- what perps_anon may and may not do, and that queries through the views
-- reach the tables through partition pruning and the primary-key indexes.
BEGIN;
SELECT plan(55);

-- ---------------------------------------------------------------------------
-- The schema
-- ---------------------------------------------------------------------------
SELECT has_schema('perps_api');
SELECT views_are('perps_api', ARRAY['exchanges', 'markets', 'symbols', 'tickers', 'latest_tickers',
    'orderbooks', 'liquidity_depth', 'latest_liquidity', 'slippage', 'trades', 'klines',
    'funding_rates', 'open_interest', 'ingest_events', 'table_stats', 'stream_status', 'export_xlsx_rows'], 'the views of perps_api');
SELECT tables_are('perps_api', '{}'::name[], 'perps_api holds no tables');
SELECT functions_are('perps_api', ARRAY['slippage', 'vwap', 'liquidity', 'health', 'tickers_history', 'liquidity_history',
    'slippage_history', 'orderbook_at', 'dashboard', 'dashboard_asset', 'export_xlsx', 'market_stats',
    'market_histogram', 'funding_stats', 'liquidity_distribution', 'xlsx'], 'the RPC functions of perps_api');
SELECT columns_are('perps_api', 'tickers', ARRAY['exchange', 'symbol', 'ts', 'last_price', 'mark_price',
    'index_price', 'best_bid_price', 'best_bid_qty', 'best_ask_price', 'best_ask_qty', 'volume_24h',
    'turnover_24h', 'open_interest', 'open_interest_notional', 'price_change_24h', 'price_change_pct',
    'high_24h', 'low_24h'], 'tickers: names instead of market_id, the table''s columns otherwise');
SELECT columns_are('perps_api', 'trades', ARRAY['exchange', 'symbol', 'ts', 'trade_id', 'price', 'qty', 'side']);
SELECT columns_are('perps_api', 'exchanges', ARRAY['exchange', 'maker_fee', 'taker_fee', 'enabled'],
    'exchanges: without the venues'' URLs, which are internal addresses');
SELECT columns_are('perps_api', 'stream_status', ARRAY['exchange', 'state', 'connected_since', 'messages',
    'rows_written', 'bytes', 'last_message_at', 'reconnects', 'gaps', 'resyncs', 'parse_errors',
    'refetches', 'trades_refetched', 'trade_gaps', 'buffered_rows', 'last_error'], 'stream_status: the workers'' counters, not their process ids');
-- which book resolution served the stored figures (60_book_merge.sql), the views' last column
SELECT has_column('perps_api', 'liquidity_depth', 'resolution', 'liquidity_depth shows the resolution');
SELECT has_column('perps_api', 'slippage', 'resolution', 'slippage shows the resolution');
SELECT has_column('perps_api', 'latest_liquidity', 'resolution', 'latest_liquidity shows the resolution');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                       WHERE c.relnamespace = 'perps_api'::regnamespace AND a.attnum > 0
                         AND a.attname IN ('market_id', 'exchange_id')),
          'no view shows internal ids');
SELECT ok((SELECT bool_and(c.relowner = e.extowner) FROM pg_class c, pg_extension e
            WHERE c.relnamespace = 'perps_api'::regnamespace AND e.extname = 'perps_stats'),
          'the views belong to the extension owner');

-- ---------------------------------------------------------------------------
-- The role
-- ---------------------------------------------------------------------------
SELECT has_role('perps_anon');
SELECT is((SELECT ARRAY[rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls]
             FROM pg_roles WHERE rolname = 'perps_anon'),
          ARRAY[false, false, false, false, false, false],
          'perps_anon: NOLOGIN and no special attribute');
SELECT is((SELECT rolconfig FROM pg_roles WHERE rolname = 'perps_anon'),
          ARRAY['statement_timeout=5s', 'plan_cache_mode=force_generic_plan'],
          'perps_anon has a statement timeout, and generic plans (PostgREST applies both)');
SELECT is((SELECT count(*)::int FROM pg_auth_members m WHERE m.member = 'perps_anon'::regrole),
          0, 'perps_anon is a member of no role');

-- what it may do: use perps_api, read every view, call every function
SELECT schema_privs_are('perps_api', 'perps_anon', ARRAY['USAGE'], 'perps_anon: USAGE on perps_api, not CREATE');
SELECT is(array_agg(c.relname::text ORDER BY c.relname), NULL, 'perps_anon: SELECT and nothing else on every view')
  FROM pg_class c
 WHERE c.relnamespace = 'perps_api'::regnamespace AND c.relkind = 'v'
   AND NOT (has_table_privilege('perps_anon', c.oid, 'SELECT')
            AND NOT has_table_privilege('perps_anon', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'));
SELECT table_privs_are('perps_api', 'exchanges', 'perps_anon', ARRAY['SELECT']);
SELECT table_privs_are('perps_api', 'latest_tickers', 'perps_anon', ARRAY['SELECT']);
SELECT function_privs_are('perps_api', 'slippage', ARRAY['text', 'text', 'numeric', 'text'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'vwap', ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'liquidity', ARRAY['text', 'numeric[]'], 'perps_anon', ARRAY['EXECUTE']);
SELECT function_privs_are('perps_api', 'health', '{}'::name[], 'perps_anon', ARRAY['EXECUTE']);

-- what it may not do: every privilege perps_anon holds in its own name is
-- in perps_api, and is one of USAGE, SELECT, EXECUTE
SELECT is(array_agg(what ORDER BY what), NULL, 'perps_anon holds no grant outside perps_api')
  FROM (SELECT 'schema ' || n.nspname AS what
          FROM pg_namespace n, aclexplode(n.nspacl) a
         WHERE a.grantee = 'perps_anon'::regrole AND (n.nspname <> 'perps_api' OR a.privilege_type <> 'USAGE')
        UNION ALL
        SELECT format('%s %s on %s', a.privilege_type, c.relname, n.nspname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
         WHERE a.grantee = 'perps_anon'::regrole AND (n.nspname <> 'perps_api' OR a.privilege_type <> 'SELECT')
        UNION ALL
        SELECT format('%s %s on %s', a.privilege_type, p.oid::regprocedure, n.nspname)
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
         WHERE a.grantee = 'perps_anon'::regrole AND (n.nspname <> 'perps_api' OR a.privilege_type <> 'EXECUTE')
        UNION ALL
        SELECT format('%s on column %s.%s', a.privilege_type, c.relname, att.attname)
          FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid, aclexplode(att.attacl) a
         WHERE a.grantee = 'perps_anon'::regrole
        UNION ALL
        SELECT 'database ' || d.datname
          FROM pg_database d, aclexplode(d.datacl) a
         WHERE a.grantee = 'perps_anon'::regrole) x;
SELECT is(array_agg(format('%s.%s', c.relnamespace::regnamespace, c.relname) ORDER BY 1), NULL,
          'perps_anon can write nowhere')
  FROM pg_class c
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relpersistence <> 't' AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
   AND has_table_privilege('perps_anon', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE');
SELECT is(array_agg(n.nspname::text ORDER BY 1), NULL, 'perps_anon can create objects in no schema')
  FROM pg_namespace n
 WHERE has_schema_privilege('perps_anon', n.oid, 'CREATE') AND n.nspname !~ '^pg_(toast_)?temp_';
-- in perps_stats it can do what PUBLIC can (call the math), and nothing
-- more: no table (reading is perps_reader's), none of the functions that
-- write, maintain or reach the network
SELECT is(array_agg(p.oid::regprocedure::text ORDER BY 1), NULL,
          'perps_anon executes no perps_stats function that PUBLIC may not')
  FROM pg_proc p
 WHERE p.pronamespace = 'perps_stats'::regnamespace
   AND has_function_privilege('perps_anon', p.oid, 'EXECUTE')
   AND NOT (p.proacl IS NULL
            OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'));
SELECT function_privs_are('perps_stats', 'create_partitions', ARRAY['integer'], 'perps_anon', '{}'::text[]);
SELECT function_privs_are('perps_stats', 'drop_partitions', ARRAY['interval'], 'perps_anon', '{}'::text[]);
SELECT function_privs_are('perps_stats', 'clean', ARRAY['interval'], 'perps_anon', '{}'::text[]);
SELECT table_privs_are('perps_stats', 'exchanges', 'perps_anon', '{}'::text[],
                       'perps_stats.exchanges: not even SELECT (perps_anon is no perps_reader)');
SELECT table_privs_are('perps_stats', 'latest_tickers', 'perps_anon', '{}'::text[],
                       'perps_stats.latest_tickers: read only through the view');
SELECT function_privs_are('perps_stats', 'refresh_latest_tickers', '{}'::name[], 'perps_anon', '{}'::text[]);
-- nobody else gets perps_api through PUBLIC
CREATE ROLE perps_tap_other;
SELECT schema_privs_are('perps_api', 'perps_tap_other', '{}'::text[], 'PUBLIC has no USAGE on perps_api');
SELECT function_privs_are('perps_api', 'health', '{}'::name[], 'perps_tap_other', '{}'::text[], 'PUBLIC cannot call the RPCs');

-- the same, done
SET LOCAL ROLE perps_anon;
SELECT lives_ok('SELECT * FROM perps_api.latest_tickers', 'perps_anon reads a view');
SELECT lives_ok('SELECT perps_api.health()', 'perps_anon calls health()');
SELECT throws_ok($$INSERT INTO perps_api.exchanges (exchange) VALUES ('evil')$$,
                 '42501', NULL, 'perps_anon cannot insert through a view');
SELECT throws_ok($$UPDATE perps_stats.exchanges SET rest_url = 'http://evil.example'$$,
                 '42501', NULL, 'perps_anon cannot update perps_stats.exchanges');
SELECT throws_ok('SELECT perps_stats.create_partitions(1)', '42501', NULL, 'perps_anon cannot create partitions');
SELECT throws_ok('CREATE TABLE perps_api.x (a int)', '42501', NULL, 'perps_anon cannot create in perps_api');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Plans: three days of tickers and trades for two markets, one row per 10 s
-- ---------------------------------------------------------------------------
DO $$ BEGIN PERFORM perps_stats.create_partitions_for_range('2026-02-01', '2026-02-03'); END $$;
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
VALUES (201, 5, 'BTC', '1', 'BTC', 'USDC'), (202, 6, 'BTC', 'BTC-USD-PERP', 'BTC', 'USD');
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT m, '2026-02-01'::timestamptz + i * interval '10 s', 100 FROM generate_series(0, 25919) i, (VALUES (201), (202)) v(m);
INSERT INTO perps_stats.trades (market_id, ts, trade_id, price, qty, side)
SELECT m, '2026-02-01'::timestamptz + i * interval '10 s', i::text, 100, 1, 'buy' FROM generate_series(0, 25919) i, (VALUES (201), (202)) v(m);
INSERT INTO perps_stats.orderbooks (market_id, ts, bids, asks)
SELECT m, '2026-02-01'::timestamptz + i * interval '10 s', '{{99,1}}', '{{101,1}}' FROM generate_series(0, 25919) i, (VALUES (201), (202)) v(m);
ANALYZE perps_stats.markets, perps_stats.exchanges, perps_stats.tickers, perps_stats.trades, perps_stats.orderbooks;

CREATE FUNCTION pg_temp.plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; o text := '';
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP o := o || l || E'\n'; END LOOP;
    RETURN o;
END
$$;

CREATE TEMP TABLE p AS SELECT pg_temp.plan($$SELECT * FROM perps_api.tickers
    WHERE exchange = 'lighter' AND symbol = 'BTC' AND ts >= '2026-02-02 10:00+00' AND ts < '2026-02-02 11:00+00'
    ORDER BY ts$$) AS plan;
SELECT matches(plan, 'Index Scan (using|on) tickers_p20260202_pkey\s+Index Cond: \(\(market_id = m.id\) AND \(ts >= ', 'tickers over one hour: the pk index of that day''s partition') FROM p;
SELECT doesnt_match(plan, 'tickers_(p20260201|p20260203|default)', 'tickers over one hour: the other partitions are pruned') FROM p;
SELECT doesnt_match(plan, 'Seq Scan on tickers', 'tickers over one hour: no sequential scan') FROM p;

-- as PostgREST runs it: a prepared statement, here forced to a generic plan
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE range_q(text, text, timestamptz, timestamptz) AS
    SELECT * FROM perps_api.tickers WHERE exchange = $1 AND symbol = $2 AND ts >= $3 AND ts < $4;
TRUNCATE p;
INSERT INTO p SELECT pg_temp.plan($$EXECUTE range_q('lighter', 'BTC', '2026-02-02 10:00+00', '2026-02-02 11:00+00')$$);
SELECT matches(plan, 'Subplans Removed: [1-9]', 'generic plan: partitions pruned when the executor starts') FROM p;
SELECT doesnt_match(plan, 'Seq Scan on tickers', 'generic plan: no sequential scan of tickers') FROM p;
RESET plan_cache_mode;

TRUNCATE p;
INSERT INTO p SELECT pg_temp.plan($$SELECT * FROM perps_api.latest_tickers WHERE symbol = 'BTC'$$);
SELECT matches(plan, 'on latest_tickers t', 'latest_tickers: from the table kept at ingest') FROM p;
SELECT doesnt_match(plan, 'tickers_(p[0-9]{8}|default)', 'latest_tickers: no partition of tickers read') FROM p;
-- a newer row of one market; the other's newest is days old
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (201, now() - interval '1 hour', 101);
SELECT results_eq($$SELECT exchange, ts, last_price FROM perps_api.latest_tickers WHERE symbol = 'BTC' AND exchange IN ('lighter', 'paradex') ORDER BY 1$$,
                  $$VALUES ('lighter', now() - interval '1 hour', 101::numeric), ('paradex', '2026-02-03 23:59:50+00'::timestamptz, 100::numeric)$$,
                  'latest_tickers: the newest row, recent or not');

TRUNCATE p;
INSERT INTO p SELECT pg_temp.plan($$SELECT * FROM perps_api.orderbooks WHERE exchange = 'paradex' AND symbol = 'BTC'$$);
SELECT matches(plan, 'Index Scan Backward using orderbooks_p', 'orderbooks: the newest book from the pk indexes') FROM p;

TRUNCATE p;
INSERT INTO p SELECT pg_temp.plan($$SELECT perps_stats.vwap(price, qty) FROM perps_api.trades
    WHERE exchange = 'lighter' AND symbol = 'BTC' AND ts >= '2026-02-02 10:00+00' AND ts < '2026-02-02 11:00+00'$$);
SELECT matches(plan, 'Index Scan (using|on) trades_p20260202_market_id_ts_idx\s+Index Cond: \(\(market_id = m.id\) AND \(ts >= ', 'trades over one hour: the (market_id, ts) index of that day') FROM p;
SELECT doesnt_match(plan, 'trades_(p20260201|p20260203|default)|Seq Scan on trades', 'trades over one hour: pruned, no sequential scan') FROM p;

-- ---------------------------------------------------------------------------
-- CREATE EXTENSION creates perps_anon when it is missing (the test service
-- made it before the extension existed)
-- ---------------------------------------------------------------------------
DROP EXTENSION perps_stats;
DROP ROLE perps_anon;
CREATE EXTENSION perps_stats;
SELECT is((SELECT ARRAY[rolcanlogin::text, array_to_string(rolconfig, ',')] FROM pg_roles WHERE rolname = 'perps_anon'),
          ARRAY['false', 'statement_timeout=5s,plan_cache_mode=force_generic_plan'],
          'CREATE EXTENSION creates perps_anon, NOLOGIN, with its settings');

SELECT * FROM finish();
ROLLBACK;
