-- perps_stats.latest_tickers, the newest ticker of each market kept at
-- ingest by triggers on tickers: after every kind of write it holds exactly
-- what a DISTINCT ON over tickers computes (the independent answer).
BEGIN;
SELECT plan(39);

SELECT has_table('perps_stats'::name, 'latest_tickers'::name, 'perps_stats.latest_tickers exists');
SELECT is((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = 'perps_stats.latest_tickers'::regclass AND a.attnum > 0 AND NOT a.attisdropped),
          (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = 'perps_stats.tickers'::regclass AND a.attnum > 0 AND NOT a.attisdropped)
          || ARRAY['exchange', 'symbol'],
          'latest_tickers has the columns of tickers, then the names');
SELECT col_is_pk('perps_stats', 'latest_tickers', 'market_id', 'one row per market');
SELECT ok((SELECT 'perps_stats.latest_tickers'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'perps_stats'),
          'its rows are dumped with the data');
SELECT ok(NOT has_table_privilege('perps_anon', 'perps_stats.latest_tickers', 'SELECT')
          AND has_table_privilege('perps_reader', 'perps_stats.latest_tickers', 'SELECT')
          AND NOT has_table_privilege('perps_reader', 'perps_stats.latest_tickers', 'INSERT, UPDATE, DELETE'),
          'perps_reader reads it, perps_anon does not');

-- the independent answer: the newest row per market, computed from tickers,
-- and the names from markets and exchanges
CREATE FUNCTION pg_temp.diff() RETURNS text LANGUAGE sql AS $$
    WITH want AS (SELECT to_jsonb(d) || jsonb_build_object('exchange', e.name, 'symbol', m.symbol) AS r
                    FROM (SELECT DISTINCT ON (market_id) * FROM perps_stats.tickers ORDER BY market_id, ts DESC) d
                    LEFT JOIN perps_stats.markets m ON m.id = d.market_id
                    LEFT JOIN perps_stats.exchanges e ON e.id = m.exchange_id),
         have AS (SELECT to_jsonb(l) AS r FROM perps_stats.latest_tickers l)
    SELECT coalesce(string_agg(x, '; ' ORDER BY x), '') FROM (
        (SELECT 'missing ' || r::text AS x FROM (SELECT r FROM want EXCEPT SELECT r FROM have) a)
        UNION ALL
        (SELECT 'extra ' || r::text FROM (SELECT r FROM have EXCEPT SELECT r FROM want) b)) y
$$;

TRUNCATE perps_stats.tickers;
DO $$ BEGIN
    PERFORM perps_stats.create_partitions(0);
    PERFORM perps_stats.create_partitions_for_range('2020-01-01', '2020-01-02');
