-- One clash policy per table whichever path wrote the row: collect() (the
-- C appenders of src/store.c) first, then the backfill's writer
-- (perps_stats._store_rows) on the same keys with other values, and the
-- other way round.  The values compared are the ones collect() stored,
-- read back here, so the test holds whatever payload the mock serves; the
-- expected outcome is the README's policy.  (Trades, stream against
-- backfill: test/integration/71_backfill_trades.sh.)
\getenv mock_url PERPS_MOCK_URL
SET TimeZone = 'UTC';
SELECT plan(13);

UPDATE perps_stats.exchanges SET rest_url = :'mock_url' || '/' || name;
SELECT perps_stats.refresh_markets('binance') > 0 AS binance_markets \gset
CREATE TEMP TABLE r1 AS SELECT * FROM perps_stats.collect('{binance}', '{BTC}');
SELECT is((SELECT count(*)::int FROM r1 WHERE error IS NULL AND rows > 0), 4,
          'collect() wrote a ticker, open interest, a funding rate and a book');
SELECT m.id AS mid, l.ts AS ts
  FROM perps_stats.markets m JOIN perps_stats.tickers l ON l.market_id = m.id
 WHERE m.exchange_id = 1 AND m.symbol = 'BTC' ORDER BY l.ts DESC LIMIT 1 \gset
CREATE TEMP TABLE before AS
    SELECT (SELECT to_jsonb(t) FROM perps_stats.tickers t WHERE market_id = :mid AND ts = :'ts') AS ticker,
           (SELECT to_jsonb(o) FROM perps_stats.open_interest o WHERE market_id = :mid AND ts = :'ts') AS oi,
           (SELECT to_jsonb(b) FROM perps_stats.orderbooks b WHERE market_id = :mid AND ts = :'ts') AS book,
           (SELECT to_jsonb(f) FROM perps_stats.funding_rates f WHERE market_id = :mid
             ORDER BY funding_time DESC LIMIT 1) AS funding;

-- the backfill's writer on collect()'s keys
SELECT is(perps_stats._store_rows(ARRAY[ROW(:mid, :'ts', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)::perps_stats.tickers]),
          0::bigint, 'tickers: a second row of the moment collect() stored is not written');
SELECT is((SELECT to_jsonb(t) FROM perps_stats.tickers t WHERE market_id = :mid AND ts = :'ts'),
          (SELECT ticker FROM before), 'tickers: collect()''s row stays as it was');
SELECT is(perps_stats._store_rows(ARRAY[ROW(:mid, :'ts', 1, 1)::perps_stats.open_interest]),
          0::bigint, 'open_interest: ignored');
SELECT is((SELECT to_jsonb(o) FROM perps_stats.open_interest o WHERE market_id = :mid AND ts = :'ts'),
          (SELECT oi FROM before), 'open_interest: collect()''s row stays');
SELECT is(perps_stats._store_rows(ARRAY[ROW(:mid, :'ts', '{{1,1}}', '{{2,1}}', 1)::perps_stats.orderbooks]),
          0::bigint, 'orderbooks: ignored');
SELECT is((SELECT to_jsonb(b) FROM perps_stats.orderbooks b WHERE market_id = :mid AND ts = :'ts'),
          (SELECT book FROM before), 'orderbooks: collect()''s book stays');

-- funding: a newer observation of collect()'s period replaces its rate and keeps what it lacks
SELECT (funding->>'funding_time')::timestamptz AS ft FROM before \gset
SELECT is(perps_stats._store_rows(ARRAY[ROW(:mid, :'ft', 0.00012345678901234567, NULL, NULL)::perps_stats.funding_rates]),
          1::bigint, 'funding: a newer rate of collect()''s period is written');
SELECT is((SELECT rate::text || ' ' || coalesce(predicted_rate::text, '-') || ' ' || coalesce(interval_hours::text, '-')
             FROM perps_stats.funding_rates WHERE market_id = :mid AND funding_time = :'ft'),
          (SELECT '0.00012345678901234567 ' || coalesce(funding->>'predicted_rate', '-') || ' '
                  || coalesce(funding->>'interval_hours', '-') FROM before),
          'funding: the rate replaced to its 20th decimal, the predicted rate and interval collect() stored kept');

-- and the other way round: collect() again over the backfill's rate
CREATE TEMP TABLE r2 AS SELECT * FROM perps_stats.collect('{binance}', '{BTC}');
SELECT is((SELECT error FROM r2 WHERE kind = 'funding'), NULL, 'collect() again: its funding step succeeds');
SELECT is((SELECT rate FROM perps_stats.funding_rates WHERE market_id = :mid AND funding_time = :'ft'),
          (SELECT (funding->>'rate')::numeric FROM before),
          'funding: collect()''s newer observation (the venue''s rate) replaces the backfill''s');
SELECT is((SELECT count(*)::int FROM perps_stats.funding_rates WHERE market_id = :mid AND funding_time = :'ft'), 1,
          'one row for the period, whoever wrote it');

-- table_stats counts them before any ANALYZE (a partition never analyzed
-- counts the live rows the statistics collector saw)
-- Other backends (workers of an earlier test in this cluster) send theirs
-- within a few seconds: wait up to 10 s for them.
SELECT pg_stat_force_next_flush();
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN (SELECT rows >= (SELECT count(*) FROM perps_stats.slippage)
                     FROM perps_stats.table_stats WHERE table_name = 'slippage');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT pg_stat_clear_snapshot();
SELECT is((SELECT rows >= (SELECT count(*) FROM perps_stats.slippage) FROM perps_stats.table_stats WHERE table_name = 'slippage'),
          true, 'table_stats shows the rows written, analyzed or not');

SELECT * FROM finish();
