-- perps_stats install script, part 24: the analyst's statistics (src/stats.c).
--
--   summary(numeric)           aggregate: count, min, mean, median, p5, p95,
--                              p99, max, exact, one sort for all of them
--   market_stats(...)          summaries of ticker metrics over a time range,
--                              per market, per symbol, per exchange or overall
--   market_histogram(...)      counts per bin of one ticker metric, in one
--                              scan (the aggregate _histogram)
--   funding_stats(...)         funding rate per market: mean, min, max, sample
--                              standard deviation, annualized, trend per day,
--                              in one pass (the aggregate _funding)
--   liquidity_distribution(...) notional within bps of mid per venue and
--                              symbol, and each venue's shares
--
-- Percentiles are continuous, as percentile_cont: h = (n - 1) * p,
-- x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]) over the
-- values sorted ascending, in exact numeric (percentile_cont itself only
-- takes double precision).  Divisions (the rates, the mean, the shares) are
-- numeric's own, with numeric_div's scale; the standard deviation is
-- stddev_samp's value and scale (a square root: rounded by nature).
--
-- The functions run with the caller's rights: the perps_stats ones read the
-- tables (perps_reader), the perps_api wrappers (44_api_stats.sql) read the
-- perps_api views through the same internal functions (api = true).
--
-- Bounds: since < until and at most 366 days apart; at most 32 metrics, 1000
-- bins or 1001 edges, 1000 exchanges or symbols, 16 bps levels; at most
-- 32 Mi values in one summary.

CREATE TYPE perps_stats.numeric_summary AS (
    count   bigint,
    min     numeric,
    mean    numeric,
    median  numeric,
    p5      numeric,
    p95     numeric,
    p99     numeric,
    max     numeric
);
COMMENT ON TYPE perps_stats.numeric_summary IS
    'count, min, mean, median, p5, p95, p99, max of a numeric column (perps_stats.summary)';

CREATE FUNCTION perps_stats._summary_accum(internal, numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'summary_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._summary_final(internal)
RETURNS perps_stats.numeric_summary
AS 'MODULE_PATHNAME', 'summary_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE perps_stats.summary(numeric) (
    SFUNC            = perps_stats._summary_accum,
    STYPE            = internal,
    SSPACE           = 8192,
    FINALFUNC        = perps_stats._summary_final,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL         = SAFE
);
COMMENT ON AGGREGATE perps_stats.summary(numeric) IS
    'count, min, mean, median, p5, p95, p99, max of the non-NULL values, exact; percentiles continuous as percentile_cont; count 0 and NULLs for no values';

-- _histogram(x, bins): market_histogram's equal-width bins over [min, max]
-- in one scan (src/stats.c): (lo, hi, counts); the values are held in
-- work_mem (16 bytes a value) and spilled to a temporary file beyond it;
-- counts NULL for a value outside the 128-bit form
CREATE TYPE perps_stats._histogram_counts AS (lo numeric, hi numeric, counts bigint[]);

CREATE FUNCTION perps_stats._histogram_accum(internal, numeric, int)
RETURNS internal
AS 'MODULE_PATHNAME', 'histogram_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._histogram_final(internal)
RETURNS perps_stats._histogram_counts
AS 'MODULE_PATHNAME', 'histogram_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE perps_stats._histogram(numeric, int) (
    SFUNC            = perps_stats._histogram_accum,
    STYPE            = internal,
    SSPACE           = 8192,
    FINALFUNC        = perps_stats._histogram_final,
    FINALFUNC_MODIFY = READ_WRITE,
    PARALLEL         = SAFE
);

-- slope_per_day(y, t): the least-squares slope of y against t, per day,
-- exact (sums of x = microseconds since the group's first row, one division)
CREATE FUNCTION perps_stats._slope_accum(internal, numeric, timestamptz)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_final(internal)
RETURNS numeric
AS 'MODULE_PATHNAME', 'slope_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'slope_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION perps_stats._slope_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'slope_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE perps_stats.slope_per_day(y numeric, t timestamptz) (
    SFUNC        = perps_stats._slope_accum,
    STYPE        = internal,
    SSPACE       = 96,
    FINALFUNC    = perps_stats._slope_final,
    COMBINEFUNC  = perps_stats._slope_combine,
    SERIALFUNC   = perps_stats._slope_serialize,
    DESERIALFUNC = perps_stats._slope_deserialize,
    PARALLEL     = SAFE
);
COMMENT ON AGGREGATE perps_stats.slope_per_day(numeric, timestamptz) IS
    'Least-squares slope of y against t, per day, exact numeric (one division); NULL for fewer than two distinct times';