END $$;
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote) VALUES
    (301, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT'), (302, 2, 'BTC', 'BTCUSDT', 'BTC', 'USDT'),
    (303, 1, 'ETH', 'ETHUSDT', 'ETH', 'USDT');

-- one statement, several markets and rows each, in no particular order
INSERT INTO perps_stats.tickers (market_id, ts, last_price, mark_price) VALUES
    (301, '2020-01-01 10:00+00', 100, 100.5), (302, '2020-01-02 09:00+00', 200, 200.5),
    (301, '2020-01-02 11:00+00', 110, 110.5), (301, '2020-01-01 12:00+00', 105, 105.5),
    (302, '2020-01-01 09:00+00', 190, 190.5);
SELECT results_eq('SELECT market_id, ts, last_price, mark_price FROM perps_stats.latest_tickers ORDER BY 1',
                  $$VALUES (301, '2020-01-02 11:00+00'::timestamptz, 110::numeric, 110.5::numeric),
                           (302, '2020-01-02 09:00+00'::timestamptz, 200::numeric, 200.5::numeric)$$,
                  'a multi-row insert: the newest row of each market, every column');
SELECT is(pg_temp.diff(), '', 'the same as DISTINCT ON over tickers');

-- late data: an older row changes nothing; a newer one replaces
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (301, '2020-01-01 23:00+00', 1);
SELECT is((SELECT last_price FROM perps_stats.latest_tickers WHERE market_id = 301), 110::numeric,
          'an older row does not replace the newest');
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (301, '2020-01-02 12:00+00', 120);
SELECT is((SELECT last_price FROM perps_stats.latest_tickers WHERE market_id = 301), 120::numeric,
          'a newer row replaces it');
-- ON CONFLICT DO NOTHING, as collect() and the stream workers write: a row
-- that was not inserted is not copied
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (301, '2020-01-02 12:00+00', 999)
    ON CONFLICT DO NOTHING;
SELECT is((SELECT last_price FROM perps_stats.latest_tickers WHERE market_id = 301), 120::numeric,
          'a row skipped by ON CONFLICT DO NOTHING is not copied');
-- the writers' batched form: unnest of arrays
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT * FROM unnest('{302,302,301}'::int[], '{2020-01-02 10:00+00,2020-01-02 08:00+00,2020-01-02 12:00+00}'::timestamptz[],
                     '{210,180,0}'::numeric[])
    ON CONFLICT DO NOTHING;
SELECT is(pg_temp.diff(), '', 'a batch with a duplicate key: the same as DISTINCT ON over tickers');

-- a new market appears
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (303, '2020-01-01 08:00+00', 3000);
SELECT is((SELECT ARRAY[exchange, symbol, last_price::text] FROM perps_api.latest_tickers WHERE symbol = 'ETH'),
          ARRAY['binance', 'ETH', '3000'], 'a new market appears in the view, with its names');

-- names follow markets and exchanges
UPDATE perps_stats.markets SET symbol = 'WETH' WHERE id = 303;
UPDATE perps_stats.exchanges SET name = 'binance_x' WHERE id = 1;
SELECT is((SELECT ARRAY[exchange, symbol] FROM perps_api.latest_tickers WHERE last_price = 3000),
          ARRAY['binance_x', 'WETH'], 'a market and an exchange renamed: the new names');
SELECT is(pg_temp.diff(), '', 'after the renames: the same as DISTINCT ON over tickers, joined to the names');
UPDATE perps_stats.markets SET symbol = 'ETH' WHERE id = 303;
UPDATE perps_stats.exchanges SET name = 'binance' WHERE id = 1;
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (399, '2020-01-01 08:00+00', 39);
SELECT ok(NOT EXISTS (SELECT 1 FROM perps_api.latest_tickers WHERE last_price = 39),
          'a market_id missing from markets: not shown');
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote) VALUES (399, 3, 'SOL', 'SOL', 'SOL', 'USD');
SELECT is((SELECT ARRAY[exchange, symbol] FROM perps_api.latest_tickers WHERE last_price = 39),
          ARRAY['hyperliquid', 'SOL'], 'shown, with its names, once the market is added');
DELETE FROM perps_stats.markets WHERE id = 399;
SELECT ok(NOT EXISTS (SELECT 1 FROM perps_api.latest_tickers WHERE last_price = 39),
          'not shown once the market is deleted');
DELETE FROM perps_stats.tickers WHERE market_id = 399;

-- updates
UPDATE perps_stats.tickers SET last_price = 1.5 WHERE market_id = 301 AND ts = '2020-01-01 10:00+00';
SELECT is((SELECT last_price FROM perps_stats.latest_tickers WHERE market_id = 301), 120::numeric,
          'updating an older row does not regress the newest');
UPDATE perps_stats.tickers SET last_price = 121, high_24h = 130 WHERE market_id = 301 AND ts = '2020-01-02 12:00+00';
SELECT results_eq('SELECT last_price, high_24h FROM perps_stats.latest_tickers WHERE market_id = 301',
                  'VALUES (121::numeric, 130::numeric)', 'updating the newest row updates the copy');
UPDATE perps_stats.tickers SET ts = '2020-01-01 00:30+00' WHERE market_id = 301 AND ts = '2020-01-02 12:00+00';
SELECT results_eq('SELECT ts, last_price FROM perps_stats.latest_tickers WHERE market_id = 301',
                  $$VALUES ('2020-01-02 11:00+00'::timestamptz, 110::numeric)$$,
                  'moving the newest row back in time: the next newest');
UPDATE perps_stats.tickers SET ts = '2020-01-02 13:00+00' WHERE market_id = 302 AND ts = '2020-01-01 09:00+00';
SELECT results_eq('SELECT ts, last_price FROM perps_stats.latest_tickers WHERE market_id = 302',
                  $$VALUES ('2020-01-02 13:00+00'::timestamptz, 190::numeric)$$,
                  'moving an old row past the newest: it becomes the newest');
UPDATE perps_stats.tickers SET market_id = 303 WHERE market_id = 302 AND ts = '2020-01-02 13:00+00';
SELECT is(pg_temp.diff(), '', 'moving a row to another market: both markets right');
-- upsert: INSERT ... ON CONFLICT DO UPDATE fires the update trigger too
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES (303, '2020-01-02 13:00+00', 3333)
    ON CONFLICT (market_id, ts) DO UPDATE SET last_price = excluded.last_price;
