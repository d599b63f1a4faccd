-- perps_stats install script, part 10: partition maintenance and operations.
--
-- Every time-series table has one partition per UTC day, named
-- <table>_pYYYYMMDD, and a DEFAULT partition <table>_default that catches a
-- row whose day has no partition yet.  create_partitions() moves such rows
-- into their own partition when it creates it, so nothing is ever lost and
-- the default partition stays empty in normal operation.

-- One day's partition of one table; returns false when it already exists.
CREATE FUNCTION perps_stats._create_partition(p_table name, p_day date)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_col   name;
    v_part  name := format('%s_p%s', p_table, to_char(p_day, 'YYYYMMDD'));
    v_lo    text := to_char(p_day, 'YYYY-MM-DD') || ' 00:00:00+00';
    v_hi    text := to_char(p_day + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
    v_moved bigint;
BEGIN
    SELECT time_column INTO STRICT v_col
      FROM perps_stats.partitioned_tables WHERE table_name = p_table;

    IF to_regclass(format('perps_stats.%I', v_part)) IS NOT NULL THEN
        RETURN false;
    END IF;

    -- Writers that would land in the default partition wait while we move
    -- its rows for this day, so ATTACH never finds a stray row there.
    EXECUTE format('LOCK TABLE perps_stats.%I IN EXCLUSIVE MODE', p_table || '_default');

    EXECUTE format('CREATE TABLE perps_stats.%I (LIKE perps_stats.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                   v_part, p_table);
    EXECUTE format('WITH moved AS (DELETE FROM perps_stats.%I WHERE %I >= $1::timestamptz AND %I < $2::timestamptz RETURNING *) '
                   'INSERT INTO perps_stats.%I SELECT * FROM moved',
                   p_table || '_default', v_col, v_col, v_part)
        USING v_lo, v_hi;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE perps_stats.%I ATTACH PARTITION perps_stats.%I FOR VALUES FROM (%L) TO (%L)',
                   p_table, v_part, v_lo, v_hi);
    IF v_moved > 0 THEN
        RAISE NOTICE 'moved % row(s) of % from the default partition into %', v_moved, p_table, v_part;
    END IF;
    RETURN true;
END
$$;

CREATE FUNCTION perps_stats.create_partitions(days_ahead int DEFAULT 3)
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_today   date := (now() AT TIME ZONE 'UTC')::date;
    v_created int := 0;
    r         record;
    v_day     date;
BEGIN
    IF days_ahead IS NULL OR days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR r IN SELECT table_name, time_column FROM perps_stats.partitioned_tables ORDER BY table_name LOOP
        -- today and the days ahead
        FOR i IN 0 .. days_ahead LOOP
            IF perps_stats._create_partition(r.table_name, v_today + i) THEN
                v_created := v_created + 1;
            END IF;
        END LOOP;
        -- any other day that has rows waiting in the default partition
        FOR v_day IN EXECUTE format('SELECT DISTINCT (%I AT TIME ZONE ''UTC'')::date FROM perps_stats.%I',
                                    r.time_column, r.table_name || '_default') LOOP
            IF perps_stats._create_partition(r.table_name, v_day) THEN
                v_created := v_created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN v_created;
END
$$;
COMMENT ON FUNCTION perps_stats.create_partitions(int) IS
    'Creates the daily partitions of every time-series table for today (UTC) and the next days_ahead days, and for any day with rows in a default partition; returns how many it created';

-- Creates the partitions that cover [from_ts, to_ts) in every table; used
-- by ingestion paths that write history (backfill).
CREATE FUNCTION perps_stats.create_partitions_for_range(from_ts timestamptz, to_ts timestamptz)
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_created int := 0;
    r         record;
    v_day     date;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts < from_ts THEN
        RAISE EXCEPTION 'invalid range for create_partitions_for_range'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_ts - from_ts > interval '3660 days' THEN
        RAISE EXCEPTION 'range too long for create_partitions_for_range'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'At most 3660 daily partitions are created in one call.';
    END IF;
    FOR r IN SELECT table_name FROM perps_stats.partitioned_tables ORDER BY table_name LOOP
        v_day := (from_ts AT TIME ZONE 'UTC')::date;
        WHILE v_day <= ((to_ts AT TIME ZONE 'UTC')::date) LOOP
            IF perps_stats._create_partition(r.table_name, v_day) THEN
                v_created := v_created + 1;
            END IF;
            v_day := v_day + 1;
        END LOOP;
    END LOOP;
    RETURN v_created;
END
$$;

-- The daily partitions of the time-series tables with their day.
CREATE FUNCTION perps_stats._partitions()
RETURNS TABLE (table_name name, partition_name name, day date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.table_name, c.relname,
           to_date(substring(c.relname from '_p([0-9]{8})$'), 'YYYYMMDD')
      FROM perps_stats.partitioned_tables t
      JOIN pg_inherits i ON i.inhparent = format('perps_stats.%I', t.table_name)::regclass
      JOIN pg_class c ON c.oid = i.inhrelid
     WHERE c.relname ~ '_p[0-9]{8}$'
$$;

CREATE FUNCTION perps_stats.drop_partitions(older_than interval)
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff  timestamptz;
    v_dropped int := 0;
    r         record;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - older_than;
    -- a partition goes when its whole day ended before the cutoff
    FOR r IN SELECT * FROM perps_stats._partitions() p
              WHERE (p.day + 1)::timestamp AT TIME ZONE 'UTC' <= v_cutoff
              ORDER BY p.day, p.table_name LOOP
        EXECUTE format('DROP TABLE perps_stats.%I', r.partition_name);
        v_dropped := v_dropped + 1;
    END LOOP;
    -- a market whose newest ticker went with a partition gets the newest left
    PERFORM perps_stats._latest_tickers_refresh(v_cutoff);
    RETURN v_dropped;
END
$$;
COMMENT ON FUNCTION perps_stats.drop_partitions(interval) IS
    'Drops the daily partitions whose whole day lies more than older_than in the past; returns how many';

CREATE FUNCTION perps_stats.clean(older_than interval)
RETURNS TABLE (table_name text, partitions_dropped int, rows_deleted bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cutoff timestamptz;
    r        record;
    v_parts  int;
    v_rows   bigint;
BEGIN
    IF older_than IS NULL OR older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than must be a non-negative interval'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - older_than;
    FOR r IN SELECT t.table_name, t.time_column FROM perps_stats.partitioned_tables t ORDER BY 1 LOOP
        v_parts := 0;
        FOR table_name IN SELECT p.partition_name FROM perps_stats._partitions() p
                           WHERE p.table_name = r.table_name
                             AND (p.day + 1)::timestamp AT TIME ZONE 'UTC' <= v_cutoff LOOP
            EXECUTE format('DROP TABLE perps_stats.%I', table_name);
            v_parts := v_parts + 1;
        END LOOP;
        EXECUTE format('DELETE FROM perps_stats.%I WHERE %I < $1', r.table_name || '_default', r.time_column)
            USING v_cutoff;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        table_name := r.table_name;
        partitions_dropped := v_parts;
        rows_deleted := v_rows;
        RETURN NEXT;
    END LOOP;
    -- a market whose newest ticker was removed gets the newest left
    PERFORM perps_stats._latest_tickers_refresh(v_cutoff);
    DELETE FROM perps_stats.ingest_events e WHERE e.ts < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    table_name := 'ingest_events';
    partitions_dropped := 0;
    rows_deleted := v_rows;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION perps_stats.clean(interval) IS
    'Removes everything older than older_than: whole daily partitions, stray rows in default partitions and old ingest_events; one row per table';

-- Per table: estimated rows, size on disk, oldest and newest time,
-- partitions.  SECURITY DEFINER: it reads the partitions themselves, which
-- only the owner may (readers read the parents).
CREATE FUNCTION perps_stats._table_stats()
RETURNS TABLE (table_name text, rows bigint, total_bytes bigint, oldest timestamptz,
               newest timestamptz, partitions int, default_rows bigint)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r      record;
    p      record;
    v_ts   timestamptz;
BEGIN
    FOR r IN SELECT t.table_name, t.time_column FROM perps_stats.partitioned_tables t ORDER BY 1 LOOP
        table_name := r.table_name;
        -- a partition never analyzed yet (reltuples -1) counts the live rows
        -- the statistics collector has seen inserted
        SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples
                                 ELSE pg_stat_get_live_tuples(c.oid) END), 0)::bigint,
               coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint,
               count(*) FILTER (WHERE c.relname <> r.table_name || '_default')
          INTO rows, total_bytes, partitions
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = format('perps_stats.%I', r.table_name)::regclass;
        EXECUTE format('SELECT count(*), min(%I), max(%I) FROM perps_stats.%I',
                       r.time_column, r.time_column, r.table_name || '_default')
            INTO default_rows, oldest, newest;
        -- Partitions are days: the oldest non-empty one holds the oldest row,
        -- so only one partition per end is scanned.
        FOR p IN SELECT * FROM perps_stats._partitions() x WHERE x.table_name = r.table_name ORDER BY x.day LOOP
            EXECUTE format('SELECT min(%I) FROM perps_stats.%I', r.time_column, p.partition_name) INTO v_ts;
            IF v_ts IS NOT NULL THEN
                oldest := least(oldest, v_ts);
                EXIT;
            END IF;
        END LOOP;
        FOR p IN SELECT * FROM perps_stats._partitions() x WHERE x.table_name = r.table_name ORDER BY x.day DESC LOOP
            EXECUTE format('SELECT max(%I) FROM perps_stats.%I', r.time_column, p.partition_name) INTO v_ts;
            IF v_ts IS NOT NULL THEN
                newest := greatest(newest, v_ts);
                EXIT;
            END IF;
        END LOOP;
        RETURN NEXT;
    END LOOP;
    table_name := 'ingest_events';
    SELECT greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid)
      INTO rows, total_bytes
      FROM pg_class c WHERE c.oid = 'perps_stats.ingest_events'::regclass;
    SELECT min(e.ts), max(e.ts) INTO oldest, newest FROM perps_stats.ingest_events e;
    partitions := 0;
    default_rows := NULL;
    RETURN NEXT;
