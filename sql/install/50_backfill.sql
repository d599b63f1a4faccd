-- perps_stats install script, part 50: historical backfill.
--
-- perps_stats.backfill() is a procedure: it commits after every chunk (one
-- page of the venue), so a cancelled or crashed run keeps what it fetched
-- and the next run resumes where it stopped.  A procedure that commits
-- cannot run inside an outer transaction block: CALL it on its own (psql in
-- autocommit mode, a pg_cron job), never between BEGIN and COMMIT.
--
-- It is SECURITY INVOKER on purpose (PostgreSQL forbids COMMIT in a
-- SECURITY DEFINER procedure): it writes the time-series tables, which only
-- their owner may write, so it is run by the extension owner or by a role
-- the owner has granted INSERT on them.  It calls the fetch_* functions,
-- whose HTTP layer keeps each venue's rate limit and honours Retry-After.
--
-- Bookkeeping, all written by backfill() only:
--   backfill_progress       one row per (exchange, symbol, kind): the last
--                           or current run, updated and committed per chunk
--   backfill_earliest       the earliest data a venue has, found by probing
--   backfill_empty_ranges   past ranges the venue answered with no rows, so
--                           later runs do not ask again (force does)
--   backfill_covered        the ranges of trade history fetched completely:
--                           trades have no grid that would show a hole, so
--                           what was fetched is recorded (force fetches again)

-- The documented page sizes and rate limit of a venue's adapter (C).
CREATE FUNCTION perps_stats.adapter_limits(exchange text,
    OUT kline_page int, OUT funding_page int, OUT trades_page int,
    OUT rate_weight int, OUT rate_window_ms int, OUT no_trades_history text)
RETURNS record
AS 'MODULE_PATHNAME', 'perps_stats_adapter_limits'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perps_stats.adapter_limits(text) IS
    'The documented page sizes of a venue''s history endpoints and its rate limit, as its adapter knows them; no_trades_history: NULL when the venue serves trade history over a time range, else why not';
GRANT EXECUTE ON FUNCTION perps_stats.adapter_limits(text) TO PUBLIC;

CREATE TABLE perps_stats.backfill_progress (
    exchange     text NOT NULL,
    symbol       text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('klines', 'funding_rates', 'trades')),
    "interval"   text,
    pid          int,
    range_start  timestamptz,
    range_end    timestamptz,
    done         bigint NOT NULL DEFAULT 0,
    total        bigint,
    unit         text NOT NULL,
    rows         bigint NOT NULL DEFAULT 0,
    chunks       int NOT NULL DEFAULT 0,
    state        text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
    error        text,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    PRIMARY KEY (exchange, symbol, kind)
);
COMMENT ON TABLE perps_stats.backfill_progress IS
    'The last or current backfill run per exchange, symbol and kind, committed after every chunk; read it through backfill_status';

CREATE TABLE perps_stats.backfill_earliest (
    exchange    text NOT NULL,
    symbol      text NOT NULL,
    kind        text NOT NULL,
    "interval"  text NOT NULL DEFAULT '',
    earliest    timestamptz NOT NULL,
    probed_at   timestamptz NOT NULL DEFAULT now(),
    requests    int,
    PRIMARY KEY (exchange, symbol, kind, "interval")
);
COMMENT ON TABLE perps_stats.backfill_earliest IS
    'The earliest data each venue has per symbol and kind, found by probing (backfill with since => null)';

CREATE TABLE perps_stats.backfill_empty_ranges (
    exchange     text NOT NULL,
    symbol       text NOT NULL,
    kind         text NOT NULL,
    "interval"   text NOT NULL DEFAULT '',
    range_start  timestamptz NOT NULL,
    range_end    timestamptz NOT NULL,
    checked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, kind, "interval", range_start)
);
COMMENT ON TABLE perps_stats.backfill_empty_ranges IS
    'Past ranges (inclusive) for which the venue returned no rows; backfill does not ask for them again unless forced';

CREATE TABLE perps_stats.backfill_covered (
    exchange     text NOT NULL,
    symbol       text NOT NULL,
    kind         text NOT NULL,
    range_start  timestamptz NOT NULL,
    range_end    timestamptz NOT NULL,     -- exclusive
    checked_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol, kind, range_start),
    CHECK (range_end > range_start)
);
COMMENT ON TABLE perps_stats.backfill_covered IS
    'Ranges [range_start, range_end) of trade history that backfill fetched completely from the venue; later runs fetch only what is outside them, unless forced';

-- Kline interval names and their length.
CREATE FUNCTION perps_stats._kline_step(p_interval text)
RETURNS interval
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE p_interval
        WHEN '1m' THEN interval '1 minute'  WHEN '5m' THEN interval '5 minutes'
        WHEN '15m' THEN interval '15 minutes' WHEN '30m' THEN interval '30 minutes'
        WHEN '1h' THEN interval '1 hour'    WHEN '4h' THEN interval '4 hours'
        WHEN '1d' THEN interval '1 day'
    END
$$;

-- The advisory lock key of one (exchange, symbol, kind).
CREATE FUNCTION perps_stats._backfill_lock_key(p_exchange text, p_symbol text, p_kind text)
RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT hashtextextended(format('perps_stats.backfill/%s/%s/%s', p_exchange, p_symbol, p_kind), 0)
$$;

-- The backend holding that lock, if any (pg_locks splits a bigint key into
-- classid = high 32 bits and objid = low 32 bits, objsubid = 1).
CREATE FUNCTION perps_stats._backfill_lock_holder(p_key bigint)
RETURNS int
LANGUAGE sql STABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.pid FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid::bigint = ((p_key >> 32) & 4294967295)
       AND l.objid::bigint = (p_key & 4294967295)
     LIMIT 1
$$;

-- The stored market id of (exchange, global symbol); refreshes the markets
-- of the venue once when the symbol is not known yet.
CREATE FUNCTION perps_stats._backfill_market(p_exchange text, p_symbol text)
RETURNS int
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id int;
BEGIN
    SELECT m.id INTO v_id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
     WHERE e.name = p_exchange AND m.symbol = p_symbol;
    IF v_id IS NULL AND to_regprocedure('perps_stats.refresh_markets(text)') IS NOT NULL THEN
        EXECUTE 'SELECT perps_stats.refresh_markets($1)' USING p_exchange;
        SELECT m.id INTO v_id FROM perps_stats.markets m JOIN perps_stats.exchanges e ON e.id = m.exchange_id
         WHERE e.name = p_exchange AND m.symbol = p_symbol;
    END IF;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'market % on % is unknown', p_symbol, p_exchange
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'perps_stats.markets has no such symbol for that exchange, and the venue does not list it.',
                  HINT = 'Symbols are global base assets such as BTC; see perps_stats.markets.';
    END IF;
    RETURN v_id;
