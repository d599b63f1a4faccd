-- Partition maintenance: a row for a day without a partition is kept in the
-- default partition and moved into its own partition when that is created;
-- repeated writes are idempotent; drop_partitions and clean remove old days.
SET client_min_messages = warning;
SET timezone = 'UTC';
SET datestyle = ISO;
INSERT INTO perps_stats.markets (id, exchange_id, symbol, native_symbol, base, quote)
VALUES (900001, 1, 'BTC', 'BTCUSDT', 'BTC', 'USDT');

-- partitions exist for today .. today+3 (UTC); this row is 10 days past the last
CREATE TEMP TABLE d AS
SELECT (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '13 days 6 hours') AT TIME ZONE 'UTC' AS far,
       'perps_stats.tickers_p' || to_char(now() AT TIME ZONE 'UTC' + interval '13 days', 'YYYYMMDD') AS part;
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT 900001, far, 64000.5 FROM d;
SELECT count(*) AS in_default FROM perps_stats.tickers_default;
SELECT to_regclass(part) IS NULL AS no_partition_yet FROM d;

-- create_partitions(3) finds the waiting row and creates its day's partition
SELECT perps_stats.create_partitions(3) AS created;
SELECT count(*) AS in_default FROM perps_stats.tickers_default;
SELECT t.tableoid::regclass::text = d.part AS in_own_partition, t.last_price
  FROM perps_stats.tickers t, d;
SELECT count(*) AS total FROM perps_stats.tickers;
-- a second call creates nothing
SELECT perps_stats.create_partitions(3) AS created;
-- more days ahead: days 4..13 except 13 (already there) for each of 8 tables
SELECT perps_stats.create_partitions(13) AS created;

-- idempotent writes: the same ticker, trade, kline and funding row twice
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT 900001, far - interval '1 hour', 64001 FROM d;
INSERT INTO perps_stats.tickers (market_id, ts, last_price)
SELECT 900001, far - interval '1 hour', 64001 FROM d ON CONFLICT DO NOTHING;
INSERT INTO perps_stats.trades (market_id, ts, trade_id, price, qty, side)
VALUES (900001, '2026-01-01 00:00:00.123+00', '123456789012345678901234567', 64000.1, 0.002, 'buy');
INSERT INTO perps_stats.trades (market_id, ts, trade_id, price, qty, side)
VALUES (900001, '2026-01-01 00:00:00.123+00', '123456789012345678901234567', 64000.1, 0.002, 'buy')
ON CONFLICT DO NOTHING;
INSERT INTO perps_stats.klines (market_id, interval, open_time, close_time, open, high, low, close, volume)
VALUES (900001, '1m', '2026-01-01 00:00+00', '2026-01-01 00:00:59.999+00', 1, 2, 0.5, 1.5, 10);
INSERT INTO perps_stats.klines (market_id, interval, open_time, close_time, open, high, low, close, volume)
VALUES (900001, '1m', '2026-01-01 00:00+00', '2026-01-01 00:00:59.999+00', 1, 2, 0.5, 1.5, 10)
ON CONFLICT DO NOTHING;
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate)
VALUES (900001, '2026-01-01 08:00+00', 0.0001);
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate)
VALUES (900001, '2026-01-01 08:00+00', 0.0001) ON CONFLICT DO NOTHING;
SELECT (SELECT count(*) FROM perps_stats.tickers) AS tickers,
       (SELECT count(*) FROM perps_stats.trades) AS trades,
       (SELECT count(*) FROM perps_stats.klines) AS klines,
       (SELECT count(*) FROM perps_stats.funding_rates) AS funding;
-- without ON CONFLICT the duplicate is refused by the primary key
INSERT INTO perps_stats.funding_rates (market_id, funding_time, rate)
VALUES (900001, '2026-01-01 08:00+00', 0.0001);

-- history: those 2026-01-01 rows sit in the default partitions until a
-- partition for their day exists
SELECT table_name, default_rows FROM perps_stats.table_stats
 WHERE table_name IN ('trades', 'klines', 'funding_rates') ORDER BY 1;
SELECT perps_stats.create_partitions_for_range('2026-01-01', '2026-01-01 23:00') AS created;
SELECT table_name, default_rows, oldest FROM perps_stats.table_stats
 WHERE table_name IN ('trades', 'klines', 'funding_rates') ORDER BY 1;

-- clean: drops the 2026-01-01 partitions (8 tables) and nothing newer
SELECT * FROM perps_stats.clean('30 days') WHERE partitions_dropped > 0 OR rows_deleted > 0 ORDER BY 1;
SELECT (SELECT count(*) FROM perps_stats.trades) AS trades,
       (SELECT count(*) FROM perps_stats.tickers) AS tickers;
SELECT perps_stats.drop_partitions('30 days') AS dropped;

-- errors
SELECT perps_stats.create_partitions(-1);
SELECT perps_stats.drop_partitions('-1 day');

-- leave no test market behind for the tests that follow
DELETE FROM perps_stats.tickers WHERE market_id = 900001;
DELETE FROM perps_stats.markets WHERE id = 900001;