-- _funding(rate, interval_hours, t): funding_stats' figures of one market in
-- one pass, exact (src/stats.c), parallel
CREATE TYPE perps_stats._funding_figures AS (
    count bigint, mean numeric, min numeric, max numeric, stddev numeric,
    interval_hours numeric, annualized_pct numeric, slope_per_day numeric
);

CREATE FUNCTION perps_stats._funding_accum(internal, numeric, numeric, timestamptz)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_final(internal)
RETURNS perps_stats._funding_figures
AS 'MODULE_PATHNAME', 'funding_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'funding_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION perps_stats._funding_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'funding_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE perps_stats._funding(rate numeric, interval_hours numeric, t timestamptz) (
    SFUNC        = perps_stats._funding_accum,
    STYPE        = internal,
    SSPACE       = 2048,
    FINALFUNC    = perps_stats._funding_final,
    COMBINEFUNC  = perps_stats._funding_combine,
    SERIALFUNC   = perps_stats._funding_serialize,
    DESERIALFUNC = perps_stats._funding_deserialize,
    PARALLEL     = SAFE
);

CREATE TYPE perps_stats.market_stat AS (
    exchange text, symbol text, metric text, count bigint, min numeric, mean numeric,
    median numeric, p5 numeric, p95 numeric, p99 numeric, max numeric
);
CREATE TYPE perps_stats.histogram_bin AS (bin int, lower numeric, upper numeric, count bigint);
CREATE TYPE perps_stats.funding_stat AS (
    exchange text, symbol text, count bigint, mean numeric, min numeric, max numeric,
    stddev numeric, interval_hours numeric, annualized_pct numeric, slope_per_day numeric
);
CREATE TYPE perps_stats.liquidity_distribution_row AS (
    exchange text, symbol text, ts timestamptz, bps numeric, bid_notional numeric,
    ask_notional numeric, notional numeric, symbol_share_pct numeric,
    exchange_share_pct numeric, partial boolean
);

-- The relations the statistics read: the perps_api views for the HTTP API,
-- the same columns from the tables otherwise.
CREATE FUNCTION perps_stats._stats_source(what text, api boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN api AND what = 'funding_rates' THEN
                   '(SELECT f.*, mk.funding_interval_hours AS market_interval_hours
                       FROM perps_api.funding_rates f
                       LEFT JOIN perps_api.markets mk ON mk.exchange = f.exchange AND mk.symbol = f.symbol)'
           WHEN api THEN 'perps_api.' || what
           ELSE CASE what
               WHEN 'tickers' THEN
                   '(SELECT e.name AS exchange, m.symbol, x.* FROM perps_stats.tickers x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'funding_rates' THEN
                   '(SELECT e.name AS exchange, m.symbol, m.funding_interval_hours AS market_interval_hours, x.*
                       FROM perps_stats.funding_rates x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'liquidity_depth' THEN
                   '(SELECT e.name AS exchange, m.symbol, x.* FROM perps_stats.liquidity_depth x
                       JOIN perps_stats.markets m ON m.id = x.market_id
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
               WHEN 'markets' THEN
                   '(SELECT e.name AS exchange, m.* FROM perps_stats.markets m
                       JOIN perps_stats.exchanges e ON e.id = m.exchange_id)'
           END END
$$;