SELECT is((SELECT last_price FROM perps_stats.latest_tickers WHERE market_id = 303), 3333::numeric,
          'INSERT ... ON CONFLICT DO UPDATE of the newest row');

-- deletes
DELETE FROM perps_stats.tickers WHERE market_id = 301 AND ts = '2020-01-02 11:00+00';
SELECT results_eq('SELECT ts FROM perps_stats.latest_tickers WHERE market_id = 301',
                  $$VALUES ('2020-01-01 23:00+00'::timestamptz)$$, 'deleting the newest row: the newest left');
DELETE FROM perps_stats.tickers WHERE market_id = 301 AND ts < '2020-01-01 12:00+00';
SELECT is((SELECT ts FROM perps_stats.latest_tickers WHERE market_id = 301), '2020-01-01 23:00+00'::timestamptz,
          'deleting older rows changes nothing');
DELETE FROM perps_stats.tickers WHERE market_id = 302;
SELECT ok(NOT EXISTS (SELECT 1 FROM perps_stats.latest_tickers WHERE market_id = 302),
          'a market without rows left has no row');
SELECT is(pg_temp.diff(), '', 'after the deletes: the same as DISTINCT ON over tickers');

-- maintenance: a partition dropped, a default partition cleaned
INSERT INTO perps_stats.tickers (market_id, ts, last_price) VALUES
    (302, '2019-06-01 10:00+00', 19),       -- no partition that day: the default one
    (302, '2020-01-01 10:00+00', 20),
    (303, now() - interval '1 minute', 30);
SELECT is((SELECT ts FROM perps_stats.latest_tickers WHERE market_id = 302), '2020-01-01 10:00+00'::timestamptz,
          'rows in two days');
SELECT cmp_ok(perps_stats.drop_partitions('1 day'), '>=', 16, 'drop_partitions drops 2020-01-01 and 2020-01-02 of every table');
SELECT results_eq($$SELECT market_id, ts FROM perps_stats.latest_tickers WHERE market_id IN (301, 302) ORDER BY 1$$,
                  $$VALUES (302, '2019-06-01 10:00+00'::timestamptz)$$,
                  'drop_partitions: 301 had rows only there, 302 gets its row in the default partition');
SELECT is(pg_temp.diff(), '', 'after drop_partitions: the same as DISTINCT ON over tickers');
SELECT ok(EXISTS (SELECT 1 FROM perps_stats.latest_tickers WHERE market_id = 302 AND ts = '2019-06-01 10:00+00'),
          'drop_partitions: a market whose newest row went with a partition gets the one left');
DO $$ BEGIN PERFORM * FROM perps_stats.clean('1 day'); END $$;
SELECT ok(NOT EXISTS (SELECT 1 FROM perps_stats.latest_tickers WHERE market_id = 302),
          'clean: a market whose last rows were in the default partition is gone');
SELECT is(pg_temp.diff(), '', 'after clean: the same as DISTINCT ON over tickers');

-- writes into a partition itself are not seen; refresh_latest_tickers() repairs
DO $$ BEGIN
    EXECUTE format('INSERT INTO perps_stats.%I (market_id, ts, last_price) VALUES (301, %L, 31)',
                   'tickers_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD'), now());
END $$;
SELECT isnt(pg_temp.diff(), '', 'a row written into a partition directly is not copied');
SELECT is(perps_stats.refresh_latest_tickers(), 2::bigint, 'refresh_latest_tickers: one row per market with tickers');
SELECT is(pg_temp.diff(), '', 'after refresh_latest_tickers: the same as DISTINCT ON over tickers');

-- as perps_anon, through the view
SET LOCAL ROLE perps_anon;
SELECT results_eq($$SELECT exchange, symbol, last_price FROM perps_api.latest_tickers ORDER BY 1, 2$$,
                  $$VALUES ('binance', 'BTC', 31::numeric), ('binance', 'ETH', 30::numeric)$$,
                  'perps_anon reads the newest rows through perps_api.latest_tickers');
RESET ROLE;

TRUNCATE perps_stats.tickers;
SELECT is((SELECT count(*)::int FROM perps_stats.latest_tickers), 0, 'TRUNCATE tickers empties it');

SELECT * FROM finish();
ROLLBACK;
