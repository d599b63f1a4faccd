-- The one writer (src/store.c) and its clash policy per table, through
-- perps_stats._store_rows (the backfill's way in; collect() and the stream
-- workers append to the same store in C, see test/integration/58_store_writers.sql).
-- Each table: a first row, then a second with the same key and other
-- values, in a later call and within one call; the expected outcome is the
-- README's policy, written out here by hand.  Then a row that always fails
-- (a trigger refusing it): set aside, the rest of its batch written.
BEGIN;
SELECT plan(27);

INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
VALUES (991, 1, 'STORETEST', 'STORETESTUSDT', 'STORETEST', 'USDT');

-- ---- trades: a repeated trade is ignored ----
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 10:00:00+00', '1001', 97000.12345678901234567890, 0.001, 'buy')::perps_stats.trades,
            ROW(991, '2026-12-01 10:00:01+00', '1002', 97001, 0.002, 'sell')::perps_stats.trades]),
          2::bigint, 'trades: two new trades, two rows written');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 10:00:00+00', '1001', 1, 1, 'sell')::perps_stats.trades,
            ROW(991, '2026-12-01 10:00:02+00', '1003', 97002, 0.003, 'buy')::perps_stats.trades]),
          1::bigint, 'trades: a repeated trade is not written again, the new one is');
SELECT is((SELECT price::text || ' ' || qty || ' ' || side FROM perps_stats.trades WHERE market_id = 991 AND trade_id = '1001'),
          '97000.12345678901234567890 0.001 buy', 'trades: the first stays, its 20 decimals exact');
SELECT is((SELECT count(*) FROM perps_stats.trades WHERE market_id = 991), 3::bigint, 'trades: three trades stored');

-- ---- funding_rates: a newer observation replaces, a value it lacks is kept ----
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 16:00:00+00', 0.0001, 0.00012, 8)::perps_stats.funding_rates]),
          1::bigint, 'funding: the predicted rate of a period');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 16:00:00+00', 0.000095, NULL, NULL)::perps_stats.funding_rates]),
          1::bigint, 'funding: a newer rate of the same period is written');
SELECT is((SELECT rate || ' ' || predicted_rate || ' ' || interval_hours FROM perps_stats.funding_rates
            WHERE market_id = 991 AND funding_time = '2026-12-01 16:00:00+00'),
          '0.000095 0.00012 8', 'funding: the newer rate replaces, the predicted rate and interval it lacks are kept');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 16:00:00+00', 0.000095, NULL, NULL)::perps_stats.funding_rates]),
          0::bigint, 'funding: the same observation again changes nothing');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-02 00:00:00+00', 0.0002, NULL, 8)::perps_stats.funding_rates,
            ROW(991, '2026-12-02 00:00:00+00', 0.0003, NULL, NULL)::perps_stats.funding_rates]),
          1::bigint, 'funding: two observations of one period in one call are one row');
SELECT is((SELECT rate || ' ' || interval_hours FROM perps_stats.funding_rates
            WHERE market_id = 991 AND funding_time = '2026-12-02 00:00:00+00'),
          '0.0003 8', 'funding: within a call the later observation wins, its missing interval taken from the earlier');

-- ---- klines: a newer observation replaces the candle ----
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '1m', '2026-12-01 10:00:00+00', '2026-12-01 10:00:59.999+00', 97000, 97010, 96990, 97005, 1.5, 145507.5, 10)::perps_stats.klines]),
          1::bigint, 'klines: a forming candle');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '1m', '2026-12-01 10:00:00+00', '2026-12-01 10:00:59.999+00', 97000, 97020, 96980, 97015, 2.5, 242537.5, 17)::perps_stats.klines]),
          1::bigint, 'klines: the closed candle is written over it');
SELECT is((SELECT high || ' ' || low || ' ' || close || ' ' || volume || ' ' || trade_count FROM perps_stats.klines
            WHERE market_id = 991 AND "interval" = '1m' AND open_time = '2026-12-01 10:00:00+00'),
          '97020 96980 97015 2.5 17', 'klines: the newer candle replaces the older');

-- ---- tickers, open_interest, orderbooks: the first row of a moment stays ----
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 10:00:00+00', 97000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::perps_stats.tickers,
            ROW(991, '2026-12-01 10:00:00+00', 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::perps_stats.tickers]),
          1::bigint, 'tickers: two rows of one moment in one call: one written');
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 10:00:00+00', 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::perps_stats.tickers]),
          0::bigint, 'tickers: a later row of the same moment is ignored');