END
$$;

-- The missing open times of the kline grid in [p_lo, p_hi] (both on the
-- grid), as contiguous ranges: the holes between the stored candles (found
-- from the stored rows, so the cost follows what is stored, not the length
-- of the range), less the ranges the venue answered empty before.  With
-- p_force the whole range.
CREATE FUNCTION perps_stats._kline_gaps(p_exchange text, p_symbol text, p_market int, p_interval text,
                                        p_lo timestamptz, p_hi timestamptz, p_force boolean)
RETURNS TABLE (range_start timestamptz, range_end timestamptz, n bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (SELECT perps_stats._kline_step(p_interval) AS step),
    t AS (
        SELECT k.open_time AS ot FROM perps_stats.klines k
         WHERE NOT p_force AND k.market_id = p_market AND k."interval" = p_interval
           AND k.open_time BETWEEN p_lo AND p_hi
        UNION ALL SELECT p_lo - s.step FROM s
        UNION ALL SELECT p_hi + s.step FROM s
    ),
    g AS (SELECT t.ot AS a, lead(t.ot) OVER (ORDER BY t.ot) AS b FROM t),
    holes AS (
        SELECT coalesce(range_agg(tstzrange(g.a + s.step, g.b - s.step, '[]')), '{}') AS m
          FROM g, s WHERE g.b - g.a > s.step
    ),
    known_empty AS (
        SELECT coalesce(range_agg(tstzrange(e.range_start, e.range_end, '[]')), '{}') AS m
          FROM perps_stats.backfill_empty_ranges e
         WHERE NOT p_force AND e.exchange = p_exchange AND e.symbol = p_symbol AND e.kind = 'klines'
           AND e."interval" = p_interval AND e.range_end >= p_lo AND e.range_start <= p_hi
    ),
    r AS (SELECT unnest(holes.m - known_empty.m) AS r FROM holes, known_empty),
    b AS (SELECT CASE WHEN lower_inc(r.r) THEN lower(r.r) ELSE lower(r.r) + s.step END AS lo,
                 CASE WHEN upper_inc(r.r) THEN upper(r.r) ELSE upper(r.r) - s.step END AS hi
            FROM r, s)
    SELECT b.lo, b.hi, (extract(epoch FROM b.hi - b.lo) / extract(epoch FROM s.step))::bigint + 1
      FROM b, s WHERE b.hi >= b.lo ORDER BY 1
$$;

-- The missing stretches of funding history in [p_lo, p_hi]: the stretches
-- between stored funding times (and the range's ends) longer than 1.5
-- funding intervals.  The end of the range is asked again once half an
-- interval has passed since the last stored funding time: that is the
-- request that confirms the edge.
CREATE FUNCTION perps_stats._funding_gaps(p_exchange text, p_symbol text, p_market int, p_every interval,
                                          p_lo timestamptz, p_hi timestamptz, p_force boolean)
RETURNS TABLE (range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT f.funding_time AS ft FROM perps_stats.funding_rates f
         WHERE NOT p_force AND f.market_id = p_market AND f.funding_time BETWEEN p_lo AND p_hi
        UNION ALL SELECT p_lo - p_every
        UNION ALL SELECT p_hi + p_every
    ),
    g AS (SELECT ft AS a, lead(ft) OVER (ORDER BY ft) AS b FROM t)
    SELECT greatest(a + interval '1 millisecond', p_lo), least(b - interval '1 millisecond', p_hi)
      FROM g
     WHERE b - a >= p_every * 1.5
       AND NOT EXISTS (SELECT 1 FROM perps_stats.backfill_empty_ranges e
                        WHERE NOT p_force AND e.exchange = p_exchange AND e.symbol = p_symbol
                          AND e.kind = 'funding_rates'
                          AND e.range_start <= greatest(a + interval '1 millisecond', p_lo)
                          AND e.range_end >= least(b - interval '1 millisecond', p_hi))
     ORDER BY 1
$$;

-- The stretches of [p_lo, p_hi] (inclusive, to the millisecond) that no
-- earlier run fetched completely: trades have no grid, so stored rows cannot
-- tell a quiet minute from a hole; backfill_covered records what was
-- fetched.  With p_force the whole range.
CREATE FUNCTION perps_stats._trade_gaps(p_exchange text, p_symbol text, p_lo timestamptz, p_hi timestamptz,
                                        p_force boolean)
RETURNS TABLE (range_start timestamptz, range_end timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH want AS (SELECT tstzmultirange(tstzrange(p_lo, p_hi + interval '1 millisecond', '[)')) AS m),
    have AS (
        SELECT coalesce(range_agg(tstzrange(c.range_start, c.range_end, '[)')), '{}') AS m
          FROM perps_stats.backfill_covered c
         WHERE NOT p_force AND c.exchange = p_exchange AND c.symbol = p_symbol AND c.kind = 'trades'
           AND c.range_end > p_lo AND c.range_start <= p_hi
    ),
    r AS (SELECT unnest(want.m - have.m) AS r FROM want, have)
    SELECT lower(r.r), upper(r.r) - interval '1 millisecond' FROM r
     WHERE upper(r.r) - lower(r.r) >= interval '1 millisecond'
     ORDER BY 1
$$;

-- Records [p_from, p_to] (inclusive) as fetched completely, merged into the
-- covered range it continues.  Only what is a minute old or older: a venue
-- may still be publishing the last seconds.
CREATE FUNCTION perps_stats._trade_covered(p_exchange text, p_symbol text, p_from timestamptz, p_to timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_end timestamptz := least(p_to + interval '1 millisecond', now() - interval '1 minute');
BEGIN
    IF v_end <= p_from THEN
        RETURN;
    END IF;
    UPDATE perps_stats.backfill_covered c SET range_end = greatest(c.range_end, v_end), checked_at = now()
     WHERE c.exchange = p_exchange AND c.symbol = p_symbol AND c.kind = 'trades'
       AND c.range_start <= p_from AND c.range_end >= p_from;
    IF NOT FOUND THEN
        INSERT INTO perps_stats.backfill_covered AS c (exchange, symbol, kind, range_start, range_end)
        VALUES (p_exchange, p_symbol, 'trades', p_from, v_end)
        ON CONFLICT (exchange, symbol, kind, range_start) DO UPDATE
           SET range_end = greatest(c.range_end, EXCLUDED.range_end), checked_at = now();
    END IF;
END
$$;

-- The earliest data a venue has, by probing with max_rows => 1: "is there
-- anything between the dawn of perpetuals and t?" is monotone in t, so a
-- binary search finds it, and a venue that answers oldest-first gives it
-- away in two requests.  p_kind is klines or funding_rates.
CREATE FUNCTION perps_stats._backfill_probe(p_exchange text, p_symbol text, p_kind text, p_interval text,
                                            OUT earliest timestamptz, OUT requests int)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c_dawn   constant timestamptz := '2016-01-01 00:00:00+00';
    v_res    interval := coalesce(perps_stats._kline_step(p_interval), interval '1 second');
    v_lo     timestamptz := c_dawn;
    v_hi     timestamptz;
    v_mid    timestamptz;
    v_found  timestamptz;

BEGIN
    requests := 0;
    v_mid := now();
    LOOP
        IF p_kind = 'klines' THEN
            SELECT min(k.open_time) INTO v_found
              FROM perps_stats.fetch_klines(p_exchange, p_symbol, p_interval, c_dawn, v_mid, 1) k;
        ELSE
            SELECT min(f.funding_time) INTO v_found
              FROM perps_stats.fetch_funding_history(p_exchange, p_symbol, c_dawn, v_mid, 1) f;
        END IF;
        requests := requests + 1;
        IF v_found IS NOT NULL THEN
            v_hi := v_found;
        ELSIF v_hi IS NULL THEN
            RETURN;             -- nothing at all: earliest stays NULL
        ELSE
            v_lo := v_mid;
        END IF;
        EXIT WHEN v_hi - v_lo <= v_res;
        -- first try just before the earliest row seen (an oldest-first venue
        -- answers "nothing" and we are done), then bisect
        IF v_found IS NOT NULL AND requests <= 2 THEN
            v_mid := v_hi - v_res;
        ELSE
            v_mid := v_lo + (v_hi - v_lo) / 2;
        END IF;
        IF p_kind = 'klines' THEN
            v_mid := date_bin(v_res, v_mid, timestamptz '1970-01-01 00:00:00+00');
        END IF;
        EXIT WHEN v_mid <= v_lo OR v_mid >= v_hi;
    END LOOP;
    earliest := v_hi;
END
$$;

-- A daily partition of one of the tables backfill writes, with the owner's
-- rights: a role granted backfill (perps_collector) may write rows but not
-- create tables.  Only these three tables, only sane days.
CREATE FUNCTION perps_stats._backfill_partition(p_table name, p_day date)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_table NOT IN ('klines', 'funding_rates', 'trades') THEN
        RAISE EXCEPTION 'backfill does not write table "%"', p_table
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_day < date '2009-01-03' OR p_day > (now() AT TIME ZONE 'UTC')::date + 1 THEN
        RAISE EXCEPTION 'day % is out of range for a backfill partition', p_day
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Backfill writes days from 2009-01-03 up to tomorrow (UTC).';
    END IF;
    RETURN perps_stats._create_partition(p_table, p_day);
END
$$;

-- One writer per table: the backfill's rows go through the same C writer as
-- collect()'s and the stream workers' (src/store.c), with one clash policy
-- per table: a repeated trade is ignored; a newer observation of a funding
-- period or a kline replaces the stored one (force => true now only fetches
-- covered ranges again).
CREATE FUNCTION perps_stats._store_rows(p_rows anyarray)
RETURNS bigint
AS 'MODULE_PATHNAME', 'perps_stats_store_rows'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION perps_stats._store_rows(anyarray) IS
    'Writes rows of a time-series table (an array of its row type) with the table''s clash policy; returns the rows written';
REVOKE ALL ON FUNCTION perps_stats._store_rows(anyarray) FROM PUBLIC;

CREATE FUNCTION perps_stats._backfill_klines_chunk(p_exchange text, p_symbol text, p_market int,
                                                   p_interval text, p_from timestamptz, p_to timestamptz,
                                                   p_page int, p_force boolean,
                                                   OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the last close time wanted: whatever the venue's "until" bounds
    -- (open or close time), the last candle is in and the next is not
    v_until  timestamptz := p_to + perps_stats._kline_step(p_interval) - interval '1 millisecond';
    v_first  date := (p_from AT TIME ZONE 'UTC')::date;
    v_last   date := (p_to AT TIME ZONE 'UTC')::date;
    v_short  boolean := v_last - v_first < 7;
    v_rows   perps_stats.klines[];
BEGIN
    IF v_short THEN
        PERFORM perps_stats._backfill_partition('klines', d::date) FROM generate_series(v_first, v_last, interval '1 day') d;
    END IF;
    SELECT array_agg(ROW(p_market, p_interval, k.open_time, k.close_time, k.open, k.high, k.low, k.close,
                         k.volume, k.turnover, k.trade_count)::perps_stats.klines ORDER BY k.open_time)
      INTO v_rows
      FROM perps_stats.fetch_klines(p_exchange, p_symbol, p_interval, p_from, v_until, p_page) k
     WHERE k.open_time BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := CASE WHEN fetched > 0 THEN perps_stats._store_rows(v_rows) ELSE 0 END;
    IF NOT v_short AND inserted > 0 THEN
        PERFORM perps_stats._backfill_partition('klines', x.day)
           FROM (SELECT DISTINCT (k.open_time AT TIME ZONE 'UTC')::date AS day FROM perps_stats.klines_default k
                  WHERE k.market_id = p_market AND k."interval" = p_interval
                    AND k.open_time BETWEEN p_from AND p_to) x;
    END IF;
END
$$;

CREATE FUNCTION perps_stats._backfill_funding_chunk(p_exchange text, p_symbol text, p_market int,
                                                    p_from timestamptz, p_to timestamptz, p_force boolean,
                                                    OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows  perps_stats.funding_rates[];
BEGIN
    SELECT array_agg(ROW(p_market, h.funding_time, h.rate, h.predicted_rate, h.interval_hours)::perps_stats.funding_rates
                     ORDER BY h.funding_time)
      INTO v_rows
      FROM perps_stats.fetch_funding_history(p_exchange, p_symbol, p_from, p_to, NULL) h
     WHERE h.funding_time BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := 0;
    IF fetched = 0 THEN
        RETURN;
    END IF;
    PERFORM perps_stats._backfill_partition('funding_rates', d.day)
       FROM (SELECT DISTINCT (r.funding_time AT TIME ZONE 'UTC')::date AS day FROM unnest(v_rows) r) d;
    inserted := perps_stats._store_rows(v_rows);
END
$$;

CREATE FUNCTION perps_stats._backfill_trades_chunk(p_exchange text, p_symbol text, p_market int,
                                                   p_from timestamptz, p_to timestamptz,
                                                   OUT fetched bigint, OUT inserted bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows  perps_stats.trades[];
BEGIN
    PERFORM perps_stats._backfill_partition('trades', d::date)
       FROM generate_series((p_from AT TIME ZONE 'UTC')::date, (p_to AT TIME ZONE 'UTC')::date, interval '1 day') d;
    SELECT array_agg(ROW(p_market, t.ts, t.trade_id, t.price, t.qty, t.side)::perps_stats.trades)
      INTO v_rows
      FROM perps_stats.fetch_trades(p_exchange, p_symbol, p_from, p_to, NULL) t
     WHERE t.ts BETWEEN p_from AND p_to;
    fetched := coalesce(cardinality(v_rows), 0);
    inserted := CASE WHEN fetched > 0 THEN perps_stats._store_rows(v_rows) ELSE 0 END;
    PERFORM perps_stats._trade_covered(p_exchange, p_symbol, p_from, p_to);
END
$$;

-- Starts a unit of work: takes its advisory lock (or fails with
-- lock_not_available naming the holder) and resets its progress row.
CREATE FUNCTION perps_stats._backfill_begin(p_exchange text, p_symbol text, p_kind text, p_interval text,
                                            p_lo timestamptz, p_hi timestamptz, p_unit text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key    bigint := perps_stats._backfill_lock_key(p_exchange, p_symbol, p_kind);
    v_holder int;
BEGIN
    IF NOT pg_try_advisory_lock(v_key) THEN
        v_holder := perps_stats._backfill_lock_holder(v_key);
        RAISE EXCEPTION 'a backfill of % % % is already running', p_exchange, p_symbol, p_kind
            USING ERRCODE = 'lock_not_available',
                  DETAIL = format('Backend %s holds its advisory lock.', coalesce(v_holder::text, 'unknown')),
                  HINT = 'Wait for it to finish; perps_stats.backfill_status shows its progress.';
    END IF;
    INSERT INTO perps_stats.backfill_progress AS p
           (exchange, symbol, kind, "interval", pid, range_start, range_end, done, total, unit,
            rows, chunks, state, error, started_at, updated_at, finished_at)
    VALUES (p_exchange, p_symbol, p_kind, p_interval, pg_backend_pid(), p_lo, p_hi, 0, NULL, p_unit,
            0, 0, 'running', NULL, clock_timestamp(), clock_timestamp(), NULL)
    ON CONFLICT (exchange, symbol, kind) DO UPDATE
       SET "interval" = EXCLUDED."interval", pid = EXCLUDED.pid, range_start = EXCLUDED.range_start,
           range_end = EXCLUDED.range_end, done = 0, total = NULL, unit = EXCLUDED.unit, rows = 0,
           chunks = 0, state = 'running', error = NULL, started_at = EXCLUDED.started_at,
           updated_at = EXCLUDED.updated_at, finished_at = NULL;
END
$$;

CREATE PROCEDURE perps_stats.backfill(
    exchange        text,
    symbols         text[],
    since           timestamptz,
    until           timestamptz DEFAULT now(),
    kinds           text[] DEFAULT '{klines,funding_rates}',
    kline_interval  text DEFAULT '1m',
    force           boolean DEFAULT false)
LANGUAGE plpgsql
-- No SET search_path here: a procedure with SET clauses cannot COMMIT.
-- Every name below is schema-qualified or in pg_catalog (searched first),
-- and it runs with the caller's rights, so the caller's search_path gains
-- nothing it could not do directly.
AS $$
DECLARE
    c_epoch     constant timestamptz := '1970-01-01 00:00:00+00';
    v_until     timestamptz := coalesce(until, now());
    v_exchange  smallint;
    v_limits    record;
    v_symbol    text;
    v_kind      text;
    v_market    int;
    v_step      interval;
    v_every     interval;
    v_lo        timestamptz;
    v_hi        timestamptz;
    v_earliest  timestamptz;
    v_probe     record;
    v_page      int;
    v_range     record;
    v_from      timestamptz;
    v_to        timestamptz;
    v_got       record;
    v_expected  bigint;
    v_total     bigint;
    v_done      bigint;
    v_rows      bigint;
    v_chunks    int;
    v_err       text;
    v_state     text;
    v_detail    text;
    v_hint      text;
    v_all_rows  bigint := 0;
    v_all_chunks int := 0;
    v_summary   text[] := '{}';
    v_t0        timestamptz := clock_timestamp();
BEGIN
    -- arguments
    SELECT e.id INTO v_exchange FROM perps_stats.exchanges e WHERE e.name = backfill.exchange;
    IF v_exchange IS NULL THEN
        RAISE EXCEPTION 'exchange "%" does not exist', backfill.exchange
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The exchanges are listed in perps_stats.exchanges.';
    END IF;
    IF symbols IS NULL OR cardinality(symbols) = 0 OR array_position(symbols, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'symbols must be a non-empty array without NULLs'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF kinds IS NULL OR cardinality(kinds) = 0
       OR NOT kinds <@ ARRAY['klines', 'funding_rates', 'trades'] THEN
        RAISE EXCEPTION 'kinds must be a non-empty array of klines, funding_rates and trades'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_step := perps_stats._kline_step(kline_interval);
    IF v_step IS NULL THEN
        RAISE EXCEPTION 'unsupported kline interval "%"', kline_interval
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use one of 1m, 5m, 15m, 30m, 1h, 4h, 1d.';
    END IF;
    IF since IS NOT NULL AND since >= v_until THEN
        RAISE EXCEPTION 'since must be earlier than until'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_until > now() THEN
        v_until := now();
    END IF;
    v_limits := perps_stats.adapter_limits(backfill.exchange);
    IF 'trades' = ANY (kinds) AND v_limits.no_trades_history IS NOT NULL THEN
        RAISE EXCEPTION '% serves no trade history over a time range', backfill.exchange
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = v_limits.no_trades_history,
                  HINT = 'Backfill klines and funding_rates there; the stream workers collect trades as they happen.';
    END IF;

    -- Locks left behind by a run of this session that was cancelled (a
    -- session-level advisory lock outlives the aborted transaction).
    FOR v_range IN SELECT p.exchange, p.symbol, p.kind FROM perps_stats.backfill_progress p
                    WHERE p.pid = pg_backend_pid() AND p.state = 'running' LOOP
        WHILE perps_stats._backfill_lock_holder(
                  perps_stats._backfill_lock_key(v_range.exchange, v_range.symbol, v_range.kind)) = pg_backend_pid() LOOP
            PERFORM pg_advisory_unlock(perps_stats._backfill_lock_key(v_range.exchange, v_range.symbol, v_range.kind));
        END LOOP;
        UPDATE perps_stats.backfill_progress p SET state = 'interrupted'
         WHERE p.exchange = v_range.exchange AND p.symbol = v_range.symbol AND p.kind = v_range.kind;
    END LOOP;
    -- Fails right here, with "invalid transaction termination", when called
    -- inside a transaction block.
    COMMIT;

    FOREACH v_symbol IN ARRAY symbols LOOP
        v_market := perps_stats._backfill_market(backfill.exchange, v_symbol);
        FOREACH v_kind IN ARRAY kinds LOOP
            v_rows := 0; v_chunks := 0; v_done := 0; v_total := 0; v_err := NULL;


            BEGIN
                PERFORM perps_stats._backfill_begin(backfill.exchange, v_symbol, v_kind,
                                                    CASE v_kind WHEN 'klines' THEN kline_interval END,
                                                    since, v_until,
                                                    CASE v_kind WHEN 'klines' THEN 'candles'
                                                                WHEN 'funding_rates' THEN 'funding periods'
                                                                ELSE 'seconds' END);
            EXCEPTION WHEN lock_not_available THEN
                GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
                                        v_hint = PG_EXCEPTION_HINT;
            END;
            IF v_err IS NOT NULL THEN
                -- the other run owns the progress row and the lock: leave them
                INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, range_start, range_end)
                VALUES (v_exchange, v_market, 'backfill', 'backfill',
                        format('backfill refused: %s (%s) (done before: %s)', v_err, v_detail,
                               array_to_string(v_summary, '; ')),
                        since, v_until);
                COMMIT;
                RAISE EXCEPTION '%', v_err USING ERRCODE = 'lock_not_available', DETAIL = v_detail, HINT = v_hint;
            END IF;
            COMMIT;

            -- the start: since, or the venue's earliest data (probed once,
            -- remembered); never before the earliest data known
            SELECT b.earliest INTO v_earliest FROM perps_stats.backfill_earliest b
             WHERE b.exchange = backfill.exchange AND b.symbol = v_symbol AND b.kind = v_kind
               AND b."interval" = CASE v_kind WHEN 'klines' THEN kline_interval ELSE '' END;
            IF since IS NULL AND (v_earliest IS NULL OR force) THEN
                BEGIN
                    IF v_kind = 'trades' THEN
                        -- Trade history is paged by time windows, not searchable
                        -- for its start: the first trade is in the first 1m
                        -- candle, which the kline probe finds (and remembers).
                        SELECT b.earliest, 0 AS requests INTO v_probe FROM perps_stats.backfill_earliest b
                         WHERE b.exchange = backfill.exchange AND b.symbol = v_symbol AND b.kind = 'klines'
                           AND b."interval" = '1m' AND NOT force;
                        IF v_probe.earliest IS NULL THEN
                            v_probe := perps_stats._backfill_probe(backfill.exchange, v_symbol, 'klines', '1m');
                            IF v_probe.earliest IS NOT NULL THEN
                                INSERT INTO perps_stats.backfill_earliest AS b
                                       (exchange, symbol, kind, "interval", earliest, probed_at, requests)
                                VALUES (backfill.exchange, v_symbol, 'klines', '1m', v_probe.earliest, now(), v_probe.requests)
                                ON CONFLICT ON CONSTRAINT backfill_earliest_pkey DO UPDATE
                                   SET earliest = EXCLUDED.earliest, probed_at = EXCLUDED.probed_at,
                                       requests = EXCLUDED.requests;
                            END IF;
                        END IF;
                    ELSE
                        v_probe := perps_stats._backfill_probe(backfill.exchange, v_symbol, v_kind,
                                                              CASE v_kind WHEN 'klines' THEN kline_interval END);
                    END IF;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                            v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                END;
                IF v_err IS NULL THEN
                    v_earliest := v_probe.earliest;
                    IF v_earliest IS NOT NULL THEN
                        INSERT INTO perps_stats.backfill_earliest AS b
                               (exchange, symbol, kind, "interval", earliest, probed_at, requests)
                        VALUES (backfill.exchange, v_symbol, v_kind,
                                CASE v_kind WHEN 'klines' THEN kline_interval ELSE '' END,
                                v_earliest, now(), v_probe.requests)
                        ON CONFLICT ON CONSTRAINT backfill_earliest_pkey DO UPDATE
                           SET earliest = EXCLUDED.earliest, probed_at = EXCLUDED.probed_at,
                               requests = EXCLUDED.requests;
                    END IF;
                    RAISE NOTICE 'backfill % % %: earliest data at % (% probe requests)',
                        backfill.exchange, v_symbol, v_kind, coalesce(v_earliest::text, 'none'), v_probe.requests;
                END IF;
            END IF;
            v_lo := greatest(since, v_earliest);
            IF v_lo IS NULL AND v_err IS NULL THEN
                v_lo := v_until;          -- the venue has nothing: an empty range
            END IF;

            IF v_err IS NULL AND v_kind = 'klines' THEN
                -- complete candles only: open_time >= lo, open_time + step <= until
                v_lo := date_bin(v_step, v_lo, c_epoch);
                IF v_lo < greatest(since, v_earliest) THEN v_lo := v_lo + v_step; END IF;
                v_hi := date_bin(v_step, v_until - v_step, c_epoch);
                v_page := coalesce(v_limits.kline_page, 500);
                IF v_hi >= v_lo THEN
                    SELECT coalesce(sum(g.n), 0) INTO v_total
                      FROM perps_stats._kline_gaps(backfill.exchange, v_symbol, v_market, kline_interval, v_lo, v_hi, force) g;
                END IF;
                UPDATE perps_stats.backfill_progress p SET total = v_total, range_start = v_lo, range_end = v_hi,
                       updated_at = clock_timestamp()
                 WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                COMMIT;
                FOR v_range IN SELECT * FROM perps_stats._kline_gaps(backfill.exchange, v_symbol, v_market,
                                                                     kline_interval, v_lo, v_hi, force)
                                WHERE v_hi >= v_lo LOOP
                    v_from := v_range.range_start;
                    WHILE v_from <= v_range.range_end AND v_err IS NULL LOOP
                        v_to := least(v_range.range_end, v_from + v_step * (v_page - 1));
                        v_expected := ((extract(epoch FROM v_to - v_from) / extract(epoch FROM v_step))::bigint) + 1;
                        BEGIN
                            v_got := perps_stats._backfill_klines_chunk(backfill.exchange, v_symbol, v_market,
                                                                         kline_interval, v_from, v_to, v_page, force);
                        EXCEPTION WHEN OTHERS THEN
                            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                        END;
                        EXIT WHEN v_err IS NOT NULL;
                        -- An empty page: is there anything at all later in this
                        -- range?  One request with max_rows => 1 tells, so the
                        -- end of a venue's data (or a delisting) costs one
                        -- request, not a page per chunk to the end.
                        IF v_got.fetched = 0 AND v_to < v_range.range_end THEN
                            BEGIN
                                SELECT count(*) INTO v_expected
                                  FROM perps_stats.fetch_klines(backfill.exchange, v_symbol, kline_interval,
                                                                v_to + v_step, v_range.range_end + v_step - interval '1 millisecond', 1) k
                                 WHERE k.open_time BETWEEN v_to + v_step AND v_range.range_end;
                            EXCEPTION WHEN OTHERS THEN
                                GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                                        v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                            END;
                            EXIT WHEN v_err IS NOT NULL;
                            IF v_expected = 0 THEN
                                v_to := v_range.range_end;
                            END IF;
                        END IF;
                        v_expected := ((extract(epoch FROM v_to - v_from) / extract(epoch FROM v_step))::bigint) + 1;
                        -- what the venue did not have, in the past, is not asked again
                        IF v_got.fetched < v_expected AND v_from < now() - interval '1 hour' THEN
                            INSERT INTO perps_stats.backfill_empty_ranges
                                   (exchange, symbol, kind, "interval", range_start, range_end)
                            SELECT backfill.exchange, v_symbol, 'klines', kline_interval, g.range_start, g.range_end
                              FROM perps_stats._kline_gaps(backfill.exchange, v_symbol, v_market, kline_interval,
                                                           v_from, least(v_to, date_bin(v_step, now() - interval '1 hour', c_epoch)),
                                                           false) g
                            ON CONFLICT DO NOTHING;
                        END IF;
                        v_chunks := v_chunks + 1;
                        v_rows := v_rows + v_got.inserted;
                        v_done := v_done + v_expected;
                        UPDATE perps_stats.backfill_progress p
                           SET done = v_done, rows = v_rows, chunks = v_chunks, updated_at = clock_timestamp()
                         WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                        RAISE NOTICE 'backfill % % klines %: chunk %, % .. %: % rows fetched, % new (% of % candles)',
                            backfill.exchange, v_symbol, kline_interval, v_chunks, v_from, v_to,
                            v_got.fetched, v_got.inserted, v_done, v_total;
                        COMMIT;
                        v_from := v_to + v_step;
                    END LOOP;
                    EXIT WHEN v_err IS NOT NULL;
                END LOOP;

            ELSIF v_err IS NULL AND v_kind = 'funding_rates' THEN
                v_hi := v_until;
                -- the venue's funding interval: the market's, else the shortest
                -- stored, else one hour (the shortest any venue uses)
                SELECT make_interval(secs => 3600 * coalesce(
                           (SELECT m.funding_interval_hours FROM perps_stats.markets m WHERE m.id = v_market),
                           (SELECT min(f.interval_hours) FROM perps_stats.funding_rates f
                             WHERE f.market_id = v_market AND f.funding_time BETWEEN v_lo AND v_hi),
                           1)::float8)
                  INTO v_every;
                v_page := coalesce(v_limits.funding_page, 100);
                IF v_hi > v_lo THEN
                    SELECT coalesce(sum(ceil(extract(epoch FROM g.range_end - g.range_start) / extract(epoch FROM v_every))), 0)
                      INTO v_total
                      FROM perps_stats._funding_gaps(backfill.exchange, v_symbol, v_market, v_every, v_lo, v_hi, force) g;
                END IF;
                UPDATE perps_stats.backfill_progress p SET total = v_total, range_start = v_lo, range_end = v_hi,
                       updated_at = clock_timestamp()
                 WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                COMMIT;
                FOR v_range IN SELECT * FROM perps_stats._funding_gaps(backfill.exchange, v_symbol, v_market,
                                                                       v_every, v_lo, v_hi, force)
                                WHERE v_hi > v_lo LOOP
                    v_from := v_range.range_start;
                    WHILE v_from <= v_range.range_end AND v_err IS NULL LOOP
                        -- a window of one page of funding periods
                        v_to := least(v_range.range_end, v_from + v_every * v_page - interval '1 millisecond');
                        BEGIN
                            v_got := perps_stats._backfill_funding_chunk(backfill.exchange, v_symbol, v_market,
                                                                          v_from, v_to, force);
                        EXCEPTION WHEN OTHERS THEN
                            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                        END;
                        EXIT WHEN v_err IS NOT NULL;
                        IF v_got.fetched = 0 AND v_to < now() - interval '1 day' THEN
                            INSERT INTO perps_stats.backfill_empty_ranges
                                   (exchange, symbol, kind, range_start, range_end)
                            VALUES (backfill.exchange, v_symbol, 'funding_rates', v_from, v_to)
                            ON CONFLICT DO NOTHING;
                        END IF;
                        v_chunks := v_chunks + 1;
                        v_rows := v_rows + v_got.inserted;
                        v_done := least(v_total, v_done + ceil(extract(epoch FROM v_to - v_from) / extract(epoch FROM v_every))::bigint);
                        UPDATE perps_stats.backfill_progress p
                           SET done = v_done, rows = v_rows, chunks = v_chunks, updated_at = clock_timestamp()
                         WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                        RAISE NOTICE 'backfill % % funding_rates: chunk %, % .. %: % rows fetched, % new',
                            backfill.exchange, v_symbol, v_chunks, v_from, v_to, v_got.fetched, v_got.inserted;
                        COMMIT;
                        v_from := v_to + interval '1 millisecond';
                    END LOOP;
                    EXIT WHEN v_err IS NOT NULL;
                END LOOP;

            ELSIF v_err IS NULL AND v_kind = 'trades' THEN
                -- Trades have no grid to find holes in: the stretches of
                -- [lo, until] outside backfill_covered are fetched, in
                -- windows of an hour (one chunk: a few pages of the venue).
                v_hi := v_until;
                IF v_hi > v_lo THEN
                    SELECT coalesce(sum(ceil(extract(epoch FROM g.range_end - g.range_start))), 0) INTO v_total
                      FROM perps_stats._trade_gaps(backfill.exchange, v_symbol, v_lo, v_hi, force) g;
                END IF;
                UPDATE perps_stats.backfill_progress p SET total = v_total, range_start = v_lo, range_end = v_hi,
                       updated_at = clock_timestamp()
                 WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                COMMIT;
                FOR v_range IN SELECT * FROM perps_stats._trade_gaps(backfill.exchange, v_symbol, v_lo, v_hi, force)
                                WHERE v_hi > v_lo LOOP
                    v_from := v_range.range_start;
                    WHILE v_from <= v_range.range_end AND v_err IS NULL LOOP
                        v_to := least(v_range.range_end, v_from + interval '1 hour' - interval '1 millisecond');
                        BEGIN
                            v_got := perps_stats._backfill_trades_chunk(backfill.exchange, v_symbol, v_market,
                                                                         v_from, v_to);
                        EXCEPTION WHEN OTHERS THEN
                            GET STACKED DIAGNOSTICS v_err = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE,
                                                    v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
                        END;
                        EXIT WHEN v_err IS NOT NULL;
                        v_chunks := v_chunks + 1;
                        v_rows := v_rows + v_got.inserted;
                        v_done := least(v_total, v_done + ceil(extract(epoch FROM v_to - v_from))::bigint);
                        UPDATE perps_stats.backfill_progress p
                           SET done = v_done, rows = v_rows, chunks = v_chunks, updated_at = clock_timestamp()
                         WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
                        RAISE NOTICE 'backfill % % trades: chunk %, % .. %: % rows fetched, % new (% of % s)',
                            backfill.exchange, v_symbol, v_chunks, v_from, v_to, v_got.fetched, v_got.inserted,
                            v_done, v_total;
                        COMMIT;
                        v_from := v_to + interval '1 millisecond';
                    END LOOP;
                    EXIT WHEN v_err IS NOT NULL;
                END LOOP;
            END IF;

            v_all_rows := v_all_rows + v_rows;
            v_all_chunks := v_all_chunks + v_chunks;
            v_summary := v_summary || format('%s %s: %s rows in %s chunks', v_symbol,
                                             CASE v_kind WHEN 'klines' THEN 'klines ' || kline_interval ELSE v_kind END,
                                             v_rows, v_chunks);
            UPDATE perps_stats.backfill_progress p
               SET state = CASE WHEN v_err IS NULL THEN 'done' ELSE 'failed' END,
                   error = v_err, updated_at = clock_timestamp(), finished_at = clock_timestamp()
             WHERE p.exchange = backfill.exchange AND p.symbol = v_symbol AND p.kind = v_kind;
            PERFORM pg_advisory_unlock(perps_stats._backfill_lock_key(backfill.exchange, v_symbol, v_kind));

            IF v_err IS NOT NULL THEN
                INSERT INTO perps_stats.ingest_events (exchange_id, market_id, source, kind, message, range_start, range_end)
                VALUES (v_exchange, v_market, 'backfill', 'backfill',
                        format('backfill failed at %s %s: %s (done before: %s)', v_symbol, v_kind, v_err,
                               array_to_string(v_summary, '; ')),
                        since, v_until);
                COMMIT;
                IF v_detail IS NOT NULL AND v_detail <> '' THEN
                    v_hint := nullif(v_hint, '');
                    RAISE EXCEPTION 'backfill of % % % failed: %', backfill.exchange, v_symbol, v_kind, v_err
                        USING ERRCODE = v_state, DETAIL = v_detail,
                              HINT = coalesce(v_hint, 'The rows of the chunks before the error are kept; the next run resumes from there.');
                END IF;
                RAISE EXCEPTION 'backfill of % % % failed: %', backfill.exchange, v_symbol, v_kind, v_err
                    USING ERRCODE = v_state,
                          HINT = coalesce(nullif(v_hint, ''), 'The rows of the chunks before the error are kept; the next run resumes from there.');
            END IF;
            COMMIT;
        END LOOP;
    END LOOP;

    INSERT INTO perps_stats.ingest_events (exchange_id, source, kind, message, range_start, range_end)
    VALUES (v_exchange, 'backfill', 'backfill',
            format('backfill done: %s rows in %s chunks in %s s (%s)', v_all_rows, v_all_chunks,
                   round(extract(epoch FROM clock_timestamp() - v_t0)::numeric, 1),
                   array_to_string(v_summary, '; ')),
            since, v_until);
    COMMIT;
END
$$;
COMMENT ON PROCEDURE perps_stats.backfill(text, text[], timestamptz, timestamptz, text[], text, boolean) IS
    'Fetches the history of klines, funding rates (and trades where the venue serves them) between since and until that is not stored yet; commits per chunk, so CALL it outside a transaction block';

CREATE VIEW perps_stats.backfill_status AS
    SELECT p.exchange, p.symbol, p.kind, p."interval",
           CASE WHEN p.state = 'running'
                 AND perps_stats._backfill_lock_holder(perps_stats._backfill_lock_key(p.exchange, p.symbol, p.kind))
                     IS DISTINCT FROM p.pid
                THEN 'interrupted' ELSE p.state END AS state,
           p.done, p.total, p.unit,
           round(100.0 * p.done / nullif(p.total, 0), 1) AS pct,
           p.rows, p.chunks, p.range_start, p.range_end, p.started_at, p.updated_at, p.finished_at,
           p.pid, p.error
      FROM perps_stats.backfill_progress p;
COMMENT ON VIEW perps_stats.backfill_status IS
    'Backfill progress per exchange, symbol and kind, live while a run commits its chunks; interrupted = running with nobody holding its lock any more';

-- ---------------------------------------------------------------------------
-- Scheduling with pg_cron (optional: looked for at call time)
-- ---------------------------------------------------------------------------

CREATE FUNCTION perps_stats._require_pg_cron()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Scheduled backfills are pg_cron jobs.',
                  HINT = 'CREATE EXTENSION pg_cron in the database named by cron.database_name.';
    END IF;
END
$$;

CREATE FUNCTION perps_stats.schedule_backfill(job_name text, schedule text, exchange text, symbols text[],
                                              lookback interval,
                                              kinds text[] DEFAULT '{klines,funding_rates}')
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_job bigint;
BEGIN
    PERFORM perps_stats._require_pg_cron();
    IF job_name IS NULL OR schedule IS NULL THEN
        RAISE EXCEPTION 'job_name and schedule must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM perps_stats.exchanges e WHERE e.name = schedule_backfill.exchange) THEN
        RAISE EXCEPTION 'exchange "%" does not exist', schedule_backfill.exchange
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The exchanges are listed in perps_stats.exchanges.';
    END IF;
    IF symbols IS NULL OR cardinality(symbols) = 0 OR array_position(symbols, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'symbols must be a non-empty array without NULLs' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lookback IS NULL OR lookback <= interval '0' THEN
        RAISE EXCEPTION 'lookback must be a positive interval' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF kinds IS NULL OR cardinality(kinds) = 0 OR NOT kinds <@ ARRAY['klines', 'funding_rates', 'trades'] THEN
        RAISE EXCEPTION 'kinds must be a non-empty array of klines, funding_rates and trades'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
       INTO v_job
      USING job_name, schedule,
            format('CALL perps_stats.backfill(%L, %L::text[], now() - %L::interval, kinds => %L::text[])',
                   schedule_backfill.exchange, symbols, lookback, kinds);
    RETURN v_job;
END
$$;
COMMENT ON FUNCTION perps_stats.schedule_backfill(text, text, text, text[], interval, text[]) IS
    'Schedules (or reschedules) a pg_cron job named job_name that backfills the last lookback on every tick of schedule; returns the job id';

CREATE FUNCTION perps_stats.unschedule_backfill(job_name text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_ok boolean;
    v_n  int;
BEGIN
    PERFORM perps_stats._require_pg_cron();
    EXECUTE 'SELECT count(*) FROM cron.job j WHERE j.jobname = $1 AND j.username = current_user
                AND j.command LIKE ''CALL perps_stats.backfill(%'''
       INTO v_n USING job_name;
    IF v_n = 0 THEN
        RAISE EXCEPTION 'no scheduled backfill named "%"', job_name
            USING ERRCODE = 'undefined_object',
                  HINT = 'The scheduled backfills are the jobs in cron.job whose command calls perps_stats.backfill.';
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' INTO v_ok USING job_name;
    RETURN v_ok;
END
$$;
COMMENT ON FUNCTION perps_stats.unschedule_backfill(text) IS
    'Removes the pg_cron job of a backfill scheduled with schedule_backfill';

-- Writers, network-reaching, or both: not for PUBLIC.
REVOKE ALL ON PROCEDURE perps_stats.backfill(text, text[], timestamptz, timestamptz, text[], text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION perps_stats.schedule_backfill(text, text, text, text[], interval, text[]),
                       perps_stats.unschedule_backfill(text),
                       perps_stats._require_pg_cron(),
                       perps_stats._backfill_market(text, text),
                       perps_stats._backfill_probe(text, text, text, text),
                       perps_stats._backfill_klines_chunk(text, text, int, text, timestamptz, timestamptz, int, boolean),
                       perps_stats._backfill_funding_chunk(text, text, int, timestamptz, timestamptz, boolean),
                       perps_stats._backfill_trades_chunk(text, text, int, timestamptz, timestamptz),
                       perps_stats._backfill_begin(text, text, text, text, timestamptz, timestamptz, text),
                       perps_stats._kline_gaps(text, text, int, text, timestamptz, timestamptz, boolean),
                       perps_stats._funding_gaps(text, text, int, interval, timestamptz, timestamptz, boolean),
                       perps_stats._trade_gaps(text, text, timestamptz, timestamptz, boolean),
                       perps_stats._trade_covered(text, text, timestamptz, timestamptz)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION perps_stats._backfill_partition(name, date) FROM PUBLIC;

-- perps_collector (created by part 30) may run backfills: EXECUTE on the
-- procedure, its helpers and the pg_cron wrappers, and the writes a backfill
-- makes (UPDATE on klines and funding_rates: a newer observation replaces).  Daily
-- partitions come from _backfill_partition, with the owner's rights.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'perps_collector') THEN
        GRANT EXECUTE ON PROCEDURE perps_stats.backfill(text, text[], timestamptz, timestamptz, text[], text, boolean)
            TO perps_collector;
        GRANT EXECUTE ON FUNCTION
            perps_stats.schedule_backfill(text, text, text, text[], interval, text[]),
            perps_stats.unschedule_backfill(text),
            perps_stats._require_pg_cron(),
            perps_stats._backfill_market(text, text),
            perps_stats._backfill_probe(text, text, text, text),
            perps_stats._backfill_klines_chunk(text, text, int, text, timestamptz, timestamptz, int, boolean),
            perps_stats._backfill_funding_chunk(text, text, int, timestamptz, timestamptz, boolean),
            perps_stats._backfill_trades_chunk(text, text, int, timestamptz, timestamptz),
            perps_stats._backfill_begin(text, text, text, text, timestamptz, timestamptz, text),
            perps_stats._backfill_partition(name, date),
            perps_stats._kline_gaps(text, text, int, text, timestamptz, timestamptz, boolean),
            perps_stats._funding_gaps(text, text, int, interval, timestamptz, timestamptz, boolean),
            perps_stats._trade_gaps(text, text, timestamptz, timestamptz, boolean),
            perps_stats._trade_covered(text, text, timestamptz, timestamptz),
            perps_stats._store_rows(anyarray)
            TO perps_collector;
        GRANT INSERT, UPDATE ON perps_stats.klines, perps_stats.funding_rates TO perps_collector;
        GRANT INSERT ON perps_stats.trades, perps_stats.ingest_events TO perps_collector;
        GRANT INSERT, UPDATE ON perps_stats.backfill_progress, perps_stats.backfill_earliest,
                                perps_stats.backfill_empty_ranges, perps_stats.backfill_covered TO perps_collector;
    END IF;
END
$$;