-- since < until, at most 366 days apart
CREATE FUNCTION perps_stats._stats_check_range(since timestamptz, until timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF since IS NULL OR until IS NULL OR since >= until THEN
        RAISE EXCEPTION 'since must be earlier than until'
            USING ERRCODE = '22023',
                  DETAIL = format('since is %s, until is %s.', coalesce(since::text, 'NULL'), coalesce(until::text, 'NULL'));
    END IF;
    IF until - since > interval '366 days' THEN
        RAISE EXCEPTION 'time range longer than 366 days'
            USING ERRCODE = '54000',
                  HINT = 'Ask for a year or less at a time.';
    END IF;
END
$$;

-- One ticker metric: its expression over the row t, and the condition a row
-- must meet to count (NULL: an unknown metric).
CREATE FUNCTION perps_stats._ticker_metric(metric text, notional boolean,
                                           OUT expr text, OUT cond text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN metric = 'oi_rate' AND NOT notional THEN 't.open_interest * 100 / t.volume_24h'
        WHEN metric = 'oi_rate' THEN 't.open_interest_notional * 100 / t.turnover_24h'
        WHEN metric = 'mark_deviation' THEN 'abs(t.last_price - t.mark_price) * 100 / t.mark_price'
        WHEN metric = 'index_deviation' THEN 'abs(t.last_price - t.index_price) * 100 / t.index_price'
        WHEN metric IN ('last_price', 'mark_price', 'index_price', 'best_bid_price', 'best_bid_qty',
                        'best_ask_price', 'best_ask_qty', 'volume_24h', 'turnover_24h', 'open_interest',
                        'open_interest_notional', 'price_change_24h', 'price_change_pct', 'high_24h',
                        'low_24h') THEN 't.' || metric
        END,
        CASE
        WHEN metric = 'oi_rate' AND NOT notional THEN 't.open_interest > 0 AND t.volume_24h > 0'
        WHEN metric = 'oi_rate' THEN 't.open_interest_notional > 0 AND t.turnover_24h > 0'
        WHEN metric = 'mark_deviation' THEN 't.last_price IS NOT NULL AND t.mark_price > 0'
        WHEN metric = 'index_deviation' THEN 't.last_price IS NOT NULL AND t.index_price > 0'
        WHEN metric IN ('last_price', 'mark_price', 'index_price', 'best_bid_price', 'best_bid_qty',
                        'best_ask_price', 'best_ask_qty', 'volume_24h', 'turnover_24h', 'open_interest',
                        'open_interest_notional', 'price_change_24h', 'price_change_pct', 'high_24h',
                        'low_24h') THEN 't.' || metric || ' IS NOT NULL'
        END
$$;

-- The WHERE clause of a ticker query: the time range, and the exchange and
-- symbol when given ($1 since, $2 until, $3 exchange, $4 symbol).
CREATE FUNCTION perps_stats._stats_where(exchange text, symbol text, time_column text DEFAULT 'ts')
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT format('t.%1$I >= $1 AND t.%1$I < $2', time_column)
        || CASE WHEN exchange IS NOT NULL THEN ' AND t.exchange = $3' ELSE '' END
        || CASE WHEN symbol IS NOT NULL THEN ' AND t.symbol = $4' ELSE '' END
$$;

CREATE FUNCTION perps_stats._market_stats(metrics text[], exchange text, symbol text,
                                          since timestamptz, until timestamptz, "by" text,
                                          notional boolean, api boolean)
RETURNS SETOF perps_stats.market_stat
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    names   text[] := '{}';
    aggs    text[] := '{}';
    vals    text[] := '{}';
    m       text;
    x       record;
    gx      text;
    gs      text;
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    IF metrics IS NULL OR cardinality(metrics) = 0 OR cardinality(metrics) > 32 THEN
        RAISE EXCEPTION 'metrics must list 1 to 32 metrics' USING ERRCODE = '22023';
    END IF;
    FOREACH m IN ARRAY metrics LOOP
        -- price_deviation: both deviations
        FOREACH m IN ARRAY CASE WHEN m = 'price_deviation' THEN ARRAY['mark_deviation', 'index_deviation']
                                ELSE ARRAY[m] END LOOP
            x := perps_stats._ticker_metric(m, coalesce(notional, false));
            IF x.expr IS NULL THEN
                RAISE EXCEPTION 'unknown metric "%"', coalesce(m, 'NULL')
                    USING ERRCODE = '22023',
                          HINT = 'The metrics are oi_rate, price_deviation, mark_deviation, index_deviation and the numeric columns of tickers.';
            END IF;
            names := names || m;
            aggs := aggs || format('perps_stats.summary(%s) FILTER (WHERE %s) AS s%s',
                                   x.expr, x.cond, cardinality(names));
            vals := vals || format('(%s, %L, s%s)', cardinality(names), m, cardinality(names));
        END LOOP;
    END LOOP;
    CASE coalesce("by", 'market')
        WHEN 'market' THEN gx := 't.exchange'; gs := 't.symbol';
        WHEN 'exchange' THEN gx := 't.exchange'; gs := 'NULL::text';
        WHEN 'symbol' THEN gx := 'NULL::text'; gs := 't.symbol';
        WHEN 'all' THEN gx := 'NULL::text'; gs := 'NULL::text';
        ELSE RAISE EXCEPTION 'unknown grouping "%"', "by"
                 USING ERRCODE = '22023', HINT = 'by is market, exchange, symbol or all.';
    END CASE;
    RETURN QUERY EXECUTE format(
        'SELECT g.gx, g.gs, u.metric, (u.s).count, (u.s).min, (u.s).mean, (u.s).median,
                (u.s).p5, (u.s).p95, (u.s).p99, (u.s).max
           FROM (SELECT %s AS gx, %s AS gs, %s
                   FROM %s t
                  WHERE %s
                  GROUP BY 1, 2) g
          CROSS JOIN LATERAL (VALUES %s) u(n, metric, s)
          ORDER BY 1, 2, u.n',
        gx, gs, array_to_string(aggs, ', '), perps_stats._stats_source('tickers', api),
        perps_stats._stats_where(exchange, symbol), array_to_string(vals, ', '))
        USING since, until, exchange, symbol;
END
$$;

CREATE FUNCTION perps_stats.market_stats(metrics text[] DEFAULT '{oi_rate}',
                                         exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                         since timestamptz DEFAULT now() - interval '24 hours',
                                         until timestamptz DEFAULT now(),
                                         "by" text DEFAULT 'market', notional boolean DEFAULT false)
RETURNS SETOF perps_stats.market_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_stats(metrics, exchange, symbol, since, until, "by", notional, false)
$$;
COMMENT ON FUNCTION perps_stats.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean) IS
    'Per metric (oi_rate, price_deviation = mark_deviation and index_deviation, or a numeric column of tickers) over the tickers in [since, until): count, min, mean, median, p5, p95, p99, max; by market, exchange, symbol or all; notional: oi_rate as open_interest_notional / turnover_24h';

CREATE FUNCTION perps_stats._market_histogram(metric text, bins int, edges numeric[],
                                              exchange text, symbol text,
                                              since timestamptz, until timestamptz,
                                              notional boolean, api boolean)
RETURNS SETOF perps_stats.histogram_bin
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    x       record;
    src     text := perps_stats._stats_source('tickers', api);
    wh      text;
    lo      numeric;
    hi      numeric;
    i       int;
    counts  bigint[];
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    x := perps_stats._ticker_metric(metric, coalesce(notional, false));
    IF x.expr IS NULL THEN
        RAISE EXCEPTION 'unknown metric "%"', coalesce(metric, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'The metrics are oi_rate, mark_deviation, index_deviation and the numeric columns of tickers.';
    END IF;
    wh := perps_stats._stats_where(exchange, symbol) || ' AND ' || x.cond;
    IF edges IS NOT NULL THEN
        IF cardinality(edges) < 2 OR cardinality(edges) > 1001 OR array_ndims(edges) <> 1 THEN
            RAISE EXCEPTION 'edges must be a list of 2 to 1001 numbers' USING ERRCODE = '22023';
        END IF;
        FOR i IN 1 .. cardinality(edges) LOOP
            IF edges[i] IS NULL OR edges[i] IN ('NaN', 'Infinity', '-Infinity')
               OR (i > 1 AND edges[i] <= edges[i - 1]) THEN
                RAISE EXCEPTION 'edges must be finite numbers in strictly ascending order'
                    USING ERRCODE = '22023', DETAIL = format('Edge %s is %s.', i, coalesce(edges[i]::text, 'NULL'));
            END IF;
        END LOOP;
        -- bin 0: below the first edge; bin i: [edges[i], edges[i+1]); the
        -- last bin: at or above the last edge
        RETURN QUERY EXECUTE format(
            'SELECT b.bin, $5[b.bin], $5[b.bin + 1], coalesce(c.n, 0)
               FROM generate_series(0, cardinality($5)) b(bin)
               LEFT JOIN (SELECT width_bucket(%s, $5) AS bin, count(*) AS n
                            FROM %s t WHERE %s GROUP BY 1) c USING (bin)
              ORDER BY 1', x.expr, src, wh)
            USING since, until, exchange, symbol, edges;
        RETURN;
    END IF;
    IF bins IS NULL OR bins < 1 OR bins > 1000 THEN
        RAISE EXCEPTION 'bins must be between 1 and 1000' USING ERRCODE = '22023',
              DETAIL = format('bins is %s.', coalesce(bins::text, 'NULL'));
    END IF;
    -- bins equal in width over [min, max], each [lower, upper) but the last,
    -- which holds max; a value's bin is exact (width_bucket's), the bounds
    -- shown are numeric divisions.  One scan: min, max and the values
    -- (_histogram: work_mem of them in memory, the rest in a temporary
    -- file); a second one, width_bucket over the rows, only for a value
    -- beyond 128 bits.
    EXECUTE format('SELECT (s.h).lo, (s.h).hi, (s.h).counts
                      FROM (SELECT perps_stats._histogram(%s, $5) AS h FROM %s t WHERE %s) s', x.expr, src, wh)
        INTO lo, hi, counts USING since, until, exchange, symbol, bins;
    IF lo IS NULL THEN
        RETURN;
    END IF;
    IF counts IS NOT NULL THEN
        RETURN QUERY
            SELECT b.bin, lo + (hi - lo) * (b.bin - 1) / bins, lo + (hi - lo) * b.bin / bins, counts[b.bin]
              FROM generate_series(1, bins) b(bin)
             ORDER BY 1;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT b.bin, $5 + ($6 - $5) * (b.bin - 1) / $7, $5 + ($6 - $5) * b.bin / $7, coalesce(c.n, 0)
           FROM generate_series(1, $7) b(bin)
           LEFT JOIN (SELECT CASE WHEN $5 = $6 THEN 1 ELSE least(width_bucket(%s, $5, $6, $7), $7) END AS bin,
                             count(*) AS n
                        FROM %s t WHERE %s GROUP BY 1) c USING (bin)
          ORDER BY 1', x.expr, src, wh)
        USING since, until, exchange, symbol, lo, hi, bins;
END
$$;

CREATE FUNCTION perps_stats.market_histogram(metric text, bins int DEFAULT 10, edges numeric[] DEFAULT NULL,
                                             exchange text DEFAULT NULL, symbol text DEFAULT NULL,
                                             since timestamptz DEFAULT now() - interval '24 hours',
                                             until timestamptz DEFAULT now(),
                                             notional boolean DEFAULT false)
RETURNS SETOF perps_stats.histogram_bin
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._market_histogram(metric, bins, edges, exchange, symbol, since, until, notional, false)
$$;
COMMENT ON FUNCTION perps_stats.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean) IS
    'Counts of one ticker metric in [since, until) per bin: bins equal-width bins over [min, max] (the last holds max), or the given ascending edges (bin 0 below the first edge, the last bin at or above the last)';

CREATE FUNCTION perps_stats._funding_stats(exchange text, symbol text, since timestamptz,
                                           until timestamptz, api boolean)
RETURNS SETOF perps_stats.funding_stat
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM perps_stats._stats_check_range(since, until);
    -- the interval of a row: its own, else the market's; every figure
    -- from one aggregate (_funding, src/stats.c)
    RETURN QUERY EXECUTE format(
        'SELECT s.exchange, s.symbol, (s.f).count, (s.f).mean, (s.f).min, (s.f).max, (s.f).stddev,
                (s.f).interval_hours, (s.f).annualized_pct, (s.f).slope_per_day
           FROM (SELECT t.exchange, t.symbol,
                        perps_stats._funding(t.rate, coalesce(t.interval_hours, t.market_interval_hours),
                                             t.funding_time) AS f
                   FROM %s t
                  WHERE %s
                  GROUP BY 1, 2) s
          ORDER BY 2, 1',
        perps_stats._stats_source('funding_rates', api),
        perps_stats._stats_where(exchange, symbol, 'funding_time'))
        USING since, until, exchange, symbol;
END
$$;

CREATE FUNCTION perps_stats.funding_stats(symbol text DEFAULT NULL, exchange text DEFAULT NULL,
                                          since timestamptz DEFAULT now() - interval '24 hours',
                                          until timestamptz DEFAULT now())
RETURNS SETOF perps_stats.funding_stat
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._funding_stats(exchange, symbol, since, until, false)
$$;
COMMENT ON FUNCTION perps_stats.funding_stats(text, text, timestamptz, timestamptz) IS
    'Funding rates per market in [since, until), venues of a symbol side by side: count, mean, min, max, sample standard deviation, interval (NULL when it changed), mean annualized rate in percent (rate * 8760 / interval_hours * 100), least-squares slope per day';

CREATE FUNCTION perps_stats._liquidity_distribution(bps numeric[], symbols text[], exchanges text[],
                                                    as_of timestamptz, max_age interval, api boolean)
RETURNS SETOF perps_stats.liquidity_distribution_row
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    levels  numeric[] := coalesce(bps, '{5}');
BEGIN
    IF cardinality(levels) = 0 OR cardinality(levels) > 16 OR array_ndims(levels) <> 1 THEN
        RAISE EXCEPTION 'bps must list 1 to 16 levels' USING ERRCODE = '22023';
    END IF;
    IF NOT levels <@ '{1,2.5,5,10,20,50,100}'::numeric[] OR array_position(levels, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'liquidity is stored for 1, 2.5, 5, 10, 20, 50 and 100 bps only'
            USING ERRCODE = '0A000',
                  DETAIL = format('bps is %s.', levels),
                  HINT = 'For other levels use perps_stats.liquidity_depth on a stored book.';
    END IF;
    IF cardinality(symbols) > 1000 OR cardinality(exchanges) > 1000 THEN
        RAISE EXCEPTION 'more than 1000 symbols or exchanges' USING ERRCODE = '54000';
    END IF;
    IF as_of IS NULL OR max_age IS NULL OR max_age <= interval '0' OR max_age > interval '366 days' THEN
        RAISE EXCEPTION 'as_of must be given and max_age be positive and at most 366 days' USING ERRCODE = '22023';
    END IF;
    -- the newest liquidity_depth row of each market in (as_of - max_age, as_of]
    RETURN QUERY EXECUTE format(
        'SELECT d.exchange, d.symbol, d.ts, d.bps, d.bid, d.ask, d.notional,
                d.notional * 100 / nullif(sum(d.notional) OVER (PARTITION BY d.symbol, d.bps), 0),
                d.notional * 100 / nullif(sum(d.notional) OVER (PARTITION BY d.exchange, d.bps), 0),
                d.partial
           FROM (SELECT mk.exchange, mk.symbol, l.ts, v.bps, v.bid, v.ask, v.bid + v.ask AS notional,
                        coalesce(l.max_bid_bps < v.bps OR l.max_ask_bps < v.bps, true) AS partial
                   FROM %s mk
                  CROSS JOIN LATERAL (SELECT * FROM %s x
                                       WHERE x.exchange = mk.exchange AND x.symbol = mk.symbol
                                         AND x.ts <= $2 AND x.ts > $2 - $3
                                       ORDER BY x.ts DESC LIMIT 1) l
                  CROSS JOIN LATERAL (VALUES (1::numeric, l.bid_1bps, l.ask_1bps),
                                             (2.5, l.bid_2_5bps, l.ask_2_5bps),
                                             (5, l.bid_5bps, l.ask_5bps),
                                             (10, l.bid_10bps, l.ask_10bps),
                                             (20, l.bid_20bps, l.ask_20bps),
                                             (50, l.bid_50bps, l.ask_50bps),
                                             (100, l.bid_100bps, l.ask_100bps)) v(bps, bid, ask)
                  WHERE v.bps = ANY ($1)
                    AND ($4::text[] IS NULL OR mk.symbol = ANY ($4))
                    AND ($5::text[] IS NULL OR mk.exchange = ANY ($5))) d
          ORDER BY d.bps, d.symbol, d.exchange',
        perps_stats._stats_source('markets', api), perps_stats._stats_source('liquidity_depth', api))
        USING levels, as_of, max_age, symbols, exchanges;
END
$$;

CREATE FUNCTION perps_stats.liquidity_distribution(bps numeric[] DEFAULT '{5}', symbols text[] DEFAULT NULL,
                                                   exchanges text[] DEFAULT NULL,
                                                   as_of timestamptz DEFAULT now(),
                                                   max_age interval DEFAULT '1 day')
RETURNS SETOF perps_stats.liquidity_distribution_row
LANGUAGE sql STABLE
AS $$
    SELECT * FROM perps_stats._liquidity_distribution(bps, symbols, exchanges, as_of, max_age, false)
$$;
COMMENT ON FUNCTION perps_stats.liquidity_distribution(numeric[], text[], text[], timestamptz, interval) IS
    'liq-dist: per bps level (1, 2.5, 5, 10, 20, 50, 100; default 5), venue and symbol, the bid, ask and combined quote notional within bps of mid on the newest liquidity_depth row in (as_of - max_age, as_of], the venue''s share of the symbol''s total over venues and the symbol''s share of the venue''s total over symbols, in percent; partial: the book does not reach the level';

-- The statistics are for everyone who may read the data: they run with the
-- caller's rights.
GRANT EXECUTE ON FUNCTION
    perps_stats.summary(numeric),
    perps_stats.slope_per_day(numeric, timestamptz),
    perps_stats.market_stats(text[], text, text, timestamptz, timestamptz, text, boolean),
    perps_stats.market_histogram(text, int, numeric[], text, text, timestamptz, timestamptz, boolean),
    perps_stats.funding_stats(text, text, timestamptz, timestamptz),
    perps_stats.liquidity_distribution(numeric[], text[], text[], timestamptz, interval)
TO PUBLIC;
