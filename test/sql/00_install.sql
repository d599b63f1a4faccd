-- CREATE EXTENSION creates everything, DROP EXTENSION removes it all, and
-- creating it again works.
CREATE EXTENSION perps_stats;
SELECT perps_stats.version();

-- the eight time series are partitioned by range, each with a default
-- partition and today's partition plus three days ahead
SELECT c.relname, pg_get_partkeydef(c.oid) AS partkey,
       (SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
         WHERE i.inhparent = c.oid AND p.relname ~ '_p[0-9]{8}$') AS daily,
       (SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
         WHERE i.inhparent = c.oid AND p.relname = c.relname || '_default') AS "default"
  FROM pg_class c
 WHERE c.relnamespace = 'perps_stats'::regnamespace AND c.relkind = 'p'
 ORDER BY 1;

-- today's partition exists (named after the UTC day)
SELECT to_regclass('perps_stats.tickers_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')) IS NOT NULL AS today;

DROP EXTENSION perps_stats;
SELECT count(*) AS left_behind FROM pg_namespace WHERE nspname = 'perps_stats';
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE 'tickers%';

CREATE EXTENSION perps_stats;
SELECT count(*) AS exchanges FROM perps_stats.exchanges;