SELECT is((SELECT last_price FROM perps_stats.tickers WHERE market_id = 991), 97000::numeric, 'tickers: the first stays');
SELECT is(perps_stats._store_rows(ARRAY[ROW(991, '2026-12-01 10:00:00+00', 1234.5, NULL)::perps_stats.open_interest])
          + perps_stats._store_rows(ARRAY[ROW(991, '2026-12-01 10:00:00+00', 1, 1)::perps_stats.open_interest]),
          1::bigint, 'open_interest: the second row of a moment is ignored');
SELECT is((SELECT open_interest::text || coalesce(open_interest_notional::text, '-') FROM perps_stats.open_interest WHERE market_id = 991),
          '1234.5-', 'open_interest: the first stays, NULL notional and all');
SELECT is(perps_stats._store_rows(ARRAY[ROW(991, '2026-12-01 10:00:00+00', '{{96999.5,1.25},{96999,2}}', '{{97000.5,0.75}}', 7)::perps_stats.orderbooks])
          + perps_stats._store_rows(ARRAY[ROW(991, '2026-12-01 10:00:00+00', '{{1,1}}', '{{2,1}}', 8)::perps_stats.orderbooks]),
          1::bigint, 'orderbooks: the second book of a moment is ignored');
SELECT is((SELECT bids::text || ' ' || asks::text || ' ' || seq FROM perps_stats.orderbooks WHERE market_id = 991),
          '{{96999.5,1.25},{96999,2}} {{97000.5,0.75}} 7', 'orderbooks: 2-D arrays kept as given');

-- ---- what the writer refuses ----
SELECT throws_ok($$SELECT perps_stats._store_rows((SELECT array_agg(e) FROM perps_stats.exchanges e))$$, '22023', NULL,
                 'a row type that is not a time-series table is refused with invalid_parameter_value');
SELECT throws_ok($$SELECT perps_stats._store_rows(ARRAY[1, 2])$$, '22023', NULL,
                 'an array of scalars is refused');
SELECT ok(NOT has_function_privilege('perps_anon', 'perps_stats._store_rows(anyarray)', 'EXECUTE')
          AND NOT has_function_privilege('perps_reader', 'perps_stats._store_rows(anyarray)', 'EXECUTE'),
          'only writers may call it: not PUBLIC');
-- ---- a row that always fails does not block its batch ----
CREATE FUNCTION pg_temp.refuse_13() RETURNS trigger LANGUAGE plpgsql AS
    $$BEGIN IF NEW.price = 13 THEN RAISE EXCEPTION 'thirteen refused by the test'; END IF; RETURN NEW; END$$;
CREATE TRIGGER perps_test_refuse_13 BEFORE INSERT ON perps_stats.trades_default
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_13();
SELECT is(perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 11:00:00+00', '2001', 97100, 0.1, 'buy')::perps_stats.trades,
            ROW(991, '2026-12-01 11:00:01+00', '2002', 13, 0.2, 'buy')::perps_stats.trades,
            ROW(991, '2026-12-01 11:00:02+00', '2003', 97102, 0.3, 'sell')::perps_stats.trades]),
          2::bigint, 'a refused row: the two others of its batch are written');
SELECT is((SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM perps_stats.trades
            WHERE market_id = 991 AND ts >= '2026-12-01 11:00:00+00'), '2001,2003', 'the refused one is not');
SELECT is((SELECT count(*) FROM perps_stats.ingest_events
            WHERE kind = 'error' AND source = 'backfill'
              AND message LIKE 'a row of perps_stats.trades was set aside, the rest of its batch written: thirteen refused by the test (market_id 991, trade_id 2002, ts 2026-12-01 11:00:01%'),
          1::bigint, 'it is set aside with an ingest_events row that names it: table, error and key');
SELECT throws_ok($$SELECT perps_stats._store_rows(ARRAY[
            ROW(991, '2026-12-01 12:00:00+00', '3001', 13, 0.1, 'buy')::perps_stats.trades,
            ROW(991, '2026-12-01 12:00:01+00', '3002', 13, 0.2, 'buy')::perps_stats.trades])$$,
          'P0001', 'thirteen refused by the test',
          'when no row of a batch goes in, the fault is not in the rows: the error is raised and the caller keeps the batch');

SELECT * FROM finish();
ROLLBACK;