END
$$;

CREATE VIEW perps_stats.table_stats AS
    SELECT table_name, rows, total_bytes, pg_size_pretty(total_bytes) AS size,
           oldest, newest, partitions, default_rows
      FROM perps_stats._table_stats();
COMMENT ON VIEW perps_stats.table_stats IS
    'Per table: estimated rows (planner statistics, refreshed by ANALYZE), size on disk, oldest and newest time, daily partitions, rows waiting in the default partition';

-- Default partitions, then today's partitions and the days ahead.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT table_name FROM perps_stats.partitioned_tables LOOP
        EXECUTE format('CREATE TABLE perps_stats.%I PARTITION OF perps_stats.%I DEFAULT',
                       r.table_name || '_default', r.table_name);
    END LOOP;
END
$$;
SELECT perps_stats.create_partitions(3);

REVOKE ALL ON FUNCTION perps_stats._table_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION perps_stats._table_stats() TO perps_reader;

REVOKE ALL ON FUNCTION perps_stats._create_partition(name, date),
                       perps_stats.create_partitions(int),
                       perps_stats.create_partitions_for_range(timestamptz, timestamptz),
                       perps_stats.drop_partitions(interval),
                       perps_stats.clean(interval)
    FROM PUBLIC;

-- The daily partitions created above are data containers like the ones
-- created later by maintenance: they are not members of the extension, so
-- pg_dump dumps them (definition and rows) like any other partition.  The
-- default partitions stay members (CREATE EXTENSION makes them) and their
-- rows are dumped as extension configuration data.
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.relname, c.relname = t.table_name || '_default' AS is_default
               FROM perps_stats.partitioned_tables t
               JOIN pg_inherits i ON i.inhparent = format('perps_stats.%I', t.table_name)::regclass
               JOIN pg_class c ON c.oid = i.inhrelid LOOP
        IF r.is_default THEN
            PERFORM pg_catalog.pg_extension_config_dump(format('perps_stats.%I', r.relname)::regclass, '');
        ELSE
            EXECUTE format('ALTER EXTENSION perps_stats DROP TABLE perps_stats.%I', r.relname);
        END IF;
    END LOOP;
END
$$;
